/* The TSC as the hypervisor's clock, calibrated against a real reference. */
#pragma once

#include "hv/lib/types.h"

enum tsc_source { TSC_SRC_NONE, TSC_SRC_CPUID, TSC_SRC_PMTIMER, TSC_SRC_PIT };

/* pm_port: the ACPI PM timer's I/O port, 0 when there is none. */
int tsc_calibrate(u16 pm_port, bool pm_32bit);
u64 tsc_hz(void);
const char *tsc_source_name(void);
void udelay(u64 us);
void mdelay(u64 ms);
/* Nanoseconds since an arbitrary start. */
u64 tsc_ns(void);
