/* The 8254 programmable interval timer of each partition (ports 0x40-0x43, 0x61). */
#pragma once

#include "hv/lib/types.h"
#include "hv/vdev/vdev.h"

struct vpit;

#define VPIT_HZ 1193182ULL /* Intel 8254 data sheet: 1.193182 MHz input */

/* Counting on the devices' clock (vdev_host.clock); its timer raises
 * IRQ 0 when channel 0 is due. */
extern const struct vdev_type vpit_type;
