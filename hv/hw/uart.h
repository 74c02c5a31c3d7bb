/*
 * The 16550 UART (National Semiconductor PC16550D data sheet) and the PC's
 * serial ports.
 */
#pragma once

#include "hv/lib/types.h"

/* I/O bases of COM1-COM4 (PC/AT convention) */
#define UART_COM1 0x3f8
#define UART_COM2 0x2f8
#define UART_COM3 0x3e8
#define UART_COM4 0x2e8

#define UART_CLOCK_HZ 1843200
#define UART_DIVISOR(baud) (UART_CLOCK_HZ / 16 / (baud)) /* for DLL, DLM */

/* Registers, offsets from the base */
#define UART_RBR 0 /* receive buffer (DLAB=0, read) */
#define UART_THR 0 /* transmit holding (DLAB=0, write) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7

#define UART_FCR_ENABLE_CLEAR 0x07 /* FIFOs on, RX and TX FIFOs cleared */
#define UART_LCR_8N1 0x03	   /* 8 data bits, no parity, 1 stop bit */
#define UART_LCR_DLAB BIT(7)
#define UART_MCR_DTR BIT(0)
#define UART_MCR_RTS BIT(1)
#define UART_MCR_OUT2 BIT(3) /* on a PC, gates the UART's interrupt line */
#define UART_LSR_DR BIT(0)   /* data ready */
#define UART_LSR_THRE BIT(5) /* transmit holding register empty */
