/*
 * The 8259A programmable interrupt controller pair of the PC (Intel 8259A
 * data sheet) and the chipset's edge/level control registers (Intel ICH
 * datasheets, "ELCR1/ELCR2").
 */
#pragma once

#include "hv/lib/types.h"

/* The master at 0x20, the slave, cascaded on its IR2, at 0xA0 (PC/AT) */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_LINES 8	     /* per chip */
#define PIC_CASCADE_LINE 2   /* master input of the slave */
#define PIC_MASK_ALL 0xff    /* OCW1 */
#define PIC_LOWEST_DEFAULT 7 /* IR0 highest, IR7 lowest after ICW1 */

/* ICW1: written to the command port (A0 = 0) with D4 = 1 */
#define ICW1_IC4 BIT(0)	 /* ICW4 follows */
#define ICW1_SNGL BIT(1) /* single chip: no ICW3 */
#define ICW1_INIT BIT(4)
#define ICW2_BASE_MASK 0xf8 /* T7-T3 of the vector (8086 mode) */
#define ICW4_8086 BIT(0)

/* OCW3: command port, D4 = 0, D3 = 1 */
#define OCW3_SELECT BIT(3)
#define OCW3_RIS BIT(0) /* with RR: 1 reads ISR, 0 IRR */
#define OCW3_RR BIT(1)
#define OCW3_POLL BIT(2)
#define OCW3_SMM BIT(5)
#define OCW3_ESMM BIT(6)

/* OCW2: command port, D4 = 0, D3 = 0; R, SL, EOI in bits 7:5 */
#define OCW2_CMD_SHIFT 5
#define OCW2_LEVEL_MASK 0x07
#define OCW2_ROTATE_AEOI_CLEAR 0 /* 000 */
#define OCW2_EOI 1		 /* 001: non-specific EOI */
#define OCW2_NOP 2		 /* 010 */
#define OCW2_SPECIFIC_EOI 3	 /* 011 */
#define OCW2_ROTATE_AEOI_SET 4	 /* 100 */
#define OCW2_ROTATE_EOI 5	 /* 101: rotate on non-specific EOI */
#define OCW2_SET_PRIORITY 6	 /* 110 */
#define OCW2_ROTATE_SPECIFIC 7	 /* 111: rotate on specific EOI */

/* IRQ 0, 1, 2, 8 and 13 are always edge-triggered: their ELCR bits read 0 */
#define ELCR1_WRITABLE 0xf8
#define ELCR2_WRITABLE 0xde
