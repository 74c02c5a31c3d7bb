/* The platform devices' clock on the hypervisor: the TSC. */
#include "hv/vdev/vclock.h"
#include "drivers/tsc.h"
#include "hv/hw/x86.h"

static u64 host_tsc(void)
{
	return rdtsc();
}

void vclock_host(struct vclock *clk)
{
	*clk = (struct vclock){ host_tsc, tsc_hz() };
}
