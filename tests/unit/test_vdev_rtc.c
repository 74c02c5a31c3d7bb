/*
 * The RTC: calendar arithmetic and the host-clock reading protocol
 * (drivers/rtc.c, against a fake CMOS), and the partition's MC146818A
 * model (hv/vdev/vrtc.c, against a fake clock): BCD/binary and 12/24-hour
 * formats, UIP and Linux's read loop, setting the time, flags, IRQ 8 and
 * its deadlines.
 */
#include "drivers/rtc.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/virq.h"
#include "hv/vdev/vpmtimer.h"
#include "hv/vdev/vrtc.h"
#include "tests/unit/test_vdev_fakes.h"

#define HZ 1000000000ULL /* the fake clock counts nanoseconds */
#define US 1000ULL
#define SEC HZ

/* --- fakes ---------------------------------------------------------------- */

static u64 fake_tsc, fake_step; /* each read advances the clock by fake_step */

static u64 fake_clock(void)
{
	u64 now = fake_tsc;

	fake_tsc += fake_step;
	return now;
}

static int pulses;

void virq_pulse(struct vdev_registry *reg, u32 gsi)
{
	assert_ptr_equal(reg, &test_part.vdevs);
	assert_int_equal(gsi, PLAT_IRQ_RTC);
	pulses++;
}

/* --- calendar --------------------------------------------------------------- */

static void test_bcd(void **state)
{
	(void)state;
	for (u8 v = 0; v < 100; v++) {
		assert_int_equal(rtc_bin_to_bcd(v), (v / 10) << 4 | v % 10);
		assert_int_equal(rtc_bcd_to_bin(rtc_bin_to_bcd(v)), v);
	}
	assert_int_equal(rtc_bcd_to_bin(0x59), 59);
}

struct known {
	u64 secs;
	struct rtc_date d;
};

static void test_known_dates(void **state)
{
	static const struct known k[] = {
		{ 0, { 1970, 1, 1, 0, 0, 0, 4 } },
		{ 951782400, { 2000, 2, 29, 0, 0, 0, 2 } },
		{ 951868800, { 2000, 3, 1, 0, 0, 0, 3 } },
		{ 1709251199, { 2024, 2, 29, 23, 59, 59, 4 } },
		{ 1709251200, { 2024, 3, 1, 0, 0, 0, 5 } },
		{ 2147483647, { 2038, 1, 19, 3, 14, 7, 2 } },
		{ 4102444800, { 2100, 1, 1, 0, 0, 0, 5 } },
		{ 4107542400, { 2100, 3, 1, 0, 0, 0, 1 } }, /* 2100 is no leap year */
	};
	struct rtc_date d;

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(k); i++) {
		rtc_epoch_to_date(k[i].secs, &d);
		assert_memory_equal(&d, &k[i].d, sizeof(d));
		assert_true(rtc_date_valid(&d));
		assert_int_equal(rtc_date_to_epoch(&d), k[i].secs);
	}
	/* far beyond the last year: saturates */
	rtc_epoch_to_date(~0ULL, &d);
	assert_int_equal(d.year, RTC_MAX_YEAR);
	assert_int_equal(d.month, 12);
	assert_int_equal(d.day, 31);
	assert_int_equal(d.sec, 59);
}

static void test_round_trip(void **state)
{
	struct rtc_date end = { RTC_MAX_YEAR, 12, 31, 23, 59, 59, 0 }, d;
	u64 last = rtc_date_to_epoch(&end);

	(void)state;
	for (u64 s = 0; s <= last; s += 86399ULL * 37 + 11) {
		rtc_epoch_to_date(s, &d);
		assert_true(rtc_date_valid(&d));
		assert_int_equal(rtc_date_to_epoch(&d), s);
		assert_int_equal(d.wday, (s / 86400 + 4) % 7);
	}
}

static void test_validity(void **state)
{
	static const struct rtc_date bad[] = {
		{ 2023, 2, 29, 0, 0, 0, 0 }, { 2100, 2, 29, 0, 0, 0, 0 },
		{ 2024, 0, 1, 0, 0, 0, 0 },  { 2024, 13, 1, 0, 0, 0, 0 },
		{ 2024, 4, 31, 0, 0, 0, 0 }, { 2024, 1, 0, 0, 0, 0, 0 },
		{ 2024, 1, 1, 24, 0, 0, 0 }, { 2024, 1, 1, 0, 60, 0, 0 },
		{ 2024, 1, 1, 0, 0, 60, 0 }, { 1969, 12, 31, 0, 0, 0, 0 },
		{ 2400, 1, 1, 0, 0, 0, 0 },
	};
	struct rtc_date good = { 2000, 2, 29, 23, 59, 59, 0 };

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(bad); i++)
		assert_false(rtc_date_valid(&bad[i]));
	assert_true(rtc_date_valid(&good));
}

/* --- reading a host clock --------------------------------------------------- */

struct fake_cmos {
	u8 reg[128];
	int uip_reads;	/* A reads with UIP set still to come (-1: forever) */
	int tick_after; /* seconds reads before the clock ticks once (0: never) */
	int sec_reads;
};

static u8 cmos_read(void *ctx, u8 reg)
{
	struct fake_cmos *c = ctx;

	if (reg == RTC_REG_A) {
		if (c->uip_reads) {
			if (c->uip_reads > 0)
				c->uip_reads--;
			return RTC_A_UIP | 0x26;
		}
		return 0x26;
	}
	if (reg == RTC_REG_SEC && c->tick_after && ++c->sec_reads == c->tick_after)
		c->reg[RTC_REG_SEC]++;
	return c->reg[reg];
}

static void set_cmos(struct fake_cmos *c, u8 b, u8 sec, u8 min, u8 hour, u8 day, u8 month, u8 year,
		     u8 cent)
{
	memset(c, 0, sizeof(*c));
	c->reg[RTC_REG_B] = b;
	c->reg[RTC_REG_SEC] = sec;
	c->reg[RTC_REG_MIN] = min;
	c->reg[RTC_REG_HOUR] = hour;
	c->reg[RTC_REG_MDAY] = day;
	c->reg[RTC_REG_MONTH] = month;
	c->reg[RTC_REG_YEAR] = year;
	c->reg[RTC_REG_CENTURY] = cent;
}

static void expect_date(const struct rtc_date *d, u16 y, u8 mo, u8 day, u8 h, u8 mi, u8 s)
{
	assert_int_equal(d->year, y);
	assert_int_equal(d->month, mo);
	assert_int_equal(d->day, day);
	assert_int_equal(d->hour, h);
	assert_int_equal(d->min, mi);
	assert_int_equal(d->sec, s);
}

static void test_read_formats(void **state)
{
	struct fake_cmos c;
	struct rtc_date d;

	(void)state;
	/* BCD, 24-hour, century register */
	set_cmos(&c, RTC_B_24H, 0x56, 0x34, 0x12, 0x15, 0x06, 0x30, 0x20);
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), 0);
	expect_date(&d, 2030, 6, 15, 12, 34, 56);
	assert_int_equal(d.wday, 6);
	/* binary, 12-hour: 11 PM, 12 AM, 12 PM, 1 AM */
	set_cmos(&c, RTC_B_BINARY, 59, 59, RTC_HOUR_PM | 11, 31, 12, 99, 19);
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), 0);
	expect_date(&d, 1999, 12, 31, 23, 59, 59);
	c.reg[RTC_REG_HOUR] = 12;
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), 0);
	assert_int_equal(d.hour, 0);
	c.reg[RTC_REG_HOUR] = RTC_HOUR_PM | 12;
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), 0);
	assert_int_equal(d.hour, 12);
	c.reg[RTC_REG_HOUR] = 1;
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), 0);
	assert_int_equal(d.hour, 1);
	/* BCD, 12-hour */
	set_cmos(&c, 0, 0x00, 0x00, RTC_HOUR_PM | 0x12, 0x01, 0x01, 0x24, 0x20);
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), 0);
	expect_date(&d, 2024, 1, 1, 12, 0, 0);
	/* 0 or 13 is no hour in 12-hour mode */
	c.reg[RTC_REG_HOUR] = 0x00;
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), -E_INVAL);
	c.reg[RTC_REG_HOUR] = 0x13;
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), -E_INVAL);
}

static void test_read_century(void **state)
{
	struct fake_cmos c;
	struct rtc_date d;

	(void)state;
	/* no century register: 70-99 are 19xx, 00-69 20xx */
	set_cmos(&c, RTC_B_24H, 0, 0, 0, 1, 1, 0x99, 0x00);
	assert_int_equal(rtc_read_date(cmos_read, &c, 0, &d), 0);
	assert_int_equal(d.year, 1999);
	c.reg[RTC_REG_YEAR] = 0x05;
	assert_int_equal(rtc_read_date(cmos_read, &c, 0, &d), 0);
	assert_int_equal(d.year, 2005);
	/* a century register holding nonsense: the same guess */
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), 0);
	assert_int_equal(d.year, 2005);
	/* another index given by the FADT */
	c.reg[0x48] = 0x21;
	assert_int_equal(rtc_read_date(cmos_read, &c, 0x48, &d), 0);
	assert_int_equal(d.year, 2105);
	/* garbage (a clock with no battery) */
	set_cmos(&c, RTC_B_24H, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), -E_INVAL);
}

static void test_read_uip_protocol(void **state)
{
	struct fake_cmos c;
	struct rtc_date d;

	(void)state;
	set_cmos(&c, RTC_B_24H, 0x59, 0x59, 0x23, 0x31, 0x12, 0x29, 0x20);
	c.uip_reads = 5;
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), 0);
	assert_int_equal(c.uip_reads, 0);
	expect_date(&d, 2029, 12, 31, 23, 59, 59);
	/* an update between the two readings: read again */
	set_cmos(&c, RTC_B_24H, 0x10, 0x00, 0x00, 0x01, 0x01, 0x30, 0x20);
	c.tick_after = 2;
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), 0);
	assert_int_equal(d.sec, 11);
	assert_true(c.sec_reads >= 4);
	/* UIP that never clears */
	c.uip_reads = -1;
	assert_int_equal(rtc_read_date(cmos_read, &c, RTC_REG_CENTURY, &d), -E_BUSY);
}

/* --- the virtual RTC ------------------------------------------------------- */

#define T0 (5 * SEC)	     /* the fake clock when the host RTC was read */
#define EPOCH0 1709251198ULL /* 2024-02-29 23:59:58, a Thursday */

static struct vrtc *rtc;

/* The devices' clock, and the wall clock read at boot: EPOCH0 at T0. */
static void fake_host_clock(struct vclock *clk)
{
	*clk = (struct vclock){ fake_clock, HZ };
}

static void fake_wall_clock(u64 *epoch, u64 *ticks)
{
	*epoch = EPOCH0;
	*ticks = T0;
}

static int setup(void **state)
{
	(void)state;
	part_init(1);
	fake_host.clock = fake_host_clock;
	fake_host.wall_clock = fake_wall_clock;
	pulses = 0;
	fake_step = 0;
	fake_tsc = T0 + SEC / 2; /* created half a second after the reading */
	rtc = create_device(&vrtc_type);
	assert_non_null(rtc);
	return 0;
}

static u8 cmos(u8 idx)
{
	io_out(PLAT_RTC_PORT, 1, idx);
	return (u8)io_in(PLAT_RTC_PORT + 1, 1);
}

static void cmos_write(u8 idx, u8 v)
{
	io_out(PLAT_RTC_PORT, 1, idx);
	io_out(PLAT_RTC_PORT + 1, 1, v);
}

static void expect_regs(u8 cent, u8 year, u8 month, u8 day, u8 wday, u8 hour, u8 min, u8 sec)
{
	assert_int_equal(cmos(RTC_REG_CENTURY), cent);
	assert_int_equal(cmos(RTC_REG_YEAR), year);
	assert_int_equal(cmos(RTC_REG_MONTH), month);
	assert_int_equal(cmos(RTC_REG_MDAY), day);
	assert_int_equal(cmos(RTC_REG_WDAY), wday);
	assert_int_equal(cmos(RTC_REG_HOUR), hour);
	assert_int_equal(cmos(RTC_REG_MIN), min);
	assert_int_equal(cmos(RTC_REG_SEC), sec);
}

static void test_time_bcd_24h(void **state)
{
	(void)state;
	assert_int_equal(cmos(RTC_REG_A), 0x26);
	assert_int_equal(cmos(RTC_REG_B), RTC_B_24H);
	assert_int_equal(cmos(RTC_REG_D), RTC_D_VRT);
	expect_regs(0x20, 0x24, 0x02, 0x29, 5, 0x23, 0x59, 0x58);
	fake_tsc = T0 + 2 * SEC; /* into the next day, month, weekday */
	expect_regs(0x20, 0x24, 0x03, 0x01, 6, 0x00, 0x00, 0x00);
	fake_tsc = T0 + 2 * SEC + 86400 * 365 * SEC;
	expect_regs(0x20, 0x25, 0x03, 0x01, 7, 0x00, 0x00, 0x00);
}

static void test_time_binary_12h(void **state)
{
	(void)state;
	cmos_write(RTC_REG_B, RTC_B_BINARY);
	expect_regs(20, 24, 2, 29, 5, RTC_HOUR_PM | 11, 59, 58);
	fake_tsc = T0 + 2 * SEC; /* midnight: 12 AM */
	assert_int_equal(cmos(RTC_REG_HOUR), 12);
	fake_tsc += 12 * 3600 * SEC; /* noon: 12 PM */
	assert_int_equal(cmos(RTC_REG_HOUR), RTC_HOUR_PM | 12);
	fake_tsc += 3600 * SEC;
	assert_int_equal(cmos(RTC_REG_HOUR), RTC_HOUR_PM | 1);
	cmos_write(RTC_REG_B, 0);    /* BCD, 12-hour */
	fake_tsc += 10 * 3600 * SEC; /* 23:00 */
	assert_int_equal(cmos(RTC_REG_HOUR), RTC_HOUR_PM | 0x11);
	cmos_write(RTC_REG_B, RTC_B_BINARY | RTC_B_24H);
	assert_int_equal(cmos(RTC_REG_HOUR), 23);
}

static void test_uip(void **state)
{
	(void)state;
	/* seconds change at T0 + k s; UIP is up for the 244 us before */
	fake_tsc = T0 + 3 * SEC + SEC / 2;
	assert_int_equal(cmos(RTC_REG_A), 0x26);
	fake_tsc = T0 + 4 * SEC - 300 * US;
	assert_int_equal(cmos(RTC_REG_A), 0x26);
	fake_tsc = T0 + 4 * SEC - 244 * US;
	assert_int_equal(cmos(RTC_REG_A), RTC_A_UIP | 0x26);
	fake_tsc = T0 + 4 * SEC - 1;
	assert_int_equal(cmos(RTC_REG_A), RTC_A_UIP | 0x26);
	assert_int_equal(cmos(RTC_REG_SEC), 0x01); /* not yet changed */
	fake_tsc = T0 + 4 * SEC;
	assert_int_equal(cmos(RTC_REG_A), 0x26);
	assert_int_equal(cmos(RTC_REG_SEC), 0x02);
	/* UIP is read-only; while SET, there are no updates and no UIP */
	cmos_write(RTC_REG_A, 0xa6);
	assert_int_equal(cmos(RTC_REG_A), 0x26);
	fake_tsc = T0 + 5 * SEC - 100 * US;
	cmos_write(RTC_REG_B, RTC_B_SET | RTC_B_24H);
	assert_int_equal(cmos(RTC_REG_A), 0x26);
}

/* Linux's mc146818_get_time loop: seconds, UIP, everything, UIP, seconds. */
static int linux_read(struct rtc_date *d)
{
	int tries = 0;

	for (;;) {
		u8 sec = cmos(RTC_REG_SEC);

		tries++;
		assert_true(tries < 100);
		if (cmos(RTC_REG_A) & RTC_A_UIP) {
			fake_tsc += 100 * US; /* udelay(100) */
			continue;
		}
		d->min = rtc_bcd_to_bin(cmos(RTC_REG_MIN));
		d->hour = rtc_bcd_to_bin(cmos(RTC_REG_HOUR));
		d->day = rtc_bcd_to_bin(cmos(RTC_REG_MDAY));
		d->month = rtc_bcd_to_bin(cmos(RTC_REG_MONTH));
		d->year = rtc_bcd_to_bin(cmos(RTC_REG_YEAR));
		d->year += 100 * rtc_bcd_to_bin(cmos(RTC_REG_CENTURY));
		if (!(cmos(RTC_REG_A) & RTC_A_UIP) && sec == cmos(RTC_REG_SEC)) {
			d->sec = rtc_bcd_to_bin(sec);
			return tries;
		}
	}
}

static void test_linux_read_loop(void **state)
{
	struct rtc_date d;

	(void)state;
	fake_step = 7 * US; /* every port access takes a while */
	for (u64 us = 0; us < 400; us += 9) {
		fake_tsc = T0 + 2 * SEC - 400 * US + us * US;
		assert_true(linux_read(&d) <= 5);
		/* either side of midnight, never a mix of the two */
		if (d.sec == 59)
			expect_date(&d, 2024, 2, 29, 23, 59, 59);
		else
			expect_date(&d, 2024, 3, 1, 0, 0, 0);
	}
}

/* Linux's mc146818_set_time: SET, the fields, then SET cleared. */
static void linux_set(u8 cent, u8 year, u8 month, u8 day, u8 hour, u8 min, u8 sec)
{
	u8 b = cmos(RTC_REG_B);

	cmos_write(RTC_REG_B, b | RTC_B_SET);
	cmos_write(RTC_REG_A, 0x70); /* divider reset */
	cmos_write(RTC_REG_YEAR, year);
	cmos_write(RTC_REG_MONTH, month);
	cmos_write(RTC_REG_MDAY, day);
	cmos_write(RTC_REG_HOUR, hour);
	cmos_write(RTC_REG_MIN, min);
	cmos_write(RTC_REG_SEC, sec);
	cmos_write(RTC_REG_CENTURY, cent);
	cmos_write(RTC_REG_B, b);
	cmos_write(RTC_REG_A, 0x26);
}

static void test_set_time(void **state)
{
	(void)state;
	linux_set(0x20, 0x30, 0x06, 0x15, 0x12, 0x34, 0x56);
	expect_regs(0x20, 0x30, 0x06, 0x15, 7, 0x12, 0x34, 0x56);
	fake_tsc += SEC;
	assert_int_equal(cmos(RTC_REG_SEC), 0x57);
	/* while SET, the registers hold what was written and do not tick */
	cmos_write(RTC_REG_B, RTC_B_SET | RTC_B_24H);
	cmos_write(RTC_REG_MIN, 0x00);
	fake_tsc += 5 * SEC;
	assert_int_equal(cmos(RTC_REG_SEC), 0x57);
	assert_int_equal(cmos(RTC_REG_MIN), 0x00);
	cmos_write(RTC_REG_B, RTC_B_24H);
	fake_tsc += SEC;
	expect_regs(0x20, 0x30, 0x06, 0x15, 7, 0x12, 0x00, 0x58);
	/* the fields are kept as written until SET clears: a leap day set
	 * field by field from a non-leap year comes out right */
	linux_set(0x20, 0x23, 0x03, 0x31, 0x00, 0x00, 0x00);
	linux_set(0x20, 0x24, 0x02, 0x29, 0x08, 0x00, 0x00);
	expect_regs(0x20, 0x24, 0x02, 0x29, 5, 0x08, 0x00, 0x00);
	/* out-of-range values are clamped when the clock starts */
	linux_set(0x20, 0x23, 0x02, 0x31, 0x25, 0x61, 0x00);
	expect_regs(0x20, 0x23, 0x02, 0x28, 3, 0x23, 0x59, 0x00);
}

static void test_set_single_fields(void **state)
{
	(void)state;
	/* SET clear: each write takes effect at once */
	cmos_write(RTC_REG_MIN, 0x10);
	expect_regs(0x20, 0x24, 0x02, 0x29, 5, 0x23, 0x10, 0x58);
	cmos_write(RTC_REG_B, RTC_B_BINARY); /* binary, 12-hour */
	cmos_write(RTC_REG_HOUR, 7);	     /* 7 AM */
	assert_int_equal(cmos(RTC_REG_HOUR), 7);
	cmos_write(RTC_REG_HOUR, RTC_HOUR_PM | 12);
	assert_int_equal(cmos(RTC_REG_HOUR), RTC_HOUR_PM | 12);
	cmos_write(RTC_REG_B, RTC_B_24H | RTC_B_BINARY);
	assert_int_equal(cmos(RTC_REG_HOUR), 12);
	cmos_write(RTC_REG_YEAR, 99);
	assert_int_equal(cmos(RTC_REG_YEAR), 99);
	assert_int_equal(cmos(RTC_REG_CENTURY), 20);
	/* the day of the week follows the date; writes to it are ignored */
	cmos_write(RTC_REG_WDAY, 1);
	assert_int_equal(cmos(RTC_REG_WDAY), 7); /* 2099-02-28 (clamped) is a Saturday */
	assert_int_equal(cmos(RTC_REG_MDAY), 28);
}

static void test_flags(void **state)
{
	u8 c;

	(void)state;
	cmos_write(RTC_REG_A, 0x20);	     /* no periodic rate */
	cmos_write(RTC_REG_SEC_ALARM, 0x30); /* an alarm that does not come by */
	assert_int_equal(cmos(RTC_REG_C), 0);
	fake_tsc += SEC / 4;
	assert_int_equal(cmos(RTC_REG_C), 0);
	fake_tsc = T0 + SEC; /* the second changes: update-ended */
	assert_int_equal(cmos(RTC_REG_C), RTC_C_UF);
	assert_int_equal(cmos(RTC_REG_C), 0); /* read clears */
	/* with UIE, IRQF too */
	cmos_write(RTC_REG_B, RTC_B_UIE | RTC_B_24H);
	fake_tsc += SEC;
	assert_int_equal(cmos(RTC_REG_C), RTC_C_IRQF | RTC_C_UF);
	/* periodic: 1024 Hz, a period is 976.5 us */
	cmos_write(RTC_REG_B, RTC_B_24H);
	cmos_write(RTC_REG_A, 0x26);
	(void)cmos(RTC_REG_C);
	fake_tsc += 900 * US;
	c = cmos(RTC_REG_C);
	fake_tsc += 100 * US;
	c |= cmos(RTC_REG_C);
	assert_int_equal(c, RTC_C_PF);
	cmos_write(RTC_REG_A, 0x2f); /* 2 Hz */
	(void)cmos(RTC_REG_C);
	fake_tsc += SEC / 2;
	assert_true(cmos(RTC_REG_C) & RTC_C_PF);
}

static void test_alarm(void **state)
{
	(void)state;
	cmos_write(RTC_REG_A, 0x20);
	/* 00:00:05, three seconds after midnight's second */
	cmos_write(RTC_REG_SEC_ALARM, 0x05);
	cmos_write(RTC_REG_MIN_ALARM, 0x00);
	cmos_write(RTC_REG_HOUR_ALARM, 0x00);
	(void)cmos(RTC_REG_C);
	fake_tsc = T0 + 6 * SEC; /* 00:00:04 */
	assert_int_equal(cmos(RTC_REG_C), RTC_C_UF);
	fake_tsc = T0 + 10 * SEC; /* 00:00:08: 00:00:05 passed */
	assert_int_equal(cmos(RTC_REG_C), RTC_C_UF | RTC_C_AF);
	/* don't-care hour and minute: every minute at :05 */
	cmos_write(RTC_REG_MIN_ALARM, 0xc0);
	cmos_write(RTC_REG_HOUR_ALARM, 0xff);
	fake_tsc = T0 + 66 * SEC; /* 00:01:04 */
	assert_int_equal(cmos(RTC_REG_C), RTC_C_UF);
	fake_tsc += SEC;
	assert_int_equal(cmos(RTC_REG_C), RTC_C_UF | RTC_C_AF);
	/* a long time unread: the alarm came by */
	fake_tsc += 86400 * 10 * SEC;
	assert_int_equal(cmos(RTC_REG_C), RTC_C_UF | RTC_C_AF);
	/* with AIE: IRQF */
	cmos_write(RTC_REG_B, RTC_B_AIE | RTC_B_24H);
	fake_tsc += 60 * SEC;
	assert_int_equal(cmos(RTC_REG_C), RTC_C_IRQF | RTC_C_UF | RTC_C_AF);
}

static void test_interrupt(void **state)
{
	(void)state;
	cmos_write(RTC_REG_A, 0x20);
	cmos_write(RTC_REG_SEC_ALARM, 0x30);
	fake_tsc = T0 + SEC / 2;
	assert_int_equal(vrtc_check(rtc), 0); /* nothing enabled: no deadline */
	assert_int_equal(pulses, 0);
	cmos_write(RTC_REG_B, RTC_B_UIE | RTC_B_24H);
	/* the next second boundary */
	assert_int_equal(vrtc_check(rtc), T0 + SEC);
	assert_int_equal(pulses, 0);
	fake_tsc = T0 + SEC;
	assert_int_equal(vrtc_check(rtc), 0); /* raised; none until C is read */
	assert_int_equal(pulses, 1);
	fake_tsc += SEC;
	vrtc_check(rtc);
	assert_int_equal(pulses, 1); /* IRQF still set: the line is still active */
	assert_int_equal(cmos(RTC_REG_C), RTC_C_IRQF | RTC_C_UF);
	assert_int_equal(vrtc_check(rtc), T0 + 3 * SEC);
	fake_tsc += SEC;
	vrtc_check(rtc);
	assert_int_equal(pulses, 2);
	/* enabling with a flag already pending raises at once */
	cmos_write(RTC_REG_B, RTC_B_24H);
	(void)cmos(RTC_REG_C);
	fake_tsc += SEC;
	assert_int_equal(vrtc_check(rtc), 0);
	assert_int_equal(pulses, 2);
	cmos_write(RTC_REG_B, RTC_B_UIE | RTC_B_24H);
	assert_int_equal(pulses, 3);
	/* periodic, 2 Hz: the next half second */
	(void)cmos(RTC_REG_C);
	cmos_write(RTC_REG_B, RTC_B_PIE | RTC_B_24H);
	cmos_write(RTC_REG_A, 0x2f);
	fake_tsc = T0 + 10 * SEC + SEC / 10;
	(void)cmos(RTC_REG_C);
	assert_int_equal(vrtc_check(rtc), T0 + 10 * SEC + SEC / 2 + 1);
	fake_tsc = T0 + 10 * SEC + SEC / 2 + 1;
	vrtc_check(rtc);
	assert_int_equal(pulses, 4);
	assert_int_equal(cmos(RTC_REG_C), RTC_C_IRQF | RTC_C_PF);
	/* SET stops the updates: no update deadline */
	cmos_write(RTC_REG_B, RTC_B_SET | RTC_B_UIE | RTC_B_24H);
	assert_int_equal(vrtc_check(rtc), 0);
}

static void test_ram_ports_and_reset(void **state)
{
	(void)state;
	for (u32 i = 0x0e; i < VRTC_CMOS_SIZE; i++)
		if (i != RTC_REG_CENTURY)
			cmos_write((u8)i, (u8)(i * 7));
	for (u32 i = 0x0e; i < VRTC_CMOS_SIZE; i++)
		if (i != RTC_REG_CENTURY)
			assert_int_equal(cmos((u8)i), (u8)(i * 7));
	/* the index port is write-only; bit 7 (NMI mask) is not an index bit */
	assert_int_equal(io_in(PLAT_RTC_PORT, 1), 0xff);
	io_out(PLAT_RTC_PORT, 1, 0x80 | 0x40);
	assert_int_equal(io_in(PLAT_RTC_PORT + 1, 1), (u8)(0x40 * 7));
	/* a word write: index, then data */
	io_out(PLAT_RTC_PORT, 2, 0x5a41);
	assert_int_equal(cmos(0x41), 0x5a);
	assert_int_equal(io_in(PLAT_RTC_PORT + 1, 2), 0xff5a); /* past 0x71: open bus */
	/* C and D are read-only */
	cmos_write(RTC_REG_D, 0);
	assert_int_equal(cmos(RTC_REG_D), RTC_D_VRT);

	cmos_write(RTC_REG_B, RTC_B_PIE | RTC_B_AIE | RTC_B_UIE | RTC_B_SQWE | RTC_B_24H);
	cmos_write(RTC_REG_MIN, 0x42);
	vrtc_type.reset(rtc);
	assert_int_equal(cmos(RTC_REG_B), RTC_B_24H);
	assert_int_equal(cmos(RTC_REG_C), 0);
	assert_int_equal(cmos(RTC_REG_MIN), 0x42); /* the time survives */
	assert_int_equal(cmos(0x41), 0x5a);	   /* and the RAM */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bcd),
		cmocka_unit_test(test_known_dates),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_read_formats),
		cmocka_unit_test(test_read_century),
		cmocka_unit_test(test_read_uip_protocol),
		cmocka_unit_test_setup_teardown(test_time_bcd_24h, setup, teardown),
		cmocka_unit_test_setup_teardown(test_time_binary_12h, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux_read_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_time, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_single_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alarm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ram_ports_and_reset, setup, teardown),
	};

	return cmocka_run_group_tests_name("vdev_rtc", tests, NULL, NULL);
}
