/*
 * The 16550A model at COM1 (hv/vdev/vuart.c): every byte sent goes to the
 * partition's console queue in order (the console's own rules are
 * test_console.c's), the transmitter-empty interrupt comes when the bytes
 * have taken their time at the divisor latch's baud rate while polled
 * output goes at once, LSR says not ready only while the queue is full,
 * the prompt of an idle writer is shown but not a pause in
 * interrupt-driven output, console input queued until the guest reads it
 * (and only a full queue drops, said once), IRQ 4 by interrupt priority
 * (PC16550D table 4), loopback through MCR/MSR, and a reset that forgets
 * everything.
 */
#include "hv/console/console.h"
#include "hv/hw/uart.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vclock.h"
#include "hv/vdev/vuart.h"
#include "tests/unit/test_vdev_fakes.h"

#define COM1 VUART_COM1_BASE
#define RBR (COM1 + 0)
#define DLL (COM1 + 0)
#define IER (COM1 + 1)
#define DLM (COM1 + 1)
#define IIR (COM1 + 2)
#define FCR (COM1 + 2)
#define LCR (COM1 + 3)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MSR (COM1 + 6)

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE 0x20
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define QUEUE 4096 /* RX_QUEUE_SIZE */

#define HZ 115200000ULL /* the fake TSC: one bit at 115200 baud is 1000 ticks */
#define CHAR_8N1 10000	/* a start bit, 8 data bits, a stop bit */

/* --- what the model calls ------------------------------------------------- */

static struct console_src *queue; /* the one console_add was given */
static u32 shows, services;
static u64 service_due;	    /* what console_service says */
static bool service_drains; /* ... after sending everything queued */
static bool irq4;
static u64 now;
static u32 kicks;
static struct vcpu cpu0;

int console_add(struct console_src *q, const char *name)
{
	q->name = name;
	queue = q;
	return 0;
}

void console_remove(struct console_src *q)
{
	assert_ptr_equal(q, queue);
	queue = NULL;
}

u64 console_room(const struct console_src *q)
{
	return CONSOLE_QUEUE_SIZE - (q->head - q->tail);
}

bool console_put(struct console_src *q, u8 c)
{
	assert_true(console_room(q) > 0);
	q->buf[q->head++ % CONSOLE_QUEUE_SIZE] = c;
	q->wcol = c == '\n' ? 0 : q->wcol + (c != '\r');
	return true;
}

void console_show(struct console_src *q)
{
	q->show = q->head;
	shows++;
}

void console_end_line(struct console_src *q)
{
	if (q->wcol)
		console_put(q, '\n');
}

u64 console_service(struct console_src *own, bool idle, u64 at)
{
	assert_ptr_equal(own, queue);
	assert_false(idle);
	assert_int_equal(at, now);
	services++;
	if (service_drains)
		own->tail = own->head;
	return service_due;
}

void virq_set_level(struct vdev_registry *reg, u32 gsi, bool asserted)
{
	assert_ptr_equal(reg, &test_part.vdevs);
	assert_int_equal(gsi, PLAT_IRQ_COM1);
	assert_true(asserted != irq4); /* the model reports changes only */
	irq4 = asserted;
}

static u64 clock_now(void)
{
	return now;
}

static void fake_clock(struct vclock *clk)
{
	*clk = (struct vclock){ clock_now, HZ };
}

static void fake_kick(struct vcpu *v, u32 req)
{
	assert_ptr_equal(v, &cpu0);
	assert_int_equal(req, 0);
	kicks++;
}

/* --- the device under test ------------------------------------------------ */

static struct vuart *uart;

static int setup(void **state)
{
	(void)state;
	part_init(1);
	memset(&cpu0, 0, sizeof(cpu0));
	test_part.vcpus[0] = &cpu0;
	fake_host.clock = fake_clock;
	fake_host.kick = fake_kick;
	queue = NULL;
	shows = services = kicks = 0;
	service_due = 0;
	service_drains = false;
	irq4 = false;
	now = 1000000;
	uart = create_device(&vuart_type);
	assert_non_null(uart);
	assert_non_null(queue);
	assert_string_equal(queue->name, "test");
	return 0;
}

static void uart_out(u16 port, u8 v)
{
	io_out(port, 1, v);
}

static u8 uart_in(u16 port)
{
	return (u8)io_in(port, 1);
}

static void send(const char *s)
{
	while (*s)
		uart_out(COM1, (u8)*s++);
}

/* The bytes queued for the console, as a string. */
static const char *queued(void)
{
	static char text[CONSOLE_QUEUE_SIZE + 1];
	u64 n = queue->head - queue->tail;

	for (u64 i = 0; i < n; i++)
		text[i] = (char)queue->buf[(queue->tail + i) % CONSOLE_QUEUE_SIZE];
	text[n] = 0;
	return text;
}

/* The partition's timer, as vCPU 0's CPU runs it at now. */
static u64 timer(void)
{
	return vuart_type.timer(uart, now);
}

/* What the guest's driver reads: everything while LSR says data ready. */
static size_t drain(u8 *buf, size_t size)
{
	size_t n = 0;

	while (uart_in(LSR) & LSR_DR) {
		assert_true(n < size);
		buf[n++] = uart_in(RBR);
	}
	return n;
}

/* 8N1 at 115200 / divisor, the transmitter-empty interrupt on IRQ 4. */
static void interrupt_driven(u16 divisor)
{
	uart_out(LCR, LCR_DLAB);
	uart_out(DLL, (u8)divisor);
	uart_out(DLM, (u8)(divisor >> 8));
	uart_out(LCR, LCR_8N1);
	uart_out(MCR, MCR_OUT2);
	uart_out(IER, IER_THRI);
	assert_true(irq4); /* enabled with the transmitter empty: at once */
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_THRI);
	assert_false(irq4); /* reading IIR cleared it */
}

static void test_sent_bytes_are_queued_in_order(void **state)
{
	(void)state;
	send("first line\r\nsecond");
	assert_string_equal(queued(), "first line\r\nsecond");
	assert_int_equal(services, strlen("first line\r\nsecond")); /* each write, a look */
}

/* Linux's 8250 writes a FIFO's worth per transmitter-empty interrupt: the
 * next comes once those bytes have had their time on the line, at the
 * baud rate of the divisor latch, not at once. */
static void test_the_transmitter_empty_interrupt_comes_at_the_baud_rate(void **state)
{
	(void)state;
	interrupt_driven(1); /* 115200 baud */
	send("0123456789abcdef");
	assert_false(irq4);
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_NONE);
	assert_int_equal(kicks, 1); /* the timer was not set: now it is */
	assert_int_equal(timer(), now + 16 * CHAR_8N1);
	now += 16 * CHAR_8N1 - 1;
	timer();
	assert_false(irq4);
	now += 1;
	timer();
	assert_true(irq4);
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_THRI);
	assert_false(irq4);
	/* 9600 baud (Linux's default): the physical console's 115200 still, the
	 * line the bytes go out on */
	uart_out(LCR, LCR_DLAB);
	uart_out(DLL, 12);
	uart_out(LCR, LCR_8N1);
	send("x");
	assert_int_equal(timer(), now + CHAR_8N1);
	now += CHAR_8N1;
	timer();
	assert_true(irq4);
	assert_int_equal(queue->head, 17); /* nothing lost on the way */
}

/* A FIFO written on the paced interrupt: the stream keeps the baud rate
 * when the guest comes late to the interrupt (the way to a vCPU on a busy
 * host): behind the schedule the next interrupt comes at once, for up to
 * TX_CATCH_UP_CHARS (1024) of lateness; on the schedule never at once
 * after a write (its handler would loop); and a stream the driver ended
 * (IER.THRI off) starts again at the baud rate. */
static void test_a_late_refill_keeps_the_stream_at_the_baud_rate(void **state)
{
	u64 due;

	(void)state;
	interrupt_driven(1);
	send("0123456789abcdef");
	due = now + 16 * CHAR_8N1;
	now = due;
	timer();
	assert_true(irq4);   /* the schedule's interrupt: a stream */
	now += 5 * CHAR_8N1; /* the guest comes 5 characters late */
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_THRI);
	send("0123456789abcdef");
	assert_int_equal(timer(), due + 16 * CHAR_8N1); /* not now + 16 */
	due += 16 * CHAR_8N1;
	now = due;
	timer();
	assert_true(irq4);
	now += 40 * CHAR_8N1; /* later than a FIFO's time: caught up at once */
	uart_in(IIR);
	send("0123456789abcdef");
	timer();
	assert_true(irq4); /* still 24 characters behind */
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_THRI);
	send("0123456789abcdef");
	timer();
	assert_true(irq4); /* 8 behind */
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_THRI);
	send("0123456789abcdef");
	assert_int_equal(timer(), now + 8 * CHAR_8N1);	 /* on the schedule again */
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_NONE); /* not at once */
	due = now + 8 * CHAR_8N1;
	now = due;
	timer();
	assert_true(irq4);
	now += 5000 * CHAR_8N1; /* later than the catch-up: made up only so far */
	uart_in(IIR);
	for (u32 i = 0; i < 1024 / 16; i++) {
		send("0123456789abcdef");
		timer();
		assert_int_equal(uart_in(IIR) & 0x0f, IIR_THRI);
	}
	send("0123456789abcdef");
	assert_int_equal(timer(), now + 16 * CHAR_8N1);
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_NONE);
	/* the driver had nothing more to send: a new stream, at the baud rate */
	uart_out(IER, 0);
	now += 100 * CHAR_8N1;
	uart_out(IER, IER_THRI);
	assert_true(irq4);
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_THRI);
	send("0123456789abcdef");
	assert_int_equal(timer(), now + 16 * CHAR_8N1);
}

/* Polled output (the kernel's console) is not slowed down: LSR says ready
 * whenever the console queue has a FIFO's worth of room (SPEC 4: not ready
 * only while the console is behind), and then the interrupt waits too. */
static void test_lsr_is_ready_while_the_queue_has_room(void **state)
{
	(void)state;
	interrupt_driven(1);
	send("abc");
	assert_true(uart_in(LSR) & LSR_THRE);
	queue->tail = queue->head - CONSOLE_QUEUE_SIZE + UART_FIFO_SIZE - 1;
	assert_false(uart_in(LSR) & LSR_THRE);
	now += 100 * CHAR_8N1;
	service_due = now + 1000;
	assert_int_equal(timer(), service_due); /* the console's look, not the past */
	assert_false(irq4);
	queue->tail++;
	assert_true(uart_in(LSR) & LSR_THRE);
	assert_true(irq4);
}

/* With the queue full the driver waits for the interrupt and does not
 * come back: when the timer's look at the console makes room, the
 * interrupt comes on that look (a later one may never come). */
static void test_room_made_on_the_timer_raises_the_interrupt(void **state)
{
	(void)state;
	interrupt_driven(1);
	send("0123456789abcdef");
	queue->tail = queue->head - CONSOLE_QUEUE_SIZE;
	now += 16 * CHAR_8N1;
	service_due = now + 1000;
	assert_int_equal(timer(), service_due); /* full: the console looks again */
	assert_false(irq4);
	now = service_due;
	service_due = 0; /* all sent: the console has nothing more to do */
	service_drains = true;
	timer();
	assert_true(irq4);
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_THRI);
}

/* A write that leaves bytes for the console asks the partition's timer to
 * come by when the console wants to look again, unless it comes sooner. */
static void test_a_write_sets_the_timer_for_the_console(void **state)
{
	(void)state;
	service_due = now + 5000;
	send("a");
	assert_int_equal(kicks, 1);
	send("b");
	assert_int_equal(kicks, 1);
	assert_int_equal(timer(), service_due);
	service_due = 0;
	assert_int_equal(timer(), 0); /* nothing waits */
	send("c");
	assert_int_equal(kicks, 1);
}

/* THR writes by vCPU V, which then halts. */
static void send_from(struct vcpu *v, const char *s)
{
	while (*s)
		io_rw(v, COM1, 1, true, (u8)*s++);
	v->run_state = VCPU_HALTED;
}

/* The unfinished line of a writer that stopped and waits is shown: a
 * prompt. Not while it runs on, nor too soon, nor while its driver is in
 * the middle of interrupt-driven output (a pause for the transmitter). */
static void test_a_prompt_is_shown_but_not_a_pause(void **state)
{
	struct vcpu shell = { 0 };
	u64 wait = 50 * CHAR_8N1;

	(void)state;
	send_from(&shell, "done\ntessera:/# ");
	shell.run_state = VCPU_RUNNING;
	vuart_show_open(uart, now + wait, wait);
	assert_int_equal(shows, 0); /* it runs on */
	shell.run_state = VCPU_HALTED;
	vuart_show_open(uart, now + wait - 1, wait);
	assert_int_equal(shows, 0); /* not waited long enough */
	uart_out(IER, IER_THRI);
	vuart_show_open(uart, now + wait, wait);
	assert_int_equal(shows, 0); /* its driver waits for the transmitter */
	uart_out(IER, 0);
	vuart_show_open(uart, now + wait, wait);
	assert_int_equal(shows, 1);
	assert_int_equal(queue->show, queue->head);
	send_from(&shell, "ls\n");
	vuart_show_open(uart, now + wait, wait);
	assert_int_equal(shows, 1); /* a whole line: nothing to show */
}

/* Only a partition whose console is its COM1 has one (SPEC 4). */
static void test_only_with_console_vuart(void **state)
{
	(void)state;
	teardown(NULL);
	part_init(1);
	test_cfg.console = CONFIG_CONSOLE_NONE;
	assert_null(create_device(&vuart_type));
	assert_int_equal(test_part.vdevs.count, 0);
	assert_null(vdev_find_io(&test_part.vdevs, COM1));
}

/* What it says when the partition stops: the input it had to drop. */
static void test_stats_count_lost_input(void **state)
{
	(void)state;
	printk_count = 0;
	vuart_type.stats(uart);
	assert_int_equal(printk_count, 0); /* nothing lost, nothing said */
	for (u32 i = 0; i < QUEUE + 3; i++)
		vuart_input(uart, 'x');
	vuart_type.stats(uart);
	assert_string_equal(printk_last, "hv: partition test: console input lost 3 bytes\n");
}

static void test_stopping_ends_the_partial_line(void **state)
{
	(void)state;
	send("no newline");
	vuart_type.stopped(uart);
	assert_string_equal(queued(), "no newline\n");
	vuart_type.stopped(uart);
	assert_string_equal(queued(), "no newline\n");
}

/* A failed build takes the queue off the console. */
static void test_free_leaves_the_console(void **state)
{
	(void)state;
	vuart_type.free(uart);
	assert_null(queue);
}

static void test_recent_output_is_kept(void **state)
{
	u8 buf[64];
	u64 start, total;
	u32 n;

	(void)state;
	send("abc\r\ndef");
	n = vuart_console_read(uart, 0, buf, sizeof(buf), &start, &total);
	assert_int_equal(n, 8);
	assert_int_equal(start, 0);
	assert_int_equal(total, 8);
	assert_memory_equal(buf, "abc\r\ndef", 8);
	n = vuart_console_read(uart, 5, buf, sizeof(buf), &start, &total);
	assert_int_equal(n, 3);
	assert_int_equal(start, 5);
	assert_memory_equal(buf, "def", 3);
	/* a reset (restart) keeps what it wrote */
	vuart_type.reset(uart);
	assert_int_equal(vuart_console_read(uart, 0, buf, 3, &start, &total), 3);
	assert_memory_equal(buf, "abc", 3);
}

static void test_input_waits_in_order(void **state)
{
	static u8 got[QUEUE + 1];

	(void)state;
	for (u32 i = 0; i < QUEUE; i++)
		vuart_input(uart, (u8)(i * 7));
	assert_int_equal(drain(got, sizeof(got)), QUEUE);
	for (u32 i = 0; i < QUEUE; i++)
		assert_int_equal(got[i], (u8)(i * 7));
	assert_int_equal(vuart_input_lost(uart), 0);
	assert_int_equal(printk_count, 0);
}

static void test_a_full_queue_drops_and_says_so_once(void **state)
{
	static u8 got[QUEUE + 1];

	(void)state;
	for (u32 i = 0; i < QUEUE + 10; i++)
		vuart_input(uart, 'a');
	assert_int_equal(vuart_input_lost(uart), 10);
	assert_int_equal(printk_count, 1);
	assert_non_null(strstr(printk_last, "partition test: console input lost"));
	/* the guest read a byte: the next loss is said again */
	assert_int_equal(uart_in(RBR), 'a');
	vuart_input(uart, 'b');
	vuart_input(uart, 'c');
	assert_int_equal(vuart_input_lost(uart), 11);
	assert_int_equal(printk_count, 2);
	assert_int_equal(drain(got, sizeof(got)), QUEUE);
	assert_int_equal(got[QUEUE - 1], 'b');
}

static void test_irq4_follows_interrupt_priority(void **state)
{
	(void)state;
	interrupt_driven(1);
	uart_out(IER, IER_RDI | IER_THRI);
	vuart_input(uart, 'k');
	assert_true(irq4);
	uart_out(COM1, 'x');
	now += CHAR_8N1;
	timer(); /* THRE pending too: received data comes first */
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_RDI);
	assert_int_equal(uart_in(RBR), 'k');
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_THRI);
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_NONE);
	assert_false(irq4);
}

static void test_irq4_needs_out2(void **state)
{
	(void)state;
	uart_out(IER, IER_RDI);
	vuart_input(uart, 'k');
	assert_false(irq4);
	uart_out(MCR, MCR_OUT2);
	assert_true(irq4);
	uart_in(RBR);
	assert_false(irq4);
}

static void test_fifo_clear_drops_queued_input(void **state)
{
	(void)state;
	vuart_input(uart, 'k');
	uart_out(FCR, 0x01);
	assert_true(uart_in(LSR) & LSR_DR);
	uart_out(FCR, 0x03);
	assert_false(uart_in(LSR) & LSR_DR);
}

/* Linux's 8250 probe: in loopback, what is sent comes back, MCR's outputs
 * show as MSR's inputs, and nothing reaches the console. */
static void test_loopback(void **state)
{
	(void)state;
	uart_out(MCR, MCR_LOOP | 0x0f);
	assert_int_equal(uart_in(MSR) & 0xf0, 0xf0);
	uart_out(MCR, MCR_LOOP);
	assert_int_equal(uart_in(MSR) & 0xf0, 0);
	uart_out(COM1, 0x5a);
	assert_true(uart_in(LSR) & LSR_DR);
	assert_int_equal(uart_in(RBR), 0x5a);
	assert_int_equal(queue->head, 0);
	uart_out(MCR, 0);
	assert_int_equal(uart_in(MSR) & 0xb0, 0xb0); /* DCD, DSR, CTS: a terminal */
}

static void test_reset_forgets_everything(void **state)
{
	(void)state;
	uart_out(MCR, MCR_OUT2);
	uart_out(IER, IER_RDI);
	for (u32 i = 0; i < QUEUE + 1; i++)
		vuart_input(uart, 'z');
	assert_int_equal(vuart_input_lost(uart), 1);
	uart_out(COM1, 'o'); /* a byte on its way out: the transmitter is busy */
	vuart_type.reset(uart);
	irq4 = false; /* the I/O APIC's reset, after it, lowers every input */
	assert_false(uart_in(LSR) & LSR_DR);
	assert_int_equal(uart_in(IER), 0);
	assert_int_equal(vuart_input_lost(uart), 0);
	vuart_input(uart, 'y');
	assert_false(irq4); /* OUT2 and IER start cleared */
	uart_out(MCR, MCR_OUT2);
	uart_out(IER, IER_RDI);
	assert_true(irq4); /* raised again: the model knew its line was low */
	uart_in(RBR);
	uart_out(IER, IER_THRI);
	assert_true(irq4);		    /* the transmitter starts empty */
	assert_string_equal(queued(), "o"); /* what was sent still goes out */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sent_bytes_are_queued_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_the_transmitter_empty_interrupt_comes_at_the_baud_rate, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_a_late_refill_keeps_the_stream_at_the_baud_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lsr_is_ready_while_the_queue_has_room, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_room_made_on_the_timer_raises_the_interrupt,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_write_sets_the_timer_for_the_console, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_prompt_is_shown_but_not_a_pause, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stopping_ends_the_partial_line, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_free_leaves_the_console, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recent_output_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_input_waits_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_full_queue_drops_and_says_so_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_irq4_follows_interrupt_priority, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_irq4_needs_out2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fifo_clear_drops_queued_input, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_forgets_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_only_with_console_vuart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_count_lost_input, setup, teardown),
	};

	return cmocka_run_group_tests_name("vdev_uart", tests, NULL, NULL);
}
