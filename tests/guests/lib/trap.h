/*
 * Exceptions: an IDT for vectors 0-31 whose handlers fail the guest with a
 * register dump, except a #GP raised inside one of the *_safe() probes
 * below (RDMSR, WRMSR, XSETBV, MOV to CR0/CR4), which is recorded and
 * skipped, and vectors a guest hooks (trap_set_hook). Vector 2 (NMI) is
 * there too.
 */
#pragma once

#include "types.h"

#define SEL_CODE 0x08	     /* entry.asm's GDT */
#define IDT_TYPE_INTR32 0x8e /* present, DPL 0, 32-bit interrupt gate */

/* Layout pushed by entry.asm's trap_common (pushad, then the stub's words,
 * then the CPU's; SDM 3A 6.12.1). */
struct trap_frame {
	u32 edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
	u32 vector, error;
	u32 eip, cs, eflags;
};

/* A guest's handler for a vector: true when it dealt with the exception
 * (the frame, EIP and EFLAGS included, is resumed as the hook left it). */
typedef bool (*trap_hook_fn)(struct trap_frame *f);

void trap_init(void); /* builds the IDT and loads it on this CPU */
void trap_set_hook(u32 vector, trap_hook_fn fn);
/* Points the IDT's gate for vector at a handler of the guest's own:
 * offset, code selector, type byte (P, DPL, type: SDM 3A 6.11). */
void trap_set_gate(u32 vector, u32 offset, u16 sel, u8 type);
void trap_load(void);			  /* loads it on another CPU */
void trap_dispatch(struct trap_frame *f); /* from entry.asm */

/* Instructions that survive #GP: true if the instruction completed. */
bool msr_read_safe(u32 msr, u64 *val);
bool msr_write_safe(u32 msr, u64 val);
bool xsetbv_safe_probe(u32 xcr, u64 val); /* needs CR4.OSXSAVE (else #UD) */
bool cr0_write_safe(u32 val);
bool cr4_write_safe(u32 val);
