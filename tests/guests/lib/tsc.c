/* TSC frequency and delays. */
#include "tsc.h"
#include "cmdline.h"
#include "console.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "lib.h"

#define TSC_KHZ_ASSUMED 1000000 /* 1 GHz */
#define HZ_PER_KHZ 1000
#define KHZ_PER_MHZ 1000
#define US_PER_MS 1000
#define CPUID_HV_TIMING_LEAF 0x40000010 /* de facto (VMware, Xen, ACRN): EAX = TSC kHz */

static u32 tsc_khz_cached;
static const char *tsc_source = "assumed";

/* SDM 2A CPUID leaf 15H: TSC = crystal * EBX / EAX; leaf 16H: base MHz. */
static u32 tsc_khz_from_cpuid(void)
{
	u32 max = cpuid(CPUID_VENDOR_LEAF).eax;

	if (max >= CPUID_TSC_LEAF) {
		struct cpuid_regs r = cpuid(CPUID_TSC_LEAF);

		if (r.eax && r.ebx && r.ecx)
			return (u32)div_u64_rem((u64)r.ecx * r.ebx, r.eax * HZ_PER_KHZ, NULL);
	}
	if (max >= CPUID_FREQ_LEAF) {
		struct cpuid_regs r = cpuid(CPUID_FREQ_LEAF);

		if (r.eax & CPUID_FREQ_EAX_MHZ_MASK)
			return (r.eax & CPUID_FREQ_EAX_MHZ_MASK) * KHZ_PER_MHZ;
	}
	return 0;
}

/* The leaf several hypervisors (VMware, Xen, ACRN) fill: EAX = TSC kHz. */
static u32 tsc_khz_from_hypervisor(void)
{
	if (!(cpuid(CPUID_FEATURES_LEAF).ecx & CPUID_1_ECX_HYPERVISOR))
		return 0;
	if (cpuid(CPUID_HV_BASE_LEAF).eax < CPUID_HV_TIMING_LEAF)
		return 0;
	return cpuid(CPUID_HV_TIMING_LEAF).eax;
}

u32 tsc_khz(void)
{
	u32 khz;

	if (tsc_khz_cached)
		return tsc_khz_cached;
	khz = (u32)cmdline_u64("tsc_khz", 0);
	tsc_source = "cmdline";
	if (!khz) {
		khz = tsc_khz_from_hypervisor();
		tsc_source = "cpuid-0x40000010";
	}
	if (!khz) {
		khz = tsc_khz_from_cpuid();
		tsc_source = "cpuid-0x15/0x16";
	}
	if (!khz) {
		khz = TSC_KHZ_ASSUMED;
		tsc_source = "assumed";
	}
	tsc_khz_cached = khz;
	return khz;
}

const char *tsc_khz_source(void)
{
	tsc_khz();
	return tsc_source;
}

u64 tsc_ticks_ms(u32 ms)
{
	return (u64)tsc_khz() * ms;
}

void tsc_delay_us(u32 us)
{
	u64 ticks = div_u64_rem((u64)tsc_khz() * us, US_PER_MS, NULL);
	u64 start = rdtsc();

	while (rdtsc() - start < ticks)
		cpu_relax();
}

void heartbeat_run(u32 count)
{
	u64 period = tsc_ticks_ms(HEARTBEAT_MS), next = rdtsc() + period;

	for (u32 n = 1; !count || n <= count; n++) {
		while ((s64)(rdtsc() - next) < 0)
			cpu_relax();
		next += period;
		con_printf("HEARTBEAT %u\n", n);
	}
}
