/*
 * Console: the physical UART shared by the hypervisor and the partitions
 * (SPEC 4). Writers queue; the UART is fed from the queues by whichever
 * allowed CPU passes (console_service), never more than it takes at that
 * moment, so no CPU waits for the line on another's behalf. One line goes
 * out whole before the next starts; the writers take turns, the hypervisor
 * among them (a writer with a full queue waits: nothing is lost, and a
 * flood of one writer's lines cannot shut the others out).
 *
 * A partition's lines are its own CPUs' work (its vuart's timer comes by
 * while they wait). Should they not come for CONSOLE_HELP_US (a guest that
 * never exits where an emulator's timer does not make it; a host thread
 * not scheduled), any CPU passing sends that partition's lines on, what
 * the UART takes at that moment: the console never waits for one
 * partition's CPU.
 *
 * The hv> prompt (hv/console/command.c) is one more writer, whose lines
 * any CPU sends. While it is open (console_hold), and until its last
 * bytes are out, it is the only one: everyone else's lines wait in their
 * own queues (the partitions' UARTs say "not ready" once theirs is full;
 * a byte written regardless is given up and counted, not waited for), and
 * go on when it closes. Only the hypervisor's own lines go out anyway once
 * half of their queue is used, so that no printk waits for the person at
 * the prompt.
 */
#include "hv/console/console.h"
#include "drivers/tsc.h"
#include "drivers/uart16550.h"
#include "hv/config/config.h"
#include "hv/cpu/panic.h"
#include "hv/lib/lib.h"
#include "hv/lib/spinlock.h"

#include <stdarg.h>

#define PRINTK_BUF 512
#define CONSOLE_SRCS CONFIG_MAX_PARTITIONS
#define CONSOLE_SERVICE_US 1000			/* a CPU with lines to send comes again after */
#define CONSOLE_HELP_US 2000			/* the UART idle this long: anyone sends */
#define STAGE_MAX (2 + 1 + CONFIG_NAME_MAX + 2) /* "\r\n[NAME] " */
/* What one call may send: a UART whose FIFO empties at once (an emulator's)
 * is asked again until this much went; a real one at 115200 baud says
 * "full" after its FIFO's worth, and the call ends there. */
#define CONSOLE_BURST 256

/* How long the UART may take no byte before a writer with a full queue
 * gives up (the port is wedged, or an emulator's listener stopped
 * reading); meanwhile it waits, as behind a terminal's flow control. */
#define CONSOLE_TX_WAIT_MS 2000
#define CONSOLE_TX_WAIT_EARLY (4ULL << 30) /* TSC ticks, before calibration */

static struct console_src hv;	  /* the hypervisor's own lines: slot 0 */
static struct console_src prompt; /* the hv> prompt's: no slot, first */

static struct {
	struct uart uart;
	struct spinlock lock;			    /* held by the CPU that feeds the UART */
	struct spinlock hv_lock;		    /* the hypervisor's writers, one at a time */
	struct console_src *srcs[CONSOLE_SRCS + 1]; /* the first: the hypervisor's */
	u32 used;				    /* slots ever taken, the first included */
	u32 rr;					    /* the slot that started the last line */
	bool queued;		  /* partitions have joined: hv's lines wait too */
	struct console_src *cur;  /* the line on the UART, until its end */
	struct console_src *open; /* a line left open: shown, not ended */
	bool mid;		  /* the UART's cursor is not at a line start */
	char stage[STAGE_MAX];	  /* bytes that go first: a line end, a prefix */
	u32 stage_len, stage_at;
	volatile u64 sent;	/* bytes the UART took */
	volatile u64 puts;	/* the writers' changes: bytes queued, lines shown */
	u64 looked;		/* puts when the console last found nothing to send */
	volatile bool holding;	/* the hv> prompt is open (console_hold) */
	volatile int panic_cpu; /* the CPU that owns the UART for good; -1 */
	bool dead;		/* ... and the UART stopped taking bytes */
} con = { .lock = SPINLOCK_INIT,
	  .hv_lock = SPINLOCK_INIT,
	  .srcs[0] = &hv,
	  .used = 1,
	  .panic_cpu = -1 };

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
	if (base && uart_init(&con.uart, base, UART_DEFAULT_BAUD))
		console_write("\n", 1);
}

void console_select(int com_index)
{
	spin_lock(&con.lock);
	if (com_index < 0 || (size_t)com_index >= ARRAY_SIZE(console_ports))
		con.uart.base = 0;
	else if (con.uart.base != console_ports[com_index].base)
		uart_init(&con.uart, console_ports[com_index].base, UART_DEFAULT_BAUD);
	spin_unlock(&con.lock);
}

static u64 ticks_us(u64 us)
{
	u64 hz = tsc_hz();

	return hz ? hz / 1000000 * us : CONSOLE_TX_WAIT_EARLY; /* not calibrated yet */
}

static u64 tx_wait(void)
{
	return ticks_us(CONSOLE_TX_WAIT_MS * 1000ULL);
}

/* --- feeding the UART (under con.lock) ------------------------------------ */

static void stage(const char *s, u32 n)
{
	memcpy(con.stage + con.stage_len, s, n);
	con.stage_len += n;
}

static void send(char c)
{
	uart_send(&con.uart, c);
	con.sent++;
	con.mid = c != '\n';
}

/* q waits for the prompt: it is open, or its last bytes are not out yet;
 * the hypervisor's lines only until half of their queue is used. */
static bool held(const struct console_src *q)
{
	if (q == &prompt ||
	    (!con.holding && __atomic_load_n(&prompt.head, __ATOMIC_ACQUIRE) == prompt.tail))
		return false;
	return q != &hv || console_room(&hv) > CONSOLE_QUEUE_SIZE / 2;
}

/* Something of q can go now: a whole line, a line to show, or more of its
 * line still open on the console. */
static bool ready(const struct console_src *q)
{
	u64 t = q->tail;

	if (held(q))
		return false;
	return __atomic_load_n(&q->ends, __ATOMIC_ACQUIRE) > t ||
	       __atomic_load_n(&q->show, __ATOMIC_ACQUIRE) > t ||
	       (q == con.open && __atomic_load_n(&q->head, __ATOMIC_ACQUIRE) > t);
}

/* The prompt first, then the writers in turn, from the one after the
 * last line's. */
static struct console_src *pick(void)
{
	if (ready(&prompt))
		return &prompt;
	for (u32 i = 1; i <= con.used; i++) {
		struct console_src *q = con.srcs[(con.rr + i) % con.used];

		if (q && ready(q))
			return q;
	}
	return NULL;
}

/* Ends what is on the line (another's open line) and puts q's prefix. */
static void begin_line(struct console_src *q)
{
	con.stage_len = con.stage_at = 0;
	if (con.open != q) {
		if (con.mid)
			stage("\r\n", 2);
		if (q->name) {
			stage("[", 1);
			stage(q->name, (u32)MIN(strlen(q->name), (size_t)CONFIG_NAME_MAX));
			stage("] ", 2);
		}
	}
	con.open = NULL;
	con.cur = q;
	if (q != &prompt)
		con.rr = q->slot;
}

/* Takes q's next byte; returns 1 when the UART got a byte of room's. */
static u32 take(struct console_src *q)
{
	u64 t = q->tail;
	char c = (char)q->buf[t % CONSOLE_QUEUE_SIZE];

	__atomic_store_n(&q->tail, t + 1, __ATOMIC_RELEASE);
	if (c == '\r')
		return 0; /* the console ends lines itself */
	if (c != '\n') {
		send(c);
		if (++q->col < CONSOLE_LINE_MAX)
			return 1;
	}
	q->col = 0;
	con.stage_len = con.stage_at = 0;
	stage("\r\n", 2);
	con.cur = NULL;
	return c != '\n';
}

static bool may_send(const struct console_src *q, const struct console_src *own, bool any, u64 now)
{
	return q == &hv || q == &prompt || q == own || any ||
	       (s64)(now - q->seen) >= (s64)ticks_us(CONSOLE_HELP_US);
}

/* Sends what the UART takes now of the lines this CPU may send, at most
 * CONSOLE_BURST bytes. */
static void push(struct console_src *own, bool any, u64 now)
{
	u32 room = 0, budget = CONSOLE_BURST;

	if (con.stage_at == con.stage_len && !con.cur && !pick())
		return; /* nothing to send: no need to ask the UART */
	while (con.panic_cpu < 0) {
		struct console_src *q = con.cur;

		if (!room) {
			if (budget)
				room = uart_tx_room(&con.uart);
			room = MIN(room, budget);
			if (!room)
				return;
		}
		if (con.stage_at < con.stage_len) {
			send(con.stage[con.stage_at++]);
			room--;
			budget--;
		} else if (!q) {
			q = pick();
			if (!q || !may_send(q, own, any, now))
				return;
			begin_line(q);
		} else if (!may_send(q, own, any, now)) {
			return;
		} else if (q->tail == __atomic_load_n(&q->head, __ATOMIC_ACQUIRE)) {
			con.open = q; /* all of its unfinished line is out: it stays open */
			con.cur = NULL;
		} else {
			u32 n = take(q);

			room -= n;
			budget -= n;
		}
	}
}

static bool waits(const struct console_src *q)
{
	return q && (q == con.cur || ready(q));
}

u64 console_service(struct console_src *own, bool idle, u64 now)
{
	bool again = true; /* another CPU is at it: look again */

	if (own)
		own->seen = now;
	if (!con.cur && con.stage_at == con.stage_len &&
	    __atomic_load_n(&con.puts, __ATOMIC_ACQUIRE) == con.looked)
		return 0; /* nothing queued since nothing waited: no lock, no look */
	if (spin_trylock(&con.lock)) {
		u64 puts = __atomic_load_n(&con.puts, __ATOMIC_ACQUIRE);

		push(own, idle, now);
		if (!con.cur && con.stage_at == con.stage_len && !pick())
			con.looked = puts;
		again = con.stage_at < con.stage_len || waits(&hv) || waits(&prompt) ||
			waits(own) || (idle && (con.cur || pick()));
		spin_unlock(&con.lock);
	} else if (con.cur && con.cur != &hv && con.mid) {
		panic_test_point(); /* hv_test_panic: another CPU is in mid-line */
	}
	return again && con.panic_cpu < 0 ? now + ticks_us(CONSOLE_SERVICE_US) : 0;
}

void console_flush(void)
{
	u64 start = rdtsc(), sent = con.sent;

	con.holding = false; /* the machine goes: what the prompt held too */

	for (;;) {
		bool more;

		spin_lock(&con.lock);
		push(NULL, true, rdtsc());
		more = con.uart.base && (con.stage_at < con.stage_len || con.cur || pick());
		/* the bytes in the UART's FIFO too: a power-off or reset right
		 * after would cut them off the line (LSR.TEMT) */
		more = more || !uart_tx_done(&con.uart);
		spin_unlock(&con.lock);
		if (!more || con.panic_cpu >= 0)
			return;
		if (con.sent != sent) {
			sent = con.sent;
			start = rdtsc();
		} else if (rdtsc() - start >= tx_wait()) {
			return;
		}
		cpu_relax();
	}
}

/* --- writers ---------------------------------------------------------------- */

int console_add(struct console_src *q, const char *name)
{
	int err = -E_NOMEM;

	spin_lock(&con.lock);
	for (u32 i = 1; i <= CONSOLE_SRCS && err; i++) {
		if (!con.srcs[i]) {
			con.srcs[i] = q;
			con.used = MAX(con.used, i + 1);
			q->slot = i;
			q->name = name;
			err = 0;
		}
	}
	con.queued = true;
	spin_unlock(&con.lock);
	return err;
}

void console_remove(struct console_src *q)
{
	spin_lock(&con.lock);
	if (con.srcs[q->slot] == q)
		con.srcs[q->slot] = NULL;
	if (con.cur == q) {
		con.stage_len = con.stage_at = 0;
		stage("\r\n", 2);
		con.cur = NULL;
	}
	if (con.open == q)
		con.open = NULL;
	spin_unlock(&con.lock);
}

u64 console_room(const struct console_src *q)
{
	return CONSOLE_QUEUE_SIZE - (q->head - __atomic_load_n(&q->tail, __ATOMIC_ACQUIRE));
}

/* With its queue full, a writer waits while the UART goes on taking bytes
 * (and sends anyone's: it waits anyway); once it gave up, it gives up at
 * once until there is room again. A queue the prompt holds is not waited
 * for: the person at it may take minutes. */
static bool wait_room(struct console_src *q)
{
	u64 start = rdtsc(), sent = con.sent;

	while (!console_room(q)) {
		if (q->lost || con.panic_cpu >= 0 || held(q))
			return false;
		if (con.sent != sent) {
			sent = con.sent;
			start = rdtsc();
		} else if (rdtsc() - start >= tx_wait()) {
			return false;
		}
		console_service(NULL, true, rdtsc());
		cpu_relax();
	}
	return true;
}

static void tell_loss(struct console_src *q)
{
	u64 lost = q->lost;

	q->lost = 0;
	pr_warn("console: %lu bytes of %s lost: the UART took nothing for %u ms, or the hv> "
		"prompt held them\n",
		lost, q->name ? q->name : "the hypervisor's lines", CONSOLE_TX_WAIT_MS);
}

bool console_put(struct console_src *q, u8 c)
{
	u64 h = q->head;

	if (!console_room(q) && !wait_room(q)) {
		q->lost++;
		return false;
	}
	q->buf[h % CONSOLE_QUEUE_SIZE] = c;
	__atomic_store_n(&q->head, h + 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&con.puts, 1, __ATOMIC_RELEASE);
	if (!con.uart.base) /* no console: nothing waits */
		__atomic_store_n(&q->tail, h + 1, __ATOMIC_RELEASE);
	if (c == '\n' || (c != '\r' && ++q->wcol == CONSOLE_LINE_MAX)) {
		q->wcol = 0;
		__atomic_store_n(&q->ends, h + 1, __ATOMIC_RELEASE);
	}
	if (q->lost && q != &hv)
		tell_loss(q);
	return true;
}

void console_show(struct console_src *q)
{
	__atomic_store_n(&q->show, q->head, __ATOMIC_RELEASE);
	__atomic_fetch_add(&con.puts, 1, __ATOMIC_RELEASE);
}

void console_end_line(struct console_src *q)
{
	if (q->wcol)
		console_put(q, '\n');
}

/* --- the hypervisor's lines ------------------------------------------------- */

/* Straight to the UART, waiting for it; once it took nothing for
 * CONSOLE_TX_WAIT_MS, the rest is given up at once. */
static void emit_direct(const char *s, size_t len)
{
	for (size_t i = 0; i < len && con.uart.base && !con.dead; i++) {
		if ((s[i] == '\n' && !uart_putc(&con.uart, '\r', tx_wait())) ||
		    !uart_putc(&con.uart, s[i], tx_wait()))
			con.dead = true;
	}
}

void console_write(const char *s, size_t len)
{
	if (con.panic_cpu >= 0) {
		if (con.panic_cpu == (int)panic_cpu_index())
			emit_direct(s, len);
		return;
	}
	spin_lock(&con.hv_lock);
	for (size_t i = 0; i < len; i++)
		console_put(&hv, (u8)s[i]);
	spin_unlock(&con.hv_lock);
	if (hv.lost)
		tell_loss(&hv);
	if (con.queued)
		console_service(NULL, false, rdtsc());
	else
		console_flush(); /* no partition yet: nothing else waits for the UART */
}

/* --- the hv> prompt (hv/console/command.c) ---------------------------------- */

void console_hold(bool on)
{
	con.holding = on;
	__atomic_fetch_add(&con.puts, 1, __ATOMIC_RELEASE); /* the others may be ready again */
	console_service(NULL, false, rdtsc());
}

/* One writer: the CPU that polls the console's input (input.c's lock). */
void console_prompt_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		console_put(&prompt, (u8)s[i]);
	console_show(&prompt); /* the prompt line goes out unfinished */
	console_service(NULL, false, rdtsc());
}

void console_panic(void)
{
	con.panic_cpu = (int)panic_cpu_index();
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (con.mid && con.cur != &hv)
		emit_direct("\n", 1);
	for (u32 n = 0; hv.tail != hv.head && n < CONSOLE_QUEUE_SIZE; n++) {
		char c = (char)hv.buf[hv.tail++ % CONSOLE_QUEUE_SIZE];

		if (c != '\r')
			emit_direct(&c, 1);
	}
}

void console_emergency(const char *text)
{
	emit_direct(text, strlen(text));
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
	return uart_getc(&con.uart);
}
