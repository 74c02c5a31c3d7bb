/*
 * The 16550A model at COM1 (hv/vdev/vuart.c): lines to the console whole
 * and in order, console input queued until the guest reads it (and only a
 * full queue drops, said once), IRQ 4 by interrupt priority (PC16550D
 * table 4), loopback through MCR/MSR, and a reset that forgets everything.
 */
#include "hv/vdev/platform.h"
#include "hv/vdev/vuart.h"
#include "tests/unit/test_vdev_fakes.h"

#define COM1 VUART_COM1_BASE
#define RBR (COM1 + 0)
#define IER (COM1 + 1)
#define IIR (COM1 + 2)
#define FCR (COM1 + 2)
#define MCR (COM1 + 4)
#define LSR (COM1 + 5)
#define MSR (COM1 + 6)

#define IER_RDI 0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI 0x04
#define LSR_DR 0x01
#define MCR_OUT2 0x08
#define MCR_LOOP 0x10
#define QUEUE 4096 /* RX_QUEUE_SIZE */

/* --- what the model calls ------------------------------------------------- */

static char console[8192];
static size_t console_len;
static const char *console_open; /* whose line the console has open */
static bool irq4;

static void console_add(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(console + console_len, sizeof(console) - console_len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && console_len + (size_t)n < sizeof(console));
	console_len += (size_t)n;
}

void console_partition_text(const char *name, const char *text, size_t len, bool eol)
{
	console_add("[%s%s] %.*s%s", name, eol ? "" : " open", (int)len, text, eol ? "\n" : "");
	console_open = eol ? NULL : name;
}

bool console_partition_more(const char *name, const char *text, size_t len)
{
	if (console_open != name)
		return false;
	console_add("%.*s", (int)len, text);
	return true;
}

/* Another partition's line, which ends any open one. */
static void console_other_line(void)
{
	console_add("%s[other] line\n", console_open ? "\n" : "");
	console_open = NULL;
}

void virq_set_level(struct vdev_registry *reg, u32 gsi, bool asserted)
{
	assert_ptr_equal(reg, &test_part.vdevs);
	assert_int_equal(gsi, PLAT_IRQ_COM1);
	assert_true(asserted != irq4); /* the model reports changes only */
	irq4 = asserted;
}

/* --- the device under test ------------------------------------------------ */

static struct vuart *uart;

static int setup(void **state)
{
	(void)state;
	part_init(1);
	console_len = 0;
	console[0] = 0;
	console_open = NULL;
	irq4 = false;
	uart = create_device(&vuart_type);
	assert_non_null(uart);
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

static void test_lines_reach_the_console_whole(void **state)
{
	(void)state;
	send("first line\r\nsecond");
	assert_string_equal(console, "[test] first line\n");
	send(" half\n\n");
	assert_string_equal(console, "[test] first line\n[test] second half\n[test] \n");
}

static void test_a_long_line_continues_on_the_next(void **state)
{
	char line[2100];

	(void)state;
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = 0;
	send(line);
	send("\n");
	/* 1024 + 1024 + 51: three console lines, no byte lost */
	assert_int_equal(console_len, 3 * strlen("[test] \n") + sizeof(line) - 1);
	assert_int_equal(strchr(console, '\n') - console, strlen("[test] ") + 1024);
}

/* THR writes by vCPU V, which then halts. */
static void send_from(struct vcpu *v, const char *s)
{
	while (*s)
		io_rw(v, COM1, 1, true, (u8)*s++);
	v->run_state = VCPU_HALTED;
}

static void test_a_prompt_is_shown_and_goes_on_until_others_write(void **state)
{
	struct vcpu shell = { 0 };

	(void)state;
	send_from(&shell, "tessera:/# ");
	vuart_show_open(uart, rdtsc(), 1ULL << 40); /* not waited long enough */
	assert_int_equal(console_len, 0);
	vuart_show_open(uart, rdtsc() + (1ULL << 40), 1ULL << 40);
	assert_string_equal(console, "[test open] tessera:/# ");
	send_from(&shell, "ec"); /* the echo of typed keys, as they come */
	assert_string_equal(console, "[test open] tessera:/# ec");
	console_other_line();
	/* the rest of the line waits, then goes whole, however it is written */
	send_from(&shell, "ho TESSERA-BEAT 46\r\n");
	assert_string_equal(console, "[test open] tessera:/# ec\n[other] line\n"
				     "[test] ho TESSERA-BEAT 46\n");
	send_from(&shell, "TESSERA-BEAT 47\n");
	assert_string_equal(strrchr(console, '['), "[test] TESSERA-BEAT 47\n");
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

static void test_flush_writes_the_partial_line(void **state)
{
	(void)state;
	send("no newline");
	assert_int_equal(console_len, 0);
	vuart_type.stopped(uart);
	assert_string_equal(console, "[test] no newline\n");
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
	uart_out(MCR, MCR_OUT2);
	uart_out(IER, IER_RDI | IER_THRI);
	/* enabling THRE interrupts with an empty THR raises one */
	assert_true(irq4);
	assert_int_equal(uart_in(IIR) & 0x0f, IIR_THRI);
	assert_false(irq4); /* reading IIR cleared it */
	vuart_input(uart, 'k');
	assert_true(irq4);
	uart_out(COM1, 'x'); /* THRE pending too: received data comes first */
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
	assert_int_equal(console_len, 0);
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
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lines_reach_the_console_whole, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_a_long_line_continues_on_the_next, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_a_prompt_is_shown_and_goes_on_until_others_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_writes_the_partial_line, setup,
						teardown),
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
