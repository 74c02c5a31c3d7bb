/*
 * The interrupts of a partition's virtual platform: devices raise GSIs on
 * its I/O APIC (hv/vdev/vioapic.c implements the lines), which sends them
 * as messages to the vCPUs' local APICs (hv/vdev/vlapic.c implements the
 * messages and each vCPU's side); the vCPU loop asks its vCPU's side what
 * to inject. Devices reach each other's interrupts only through here.
 */
#pragma once

#include "hv/lib/types.h"

struct vcpu;
struct vdev_registry;

/* Periodic timers (local APIC, PIT) raise a period the guest could not take
 * in time late rather than drop it, up to this much backlog: a guest that
 * counts ticks (Linux's jiffies while it watches its TSC against them)
 * keeps time with the TSC across a pause of its CPU (a host that runs the
 * emulator's thread late: hundreds of milliseconds seen under load). */
#define VIRQ_LATE_TICKS_MS 2000

/* Edge: one interrupt. */
void virq_pulse(struct vdev_registry *reg, u32 gsi);
/* Level: the line stays asserted until lowered. */
void virq_set_level(struct vdev_registry *reg, u32 gsi, bool asserted);
/* Whether an earlier edge on GSI still waits in a destination's IRR (not
 * yet taken by its vCPU); false when the line is masked. */
bool virq_waiting(struct vdev_registry *reg, u32 gsi);
/* The vCPU finished a level-triggered interrupt: the I/O APIC may resend. */
void virq_eoi(struct vdev_registry *reg, u8 vector);

/*
 * An interrupt message to the partition's local APICs (from the I/O APIC or
 * an ICR): dest is a partition APIC ID (physical) or a logical mask, mode an
 * ICR delivery mode (fixed, lowest priority, NMI, INIT, startup).
 */
void virq_deliver(struct vdev_registry *reg, u32 dest, bool logical, u32 mode, u8 vector,
		  bool level);
/* Whether VECTOR waits in the IRR of a local APIC that DEST names. */
bool virq_dest_waiting(struct vdev_registry *reg, u32 dest, bool logical, u8 vector);

/* The vCPU's side, on its own CPU: the highest vector it should take now,
 * or -1; it took vector (IRR -> ISR); an NMI is pending (and, take: it
 * takes it, clearing the request). */
int virq_pending(struct vcpu *v);
void virq_ack(struct vcpu *v, u8 vector);
bool virq_nmi_pending(struct vcpu *v);
bool virq_take_nmi(struct vcpu *v);
