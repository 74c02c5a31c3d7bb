/* 16550 UART driver (National Semiconductor PC16550D data sheet). */
#include "drivers/uart16550.h"
#include "hv/hw/uart.h"
#include "hv/hw/x86.h"

#define SCRATCH_PROBE 0x5a

bool uart_init(struct uart *u, u16 base, u32 baud)
{
	u16 divisor = (u16)UART_DIVISOR(baud);

	u->base = 0;
	/* The scratch register tells whether a UART is there at all. */
	outb(base + UART_SCR, SCRATCH_PROBE);
	if (inb(base + UART_SCR) != SCRATCH_PROBE)
		return false;
	outb(base + UART_IER, 0);
	outb(base + UART_LCR, UART_LCR_DLAB);
	outb(base + UART_DLL, divisor & 0xff);
	outb(base + UART_DLM, divisor >> 8);
	outb(base + UART_LCR, UART_LCR_8N1);
	outb(base + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(base + UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
	/* PC16550D: IIR bits 7:6 read 11 once the FIFOs are on; a 16450 has none */
	u->fifo = (inb(base + UART_IIR) & UART_IIR_FIFO_ENABLED) == UART_IIR_FIFO_ENABLED ?
			  UART_FIFO_SIZE :
			  1;
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

/* In FIFO mode THRE means the whole transmit FIFO is empty (PC16550D, LSR bit 5). */
u32 uart_tx_room(struct uart *u)
{
	return u->base && (inb(u->base + UART_LSR) & UART_LSR_THRE) ? u->fifo : 0;
}

void uart_send(struct uart *u, char c)
{
	outb(u->base + UART_THR, (u8)c);
}

bool uart_tx_done(struct uart *u)
{
	return !u->base || (inb(u->base + UART_LSR) & UART_LSR_TEMT);
}

int uart_getc(struct uart *u)
{
	if (!u->base || !(inb(u->base + UART_LSR) & UART_LSR_DR))
		return -1;
	return inb(u->base + UART_RBR);
}
