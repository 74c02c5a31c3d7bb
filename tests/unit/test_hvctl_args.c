/* hvctl's command line (tools/hvctl_args.c, SPEC 7): commands, their
 * names and options, usage errors (exit status 2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "tools/hvctl_args.h"

static struct hvctl_args a;
static char err[160];

/* Parses the words of line (space-separated, at most 8). */
static int parse(const char *line)
{
	static char buf[256];
	char *argv[9] = { "hvctl" };
	int argc = 1;

	strcpy(buf, line);
	for (char *w = strtok(buf, " "); w && argc < 9; w = strtok(NULL, " "))
		argv[argc++] = w;
	err[0] = '\0';
	return hvctl_parse_args(argc, argv, &a, err, sizeof(err));
}

static void test_commands(void **state)
{
	(void)state;
	assert_int_equal(parse("list"), HVCTL_EXIT_OK);
	assert_int_equal(a.cmd, HVCTL_LIST);
	assert_null(a.name);
	assert_false(a.json);
	assert_int_equal(parse("info --json"), HVCTL_EXIT_OK);
	assert_int_equal(a.cmd, HVCTL_INFO);
	assert_true(a.json);
	assert_int_equal(parse("--json start linux-b"), HVCTL_EXIT_OK);
	assert_int_equal(a.cmd, HVCTL_START);
	assert_string_equal(a.name, "linux-b");
	assert_true(a.json);
	assert_int_equal(parse("stop guest --force"), HVCTL_EXIT_OK);
	assert_int_equal(a.cmd, HVCTL_STOP);
	assert_true(a.force);
	assert_int_equal(parse("stop guest"), HVCTL_EXIT_OK);
	assert_false(a.force);
	assert_int_equal(parse("restart --force guest"), HVCTL_EXIT_OK);
	assert_int_equal(a.cmd, HVCTL_RESTART);
	assert_true(a.force);
	assert_int_equal(parse("console guest -f"), HVCTL_EXIT_OK);
	assert_int_equal(a.cmd, HVCTL_CONSOLE);
	assert_true(a.follow);
	assert_int_equal(parse("console guest"), HVCTL_EXIT_OK);
	assert_false(a.follow);
	assert_int_equal(parse("stats guest"), HVCTL_EXIT_OK);
	assert_int_equal(a.cmd, HVCTL_STATS);
	assert_string_equal(a.name, "guest");
}

static void test_help(void **state)
{
	(void)state;
	assert_int_equal(parse("--help"), HVCTL_EXIT_OK);
	assert_int_equal(a.cmd, HVCTL_HELP);
	assert_int_equal(parse("stop --help"), HVCTL_EXIT_OK);
	assert_int_equal(a.cmd, HVCTL_HELP);
	assert_int_equal(parse("-h"), HVCTL_EXIT_OK);
	assert_int_equal(a.cmd, HVCTL_HELP);
	assert_non_null(strstr(hvctl_usage, "restart NAME [--force]"));
}

static void test_usage_errors(void **state)
{
	static const struct {
		const char *line, *why;
	} cases[] = {
		{ "", "no command" },
		{ "--json", "no command" },
		{ "reboot", "unknown command: reboot" },
		{ "start", "a partition name is needed: start" },
		{ "stats", "a partition name is needed: stats" },
		{ "start a b", "too many arguments: start" },
		{ "list extra", "too many arguments: extra" },
		{ "info x", "too many arguments: x" },
		{ "start a --force", "--force goes with stop and restart only" },
		{ "list -f", "-f goes with console only" },
		{ "stop a -f", "-f goes with console only" },
		{ "list --verbose", "unknown option: --verbose" },
		{ "stop a -x", "unknown option: -x" },
		{ "a b c d", "too many arguments: d" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].line), HVCTL_EXIT_USAGE);
		assert_string_equal(err, cases[i].why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_usage_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
