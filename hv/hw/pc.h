/*
 * PC/AT platform glue outside the other chips' data sheets: the open bus,
 * the chipset's reset control register and the 8042 keyboard controller's
 * reset line.
 */
#pragma once

#include "hv/lib/types.h"

/* A byte read from an I/O port no device drives (pull-ups on the ISA bus) */
#define OPEN_BUS 0xff

/* Reset Control Register of Intel chipsets (PIIX3/4, ICH, PCH; e.g. ICH9
 * datasheet 13.7.5): SYS_RST selects a full reset, and a 0->1 edge of
 * RST_CPU starts it. */
#define RST_CNT_PORT 0xcf9
#define RST_CNT_SYS_RST BIT(1)
#define RST_CNT_RST_CPU BIT(2)
#define RST_CNT_FULL_RST BIT(3)

/* 8042 keyboard controller (IBM PC/AT technical reference) */
#define KBC_DATA_PORT 0x60
#define KBC_STATUS_PORT 0x64	 /* read */
#define KBC_CMD_PORT 0x64	 /* write */
#define KBC_STATUS_OBF BIT(0)	 /* output buffer full: data at KBC_DATA_PORT */
#define KBC_STATUS_IBF BIT(1)	 /* input buffer full: controller busy */
#define KBC_CMD_PULSE_BASE 0xf0	 /* 0xF0-0xFF: pulse output bits whose mask bit is 0 */
#define KBC_CMD_PULSE_RESET 0xfe /* pulse bit 0 only */
#define KBC_OUT_RESET BIT(0)	 /* output port bit 0: CPU reset line */
