/* The console's command mode (hv/console/command.c, SPEC 7): Ctrl-A ':'
 * opens `hv> `, backspace edits, Enter runs the line as a control request
 * from the console and prints the response, the rest of the console is
 * held meanwhile; and the commands' parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hv/console/command.h"
#include "hv/console/focus.h"
#include "hv/control/control.h"
#include "hv/control/proto.h"
#include "hv/lib/lib.h"

/* --- fakes: the console and the service --------------------------------- */

static char out[4096];
static size_t out_len;
static int holds, releases;
static struct ctl_request asked;
static int calls;
static u32 answer = CTL_OK;

void console_prompt_write(const char *s, size_t len)
{
	assert_true(holds > releases); /* only while the rest is held */
	memcpy(out + out_len, s, len);
	out_len += len;
	out[out_len] = '\0';
}

void console_hold(bool on)
{
	if (on)
		holds++;
	else
		releases++;
}

u32 ctl_handle(struct partition *from, const void *req, u32 len, void *resp, u32 max)
{
	struct ctl_response *h = resp;

	assert_null(from); /* the console */
	assert_int_equal(len, sizeof(asked));
	assert_int_equal(ctl_parse(req, len, &asked), CTL_OK);
	assert_true(max >= sizeof(*h));
	calls++;
	*h = (struct ctl_response){ CTL_RESP_MAGIC, CTL_VERSION, asked.op, answer, sizeof(*h) };
	if (asked.op == CTL_OP_LIST && answer == CTL_OK) {
		struct ctl_list *l = (void *)(h + 1);

		memset(l, 0, sizeof(*l) + sizeof(l->part[0]));
		l->count = 1;
		strcpy(l->part[0].name, "guest");
		strcpy(l->part[0].cpus, "1-2");
		l->part[0].state = CTL_STATE_RUNNING;
		l->part[0].memory = 512 * MiB;
		l->part[0].uptime_ms = 61000;
		l->part[0].restarts = 2;
		h->length += sizeof(*l) + sizeof(l->part[0]);
	}
	return h->length;
}

/* --- driving it as input.c does ------------------------------------------- */

static struct command_line line;
static struct focus_state focus;
static char delivered[256]; /* what the partition with the focus got */
static size_t delivered_len;

static void type(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		u8 b = (u8)s[i], fw[FOCUS_SWITCH_PRESSES];
		u32 k;

		if (command_open(&line)) {
			command_feed(&line, b);
			continue;
		}
		if (focus_command(&focus, b)) {
			command_start(&line);
			continue;
		}
		if (focus_feed(&focus, b, fw, &k))
			continue;
		memcpy(delivered + delivered_len, fw, k);
		delivered_len += k;
	}
}

#define TYPE(s) type(s, sizeof(s) - 1)

static int setup(void **state)
{
	(void)state;
	memset(&line, 0, sizeof(line));
	memset(&focus, 0, sizeof(focus));
	out_len = delivered_len = 0;
	out[0] = '\0';
	holds = releases = calls = 0;
	answer = CTL_OK;
	return 0;
}

static void test_prompt_list(void **state)
{
	(void)state;
	TYPE("ab\x01:");
	assert_true(command_open(&line));
	assert_int_equal(holds, 1);
	assert_string_equal(out, "hv> ");
	TYPE("lisx\x7ft\r");
	assert_false(command_open(&line));
	assert_int_equal(releases, 1);
	assert_int_equal(calls, 1);
	assert_int_equal(asked.op, CTL_OP_LIST);
	assert_string_equal(out, "hv> lisx\b \bt\n"
				 "guest            running 1-2        512M        61s 2\n");
	/* the partition got what was typed outside the prompt, and only that */
	TYPE("c");
	assert_int_equal(delivered_len, 3);
	assert_memory_equal(delivered, "abc", 3);
}

static void test_stop_force_and_errors(void **state)
{
	(void)state;
	TYPE("\x01:stop  guest --force\r");
	assert_int_equal(asked.op, CTL_OP_STOP);
	assert_string_equal(asked.name, "guest");
	assert_int_equal(asked.flags, CTL_F_FORCE);
	assert_non_null(strstr(out, "guest: stopping\n"));
	out_len = 0;
	answer = CTL_E_NO_PARTITION;
	TYPE("\x01:start nope\r");
	assert_non_null(strstr(out, "nope: no such partition\n"));
	out_len = 0;
	TYPE("\x01:start\r");
	assert_non_null(strstr(out, "a partition name is needed\n"));
	out_len = 0;
	TYPE("\x01:reboot all\r");
	assert_non_null(strstr(out, "unknown command"));
	out_len = 0;
	TYPE("\x01:help\r");
	assert_non_null(strstr(out, "commands: list, start NAME"));
	assert_int_equal(calls, 2); /* only stop and start reached the service */
	assert_int_equal(holds, releases);
}

static void test_ctrl_c_cancels_and_switching_still_works(void **state)
{
	(void)state;
	TYPE("\x01:stop guest\x03");
	assert_false(command_open(&line));
	assert_int_equal(calls, 0);
	assert_int_equal(releases, 1);
	/* Ctrl-A three times still switches; Ctrl-A then x still reaches the guest */
	TYPE("\x01\x01\x01");
	assert_int_equal(delivered_len, 0);
	TYPE("\x01x");
	assert_int_equal(delivered_len, 2);
	assert_memory_equal(delivered, "\x01x", 2);
	/* two Ctrl-As then ':' is no prompt: both go to the guest with it */
	TYPE("\x01\x01:");
	assert_false(command_open(&line));
	assert_memory_equal(delivered + 2, "\x01\x01:", 3);
}

static void test_long_lines_are_bounded(void **state)
{
	char many[200];

	(void)state;
	memset(many, 'a', sizeof(many));
	TYPE("\x01:");
	type(many, sizeof(many));
	assert_int_equal(line.len, COMMAND_LINE_MAX - 1);
	TYPE("\r");
	assert_false(command_open(&line));
	assert_non_null(strstr(out, "unknown command"));
}

static void test_parse(void **state)
{
	struct ctl_request r;
	bool help;

	(void)state;
	assert_null(command_parse("restart web --force", &r, &help));
	assert_false(help);
	assert_int_equal(r.op, CTL_OP_RESTART);
	assert_int_equal(r.flags, CTL_F_FORCE);
	assert_null(command_parse(" stats web ", &r, &help));
	assert_int_equal(r.op, CTL_OP_STATS);
	assert_string_equal(r.name, "web");
	assert_null(command_parse("", &r, &help));
	assert_true(help);
	assert_non_null(command_parse("start web --force", &r, &help));
	assert_non_null(command_parse("start Web", &r, &help));
	assert_non_null(command_parse("list x", &r, &help));
	assert_non_null(command_parse("stats a b", &r, &help));
	assert_non_null(command_parse("stop seventeen-chars-xx", &r, &help));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_prompt_list, setup),
		cmocka_unit_test_setup(test_stop_force_and_errors, setup),
		cmocka_unit_test_setup(test_ctrl_c_cancels_and_switching_still_works, setup),
		cmocka_unit_test_setup(test_long_lines_are_bounded, setup),
		cmocka_unit_test_setup(test_parse, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
