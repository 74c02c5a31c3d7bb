/*
 * Time from the TSC, the one clock a partition has. Its frequency comes from
 * the command line (tsc_khz=), else the hypervisor's timing leaf
 * 0x40000010, else CPUID 0x15/0x16, else it is assumed to be 1 GHz. Under
 * Bochs the TSC counts instructions, so "time" there is work done.
 */
#pragma once

#include "types.h"

u32 tsc_khz(void);
const char *tsc_khz_source(void);
u64 tsc_ticks_ms(u32 ms);
void tsc_delay_us(u32 us);

#define HEARTBEAT_MS 200

/* Prints "HEARTBEAT n" every HEARTBEAT_MS, from 1 to count (0: forever). */
void heartbeat_run(u32 count);
