/*
 * longtimer: a halted CPU wakes for its local APIC timer however far ahead
 * it was set (SDM 3A 11.5.4: a one-shot count ends with one interrupt;
 * HLT ends with it, SDM 2A HLT). The guest arms one-shot counts of
 * wait_ms (default 6000) and SHORT_MS of TSC time, from the timer's rate
 * measured first at divide-by-128 (the median of three measurements), and waits in HLT with interrupts on;
 * each interrupt must come within LATE_MAX_MS after its time, and not
 * before it (a little slack for the rate measured).
 *
 * In a partition the hypervisor waits for the guest's timer on its own
 * CPU's timer; a count of six seconds is longer than that timer holds
 * where it has no TSC-deadline mode (QEMU's counts 4.29 s at most), so
 * the CPU's timer ends before the guest's and must be armed again for the
 * rest: the CPU must not go on waiting for another interrupt instead.
 *
 * PASS details: ticks_per_ms=N long_ms=A short_ms=B (each the time HLT
 * lasted, by the TSC)
 */
#include "cmdline.h"
#include "console.h"
#include "cpu.h"
#include "guest.h"
#include "hv/hw/x86.h"
#include "irq.h"
#include "lapic.h"
#include "lib.h"
#include "tsc.h"

#define VEC 0x46
#define CALIBRATE_MS 20
#define CALIBRATE_ROUNDS 3
#define SHORT_MS 50
#define LATE_MAX_MS 500 /* an emulator on a busy host is late, not seconds late */
#define EARLY_PERCENT 2 /* the rate measured over CALIBRATE_MS */
#define COUNT_MAX 0xffffffffU

const char guest_name[] = "longtimer";

static u32 ticks_per_ms;

static void eoi(u8 vector)
{
	(void)vector;
	lapic_write(APIC_EOI, 0);
}

static u32 arrived(void)
{
	return __atomic_load_n(&irq_counts[VEC], __ATOMIC_ACQUIRE);
}

/* One measurement of the timer's rate against the TSC, both read inside
 * the same bracket so that a pause of the CPU counts on both sides. */
static u32 measure(void)
{
	u64 t0, t1, ms_x1000;
	u32 c0, c1;

	lapic_write(APIC_TIMER_ICR, COUNT_MAX);
	t0 = rdtsc();
	c0 = lapic_read(APIC_TIMER_CCR);
	tsc_delay_us(CALIBRATE_MS * 1000);
	c1 = lapic_read(APIC_TIMER_CCR);
	t1 = rdtsc();
	lapic_write(APIC_TIMER_ICR, 0);
	if (c1 >= c0)
		guest_fail("the timer does not count down: 0x%x then 0x%x", c0, c1);
	ms_x1000 = div_u64_rem(t1 - t0, tsc_khz() / 1000, NULL);
	return ms_x1000 ? (u32)div_u64_rem((u64)(c0 - c1) * 1000, (u32)ms_x1000, NULL) : 0;
}

/* The median of CALIBRATE_ROUNDS measurements: one that a long pause of
 * the CPU spoilt does not count. */
static void calibrate(void)
{
	u32 r[CALIBRATE_ROUNDS];

	lapic_write(APIC_TIMER_DCR, APIC_DCR_DIV128);
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED | VEC);
	for (u32 i = 0; i < CALIBRATE_ROUNDS; i++) {
		r[i] = measure();
		for (u32 j = i; j > 0 && r[j - 1] > r[j]; j--) {
			u32 t = r[j];

			r[j] = r[j - 1];
			r[j - 1] = t;
		}
	}
	ticks_per_ms = r[CALIBRATE_ROUNDS / 2];
	if (!ticks_per_ms)
		guest_fail("the timer counts less than one tick per ms");
}

/* Arms a one-shot count of ms and halts until its interrupt: the time HLT
 * lasted, in ms of TSC time. */
static u32 sleep_on_timer(u32 ms)
{
	u64 count = (u64)ticks_per_ms * ms, t0, t1;
	u32 before = arrived(), took;

	if (count > COUNT_MAX)
		guest_fail("%u ms is %llu timer ticks, more than a count holds", ms,
			   (unsigned long long)count);
	lapic_write(APIC_LVT_TIMER, VEC); /* one-shot, unmasked */
	t0 = rdtsc();
	lapic_write(APIC_TIMER_ICR, (u32)count);
	while (arrived() == before)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
	t1 = rdtsc();
	took = (u32)div_u64_rem(t1 - t0, tsc_khz(), NULL);
	con_printf("longtimer: a %u ms count woke the CPU after %u ms\n", ms, took);
	if (took + ms * EARLY_PERCENT / 100 < ms)
		guest_fail("a %u ms count ended after %u ms", ms, took);
	if (took > ms + LATE_MAX_MS)
		guest_fail("a %u ms count woke the CPU %u ms late", ms, took - ms);
	if (arrived() != before + 1)
		guest_fail("a one-shot count raised %u interrupts", arrived() - before);
	return took;
}

void guest_main(void)
{
	u32 wait = (u32)cmdline_u64("wait_ms", 6000), long_ms, short_ms;

	irq_init();
	irq_set_handler(VEC, eoi);
	lapic_enable();
	calibrate();
	con_printf("longtimer: %u timer ticks per ms at divide-by-128, tsc %u kHz (%s)\n",
		   ticks_per_ms, tsc_khz(), tsc_khz_source());
	long_ms = sleep_on_timer(wait);
	short_ms = sleep_on_timer(SHORT_MS);
	guest_pass("ticks_per_ms=%u long_ms=%u short_ms=%u", ticks_per_ms, long_ms, short_ms);
}
