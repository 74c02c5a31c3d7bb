/* xAPIC MMIO access. The base comes from IA32_APIC_BASE when it reads. */
#include "lapic.h"
#include "cpu.h"
#include "hv/hw/x86.h"
#include "trap.h"
#include "tsc.h"

#define ICR_IDLE_TIMEOUT_MS 100

uintptr_t lapic_base(void)
{
	static uintptr_t base;
	u64 msr;

	if (!base) {
		base = LAPIC_DEFAULT_BASE;
		if (msr_read_safe(MSR_IA32_APIC_BASE, &msr) && (msr & APIC_BASE_EN))
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
	return lapic_read(APIC_ID) >> APIC_ID_SHIFT;
}

void lapic_enable(void)
{
	lapic_write(APIC_SVR, APIC_SVR_ENABLE | LAPIC_SVR_VECTOR);
}

bool lapic_send_ipi(u32 apic_id, u32 icr_lo)
{
	/* a time limit, not a count: each read may be a VM exit */
	u64 start = rdtsc(), limit = tsc_ticks_ms(ICR_IDLE_TIMEOUT_MS);

	lapic_write(APIC_ICR_HI, apic_id << ICR_DEST_SHIFT);
	lapic_write(APIC_ICR_LO, icr_lo);
	while (lapic_read(APIC_ICR_LO) & ICR_DELIVERY_STATUS) {
		if (rdtsc() - start > limit)
			return false;
		cpu_relax();
	}
	return true;
}
