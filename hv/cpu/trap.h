/* Exceptions and interrupts taken in the hypervisor itself. */
#pragma once

#include "hv/lib/types.h"

/* Saved by hv/cpu/trap_entry.asm; the order matches the pushes there. */
struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error_code;
	/* pushed by the CPU (SDM 3A 6.14.2) */
	u64 rip, cs, rflags, rsp, ss;
};

#define IDT_VECTORS 256
#define VECTOR_SPURIOUS 0xff
#define VECTOR_IPI_NMI_HALT 2 /* NMI: another CPU is stopping the machine */

void idt_init(void);
void idt_load(void);
void trap_handler(struct trap_frame *f);
/* Installs a handler for an interrupt vector (>= 32). */
void trap_set_handler(u8 vector, void (*fn)(struct trap_frame *f));
