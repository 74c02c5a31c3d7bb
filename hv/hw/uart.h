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
#define UART_IER 1 /* interrupt enable (DLAB=0) */
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_IIR 2 /* interrupt identification (read) */
#define UART_FCR 2 /* FIFO control (write) */
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_MSR 6 /* modem status */
#define UART_SCR 7

#define UART_IER_RDI BIT(0)  /* received data available */
#define UART_IER_THRI BIT(1) /* transmitter holding register empty */
#define UART_IER_MASK 0x0f
#define UART_IIR_NO_INT 0x01
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_FIFO_ENABLED 0xc0
#define UART_FIFO_SIZE 16 /* the 16550A's transmit and receive FIFOs */
#define UART_FCR_ENABLE BIT(0)
#define UART_FCR_CLEAR_RX BIT(1)
#define UART_FCR_CLEAR_TX BIT(2)
#define UART_FCR_ENABLE_CLEAR (UART_FCR_ENABLE | UART_FCR_CLEAR_RX | UART_FCR_CLEAR_TX)
#define UART_LCR_8N1 0x03	/* 8 data bits, no parity, 1 stop bit */
#define UART_LCR_WLEN_MASK 0x03 /* data bits - 5 */
#define UART_LCR_STOP2 BIT(2)	/* two stop bits */
#define UART_LCR_PARITY BIT(3)
#define UART_LCR_DLAB BIT(7)
#define UART_MCR_DTR BIT(0)
#define UART_MCR_RTS BIT(1)
#define UART_MCR_OUT1 BIT(2)
#define UART_MCR_OUT2 BIT(3) /* on a PC, gates the UART's interrupt line */
#define UART_MCR_LOOP BIT(4)
#define UART_MCR_MASK 0x1f
#define UART_LSR_DR BIT(0)   /* data ready */
#define UART_LSR_THRE BIT(5) /* transmit holding register empty */
#define UART_LSR_TEMT BIT(6) /* transmitter empty */
#define UART_MSR_CTS BIT(4)
#define UART_MSR_DSR BIT(5)
#define UART_MSR_RI BIT(6)
#define UART_MSR_DCD BIT(7)
