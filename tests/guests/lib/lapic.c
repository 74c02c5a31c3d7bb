/* xAPIC MMIO access. The base comes from IA32_APIC_BASE when it reads. */
#include "lapic.h"
#include "trap.h"
#include "tsc.h"
#include "x86.h"

#define ICR_IDLE_TIMEOUT_MS 100

uintptr_t lapic_base(void)
{
	static uintptr_t base;
	u64 msr;

	if (!base) {
		base = LAPIC_DEFAULT_BASE;
		if (msr_read_safe(MSR_IA32_APIC_BASE, &msr) && (msr & APIC_BASE_ENABLE))
			base = (uintptr_t)(msr & APIC_BASE_ADDR_MASK);
	}
	return base;
}

u32 lapic_read(u32 reg)
{
	return mmio_read32(lapic_base() + reg);
}

void lapic_write(u32 reg, u32 val)
{
	mmio_write32(lapic_base() + reg, val);
}

u32 lapic_id(void)
{
	return lapic_read(LAPIC_ID) >> LAPIC_ID_SHIFT;
}

void lapic_enable(void)
{
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
}

bool lapic_send_ipi(u32 apic_id, u32 icr_lo)
{
	/* a time limit, not a count: each read may be a VM exit */
	u64 start = rdtsc(), limit = tsc_ticks_ms(ICR_IDLE_TIMEOUT_MS);

	lapic_write(LAPIC_ICR_HI, apic_id << ICR_DEST_SHIFT);
	lapic_write(LAPIC_ICR_LO, icr_lo);
	while (lapic_read(LAPIC_ICR_LO) & ICR_DELIVERY_STATUS) {
		if (rdtsc() - start > limit)
			return false;
		cpu_relax();
	}
	return true;
}
