/*
 * Freestanding types of the test guests: the hypervisor's (hv/lib/types.h),
 * built for 32-bit code, no libc and no libgcc (so no 64-bit division:
 * div_u64_rem() from hv/lib/lib.h).
 */
#pragma once

#include <stdarg.h>
#include "hv/lib/types.h"

#define FOUR_GIB (4ULL * GiB)

#define __printf(a, b) __attribute__((format(printf, a, b)))
