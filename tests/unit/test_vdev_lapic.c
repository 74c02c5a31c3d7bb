/*
 * The virtual local APIC (hv/vdev/vlapic.c), mostly its timer (SDM 3A
 * 11.5.4): one-shot, periodic with the late-period catch-up and its
 * backlog limit, TSC-deadline, the divide configuration and the scaling
 * from the APIC timer rate (CPUID 15h's crystal) to the TSC; then EOI and
 * the priority rules that decide what virq_pending offers.
 *
 * Time: vlapic_timer_check takes "now" from its caller, so every expiry
 * here happens at a chosen TSC value. Arming (an initial-count write) and
 * the current-count register read the real TSC (rdtsc(), an inline in
 * hv/hw/x86.h); those tests bracket the write between two rdtsc() reads and
 * check the deadline falls within, which is exact however long the write
 * takes. The rates (tsc_hz, the host's crystal_hz) are fakes.
 */
#include "drivers/tsc.h"
#include "hv/hw/x86.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vdev/virq.h"
#include "hv/vdev/vlapic.h"
#include "tests/unit/test_vdev_fakes.h"

/* Register offsets (SDM 3A table 11-1) */
#define REG_TPR 0x080
#define REG_PPR 0x0a0
#define REG_EOI 0x0b0
#define REG_SVR 0x0f0
#define REG_ISR 0x100
#define REG_TMR 0x180
#define REG_IRR 0x200
#define REG_LVT_TIMER 0x320
#define REG_TMICT 0x380
#define REG_TMCCT 0x390
#define REG_TDCR 0x3e0

/* x2APIC MSRs (SDM 3A table 11-6): 0x800 + offset / 16 */
#define MSR_X2APIC(reg) (0x800 + ((reg) >> 4))

#define SVR_ENABLE BIT(8)
#define SVR_SPURIOUS 0xff
#define LVT_MASKED BIT(16)
#define LVT_ONESHOT (0U << 17)
#define LVT_PERIODIC (1U << 17)
#define LVT_TSC_DEADLINE (2U << 17)
#define DCR_DIV1 0xb
#define DCR_DIV2 0x0
#define DCR_MASK 0xb
#define ICR_MODE_FIXED 0
#define ICR_LOWEST 1
#define ICR_NMI 4
#define ICR_INIT 5
#define ICR_STARTUP 6
#define DEST_BROADCAST 0xff

#define TIMER_VEC 0xec /* Linux's LOCAL_TIMER_VECTOR */
#define OTHER_VEC 0x40

/* A 2 GHz TSC and a 24 MHz crystal: 83 1/3 TSC ticks per timer tick. */
#define TEST_TSC_HZ 2000000000ULL
#define TEST_CRYSTAL_HZ 24000000ULL
#define TSC_PER_MS (TEST_TSC_HZ / 1000)
#define COUNT_1MS ((u32)(TEST_CRYSTAL_HZ / 1000)) /* at divide by 1 */
#define BACKLOG_MS VIRQ_LATE_TICKS_MS
#define MIN_PERIOD_NS 10000 /* APIC_TIMER_MIN_PERIOD_NS */

/* --- fakes ---------------------------------------------------------------- */

static u64 fake_tsc_hz, fake_crystal_hz;

u64 tsc_hz(void)
{
	return fake_tsc_hz;
}

static u64 fake_crystal(void)
{
	return fake_crystal_hz;
}

static struct vcpu cpu0;
static u32 kicks, kicked_reqs;

static void fake_kick(struct vcpu *v, u32 req)
{
	assert_ptr_equal(v, &cpu0);
	kicks++;
	kicked_reqs |= req;
}

static u32 ioapic_eois;
static u8 ioapic_eoi_vector;

void virq_eoi(struct vdev_registry *reg, u8 vector)
{
	assert_ptr_equal(reg, &test_part.vdevs);
	ioapic_eois++;
	ioapic_eoi_vector = vector;
}

/* --- the vCPU under test and its registers -------------------------------- */

static int apic_access(u32 reg, bool write, u32 *val)
{
	u64 gpa = GUEST_LAPIC_BASE + reg;
	const struct vdev_range *r = vdev_find_mmio(&test_part.vdevs, gpa);
	struct vdev_access a = { gpa, 4, write, write ? *val : 0 };
	int rc;

	assert_non_null(r);
	rc = r->access(r->dev, &cpu0, &a);
	if (!write)
		*val = (u32)a.val;
	return rc;
}

static u32 apic_read(u32 reg)
{
	u32 val = 0;

	assert_int_equal(apic_access(reg, false, &val), 0);
	return val;
}

static void apic_write(u32 reg, u32 val)
{
	assert_int_equal(apic_access(reg, true, &val), 0);
}

static bool reg_bit(u32 base, u8 vector)
{
	return apic_read(base + (vector / 32) * 0x10) & (1U << (vector % 32));
}

static int setup_rates(u64 tsc, u64 crystal)
{
	part_init(1);
	memset(&cpu0, 0, sizeof(cpu0));
	cpu0.part = &test_part;
	cpu0.id = 0;
	test_part.vcpus[0] = &cpu0;
	fake_tsc_hz = tsc;
	fake_crystal_hz = crystal;
	kicks = kicked_reqs = 0;
	ioapic_eois = 0;
	ioapic_eoi_vector = 0;
	fake_host.kick = fake_kick;
	fake_host.crystal_hz = fake_crystal;
	assert_int_equal(create_devices(&(const struct vdev_type *){ &vlapic_type }, 1), 0);
	assert_ptr_not_equal(cpu0.dev[VCPU_DEV_IRQCHIP], NULL);
	apic_write(REG_SVR, SVR_ENABLE | SVR_SPURIOUS);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_rates(TEST_TSC_HZ, TEST_CRYSTAL_HZ);
}

static int pending(void)
{
	return virq_pending(&cpu0);
}

/* The vCPU takes vector (it must be the one offered) and ends its handler. */
static void take(u8 vector)
{
	assert_int_equal(pending(), vector);
	virq_ack(&cpu0, vector);
	apic_write(REG_EOI, 0);
}

static u64 deadline(void)
{
	return vlapic_timer_deadline(&cpu0);
}

static u64 fired(void)
{
	return cpu0.stats.timer_fired;
}

/* Writes the initial count and checks the deadline is len TSC ticks after
 * the moment of the write; returns the deadline. */
static u64 arm(u32 count, u64 len)
{
	u64 t0, t1, d;

	cpu0.timer_dirty = 0;
	t0 = rdtsc();
	apic_write(REG_TMICT, count);
	t1 = rdtsc();
	d = deadline();
	assert_true(d > len);
	assert_in_range(d - len, t0, t1);
	/* the vCPU loop must re-arm the CPU's timer */
	assert_int_equal(cpu0.timer_dirty, 1);
	assert_int_equal(apic_read(REG_TMICT), count);
	return d;
}

static u64 arm_periodic(u32 count, u64 period)
{
	apic_write(REG_LVT_TIMER, LVT_PERIODIC | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	return arm(count, period);
}

/* Delivers, one per acknowledgement, every expiry due at now; checks that a
 * second one is never raised while the last still waits. */
static u32 deliver_all(u64 now)
{
	u32 n = 0;

	for (;;) {
		u64 before;

		vlapic_timer_check(&cpu0, now);
		if (pending() != TIMER_VEC)
			return n;
		n++;
		before = fired();
		vlapic_timer_check(&cpu0, now);
		assert_int_equal(fired(), before);
		take(TIMER_VEC);
		assert_true(n < 10000);
	}
}

/* --- one-shot ------------------------------------------------------------- */

static void test_reset_state(void **state)
{
	(void)state;
	assert_int_equal(deadline(), 0);
	assert_int_equal(apic_read(REG_LVT_TIMER), LVT_MASKED);
	assert_int_equal(apic_read(REG_TMICT), 0);
	assert_int_equal(apic_read(REG_TMCCT), 0);
	assert_int_equal(vlapic_tsc_deadline_read(&cpu0), 0);
	assert_int_equal(pending(), -1);
	vlapic_timer_check(&cpu0, ~0ULL);
	assert_int_equal(fired(), 0);
	assert_int_equal(pending(), -1);
}

static void test_oneshot_fires_once(void **state)
{
	u64 d;

	(void)state;
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV2);
	/* 3 ticks, divide by 2, 83 1/3 TSC ticks each: 500 TSC ticks */
	d = arm(3, 500);

	vlapic_timer_check(&cpu0, d - 1);
	assert_int_equal(pending(), -1);
	assert_int_equal(deadline(), d);
	assert_int_equal(fired(), 0);
	assert_int_equal(kicks, 0);

	vlapic_timer_check(&cpu0, d);
	assert_int_equal(fired(), 1);
	assert_int_equal(deadline(), 0);
	assert_int_equal(kicks, 1);
	assert_int_equal(kicked_reqs, VCPU_REQ_EVENT);
	assert_true(reg_bit(REG_IRR, TIMER_VEC));
	assert_int_equal(pending(), TIMER_VEC);

	/* disarmed: nothing more, however late */
	vlapic_timer_check(&cpu0, d + 1000 * TSC_PER_MS);
	assert_int_equal(fired(), 1);
	assert_int_equal(kicks, 1);

	virq_ack(&cpu0, TIMER_VEC);
	assert_false(reg_bit(REG_IRR, TIMER_VEC));
	assert_true(reg_bit(REG_ISR, TIMER_VEC));
	assert_int_equal(pending(), -1);
	apic_write(REG_EOI, 0);
	assert_false(reg_bit(REG_ISR, TIMER_VEC));
	assert_int_equal(apic_read(REG_TMCCT), 0);
	/* the count register keeps its value */
	assert_int_equal(apic_read(REG_TMICT), 3);
}

static void test_oneshot_late_stats(void **state)
{
	u64 d;

	(void)state;
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	d = arm(COUNT_1MS, TSC_PER_MS);
	vlapic_timer_check(&cpu0, d + 7);
	assert_int_equal(fired(), 1);
	assert_int_equal(cpu0.stats.timer_late, 7);
	assert_int_equal(cpu0.stats.timer_late_max, 7);
	take(TIMER_VEC);

	d = arm(COUNT_1MS, TSC_PER_MS);
	vlapic_timer_check(&cpu0, d + 3);
	assert_int_equal(fired(), 2);
	assert_int_equal(cpu0.stats.timer_late, 10);
	assert_int_equal(cpu0.stats.timer_late_max, 7);
}

/* The length in TSC ticks is count * divisor * tsc_hz / crystal_hz. */
static void test_oneshot_rate_scaling(void **state)
{
	(void)state;
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	arm(1, 83); /* 83 1/3, rounded down */
	arm(3, 250);
	arm(COUNT_1MS, TSC_PER_MS);
	arm(0xffffffffU, 357913941250ULL); /* (2^32 - 1) * 250 / 3 */

	teardown(state);
	setup_rates(3000000000ULL, 25000000ULL); /* 120 to 1 */
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	arm(1000, 120000);

	/* what hv/policy/cpuid.c states: the TSC's own rate, or half of it above 2^32 */
	teardown(state);
	setup_rates(TEST_CRYSTAL_HZ, TEST_CRYSTAL_HZ);
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	arm(1000, 1000);

	teardown(state);
	setup_rates(5000000000ULL, 2500000000ULL);
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	arm(1000, 2000);
}

static void test_oneshot_masked(void **state)
{
	u64 d;

	(void)state;
	apic_write(REG_LVT_TIMER, LVT_MASKED | LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	d = arm(COUNT_1MS, TSC_PER_MS);
	vlapic_timer_check(&cpu0, d);
	/* SDM 3A 11.5.4: the count still runs out, the interrupt is not sent */
	assert_int_equal(fired(), 1);
	assert_int_equal(deadline(), 0);
	assert_int_equal(kicks, 0);
	assert_false(reg_bit(REG_IRR, TIMER_VEC));
	assert_int_equal(pending(), -1);
}

static void test_oneshot_restart_and_stop(void **state)
{
	u64 d;

	(void)state;
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	d = arm(COUNT_1MS, TSC_PER_MS);
	/* SDM 3A 11.5.4: a new initial count restarts the count */
	assert_true(arm(2 * COUNT_1MS, 2 * TSC_PER_MS) >= d + TSC_PER_MS);
	/* a zero count stops the timer */
	apic_write(REG_TMICT, 0);
	assert_int_equal(deadline(), 0);
	vlapic_timer_check(&cpu0, ~0ULL);
	assert_int_equal(fired(), 0);
	assert_int_equal(pending(), -1);
	assert_int_equal(apic_read(REG_TMCCT), 0);
}

/* Real time here: the count is read against the TSC. */
static void test_current_count_reads_down(void **state)
{
	u32 c1, c2;
	u64 t0, t, e, d;

	(void)state;
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	/* about three minutes of a 2 GHz TSC at these rates */
	arm(0xffffffffU, 357913941250ULL);
	c1 = apic_read(REG_TMCCT);
	assert_true(c1 > 0xffffffffU / 2);
	/* 100000 TSC ticks are 1200 timer ticks at these rates */
	t = rdtsc();
	while (rdtsc() - t < 100000)
		;
	c2 = apic_read(REG_TMCCT);
	assert_true(c2 < c1);
	assert_true(c1 - c2 >= 1200);

	/* divided by 128, it runs 128 times slower */
	apic_write(REG_TDCR, 0xa);
	t0 = rdtsc();
	arm(0xffffffffU, 128 * 357913941250ULL);
	t = rdtsc();
	c1 = apic_read(REG_TMCCT);
	while (rdtsc() - t < 100000)
		;
	c2 = apic_read(REG_TMCCT);
	e = rdtsc() - t0; /* at least the time since the write */
	assert_true(c2 <= c1);
	/* 100000 TSC ticks at least since the write: 9 3/8 ticks down */
	assert_true(0xffffffffU - c2 >= 9);
	assert_true(0xffffffffU - c2 <= e * 3 / 250 / 128 + 2);
	assert_true(c1 - c2 <= e * 3 / 250 / 128 + 2);

	/* once the deadline passes the count reads 0, before any check */
	apic_write(REG_TDCR, DCR_DIV1);
	d = arm(1, 83);
	while (rdtsc() <= d)
		;
	assert_int_equal(apic_read(REG_TMCCT), 0);
}

/* --- divide configuration (SDM 3A figure 11-10) ----------------------------- */

static void test_divide_config(void **state)
{
	static const struct {
		u32 dcr;
		u32 divisor;
	} table[] = {
		{ 0x0, 2 },
		{ 0x1, 4 },
		{ 0x2, 8 },
		{ 0x3, 16 },
		{ 0x8, 32 },
		{ 0x9, 64 },
		{ 0xa, 128 },
		{ 0xb, 1 },
		/* bit 2 and bits 31:4 are reserved: not stored, not decoded */
		{ 0x4, 2 },
		{ 0x7, 16 },
		{ 0xf, 1 },
		{ 0xfffffff9, 64 },
	};

	(void)state;
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	for (u32 i = 0; i < ARRAY_SIZE(table); i++) {
		u64 d;

		apic_write(REG_TDCR, table[i].dcr);
		assert_int_equal(apic_read(REG_TDCR), table[i].dcr & DCR_MASK);
		d = arm(COUNT_1MS, table[i].divisor * TSC_PER_MS);
		vlapic_timer_check(&cpu0, d - 1);
		assert_int_equal(fired(), i);
		vlapic_timer_check(&cpu0, d);
		assert_int_equal(fired(), i + 1);
		take(TIMER_VEC);
	}
}

/* --- periodic ------------------------------------------------------------- */

static void test_periodic_keeps_phase(void **state)
{
	const u64 p = TSC_PER_MS;
	u64 d0;

	(void)state;
	d0 = arm_periodic(COUNT_1MS, p);

	vlapic_timer_check(&cpu0, d0 - 1);
	assert_int_equal(pending(), -1);
	vlapic_timer_check(&cpu0, d0);
	assert_int_equal(deadline(), d0 + p);
	take(TIMER_VEC);

	/* checked half a period late: the next deadline is still on the grid */
	vlapic_timer_check(&cpu0, d0 + p + p / 2);
	assert_int_equal(deadline(), d0 + 2 * p);
	take(TIMER_VEC);

	for (u64 k = 2; k < 12; k++) {
		vlapic_timer_check(&cpu0, d0 + k * p - 1);
		assert_int_equal(pending(), -1);
		vlapic_timer_check(&cpu0, d0 + k * p);
		assert_int_equal(deadline(), d0 + (k + 1) * p);
		take(TIMER_VEC);
	}
	assert_int_equal(fired(), 12);
	assert_int_equal(cpu0.stats.timer_late, p / 2);
	assert_int_equal(cpu0.stats.timer_late_max, p / 2);
	/* the count register keeps its value */
	assert_int_equal(apic_read(REG_TMICT), COUNT_1MS);
}

/* A one-tick period would make the partition an exit storm: at least 10 us. */
static void test_periodic_min_period(void **state)
{
	const u64 min = MIN_PERIOD_NS * TEST_TSC_HZ / 1000000000ULL;
	u64 d;

	(void)state;
	d = arm_periodic(1, min);
	vlapic_timer_check(&cpu0, d);
	assert_int_equal(deadline(), d + min);
	take(TIMER_VEC);

	/* a period above the floor is kept as it is */
	d = arm_periodic(COUNT_1MS / 10, TSC_PER_MS / 10);
	vlapic_timer_check(&cpu0, d);
	assert_int_equal(deadline(), d + TSC_PER_MS / 10);
}

/* Three periods due at once: one per acknowledgement, then back on phase. */
static void test_periodic_catch_up(void **state)
{
	const u64 p = TSC_PER_MS;
	u64 d, now;
	u32 k;

	(void)state;
	d = arm_periodic(COUNT_1MS, p);
	now = d + 2 * p + p / 2; /* expiries d, d + p, d + 2p are due */

	vlapic_timer_check(&cpu0, now);
	assert_int_equal(fired(), 1);
	assert_int_equal(pending(), TIMER_VEC);
	assert_int_equal(kicks, 1);

	for (k = 2; k <= 3; k++) {
		/* the next expiry is due but the last waits in the IRR: held */
		vlapic_timer_check(&cpu0, now);
		vlapic_timer_check(&cpu0, now);
		assert_int_equal(fired(), k - 1);
		assert_int_equal(deadline(), 0);
		assert_int_equal(kicks, k - 1);

		/* its delivery releases it, and the vCPU loop must look again */
		cpu0.timer_dirty = 0;
		virq_ack(&cpu0, TIMER_VEC);
		assert_int_equal(cpu0.timer_dirty, 1);
		assert_int_equal(deadline(), d + (k - 1) * p);
		apic_write(REG_EOI, 0);

		vlapic_timer_check(&cpu0, now);
		assert_int_equal(fired(), k);
		assert_int_equal(deadline(), d + k * p);
		assert_int_equal(pending(), TIMER_VEC);
	}
	take(TIMER_VEC);

	/* caught up: nothing more is due now, the next is on the grid */
	vlapic_timer_check(&cpu0, now);
	assert_int_equal(fired(), 3);
	assert_int_equal(pending(), -1);
	assert_int_equal(deadline(), d + 3 * p);
	vlapic_timer_check(&cpu0, d + 3 * p);
	assert_int_equal(fired(), 4);
	assert_int_equal(deadline(), d + 4 * p);
	take(TIMER_VEC);

	/* lateness: 2.5 + 1.5 + 0.5 periods, then on time */
	assert_int_equal(cpu0.stats.timer_late, 4 * p + p / 2);
	assert_int_equal(cpu0.stats.timer_late_max, 2 * p + p / 2);
}

/* Late by up to the backlog: every period delivered, phase kept. */
static void test_periodic_backlog_kept(void **state)
{
	const u64 p = TSC_PER_MS;
	u64 d;

	(void)state;
	d = arm_periodic(COUNT_1MS, p);
	assert_int_equal(deliver_all(d + 49 * p + p / 2), 50);
	assert_int_equal(deadline(), d + 50 * p);
	assert_int_equal(fired(), 50);

	/* at exactly the limit after the first, still kept: 101 + 1 */
	d = deadline();
	assert_int_equal(deliver_all(d + (BACKLOG_MS + 1) * p), BACKLOG_MS + 2);
	assert_int_equal(deadline(), d + (BACKLOG_MS + 2) * p);
}

/* Late by more than the backlog: the late periods are dropped. */
static void test_periodic_backlog_dropped(void **state)
{
	const u64 p = TSC_PER_MS;
	u64 d, now;

	(void)state;
	d = arm_periodic(COUNT_1MS, p);
	now = d + (BACKLOG_MS + 1) * p + 1;
	assert_int_equal(deliver_all(now), 1);
	assert_int_equal(deadline(), now + p);

	/* far behind (a guest that did not run for twice that) */
	d = deadline();
	now = d + 2 * BACKLOG_MS * p + p / 3;
	assert_int_equal(deliver_all(now), 1);
	assert_int_equal(deadline(), now + p);
	assert_int_equal(fired(), 2);
	assert_int_equal(cpu0.stats.timer_late_max, 2 * BACKLOG_MS * p + p / 3);

	/* and from there on the new phase */
	d = deadline();
	assert_int_equal(deliver_all(d), 1);
	assert_int_equal(deadline(), d + p);
}

/* The hold is for the timer's own vector, and only while it is unmasked. */
static void test_periodic_hold_rules(void **state)
{
	const u64 p = TSC_PER_MS;
	u64 d;

	(void)state;
	d = arm_periodic(COUNT_1MS, p);
	vlapic_timer_check(&cpu0, d + p);
	vlapic_timer_check(&cpu0, d + p);
	assert_int_equal(deadline(), 0);

	/* another vector's delivery does not release it */
	vlapic_set_irq(&cpu0, OTHER_VEC);
	virq_ack(&cpu0, OTHER_VEC);
	apic_write(REG_EOI, 0);
	assert_int_equal(deadline(), 0);
	vlapic_timer_check(&cpu0, d + p);
	assert_int_equal(fired(), 1);

	/* a new initial count restarts it, unheld */
	d = arm(COUNT_1MS, p);
	assert_int_equal(deadline(), d);
	take(TIMER_VEC);

	/* masked: expiries are counted, nothing is raised, nothing held */
	apic_write(REG_LVT_TIMER, LVT_MASKED | LVT_PERIODIC | TIMER_VEC);
	assert_int_equal(deadline(), d);  /* same mode: still armed */
	vlapic_set_irq(&cpu0, TIMER_VEC); /* the vector pending from elsewhere */
	vlapic_timer_check(&cpu0, d);
	vlapic_timer_check(&cpu0, d + p);
	assert_int_equal(fired(), 3);
	assert_int_equal(deadline(), d + 2 * p);
	take(TIMER_VEC);
	assert_int_equal(pending(), -1);
}

/* --- TSC-deadline mode (SDM 3A 11.5.4.1) ------------------------------------ */

static void test_tsc_deadline(void **state)
{
	const u64 when = 123456789000ULL;

	(void)state;
	/* ignored, and reads 0, in the other modes */
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	assert_int_equal(vlapic_tsc_deadline_write(&cpu0, when), 0);
	assert_int_equal(deadline(), 0);
	assert_int_equal(vlapic_tsc_deadline_read(&cpu0), 0);
	apic_write(REG_LVT_TIMER, LVT_PERIODIC | TIMER_VEC);
	assert_int_equal(vlapic_tsc_deadline_write(&cpu0, when), 0);
	assert_int_equal(deadline(), 0);
	assert_int_equal(vlapic_tsc_deadline_read(&cpu0), 0);

	apic_write(REG_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VEC);
	cpu0.timer_dirty = 0;
	assert_int_equal(vlapic_tsc_deadline_write(&cpu0, when), 0);
	assert_int_equal(cpu0.timer_dirty, 1);
	assert_int_equal(deadline(), when);
	assert_int_equal(vlapic_tsc_deadline_read(&cpu0), when);
	/* the count registers say nothing in this mode */
	assert_int_equal(apic_read(REG_TMCCT), 0);

	vlapic_timer_check(&cpu0, when - 1);
	assert_int_equal(fired(), 0);
	assert_int_equal(pending(), -1);
	vlapic_timer_check(&cpu0, when);
	assert_int_equal(fired(), 1);
	assert_int_equal(pending(), TIMER_VEC);
	/* fired: disarmed, the MSR reads 0 */
	assert_int_equal(deadline(), 0);
	assert_int_equal(vlapic_tsc_deadline_read(&cpu0), 0);
	vlapic_timer_check(&cpu0, when + 1000 * TSC_PER_MS);
	assert_int_equal(fired(), 1);
	take(TIMER_VEC);

	/* a deadline already past fires at the next check */
	vlapic_tsc_deadline_write(&cpu0, 1);
	vlapic_timer_check(&cpu0, when);
	assert_int_equal(fired(), 2);
	take(TIMER_VEC);

	/* writing 0 disarms */
	vlapic_tsc_deadline_write(&cpu0, when);
	vlapic_tsc_deadline_write(&cpu0, 0);
	assert_int_equal(deadline(), 0);
	vlapic_timer_check(&cpu0, ~0ULL);
	assert_int_equal(fired(), 2);

	/* masked: no interrupt */
	apic_write(REG_LVT_TIMER, LVT_MASKED | LVT_TSC_DEADLINE | TIMER_VEC);
	vlapic_tsc_deadline_write(&cpu0, when);
	vlapic_timer_check(&cpu0, when);
	assert_int_equal(fired(), 3);
	assert_int_equal(pending(), -1);
}

/* SDM 3A 11.5.4.1: a transition to or from TSC-deadline mode disarms. */
static void test_mode_switch_tsc_deadline_disarms(void **state)
{
	const u64 when = 123456789000ULL;

	(void)state;
	apic_write(REG_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VEC);
	vlapic_tsc_deadline_write(&cpu0, when);
	/* same mode (masking, another vector): still armed */
	apic_write(REG_LVT_TIMER, LVT_MASKED | LVT_TSC_DEADLINE | TIMER_VEC);
	apic_write(REG_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VEC);
	assert_int_equal(deadline(), when);

	cpu0.timer_dirty = 0;
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	assert_int_equal(cpu0.timer_dirty, 1);
	assert_int_equal(deadline(), 0);
	vlapic_timer_check(&cpu0, when);
	assert_int_equal(fired(), 0);
	/* and back: the old deadline does not come back */
	apic_write(REG_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VEC);
	assert_int_equal(deadline(), 0);
	assert_int_equal(vlapic_tsc_deadline_read(&cpu0), 0);

	/* one-shot -> TSC-deadline: disarmed, the initial count cleared */
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	arm(COUNT_1MS, TSC_PER_MS);
	apic_write(REG_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VEC);
	assert_int_equal(deadline(), 0);
	assert_int_equal(vlapic_tsc_deadline_read(&cpu0), 0);
	assert_int_equal(apic_read(REG_TMICT), 0);

	/* periodic -> TSC-deadline, the same */
	arm_periodic(COUNT_1MS, TSC_PER_MS);
	apic_write(REG_LVT_TIMER, LVT_TSC_DEADLINE | TIMER_VEC);
	assert_int_equal(deadline(), 0);
	assert_int_equal(apic_read(REG_TMICT), 0);
	vlapic_timer_check(&cpu0, ~0ULL);
	assert_int_equal(fired(), 0);
}

/*
 * SDM 3A 11.5.4: between one-shot and periodic the mode changes what the
 * end of the count does, not the count: it runs on, the initial count
 * stays, and the end reloads (periodic) or stops (one-shot).
 */
static void test_mode_switch_oneshot_periodic(void **state)
{
	const u64 p = TSC_PER_MS;
	u64 d;

	(void)state;
	/* one-shot -> periodic while counting: the same end, then reloads */
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	d = arm(COUNT_1MS, p);
	cpu0.timer_dirty = 0;
	apic_write(REG_LVT_TIMER, LVT_PERIODIC | TIMER_VEC);
	assert_int_equal(deadline(), d);
	assert_int_equal(apic_read(REG_TMICT), COUNT_1MS);
	assert_true(apic_read(REG_TMCCT) > 0);
	vlapic_timer_check(&cpu0, d);
	assert_int_equal(fired(), 1);
	assert_int_equal(deadline(), d + p);
	take(TIMER_VEC);
	vlapic_timer_check(&cpu0, d + p);
	assert_int_equal(fired(), 2);
	take(TIMER_VEC);

	/* periodic -> one-shot while counting: this count ends, nothing after */
	d = deadline();
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	assert_int_equal(deadline(), d);
	assert_int_equal(apic_read(REG_TMICT), COUNT_1MS);
	vlapic_timer_check(&cpu0, d);
	assert_int_equal(fired(), 3);
	assert_int_equal(deadline(), 0);
	take(TIMER_VEC);
	vlapic_timer_check(&cpu0, d + 10 * p);
	assert_int_equal(fired(), 3);
	assert_int_equal(apic_read(REG_TMICT), COUNT_1MS);

	/* a count that has ended does not start again with the mode */
	apic_write(REG_LVT_TIMER, LVT_PERIODIC | TIMER_VEC);
	assert_int_equal(deadline(), 0);
	assert_int_equal(apic_read(REG_TMCCT), 0);
	vlapic_timer_check(&cpu0, ~0ULL);
	assert_int_equal(fired(), 3);

	/* periodic, held behind its undelivered expiry -> one-shot: that
	 * expiry ends the count and is not lost */
	d = arm_periodic(COUNT_1MS, p);
	vlapic_timer_check(&cpu0, d);
	vlapic_timer_check(&cpu0, d + p);
	assert_int_equal(deadline(), 0); /* held */
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	assert_int_equal(deadline(), d + p);
	take(TIMER_VEC);
	vlapic_timer_check(&cpu0, d + p);
	assert_int_equal(fired(), 5);
	assert_int_equal(deadline(), 0);
	take(TIMER_VEC);
	assert_int_equal(pending(), -1);
}

/* --- the timer through the x2APIC MSRs (SDM 3A 11.12.1) ------------------- */

static void test_x2apic_timer(void **state)
{
	u64 val, t0, t1, d;
	u32 dummy = 0;

	(void)state;
	assert_int_equal(vlapic_set_mode(&cpu0, VLAPIC_X2APIC), 0);
	/* SDM 3A 11.12.2: no MMIO page in x2APIC mode */
	assert_int_equal(apic_access(REG_TMICT, true, &dummy), -E_NODEV);

	assert_int_equal(vlapic_msr_write(&cpu0, MSR_X2APIC(REG_LVT_TIMER), TIMER_VEC), 0);
	assert_int_equal(vlapic_msr_write(&cpu0, MSR_X2APIC(REG_TDCR), DCR_DIV1), 0);
	t0 = rdtsc();
	assert_int_equal(vlapic_msr_write(&cpu0, MSR_X2APIC(REG_TMICT), COUNT_1MS), 0);
	t1 = rdtsc();
	d = deadline();
	assert_in_range(d - TSC_PER_MS, t0, t1);
	assert_int_equal(vlapic_msr_read(&cpu0, MSR_X2APIC(REG_TMICT), &val), 0);
	assert_int_equal(val, COUNT_1MS);
	assert_int_equal(vlapic_msr_read(&cpu0, MSR_X2APIC(REG_TMCCT), &val), 0);
	assert_true(val <= COUNT_1MS);
	/* the current count is read-only */
	assert_int_equal(vlapic_msr_write(&cpu0, MSR_X2APIC(REG_TMCCT), 5), -E_INVAL);

	vlapic_timer_check(&cpu0, d);
	assert_int_equal(pending(), TIMER_VEC);
	virq_ack(&cpu0, TIMER_VEC);
	/* SDM 3A 11.12.1.2: a non-zero EOI write faults; zero ends it */
	assert_int_equal(vlapic_msr_write(&cpu0, MSR_X2APIC(REG_EOI), 1), -E_INVAL);
	assert_int_equal(vlapic_msr_read(&cpu0, MSR_X2APIC(REG_ISR + 0x70), &val), 0);
	assert_true(val & (1U << (TIMER_VEC % 32)));
	assert_int_equal(vlapic_msr_write(&cpu0, MSR_X2APIC(REG_EOI), 0), 0);
	assert_int_equal(vlapic_msr_read(&cpu0, MSR_X2APIC(REG_ISR + 0x70), &val), 0);
	assert_int_equal(val, 0);
}

/* --- the modes of IA32_APIC_BASE (SDM 3A 11.4.3, 11.12.5) ------------------ */

#define REG_ID 0x020
#define REG_LVT_LINT0 0x350
#define SVR_RESET 0xff
#define APIC_ID_SHIFT 24

/* Figure 11-27: which transitions exist; a refused one changes nothing. */
static void test_mode_transitions(void **state)
{
	static const struct {
		enum vlapic_mode from, to;
		bool legal;
	} t[] = {
		{ VLAPIC_XAPIC, VLAPIC_XAPIC, true },	{ VLAPIC_XAPIC, VLAPIC_X2APIC, true },
		{ VLAPIC_XAPIC, VLAPIC_OFF, true },	{ VLAPIC_X2APIC, VLAPIC_X2APIC, true },
		{ VLAPIC_X2APIC, VLAPIC_XAPIC, false }, { VLAPIC_X2APIC, VLAPIC_OFF, true },
		{ VLAPIC_OFF, VLAPIC_OFF, true },	{ VLAPIC_OFF, VLAPIC_XAPIC, true },
		{ VLAPIC_OFF, VLAPIC_X2APIC, false },
	};

	(void)state;
	assert_int_equal(vlapic_mode(&cpu0), VLAPIC_XAPIC);
	for (size_t i = 0; i < ARRAY_SIZE(t); i++) {
		/* reach "from" the legal way: through disabled to xAPIC first */
		assert_int_equal(vlapic_set_mode(&cpu0, VLAPIC_OFF), 0);
		assert_int_equal(vlapic_set_mode(&cpu0, VLAPIC_XAPIC), 0);
		if (t[i].from != VLAPIC_XAPIC)
			assert_int_equal(vlapic_set_mode(&cpu0, t[i].from), 0);
		assert_int_equal(vlapic_mode(&cpu0), t[i].from);
		assert_int_equal(vlapic_set_mode(&cpu0, t[i].to), t[i].legal ? 0 : -E_INVAL);
		assert_int_equal(vlapic_mode(&cpu0), t[i].legal ? t[i].to : t[i].from);
	}
}

/* Sets up what a running APIC has: enabled, a TPR, a running timer, a
 * vector in the IRR and one in service. Returns the timer's deadline. */
static u64 busy_apic(void)
{
	u64 d;

	apic_write(REG_SVR, SVR_ENABLE | SVR_SPURIOUS);
	apic_write(REG_TPR, 0x20);
	apic_write(REG_LVT_TIMER, LVT_PERIODIC | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	d = arm(COUNT_1MS, TSC_PER_MS);
	vlapic_set_irq(&cpu0, 0x70);
	virq_ack(&cpu0, 0x70);
	vlapic_set_irq(&cpu0, 0x50);
	return d;
}

/* The power-up state (SDM 3A 11.4.7.1), with the APIC's own ID. */
static void expect_reset_state(void)
{
	assert_int_equal(apic_read(REG_ID), 0);
	assert_int_equal(apic_read(REG_SVR), SVR_RESET);
	assert_int_equal(apic_read(REG_TPR), 0);
	assert_int_equal(apic_read(REG_LVT_TIMER), LVT_MASKED);
	assert_int_equal(apic_read(REG_LVT_LINT0), LVT_MASKED);
	assert_int_equal(apic_read(REG_TMICT), 0);
	assert_false(reg_bit(REG_IRR, 0x50));
	assert_false(reg_bit(REG_ISR, 0x70));
	assert_int_equal(deadline(), 0);
}

/*
 * SDM 3A 11.4.3: globally disabled, the APIC is as good as absent: its MMIO
 * page is not there (the access goes to the bus), its MSRs #GP, it takes
 * no interrupt of any kind and its timer does not run; enabled again, it
 * starts from its power-up state.
 */
static void test_globally_disabled(void **state)
{
	u64 d, val;
	u32 dummy = 0;

	(void)state;
	d = busy_apic();
	assert_int_equal(vlapic_set_mode(&cpu0, VLAPIC_OFF), 0);
	assert_int_equal(vlapic_mode(&cpu0), VLAPIC_OFF);
	assert_int_equal(apic_access(REG_TPR, false, &dummy), -E_NODEV);
	assert_int_equal(apic_access(REG_TMICT, true, &dummy), -E_NODEV);
	assert_int_equal(vlapic_msr_read(&cpu0, MSR_X2APIC(REG_TPR), &val), -E_INVAL);
	assert_int_equal(vlapic_msr_write(&cpu0, MSR_X2APIC(REG_TPR), 0), -E_INVAL);
	assert_int_equal(pending(), -1);
	assert_int_equal(deadline(), 0);
	vlapic_timer_check(&cpu0, d + 10 * TSC_PER_MS);
	assert_int_equal(fired(), 0);

	/* nothing reaches it: fixed, lowest priority, NMI, INIT, SIPI, the
	 * timer's TSC deadline */
	kicks = kicked_reqs = 0;
	vlapic_set_irq(&cpu0, 0x60);
	virq_deliver(&test_part.vdevs, 0, false, ICR_MODE_FIXED, 0x61, false);
	virq_deliver(&test_part.vdevs, 0, false, ICR_LOWEST, 0x62, true);
	virq_deliver(&test_part.vdevs, DEST_BROADCAST, false, ICR_NMI, 0, false);
	virq_deliver(&test_part.vdevs, 0, false, ICR_INIT, 0, false);
	virq_deliver(&test_part.vdevs, 0, false, ICR_STARTUP, 0x9, false);
	assert_int_equal(vlapic_tsc_deadline_write(&cpu0, 1), 0);
	vlapic_timer_check(&cpu0, ~0ULL);
	assert_int_equal(kicks, 0);
	assert_int_equal(pending(), -1);
	assert_false(virq_take_nmi(&cpu0));
	assert_false(virq_dest_waiting(&test_part.vdevs, 0, false, 0x61));

	/* enabled again (xAPIC): the power-up state, nothing of the above */
	assert_int_equal(vlapic_set_mode(&cpu0, VLAPIC_XAPIC), 0);
	expect_reset_state();
	assert_int_equal(pending(), -1);
	assert_false(virq_take_nmi(&cpu0));
	apic_write(REG_SVR, SVR_ENABLE | SVR_SPURIOUS);
	vlapic_timer_check(&cpu0, ~0ULL);
	assert_int_equal(fired(), 0);
	assert_int_equal(pending(), -1);
	/* and it works */
	virq_deliver(&test_part.vdevs, 0, false, ICR_MODE_FIXED, 0x61, false);
	assert_int_equal(pending(), 0x61);
	take(0x61);
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	d = arm(COUNT_1MS, TSC_PER_MS);
	vlapic_timer_check(&cpu0, d);
	assert_int_equal(fired(), 1);
	take(TIMER_VEC);
}

/* SDM 3A 11.12.5.1: out of x2APIC mode only through disabled, and then the
 * registers are those of power-up, but for the ID. */
static void test_x2apic_to_xapic_through_disabled(void **state)
{
	u64 val;

	(void)state;
	assert_int_equal(vlapic_set_mode(&cpu0, VLAPIC_X2APIC), 0);
	assert_int_equal(vlapic_msr_write(&cpu0, MSR_X2APIC(REG_TPR), 0x30), 0);
	vlapic_set_irq(&cpu0, 0x80);
	assert_int_equal(vlapic_set_mode(&cpu0, VLAPIC_XAPIC), -E_INVAL);
	assert_int_equal(vlapic_msr_read(&cpu0, MSR_X2APIC(REG_TPR), &val), 0);
	assert_int_equal(val, 0x30);

	assert_int_equal(vlapic_set_mode(&cpu0, VLAPIC_OFF), 0);
	assert_int_equal(vlapic_set_mode(&cpu0, VLAPIC_XAPIC), 0);
	expect_reset_state();
	assert_false(reg_bit(REG_IRR, 0x80));
	assert_int_equal(vlapic_msr_read(&cpu0, MSR_X2APIC(REG_TPR), &val), -E_INVAL);
	/* vCPU 1's APIC keeps its ID across the trip too */
	cpu0.id = 1;
	assert_int_equal(vlapic_set_mode(&cpu0, VLAPIC_OFF), 0);
	assert_int_equal(vlapic_set_mode(&cpu0, VLAPIC_XAPIC), 0);
	assert_int_equal(apic_read(REG_ID), 1U << APIC_ID_SHIFT);
	cpu0.id = 0;
}

/* --- EOI and priority (SDM 3A 11.8) --------------------------------------- */

/* vlapic_waiting: a vector raised and not yet taken, at the APIC named. */
static void test_waiting(void **state)
{
	(void)state;
	assert_false(virq_dest_waiting(&test_part.vdevs, 0, false, 0x30));
	vlapic_set_irq(&cpu0, 0x30);
	assert_true(virq_dest_waiting(&test_part.vdevs, 0, false, 0x30));
	assert_false(virq_dest_waiting(&test_part.vdevs, 0, false, 0x31));
	assert_false(virq_dest_waiting(&test_part.vdevs, 1, false, 0x30)); /* another APIC ID */
	virq_ack(&cpu0, 0x30);
	assert_false(virq_dest_waiting(&test_part.vdevs, 0, false, 0x30));
}

/* An interrupt vCPU 0 takes makes the partition's device timers, which it
 * keeps, look again at its next entry: the PIT raises a held period then. */
static void test_ack_on_vcpu0_looks_at_timers(void **state)
{
	(void)state;
	cpu0.timer_dirty = 0;
	vlapic_set_irq(&cpu0, 0x30);
	assert_int_equal(cpu0.timer_dirty, 0);
	virq_ack(&cpu0, 0x30);
	assert_int_equal(cpu0.timer_dirty, 1);
}

static void test_eoi_clears_highest_in_service(void **state)
{
	(void)state;
	vlapic_set_irq(&cpu0, 0x31);
	assert_int_equal(pending(), 0x31);
	virq_ack(&cpu0, 0x31);
	/* a higher class interrupts the handler (nesting) */
	vlapic_set_irq(&cpu0, 0x62);
	assert_int_equal(pending(), 0x62);
	virq_ack(&cpu0, 0x62);
	assert_true(reg_bit(REG_ISR, 0x31));
	assert_true(reg_bit(REG_ISR, 0x62));
	assert_int_equal(apic_read(REG_PPR), 0x60);

	apic_write(REG_EOI, 0);
	assert_false(reg_bit(REG_ISR, 0x62));
	assert_true(reg_bit(REG_ISR, 0x31));
	assert_int_equal(apic_read(REG_PPR), 0x30);
	apic_write(REG_EOI, 0);
	assert_false(reg_bit(REG_ISR, 0x31));
	assert_int_equal(apic_read(REG_PPR), 0);
	/* an EOI with nothing in service does nothing */
	apic_write(REG_EOI, 0);
	assert_int_equal(apic_read(REG_PPR), 0);
	assert_int_equal(ioapic_eois, 0);
}

static void test_in_service_class_gates(void **state)
{
	(void)state;
	vlapic_set_irq(&cpu0, 0x55);
	virq_ack(&cpu0, 0x55);
	/* SDM 3A 11.8.3: only a higher priority class gets through */
	vlapic_set_irq(&cpu0, 0x5a);
	assert_int_equal(pending(), -1);
	vlapic_set_irq(&cpu0, 0x41);
	assert_int_equal(pending(), -1);
	vlapic_set_irq(&cpu0, 0x60);
	assert_int_equal(pending(), 0x60);
	virq_ack(&cpu0, 0x60);
	apic_write(REG_EOI, 0); /* 0x60 */
	assert_int_equal(pending(), -1);
	apic_write(REG_EOI, 0); /* 0x55 */
	/* then the highest waiting one */
	assert_int_equal(pending(), 0x5a);
	take(0x5a);
	assert_int_equal(pending(), 0x41);
	take(0x41);
	assert_int_equal(pending(), -1);
}

static void test_tpr_gates(void **state)
{
	(void)state;
	apic_write(REG_TPR, 0x45);
	assert_int_equal(apic_read(REG_TPR), 0x45);
	assert_int_equal(apic_read(REG_PPR), 0x45);
	vlapic_set_irq(&cpu0, 0x30);
	vlapic_set_irq(&cpu0, 0x4f);
	assert_int_equal(pending(), -1);
	vlapic_set_irq(&cpu0, 0x50);
	assert_int_equal(pending(), 0x50);
	virq_ack(&cpu0, 0x50);
	/* PPR is the higher of TPR and the in-service class */
	assert_int_equal(apic_read(REG_PPR), 0x50);
	apic_write(REG_EOI, 0);
	assert_int_equal(apic_read(REG_PPR), 0x45);
	assert_int_equal(pending(), -1);

	/* the timer's vector obeys the same rule */
	apic_write(REG_TPR, 0xf0);
	apic_write(REG_LVT_TIMER, LVT_ONESHOT | TIMER_VEC);
	apic_write(REG_TDCR, DCR_DIV1);
	vlapic_timer_check(&cpu0, arm(COUNT_1MS, TSC_PER_MS));
	assert_true(reg_bit(REG_IRR, TIMER_VEC));
	assert_int_equal(pending(), -1);
	apic_write(REG_TPR, 0);
	assert_int_equal(pending(), TIMER_VEC);
	/* lowering TPR releases the rest, highest first */
	take(TIMER_VEC);
	assert_int_equal(pending(), 0x4f);
	take(0x4f);
	assert_int_equal(pending(), 0x30);
	take(0x30);
}

/* SDM 3A 11.4.7.2: a software-disabled APIC offers nothing. */
static void test_software_disabled(void **state)
{
	(void)state;
	apic_write(REG_SVR, SVR_SPURIOUS);
	vlapic_set_irq(&cpu0, 0x80);
	assert_int_equal(pending(), -1);
	apic_write(REG_SVR, SVR_ENABLE | SVR_SPURIOUS);
	assert_int_equal(pending(), 0x80);
}

/* SDM 3A 11.8.4: a level-triggered interrupt's EOI goes on to the I/O APIC. */
static void test_level_eoi_to_ioapic(void **state)
{
	(void)state;
	virq_deliver(&test_part.vdevs, 0, false, ICR_MODE_FIXED, 0x70, true);
	take(0x70);
	assert_int_equal(ioapic_eois, 1);
	assert_int_equal(ioapic_eoi_vector, 0x70);
	/* the TMR remembers the last acceptance: edge now */
	virq_deliver(&test_part.vdevs, 0, false, ICR_MODE_FIXED, 0x70, false);
	virq_ack(&cpu0, 0x70);
	assert_false(reg_bit(REG_TMR, 0x70));
	apic_write(REG_EOI, 0);
	assert_int_equal(ioapic_eois, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oneshot_fires_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oneshot_late_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oneshot_rate_scaling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oneshot_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oneshot_restart_and_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_current_count_reads_down, setup, teardown),
		cmocka_unit_test_setup_teardown(test_divide_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_keeps_phase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_min_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_catch_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_backlog_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_backlog_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_periodic_hold_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tsc_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_switch_tsc_deadline_disarms, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mode_switch_oneshot_periodic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_x2apic_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_globally_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_x2apic_to_xapic_through_disabled, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_on_vcpu0_looks_at_timers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eoi_clears_highest_in_service, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_in_service_class_gates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tpr_gates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_software_disabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_eoi_to_ioapic, setup, teardown),
	};

	return cmocka_run_group_tests_name("vdev_lapic", tests, NULL, NULL);
}
