/* 16550 UART driver (National Semiconductor PC16550D data sheet). */
#include "drivers/uart16550.h"
#include "hv/hw/x86.h"

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

#define UART_LCR_8N1 0x03
#define UART_LCR_DLAB 0x80
#define UART_FCR_ENABLE_CLEAR 0x07 /* enable, clear RX and TX FIFOs */
#define UART_MCR_DTR_RTS_OUT2 0x0b
#define UART_LSR_DR 0x01
#define UART_LSR_THRE 0x20

bool uart_init(struct uart *u, u16 base, u32 baud)
{
	u16 divisor = (u16)(UART_CLOCK_HZ / 16 / baud);

	u->base = 0;
	/* The scratch register tells whether a UART is there at all. */
	outb(base + UART_SCR, 0x5a);
	if (inb(base + UART_SCR) != 0x5a)
		return false;
	outb(base + UART_IER, 0);
	outb(base + UART_LCR, UART_LCR_DLAB);
	outb(base + UART_DLL, divisor & 0xff);
	outb(base + UART_DLM, divisor >> 8);
	outb(base + UART_LCR, UART_LCR_8N1);
	outb(base + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(base + UART_MCR, UART_MCR_DTR_RTS_OUT2);
	u->base = base;
	return true;
}

bool uart_putc(struct uart *u, char c, u64 wait)
{
	u64 start = rdtsc();

	while (!(inb(u->base + UART_LSR) & UART_LSR_THRE))
		if (rdtsc() - start >= wait)
			return false; /* a write now would overwrite a queued byte */
	outb(u->base + UART_THR, (u8)c);
	return true;
}

int uart_getc(struct uart *u)
{
	if (!u->base || !(inb(u->base + UART_LSR) & UART_LSR_DR))
		return -1;
	return inb(u->base + UART_RBR);
}
