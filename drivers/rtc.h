/*
 * The machine's CMOS real-time clock (Motorola MC146818A and its PC
 * descendants), read once at boot to give partitions a wall-clock time,
 * and the calendar arithmetic the virtual RTC shares with it.
 */
#pragma once

#include "hv/hw/rtc.h"
#include "hv/lib/types.h"

#define RTC_EPOCH_YEAR 1970
#define RTC_MAX_YEAR 2399 /* keeps the arithmetic simple; a PC RTC stops at 2099 */

/* A calendar date and time of day (the RTC's own view: no time zone). */
struct rtc_date {
	u16 year;    /* e.g. 2024 */
	u8 month;    /* 1-12 */
	u8 day;	     /* 1-31 */
	u8 hour;     /* 0-23 */
	u8 min, sec; /* 0-59 */
	u8 wday;     /* 0-6, Sunday = 0 */
};

u8 rtc_bcd_to_bin(u8 bcd);
u8 rtc_bin_to_bcd(u8 bin); /* bin < 100 */
/* Whether the fields name a real date and time from RTC_EPOCH_YEAR on. */
bool rtc_date_valid(const struct rtc_date *d);
/* Seconds since 1970-01-01 00:00:00 for a valid date (wday is ignored). */
u64 rtc_date_to_epoch(const struct rtc_date *d);
/* The date of secs (saturates at the end of RTC_MAX_YEAR), wday included. */
void rtc_epoch_to_date(u64 secs, struct rtc_date *d);

/* Reads CMOS register reg: the real ports, or a test's fake. */
typedef u8 (*rtc_read_fn)(void *ctx, u8 reg);

/*
 * Reads the time through read with the MC146818A protocol: wait for UIP to
 * clear, read every field, and repeat until two readings agree; decodes BCD
 * or binary and 12- or 24-hour mode from register B. century_reg is the
 * CMOS index of the century (0: none; years 70-99 are then 19xx, 00-69
 * 20xx). Returns 0, -E_BUSY when UIP never clears or the readings never
 * settle, or -E_INVAL when the clock holds no valid date.
 */
int rtc_read_date(rtc_read_fn read, void *ctx, u8 century_reg, struct rtc_date *d);

/*
 * Reads the machine's RTC once and remembers the time with the TSC value
 * at that moment. century_reg from the FADT (0: none), present false when
 * the FADT says there is no CMOS RTC: the clock then starts at
 * 2000-01-01 00:00:00. Later calls do nothing. Call on one CPU, after the
 * TSC is calibrated.
 */
void rtc_init(u8 century_reg, bool present);
/* The wall-clock time at boot (seconds since 1970) and the TSC then;
 * calls rtc_init(RTC_REG_CENTURY, true) if nobody did. */
void rtc_boot_time(u64 *epoch, u64 *tsc);
