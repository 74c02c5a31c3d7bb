/*
 * ACPI fixed power-management hardware of a partition and its power
 * actions: the PM1a event block (status, enable) and control register
 * (ACPI 6.4 4.8.3.1-2), the FADT reset register at 0xCF9, and the
 * keyboard controller's reset line at port 0x64.
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/vdev/vdev.h"

struct vpm;

/* PM1 status/enable bits (ACPI 6.4 tables 4.16, 4.17) */
#define PM1_TMR BIT(0)
#define PM1_BM_STS BIT(4)
#define PM1_GBL BIT(5)
#define PM1_PWRBTN BIT(8)
#define PM1_SLPBTN BIT(9)
#define PM1_RTC BIT(10)
#define PM1_PCIEXP_WAKE BIT(14)
#define PM1_WAK_STS BIT(15)

/* PM1 control bits (ACPI 6.4 table 4.18) */
#define PM1_CNT_SCI_EN BIT(0)
#define PM1_CNT_BM_RLD BIT(1)
#define PM1_CNT_GBL_RLS BIT(2)
#define PM1_CNT_SLP_TYP_SHIFT 10
#define PM1_CNT_SLP_TYP_MASK (7U << PM1_CNT_SLP_TYP_SHIFT)
#define PM1_CNT_SLP_EN BIT(13)

/* Reset control register at 0xCF9 (Intel ICH/PCH datasheets, "RST_CNT") */
#define RST_CNT_SYS_RST BIT(1)
#define RST_CNT_RST_CPU BIT(2)
#define RST_CNT_FULL_RST BIT(3)

/* 8042 keyboard controller (IBM PC/AT technical reference) */
#define KBC_STATUS_OBF BIT(0) /* output buffer full: data at 0x60 */
#define KBC_STATUS_IBF BIT(1) /* input buffer full: controller busy */
#define KBC_CMD_PULSE_BASE 0xf0 /* 0xF0-0xFF: pulse output bits whose mask bit is 0 */
#define KBC_OUT_RESET BIT(0)	/* output port bit 0: CPU reset line */

extern const struct vdev_type vpm_type;

/*
 * Presses the fixed power button (ACPI 6.4 4.8.2.2.1.1): sets PWRBTN_STS
 * and raises the SCI if the guest enabled it, so that an ACPI guest shuts
 * down cleanly. For a management "shutdown" request.
 */
void vpm_power_button(struct vpm *pm);
