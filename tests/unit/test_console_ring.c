/* hvctl console's ring (hv/console/ring.h): offsets since boot, every byte
 * once to a reader that keeps its offset, overwritten bytes counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "hv/console/ring.h"
#include "hv/lib/lib.h"

#define SIZE 16

static u8 buf[SIZE];
static struct ring r;

static void put(const char *s)
{
	while (*s)
		ring_put(&r, (u8)*s++);
}

static int setup(void **state)
{
	(void)state;
	ring_init(&r, buf, SIZE);
	return 0;
}

static void test_reads_what_was_put(void **state)
{
	u8 out[SIZE];
	u64 start;

	(void)state;
	assert_int_equal(ring_read(&r, 0, out, sizeof(out), &start), 0);
	put("hello");
	assert_int_equal(ring_read(&r, 0, out, sizeof(out), &start), 5);
	assert_int_equal(start, 0);
	assert_memory_equal(out, "hello", 5);
	assert_int_equal(ring_read(&r, 3, out, sizeof(out), &start), 2);
	assert_int_equal(start, 3);
	assert_memory_equal(out, "lo", 2);
	/* at the end: nothing, no loss */
	assert_int_equal(ring_read(&r, 5, out, sizeof(out), &start), 0);
	assert_int_equal(start, 5);
}

static void test_wraps_and_counts_what_was_overwritten(void **state)
{
	u8 out[SIZE];
	u64 start;
	u32 n;

	(void)state;
	put("0123456789abcdefGHIJK"); /* 21 bytes: 5 overwritten */
	assert_int_equal(ring_oldest(&r), 5);
	n = ring_read(&r, 2, out, sizeof(out), &start);
	assert_int_equal(n, SIZE);
	assert_int_equal(start, 5); /* 3 asked for were lost */
	assert_memory_equal(out, "56789abcdefGHIJK", SIZE);
	/* across the wrap, in two pieces */
	n = ring_read(&r, 14, out, 5, &start);
	assert_int_equal(n, 5);
	assert_int_equal(start, 14);
	assert_memory_equal(out, "efGHI", 5);
}

static void test_a_follower_gets_every_byte_once(void **state)
{
	char got[512];
	u8 out[5];
	u64 pos = 0, start;
	size_t k = 0;

	(void)state;
	for (int i = 0; i < 100; i++) {
		char c[2] = { (char)('a' + i % 26), 0 };
		u32 n;

		put(c);
		if (i % 3)
			continue;
		/* reads in small pieces, more often than the ring fills */
		while ((n = ring_read(&r, pos, out, sizeof(out), &start))) {
			assert_int_equal(start, pos);
			memcpy(got + k, out, n);
			k += n;
			pos += n;
		}
	}
	assert_int_equal(k, 100);
	for (int i = 0; i < 100; i++)
		assert_int_equal(got[i], 'a' + i % 26);
}

static void test_an_offset_beyond_the_end_reads_nothing(void **state)
{
	u8 out[SIZE];
	u64 start;

	(void)state;
	put("abc");
	assert_int_equal(ring_read(&r, 4, out, sizeof(out), &start), 0);
	assert_int_equal(ring_read(&r, ~0ULL, out, sizeof(out), &start), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reads_what_was_put, setup),
		cmocka_unit_test_setup(test_wraps_and_counts_what_was_overwritten, setup),
		cmocka_unit_test_setup(test_a_follower_gets_every_byte_once, setup),
		cmocka_unit_test_setup(test_an_offset_beyond_the_end_reads_nothing, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
