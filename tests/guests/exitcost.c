/*
 * exitcost: n=N (default 100000) CPUID leaf-0 instructions between two
 * RDTSCs. Inside a partition each CPUID is a VM exit, bare it is not: the
 * difference is the price of an exit round trip. Under Bochs the TSC
 * counts instructions, not time.
 *
 * PASS details: n=N tsc_per_cpuid=X tsc=T
 */
#include "cmdline.h"
#include "guest.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "lib.h"

#define N_DEFAULT 100000

const char guest_name[] = "exitcost";

void guest_main(void)
{
	u32 n = (u32)cmdline_u64("n", N_DEFAULT);
	u64 t0, t1;

	if (!n)
		guest_fail("n=0");
	t0 = rdtsc();
	for (u32 i = 0; i < n; i++)
		cpuid(CPUID_VENDOR_LEAF);
	t1 = rdtsc();
	guest_pass("n=%u tsc_per_cpuid=%llu tsc=%llu", n, div_u64_rem(t1 - t0, n, NULL), t1 - t0);
}
