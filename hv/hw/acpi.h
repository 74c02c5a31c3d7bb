/*
 * ACPI fixed hardware (ACPI 6.4 4.8): the PM1 event and control registers,
 * the sleep control register of HW-reduced platforms and the PM timer.
 * The tables that locate them are in drivers/acpi.h.
 */
#pragma once

#include "hv/lib/types.h"

/* PM1 status/enable bits (ACPI 6.4 tables 4.16, 4.17) */
#define PM1_TMR BIT(0)
#define PM1_BM_STS BIT(4)
#define PM1_GBL BIT(5)
#define PM1_PWRBTN BIT(8)
#define PM1_SLPBTN BIT(9)
#define PM1_RTC BIT(10)
#define PM1_PCIEXP_WAKE BIT(14)
#define PM1_WAK_STS BIT(15)

/* PM1 control bits (ACPI 6.4 4.8.3.2.1, table 4.18) */
#define PM1_CNT_SCI_EN BIT(0)
#define PM1_CNT_BM_RLD BIT(1)
#define PM1_CNT_GBL_RLS BIT(2)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK (7U << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN BIT(13)

/* Sleep control register of HW-reduced ACPI (ACPI 6.4 4.8.3.7) */
#define SLEEP_CNT_SLP_TYP_SHIFT 2
#define SLEEP_CNT_SLP_TYP_MASK (7U << SLEEP_CNT_SLP_TYP_SHIFT)
#define SLEEP_CNT_SLP_EN BIT(5)

/* The PM timer (ACPI 6.4 4.8.3.3): 24 bits, or 32 with TMR_VAL_EXT */
#define ACPI_PM_TIMER_HZ 3579545ULL
#define ACPI_PM_TIMER_MASK_24 0x00ffffffU
#define ACPI_PM_TIMER_MASK_32 0xffffffffU
#define ACPI_PM_TIMER_LEN 4 /* bytes of PM_TMR_BLK (PM_TMR_LEN, 5.2.9) */
