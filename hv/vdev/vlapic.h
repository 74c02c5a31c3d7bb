/*
 * The local APIC of each vCPU (SDM 3A ch. 11), xAPIC MMIO at 0xFEE00000:
 * the vCPU's interrupt controller (its side of hv/vdev/virq.h), a per-vCPU
 * device of the registry (hv/vdev/vdev.h).
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/vdev/vdev.h"

struct vcpu;

#define VLAPIC_MMIO_SIZE 0x1000

extern const struct vdev_type vlapic_type;

/* Raises vector on v's APIC (fixed delivery) from any CPU. */
void vlapic_set_irq(struct vcpu *v, u8 vector);

/* The timer: the TSC value it fires at (0: not running), and raising its
 * interrupt once that time has come. */
u64 vlapic_timer_deadline(struct vcpu *v);
void vlapic_timer_check(struct vcpu *v, u64 now);
int vlapic_tsc_deadline_write(struct vcpu *v, u64 val);
u64 vlapic_tsc_deadline_read(struct vcpu *v);

/* The x2APIC interface (MSRs 0x800-0x8ff). */
bool vlapic_is_x2apic_msr(u32 msr);
int vlapic_msr_read(struct vcpu *v, u32 msr, u64 *val);
int vlapic_msr_write(struct vcpu *v, u32 msr, u64 val);

/* The mode IA32_APIC_BASE selects with EN and EXTD (SDM 3A 11.12.5). */
enum vlapic_mode {
	VLAPIC_XAPIC,  /* EN = 1, EXTD = 0: after reset */
	VLAPIC_X2APIC, /* EN = 1, EXTD = 1 */
	VLAPIC_OFF,    /* EN = 0: globally disabled (11.4.3) */
};

enum vlapic_mode vlapic_mode(struct vcpu *v);
/* -E_INVAL for a transition the SDM's state diagram does not have (the
 * WRMSR raises #GP). */
int vlapic_set_mode(struct vcpu *v, enum vlapic_mode mode);
