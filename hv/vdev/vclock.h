/* The time base the platform devices share (RTC, PIT, PM timer). */
#pragma once

#include "hv/lib/types.h"

/*
 * Host time as the platform devices see it: a monotonic counter and its
 * rate (vdev_host.clock). The hypervisor passes the TSC; host tests pass a
 * fake.
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
