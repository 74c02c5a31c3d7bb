/*
 * The 8254 PIT model (hv/vdev/vpit.c) against a fake clock, with values
 * from the Intel 8254 data sheet ("Modes of operation", "Read operations",
 * "Read-back command") for what guests use: channel 0 in mode 2 (Linux's
 * periodic tick) and mode 3 (the BIOS's square wave) and the IRQ 0 each
 * period raises, mode 0 (interrupt on terminal count), the counter latch
 * and read-back commands, byte and word access, channel 2 behind port 0x61
 * as Linux calibrates the TSC with it, and the late IRQ 0 periods that are
 * raised late, or dropped beyond VIRQ_LATE_TICKS_MS of backlog.
 *
 * The clock runs at exactly 1000 units per PIT tick (1.193182 GHz), so
 * "at(e)" is the moment e ticks after the count was written. The model
 * loads a count at the write (the chip on the next CLK edge: every value
 * below counts CLK pulses from there).
 */
#include "hv/vdev/platform.h"
#include "hv/vdev/virq.h"
#include "hv/vdev/vpit.h"
#include "tests/unit/test_vdev_fakes.h"

#define TICK 1000ULL /* clock units per PIT tick */
#define CLOCK_HZ (VPIT_HZ * TICK)
#define T0 7000000ULL /* when each test writes its first count */

#define CH0 0x40
#define CH2 0x42
#define CTRL 0x43
#define PORTB 0x61

/* Control word (8254 data sheet, "Control word format"): SC1 SC0 RW1 RW0
 * M2 M1 M0 BCD */
#define SC(ch) ((u8)((ch) << 6))
#define RW_LATCH (0U << 4)
#define RW_LSB (1U << 4)
#define RW_MSB (2U << 4)
#define RW_WORD (3U << 4)
#define MODE(m) ((u8)((m) << 1))
/* Read-back command: 11, !COUNT, !STATUS, CNT2, CNT1, CNT0, 0 */
#define READBACK 0xc0
#define RB_NO_COUNT (1U << 5)
#define RB_NO_STATUS (1U << 4)
#define RB_CH(ch) ((u8)(2U << (ch)))
/* Status byte: OUTPUT, NULL COUNT, then the control word's bits 5:0 */
#define ST_OUT 0x80
#define ST_NULL 0x40
/* Port 0x61 (PC/AT system control port B) */
#define B_GATE2 0x01
#define B_SPEAKER 0x02
#define B_REFRESH 0x10
#define B_OUT2 0x20

/* What guests write: Linux's periodic tick (HZ = 250, Debian's: LATCH =
 * (1193182 + 125) / 250) and its TSC calibration (10 ms on channel 2). */
#define LINUX_TICK 0x34 /* channel 0, word, mode 2, binary */
#define LINUX_LATCH 4773
#define LINUX_CAL 0xb0	      /* channel 2, word, mode 0, binary */
#define LINUX_CAL_LATCH 11931 /* 1193182 / 100 */
#define BIOS_TICK 0x36	      /* channel 0, word, mode 3 */

/* --- fakes ---------------------------------------------------------------- */

static u64 fake_now;
static u32 pulses;
static bool irq_waiting; /* the last IRQ 0 not yet taken */
static u32 kicks;
static struct vcpu cpu0;

static u64 fake_clock(void)
{
	return fake_now;
}

void virq_pulse(struct vdev_registry *reg, u32 gsi)
{
	assert_ptr_equal(reg, &test_part.vdevs);
	assert_int_equal(gsi, PLAT_GSI_TIMER);
	pulses++;
}

bool virq_waiting(struct vdev_registry *reg, u32 gsi)
{
	assert_ptr_equal(reg, &test_part.vdevs);
	assert_int_equal(gsi, PLAT_GSI_TIMER);
	return irq_waiting;
}

static void fake_kick(struct vcpu *v, u32 req)
{
	assert_ptr_equal(v, &cpu0);
	assert_int_equal(req, 0);
	kicks++;
}

/* --- the PIT ---------------------------------------------------------------- */

static struct vpit *pit;

static void fake_host_clock(struct vclock *clk)
{
	*clk = (struct vclock){ fake_clock, CLOCK_HZ };
}

static int setup(void **state)
{
	(void)state;
	part_init(1);
	memset(&cpu0, 0, sizeof(cpu0));
	test_part.vcpus[0] = &cpu0;
	fake_host.kick = fake_kick;
	fake_host.clock = fake_host_clock;
	pulses = kicks = 0;
	irq_waiting = false;
	fake_now = 1000;
	pit = create_device(&vpit_type);
	assert_non_null(pit);
	return 0;
}

static u64 clock_at(u64 ticks)
{
	return T0 + ticks * TICK;
}

/* e PIT ticks after T0 (plus a part of a tick: still tick e) */
static void at(u64 e)
{
	fake_now = clock_at(e) + TICK / 2;
}

static void port_out(u16 port, u8 val)
{
	io_out(port, 1, val);
}

static u8 port_in(u16 port)
{
	return (u8)io_in(port, 1);
}

/* A control word and a full count, both at T0. */
static void program(u16 port, u8 control, u32 count)
{
	fake_now = T0;
	port_out(CTRL, control);
	if ((control & RW_WORD) != RW_MSB)
		port_out(port, (u8)count);
	if ((control & RW_WORD) != RW_LSB)
		port_out(port, (u8)(count >> 8));
}

/* Reads the count with two byte reads (word access): LSB, then MSB. */
static u16 read_word(u16 port)
{
	u8 lsb = port_in(port);

	return (u16)(lsb | port_in(port) << 8);
}

static u8 status(u32 ch)
{
	port_out(CTRL, READBACK | RB_NO_COUNT | RB_CH(ch));
	return port_in(CH0 + (u16)ch);
}

static bool out0(void)
{
	return status(0) & ST_OUT;
}

/* The timer at clock now: how many IRQs 0 it raised, and its deadline. */
static u32 check(u64 now, u64 *next)
{
	u32 before = pulses;

	*next = vpit_type.timer(pit, now);
	return pulses - before;
}

/* The vCPU loop at clock now: the timer again while something is due
 * (each IRQ 0 taken at once); how many it raised, and the next deadline. */
static u32 catch_up(u64 now, u64 *next)
{
	u32 n = 0;

	for (u32 i = 0; i < 2 * VIRQ_LATE_TICKS_MS + 100; i++) {
		n += check(now, next);
		if (!*next || *next > now)
			return n;
	}
	fail_msg("the timer keeps finding something due");
	return n;
}

/* --- mode 2: rate generator (Linux's periodic tick) ------------------------ */

static void test_mode2_counts_and_out(void **state)
{
	static const struct {
		u64 e;
		u16 count;
		bool out;
	} seq[] = {
		/* N, N-1, ..., 1 (OUT low for that one CLK), then N again */
		{ 0, LINUX_LATCH, true },
		{ 1, LINUX_LATCH - 1, true },
		{ 1000, LINUX_LATCH - 1000, true },
		{ LINUX_LATCH - 2, 2, true },
		{ LINUX_LATCH - 1, 1, false },
		{ LINUX_LATCH, LINUX_LATCH, true },
		{ LINUX_LATCH + 1, LINUX_LATCH - 1, true },
		{ 7 * LINUX_LATCH - 1, 1, false },
		{ 7 * LINUX_LATCH + 300, LINUX_LATCH - 300, true },
	};

	(void)state;
	program(CH0, LINUX_TICK, LINUX_LATCH);
	for (u32 i = 0; i < ARRAY_SIZE(seq); i++) {
		at(seq[i].e);
		assert_int_equal(read_word(CH0), seq[i].count);
		assert_int_equal(out0(), seq[i].out);
	}
}

static void test_mode2_irq0_each_period(void **state)
{
	u64 next;

	(void)state;
	fake_now = T0;
	port_out(CTRL, LINUX_TICK);
	/* a new count: the vCPU that keeps the partition's timers looks again */
	kicks = 0;
	cpu0.timer_dirty = 0;
	port_out(CH0, (u8)LINUX_LATCH);
	port_out(CH0, (u8)(LINUX_LATCH >> 8));
	assert_true(kicks > 0);
	assert_int_equal(cpu0.timer_dirty, 1);
	/* OUT rises (IRQ 0, an edge) at the end of each period: N, 2N, ... */
	assert_int_equal(check(clock_at(0), &next), 0);
	assert_int_equal(next, clock_at(LINUX_LATCH));
	assert_int_equal(check(clock_at(LINUX_LATCH) - 1, &next), 0);
	assert_int_equal(next, clock_at(LINUX_LATCH));
	assert_int_equal(check(clock_at(LINUX_LATCH), &next), 1);
	assert_int_equal(next, clock_at(2 * LINUX_LATCH));
	assert_int_equal(check(clock_at(LINUX_LATCH) + 10, &next), 0);
	assert_int_equal(check(clock_at(2 * LINUX_LATCH), &next), 1);
	assert_int_equal(next, clock_at(3 * LINUX_LATCH));

	/* a new control word stops it; counting restarts with the next count */
	at(3 * LINUX_LATCH - 5);
	port_out(CTRL, LINUX_TICK);
	assert_int_equal(check(clock_at(3 * LINUX_LATCH), &next), 0);
	assert_int_equal(next, 0);
	port_out(CH0, 100);
	port_out(CH0, 0);
	assert_int_equal(check(fake_now + 100 * TICK - 1, &next), 0);
	assert_int_equal(check(fake_now + 100 * TICK, &next), 1);
}

/* --- mode 3: square wave (the BIOS's 18.2 Hz tick) ------------------------ */

static void test_mode3_square_wave(void **state)
{
	/* even N: OUT high N/2 and low N/2 CLKs; the count goes down by 2
	 * from N to 2 in each half */
	static const struct {
		u64 e;
		u16 count;
		bool out;
	} even[] = {
		{ 0, 1000, true },     { 1, 998, true },     { 250, 500, true },
		{ 499, 2, true },      { 500, 1000, false }, { 501, 998, false },
		{ 999, 2, false },     { 1000, 1000, true }, { 1499, 2, true },
		{ 1500, 1000, false },
	};
	u64 next;

	(void)state;
	program(CH0, BIOS_TICK, 1000);
	for (u32 i = 0; i < ARRAY_SIZE(even); i++) {
		at(even[i].e);
		assert_int_equal(read_word(CH0), even[i].count);
		assert_int_equal(out0(), even[i].out);
	}
	/* IRQ 0 on each rising edge: every N CLKs */
	assert_int_equal(check(clock_at(1000) - 1, &next), 0);
	assert_int_equal(check(clock_at(1000), &next), 1);
	assert_int_equal(next, clock_at(2000));

	/* odd N: high (N + 1) / 2, low (N - 1) / 2 */
	program(CH0, BIOS_TICK, 1001);
	at(500);
	assert_true(out0());
	at(501);
	assert_false(out0());
	at(1000);
	assert_false(out0());
	at(1001);
	assert_true(out0());
	assert_int_equal(check(clock_at(1001), &next), 1);
	assert_int_equal(next, clock_at(2002));

	/* count 0 is 65536: the BIOS's 18.2 Hz */
	program(CH0, BIOS_TICK, 0);
	at(1);
	assert_int_equal(read_word(CH0), 0xfffe);
	at(32767);
	assert_true(out0());
	at(32768);
	assert_false(out0());
	assert_int_equal(check(clock_at(0x10000) - 1, &next), 0);
	assert_int_equal(next, clock_at(0x10000));
	assert_int_equal(check(clock_at(0x10000), &next), 1);
	assert_int_equal(next, clock_at(0x20000));
}

/* --- mode 0: interrupt on terminal count --------------------------------- */

static void test_mode0_one_shot(void **state)
{
	u64 next, start;

	(void)state;
	fake_now = T0;
	/* the control word sets OUT low; no count yet */
	port_out(CTRL, SC(0) | RW_WORD | MODE(0));
	assert_int_equal(status(0), ST_NULL | RW_WORD | MODE(0));
	/* the first byte of the count does not load it */
	port_out(CH0, (u8)LINUX_CAL_LATCH);
	assert_int_equal(status(0), ST_NULL | RW_WORD | MODE(0));
	port_out(CH0, (u8)(LINUX_CAL_LATCH >> 8));
	assert_int_equal(status(0), RW_WORD | MODE(0));

	/* N, ..., 1, then 0 with OUT high; the count goes on through 0xffff
	 * and OUT stays high until a new count or control word */
	at(1);
	assert_int_equal(read_word(CH0), LINUX_CAL_LATCH - 1);
	at(LINUX_CAL_LATCH - 1);
	assert_int_equal(read_word(CH0), 1);
	assert_false(out0());
	at(LINUX_CAL_LATCH);
	assert_int_equal(read_word(CH0), 0);
	assert_true(out0());
	at(LINUX_CAL_LATCH + 1);
	assert_int_equal(read_word(CH0), 0xffff);
	at(LINUX_CAL_LATCH + 0x10000);
	assert_int_equal(read_word(CH0), 0);
	assert_true(out0());

	/* a new count: its first byte stops the counter, OUT low at once;
	 * the second loads it */
	port_out(CH0, (u8)LINUX_CAL_LATCH);
	assert_false(out0());
	start = fake_now;
	port_out(CH0, (u8)(LINUX_CAL_LATCH >> 8));
	fake_now = start + 5 * TICK;
	assert_int_equal(read_word(CH0), LINUX_CAL_LATCH - 5);

	/* one IRQ 0, when OUT rises */
	assert_int_equal(check(start + LINUX_CAL_LATCH * TICK - 1, &next), 0);
	assert_int_equal(next, start + LINUX_CAL_LATCH * TICK);
	assert_int_equal(check(start + LINUX_CAL_LATCH * TICK, &next), 1);
	assert_int_equal(next, 0);
	assert_int_equal(check(start + 2 * LINUX_CAL_LATCH * TICK, &next), 0);
	assert_int_equal(next, 0);

	/* a new count starts it again, OUT low */
	fake_now = start + 20000 * TICK;
	port_out(CH0, 100);
	port_out(CH0, 0);
	assert_false(out0());
	assert_int_equal(check(fake_now + 100 * TICK, &next), 1);
	assert_int_equal(next, 0);
}

/* --- reading: latch, read-back, byte access ------------------------------- */

static void test_latch_command(void **state)
{
	(void)state;
	program(CH0, LINUX_TICK, LINUX_LATCH);
	/* the count at the latch command, however late it is read */
	at(100);
	port_out(CTRL, SC(0) | RW_LATCH);
	at(300);
	port_out(CTRL, SC(0) | RW_LATCH); /* latched and not read yet: ignored */
	at(500);
	assert_int_equal(port_in(CH0), (LINUX_LATCH - 100) & 0xff);
	at(600);
	assert_int_equal(port_in(CH0), (LINUX_LATCH - 100) >> 8);
	/* read out: the counter again, live */
	at(700);
	assert_int_equal(read_word(CH0), LINUX_LATCH - 700);
	/* unlatched, each byte is the count at its own read */
	at(0x400);
	assert_int_equal(port_in(CH0), (LINUX_LATCH - 0x400) & 0xff);
	at(0x600);
	assert_int_equal(port_in(CH0), (LINUX_LATCH - 0x600) >> 8);
}

static void test_readback_command(void **state)
{
	(void)state;
	/* after the control word: OUT high in mode 2, count not loaded */
	fake_now = T0;
	port_out(CTRL, LINUX_TICK);
	assert_int_equal(status(0), ST_OUT | ST_NULL | LINUX_TICK);
	port_out(CH0, (u8)LINUX_LATCH);
	port_out(CH0, (u8)(LINUX_LATCH >> 8));

	/* count and status: the status first, then the count */
	at(900);
	port_out(CTRL, READBACK | RB_CH(0));
	at(1000);
	assert_int_equal(port_in(CH0), ST_OUT | LINUX_TICK);
	assert_int_equal(read_word(CH0), LINUX_LATCH - 900);
	/* the count only */
	at(1100);
	port_out(CTRL, READBACK | RB_NO_STATUS | RB_CH(0));
	at(1200);
	assert_int_equal(read_word(CH0), LINUX_LATCH - 1100);
	/* the status only, with OUT low (count 1); then the live count */
	at(LINUX_LATCH - 1);
	assert_int_equal(status(0), LINUX_TICK);
	assert_int_equal(read_word(CH0), 1);
	/* a second read-back before the first is read is ignored (the first
	 * saw OUT low, count 1) */
	at(2 * LINUX_LATCH - 1);
	port_out(CTRL, READBACK | RB_CH(0));
	at(2 * LINUX_LATCH + 7);
	port_out(CTRL, READBACK | RB_CH(0));
	assert_int_equal(port_in(CH0), LINUX_TICK);
	assert_int_equal(read_word(CH0), 1);
	/* a latched count and a later status: the status is read first */
	at(2 * LINUX_LATCH + 60);
	port_out(CTRL, SC(0) | RW_LATCH);
	at(2 * LINUX_LATCH + 70);
	port_out(CTRL, READBACK | RB_NO_COUNT | RB_CH(0));
	assert_int_equal(port_in(CH0), ST_OUT | LINUX_TICK);
	assert_int_equal(read_word(CH0), LINUX_LATCH - 60);

	/* one command for two counters */
	program(CH2, LINUX_CAL, 5000); /* gate low: not counting */
	at(10);
	port_out(CTRL, READBACK | RB_CH(0) | RB_CH(2));
	at(20);
	assert_int_equal(port_in(CH0), ST_OUT | LINUX_TICK);
	assert_int_equal(read_word(CH0), LINUX_LATCH - 10);
	assert_int_equal(port_in(CH2), LINUX_CAL & 0x3f);
	assert_int_equal(read_word(CH2), 5000);
}

static void test_byte_access(void **state)
{
	(void)state;
	/* LSB only: the MSB is 0, and every read is the LSB */
	program(CH0, SC(0) | RW_LSB | MODE(2), 0x80);
	at(0);
	assert_int_equal(port_in(CH0), 0x80);
	at(1);
	assert_int_equal(port_in(CH0), 0x7f);
	assert_int_equal(port_in(CH0), 0x7f);
	at(0x80 + 3);
	assert_int_equal(port_in(CH0), 0x7d);
	/* MSB only: the LSB is 0, and every read is the MSB */
	program(CH0, SC(0) | RW_MSB | MODE(2), 0x200);
	at(0);
	assert_int_equal(port_in(CH0), 0x02);
	at(1);
	assert_int_equal(port_in(CH0), 0x01);
	at(0x100);
	assert_int_equal(port_in(CH0), 0x01);
	at(0x101);
	assert_int_equal(port_in(CH0), 0x00);
	assert_int_equal(port_in(CH0), 0x00);
	/* word: LSB then MSB, in turn */
	program(CH0, LINUX_TICK, 0x1234);
	at(0x34);
	assert_int_equal(port_in(CH0), 0x00);
	assert_int_equal(port_in(CH0), 0x12);
	assert_int_equal(port_in(CH0), 0x00);
	assert_int_equal(port_in(CH0), 0x12);
	/* the control word register is write-only */
	assert_int_equal(port_in(CTRL), 0xff);
}

/* --- channel 2 and port 0x61, as Linux calibrates the TSC ----------------- */

static void test_channel2_calibration(void **state)
{
	u8 b;

	(void)state;
	/* pit_calibrate_tsc: gate high, speaker off; mode 0, 10 ms; wait
	 * for OUT2 in port 0x61 */
	fake_now = T0;
	port_out(PORTB, (u8)((port_in(PORTB) & ~B_SPEAKER) | B_GATE2));
	assert_int_equal(port_in(PORTB) & 0x0f, B_GATE2);
	program(CH2, LINUX_CAL, LINUX_CAL_LATCH);
	at(1);
	assert_false(port_in(PORTB) & B_OUT2);
	at(LINUX_CAL_LATCH - 1);
	assert_false(port_in(PORTB) & B_OUT2);
	at(LINUX_CAL_LATCH);
	assert_true(port_in(PORTB) & B_OUT2);
	at(3 * LINUX_CAL_LATCH);
	assert_true(port_in(PORTB) & B_OUT2);
	/* channel 2 raises nothing */
	assert_int_equal(pulses, 0);

	/* quick_pit_calibrate: count down from 0xffff, reading the MSB */
	program(CH2, LINUX_CAL, 0xffff);
	at(0x100);
	assert_int_equal(port_in(CH2), 0xff);
	assert_int_equal(port_in(CH2), 0xfe);
	at(0x1234);
	assert_int_equal(read_word(CH2), 0xffff - 0x1234);

	/* gate low: channel 2 holds; raised, it counts from the count */
	fake_now = T0;
	port_out(PORTB, 0);
	program(CH2, LINUX_CAL, 1000);
	at(500);
	assert_int_equal(read_word(CH2), 1000);
	at(2000);
	assert_false(port_in(PORTB) & B_OUT2);
	port_out(PORTB, B_GATE2);
	at(2400);
	assert_int_equal(read_word(CH2), 600);
	at(2999);
	assert_false(port_in(PORTB) & B_OUT2);
	at(3000);
	assert_true(port_in(PORTB) & B_OUT2);

	/* bits 3:0 read back as written; bit 4 toggles about every 15 us
	 * (the PC/AT refresh request), bits 7:6 read 0 */
	port_out(PORTB, 0x0f);
	b = port_in(PORTB);
	assert_int_equal(b & 0x0f, 0x0f);
	assert_int_equal(b & 0xc0, 0);
	fake_now = 0;
	assert_false(port_in(PORTB) & B_REFRESH);
	fake_now = CLOCK_HZ * 155 / 10000000; /* 15.5 us */
	assert_true(port_in(PORTB) & B_REFRESH);
	fake_now = CLOCK_HZ * 305 / 10000000;
	assert_false(port_in(PORTB) & B_REFRESH);
	port_out(PORTB, 0xff);
	assert_int_equal(port_in(PORTB) & 0xcf, 0x0f);
}

/* --- late periods ----------------------------------------------------------- */

static void test_late_periods_are_raised_late(void **state)
{
	const u64 n = LINUX_LATCH;
	u64 next;

	(void)state;
	program(CH0, LINUX_TICK, (u32)n);
	/* the vCPU did not run for 20.5 periods: each is raised, in turn */
	assert_int_equal(catch_up(clock_at(20 * n + n / 2), &next), 20);
	assert_int_equal(next, clock_at(21 * n));
	/* then in phase again */
	assert_int_equal(catch_up(clock_at(21 * n), &next), 1);
	assert_int_equal(next, clock_at(22 * n));

	/* a period whose IRQ 0 the guest has not taken yet waits for it
	 * (looked at again a quarter period later) */
	irq_waiting = true;
	assert_int_equal(check(clock_at(22 * n), &next), 0);
	assert_int_equal(next, clock_at(22 * n) + n * TICK / 4);
	irq_waiting = false;
	assert_int_equal(check(next, &next), 1);
	assert_int_equal(next, clock_at(23 * n));
}

static void test_backlog_limit(void **state)
{
	/* periods of about 1 ms: VIRQ_LATE_TICKS_MS of them, the backlog kept
	 * at most */
	const u64 n = 1193, late = VIRQ_LATE_TICKS_MS * VPIT_HZ / 1000;
	const u64 k = late / n;
	u64 next;

	(void)state;
	/* up to VIRQ_LATE_TICKS_MS behind the period raised: every one */
	program(CH0, LINUX_TICK, (u32)n);
	assert_true(k * n + n / 2 - n <= late);
	assert_int_equal(catch_up(clock_at(k * n + n / 2), &next), k);
	assert_int_equal(next, clock_at((k + 1) * n));

	/* further behind: that one, and the next is the next to come */
	program(CH0, LINUX_TICK, (u32)n);
	assert_true((k + 1) * n + n / 2 - n > late);
	assert_int_equal(catch_up(clock_at((k + 1) * n + n / 2), &next), 1);
	assert_int_equal(next, clock_at((k + 2) * n));
	assert_int_equal(catch_up(clock_at((k + 2) * n), &next), 1);
	assert_int_equal(next, clock_at((k + 3) * n));
}

static void test_reset(void **state)
{
	u64 next;

	(void)state;
	program(CH0, LINUX_TICK, LINUX_LATCH);
	port_out(PORTB, B_GATE2 | B_SPEAKER);
	vpit_type.reset(pit);
	assert_int_equal(check(clock_at(LINUX_LATCH), &next), 0);
	assert_int_equal(next, 0);
	assert_int_equal(port_in(PORTB) & 0x0f, 0);
	/* and it works as before */
	program(CH0, LINUX_TICK, LINUX_LATCH);
	assert_int_equal(check(clock_at(LINUX_LATCH), &next), 1);
	assert_int_equal(next, clock_at(2 * LINUX_LATCH));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mode2_counts_and_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode2_irq0_each_period, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode3_square_wave, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode0_one_shot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latch_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readback_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_byte_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channel2_calibration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_periods_are_raised_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backlog_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	};

	return cmocka_run_group_tests_name("vdev_pit", tests, NULL, NULL);
}
