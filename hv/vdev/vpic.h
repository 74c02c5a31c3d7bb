/*
 * The legacy 8259A pair of a partition (Intel 8259A datasheet), with the
 * edge/level control registers (ELCR) of PC chipsets.
 *
 * It is present so that a guest's probe finds it and its initialisation
 * and masking work, but its output is connected to nothing: the MADT says
 * PCAT_COMPAT and the guest routes every interrupt through the I/O APIC.
 * It never requests an interrupt (IRR and ISR stay 0, a poll finds
 * nothing), whatever its mask: present, but always masked in effect.
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/vdev/vdev.h"

#define VPIC_PORTS 2 /* command/status at +0, data (IMR) at +1 */
#define VPIC_ELCR_PORTS 2

extern const struct vdev_type vpic_type;
