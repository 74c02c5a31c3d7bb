/* The 8254 programmable interval timer of each partition (ports 0x40-0x43, 0x61). */
#pragma once

#include "hv/lib/types.h"

struct partition;
struct vpit;

#define VPIT_HZ 1193182ULL /* Intel 8254 data sheet: 1.193182 MHz input */

struct vpit *vpit_create(struct partition *p);
void vpit_reset(struct vpit *t);
/* Raises IRQ 0 if channel 0 is due at TSC now; the next TSC deadline (0: none). */
u64 vpit_check(struct vpit *t, u64 now);
