/*
 * The physical page allocator: each operation on its own, the full-table
 * cases (fail, never corrupt), and a randomized comparison with a model
 * that keeps one bit per page.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hv/mm/palloc.h"
#include "tests/unit/test_support.h"

#define PG PAGE_SIZE
#define TOP (~0ULL)

static struct palloc pa, copy;

/* The invariants of palloc.h: sorted, non-empty, page-aligned, never
 * touching, and total equals the sum. */
static void check_table(const struct palloc *p)
{
	u64 sum = 0;

	assert_true(p->count <= PALLOC_MAX_RANGES);
	for (u32 i = 0; i < p->count; i++) {
		assert_true(p->r[i].len > 0);
		assert_true(IS_ALIGNED(p->r[i].base | p->r[i].len, PG));
		assert_true(p->r[i].len <= TOP - p->r[i].base);
		if (i)
			assert_true(p->r[i - 1].base + p->r[i - 1].len < p->r[i].base);
		sum += p->r[i].len;
	}
	assert_int_equal(sum, palloc_free_bytes(p));
	assert_int_equal(sum, p->total);
}

/* The table is exactly the ranges given (base, len pairs). */
static void expect_ranges(const struct palloc *p, u32 n, const u64 *pairs)
{
	check_table(p);
	assert_int_equal(p->count, n);
	for (u32 i = 0; i < n; i++) {
		assert_int_equal(p->r[i].base, pairs[2 * i]);
		assert_int_equal(p->r[i].len, pairs[2 * i + 1]);
	}
}

#define EXPECT(...)                                               \
	do {                                                      \
		static const u64 want_[] = { __VA_ARGS__ };       \
		expect_ranges(&pa, ARRAY_SIZE(want_) / 2, want_); \
	} while (0)

static void snapshot(void)
{
	copy = pa;
}

static void expect_unchanged(void)
{
	assert_int_equal(pa.count, copy.count);
	assert_int_equal(pa.total, copy.total);
	assert_memory_equal(pa.r, copy.r, sizeof(pa.r[0]) * pa.count);
}

static int setup(void **state)
{
	(void)state;
	memset(&pa, 0x5a, sizeof(pa)); /* init must not rely on zeroed memory */
	palloc_init(&pa);
	return 0;
}

/* ---- palloc_add ---- */

static void test_empty(void **state)
{
	(void)state;
	check_table(&pa);
	assert_int_equal(palloc_free_bytes(&pa), 0);
	assert_int_equal(palloc_alloc(&pa, PG, PG, 0), PALLOC_FAIL);
	assert_int_equal(palloc_reserve(&pa, 0, 1 * GiB), 0);
}

static void test_add_sorts_and_coalesces(void **state)
{
	(void)state;
	assert_int_equal(palloc_add(&pa, 0x10000, 0x1000), 0);
	assert_int_equal(palloc_add(&pa, 0x2000, 0x1000), 0);
	assert_int_equal(palloc_add(&pa, 0x40000, 0x2000), 0);
	EXPECT(0x2000, 0x1000, 0x10000, 0x1000, 0x40000, 0x2000);
	assert_int_equal(palloc_add(&pa, 0x11000, 0x1000), 0); /* touches the left */
	EXPECT(0x2000, 0x1000, 0x10000, 0x2000, 0x40000, 0x2000);
	assert_int_equal(palloc_add(&pa, 0x3f000, 0x1000), 0); /* touches the right */
	EXPECT(0x2000, 0x1000, 0x10000, 0x2000, 0x3f000, 0x3000);
	assert_int_equal(palloc_add(&pa, 0x12000, 0x2d000), 0); /* fills the gap */
	EXPECT(0x2000, 0x1000, 0x10000, 0x32000);
	assert_int_equal(palloc_add(&pa, 0, 0), 0); /* nothing */
	EXPECT(0x2000, 0x1000, 0x10000, 0x32000);
}

static void test_add_rejects(void **state)
{
	(void)state;
	assert_int_equal(palloc_add(&pa, 0x10000, 0x4000), 0);
	snapshot();
	assert_int_equal(palloc_add(&pa, 0x800, 0x1000), -E_INVAL);   /* unaligned base */
	assert_int_equal(palloc_add(&pa, 0x1000, 0x800), -E_INVAL);   /* unaligned length */
	assert_int_equal(palloc_add(&pa, 0x10000, 0x4000), -E_INVAL); /* the same again */
	assert_int_equal(palloc_add(&pa, 0x11000, 0x1000), -E_INVAL); /* inside */
	assert_int_equal(palloc_add(&pa, 0xf000, 0x2000), -E_INVAL);  /* over the start */
	assert_int_equal(palloc_add(&pa, 0x13000, 0x2000), -E_INVAL); /* over the end */
	assert_int_equal(palloc_add(&pa, 0x8000, 0x10000), -E_INVAL); /* around */
	assert_int_equal(palloc_add(&pa, 0xfffffffffffff000ULL, 0x2000), -E_INVAL); /* wraps */
	assert_int_equal(palloc_add(&pa, 0xfffffffffffff000ULL, 0x1000), -E_INVAL); /* to 2^64 */
	expect_unchanged();
	/* the very last representable page below it is fine */
	assert_int_equal(palloc_add(&pa, 0xffffffffffffe000ULL, 0x1000), 0);
	assert_int_equal(palloc_alloc(&pa, PG, PG, 0), 0xffffffffffffe000ULL);
}

static void test_add_full_table(void **state)
{
	(void)state;
	for (u32 i = 0; i < PALLOC_MAX_RANGES; i++)
		assert_int_equal(palloc_add(&pa, (u64)i * 2 * PG, PG), 0);
	snapshot();
	assert_int_equal(palloc_add(&pa, (u64)PALLOC_MAX_RANGES * 2 * PG + PG, PG), -E_TOOBIG);
	expect_unchanged();
	/* touching a neighbour needs no slot */
	assert_int_equal(palloc_add(&pa, (u64)PALLOC_MAX_RANGES * 2 * PG - PG, PG), 0);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
	assert_int_equal(palloc_add(&pa, PG, PG), 0); /* joins two: frees a slot */
	assert_int_equal(pa.count, PALLOC_MAX_RANGES - 1);
	check_table(&pa);
}

static void test_init_from_map(void **state)
{
	static const struct boot_mem_range map[] = {
		{ 0, 0x9f000, BOOT_MEM_RAM, 0 },
		{ 0x9f000, 0x1000, BOOT_MEM_RESERVED, 0 },
		{ 0x100000, 0x700000, BOOT_MEM_RAM, 0 },
		{ 0x800000, 0x8000, BOOT_MEM_NVS, 0 },
		{ 0x808000, 0x1000, BOOT_MEM_ACPI, 0 },
		{ 0x809000, 0x1000, BOOT_MEM_FW_RUNTIME, 0 },
		{ 0x80a000, 0x1000, BOOT_MEM_UNUSABLE, 0 },
		{ 0x100000000ULL, 0x40000000, BOOT_MEM_RAM, 0 },
	};
	static const struct boot_mem_range odd[] = { { 0x1800, 0x1000, BOOT_MEM_RAM, 0 } };

	(void)state;
	palloc_add(&pa, 0x7000000, PG); /* init_from_map starts afresh */
	assert_int_equal(palloc_init_from_map(&pa, map, ARRAY_SIZE(map)), 0);
	EXPECT(0, 0x9f000, 0x100000, 0x700000, 0x100000000ULL, 0x40000000);
	/* the map must be normalised: a misaligned RAM range is an error */
	assert_int_equal(palloc_init_from_map(&pa, odd, 1), -E_INVAL);
}

/* ---- palloc_alloc ---- */

static void test_alloc_highest_first(void **state)
{
	(void)state;
	palloc_add(&pa, 0x1000, 0x9e000);
	palloc_add(&pa, 0x100000, 0x7ff00000);
	palloc_add(&pa, 0x100000000ULL, 0x100000);
	assert_int_equal(palloc_alloc(&pa, PG, PG, 0), 0x1000ff000ULL);
	assert_int_equal(palloc_alloc(&pa, PG, PG, 0), 0x1000fe000ULL);
	/* a page below 1 MiB for the AP trampoline */
	assert_int_equal(palloc_alloc(&pa, PG, PG, MiB), 0x9e000);
	/* below 4 GiB: from the top of the low RAM */
	assert_int_equal(palloc_alloc(&pa, 2 * PG, PG, 4 * GiB), 0x7fffe000);
	/* a limit inside a range */
	assert_int_equal(palloc_alloc(&pa, PG, PG, 0x200000), 0x1ff000);
	/* a limit that is not page-aligned */
	assert_int_equal(palloc_alloc(&pa, PG, PG, 0x300800), 0x2ff000);
	check_table(&pa);
}

static void test_alloc_limit_is_exclusive(void **state)
{
	(void)state;
	palloc_add(&pa, 0x10000, 0x10000);
	/* the block may end exactly at max_addr */
	assert_int_equal(palloc_alloc(&pa, 0x10000, PG, 0x20000), 0x10000);
	EXPECT();
	palloc_add(&pa, 0x10000, 0x10000);
	assert_int_equal(palloc_alloc(&pa, 0x10000, PG, 0x1ffff), PALLOC_FAIL);
	assert_int_equal(palloc_alloc(&pa, PG, PG, 0x10fff), PALLOC_FAIL);
	assert_int_equal(palloc_alloc(&pa, PG, PG, 0x11000), 0x10000);
	assert_int_equal(palloc_alloc(&pa, PG, PG, 1), PALLOC_FAIL);
}

static void test_alloc_alignment(void **state)
{
	u64 at;

	(void)state;
	palloc_add(&pa, 0x1000, 0x7ff000); /* [4K, 8M) */
	at = palloc_alloc(&pa, 2 * MiB, 2 * MiB, 0);
	assert_int_equal(at, 6 * MiB);
	at = palloc_alloc(&pa, PG, 2 * MiB, 0);
	assert_int_equal(at, 4 * MiB);
	/* the only 4 MiB-aligned address left is 0, which is not free */
	assert_int_equal(palloc_alloc(&pa, PG, 4 * MiB, 0), PALLOC_FAIL);
	/* alignments below a page count as a page */
	assert_int_equal(palloc_alloc(&pa, 1, 0, 0), 4 * MiB + 2 * MiB - PG);
	assert_int_equal(palloc_alloc(&pa, 1, 16, 0), 4 * MiB + 2 * MiB - 2 * PG);
	/* not a power of two */
	snapshot();
	assert_int_equal(palloc_alloc(&pa, PG, 3 * PG, 0), PALLOC_FAIL);
	assert_int_equal(palloc_alloc(&pa, PG, TOP, 0), PALLOC_FAIL);
	expect_unchanged();
	/* a huge alignment: only 0 qualifies */
	assert_int_equal(palloc_alloc(&pa, PG, 1ULL << 63, 0), PALLOC_FAIL);
	check_table(&pa);
}

static void test_alloc_sizes(void **state)
{
	(void)state;
	palloc_add(&pa, 0x100000, 0x100000);
	snapshot();
	assert_int_equal(palloc_alloc(&pa, 0, PG, 0), PALLOC_FAIL);
	assert_int_equal(palloc_alloc(&pa, TOP, PG, 0), PALLOC_FAIL);
	assert_int_equal(palloc_alloc(&pa, TOP - PG, PG, 0), PALLOC_FAIL);
	assert_int_equal(palloc_alloc(&pa, 0x100001, PG, 0), PALLOC_FAIL);
	expect_unchanged();
	/* rounded up to pages */
	assert_int_equal(palloc_alloc(&pa, 1, PG, 0), 0x1ff000);
	assert_int_equal(palloc_alloc(&pa, PG + 1, PG, 0), 0x1fd000);
	EXPECT(0x100000, 0xfd000);
	/* exactly what is left */
	assert_int_equal(palloc_alloc(&pa, 0xfd000, PG, 0), 0x100000);
	EXPECT();
	assert_int_equal(palloc_alloc(&pa, PG, PG, 0), PALLOC_FAIL);
}

/* 256 ranges of 16 pages, 1 MiB apart, each starting at X(i) + skip. */
#define FULL_GAP 0x100000ULL
#define FULL_X(i) (FULL_GAP * ((u64)(i) + 1) + 0x10000)

static void fill_table(u64 skip)
{
	for (u32 i = 0; i < PALLOC_MAX_RANGES; i++)
		assert_int_equal(palloc_add(&pa, FULL_X(i) + skip, 0x10000 - skip), 0);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
}

static void test_alloc_full_table_takes_ends(void **state)
{
	const u64 top = FULL_X(PALLOC_MAX_RANGES - 1), below = FULL_X(PALLOC_MAX_RANGES - 2);

	(void)state;
	fill_table(0);
	/* the top page of the top range: it ends the range, splits nothing */
	assert_int_equal(palloc_alloc(&pa, PG, PG, 0), top + 0xf000);
	/* 64 KiB-aligned: the start of the top range */
	assert_int_equal(palloc_alloc(&pa, PG, 0x10000, 0), top);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
	/* 32 KiB-aligned: top + 0x8000 would split the top range (now
	 * [top+4K, top+60K)), whose start is not aligned; the range below
	 * starts aligned, so its start is taken, not its middle */
	assert_int_equal(palloc_alloc(&pa, PG, 0x8000, 0), below);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
	check_table(&pa);
	/* with a slot free again, the highest block is taken, splitting */
	assert_int_equal(palloc_reserve(&pa, FULL_X(0), 0x10000), 0);
	assert_int_equal(palloc_alloc(&pa, PG, 0x8000, 0), top + 0x8000);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
	check_table(&pa);
}

static void test_alloc_full_table_fails_cleanly(void **state)
{
	(void)state;
	fill_table(PG); /* every range starts 4 KiB past a 64 KiB boundary */
	snapshot();
	/* each 32 KiB-aligned page lies inside a range: all would split */
	assert_int_equal(palloc_alloc(&pa, PG, 0x8000, 0), PALLOC_FAIL);
	assert_int_equal(palloc_alloc(&pa, 2 * PG, 0x4000, 0), PALLOC_FAIL);
	expect_unchanged();
	/* one slot free, and it works */
	assert_int_equal(palloc_reserve(&pa, FULL_X(0), 0x10000), 0);
	assert_int_equal(palloc_alloc(&pa, PG, 0x8000, 0), FULL_X(PALLOC_MAX_RANGES - 1) + 0x8000);
	check_table(&pa);
}

/* ---- palloc_reserve ---- */

static void test_reserve(void **state)
{
	(void)state;
	palloc_add(&pa, 0x0, 0x100000);
	palloc_add(&pa, 0x200000, 0x100000);
	/* odd bounds widen to whole pages */
	assert_int_equal(palloc_reserve(&pa, 0x10800, 0x1000), 0);
	EXPECT(0, 0x10000, 0x12000, 0xee000, 0x200000, 0x100000);
	/* one byte */
	assert_int_equal(palloc_reserve(&pa, 0x20fff, 1), 0);
	EXPECT(0, 0x10000, 0x12000, 0xe000, 0x21000, 0xdf000, 0x200000, 0x100000);
	/* across a gap and several ranges */
	assert_int_equal(palloc_reserve(&pa, 0x80000, 0x200000), 0);
	EXPECT(0, 0x10000, 0x12000, 0xe000, 0x21000, 0x5f000, 0x280000, 0x80000);
	/* nothing free there: a no-op */
	assert_int_equal(palloc_reserve(&pa, 0x100000, 0x100000), 0);
	assert_int_equal(palloc_reserve(&pa, 0x10000, 0x2000), 0);
	assert_int_equal(palloc_reserve(&pa, 0x5000, 0), 0);
	EXPECT(0, 0x10000, 0x12000, 0xe000, 0x21000, 0x5f000, 0x280000, 0x80000);
	/* the whole of a range, exactly */
	assert_int_equal(palloc_reserve(&pa, 0x12000, 0xe000), 0);
	EXPECT(0, 0x10000, 0x21000, 0x5f000, 0x280000, 0x80000);
	/* to the end of the address space, and wrapping past it */
	assert_int_equal(palloc_reserve(&pa, 0x2c0000, TOP), 0);
	EXPECT(0, 0x10000, 0x21000, 0x5f000, 0x280000, 0x40000);
	assert_int_equal(palloc_reserve(&pa, TOP - 5, 100), 0);
	assert_int_equal(palloc_reserve(&pa, 0xfffffffffffff000ULL, PG), 0);
	/* everything */
	assert_int_equal(palloc_reserve(&pa, 0, TOP), 0);
	EXPECT();
}

static void test_reserve_at_the_top(void **state)
{
	(void)state;
	palloc_add(&pa, 0xffffffffff000000ULL, 0xffe000);
	assert_int_equal(palloc_reserve(&pa, 0xfffffffffffff001ULL, 0xfff), 0);
	EXPECT(0xffffffffff000000ULL, 0xffe000);
	assert_int_equal(palloc_reserve(&pa, 0xffffffffffffd001ULL, 0x10000), 0);
	EXPECT(0xffffffffff000000ULL, 0xffd000);
}

static void test_reserve_full_table(void **state)
{
	(void)state;
	for (u32 i = 0; i < PALLOC_MAX_RANGES; i++)
		assert_int_equal(palloc_add(&pa, (u64)i * 0x10000, 4 * PG), 0);
	snapshot();
	/* a hole in the middle of a range needs a slot */
	assert_int_equal(palloc_reserve(&pa, 0x10000 + PG, 1), -E_TOOBIG);
	expect_unchanged();
	/* trimming either end, or across ranges, needs none */
	assert_int_equal(palloc_reserve(&pa, 0x10000, 1), 0);
	assert_int_equal(palloc_reserve(&pa, 0x20000 + 3 * PG, PG), 0);
	assert_int_equal(palloc_reserve(&pa, 0x30000 + 2 * PG, 0x10000), 0);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
	check_table(&pa);
	assert_int_equal(palloc_free_bytes(&pa), (u64)PALLOC_MAX_RANGES * 4 * PG - 6 * PG);
}

/* ---- palloc_free ---- */

static void test_free_coalesces(void **state)
{
	u64 a, b, c;

	(void)state;
	palloc_add(&pa, 0x100000, 0x10000);
	a = palloc_alloc(&pa, PG, PG, 0);
	b = palloc_alloc(&pa, PG, PG, 0);
	c = palloc_alloc(&pa, PG, PG, 0);
	assert_int_equal(a, 0x10f000);
	assert_int_equal(c, 0x10d000);
	EXPECT(0x100000, 0xd000);
	assert_int_equal(palloc_free(&pa, b, PG), 0); /* no neighbour */
	EXPECT(0x100000, 0xd000, 0x10e000, 0x1000);
	assert_int_equal(palloc_free(&pa, a, PG), 0); /* joins on its left */
	EXPECT(0x100000, 0xd000, 0x10e000, 0x2000);
	assert_int_equal(palloc_free(&pa, c, 1), 0); /* both sides; size rounded */
	EXPECT(0x100000, 0x10000);
	assert_int_equal(palloc_free(&pa, 0xf0000, 0x10000), 0); /* joins on its right */
	EXPECT(0xf0000, 0x20000);
	assert_int_equal(palloc_free(&pa, 0x200000, 0), 0); /* nothing */
	EXPECT(0xf0000, 0x20000);
}

static void test_free_rejects_bugs(void **state)
{
	(void)state;
	palloc_add(&pa, 0x100000, 0x10000);
	palloc_add(&pa, 0x200000, 0x10000);
	snapshot();
	assert_int_equal(palloc_free(&pa, 0x100000, 0x10000), -E_INVAL); /* double free */
	assert_int_equal(palloc_free(&pa, 0x104000, PG), -E_INVAL);	 /* inside */
	assert_int_equal(palloc_free(&pa, 0xff000, 0x2000), -E_INVAL);	 /* over the start */
	assert_int_equal(palloc_free(&pa, 0x10f000, 0x2000), -E_INVAL);	 /* over the end */
	assert_int_equal(palloc_free(&pa, 0x0, 0x300000), -E_INVAL);	 /* around both */
	assert_int_equal(palloc_free(&pa, 0x1ff000, 0x2000), -E_INVAL);	 /* half free */
	assert_int_equal(palloc_free(&pa, 0x150800, PG), -E_INVAL);	 /* unaligned base */
	assert_int_equal(palloc_free(&pa, 0xfffffffffffff000ULL, PG), -E_INVAL); /* to 2^64 */
	assert_int_equal(palloc_free(&pa, PG, TOP), -E_INVAL);			 /* wraps */
	assert_int_equal(palloc_free(&pa, PG, TOP - PG), -E_INVAL); /* rounds to 2^64 */
	expect_unchanged();
}

static void test_free_full_table(void **state)
{
	(void)state;
	for (u32 i = 0; i < PALLOC_MAX_RANGES; i++)
		assert_int_equal(palloc_add(&pa, (u64)i * 0x10000, 4 * PG), 0);
	snapshot();
	assert_int_equal(palloc_free(&pa, 0x8000, PG), -E_TOOBIG);
	expect_unchanged();
	/* next to a free range: fine */
	assert_int_equal(palloc_free(&pa, 0x4000, PG), 0);
	assert_int_equal(palloc_free(&pa, 0xf000, PG), 0);
	assert_int_equal(pa.count, PALLOC_MAX_RANGES);
	check_table(&pa);
}

/* ---- randomized, against a model with one bit per page ---- */

enum { MODEL_PAGES = 400 };		/* at most 200 free ranges: the table never fills */
#define MODEL_BASE (4 * GiB - 150 * PG) /* straddles 4 GiB */

static bool model[MODEL_PAGES];

static u64 page_addr(u64 i)
{
	return MODEL_BASE + i * PG;
}

static void model_check(void)
{
	u64 free_pages = 0;

	check_table(&pa);
	for (u64 i = 0; i < MODEL_PAGES; i++) {
		bool in_table = false;

		for (u32 k = 0; k < pa.count; k++)
			if (page_addr(i) >= pa.r[k].base &&
			    page_addr(i) < pa.r[k].base + pa.r[k].len)
				in_table = true;
		assert_int_equal(in_table, model[i]);
		free_pages += model[i];
	}
	assert_int_equal(palloc_free_bytes(&pa), free_pages * PG);
}

static bool model_all(u64 first, u64 n, bool free)
{
	for (u64 i = first; i < first + n; i++)
		if (model[i] != free)
			return false;
	return true;
}

static bool model_any_free(u64 first, u64 n)
{
	return !model_all(first, n, false);
}

static void model_set(u64 first, u64 n, bool free)
{
	for (u64 i = first; i < first + n; i++)
		model[i] = free;
}

/* The block palloc_alloc must return: the highest that fits. */
static u64 model_alloc(u64 pages, u64 align, u64 max_addr)
{
	for (u64 i = MODEL_PAGES - pages + 1; i-- > 0;) {
		u64 at = page_addr(i);

		if (at % align || (max_addr && at + pages * PG > max_addr))
			continue;
		if (model_all(i, pages, true))
			return at;
	}
	return PALLOC_FAIL;
}

static void test_random_against_model(void **state)
{
	enum { STEPS = 20000 };

	(void)state;
	rnd_seed(0x5eed0003);
	memset(model, 0, sizeof(model));
	for (int step = 0; step < STEPS; step++) {
		u64 first = rnd_below(MODEL_PAGES), n = rnd_below(MODEL_PAGES - first) + 1;
		u64 want, at, align, max_addr;
		int err;

		if (rnd_below(4) != 0)
			n = rnd_below(MIN(8, MODEL_PAGES - first)) + 1;
		switch (rnd_below(4)) {
		case 0: /* add or free: both refuse what is partly free already */
			if (rnd_below(2))
				err = palloc_add(&pa, page_addr(first), n * PG);
			else /* the size is rounded up to pages */
				err = palloc_free(&pa, page_addr(first), n * PG - rnd_below(PG));
			if (model_any_free(first, n)) {
				assert_int_equal(err, -E_INVAL);
			} else {
				assert_int_equal(err, 0);
				model_set(first, n, true);
			}
			break;
		case 1: { /* reserve, at odd bounds */
			u64 s = page_addr(first) + rnd_below(PG);
			u64 len = (n - 1) * PG + 1;
			u64 last = (s + len - 1 - MODEL_BASE) / PG;

			assert_int_equal(palloc_reserve(&pa, s, len), 0);
			model_set(first, MIN(last, MODEL_PAGES - 1) - first + 1, false);
			break;
		}
		default: /* allocate */
			align = PG << rnd_below(6);
			max_addr = rnd_below(2) ? 0 :
						  page_addr(rnd_below(MODEL_PAGES + 1)) +
							  rnd_below(2) * rnd_below(PG);
			n = rnd_below(12) + 1;
			want = model_alloc(n, align, max_addr);
			at = palloc_alloc(&pa, n * PG - rnd_below(PG), align, max_addr);
			assert_int_equal(at, want);
			if (at != PALLOC_FAIL)
				model_set((at - MODEL_BASE) / PG, n, false);
			break;
		}
		if (step % 16 == 0 || step == STEPS - 1)
			model_check();
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_empty, setup),
		cmocka_unit_test_setup(test_add_sorts_and_coalesces, setup),
		cmocka_unit_test_setup(test_add_rejects, setup),
		cmocka_unit_test_setup(test_add_full_table, setup),
		cmocka_unit_test_setup(test_init_from_map, setup),
		cmocka_unit_test_setup(test_alloc_highest_first, setup),
		cmocka_unit_test_setup(test_alloc_limit_is_exclusive, setup),
		cmocka_unit_test_setup(test_alloc_alignment, setup),
		cmocka_unit_test_setup(test_alloc_sizes, setup),
		cmocka_unit_test_setup(test_alloc_full_table_takes_ends, setup),
		cmocka_unit_test_setup(test_alloc_full_table_fails_cleanly, setup),
		cmocka_unit_test_setup(test_reserve, setup),
		cmocka_unit_test_setup(test_reserve_at_the_top, setup),
		cmocka_unit_test_setup(test_reserve_full_table, setup),
		cmocka_unit_test_setup(test_free_coalesces, setup),
		cmocka_unit_test_setup(test_free_rejects_bugs, setup),
		cmocka_unit_test_setup(test_free_full_table, setup),
		cmocka_unit_test_setup(test_random_against_model, setup),
	};

	return cmocka_run_group_tests_name("palloc", tests, NULL, NULL);
}
