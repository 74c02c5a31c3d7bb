/* Local APIC driver: xAPIC MMIO or x2APIC MSRs (SDM 3A 11.4, 11.6, 11.12). */
#include "drivers/lapic.h"
#include "drivers/tsc.h"
#include "hv/console/console.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/hw/x86.h"

/* Register offsets (xAPIC MMIO); the x2APIC MSR is 0x800 + offset / 16. */
#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_TPR 0x080
#define LAPIC_EOI 0x0b0
#define LAPIC_LDR 0x0d0
#define LAPIC_DFR 0x0e0
#define LAPIC_SVR 0x0f0
#define LAPIC_ESR 0x280
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_LVT_LINT1 0x360
#define LAPIC_LVT_ERROR 0x370
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3e0
#define LAPIC_TIMER_DIV1 0xb	     /* SDM 3A 11.5.4, figure 11-10 */
#define LAPIC_TIMER_TSC_DEADLINE BIT(18) /* LVT timer mode 10b */
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)
#define TIMER_CALIBRATE_US 10000

#define LAPIC_SVR_ENABLE BIT(8)
#define LAPIC_LVT_MASKED BIT(16)
#define ICR_DELIVERY_FIXED (0U << 8)
#define ICR_DELIVERY_NMI (4U << 8)
#define ICR_DELIVERY_INIT (5U << 8)
#define ICR_DELIVERY_STARTUP (6U << 8)
#define ICR_PENDING BIT(12) /* xAPIC only: delivery status */
#define ICR_LEVEL_ASSERT BIT(14)
#define ICR_TRIGGER_LEVEL BIT(15)
#define XAPIC_DEST_SHIFT 24
#define CPUID_1_ECX_X2APIC BIT(21)
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

int lapic_init(void)
{
	u64 base = rdmsr(MSR_IA32_APIC_BASE) & PTE_ADDR_MASK;

	x2apic = cpuid(1).ecx & CPUID_1_ECX_X2APIC;
	if (!x2apic) {
		xapic = mm_ioremap(base, PAGE_SIZE);
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
	lapic_write(LAPIC_TPR, 0);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT0, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_LINT1, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_LVT_ERROR, LAPIC_LVT_MASKED);
	lapic_write(LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
}

u32 lapic_id(void)
{
	u32 id = lapic_read(LAPIC_ID);

	return x2apic ? id : id >> XAPIC_DEST_SHIFT;
}

void lapic_eoi(void)
{
	lapic_write(LAPIC_EOI, 0);
}

static void lapic_icr(u32 apic_id, u32 low)
{
	if (x2apic) {
		wrmsr(MSR_X2APIC_BASE + (LAPIC_ICR_LO >> 4), ((u64)apic_id << 32) | low);
		return;
	}
	lapic_write(LAPIC_ICR_HI, apic_id << XAPIC_DEST_SHIFT);
	lapic_write(LAPIC_ICR_LO, low);
	for (int i = 0; i < ICR_SPIN_LIMIT && (lapic_read(LAPIC_ICR_LO) & ICR_PENDING); i++)
		cpu_relax();
}

void lapic_send_init(u32 apic_id)
{
	lapic_icr(apic_id, ICR_DELIVERY_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL);
}

void lapic_send_sipi(u32 apic_id, u8 vector_page)
{
	lapic_icr(apic_id, ICR_DELIVERY_STARTUP | ICR_LEVEL_ASSERT | vector_page);
}

void lapic_send_nmi(u32 apic_id)
{
	lapic_icr(apic_id, ICR_DELIVERY_NMI | ICR_LEVEL_ASSERT);
}

void lapic_send_fixed(u32 apic_id, u8 vector)
{
	lapic_icr(apic_id, ICR_DELIVERY_FIXED | ICR_LEVEL_ASSERT | vector);
}

/* SDM 3A 11.5.4: calibrate the count-down timer against the TSC when there
 * is no TSC-deadline mode to use instead. */
int lapic_timer_init(void)
{
	u64 t0;
	u32 left;

	tsc_deadline = cpuid(1).ecx & CPUID_1_ECX_TSC_DEADLINE;
	if (tsc_deadline)
		return 0;
	lapic_write(LAPIC_TIMER_DCR, LAPIC_TIMER_DIV1);
	lapic_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED);
	t0 = rdtsc();
	lapic_write(LAPIC_TIMER_ICR, 0xffffffffU);
	udelay(TIMER_CALIBRATE_US);
	left = lapic_read(LAPIC_TIMER_CCR);
	timer_hz = muldiv64(0xffffffffULL - left, tsc_hz(), rdtsc() - t0);
	lapic_write(LAPIC_TIMER_ICR, 0);
	return timer_hz ? 0 : -E_NODEV;
}

void lapic_timer_arm(u8 vector, u64 deadline)
{
	u64 now, count;

	if (tsc_deadline) {
		lapic_write(LAPIC_LVT_TIMER, LAPIC_TIMER_TSC_DEADLINE | vector);
		/* SDM 3A 11.5.4.1: order the LVT write before the MSR write */
		__asm__ volatile("mfence" ::: "memory");
		wrmsr(MSR_IA32_TSC_DEADLINE, deadline);
		return;
	}
	if (!deadline) {
		lapic_write(LAPIC_TIMER_ICR, 0);
		return;
	}
	now = rdtsc();
	count = deadline > now ? muldiv64(deadline - now, timer_hz, tsc_hz()) : 0;
	lapic_write(LAPIC_TIMER_DCR, LAPIC_TIMER_DIV1);
	lapic_write(LAPIC_LVT_TIMER, vector);
	lapic_write(LAPIC_TIMER_ICR, (u32)MIN(MAX(count, 1ULL), 0xffffffffULL));
}
