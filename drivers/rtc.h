/*
 * The machine's CMOS real-time clock (Motorola MC146818A and its PC
 * descendants), read once at boot to give partitions a wall-clock time,
 * and the calendar arithmetic the virtual RTC shares with it.
 */
#pragma once

#include "hv/lib/types.h"

/* MC146818A register indexes (datasheet, "Address map") */
#define RTC_REG_SEC 0x00
#define RTC_REG_SEC_ALARM 0x01
#define RTC_REG_MIN 0x02
#define RTC_REG_MIN_ALARM 0x03
#define RTC_REG_HOUR 0x04
#define RTC_REG_HOUR_ALARM 0x05
#define RTC_REG_WDAY 0x06 /* 1-7, Sunday = 1 on PCs */
#define RTC_REG_MDAY 0x07
#define RTC_REG_MONTH 0x08
#define RTC_REG_YEAR 0x09 /* 0-99 */
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_C 0x0c
#define RTC_REG_D 0x0d
#define RTC_REG_CENTURY 0x32 /* PC convention; the FADT CENTURY field names it */

#define RTC_A_UIP BIT(7) /* update in progress: time registers about to change */
#define RTC_B_SET BIT(7)
#define RTC_B_PIE BIT(6)
#define RTC_B_AIE BIT(5)
#define RTC_B_UIE BIT(4)
#define RTC_B_SQWE BIT(3)
#define RTC_B_BINARY BIT(2) /* DM: 1 binary, 0 BCD */
#define RTC_B_24H BIT(1)
#define RTC_B_DSE BIT(0)
#define RTC_C_IRQF BIT(7)
#define RTC_C_PF BIT(6)
#define RTC_C_AF BIT(5)
#define RTC_C_UF BIT(4)
#define RTC_D_VRT BIT(7)	/* valid RAM and time */
#define RTC_HOUR_PM BIT(7) /* 12-hour mode */

/* Calendar limits */
#define RTC_MONTHS 12
#define RTC_MDAY_MAX 31
#define RTC_HOURS 24
#define RTC_MINUTES 60 /* per hour, and seconds per minute */
#define RTC_HOURS_12 12

#define RTC_EPOCH_YEAR 1970
#define RTC_MAX_YEAR 2399 /* keeps the arithmetic simple; a PC RTC stops at 2099 */

/* A calendar date and time of day (the RTC's own view: no time zone). */
struct rtc_date {
	u16 year;	/* e.g. 2024 */
	u8 month;	/* 1-12 */
	u8 day;		/* 1-31 */
	u8 hour;	/* 0-23 */
	u8 min, sec;	/* 0-59 */
	u8 wday;	/* 0-6, Sunday = 0 */
};

u8 rtc_bcd_to_bin(u8 bcd);
u8 rtc_bin_to_bcd(u8 bin);	/* bin < 100 */
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
