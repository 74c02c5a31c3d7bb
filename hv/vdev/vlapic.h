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

/* The x2APIC interface (MSRs 0x800-0x8ff) and the mode switch. */
bool vlapic_is_x2apic_msr(u32 msr);
int vlapic_msr_read(struct vcpu *v, u32 msr, u64 *val);
int vlapic_msr_write(struct vcpu *v, u32 msr, u64 val);
int vlapic_set_x2apic(struct vcpu *v, bool on);
bool vlapic_x2apic_mode(struct vcpu *v);
