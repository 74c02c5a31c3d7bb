/*
 * The machine's CMOS real-time clock (Motorola MC146818A datasheet), read
 * once at boot, and calendar arithmetic. The hypervisor never writes the
 * clock: partitions that set their time only move their own offset
 * (hv/vdev/vrtc.c).
 */
#include "drivers/rtc.h"
#include "hv/hw/rtc.h"
#include "hv/hw/x86.h"
#include "hv/lib/log.h"

/* UIP stays set for at most 244 + 1984 us (MC146818A, "Update cycle"); a
 * port read takes about a microsecond, so this is several times that. */
#define UIP_POLLS 20000
#define READ_TRIES 10

#define DAYS_PER_WEEK 7
#define EPOCH_WDAY 4 /* 1970-01-01 was a Thursday */
#define FEBRUARY 2
#define DAYS_PER_YEAR 365
#define BCD_TENS_SHIFT 4
#define BCD_DIGIT_MASK 0xf
#define CENTURY_MIN 19 /* plausible century register contents */
#define CENTURY_MAX 23
#define TWO_DIGIT_PIVOT 70 /* without a century: 70-99 -> 19xx, else 20xx */
#define DEFAULT_YEAR 2000

static const u8 month_days[RTC_MONTHS] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

u8 rtc_bcd_to_bin(u8 bcd)
{
	return (u8)((bcd >> BCD_TENS_SHIFT) * 10 + (bcd & BCD_DIGIT_MASK));
}

u8 rtc_bin_to_bcd(u8 bin)
{
	return (u8)(((bin / 10) << BCD_TENS_SHIFT) | (bin % 10));
}

static bool leap_year(u32 y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static u32 days_in_month(u32 y, u32 m)
{
	return month_days[m - 1] + (m == FEBRUARY && leap_year(y) ? 1 : 0);
}

static u32 days_in_year(u32 y)
{
	return DAYS_PER_YEAR + (leap_year(y) ? 1 : 0);
}

bool rtc_date_valid(const struct rtc_date *d)
{
	return d->year >= RTC_EPOCH_YEAR && d->year <= RTC_MAX_YEAR && d->month >= 1 &&
	       d->month <= RTC_MONTHS && d->day >= 1 &&
	       d->day <= days_in_month(d->year, d->month) && d->hour < RTC_HOURS &&
	       d->min < RTC_MINUTES && d->sec < SECS_PER_MIN;
}

u64 rtc_date_to_epoch(const struct rtc_date *d)
{
	u64 days = 0;

	for (u32 y = RTC_EPOCH_YEAR; y < d->year; y++)
		days += days_in_year(y);
	for (u32 m = 1; m < d->month; m++)
		days += days_in_month(d->year, m);
	days += d->day - 1U;
	return days * SECS_PER_DAY + d->hour * SECS_PER_HOUR + d->min * SECS_PER_MIN + d->sec;
}

void rtc_epoch_to_date(u64 secs, struct rtc_date *d)
{
	u64 days = secs / SECS_PER_DAY;
	u32 rem = (u32)(secs % SECS_PER_DAY);
	u32 y = RTC_EPOCH_YEAR, m = 1;

	while (days >= days_in_year(y) && y <= RTC_MAX_YEAR)
		days -= days_in_year(y++);
	if (y > RTC_MAX_YEAR) {
		*d = (struct rtc_date){
			RTC_MAX_YEAR,	  RTC_MONTHS, RTC_MDAY_MAX, RTC_HOURS - 1, RTC_MINUTES - 1,
			SECS_PER_MIN - 1, 0
		};
		d->wday = (u8)((rtc_date_to_epoch(d) / SECS_PER_DAY + EPOCH_WDAY) % DAYS_PER_WEEK);
		return;
	}
	while (days >= days_in_month(y, m))
		days -= days_in_month(y, m++);
	d->year = (u16)y;
	d->month = (u8)m;
	d->day = (u8)(days + 1);
	d->hour = (u8)(rem / SECS_PER_HOUR);
	d->min = (u8)(rem % SECS_PER_HOUR / SECS_PER_MIN);
	d->sec = (u8)(rem % SECS_PER_MIN);
	d->wday = (u8)((secs / SECS_PER_DAY + EPOCH_WDAY) % DAYS_PER_WEEK);
}

/* --- reading a clock ---------------------------------------------------- */

/* The registers that make up the time, as read. */
struct rtc_raw {
	u8 sec, min, hour, day, month, year, century, b;
};

static bool wait_uip_clear(rtc_read_fn read, void *ctx)
{
	for (u32 i = 0; i < UIP_POLLS; i++)
		if (!(read(ctx, RTC_REG_A) & RTC_A_UIP))
			return true;
	return false;
}

static void read_raw(rtc_read_fn read, void *ctx, u8 century_reg, struct rtc_raw *r)
{
	r->sec = read(ctx, RTC_REG_SEC);
	r->min = read(ctx, RTC_REG_MIN);
	r->hour = read(ctx, RTC_REG_HOUR);
	r->day = read(ctx, RTC_REG_MDAY);
	r->month = read(ctx, RTC_REG_MONTH);
	r->year = read(ctx, RTC_REG_YEAR);
	r->century = century_reg ? read(ctx, century_reg) : 0;
	r->b = read(ctx, RTC_REG_B);
}

static bool raw_equal(const struct rtc_raw *a, const struct rtc_raw *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour && a->day == b->day &&
	       a->month == b->month && a->year == b->year && a->century == b->century &&
	       a->b == b->b;
}

static u8 field(u8 v, bool binary)
{
	return binary ? v : rtc_bcd_to_bin(v);
}

/* Register B selects BCD or binary and 12- or 24-hour (MC146818A, "Register B"). */
static void decode(const struct rtc_raw *r, u8 century_reg, struct rtc_date *d)
{
	bool binary = r->b & RTC_B_BINARY;
	u32 hour = field(r->hour & (u8)~RTC_HOUR_PM, binary);
	u32 yy = field(r->year, binary), cent = field(r->century, binary);

	if (!(r->b & RTC_B_24H)) {
		/* 12 AM is midnight, 12 PM noon; 0 or 13+ is no hour at all */
		if (hour == 0 || hour > RTC_HOURS_12)
			hour = RTC_HOURS; /* invalid */
		else
			hour = hour % RTC_HOURS_12 + ((r->hour & RTC_HOUR_PM) ? RTC_HOURS_12 : 0);
	}
	if (!century_reg || cent < CENTURY_MIN || cent > CENTURY_MAX)
		cent = yy < TWO_DIGIT_PIVOT ? 20 : 19;
	d->year = (u16)(cent * 100 + yy);
	d->month = field(r->month, binary);
	d->day = field(r->day, binary);
	d->hour = (u8)hour;
	d->min = field(r->min, binary);
	d->sec = field(r->sec, binary);
	d->wday = 0;
}

int rtc_read_date(rtc_read_fn read, void *ctx, u8 century_reg, struct rtc_date *d)
{
	struct rtc_raw a, b;

	for (u32 i = 0; i < READ_TRIES; i++) {
		if (!wait_uip_clear(read, ctx))
			return -E_BUSY;
		read_raw(read, ctx, century_reg, &a);
		if (!wait_uip_clear(read, ctx))
			return -E_BUSY;
		read_raw(read, ctx, century_reg, &b);
		if (!raw_equal(&a, &b))
			continue; /* an update came between the two readings */
		decode(&a, century_reg, d);
		if (!rtc_date_valid(d))
			return -E_INVAL;
		rtc_epoch_to_date(rtc_date_to_epoch(d), d); /* fills wday */
		return 0;
	}
	return -E_BUSY;
}

/* --- the machine's clock -------------------------------------------------- */

static bool boot_read;
static u64 boot_epoch, boot_tsc;

static u8 cmos_read(void *ctx, u8 reg)
{
	(void)ctx;
	outb(CMOS_INDEX_PORT, reg);
	return inb(CMOS_DATA_PORT);
}

void rtc_init(u8 century_reg, bool present)
{
	struct rtc_date d;
	int err;

	if (boot_read)
		return;
	boot_read = true;
	err = present ? rtc_read_date(cmos_read, NULL, century_reg, &d) : -E_NODEV;
	boot_tsc = rdtsc();
	if (err) {
		d = (struct rtc_date){ DEFAULT_YEAR, 1, 1, 0, 0, 0, 0 };
		pr_warn("rtc: no usable clock (error %d): partitions start at %04u-01-01\n", err,
			DEFAULT_YEAR);
	} else {
		pr_info("rtc: %04u-%02u-%02u %02u:%02u:%02u\n", d.year, d.month, d.day, d.hour,
			d.min, d.sec);
	}
	boot_epoch = rtc_date_to_epoch(&d);
}

void rtc_boot_time(u64 *epoch, u64 *tsc)
{
	if (!boot_read)
		rtc_init(RTC_REG_CENTURY, true);
	*epoch = boot_epoch;
	*tsc = boot_tsc;
}
