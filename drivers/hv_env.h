/*
 * What drivers get from the hypervisor core, and how: never through a core
 * header. Logging is hv/lib/log.h (the console implements printk); a
 * mapping of device memory is passed to a driver's init as an
 * hv_ioremap_fn (hv/main.c passes mm_ioremap); the rest a driver uses is
 * hv/lib (types, strings, locks) and hv/hw (the hardware's definitions).
 */
#pragma once

#include "hv/lib/types.h"

/* Maps len bytes of device memory at physical address pa, uncached;
 * returns NULL on failure. */
typedef void *(*hv_ioremap_fn)(u64 pa, u64 len);
