/* The physical 16550-compatible UART that carries the console. */
#pragma once

#include "hv/hw/uart.h"
#include "hv/lib/types.h"

#define UART_DEFAULT_BAUD 115200

struct uart {
	u16 base; /* I/O port base, 0 when the console is off */
	u8 fifo;  /* bytes the transmitter takes once THRE is set: 16 or 1 */
};

/* Programs 8N1 at baud with FIFOs on; returns false when no UART answers. */
bool uart_init(struct uart *u, u16 base, u32 baud);
/* Sends C once the transmitter has room; false (C not sent) when it had
 * none for WAIT TSC ticks. */
bool uart_putc(struct uart *u, char c, u64 wait);
/* How many bytes uart_send may write now without waiting (0: busy). */
u32 uart_tx_room(struct uart *u);
/* Writes C: only as many times as uart_tx_room said. */
void uart_send(struct uart *u, char c);
/* Whether every byte written has left the line (FIFO and shift register
 * empty: LSR.TEMT); true with no UART. */
bool uart_tx_done(struct uart *u);
/* Returns -1 when no byte is waiting. */
int uart_getc(struct uart *u);
