/* Per-CPU data: one struct per logical CPU, reached through GS. */
#pragma once

#include "hv/lib/types.h"

#define HV_MAX_CPUS 64
#define HV_STACK_SIZE (16 * KiB)
#define HV_IST_STACK_SIZE (4 * KiB)

enum ist_index { IST_NONE = 0, IST_DF = 1, IST_NMI = 2, IST_MC = 3, IST_COUNT = 3 };

/* The 64-bit TSS (SDM 3A 8.7) */
struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;

#define GDT_ENTRIES 5 /* null, code, data, TSS (two slots) */
#define GDT_SEL_CODE 0x08
#define GDT_SEL_DATA 0x10
#define GDT_SEL_TSS 0x18

struct percpu {
	struct percpu *self; /* at offset 0: this_cpu() reads %gs:0 */
	u32 index;	     /* logical CPU number: 0 = boot CPU, then MADT order */
	u32 apic_id;
	u64 stack_top;
	volatile bool online;
	bool virt_on;
	int virt_err;	   /* why virtualization could not be enabled */
	struct vcpu *vcpu; /* the vCPU pinned here, NULL when the CPU is unowned */
	u64 timer_armed;   /* TSC deadline this CPU's timer is set for, 0: none */
	u64 gdt[GDT_ENTRIES] __aligned(16);
	struct tss64 tss __aligned(16);
};

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

extern struct percpu *cpus[HV_MAX_CPUS];
extern u32 cpu_count; /* CPUs known from the MADT */
extern volatile u32 cpus_online;
extern volatile u64 cpus_parked; /* bit n: CPU n is in cpu_park, stopped for good */

/* Allocates CPU n's data and stacks. */
struct percpu *percpu_alloc(u32 index, u32 apic_id);
/* Loads this CPU's GDT, TSS, IDT and GS base. */
void cpu_load(struct percpu *c);
/* A CPU with nothing to run waits here for good (stopping the machine);
 * cpus_parked counts it. */
__noreturn void cpu_park(void);
