/*
 * The console (hv/console/console.c) on a fake UART: whole lines with
 * their "[NAME] " prefix, turns between the writers, the hypervisor among
 * them, each CPU sending only what it may and only what the UART takes at
 * that moment, a shown line left open, long lines cut, a full queue that
 * waits and then says what it lost, the hv> prompt holding the others'
 * lines while it is open; and the crash path: a CPU that takes
 * the console over while another one is in the middle of a line gets its
 * whole dump out, however that other CPU goes on.
 *
 * The console keeps its state for the whole program: the tests run in
 * order, each leaves every queue empty, and the takeover (for good) comes
 * last.
 */
#define _DEFAULT_SOURCE /* usleep, alarm */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "drivers/tsc.h"
#include "drivers/uart16550.h"
#include "hv/console/console.h"
#include "hv/cpu/panic.h"

#define ROOM UART_FIFO_SIZE /* what the fake UART takes per look, normally */
#define TIMEOUT_S 10	    /* a console call that hangs fails the test */

/* --- the fake UART and CPUs ------------------------------------------------ */

static char out[64 * 1024]; /* what the UART sent */
static size_t out_len;
static volatile u32 room = ROOM;    /* what uart_tx_room says */
static u32 looks;		    /* uart_tx_room calls */
static volatile long block_at = -1; /* uart_send of out[block_at] waits ... */
static volatile int blocked;	    /* ... and says so here, until released */
static volatile int released;
static _Thread_local u32 cpu; /* the CPU a thread plays */
static u32 tx_busy_looks;     /* uart_tx_done says "not yet" this many times */
static u32 tx_done_looks;     /* uart_tx_done calls */

bool uart_init(struct uart *u, u16 base, u32 baud)
{
	(void)baud;
	u->base = base;
	u->fifo = UART_FIFO_SIZE;
	return true;
}

/* A UART at 115200 baud: its FIFO takes ROOM bytes, says "full" once they
 * went in, and has emptied by the next call. One whose FIFO empties at once
 * (an emulator's: fast_fifo) says ROOM whenever it is asked. */
static bool fast_fifo;
static u32 in_fifo; /* bytes sent since the FIFO last said "full" */

u32 uart_tx_room(struct uart *u)
{
	(void)u;
	looks++;
	if (in_fifo && !fast_fifo) {
		in_fifo = 0;
		return 0;
	}
	in_fifo = 0;
	return room;
}

void uart_send(struct uart *u, char c)
{
	(void)u;
	if ((long)out_len == block_at) {
		__atomic_store_n(&blocked, 1, __ATOMIC_SEQ_CST);
		while (!__atomic_load_n(&released, __ATOMIC_SEQ_CST))
			usleep(1000);
	}
	assert_true(out_len < sizeof(out));
	in_fifo++;
	out[out_len++] = c;
	out[out_len] = 0;
}

bool uart_tx_done(struct uart *u)
{
	(void)u;
	tx_done_looks++;
	if (tx_busy_looks) {
		tx_busy_looks--;
		return false;
	}
	return true;
}

bool uart_putc(struct uart *u, char c, u64 wait)
{
	(void)wait;
	uart_send(u, c);
	in_fifo = 0; /* it waits for the FIFO itself */
	return true;
}

int uart_getc(struct uart *u)
{
	(void)u;
	return -1;
}

u64 tsc_hz(void)
{
	return 1000000; /* the host's TSC is faster: waits are shorter than said */
}

u32 panic_cpu_index(void)
{
	return cpu;
}

void panic_test_point(void)
{
}

static void clear_out(void)
{
	in_fifo = 0;
	out_len = 0;
	out[0] = 0;
}

static void put(struct console_src *q, const char *s)
{
	while (*s)
		assert_true(console_put(q, (u8)*s++));
}

/* Services as CPU OWN (or idle) until nothing more goes out (twice: the
 * first call may find the FIFO full). */
static void service(struct console_src *own, bool idle)
{
	for (int idle_calls = 0; idle_calls < 2;) {
		size_t before = out_len;

		console_service(own, idle, 0);
		idle_calls = out_len == before ? idle_calls + 1 : 0;
	}
}

static struct console_src a, b;

static void test_hypervisor_lines_go_at_once_before_partitions(void **state)
{
	(void)state;
	console_init("");
	assert_string_equal(out, "\r\n"); /* a fresh line for a start */
	clear_out();
	printk("hv: one\n");
	pr_info("two %d\n", 2);
	assert_string_equal(out, "hv: one\r\nhv: two 2\r\n");
	clear_out();
}

static void test_partition_lines_go_whole_with_their_prefix(void **state)
{
	(void)state;
	assert_int_equal(console_add(&a, "linux-a"), 0);
	assert_int_equal(console_add(&b, "b"), 0);
	put(&a, "first\r\nsecond");
	service(&a, false);
	assert_string_equal(out, "[linux-a] first\r\n"); /* the second waits for its end */
	put(&a, " half\n\n");
	service(&a, false);
	assert_string_equal(out, "[linux-a] first\r\n[linux-a] second half\r\n[linux-a] \r\n");
	clear_out();
}

/* Each call sends what the UART takes at that moment and no more. */
static void test_bounded_work_per_call(void **state)
{
	char line[101];

	(void)state;
	memset(line, 'x', 99);
	line[99] = '\n';
	line[100] = 0;
	put(&a, line);
	console_service(&a, false, 0);
	assert_int_equal(out_len, ROOM);
	room = 3;
	console_service(&a, false, 0);
	assert_int_equal(out_len, ROOM + 3);
	room = 0;
	assert_int_not_equal(console_service(&a, false, 1000), 0); /* come again */
	assert_int_equal(out_len, ROOM + 3);
	room = ROOM;
	service(&a, false);
	assert_int_equal(out_len, strlen("[linux-a] ") + 99 + 2);
	assert_int_equal(console_service(&a, false, 1000), 0); /* nothing waits */
	clear_out();
}

/* A UART whose FIFO empties at once (an emulator's) is asked again, up to
 * CONSOLE_BURST bytes per call: the console is not held to a FIFO per call
 * where the line is faster than that. */
static void test_a_fast_uart_takes_a_burst_per_call(void **state)
{
	const size_t burst = 256; /* CONSOLE_BURST */
	char line[65];

	(void)state;
	memset(line, 'f', 63);
	line[63] = '\n';
	line[64] = 0;
	for (int i = 0; i < 8; i++)
		put(&a, line); /* 8 * (10 + 63 + 2) = 600 bytes out */
	fast_fifo = true;
	console_service(&a, false, 0);
	assert_int_equal(out_len, burst);
	console_service(&a, false, 0);
	assert_int_equal(out_len, 2 * burst);
	fast_fifo = false;
	in_fifo = 0; /* a UART at 115200 now, its FIFO empty */
	console_service(&a, false, 0);
	assert_int_equal(out_len, 2 * burst + ROOM);
	service(&a, false);
	assert_int_equal(out_len, 8 * (strlen("[linux-a] ") + 63 + 2));
	clear_out();
}

/* A partition's CPU sends its own lines and the hypervisor's, never
 * another partition's; a CPU with nothing to run sends anyone's. */
static void test_a_cpu_sends_only_what_it_may(void **state)
{
	(void)state;
	put(&b, "from b\n");
	service(&a, false);
	assert_string_equal(out, "");
	assert_int_equal(console_service(&a, false, 1000), 0); /* not a's to wait for */
	/* b's line started on b's CPU: a's CPU does not finish it either */
	room = 4;
	console_service(&b, false, 0);
	put(&a, "from a\n");
	room = ROOM;
	service(&a, false);
	assert_string_equal(out, "[b] ");
	service(NULL, true);
	assert_string_equal(out, "[b] from b\r\n[linux-a] from a\r\n");
	clear_out();
}

/* A partition's CPU that does not come (a guest that never exits) does not
 * hold the console up: once the UART took nothing for CONSOLE_HELP_US,
 * whoever passes sends its line on, a FIFO's worth at a time. */
static void test_others_help_once_the_console_stands_idle(void **state)
{
	const u64 help = 2000; /* CONSOLE_HELP_US at the fake 1 MHz TSC */
	u64 t = 1ULL << 40;    /* after anything the real TSC stamped */

	(void)state;
	put(&b, "b's line is long\n");
	console_service(&b, false, t);
	assert_int_equal(out_len, ROOM);
	console_service(&a, false, t + help - 1);
	assert_int_equal(out_len, ROOM);
	console_service(&a, false, t + help);
	assert_int_equal(out_len, strlen("[b] b's line is long\r\n"));
	assert_string_equal(out, "[b] b's line is long\r\n");
	put(&a, "a's turn\n"); /* the next turn is a's: as it was */
	service(&a, false);
	clear_out();
}

/* Whoever has a whole line waiting gets a turn, the hypervisor too, and
 * a line on its way is not cut: a writer with many lines waiting (here the
 * hypervisor) cannot shut the others out. */
static void test_writers_take_turns(void **state)
{
	(void)state;
	put(&a, "a1\na2\n");
	put(&b, "b1\n");
	room = 5; /* "[b] b" */
	console_service(NULL, true, 0);
	room = 0;
	printk("hv: one\n");
	printk("hv: two\n");
	printk("hv: three\n");
	room = ROOM;
	service(NULL, true);
	assert_string_equal(out, "[b] b1\r\nhv: one\r\n[linux-a] a1\r\nhv: two\r\n"
				 "[linux-a] a2\r\nhv: three\r\n");
	clear_out();
}

static void test_a_long_line_goes_on_on_the_next(void **state)
{
	char line[2101];

	(void)state;
	memset(line, 'y', sizeof(line) - 2);
	line[sizeof(line) - 2] = '\n';
	line[sizeof(line) - 1] = 0;
	put(&a, line);
	service(&a, false);
	/* 1024 + 1024 + 51: three console lines, no byte lost */
	assert_int_equal(out_len, 3 * strlen("[linux-a] \r\n") + sizeof(line) - 2);
	assert_int_equal(strstr(out, "\r\n") - out, strlen("[linux-a] ") + CONSOLE_LINE_MAX);
	clear_out();
}

/* A shown line (a prompt) goes out unfinished and goes on as it is
 * written, until another line ends it; then its rest waits to go whole. */
static void test_a_shown_line_stays_open_until_others_write(void **state)
{
	(void)state;
	put(&a, "done\ntessera:/# ");
	service(&a, false);
	assert_string_equal(out, "[linux-a] done\r\n");
	console_show(&a);
	service(&a, false);
	assert_string_equal(out, "[linux-a] done\r\n[linux-a] tessera:/# ");
	put(&a, "ec");
	service(&a, false);
	assert_string_equal(out, "[linux-a] done\r\n[linux-a] tessera:/# ec");
	put(&b, "line\n");
	service(&b, false);
	put(&a, "ho TESSERA-BEAT 46\r\n");
	service(&a, false);
	assert_string_equal(out, "[linux-a] done\r\n[linux-a] tessera:/# ec\r\n[b] line\r\n"
				 "[linux-a] ho TESSERA-BEAT 46\r\n");
	clear_out();
}

static void test_end_line_ends_the_unfinished_line(void **state)
{
	(void)state;
	put(&b, "no newline");
	service(&b, false);
	assert_string_equal(out, "");
	console_end_line(&b);
	console_end_line(&b); /* nothing unfinished: nothing more */
	service(&b, false);
	assert_string_equal(out, "[b] no newline\r\n");
	clear_out();
}

/* SPEC 4: with its queue full a writer waits while the UART takes bytes;
 * when it takes none for CONSOLE_TX_WAIT_MS the byte is given up, the next
 * ones at once, and the loss is told once there is room again. */
static void test_a_full_queue_waits_then_gives_up_and_says_so(void **state)
{
	(void)state;
	room = 0;
	for (u32 i = 0; i < CONSOLE_QUEUE_SIZE; i++)
		assert_true(console_put(&b, i % 64 == 63 ? '\n' : 'z'));
	assert_int_equal(console_room(&b), 0);
	assert_false(console_put(&b, '1')); /* waited, then gave up */
	assert_false(console_put(&b, '2')); /* at once */
	assert_int_equal(b.lost, 2);
	room = ROOM;
	service(NULL, true);
	assert_int_equal(out_len, CONSOLE_QUEUE_SIZE / 64 * (strlen("[b] ") + 64 + 1));
	clear_out();
	assert_true(console_put(&b, '\n'));
	service(NULL, true);
	assert_string_equal(out, "hv: warning: console: 2 bytes of b lost: the UART took nothing "
				 "for 2000 ms, or the hv> prompt held them\r\n[b] \r\n");
	clear_out();
}

/* The hv> prompt (hv/console/command.c): while it is open, and until its
 * last bytes are out, only its own output goes out, its unfinished line
 * too; everyone else's waits in its queue and follows, nothing lost. */
static void test_the_prompt_holds_the_others_until_it_closes(void **state)
{
	(void)state;
	put(&a, "tessera:/# ");
	console_show(&a);
	service(&a, false);
	console_hold(true);
	console_prompt_write("hv> ", 4);
	put(&b, "held\n");
	printk("hv: held too\n");
	console_prompt_write("lx", 2);
	console_prompt_write("\b \b", 3);
	console_prompt_write("ist\n", 4);
	service(NULL, true);
	assert_string_equal(out, "[linux-a] tessera:/# \r\nhv> lx\b \bist\r\n");
	room = 4;
	console_prompt_write("later  stopped\n", 15);
	console_hold(false); /* the prompt's last line is not out yet */
	service(NULL, true);
	room = ROOM;
	service(NULL, true);
	assert_string_equal(out, "[linux-a] tessera:/# \r\nhv> lx\b \bist\r\nlater  stopped\r\n"
				 "[b] held\r\nhv: held too\r\n");
	clear_out();
}

/* A held queue that is full does not wait for the prompt to close (a
 * person may take minutes): the byte is given up and the loss told; the
 * hypervisor's lines go out anyway once half of their queue is used, so
 * that no printk waits for the prompt. */
static void test_a_held_queue_does_not_wait(void **state)
{
	char line[65];
	size_t held;

	(void)state;
	console_hold(true);
	console_prompt_write("hv> ", 4);
	service(NULL, true);
	clear_out();
	for (u32 i = 0; i < CONSOLE_QUEUE_SIZE; i++)
		assert_true(console_put(&b, i % 64 == 63 ? '\n' : 'z'));
	assert_false(console_put(&b, '1'));
	assert_int_equal(b.lost, 1);
	memset(line, 'h', 63);
	line[63] = '\n';
	line[64] = 0;
	for (u32 i = 0; i < CONSOLE_QUEUE_SIZE / 2 / 64 - 1; i++)
		printk("%s", line);
	service(NULL, true);
	assert_string_equal(out, ""); /* less than half of its queue: held */
	printk("%s", line);
	service(NULL, true);
	held = out_len;
	assert_true(held > 0 && held < CONSOLE_QUEUE_SIZE / 2);
	assert_int_equal(strncmp(out, "\r\nhhh", 5), 0); /* the prompt's line ended */
	assert_null(strstr(out, "[b]"));
	console_prompt_write("\n", 1);
	console_hold(false);
	service(NULL, true);
	assert_true(out_len > held + CONSOLE_QUEUE_SIZE);
	assert_true(console_put(&b, '\n')); /* room again: the loss is told */
	service(NULL, true);
	assert_non_null(strstr(out, "hv: warning: console: 1 bytes of b lost"));
	assert_int_equal(b.lost, 0);
	clear_out();
}

static void test_flush_sends_everything(void **state)
{
	(void)state;
	console_hold(true); /* a prompt left open does not keep them back */
	put(&a, "a\n");
	put(&b, "b\n");
	printk("hv: bye\n");
	tx_busy_looks = 3; /* the FIFO drains after the last byte went in */
	tx_done_looks = 0;
	console_flush();
	assert_string_equal(out, "hv: bye\r\n[linux-a] a\r\n[b] b\r\n");
	/* it returned only once the line was quiet (LSR.TEMT) */
	assert_int_equal(tx_busy_looks, 0);
	assert_true(tx_done_looks >= 4);
	clear_out();
}

/* --- the crash path (for good: last) ----------------------------------------- */

static void *cpu1_sends_a_line(void *arg)
{
	(void)arg;
	cpu = 1;
	console_service(&a, false, 0);
	return NULL;
}

/*
 * Tier 3: CPU 0 faults while CPU 1 is in the middle of a line (it holds
 * the console and is stuck in the UART). CPU 0 takes the console over: the
 * line is ended, the hypervisor's lines still queued go first, then every
 * line of the dump goes out whole and at once, also after CPU 1 moves on
 * (and gives the console back) in the middle of it; other CPUs' lines are
 * dropped.
 */
static void test_a_crash_takes_the_console_from_a_cpu_in_mid_line(void **state)
{
	pthread_t t;

	(void)state;
	alarm(TIMEOUT_S);
	cpu = 0;
	put(&a, "abcdefgh\n");
	block_at = (long)strlen("[linux-a] abcd");
	assert_int_equal(pthread_create(&t, NULL, cpu1_sends_a_line, NULL), 0);
	while (!__atomic_load_n(&blocked, __ATOMIC_SEQ_CST))
		usleep(1000);
	block_at = -1;
	printk("hv: queued before the crash\n"); /* the console is busy: it waits */
	console_panic();
	printk("hv: EXCEPTION #UD\n");
	__atomic_store_n(&released, 1, __ATOMIC_SEQ_CST); /* CPU 1 goes on ... */
	assert_int_equal(pthread_join(t, NULL), 0);	  /* ... and out */
	printk("hv: RIP 0\n");
	cpu = 2;
	printk("hv: from another CPU\n");
	cpu = 0;
	printk("hv: PANIC: unhandled exception in the hypervisor\n");
	alarm(0);
	/* CPU 1's byte in flight is the only one after the takeover */
	assert_string_equal(out, "[linux-a] abcd\r\nhv: queued before the crash\r\n"
				 "hv: EXCEPTION #UD\r\nehv: RIP 0\r\n"
				 "hv: PANIC: unhandled exception in the hypervisor\r\n");
	/* the others' service does nothing any more, nor asks to come again */
	assert_int_equal(console_service(&a, true, 1000), 0);
	clear_out();
	console_emergency("hv: last words\n");
	assert_string_equal(out, "hv: last words\r\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hypervisor_lines_go_at_once_before_partitions),
		cmocka_unit_test(test_partition_lines_go_whole_with_their_prefix),
		cmocka_unit_test(test_bounded_work_per_call),
		cmocka_unit_test(test_a_fast_uart_takes_a_burst_per_call),
		cmocka_unit_test(test_a_cpu_sends_only_what_it_may),
		cmocka_unit_test(test_others_help_once_the_console_stands_idle),
		cmocka_unit_test(test_writers_take_turns),
		cmocka_unit_test(test_a_long_line_goes_on_on_the_next),
		cmocka_unit_test(test_a_shown_line_stays_open_until_others_write),
		cmocka_unit_test(test_end_line_ends_the_unfinished_line),
		cmocka_unit_test(test_a_full_queue_waits_then_gives_up_and_says_so),
		cmocka_unit_test(test_the_prompt_holds_the_others_until_it_closes),
		cmocka_unit_test(test_a_held_queue_does_not_wait),
		cmocka_unit_test(test_flush_sends_everything),
		cmocka_unit_test(test_a_crash_takes_the_console_from_a_cpu_in_mid_line),
	};

	return cmocka_run_group_tests_name("console", tests, NULL, NULL);
}
