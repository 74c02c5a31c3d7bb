/* The 8254 programmable interval timer of each partition (ports 0x40-0x43, 0x61). */
#pragma once

#include "hv/lib/types.h"
#include "hv/vdev/vclock.h"
#include "hv/vdev/vdev.h"

struct vpit;

#define VPIT_HZ 1193182ULL /* Intel 8254 data sheet: 1.193182 MHz input */

extern const struct vdev_type vpit_type;

/* Counting on clk (the TSC: vclock_host). NULL: no memory or no room for
 * its ports, or a clock without a rate. */
struct vpit *vpit_create(struct vdev_registry *reg, const struct vclock *clk);
void vpit_reset(struct vpit *t);
/* Raises IRQ 0 if channel 0 is due at clock value now; the next clock
 * deadline (0: none). */
u64 vpit_check(struct vpit *t, u64 now);
