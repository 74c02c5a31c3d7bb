/*
 * The test guests' console: a 16550 at COM1, polled, set to 115200 8N1 with
 * interrupts off (the Bochs BIOS leaves it at 5 data bits). A port that is
 * not there reads all-ones, so LSR.THRE reads set and the output goes
 * nowhere rather than hanging.
 */
#include "console.h"
#include "hv/hw/uart.h"
#include "hv/hw/x86.h"
#include "lib.h"

#define CON_BAUD 115200
#define CON_LINE_MAX 1024 /* longer formatted output is cut */

static volatile u32 con_lock;
static char con_line[CON_LINE_MAX]; /* under con_lock */

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
	outb(UART_COM1 + UART_IER, 0);
	outb(UART_COM1 + UART_LCR, UART_LCR_DLAB);
	outb(UART_COM1 + UART_DLL, UART_DIVISOR(CON_BAUD) & 0xff);
	outb(UART_COM1 + UART_DLM, UART_DIVISOR(CON_BAUD) >> 8);
	outb(UART_COM1 + UART_LCR, UART_LCR_8N1);
	outb(UART_COM1 + UART_FCR, UART_FCR_ENABLE_CLEAR);
	outb(UART_COM1 + UART_MCR, UART_MCR_DTR | UART_MCR_RTS);
}

static void uart_putc(char c)
{
	while (!(inb(UART_COM1 + UART_LSR) & UART_LSR_THRE))
		cpu_relax();
	outb(UART_COM1 + UART_THR, (u8)c);
}

static void con_out(char c)
{
	if (c == '\n')
		uart_putc('\r');
	uart_putc(c);
}

static void con_out_str(const char *s)
{
	while (*s)
		con_out(*s++);
}

void con_putc(char c)
{
	con_lock_take();
	con_out(c);
	con_lock_give();
}

void con_write(const char *s)
{
	con_lock_take();
	con_out_str(s);
	con_lock_give();
}

void con_vprintf(const char *fmt, va_list ap)
{
	con_lock_take();
	vsnprintf(con_line, sizeof(con_line), fmt, ap);
	con_out_str(con_line);
	con_lock_give();
}

void con_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	con_vprintf(fmt, ap);
	va_end(ap);
}
