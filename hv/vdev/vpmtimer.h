/*
 * The ACPI PM timer of a partition (ACPI 6.4 4.8.3.3): a free-running
 * 24-bit counter at 3.579545 MHz, read at PLAT_PM_TMR_PORT, derived from
 * the host's TSC. Also the time base the other platform devices share.
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/vdev/vclock.h"
#include "hv/vdev/vdev.h"

struct vpmtimer;

/* The mask of the counter's 24 bits (TMR_VAL_EXT clear in the FADT). */
#define VPMTIMER_MASK 0x00ffffffU
#define VPMTIMER_PORTS 4

/*
 * The device passes the machine's own timer through when it can, else
 * emulates one at PLAT_PM_TMR_PORT on the devices' clock, counting from
 * its creation and, like the chipset's, not reset when the partition
 * restarts; the FADT says which port.
 */
extern const struct vdev_type vpmtimer_type;
/* The counter now: monotonic across the partition's CPUs, 24 bits. */
u32 vpmtimer_read(struct vpmtimer *t);
