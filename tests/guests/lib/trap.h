/*
 * Exceptions: an IDT for vectors 0-31 whose handlers fail the guest with a
 * register dump, except a #GP raised by RDMSR or WRMSR inside
 * msr_read_safe()/msr_write_safe(), which is recorded and skipped. The next
 * TRAP_IRQ_COUNT vectors are interrupts a guest may handle (trap_set_irq);
 * one that arrives without a handler fails the guest too.
 */
#pragma once

#include "types.h"

#define SEL_CODE 0x08 /* entry.asm's GDT */

#define TRAP_IRQ_BASE 32  /* the first vector after the exceptions */
#define TRAP_IRQ_COUNT 16 /* entry.asm's TRAP_VECTORS is their sum */

/* Layout pushed by entry.asm's trap_common (pushad, then the stub's words,
 * then the CPU's; SDM 3A 6.12.1). */
struct trap_frame {
	u32 edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
	u32 vector, error;
	u32 eip, cs, eflags;
};

void trap_init(void);			  /* builds the IDT and loads it on this CPU */
void trap_load(void);			  /* loads it on another CPU */
void trap_dispatch(struct trap_frame *f); /* from entry.asm */

/* Interrupt VECTOR (TRAP_IRQ_BASE .. + TRAP_IRQ_COUNT - 1) calls fn, with
 * interrupts off; fn acknowledges it (the local APIC's EOI) itself. */
void trap_set_irq(u32 vector, void (*fn)(u32 vector));

/* MSR access that survives #GP: true if the instruction completed. */
bool msr_read_safe(u32 msr, u64 *val);
bool msr_write_safe(u32 msr, u64 val);
