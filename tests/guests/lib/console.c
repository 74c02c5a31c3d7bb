/*
 * The test guests' console: a 16550 at COM1, polled, set to 115200 8N1 with
 * interrupts off (the Bochs BIOS leaves it at 5 data bits). A port that is
 * not there reads all-ones, so LSR.THRE reads set and the output goes
 * nowhere rather than hanging.
 */
#include "console.h"
#include "lib.h"
#include "x86.h"

/* 16550 registers and bits (National Semiconductor PC16550D data sheet) */
#define UART_THR 0 /* transmit holding register */
#define UART_DLL 0 /* divisor latch, low byte (with LCR.DLAB) */
#define UART_IER 1 /* interrupt enable */
#define UART_DLM 1 /* divisor latch, high byte (with LCR.DLAB) */
#define UART_FCR 2 /* FIFO control */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status register */
#define UART_LSR_THRE BIT(5) /* THR empty: ready for a byte */
#define UART_LCR_8N1 0x03 /* 8 data bits, no parity, 1 stop bit */
#define UART_LCR_DLAB BIT(7)
#define UART_FCR_ENABLE_CLEAR 0x07 /* FIFOs on, both cleared */
#define UART_MCR_DTR_RTS 0x03
#define UART_CLOCK_DIV_115200 1 /* 1.8432 MHz / 16 / 115200 */

static volatile u32 con_lock;

static void con_lock_take(void)
{
	while (__atomic_exchange_n(&con_lock, 1, __ATOMIC_ACQUIRE))
		while (con_lock)
			cpu_relax();
}

static void con_lock_give(void)
{
	__atomic_store_n(&con_lock, 0, __ATOMIC_RELEASE);
}

void con_init(void)
{
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, UART_LCR_DLAB);
	outb(COM1_BASE + UART_DLL, UART_CLOCK_DIV_115200);
	outb(COM1_BASE + UART_DLM, 0);
	outb(COM1_BASE + UART_LCR, UART_LCR_8N1);
	outb(COM1_BASE + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(COM1_BASE + UART_MCR, UART_MCR_DTR_RTS);
}

static void uart_putc(char c)
{
	while (!(inb(COM1_BASE + UART_LSR) & UART_LSR_THRE))
		cpu_relax();
	outb(COM1_BASE + UART_THR, (u8)c);
}

static void con_out(char c, void *ctx)
{
	(void)ctx;
	if (c == '\n')
		uart_putc('\r');
	uart_putc(c);
}

void con_putc(char c)
{
	con_lock_take();
	con_out(c, NULL);
	con_lock_give();
}

void con_write(const char *s)
{
	con_lock_take();
	while (*s)
		con_out(*s++, NULL);
	con_lock_give();
}

void con_vprintf(const char *fmt, va_list ap)
{
	con_lock_take();
	fmt_vformat(con_out, NULL, fmt, ap);
	con_lock_give();
}

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
}
