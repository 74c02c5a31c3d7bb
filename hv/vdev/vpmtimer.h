/*
 * The ACPI PM timer of a partition (ACPI 6.4 4.8.3.3): a free-running
 * 24-bit counter at 3.579545 MHz, read at PLAT_PM_TMR_PORT, derived from
 * the host's TSC. Also the time base the other platform devices share.
 */
#pragma once

#include "hv/lib/types.h"

struct partition;
struct vpmtimer;

/*
 * Host time as the platform devices see it: a monotonic counter and its
 * rate. The hypervisor passes the TSC (platform.c); host tests pass a fake.
 */
struct vclock {
	u64 (*read)(void);
	u64 hz;
};

/*
 * floor(ticks * mul / div) without a 128-bit product or a division helper
 * (freestanding: no __udivti3): ticks = q * div + r, so the result is
 * q * mul + r * mul / div exactly. Needs mul * div < 2^64 (a TSC below
 * 2^40 Hz and a rate below 2^24 Hz) and a result below 2^64.
 */
static inline u64 vclock_scale(u64 ticks, u64 mul, u64 div)
{
	return ticks / div * mul + ticks % div * mul / div;
}

/* The mask of the counter's 24 bits (TMR_VAL_EXT clear in the FADT). */
#define VPMTIMER_MASK 0x00ffffffU
#define VPMTIMER_PORTS 4

/* Registers the timer's port; the counter runs from here on and, like the
 * chipset's, is not reset when the partition restarts. NULL: no memory. */
struct vpmtimer *vpmtimer_create(struct partition *p, const struct vclock *clk);
/* The counter now: monotonic across the partition's CPUs, 24 bits. */
u32 vpmtimer_read(struct vpmtimer *t);
