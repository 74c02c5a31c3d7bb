/*
 * MC146818A real-time clock model (Motorola MC146818A datasheet).
 *
 * Time registers are computed at each read from the wall-clock time: the
 * machine's clock at boot, plus the elapsed platform clock, plus the
 * guest's offset; they are presented in BCD or binary and in 12- or
 * 24-hour mode as register B says at the moment of the read (the chip
 * would keep the old bytes after a format change: no guest relies on it).
 *
 * Setting the time: with SET (register B bit 7) set, updates stop and the
 * time registers hold what the guest writes; clearing SET starts the clock
 * from there. A time register written with SET clear takes effect at
 * once. Either way only the partition's offset moves. Values out of range
 * are clamped when the clock starts (the chip would count from garbage).
 * The day of the week is computed from the date; writes to it are ignored.
 * DSE (daylight saving) is kept but does nothing.
 *
 * UIP (register A bit 7) is set during the last 244 us of each second,
 * before the time registers change (datasheet: UIP rises 244 us before an
 * update), so a reader that waits for UIP to clear and reads the seconds
 * twice, as Linux does, finishes within a millisecond.
 *
 * Register C's flags are evaluated from the clock when read (which clears
 * them) or polled: UF at each second boundary, PF at each period of the
 * rate in register A, AF when a second matching the alarm registers (0xC0
 * and above match anything) has passed. Interrupts: see vrtc_check.
 */
#include "hv/vdev/vrtc.h"
#include "drivers/rtc.h"
#include "hv/hw/pc.h"
#include "hv/hw/rtc.h"
#include "hv/lib/spinlock.h"
#include "hv/vdev/acpi_tables.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vclock.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/virq.h"

#define INDEX_MASK 0x7f
#define INDEX_PORT_READ 0xff /* the index port is write-only */

#define A_DEFAULT 0x26 /* 32.768 kHz time base, 1024 Hz periodic rate */
#define A_RATE_MASK 0x0f
#define B_DEFAULT RTC_B_24H
#define B_ENABLES (RTC_B_PIE | RTC_B_AIE | RTC_B_UIE) /* = C's PF, AF, UF */
#define C_EVENTS (RTC_C_PF | RTC_C_AF | RTC_C_UF)
#define ALARM_DONT_CARE 0xc0 /* an alarm byte of 11xxxxxx matches any value */

#define US_PER_SEC 1000000ULL
#define UIP_US 244 /* UIP high before the update (datasheet, "UIP") */
#define YEARS_PER_CENTURY 100
#define WDAY_BASE 1 /* register 6: Sunday = 1 */
/* periodic rates with a 32.768 kHz time base: RS 1-2 are 256 and 128 Hz,
 * RS 3-15 are 65536 >> RS Hz (datasheet, table "Periodic interrupt rate") */
#define RATE_RS_SLOW_HZ 512
#define RATE_RS_FIRST_FAST 3
#define RATE_BASE_HZ 65536

struct vrtc {
	struct vdev_registry *reg;
	struct spinlock lock;
	struct vclock clk;
	u64 epoch0, ticks0;   /* wall-clock seconds at clock value ticks0 */
	s64 offset;	      /* the guest's correction, in seconds */
	struct rtc_date held; /* the time registers while SET is 1 */
	u64 flags_sec;	      /* the last second (since ticks0) the flags saw */
	u64 flags_period;     /* the last periodic period the flags saw */
	u8 index;
	u8 ram[VRTC_CMOS_SIZE]; /* A, B, C, alarms and RAM; time comes from the clock */
};

/* --- time ----------------------------------------------------------------- */

static u64 elapsed(const struct vrtc *r)
{
	u64 now = r->clk.read();

	return now > r->ticks0 ? now - r->ticks0 : 0;
}

static u64 wall_at(const struct vrtc *r, u64 secs)
{
	s64 t = (s64)(r->epoch0 + secs) + r->offset;

	return t < 0 ? 0 : (u64)t;
}

static void now_date(const struct vrtc *r, struct rtc_date *d)
{
	if (r->ram[RTC_REG_B] & RTC_B_SET)
		*d = r->held;
	else
		rtc_epoch_to_date(wall_at(r, elapsed(r) / r->clk.hz), d);
}

static u8 clamp(u8 v, u8 lo, u8 hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Starts the clock at d: only the offset changes. */
static void set_time(struct vrtc *r, struct rtc_date d)
{
	d.year = d.year < RTC_EPOCH_YEAR ? RTC_EPOCH_YEAR : MIN(d.year, RTC_MAX_YEAR);
	d.month = clamp(d.month, 1, RTC_MONTHS);
	d.day = clamp(d.day, 1, RTC_MDAY_MAX);
	d.hour = clamp(d.hour, 0, RTC_HOURS - 1);
	d.min = clamp(d.min, 0, RTC_MINUTES - 1);
	d.sec = clamp(d.sec, 0, SECS_PER_MIN - 1);
	while (!rtc_date_valid(&d))
		d.day--; /* the 31st of a shorter month */
	r->offset = (s64)rtc_date_to_epoch(&d) - (s64)(r->epoch0 + elapsed(r) / r->clk.hz);
}

static bool uip(const struct vrtc *r)
{
	u64 frac = elapsed(r) % r->clk.hz;

	if (r->ram[RTC_REG_B] & RTC_B_SET)
		return false; /* no updates while SET */
	return vclock_scale(frac, US_PER_SEC, r->clk.hz) >= US_PER_SEC - UIP_US;
}

/* --- register formats --------------------------------------------------- */

static bool binary(const struct vrtc *r)
{
	return r->ram[RTC_REG_B] & RTC_B_BINARY;
}

static u8 encode(const struct vrtc *r, u32 v)
{
	return binary(r) ? (u8)v : rtc_bin_to_bcd((u8)v);
}

static u8 decode(const struct vrtc *r, u8 v)
{
	return binary(r) ? v : rtc_bcd_to_bin(v);
}

static u8 encode_hour(const struct vrtc *r, u32 hour)
{
	u32 h12;

	if (r->ram[RTC_REG_B] & RTC_B_24H)
		return encode(r, hour);
	/* 12-hour: 1-12, bit 7 for PM; midnight is 12 AM, noon 12 PM */
	h12 = hour % RTC_HOURS_12 ? hour % RTC_HOURS_12 : RTC_HOURS_12;
	return encode(r, h12) | (hour >= RTC_HOURS_12 ? RTC_HOUR_PM : 0);
}

static u8 decode_hour(const struct vrtc *r, u8 v)
{
	u8 h = decode(r, v & (u8)~RTC_HOUR_PM);

	if (r->ram[RTC_REG_B] & RTC_B_24H)
		return decode(r, v);
	return (u8)(h % RTC_HOURS_12 + ((v & RTC_HOUR_PM) ? RTC_HOURS_12 : 0));
}

/* --- flags and interrupts -------------------------------------------- */

static u32 periodic_hz(const struct vrtc *r)
{
	u32 rs = r->ram[RTC_REG_A] & A_RATE_MASK;

	if (!rs)
		return 0;
	return rs < RATE_RS_FIRST_FAST ? RATE_RS_SLOW_HZ >> rs : RATE_BASE_HZ >> rs;
}

static bool alarm_byte_match(u8 alarm, u8 now)
{
	return alarm >= ALARM_DONT_CARE || alarm == now;
}

/* Whether a second in (from, to] (seconds since ticks0) matched the alarm;
 * an alarm repeats at least daily, so the last day is enough to look at. */
static bool alarm_passed(const struct vrtc *r, u64 from, u64 to)
{
	u64 s = to - from > SECS_PER_DAY ? to - SECS_PER_DAY : from;

	while (s++ < to) {
		u32 tod = (u32)(wall_at(r, s) % SECS_PER_DAY);

		if (alarm_byte_match(r->ram[RTC_REG_SEC_ALARM], encode(r, tod % SECS_PER_MIN)) &&
		    alarm_byte_match(r->ram[RTC_REG_MIN_ALARM],
				     encode(r, tod % SECS_PER_HOUR / SECS_PER_MIN)) &&
		    alarm_byte_match(r->ram[RTC_REG_HOUR_ALARM],
				     encode_hour(r, tod / SECS_PER_HOUR)))
			return true;
	}
	return false;
}

static void update_flags(struct vrtc *r)
{
	u64 e = elapsed(r), sec = e / r->clk.hz;
	u32 rate = periodic_hz(r);
	u8 *c = &r->ram[RTC_REG_C];

	if (r->ram[RTC_REG_B] & RTC_B_SET) {
		r->flags_sec = sec; /* updates stopped */
	} else if (sec != r->flags_sec) {
		*c |= RTC_C_UF;
		if (alarm_passed(r, r->flags_sec, sec))
			*c |= RTC_C_AF;
		r->flags_sec = sec;
	}
	if (rate) {
		u64 period = vclock_scale(e, rate, r->clk.hz);

		if (period != r->flags_period)
			*c |= RTC_C_PF;
		r->flags_period = period;
	}
	if (*c & r->ram[RTC_REG_B] & B_ENABLES)
		*c |= RTC_C_IRQF;
}

/* The IRQ output goes active when IRQF sets; a read of C releases it. */
static void raise_if_due(struct vrtc *r)
{
	bool was = r->ram[RTC_REG_C] & RTC_C_IRQF;

	update_flags(r);
	if (!was && (r->ram[RTC_REG_C] & RTC_C_IRQF))
		virq_pulse(r->reg, PLAT_IRQ_RTC);
}

/* --- registers ---------------------------------------------------------- */

static u8 reg_read(struct vrtc *r, u8 idx)
{
	struct rtc_date d;
	u8 v;

	switch (idx) {
	case RTC_REG_SEC:
	case RTC_REG_MIN:
	case RTC_REG_HOUR:
	case RTC_REG_WDAY:
	case RTC_REG_MDAY:
	case RTC_REG_MONTH:
	case RTC_REG_YEAR:
	case RTC_REG_CENTURY:
		break;
	case RTC_REG_A:
		return (u8)((r->ram[idx] & ~RTC_A_UIP) | (uip(r) ? RTC_A_UIP : 0));
	case RTC_REG_C:
		update_flags(r);
		v = r->ram[idx];
		r->ram[idx] = 0;
		return v;
	case RTC_REG_D:
		return RTC_D_VRT;
	default:
		return r->ram[idx];
	}
	now_date(r, &d);
	switch (idx) {
	case RTC_REG_SEC:
		return encode(r, d.sec);
	case RTC_REG_MIN:
		return encode(r, d.min);
	case RTC_REG_HOUR:
		return encode_hour(r, d.hour);
	case RTC_REG_WDAY:
		return encode(r, d.wday + WDAY_BASE);
	case RTC_REG_MDAY:
		return encode(r, d.day);
	case RTC_REG_MONTH:
		return encode(r, d.month);
	case RTC_REG_YEAR:
		return encode(r, d.year % YEARS_PER_CENTURY);
	default:
		return encode(r, d.year / YEARS_PER_CENTURY);
	}
}

/* Returns false for indexes that are not part of the time. */
static bool time_write(struct vrtc *r, u8 idx, u8 v)
{
	struct rtc_date d;

	now_date(r, &d);
	switch (idx) {
	case RTC_REG_SEC:
		d.sec = decode(r, v);
		break;
	case RTC_REG_MIN:
		d.min = decode(r, v);
		break;
	case RTC_REG_HOUR:
		d.hour = decode_hour(r, v);
		break;
	case RTC_REG_MDAY:
		d.day = decode(r, v);
		break;
	case RTC_REG_MONTH:
		d.month = decode(r, v);
		break;
	case RTC_REG_YEAR:
		d.year = (u16)(d.year / YEARS_PER_CENTURY * YEARS_PER_CENTURY +
			       decode(r, v) % YEARS_PER_CENTURY);
		break;
	case RTC_REG_CENTURY:
		d.year = (u16)(decode(r, v) * YEARS_PER_CENTURY + d.year % YEARS_PER_CENTURY);
		break;
	default:
		return false;
	}
	if (r->ram[RTC_REG_B] & RTC_B_SET)
		r->held = d; /* kept as written until SET clears */
	else
		set_time(r, d);
	return true;
}

static void b_write(struct vrtc *r, u8 v)
{
	u8 old = r->ram[RTC_REG_B];

	if ((v & RTC_B_SET) && !(old & RTC_B_SET)) {
		now_date(r, &r->held);
		v &= (u8)~RTC_B_UIE; /* datasheet: setting SET clears UIE */
	}
	r->ram[RTC_REG_B] = v;
	if (!(v & RTC_B_SET) && (old & RTC_B_SET))
		set_time(r, r->held);
	raise_if_due(r);
}

static void reg_write(struct vrtc *r, u8 idx, u8 v)
{
	if (time_write(r, idx, v))
		return;
	switch (idx) {
	case RTC_REG_WDAY:
	case RTC_REG_C:
	case RTC_REG_D:
		break; /* computed or read-only */
	case RTC_REG_A:
		r->ram[idx] = v & (u8)~RTC_A_UIP;
		break;
	case RTC_REG_B:
		b_write(r, v);
		break;
	default:
		r->ram[idx] = v;
		break;
	}
}

static u8 port_byte(struct vrtc *r, u16 port, bool write, u8 v)
{
	switch (port) {
	case PLAT_RTC_PORT:
		if (!write)
			return INDEX_PORT_READ;
		/* bit 7 is the chipset's NMI mask: nothing here raises NMIs */
		r->index = v & INDEX_MASK;
		return 0;
	case PLAT_RTC_PORT + 1:
		if (!write)
			return reg_read(r, r->index);
		reg_write(r, r->index, v);
		return 0;
	default:
		return OPEN_BUS; /* a wide access running past 0x71 */
	}
}

static int vrtc_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	struct vrtc *r = dev;
	u64 val = 0;

	(void)v;
	spin_lock(&r->lock);
	for (u32 i = 0; i < a->size; i++)
		val |= (u64)port_byte(r, (u16)(a->addr + i), a->write, (u8)(a->val >> (8 * i)))
		       << (8 * i);
	spin_unlock(&r->lock);
	if (!a->write)
		a->val = val;
	return 0;
}

/* The clock value of the next event that could raise IRQ 8, or 0. An
 * alarm is looked for at every second boundary. */
static u64 next_event(const struct vrtc *r)
{
	u8 en = r->ram[RTC_REG_B] & B_ENABLES;
	u64 hz = r->clk.hz, e, next = 0;
	u32 rate = periodic_hz(r);

	if (!en || (r->ram[RTC_REG_C] & RTC_C_IRQF))
		return 0;
	e = elapsed(r);
	if ((en & (RTC_B_UIE | RTC_B_AIE)) && !(r->ram[RTC_REG_B] & RTC_B_SET))
		next = (e / hz + 1) * hz;
	if ((en & RTC_B_PIE) && rate) {
		/* floor + 1: at or just after the next period's start */
		u64 t = vclock_scale(vclock_scale(e, rate, hz) + 1, hz, rate) + 1;

		next = next ? MIN(next, t) : t;
	}
	return next ? r->ticks0 + next : 0;
}

u64 vrtc_check(struct vrtc *r)
{
	u64 deadline;

	spin_lock(&r->lock);
	raise_if_due(r);
	deadline = next_event(r);
	spin_unlock(&r->lock);
	return deadline;
}

static void vrtc_reset(void *dev)
{
	struct vrtc *r = dev;

	spin_lock(&r->lock);
	r->ram[RTC_REG_B] &= (u8) ~(B_ENABLES | RTC_B_SQWE);
	r->ram[RTC_REG_C] = 0;
	spin_unlock(&r->lock);
}

/* The machine's clock at boot (drivers/rtc.c), kept on by the TSC. */
static int vrtc_create(struct vdev_registry *reg, void *dev)
{
	struct vrtc *r = dev;
	u64 hz;

	r->reg = reg;
	reg->host->clock(&r->clk);
	reg->host->wall_clock(&r->epoch0, &r->ticks0);
	hz = r->clk.hz;
	if (!hz)
		return -E_INVAL;
	r->ram[RTC_REG_A] = A_DEFAULT;
	r->ram[RTC_REG_B] = B_DEFAULT;
	r->flags_sec = elapsed(r) / hz;
	r->flags_period = periodic_hz(r) ? vclock_scale(elapsed(r), periodic_hz(r), hz) : 0;
	return vdev_add_io(reg, PLAT_RTC_PORT, VRTC_PORTS, vrtc_access, r);
}

static u64 vrtc_timer(void *dev, u64 now)
{
	(void)now; /* it reads its own clock */
	return vrtc_check(dev);
}

/* The century byte is kept (FADT.CENTURY). */
static void vrtc_firmware(void *dev, struct acpi_build_cfg *cfg)
{
	(void)dev;
	cfg->rtc_century = true;
}

const struct vdev_type vrtc_type = {
	.name = "RTC",
	.size = sizeof(struct vrtc),
	.create = vrtc_create,
	.reset = vrtc_reset,
	.timer = vrtc_timer,
	.firmware = vrtc_firmware,
};
