/*
 * Starting the other CPUs with INIT-SIPI-SIPI (SDM 3A 8.4.4.1). Each start
 * runs entry.asm's trampoline from SMP_TRAMPOLINE_BASE: real mode, then
 * 32-bit protected mode on the guest's GDT, a ticket (which also picks its
 * stack), and the C function given to smp_start_aps().
 */
#pragma once

#include "types.h"

#define SMP_MAX_CPUS 64		   /* entry.asm: SMP_MAX_APS = SMP_MAX_CPUS - 1 */
#define SMP_TRAMPOLINE_BASE 0x8000 /* below 1 MiB, 4 KiB aligned */
#define SMP_SIPI_VECTOR (SMP_TRAMPOLINE_BASE >> 12)

/* Runs on an AP with its ticket: 0 for the first AP entry, 1 for the next... */
typedef void (*smp_ap_fn)(u32 ticket);

/* CPUs in the package: CPUID.1:EBX[23:16] when HTT is set, else 1. */
u32 smp_cpu_count(void);
/* Copies the trampoline and sets what the APs will run. */
void smp_prepare(smp_ap_fn fn);
/* INIT, 10 ms, SIPI, 200 us, SIPI to one APIC ID; false if an IPI stuck. */
bool smp_start_ap(u32 apic_id);
/* How many times APs have entered the trampoline so far. */
u32 smp_ap_entries(void);
/* Waits until at least n entries, or timeout_ms of TSC time. */
bool smp_wait_entries(u32 n, u32 timeout_ms);

void smp_ap_entry(u32 ticket); /* from entry.asm */
