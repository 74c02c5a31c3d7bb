/* Console: the physical UART shared by the hypervisor and (later) partitions. */
#include "hv/console/console.h"
#include "drivers/tsc.h"
#include "drivers/uart16550.h"
#include "hv/console/ring.h"
#include "hv/lib/lib.h"
#include "hv/lib/spinlock.h"

#include <stdarg.h>

#define PRINTK_BUF 512

static struct uart console_uart;
static struct spinlock console_lock = SPINLOCK_INIT;

static const struct {
	const char *name;
	u16 base;
} console_ports[] = {
	{ "com1", UART_COM1 },
	{ "com2", UART_COM2 },
	{ "com3", UART_COM3 },
	{ "com4", UART_COM4 },
};

/* Finds "console=VALUE" as a whole word of the command line. */
static const char *cmdline_console(const char *cmdline, size_t *len)
{
	static const char key[] = "console=";
	const char *p = cmdline;

	while (p && *p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, sizeof(key) - 1)) {
			const char *v = p + sizeof(key) - 1;

			*len = 0;
			while (v[*len] && v[*len] != ' ')
				(*len)++;
			return v;
		}
		p = strchr(p, ' ');
	}
	return NULL;
}

static void console_emit(const char *s, size_t len);

void console_init(const char *cmdline)
{
	u16 base = UART_COM1;
	size_t len;
	const char *v = cmdline_console(cmdline, &len);

	if (v) {
		base = 0;
		for (size_t i = 0; i < ARRAY_SIZE(console_ports); i++)
			if (len == strlen(console_ports[i].name) &&
			    !strncmp(v, console_ports[i].name, len))
				base = console_ports[i].base;
	}
	/* start on a fresh line: firmware may have left one unfinished */
	if (base && uart_init(&console_uart, base, UART_DEFAULT_BAUD))
		console_emit("\n", 1);
}

void console_select(int com_index)
{
	u64 flags = spin_lock_irqsave(&console_lock);

	if (com_index < 0 || (size_t)com_index >= ARRAY_SIZE(console_ports))
		console_uart.base = 0;
	else if (console_uart.base != console_ports[com_index].base)
		uart_init(&console_uart, console_ports[com_index].base, UART_DEFAULT_BAUD);
	spin_unlock_irqrestore(&console_lock, flags);
}

/* How long the UART may stay busy before a byte is given up (the port is
 * wedged, or an emulator's listener stopped reading); meanwhile console
 * writers wait, as behind a terminal's flow control. */
#define CONSOLE_TX_WAIT_MS 2000
#define CONSOLE_TX_WAIT_EARLY (4ULL << 30) /* TSC ticks, before calibration */

/* Bytes given up since the UART last took one. While it stays busy the
 * next ones are given up at once; the loss is told when it takes bytes
 * again, so none goes silently. */
static u64 console_lost;

static u64 tx_wait(void)
{
	u64 hz = tsc_hz();

	return hz ? hz / 1000 * CONSOLE_TX_WAIT_MS : CONSOLE_TX_WAIT_EARLY;
}

static void tell_loss(void)
{
	char note[96];
	u64 lost = console_lost;
	int n = snprintf(note, sizeof(note),
			 "\nhv: console: %lu bytes lost: the UART stayed busy for %u ms\r\n", lost,
			 CONSOLE_TX_WAIT_MS);

	console_lost = 0;
	for (int i = 0; i < n; i++)
		if (!uart_putc(&console_uart, note[i], tx_wait())) {
			console_lost = lost;
			return;
		}
}

static void emit_byte(char c)
{
	if (console_lost) {
		if (!uart_putc(&console_uart, '\r', 0)) {
			console_lost++;
			return;
		}
		tell_loss();
	}
	if (!uart_putc(&console_uart, c, tx_wait()))
		console_lost = 1;
}

static void emit_raw(const char *s, size_t len)
{
	if (!console_uart.base)
		return;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			emit_byte('\r');
		emit_byte(s[i]);
	}
}

/* While the command prompt is open (hv/console/command.c), everyone
 * else's output waits here, in order, and goes out when it closes; what
 * overflows is counted and said (the partitions' rings keep theirs). */
#define HOLD_SIZE (16 * 1024)
static u8 hold_buf[HOLD_SIZE];
static struct ring hold = { hold_buf, HOLD_SIZE, 0 };
static bool holding;
static u64 hold_from;

static void console_emit(const char *s, size_t len)
{
	if (!holding) {
		emit_raw(s, len);
		return;
	}
	for (size_t i = 0; i < len; i++)
		ring_put(&hold, (u8)s[i]);
}

/* The partition whose unfinished line the console's cursor is on. */
static const char *open_line_owner;

static void end_open_line(void)
{
	if (open_line_owner) {
		console_emit("\n", 1);
		open_line_owner = NULL;
	}
}

void console_hold(bool on)
{
	u64 flags = spin_lock_irqsave(&console_lock), at = hold_from, start;
	char chunk[64];
	u32 n;

	if (on) {
		end_open_line();
		hold_from = hold.total;
	} else {
		while ((n = ring_read(&hold, at, (u8 *)chunk, sizeof(chunk), &start))) {
			if (start != at) {
				n = (u32)snprintf(chunk, sizeof(chunk),
						  "hv: console: %lu bytes not shown\n", start - at);
				emit_raw(chunk, n);
				at = start;
				continue;
			}
			emit_raw(chunk, n);
			at += n;
		}
	}
	holding = on;
	spin_unlock_irqrestore(&console_lock, flags);
}

void console_prompt_write(const char *s, size_t len)
{
	u64 flags = spin_lock_irqsave(&console_lock);

	emit_raw(s, len);
	spin_unlock_irqrestore(&console_lock, flags);
}

void console_write(const char *s, size_t len)
{
	u64 flags = spin_lock_irqsave(&console_lock);

	end_open_line();
	console_emit(s, len);
	spin_unlock_irqrestore(&console_lock, flags);
}

void console_partition_text(const char *name, const char *text, size_t len, bool eol)
{
	u64 flags = spin_lock_irqsave(&console_lock);

	if (open_line_owner != name) {
		end_open_line();
		console_emit("[", 1);
		console_emit(name, strlen(name));
		console_emit("] ", 2);
	}
	console_emit(text, len);
	if (eol)
		console_emit("\n", 1);
	open_line_owner = eol ? NULL : name;
	spin_unlock_irqrestore(&console_lock, flags);
}

bool console_partition_more(const char *name, const char *text, size_t len)
{
	u64 flags = spin_lock_irqsave(&console_lock);
	bool open = open_line_owner == name;

	if (open)
		console_emit(text, len);
	spin_unlock_irqrestore(&console_lock, flags);
	return open;
}

void printk(const char *fmt, ...)
{
	char buf[PRINTK_BUF];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	console_write(buf, (size_t)n);
}

int console_getc(void)
{
	return uart_getc(&console_uart);
}

void console_force_unlock(void)
{
	console_lock.owner = console_lock.next;
}
