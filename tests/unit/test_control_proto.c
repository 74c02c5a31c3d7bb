/* The control protocol's request parser (hv/control/proto.c): every field
 * checked, every malformed request an error status, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hv/control/proto.h"
#include "hv/lib/lib.h"
#include "test_support.h"

static struct ctl_request good(u32 op, const char *name)
{
	struct ctl_request r;

	ctl_request_init(&r, op, name, 0, 0);
	return r;
}

static u32 parse(const struct ctl_request *r, struct ctl_request *out)
{
	return ctl_parse(r, sizeof(*r), out);
}

static void test_good_requests_parse(void **state)
{
	struct ctl_request r, out;

	(void)state;
	r = good(CTL_OP_LIST, NULL);
	assert_int_equal(parse(&r, &out), CTL_OK);
	assert_int_equal(out.op, CTL_OP_LIST);
	r = good(CTL_OP_INFO, NULL);
	assert_int_equal(parse(&r, &out), CTL_OK);
	r = good(CTL_OP_STOP, "linux-a");
	r.flags = CTL_F_FORCE;
	assert_int_equal(parse(&r, &out), CTL_OK);
	assert_string_equal(out.name, "linux-a");
	assert_int_equal(out.flags, CTL_F_FORCE);
	r = good(CTL_OP_CONSOLE, "a_16_chars_name_");
	r.offset = 12345;
	assert_int_equal(parse(&r, &out), CTL_OK);
	assert_int_equal(out.offset, 12345);
	for (u32 op = CTL_OP_START; op < CTL_OP_COUNT; op++) {
		r = good(op, "x");
		assert_int_equal(parse(&r, &out), CTL_OK);
	}
}

static void test_header_errors(void **state)
{
	struct ctl_request r, out;

	(void)state;
	r = good(CTL_OP_LIST, NULL);
	r.magic ^= 1;
	assert_int_equal(parse(&r, &out), CTL_E_MAGIC);
	r = good(CTL_OP_LIST, NULL);
	r.version = CTL_VERSION + 1;
	assert_int_equal(parse(&r, &out), CTL_E_VERSION);
	/* another version's request of another size: the version is told */
	assert_int_equal(ctl_parse(&r, 12, &out), CTL_E_VERSION);
	r = good(CTL_OP_LIST, NULL);
	r.length = sizeof(r) + 8;
	assert_int_equal(parse(&r, &out), CTL_E_LENGTH);
	r = good(CTL_OP_LIST, NULL);
	assert_int_equal(ctl_parse(&r, sizeof(r) - 1, &out), CTL_E_LENGTH);
	assert_int_equal(ctl_parse(&r, 0, &out), CTL_E_LENGTH);
	assert_int_equal(ctl_parse(&r, 7, &out), CTL_E_LENGTH);
	r = good(0, NULL);
	assert_int_equal(parse(&r, &out), CTL_E_OP);
	r = good(CTL_OP_COUNT, NULL);
	assert_int_equal(parse(&r, &out), CTL_E_OP);
	r = good(0xffff, NULL);
	assert_int_equal(parse(&r, &out), CTL_E_OP);
}

static void test_a_longer_buffer_is_refused(void **state)
{
	u8 big[CTL_REQ_MAX];
	struct ctl_request r = good(CTL_OP_LIST, NULL), out;

	(void)state;
	memset(big, 0, sizeof(big));
	memcpy(big, &r, sizeof(r));
	assert_int_equal(ctl_parse(big, sizeof(big), &out), CTL_E_LENGTH);
}

static void test_flags_and_offset(void **state)
{
	struct ctl_request r, out;

	(void)state;
	r = good(CTL_OP_START, "a");
	r.flags = CTL_F_FORCE; /* start takes no --force */
	assert_int_equal(parse(&r, &out), CTL_E_FLAGS);
	r = good(CTL_OP_STOP, "a");
	r.flags = BIT(5);
	assert_int_equal(parse(&r, &out), CTL_E_FLAGS);
	r = good(CTL_OP_STATS, "a");
	r.offset = 1;
	assert_int_equal(parse(&r, &out), CTL_E_OFFSET);
}

static void test_names(void **state)
{
	struct ctl_request r, out;

	(void)state;
	r = good(CTL_OP_START, NULL); /* a name is needed */
	assert_int_equal(parse(&r, &out), CTL_E_NAME);
	r = good(CTL_OP_LIST, NULL); /* and list takes none */
	r.name[0] = 'a';
	assert_int_equal(parse(&r, &out), CTL_E_NAME);
	r = good(CTL_OP_START, "Upper");
	assert_int_equal(parse(&r, &out), CTL_E_NAME);
	r = good(CTL_OP_START, "a/b");
	assert_int_equal(parse(&r, &out), CTL_E_NAME);
	r = good(CTL_OP_START, "a");
	memcpy(r.name, "seventeen-chars-x", 17); /* one too many */
	assert_int_equal(parse(&r, &out), CTL_E_NAME);
	r = good(CTL_OP_START, "ab");
	r.name[5] = 'x'; /* bytes after the NUL */
	assert_int_equal(parse(&r, &out), CTL_E_NAME);
	r = good(CTL_OP_START, "a");
	memset(r.name, 'a', sizeof(r.name)); /* no NUL at all */
	assert_int_equal(parse(&r, &out), CTL_E_NAME);
	assert_true(ctl_name_ok("linux-a_0", 9));
	assert_false(ctl_name_ok("", 0));
	assert_false(ctl_name_ok("a b", 3));
}

/* Random bytes and random mutations of good requests: an answer, and
 * *out written only for CTL_OK. */
static void test_random_requests(void **state)
{
	u8 buf[sizeof(struct ctl_request) + 8];
	struct ctl_request out, r;

	(void)state;
	rnd_seed(10);
	for (int i = 0; i < 200000; i++) {
		u32 len = (u32)rnd() % sizeof(buf), st;

		r = good(1 + (u32)rnd() % (CTL_OP_COUNT - 1), "p1");
		memcpy(buf, &r, sizeof(r));
		for (u32 k = (u32)rnd() % 4; k; k--)
			buf[(u32)rnd() % sizeof(buf)] = (u8)(u32)rnd();
		if ((u32)rnd() % 2)
			len = sizeof(r);
		memset(&out, 0xa5, sizeof(out));
		st = ctl_parse(buf, len, &out);
		assert_true(st < CTL_E_COUNT);
		if (st == CTL_OK) {
			assert_int_equal(out.magic, CTL_REQ_MAGIC);
			assert_true(out.op > 0 && out.op < CTL_OP_COUNT);
		} else {
			assert_int_equal(out.magic, 0xa5a5a5a5);
		}
		assert_non_null(ctl_status_text(st));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_requests_parse),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_a_longer_buffer_is_refused),
		cmocka_unit_test(test_flags_and_offset),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_random_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
