/* SPEC 4: Ctrl-A three times switches the console focus; nothing is lost. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hv/console/focus.h"

/* Feeds s and returns the bytes delivered, with '|' for each switch. */
static void run(const char *in, size_t len, char *got)
{
	struct focus_state f = { 0 };
	size_t k = 0;

	for (size_t i = 0; i < len; i++) {
		u8 out[FOCUS_SWITCH_PRESSES];
		u32 n;

		if (focus_feed(&f, (u8)in[i], out, &n))
			got[k++] = '|';
		for (u32 j = 0; j < n; j++)
			got[k++] = (char)out[j];
	}
	got[k] = '\0';
}

static void test_switch(void **state)
{
	char got[64];

	(void)state;
	run("ab\x01\x01\x01"
	    "cd",
	    7, got);
	assert_string_equal(got, "ab|cd");
	run("\x01\x01\x01\x01\x01\x01", 6, got);
	assert_string_equal(got, "||");
}

static void test_broken_sequence_released(void **state)
{
	char got[64];

	(void)state;
	/* one or two Ctrl-A then another byte: all of them reach the guest */
	run("\x01x", 2, got);
	assert_string_equal(got, "\x01x");
	run("\x01\x01y\x01\x01\x01", 6, got);
	assert_string_equal(got, "\x01\x01y|");
	/* four Ctrl-A: a switch, then one held back until the next byte */
	run("\x01\x01\x01\x01z", 5, got);
	assert_string_equal(got, "|\x01z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_broken_sequence_released),
	};

	return cmocka_run_group_tests_name("console_focus", tests, NULL, NULL);
}
