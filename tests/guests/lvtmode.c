/*
 * lvtmode: changing the local APIC timer's mode in the LVT (SDM 3A 11.5.4,
 * 11.5.4.1), in xAPIC mode. Between one-shot and periodic the mode decides
 * what the end of the count does, not the count:
 *   1. one-shot -> periodic while counting: the initial count stays, the
 *      current count runs on (is not reloaded), and at its end the count
 *      reloads: the interrupts go on;
 *   2. periodic -> one-shot while counting: the initial count stays, the
 *      count ends once more with an interrupt, then the timer stops
 *      (current count 0, no interrupt);
 *   3. a count that has ended does not start again when the mode changes
 *      ("does not start the timer", 11.5.4);
 *   4. where CPUID offers TSC-deadline mode: a change to it disarms the
 *      timer (current count 0, no interrupt, nor back in one-shot mode).
 * The period is about PERIOD_MS of TSC time, from the timer's rate measured
 * first (a count of 0xffffffff for CALIBRATE_MS).
 *
 * Bochs 2.7 passes. QEMU 7.2 does not: it computes the timer from the last
 * initial-count write in the new mode, so periodic -> one-shot stops the
 * count at once, and an ended count starts again in periodic mode.
 *
 * PASS details: ticks_per_ms=N periodic=K tsc_deadline=yes|no
 */
#include "console.h"
#include "cpu.h"
#include "guest.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "irq.h"
#include "lapic.h"
#include "lib.h"
#include "tsc.h"

#define VEC 0x45
#define PERIOD_MS 20 /* long beside an emulator's jitter */
#define CALIBRATE_MS 4
#define PERIODS_WANTED 3
#define WAIT_PERIODS 40 /* generous: emulators are slow */
#define QUIET_PERIODS 4
#define COUNT_MAX 0xffffffffU
#define MODE_ONESHOT (0U << APIC_LVT_TIMER_MODE_SHIFT)
#define MODE_PERIODIC (1U << APIC_LVT_TIMER_MODE_SHIFT)

const char guest_name[] = "lvtmode";

static u32 count; /* the initial count of one period */

static void eoi(u8 vector)
{
	(void)vector;
	lapic_write(APIC_EOI, 0);
}

static u32 ccr(void)
{
	return lapic_read(APIC_TIMER_CCR);
}

static u32 arrived(void)
{
	return __atomic_load_n(&irq_counts[VEC], __ATOMIC_ACQUIRE);
}

static bool pending_in_irr(void)
{
	return lapic_read(APIC_IRR + (VEC / 32) * 0x10) & (1U << (VEC % 32));
}

/* Interrupts on until `want` arrivals or `periods` periods of TSC time. */
static bool wait_arrivals(u32 want, u32 periods)
{
	u64 start = rdtsc(), limit = tsc_ticks_ms(periods * PERIOD_MS);

	__asm__ volatile("sti" ::: "memory");
	while (arrived() < want && rdtsc() - start < limit)
		cpu_relax();
	__asm__ volatile("cli" ::: "memory");
	return arrived() >= want;
}

static void sleep_periods(u32 periods)
{
	__asm__ volatile("sti" ::: "memory");
	tsc_delay_us(periods * PERIOD_MS * 1000);
	__asm__ volatile("cli" ::: "memory");
}

static void calibrate(void)
{
	u32 c0, c1;

	lapic_write(APIC_TIMER_DCR, APIC_DCR_DIV1);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | MODE_ONESHOT | VEC);
	lapic_write(APIC_TIMER_ICR, COUNT_MAX);
	c0 = ccr();
	tsc_delay_us(CALIBRATE_MS * 1000);
	c1 = ccr();
	lapic_write(APIC_TIMER_ICR, 0);
	if (c1 >= c0)
		guest_fail("the timer does not count down: 0x%x then 0x%x", c0, c1);
	count = (c0 - c1) / CALIBRATE_MS * PERIOD_MS;
	if (!count)
		guest_fail("the timer counts %u in %u ms", c0 - c1, CALIBRATE_MS);
	con_printf("lvtmode: %u timer ticks per ms, a period of %u ms is %u\n",
		   (c0 - c1) / CALIBRATE_MS, PERIOD_MS, count);
}

/* The write of the LVT that changes the mode: the initial count stays and
 * the current count is not reloaded (a little slack: QEMU's clock). */
static void switch_mode(u32 lvt, const char *what)
{
	u32 before = ccr(), after;

	lapic_write(APIC_LVT_TIMER, lvt);
	after = ccr();
	if (lapic_read(APIC_TIMER_ICR) != count)
		guest_fail("%s: the initial count reads %u, was %u", what,
			   lapic_read(APIC_TIMER_ICR), count);
	if (after > before + count / 16)
		guest_fail("%s: the current count went from %u to %u", what, before, after);
}

static u32 oneshot_to_periodic(void)
{
	u32 n;

	lapic_write(APIC_LVT_TIMER, MODE_ONESHOT | VEC);
	lapic_write(APIC_TIMER_ICR, count);
	switch_mode(MODE_PERIODIC | VEC, "one-shot -> periodic");
	n = arrived();
	if (!wait_arrivals(n + PERIODS_WANTED, WAIT_PERIODS))
		guest_fail("one-shot -> periodic: %u interrupts in %u periods, want %u",
			   arrived() - n, WAIT_PERIODS, PERIODS_WANTED);
	if (!ccr())
		guest_fail("one-shot -> periodic: the count did not reload");
	con_printf("lvtmode: one-shot -> periodic: %u periods\n", arrived() - n);
	return arrived() - n;
}

/* Called right after a period's interrupt: the IRR is empty and most of a
 * period is left. */
static void periodic_to_oneshot(void)
{
	u32 n;

	if (pending_in_irr())
		guest_fail("periodic: vector 0x%x pending at the start of a period", VEC);
	switch_mode(MODE_ONESHOT | VEC, "periodic -> one-shot");
	if (!wait_arrivals(arrived() + 1, WAIT_PERIODS))
		guest_fail("periodic -> one-shot: the count did not end with an interrupt");
	n = arrived();
	sleep_periods(QUIET_PERIODS);
	if (arrived() != n || ccr())
		guest_fail("periodic -> one-shot: %u more interrupts, current count %u after "
			   "the end",
			   arrived() - n, ccr());
	if (lapic_read(APIC_TIMER_ICR) != count)
		guest_fail("periodic -> one-shot: the initial count reads %u after the end",
			   lapic_read(APIC_TIMER_ICR));
	con_printf("lvtmode: periodic -> one-shot: one more end, then stopped\n");
}

static void ended_stays_ended(void)
{
	u32 n = arrived();

	lapic_write(APIC_LVT_TIMER, MODE_PERIODIC | VEC);
	sleep_periods(QUIET_PERIODS);
	if (arrived() != n || ccr())
		guest_fail("an ended count started again with the mode: %u interrupts, current "
			   "count %u",
			   arrived() - n, ccr());
	lapic_write(APIC_LVT_TIMER, MODE_ONESHOT | VEC);
	con_printf("lvtmode: an ended count stays ended across mode changes\n");
}

/* SDM 3A 11.5.4.1: to or from TSC-deadline mode disarms. */
static void tsc_deadline_disarms(void)
{
	u32 n;

	lapic_write(APIC_LVT_TIMER, MODE_PERIODIC | VEC);
	lapic_write(APIC_TIMER_ICR, count);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_TIMER_TSC_DEADLINE | VEC);
	/* what the initial count then reads the SDM leaves open */
	if (ccr())
		guest_fail("periodic -> TSC-deadline: the current count reads %u", ccr());
	lapic_write(APIC_LVT_TIMER, MODE_ONESHOT | VEC);
	n = arrived();
	sleep_periods(QUIET_PERIODS);
	if (arrived() != n)
		guest_fail("after TSC-deadline mode: %u interrupts", arrived() - n);
	con_printf("lvtmode: to and from TSC-deadline mode disarms\n");
}

void guest_main(void)
{
	bool deadline = cpuid(CPUID_FEATURES_LEAF).ecx & CPUID_1_ECX_TSC_DEADLINE;
	u32 periods;

	irq_init();
	irq_set_handler(VEC, eoi);
	lapic_enable();
	calibrate();
	periods = oneshot_to_periodic();
	periodic_to_oneshot();
	ended_stays_ended();
	if (deadline)
		tsc_deadline_disarms();
	guest_pass("ticks_per_ms=%u periodic=%u tsc_deadline=%s", count / PERIOD_MS, periods,
		   deadline ? "yes" : "no");
}
