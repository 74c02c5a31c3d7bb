/*
 * The 8254 programmable interval timer (Intel 8254 data sheet) as the PC
 * wires it: channel 0 drives IRQ 0, channel 2's gate and output are in
 * system control port B (IBM PC/AT technical reference; Intel ICH
 * datasheets, "NMI_SC").
 */
#pragma once

#include "hv/lib/types.h"

#define PIT_HZ 1193182ULL  /* the input clock: 1.193182 MHz */
#define PIT_PORT_BASE 0x40 /* channel N's counter at + N */
#define PIT_PORTS 4
#define PIT_CHANNELS 3
#define PIT_CMD 3 /* the control word register, at + 3 */
#define PIT_SPEAKER_CHANNEL 2

/* Control word: SC (7:6), RW (5:4), M (3:1), BCD (0) */
#define PIT_CMD_CHANNEL_SHIFT 6
#define PIT_CMD_READBACK 3 /* SC = 11 */
#define PIT_CMD_ACCESS_SHIFT 4
#define PIT_ACCESS_LATCH 0
#define PIT_ACCESS_LO 1
#define PIT_ACCESS_HI 2
#define PIT_ACCESS_WORD 3 /* low byte, then high byte */
#define PIT_CMD_MODE_SHIFT 1
#define PIT_MODE_TERMINAL_COUNT 0 /* mode 0: OUT rises when the count ends */
#define PIT_CMD_BCD BIT(0)
#define PIT_RB_NO_COUNT BIT(5) /* read-back: do not latch the count */
#define PIT_RB_NO_STATUS BIT(4)
#define PIT_STATUS_OUT BIT(7)
#define PIT_STATUS_NULL BIT(6)

/* System control port B */
#define PIT_PORT_B 0x61
#define PORTB_GATE2 BIT(0)
#define PORTB_SPEAKER BIT(1)
#define PORTB_REFRESH BIT(4)
#define PORTB_OUT2 BIT(5)
