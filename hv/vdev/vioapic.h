/*
 * The I/O APIC of a partition (Intel 82093AA datasheet; the version 0x20
 * I/O APIC of the ICH datasheets, which adds the EOI register), at
 * PLAT_IOAPIC_BASE with PLAT_IOAPIC_PINS inputs: GSI n is pin n. Devices
 * raise its inputs with virq_pulse / virq_set_level (hv/vdev/virq.h); it
 * sends the messages to the local APICs with virq_deliver.
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/vdev/vdev.h"

#define VIOAPIC_VERSION 0x20

extern const struct vdev_type vioapic_type;
