/* Local APIC driver: xAPIC MMIO or x2APIC MSRs (SDM 3A 11.4, 11.6, 11.12). */
#include "drivers/lapic.h"
#include "drivers/tsc.h"
#include "hv/hw/apic.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"

#define TIMER_CALIBRATE_US 10000
#define LAPIC_SPURIOUS_VECTOR 0xff
#define ICR_SPIN_LIMIT 1000000

static bool x2apic;
static volatile u32 *xapic;
static bool tsc_deadline;
static u64 timer_hz; /* one-shot mode: counts per second at divide-by-1 */

static u32 lapic_read(u32 reg)
{
	if (x2apic)
		return (u32)rdmsr(MSR_X2APIC_BASE + (reg >> 4));
	return xapic[reg / 4];
}

static void lapic_write(u32 reg, u32 val)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_BASE + (reg >> 4), val);
	else
		xapic[reg / 4] = val;
}

bool lapic_x2apic(void)
{
	return x2apic;
}

int lapic_init(hv_ioremap_fn ioremap)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;

	x2apic = cpuid(CPUID_FEATURES_LEAF).ecx & CPUID_1_ECX_X2APIC;
	if (!x2apic) {
		xapic = ioremap(base, LAPIC_MMIO_SIZE);
		if (!xapic)
			return -E_NOMEM;
	}
	return 0;
}

void lapic_cpu_init(void)
{
	u64 msr = rdmsr(MSR_IA32_APIC_BASE) | APIC_BASE_EN;

	/* SDM 3A 11.12.1: xAPIC enabled first, then EXTD */
	wrmsr(MSR_IA32_APIC_BASE, msr);
	if (x2apic)
		wrmsr(MSR_IA32_APIC_BASE, msr | APIC_BASE_EXTD);
	lapic_write(APIC_TPR, 0);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	lapic_write(APIC_LVT_LINT0, APIC_LVT_MASKED);
	lapic_write(APIC_LVT_LINT1, APIC_LVT_MASKED);
	lapic_write(APIC_LVT_ERROR, APIC_LVT_MASKED);
	lapic_write(APIC_SVR, APIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
}

u32 lapic_id(void)
{
	u32 id = lapic_read(APIC_ID);

	return x2apic ? id : id >> APIC_ID_SHIFT;
}

void lapic_eoi(void)
{
	lapic_write(APIC_EOI, 0);
}

static void lapic_icr(u32 apic_id, u32 low)
{
	if (x2apic) {
		wrmsr(MSR_X2APIC_BASE + (APIC_ICR_LO >> 4), ((u64)apic_id << 32) | low);
		return;
	}
	lapic_write(APIC_ICR_HI, apic_id << ICR_DEST_SHIFT);
	lapic_write(APIC_ICR_LO, low);
	for (int i = 0; i < ICR_SPIN_LIMIT && (lapic_read(APIC_ICR_LO) & ICR_DELIVERY_STATUS); i++)
		cpu_relax();
}

void lapic_send_init(u32 apic_id)
{
	lapic_icr(apic_id, ICR_MODE_INIT << ICR_MODE_SHIFT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL);
}

void lapic_send_sipi(u32 apic_id, u8 vector_page)
{
	lapic_icr(apic_id, ICR_MODE_STARTUP << ICR_MODE_SHIFT | ICR_LEVEL_ASSERT | vector_page);
}

void lapic_send_nmi(u32 apic_id)
{
	lapic_icr(apic_id, ICR_MODE_NMI << ICR_MODE_SHIFT | ICR_LEVEL_ASSERT);
}

void lapic_send_fixed(u32 apic_id, u8 vector)
{
	lapic_icr(apic_id, ICR_MODE_FIXED << ICR_MODE_SHIFT | ICR_LEVEL_ASSERT | vector);
}

/* SDM 3A 11.5.4: calibrate the count-down timer against the TSC when there
 * is no TSC-deadline mode to use instead. */
int lapic_timer_init(void)
{
	u64 t0;
	u32 left;

	tsc_deadline = cpuid(CPUID_FEATURES_LEAF).ecx & CPUID_1_ECX_TSC_DEADLINE;
	if (tsc_deadline)
		return 0;
	lapic_write(APIC_TIMER_DCR, APIC_DCR_DIV1);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	t0 = rdtsc();
	lapic_write(APIC_TIMER_ICR, 0xffffffffU);
	udelay(TIMER_CALIBRATE_US);
	left = lapic_read(APIC_TIMER_CCR);
	timer_hz = muldiv64(0xffffffffULL - left, tsc_hz(), rdtsc() - t0);
	lapic_write(APIC_TIMER_ICR, 0);
	return timer_hz ? 0 : -E_NODEV;
}

void lapic_timer_arm(u8 vector, u64 deadline)
{
	u64 now, count;

	if (tsc_deadline) {
		lapic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_TSC_DEADLINE | vector);
		/* SDM 3A 11.5.4.1: order the LVT write before the MSR write */
		__asm__ volatile("mfence" ::: "memory");
		wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
		return;
	}
	if (!deadline) {
		lapic_write(APIC_TIMER_ICR, 0);
		return;
	}
	now = rdtsc();
	count = deadline > now ? muldiv64(deadline - now, timer_hz, tsc_hz()) : 0;
	lapic_write(APIC_TIMER_DCR, APIC_DCR_DIV1);
	lapic_write(APIC_LVT_TIMER, vector);
	lapic_write(APIC_TIMER_ICR, (u32)MIN(MAX(count, 1ULL), 0xffffffffULL));
}
