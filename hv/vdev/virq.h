/*
 * Interrupt lines of a partition's virtual platform: devices raise GSIs on
 * the virtual I/O APIC, which sends them to the virtual local APICs.
 */
#pragma once

#include "hv/lib/types.h"

struct partition;
struct vcpu;

/* Periodic timers (local APIC, PIT) raise a period the guest could not take
 * in time late rather than drop it, up to this much backlog. */
#define VIRQ_LATE_TICKS_MS 100

/* Edge: one interrupt. */
void virq_pulse(struct partition *p, u32 gsi);
/* Level: the line stays asserted until lowered. */
void virq_set_level(struct partition *p, u32 gsi, bool asserted);

/*
 * An interrupt message to the partition's local APICs (from the I/O APIC or
 * an ICR): dest is a partition APIC ID (physical) or a logical mask, mode an
 * ICR delivery mode (fixed, lowest priority, NMI, INIT, startup).
 */
void vlapic_deliver(struct partition *p, u32 dest, bool logical, u32 mode, u8 vector,
		    bool level);
/* Whether an earlier edge on GSI still waits in a destination's IRR (not
 * yet taken by its vCPU); false when the line is masked. */
bool virq_waiting(struct partition *p, u32 gsi);
/* Whether VECTOR waits in the IRR of a local APIC that DEST names. */
bool vlapic_waiting(struct partition *p, u32 dest, bool logical, u8 vector);
/* The vCPU finished a level-triggered interrupt: the I/O APIC may resend. */
void vioapic_eoi(struct partition *p, u8 vector);
