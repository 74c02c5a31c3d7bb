/*
 * The I/O APIC of a partition (Intel 82093AA datasheet; the version 0x20
 * I/O APIC of the ICH datasheets, which adds the EOI register), at
 * PLAT_IOAPIC_BASE with PLAT_IOAPIC_PINS inputs: GSI n is pin n. Devices
 * raise its inputs with virq_pulse / virq_set_level (hv/vdev/virq.h); it
 * sends the messages to the local APICs with vlapic_deliver.
 */
#pragma once

#include "hv/lib/types.h"

struct partition;
struct vioapic;

#define VIOAPIC_VERSION 0x20

/* Registers the MMIO range and connects the partition's GSIs to it; its ID
 * is p->vcpu_count, as the MADT says. NULL: no memory. */
struct vioapic *vioapic_create(struct partition *p);
/* Power-on state: every pin masked, every input low. */
void vioapic_reset(struct vioapic *io);
