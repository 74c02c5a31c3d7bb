/*
 * apicmode: the modes of the local APIC that IA32_APIC_BASE selects (SDM 3A
 * 11.4.3, 11.12.5 and its state diagram), on the BSP:
 *
 *   xAPIC -> x2APIC (when CPUID offers it) -> disabled -> xAPIC
 *
 * In each enabled mode a self-IPI and a one-shot timer interrupt arrive.
 * The transitions the diagram lacks raise #GP and change nothing: x2APIC
 * -> xAPIC, disabled -> x2APIC, and EXTD without EN. Before the disable a
 * periodic timer runs and a self-IPI waits in the IRR behind the TPR.
 * While disabled: IA32_APIC_BASE reads EN = EXTD = 0, CPUID.1:EDX.APIC is
 * 0, the x2APIC MSRs raise #GP (checked where x2APIC exists), the MMIO page reads all-ones (as in x2APIC
 * mode, 11.12.2), and no interrupt arrives (nor, with cpus=2, a fixed IPI
 * or an NMI that the other CPU sends it). Enabled again it is in its
 * power-up state (11.4.7.1: SVR 0xFF, LVTs masked, TPR, IRR, ISR, timer 0,
 * its ID kept); nothing of before arrives, and IPIs and its timer work.
 *
 * Bare QEMU 7.2 and Bochs 2.7 cannot enable an APIC again once it is
 * disabled (QEMU apic_set_base: "if disabled, cannot be enabled again";
 * Bochs ignores the write): there the guest FAILs, saying so.
 *
 * Keys: cpus=N (2: the other CPU sends IPIs too).
 * PASS details: x2apic=yes|no path=xapic,x2apic,off,xapic ap_ipis=yes|no
 */
#include "cmdline.h"
#include "console.h"
#include "cpu.h"
#include "guest.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "irq.h"
#include "lapic.h"
#include "lib.h"
#include "smp.h"
#include "trap.h"
#include "tsc.h"

#define VEC_SELF 0x40	/* self-IPIs that must arrive */
#define VEC_TIMER 0x41	/* the one-shot timer */
#define VEC_HELD 0x50	/* waits in the IRR behind the TPR, then is lost */
#define VEC_PERIOD 0x42 /* the periodic timer running when it is disabled */
#define VEC_AP_LOST 0x51
#define VEC_AP_OK 0x52
#define TPR_BLOCK_ALL 0xf0
#define TIMER_COUNT 0x10000 /* at divide by 1: a few ms at any timer rate */
#define ARRIVAL_MS 500
#define QUIET_MS 30
#define APIC_BASE_MODE (APIC_BASE_EN | APIC_BASE_EXTD)
#define X2APIC_MSR(reg) (MSR_X2APIC_BASE + (reg) / 16)
#define ALL_ONES 0xffffffffU
#define AP_CHECKIN_MS 1000

const char guest_name[] = "apicmode";

enum mode { MODE_XAPIC, MODE_X2APIC, MODE_OFF };
static const char *const mode_names[] = { "xapic", "x2apic", "off" };

static enum mode mode = MODE_XAPIC;
static u64 base_fixed; /* IA32_APIC_BASE without EN and EXTD */

/* --- the APIC in the current mode ---------------------------------------- */

static u32 apic_rd(u32 reg)
{
	u64 v;

	if (mode == MODE_XAPIC)
		return lapic_read(reg);
	if (!msr_read_safe(X2APIC_MSR(reg), &v))
		guest_fail("%s: RDMSR 0x%x raised #GP", mode_names[mode], X2APIC_MSR(reg));
	return (u32)v;
}

static void apic_wr(u32 reg, u32 val)
{
	if (mode == MODE_XAPIC)
		lapic_write(reg, val);
	else if (!msr_write_safe(X2APIC_MSR(reg), val))
		guest_fail("%s: WRMSR 0x%x raised #GP", mode_names[mode], X2APIC_MSR(reg));
}

static void eoi(u8 vector)
{
	(void)vector;
	apic_wr(APIC_EOI, 0);
}

static void self_ipi(u8 vector)
{
	if (mode == MODE_X2APIC)
		apic_wr(X2APIC_SELF_IPI, vector);
	else
		lapic_write(APIC_ICR_LO, ICR_SH_SELF << ICR_SHORTHAND_SHIFT | vector);
}

static bool irr_has(u8 vector)
{
	return apic_rd(APIC_IRR + (vector / 32) * 0x10) & (1U << (vector % 32));
}

/* IA32_APIC_BASE with EN and EXTD as given; false if the WRMSR faulted. */
static bool set_base(u64 mode_bits)
{
	return msr_write_safe(MSR_IA32_APIC_BASE, base_fixed | mode_bits);
}

static void expect_mode(enum mode want, const char *when)
{
	static const u64 bits[] = { APIC_BASE_EN, APIC_BASE_EN | APIC_BASE_EXTD, 0 };
	bool apic_bit = cpuid(CPUID_FEATURES_LEAF).edx & CPUID_1_EDX_APIC;
	u64 base;

	if (!msr_read_safe(MSR_IA32_APIC_BASE, &base))
		guest_fail("%s: RDMSR IA32_APIC_BASE raised #GP", when);
	if ((base & APIC_BASE_MODE) != bits[want] || (base & ~APIC_BASE_MODE) != base_fixed)
		guest_fail("%s: IA32_APIC_BASE = 0x%llx, want %s (0x%llx)%s", when, base,
			   mode_names[want], base_fixed | bits[want],
			   want != MODE_OFF && !(base & APIC_BASE_EN) ? ": still disabled" : "");
	/* SDM 3A 11.4.3: the CPUID APIC flag follows EN */
	if (apic_bit != (want != MODE_OFF))
		guest_fail("%s: CPUID.1:EDX.APIC = %u in mode %s", when, apic_bit,
			   mode_names[want]);
	mode = want;
}

/* A refused transition: #GP, and the mode as it was. */
static void expect_refused(u64 mode_bits, const char *what)
{
	enum mode was = mode;

	if (set_base(mode_bits))
		guest_fail("%s: WRMSR IA32_APIC_BASE = 0x%llx did not raise #GP", what,
			   base_fixed | mode_bits);
	expect_mode(was, what);
	con_printf("apicmode: %s: #GP, still %s\n", what, mode_names[was]);
}

/* --- interrupts ---------------------------------------------------------- */

static bool wait_count(u8 vector, u32 want)
{
	u64 start = rdtsc(), limit = tsc_ticks_ms(ARRIVAL_MS);
	bool ok;

	__asm__ volatile("sti" ::: "memory");
	while (__atomic_load_n(&irq_counts[vector], __ATOMIC_ACQUIRE) < want &&
	       rdtsc() - start < limit)
		cpu_relax();
	__asm__ volatile("cli" ::: "memory");
	ok = irq_counts[vector] >= want;
	return ok;
}

/* Interrupts on for QUIET_MS: nothing may come. */
static void expect_quiet(const char *when)
{
	static const u8 vecs[] = { VEC_SELF, VEC_TIMER, VEC_HELD, VEC_PERIOD, VEC_AP_LOST };
	u32 before[ARRAY_SIZE(vecs)];

	for (u32 i = 0; i < ARRAY_SIZE(vecs); i++)
		before[i] = irq_counts[vecs[i]];
	__asm__ volatile("sti" ::: "memory");
	tsc_delay_us(QUIET_MS * 1000);
	__asm__ volatile("cli" ::: "memory");
	for (u32 i = 0; i < ARRAY_SIZE(vecs); i++)
		if (irq_counts[vecs[i]] != before[i])
			guest_fail("%s: vector 0x%x arrived (%u times)", when, vecs[i],
				   irq_counts[vecs[i]] - before[i]);
}

/* In the current (enabled) mode: a self-IPI and a one-shot timer arrive. */
static void expect_delivery(void)
{
	u32 self = irq_counts[VEC_SELF], timer = irq_counts[VEC_TIMER];

	apic_wr(APIC_SVR, APIC_SVR_ENABLE | LAPIC_SVR_VECTOR);
	apic_wr(APIC_TPR, 0);
	self_ipi(VEC_SELF);
	if (!wait_count(VEC_SELF, self + 1))
		guest_fail("%s: a self-IPI (vector 0x%x) did not arrive", mode_names[mode],
			   VEC_SELF);
	apic_wr(APIC_TIMER_DCR, APIC_DCR_DIV1);
	apic_wr(APIC_LVT_TIMER, VEC_TIMER);
	apic_wr(APIC_TIMER_ICR, TIMER_COUNT);
	if (!wait_count(VEC_TIMER, timer + 1))
		guest_fail("%s: the one-shot timer (vector 0x%x) did not fire", mode_names[mode],
			   VEC_TIMER);
	con_printf("apicmode: %s: self-IPI and timer arrive\n", mode_names[mode]);
}

/* A periodic timer runs, and VEC_HELD waits in the IRR behind the TPR. */
static void leave_busy(void)
{
	apic_wr(APIC_TPR, TPR_BLOCK_ALL);
	apic_wr(APIC_TIMER_DCR, APIC_DCR_DIV1);
	apic_wr(APIC_LVT_TIMER, VEC_PERIOD | (1U << APIC_LVT_TIMER_MODE_SHIFT));
	apic_wr(APIC_TIMER_ICR, TIMER_COUNT);
	self_ipi(VEC_HELD);
	if (!irr_has(VEC_HELD))
		guest_fail("%s: vector 0x%x is not in the IRR behind TPR 0x%x", mode_names[mode],
			   VEC_HELD, TPR_BLOCK_ALL);
}

/* --- the other CPU: sends what the BSP asks ------------------------------ */

enum ap_cmd { AP_IDLE, AP_SEND_LOST, AP_SEND_OK };
static volatile u32 ap_cmd, ap_ready, ap_done;

static void ap_main(u32 ticket)
{
	(void)ticket;
	__atomic_store_n(&ap_ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		u32 cmd = __atomic_load_n(&ap_cmd, __ATOMIC_ACQUIRE);

		if (cmd == AP_SEND_LOST) {
			/* to APIC ID 0, which is disabled: neither may arrive */
			lapic_send_ipi(0, VEC_AP_LOST);
			lapic_send_ipi(0, ICR_MODE_NMI << ICR_MODE_SHIFT);
		} else if (cmd == AP_SEND_OK) {
			lapic_send_ipi(0, VEC_AP_OK);
		} else {
			cpu_relax();
			continue;
		}
		__atomic_store_n(&ap_cmd, AP_IDLE, __ATOMIC_RELEASE);
		__atomic_fetch_add(&ap_done, 1, __ATOMIC_RELEASE);
	}
}

static void ap_do(u32 cmd)
{
	u32 done = ap_done;
	u64 start = rdtsc();

	__atomic_store_n(&ap_cmd, cmd, __ATOMIC_RELEASE);
	while (__atomic_load_n(&ap_done, __ATOMIC_ACQUIRE) == done)
		if (rdtsc() - start > tsc_ticks_ms(AP_CHECKIN_MS))
			guest_fail("the other CPU did not send its IPIs");
}

static bool start_ap(u32 cpus)
{
	u64 start = rdtsc();

	if (cpus < 2)
		return false;
	smp_prepare(ap_main);
	if (!smp_start_ap(1))
		guest_fail("INIT-SIPI to APIC ID 1 stayed pending");
	while (!__atomic_load_n(&ap_ready, __ATOMIC_ACQUIRE))
		if (rdtsc() - start > tsc_ticks_ms(AP_CHECKIN_MS))
			guest_fail("APIC ID 1 did not start");
	return true;
}

/* --- the path ------------------------------------------------------------ */

static void disabled(bool x2, bool ap)
{
	u64 val;

	if (!set_base(0))
		guest_fail("%s -> off: WRMSR IA32_APIC_BASE = 0x%llx raised #GP", mode_names[mode],
			   base_fixed);
	expect_mode(MODE_OFF, "off");
	/* (without x2APIC they are no MSRs at all; QEMU's TCG reads those as 0) */
	if (x2 &&
	    (msr_read_safe(X2APIC_MSR(APIC_ID), &val) || msr_write_safe(X2APIC_MSR(APIC_TPR), 0)))
		guest_fail("off: an x2APIC MSR did not raise #GP");
	if (mmio_read32(LAPIC_DEFAULT_BASE + APIC_VERSION) != ALL_ONES)
		guest_fail("off: the APIC page reads 0x%x, not all-ones",
			   mmio_read32(LAPIC_DEFAULT_BASE + APIC_VERSION));
	mmio_write32(LAPIC_DEFAULT_BASE + APIC_TPR, 0x10); /* goes nowhere */
	expect_refused(APIC_BASE_EN | APIC_BASE_EXTD, "off -> x2apic");
	expect_refused(APIC_BASE_EXTD, "off -> EXTD without EN");
	if (ap)
		ap_do(AP_SEND_LOST);
	expect_quiet("off");
	con_printf("apicmode: off: #GP on its MSRs, the page reads all-ones, nothing arrives\n");
}

static void enabled_again(bool ap)
{
	if (!set_base(APIC_BASE_EN))
		guest_fail("off -> xapic: WRMSR IA32_APIC_BASE = 0x%llx raised #GP",
			   base_fixed | APIC_BASE_EN);
	expect_mode(MODE_XAPIC, "off -> xapic");
	/* SDM 3A 11.4.7.1 */
	if (lapic_id() != 0 || apic_rd(APIC_SVR) != APIC_SVR_RESET || apic_rd(APIC_TPR) ||
	    apic_rd(APIC_LVT_TIMER) != APIC_LVT_MASKED || apic_rd(APIC_TIMER_ICR) ||
	    apic_rd(APIC_TIMER_CCR))
		guest_fail("xapic again: not the power-up state: ID 0x%x SVR 0x%x TPR 0x%x "
			   "LVT timer 0x%x initial %u current %u",
			   apic_rd(APIC_ID), apic_rd(APIC_SVR), apic_rd(APIC_TPR),
			   apic_rd(APIC_LVT_TIMER), apic_rd(APIC_TIMER_ICR),
			   apic_rd(APIC_TIMER_CCR));
	for (u32 w = 0; w < APIC_VECTOR_WORDS; w++)
		if (apic_rd(APIC_IRR + w * 0x10) || apic_rd(APIC_ISR + w * 0x10))
			guest_fail("xapic again: IRR/ISR word %u = 0x%x/0x%x", w,
				   apic_rd(APIC_IRR + w * 0x10), apic_rd(APIC_ISR + w * 0x10));
	apic_wr(APIC_SVR, APIC_SVR_ENABLE | LAPIC_SVR_VECTOR);
	expect_quiet("xapic again");
	expect_delivery();
	if (ap) {
		u32 n = irq_counts[VEC_AP_OK];

		ap_do(AP_SEND_OK);
		if (!wait_count(VEC_AP_OK, n + 1))
			guest_fail("xapic again: the other CPU's IPI did not arrive");
	}
}

void guest_main(void)
{
	bool x2 = cpuid(CPUID_FEATURES_LEAF).ecx & CPUID_1_ECX_X2APIC;
	bool ap;
	u64 base;

	irq_init();
	for (u32 v = IRQ_FIRST; v < IRQ_VECTORS; v++)
		irq_set_handler((u8)v, eoi);
	if (!msr_read_safe(MSR_IA32_APIC_BASE, &base))
		guest_fail("RDMSR IA32_APIC_BASE raised #GP");
	base_fixed = base & ~APIC_BASE_MODE;
	expect_mode(MODE_XAPIC, "at start");
	ap = start_ap((u32)cmdline_u64("cpus", 1));
	expect_delivery();
	if (x2) {
		if (!set_base(APIC_BASE_EN | APIC_BASE_EXTD))
			guest_fail("xapic -> x2apic: WRMSR raised #GP");
		expect_mode(MODE_X2APIC, "xapic -> x2apic");
		if (mmio_read32(LAPIC_DEFAULT_BASE + APIC_VERSION) != ALL_ONES)
			guest_fail("x2apic: the APIC page reads 0x%x, not all-ones",
				   mmio_read32(LAPIC_DEFAULT_BASE + APIC_VERSION));
		expect_delivery();
		expect_refused(APIC_BASE_EN, "x2apic -> xapic");
		expect_refused(APIC_BASE_EXTD, "x2apic -> EXTD without EN");
	}
	leave_busy();
	disabled(x2, ap);
	enabled_again(ap);
	guest_pass("x2apic=%s path=xapic,%soff,xapic ap_ipis=%s", x2 ? "yes" : "no",
		   x2 ? "x2apic," : "", ap ? "yes" : "no");
}
