/*
 * The PC's CMOS real-time clock (Motorola MC146818A datasheet and its PC
 * descendants), and the calendar units its registers count in.
 */
#pragma once

#include "hv/lib/types.h"

/* Index port: bit 7 masks NMIs on PC chipsets, so keep it clear */
#define CMOS_INDEX_PORT 0x70
#define CMOS_DATA_PORT 0x71

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
#define RTC_D_VRT BIT(7)   /* valid RAM and time */
#define RTC_HOUR_PM BIT(7) /* 12-hour mode */

/* Calendar units */
#define RTC_MONTHS 12
#define RTC_MDAY_MAX 31
#define RTC_HOURS 24
#define RTC_MINUTES 60 /* per hour, and seconds per minute */
#define RTC_HOURS_12 12

#define SECS_PER_MIN RTC_MINUTES
#define SECS_PER_HOUR (RTC_MINUTES * SECS_PER_MIN)
#define SECS_PER_DAY (RTC_HOURS * SECS_PER_HOUR * 1ULL)
