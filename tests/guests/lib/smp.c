/* AP start-up. */
#include "smp.h"
#include "cpu.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "lapic.h"
#include "lib.h"
#include "trap.h"
#include "tsc.h"

/* SDM 3A 8.4.4.1: the universal start-up algorithm's waits */
#define INIT_TO_SIPI_US 10000
#define SIPI_TO_SIPI_US 200

extern const u8 smp_tramp_start[], smp_tramp_end[];
extern volatile u32 smp_ap_ticket;

static smp_ap_fn smp_fn;

u32 smp_cpu_count(void)
{
	struct cpuid_regs r = cpuid(CPUID_FEATURES_LEAF);
	u32 n = (r.ebx >> CPUID_1_EBX_COUNT_SHIFT) & CPUID_1_EBX_COUNT_MASK;

	if (!(r.edx & CPUID_1_EDX_HTT) || !n)
		return 1;
	return n;
}

void smp_prepare(smp_ap_fn fn)
{
	smp_fn = fn;
	memcpy((void *)SMP_TRAMPOLINE_BASE, smp_tramp_start,
	       (size_t)(smp_tramp_end - smp_tramp_start));
	barrier();
}

bool smp_start_ap(u32 apic_id)
{
	bool ok;

	ok = lapic_send_ipi(apic_id,
			    ICR_MODE_INIT << ICR_MODE_SHIFT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL);
	tsc_delay_us(INIT_TO_SIPI_US);
	ok &= lapic_send_ipi(apic_id, ICR_MODE_STARTUP << ICR_MODE_SHIFT | SMP_SIPI_VECTOR);
	tsc_delay_us(SIPI_TO_SIPI_US);
	ok &= lapic_send_ipi(apic_id, ICR_MODE_STARTUP << ICR_MODE_SHIFT | SMP_SIPI_VECTOR);
	return ok;
}

u32 smp_ap_entries(void)
{
	return __atomic_load_n(&smp_ap_ticket, __ATOMIC_ACQUIRE);
}

bool smp_wait_entries(u32 n, u32 timeout_ms)
{
	u64 start = rdtsc(), limit = tsc_ticks_ms(timeout_ms);

	while (smp_ap_entries() < n) {
		if (rdtsc() - start > limit)
			return false;
		cpu_relax();
	}
	return true;
}

void smp_ap_entry(u32 ticket)
{
	trap_load();
	if (smp_fn)
		smp_fn(ticket);
	halt_forever();
}
