/*
 * The second-level walker, run over both entry formats (EPT and NPT) with
 * the same test bodies: page-size choice and the exact entries it writes,
 * translation at every page boundary, splitting and unmapping inside large
 * pages, remapping, freeing, out-of-memory at every allocation, and a
 * randomized comparison with a page-granular model.
 *
 * Tables live in malloc'ed pages behind fake "physical" addresses; the fake
 * allocator counts live tables, catches double frees and use after free,
 * and fails on request.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/cpu/panic.h"
#include "hv/ept/ept.h"
#include "hv/ept/npt.h"
#include "hv/ept/slat.h"
#include "tests/unit/test_support.h"

#define PG PAGE_SIZE
#define M2 LARGE_PAGE_SIZE
#define G1 HUGE_PAGE_SIZE

/* The walker's BUG_ON ends up here. */
void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* ---- the fake physical memory for tables ---- */

enum { MAX_TABLES = 8192 };
#define FAKE_PA_BASE 0x0000040000000000ULL /* 4 TiB, away from mapped hpas */

static struct {
	u64 *page[MAX_TABLES];
	u32 cursor;	/* where the next search for a free slot starts */
	long live;	/* allocated and not freed */
	long attempts;	/* calls to alloc_table */
	long fail_from; /* attempts with this number and later fail; -1: never */
} mem;

static u64 fake_alloc(void *ctx)
{
	long attempt = mem.attempts++;

	(void)ctx;
	if (mem.fail_from >= 0 && attempt >= mem.fail_from)
		return 0;
	/* search from the last slot on, so freed addresses are reused late */
	for (u32 n = 0; n < MAX_TABLES; n++) {
		u32 i = (mem.cursor + n) % MAX_TABLES;

		if (!mem.page[i]) {
			mem.page[i] = aligned_alloc(PG, PG);
			assert_non_null(mem.page[i]);
			memset(mem.page[i], 0, PG);
			mem.cursor = i + 1;
			mem.live++;
			return FAKE_PA_BASE + (u64)i * PG;
		}
	}
	fail_msg("fake memory full");
	return 0;
}

static u32 fake_slot(u64 pa)
{
	u64 i = (pa - FAKE_PA_BASE) / PG;

	if (pa < FAKE_PA_BASE || pa % PG || i >= MAX_TABLES || !mem.page[i])
		fail_msg("table address %#llx is not a live table", (unsigned long long)pa);
	return (u32)i;
}

static void fake_free(u64 pa, void *ctx)
{
	u32 i = fake_slot(pa);

	(void)ctx;
	free(mem.page[i]);
	mem.page[i] = NULL;
	mem.live--;
}

static u64 *fake_ptr(u64 pa, void *ctx)
{
	(void)ctx;
	return mem.page[fake_slot(pa)];
}

static const struct slat_env env = {
	.alloc_table = fake_alloc,
	.free_table = fake_free,
	.table_ptr = fake_ptr,
};

static void mem_reset(void)
{
	for (u32 i = 0; i < MAX_TABLES; i++) {
		free(mem.page[i]);
		mem.page[i] = NULL;
	}
	mem.cursor = 0;
	mem.live = 0;
	mem.attempts = 0;
	mem.fail_from = -1;
}

/* ---- fixtures ---- */

static struct slat sl;
static const struct slat_format *fmt;

static void reinit(bool allow_2m, bool allow_1g)
{
	slat_destroy(&sl);
	assert_int_equal(mem.live, 0);
	assert_int_equal(slat_init(&sl, fmt, &env, allow_2m, allow_1g), 0);
	assert_int_equal(mem.live, 1);
}

static int setup(void **state)
{
	fmt = *state;
	mem_reset();
	memset(&sl, 0, sizeof(sl));
	reinit(true, true);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	slat_destroy(&sl);
	if (mem.live != 0) {
		fprintf(stderr, "%ld tables leaked\n", mem.live);
		return -1;
	}
	mem_reset();
	return 0;
}

static bool is_ept(void)
{
	return fmt == &slat_fmt_ept;
}

/* ---- reading the tables directly ---- */

static u64 level_span(int level)
{
	return BIT(PAGE_SHIFT + 9 * (SLAT_LEVELS - 1 - level));
}

/* The entry for gpa at level; every entry above it must be a table. */
static u64 entry_at(u64 gpa, int level)
{
	u64 pa = sl.root_pa;

	for (int l = 0;; l++) {
		u64 e = fake_ptr(pa, NULL)[(gpa / level_span(l)) % 512];

		if (l == level)
			return e;
		assert_true(fmt->present(e));
		assert_false(fmt->is_leaf(e, l));
		pa = fmt->entry_addr(e, l);
	}
}

/* The leaf that maps gpa (and its level), or false. */
static bool leaf_of(u64 gpa, u64 *entry, int *level)
{
	u64 pa = sl.root_pa;

	for (int l = 0; l < SLAT_LEVELS; l++) {
		u64 e = fake_ptr(pa, NULL)[(gpa / level_span(l)) % 512];

		if (!fmt->present(e))
			return false;
		if (l == SLAT_LEVELS - 1 || fmt->is_leaf(e, l)) {
			*entry = e;
			*level = l;
			return true;
		}
		pa = fmt->entry_addr(e, l);
	}
	return false;
}

/* Counts the tables reachable from the root; checks that no table but
 * the root is empty and that large leaves sit only where allowed. */
static long count_tables(u64 pa, int level)
{
	u64 *t = fake_ptr(pa, NULL);
	long n = 1, present = 0;

	for (u32 i = 0; i < 512; i++) {
		if (!fmt->present(t[i]))
			continue;
		present++;
		if (level == SLAT_LEVELS - 1)
			continue;
		if (fmt->is_leaf(t[i], level)) {
			assert_true(level == 1 || level == 2);
			assert_true(level == 1 ? sl.allow_1g : sl.allow_2m);
			continue;
		}
		n += count_tables(fmt->entry_addr(t[i], level), level + 1);
	}
	if (level > 0)
		assert_true(present > 0);
	return n;
}

static void check_structure(void)
{
	assert_int_equal(count_tables(sl.root_pa, 0), mem.live);
}

/* An order-sensitive digest of every reachable table's contents and
 * address: equal digests mean nothing changed. */
static u64 digest(u64 pa, int level)
{
	u64 *t = fake_ptr(pa, NULL);
	u64 h = pa * 0x9e3779b97f4a7c15ULL;

	for (u32 i = 0; i < 512; i++) {
		h = (h ^ t[i]) * 0x100000001b3ULL;
		if (level < SLAT_LEVELS - 1 && fmt->present(t[i]) && !fmt->is_leaf(t[i], level))
			h ^= digest(fmt->entry_addr(t[i], level), level + 1);
	}
	return h;
}

/* ---- expectations ---- */

static void expect_map(u64 gpa, u64 want_hpa, u32 want_perms)
{
	u64 hpa = 0;
	u32 perms = 0;

	if (slat_translate(&sl, gpa, &hpa, &perms) != 0)
		fail_msg("%s: gpa %#llx not mapped", fmt->name, (unsigned long long)gpa);
	if (hpa != want_hpa || perms != want_perms)
		fail_msg("%s: gpa %#llx -> %#llx/%u, want %#llx/%u", fmt->name,
			 (unsigned long long)gpa, (unsigned long long)hpa, perms,
			 (unsigned long long)want_hpa, want_perms);
}

static void expect_unmapped(u64 gpa)
{
	if (slat_translate(&sl, gpa, NULL, NULL) != -E_NOENT)
		fail_msg("%s: gpa %#llx mapped", fmt->name, (unsigned long long)gpa);
}

/* Every page of [gpa, gpa + size) at its first and last byte. */
static void expect_range(u64 gpa, u64 hpa, u64 size, u32 perms)
{
	for (u64 off = 0; off < size; off += PG) {
		expect_map(gpa + off, hpa + off, perms);
		expect_map(gpa + off + PG - 1, hpa + off + PG - 1, perms);
	}
}

static void expect_memtype(u64 gpa, u32 memtype)
{
	u64 e;
	int level;

	assert_true(leaf_of(gpa, &e, &level));
	assert_int_equal(fmt->entry_memtype(e), memtype);
}

/* The exact leaf each format writes. */
static u64 want_leaf(u64 hpa, u32 perms, u32 memtype, int level)
{
	bool large = level == 1 || level == 2;
	u64 e = hpa;

	if (is_ept()) {
		e |= perms; /* R, W, X are bits 0, 1, 2 */
		e |= (memtype == SLAT_MEM_WB ? 6ULL : 0ULL) << 3;
		e |= BIT(6); /* ignore PAT */
		if (large)
			e |= BIT(7);
	} else {
		e |= BIT(2); /* U/S */
		if (perms & SLAT_R)
			e |= BIT(0);
		if (perms & SLAT_W)
			e |= BIT(1);
		if (!(perms & SLAT_X))
			e |= BIT(63);
		if (memtype == SLAT_MEM_UC)
			e |= BIT(3) | BIT(4);
		if (large)
			e |= BIT(7);
	}
	return e;
}

static u64 want_table(u64 pa)
{
	return pa | (is_ept() ? 7ULL : (BIT(0) | BIT(1) | BIT(2)));
}

#define RX (SLAT_R | SLAT_X)
#define RW (SLAT_R | SLAT_W)

/* ---- argument checks ---- */

static void test_bad_arguments(void **state)
{
	struct slat other;
	struct slat_env no_free = env;

	(void)state;
	assert_int_equal(slat_map(&sl, PG / 2, 0, PG, SLAT_RWX, SLAT_MEM_WB), -E_INVAL);
	assert_int_equal(slat_map(&sl, 0, 8, PG, SLAT_RWX, SLAT_MEM_WB), -E_INVAL);
	assert_int_equal(slat_map(&sl, 0, 0, PG + 1, SLAT_RWX, SLAT_MEM_WB), -E_INVAL);
	assert_int_equal(slat_map(&sl, 0, 0, 0, SLAT_RWX, SLAT_MEM_WB), -E_INVAL);
	/* the guest range ends at 2^48, the host range at 2^52 */
	assert_int_equal(slat_map(&sl, BIT(48) - PG, 0, 2 * PG, SLAT_RWX, SLAT_MEM_WB), -E_INVAL);
	assert_int_equal(slat_map(&sl, BIT(48), 0, PG, SLAT_RWX, SLAT_MEM_WB), -E_INVAL);
	assert_int_equal(slat_map(&sl, 0, BIT(52) - PG, 2 * PG, SLAT_RWX, SLAT_MEM_WB), -E_INVAL);
	assert_int_equal(slat_map(&sl, PG, 0, ~0ULL - PG + 1, SLAT_RWX, SLAT_MEM_WB), -E_INVAL);
	/* rights and types */
	assert_int_equal(slat_map(&sl, 0, 0, PG, 0, SLAT_MEM_WB), -E_INVAL);
	assert_int_equal(slat_map(&sl, 0, 0, PG, SLAT_RWX | BIT(3), SLAT_MEM_WB), -E_INVAL);
	assert_int_equal(slat_map(&sl, 0, 0, PG, SLAT_W, SLAT_MEM_WB), -E_INVAL);
	assert_int_equal(slat_map(&sl, 0, 0, PG, SLAT_W | SLAT_X, SLAT_MEM_WB), -E_INVAL);
	assert_int_equal(slat_map(&sl, 0, 0, PG, SLAT_RWX, 2), -E_INVAL);
	assert_int_equal(slat_unmap(&sl, PG / 2, PG), -E_INVAL);
	assert_int_equal(slat_unmap(&sl, 0, 0), -E_INVAL);
	assert_int_equal(slat_unmap(&sl, BIT(48) - PG, 2 * PG), -E_INVAL);
	/* nothing was allocated by the refusals */
	assert_int_equal(mem.live, 1);
	assert_int_equal(mem.attempts, 1);

	/* execute-only exists in EPT (with the CPU's support), not in NPT */
	assert_int_equal(slat_map(&sl, 0, 0, PG, SLAT_X, SLAT_MEM_WB), is_ept() ? 0 : -E_INVAL);
	/* the last page below 2^48, the last page below 2^52 */
	assert_int_equal(slat_map(&sl, BIT(48) - PG, BIT(52) - PG, PG, SLAT_R, SLAT_MEM_UC), 0);
	expect_map(BIT(48) - 1, BIT(52) - 1, SLAT_R);
	expect_unmapped(BIT(48));
	expect_unmapped(~0ULL);
	check_structure();

	/* init */
	assert_int_equal(slat_init(&other, fmt, &env, false, true), -E_INVAL);
	no_free.free_table = NULL;
	assert_int_equal(slat_init(&other, fmt, &no_free, true, true), -E_INVAL);
	assert_int_equal(slat_init(&other, NULL, &env, true, true), -E_INVAL);
	mem.fail_from = mem.attempts;
	assert_int_equal(slat_init(&other, fmt, &env, true, true), -E_NOMEM);
	mem.fail_from = -1;
	/* a destroyed slat refuses work and can be destroyed again */
	slat_destroy(&sl);
	assert_int_equal(mem.live, 0);
	assert_int_equal(slat_map(&sl, 0, 0, PG, SLAT_RWX, SLAT_MEM_WB), -E_INVAL);
	assert_int_equal(slat_unmap(&sl, 0, PG), -E_INVAL);
	expect_unmapped(0);
	slat_destroy(&sl);
}

static void test_ept_pointer(void **state)
{
	(void)state;
	/* WB (6) in 2:0, walk length 4 - 1 = 3 in 5:3, A/D in bit 6 */
	assert_int_equal(ept_pointer(0x12345000, false), 0x12345000 | 6 | 3 << 3);
	assert_int_equal(ept_pointer(0x12345000, true), 0x12345000 | 6 | 3 << 3 | BIT(6));
}

/* ---- mapping and translating ---- */

static void test_identity_4k(void **state)
{
	const u64 size = 6 * M2 + 3 * PG;

	(void)state;
	reinit(false, false);
	assert_int_equal(slat_map(&sl, 0, 0, size, SLAT_RWX, SLAT_MEM_WB), 0);
	expect_range(0, 0, size, SLAT_RWX);
	expect_unmapped(size);
	expect_unmapped(G1);
	/* 4 KiB pages only: root, PDPT, PD and 7 PTs */
	assert_int_equal(mem.live, 3 + 7);
	for (u64 gpa = 0; gpa < size; gpa += M2) {
		u64 pd_entry = entry_at(gpa, 2);

		assert_int_equal(pd_entry, want_table(fmt->entry_addr(pd_entry, 2)));
	}
	assert_int_equal(entry_at(5 * PG, 3), want_leaf(5 * PG, SLAT_RWX, SLAT_MEM_WB, 3));
	check_structure();
}

static void test_offset(void **state)
{
	(void)state;
	/* a 4 KiB-aligned offset: 4 KiB pages even where gpa is 2 MiB-aligned */
	assert_int_equal(slat_map(&sl, M2, 0x12345000, 3 * M2, RW, SLAT_MEM_WB), 0);
	expect_range(M2, 0x12345000, 3 * M2, RW);
	for (u64 gpa = M2; gpa < 4 * M2; gpa += M2)
		assert_false(fmt->is_leaf(entry_at(gpa, 2), 2));
	/* a 2 MiB-aligned offset: 2 MiB pages */
	assert_int_equal(slat_map(&sl, 8 * M2, 3 * G1 + 6 * M2, 4 * M2, RX, SLAT_MEM_WB), 0);
	expect_range(8 * M2, 3 * G1 + 6 * M2, 4 * M2, RX);
	for (u64 gpa = 8 * M2; gpa < 12 * M2; gpa += M2)
		assert_int_equal(entry_at(gpa, 2),
				 want_leaf(gpa + 3 * G1 - 2 * M2, RX, SLAT_MEM_WB, 2));
	expect_unmapped(0);
	expect_unmapped(4 * M2);
	expect_unmapped(12 * M2);
	/* mapped downwards: a hpa below the gpa */
	assert_int_equal(slat_map(&sl, 5 * G1, G1, M2 + PG, SLAT_R, SLAT_MEM_UC), 0);
	expect_range(5 * G1, G1, M2 + PG, SLAT_R);
	expect_memtype(5 * G1, SLAT_MEM_UC);
	check_structure();
}

static void test_large_pages(void **state)
{
	const u64 gpa = G1, hpa = 5 * G1, size = G1 + M2 + PG;

	(void)state;
	assert_int_equal(slat_map(&sl, gpa, hpa, size, SLAT_RWX, SLAT_MEM_WB), 0);
	/* root, PDPT, one PD, one PT */
	assert_int_equal(mem.live, 4);
	assert_int_equal(entry_at(gpa, 0), want_table(fmt->entry_addr(entry_at(gpa, 0), 0)));
	assert_int_equal(entry_at(gpa, 1), want_leaf(hpa, SLAT_RWX, SLAT_MEM_WB, 1));
	assert_int_equal(entry_at(gpa + G1, 1),
			 want_table(fmt->entry_addr(entry_at(gpa + G1, 1), 1)));
	assert_int_equal(entry_at(gpa + G1, 2), want_leaf(hpa + G1, SLAT_RWX, SLAT_MEM_WB, 2));
	assert_int_equal(entry_at(gpa + G1 + M2, 3),
			 want_leaf(hpa + G1 + M2, SLAT_RWX, SLAT_MEM_WB, 3));
	assert_int_equal(entry_at(gpa + G1 + M2 + PG, 3), 0);
	/* the bits, spelled out once per format */
	if (is_ept()) {
		assert_int_equal(entry_at(gpa + G1, 2), (hpa + G1) | 7 | 6 << 3 | BIT(6) | BIT(7));
		assert_int_equal(entry_at(gpa + G1 + M2, 3), (hpa + G1 + M2) | 7 | 6 << 3 | BIT(6));
	} else {
		assert_int_equal(entry_at(gpa + G1, 2), (hpa + G1) | 0x7 | BIT(7));
		assert_int_equal(entry_at(gpa + G1 + M2, 3), (hpa + G1 + M2) | 0x7);
	}
	expect_range(gpa, hpa, size, SLAT_RWX);
	expect_unmapped(gpa - PG);
	expect_unmapped(gpa + size);
	expect_memtype(gpa, SLAT_MEM_WB);
	check_structure();

	/* device memory, read-only, not executable */
	assert_int_equal(slat_map(&sl, 3 * G1, 0xfe000000, M2, SLAT_R, SLAT_MEM_UC), 0);
	assert_int_equal(entry_at(3 * G1, 2), want_leaf(0xfe000000, SLAT_R, SLAT_MEM_UC, 2));
	if (is_ept())
		assert_int_equal(entry_at(3 * G1, 2), 0xfe000000 | 1 | BIT(6) | BIT(7));
	else
		assert_int_equal(entry_at(3 * G1, 2),
				 0xfe000000 | BIT(0) | BIT(2) | BIT(3) | BIT(4) | BIT(7) | BIT(63));
	expect_range(3 * G1, 0xfe000000, M2, SLAT_R);
	expect_memtype(3 * G1, SLAT_MEM_UC);

	/* executable and readable only */
	assert_int_equal(slat_map(&sl, 4 * G1, 4 * G1, PG, RX, SLAT_MEM_WB), 0);
	assert_int_equal(entry_at(4 * G1, 3), want_leaf(4 * G1, RX, SLAT_MEM_WB, 3));
	if (!is_ept())
		assert_int_equal(entry_at(4 * G1, 3) & BIT(63), 0);
	expect_map(4 * G1, 4 * G1, RX);
	check_structure();
}

static void test_large_pages_not_allowed(void **state)
{
	(void)state;
	/* 2 MiB pages but no 1 GiB ones */
	reinit(true, false);
	assert_int_equal(slat_map(&sl, 0, 0, G1 + M2, SLAT_RWX, SLAT_MEM_WB), 0);
	assert_false(fmt->is_leaf(entry_at(0, 1), 1));
	assert_true(fmt->is_leaf(entry_at(0, 2), 2));
	assert_int_equal(mem.live, 4); /* root, PDPT, two PDs */
	expect_range(0, 0, G1 + M2, SLAT_RWX);
	check_structure();
}

/* ---- splitting ---- */

static void test_split_1g(void **state)
{
	const u64 hpa = 4 * G1, mid = G1 / 2 + 5 * PG;

	(void)state;
	assert_int_equal(slat_map(&sl, 0, hpa, G1, RX, SLAT_MEM_WB), 0);
	assert_int_equal(mem.live, 2);
	assert_int_equal(slat_map(&sl, mid, 0x9000, PG, RW, SLAT_MEM_UC), 0);
	/* root, PDPT, the PD that split the 1 GiB page, the PT that split one
	 * of its 2 MiB pieces */
	assert_int_equal(mem.live, 4);
	assert_false(fmt->is_leaf(entry_at(0, 1), 1));
	assert_false(fmt->is_leaf(entry_at(mid, 2), 2));
	for (u64 gpa = 0; gpa < G1; gpa += M2) {
		if (gpa == ALIGN_DOWN(mid, M2))
			continue;
		assert_int_equal(entry_at(gpa, 2), want_leaf(hpa + gpa, RX, SLAT_MEM_WB, 2));
	}
	for (u64 gpa = ALIGN_DOWN(mid, M2); gpa < ALIGN_UP(mid, M2); gpa += PG) {
		if (gpa == mid)
			assert_int_equal(entry_at(gpa, 3), want_leaf(0x9000, RW, SLAT_MEM_UC, 3));
		else
			assert_int_equal(entry_at(gpa, 3),
					 want_leaf(hpa + gpa, RX, SLAT_MEM_WB, 3));
	}
	expect_range(0, hpa, mid, RX);
	expect_map(mid, 0x9000, RW);
	expect_map(mid + 0xfff, 0x9fff, RW);
	expect_memtype(mid, SLAT_MEM_UC);
	expect_range(mid + PG, hpa + mid + PG, G1 - mid - PG, RX);
	expect_memtype(mid + PG, SLAT_MEM_WB);
	expect_unmapped(G1);
	check_structure();
}

static void test_unmap_in_2m(void **state)
{
	const u64 gpa = 2 * M2, hpa = 8 * M2, hole = gpa + M2 / 2;

	(void)state;
	assert_int_equal(slat_map(&sl, gpa, hpa, M2, SLAT_RWX, SLAT_MEM_WB), 0);
	assert_int_equal(mem.live, 3);
	assert_int_equal(slat_unmap(&sl, hole, 2 * PG), 0);
	assert_int_equal(mem.live, 4);
	expect_range(gpa, hpa, hole - gpa, SLAT_RWX);
	expect_unmapped(hole);
	expect_unmapped(hole + PG);
	expect_range(hole + 2 * PG, hpa + (hole + 2 * PG - gpa), gpa + M2 - hole - 2 * PG,
		     SLAT_RWX);
	check_structure();

	/* unmapping what is not mapped changes nothing and needs nothing */
	assert_int_equal(slat_unmap(&sl, hole, PG), 0);
	assert_int_equal(slat_unmap(&sl, 7 * G1, 3 * G1), 0);
	assert_int_equal(mem.live, 4);

	/* the rest, in two pieces: the tables left empty are freed */
	assert_int_equal(slat_unmap(&sl, gpa, hole - gpa), 0);
	assert_int_equal(mem.live, 4);
	assert_int_equal(slat_unmap(&sl, hole + 2 * PG, gpa + M2 - hole - 2 * PG), 0);
	assert_int_equal(mem.live, 1);
	expect_unmapped(gpa);
	check_structure();
}

static void test_unmap_across_large_pages(void **state)
{
	(void)state;
	assert_int_equal(slat_map(&sl, 0, 0, 2 * G1, SLAT_RWX, SLAT_MEM_WB), 0);
	assert_int_equal(mem.live, 2);
	/* one page either side of the 1 GiB boundary: both leaves split */
	assert_int_equal(slat_unmap(&sl, G1 - PG, 2 * PG), 0);
	assert_int_equal(mem.live, 6);
	expect_range(0, 0, G1 - PG, SLAT_RWX);
	expect_unmapped(G1 - PG);
	expect_unmapped(G1);
	expect_range(G1 + PG, G1 + PG, G1 - PG, SLAT_RWX);
	check_structure();
	/* a whole 1 GiB range at once frees its subtree */
	assert_int_equal(slat_unmap(&sl, 0, G1), 0);
	assert_int_equal(mem.live, 4);
	assert_int_equal(slat_unmap(&sl, G1, G1), 0);
	assert_int_equal(mem.live, 1);
	check_structure();
}

/* ---- remapping ---- */

static void test_remap(void **state)
{
	(void)state;
	/* 4 KiB pages, scattered */
	for (u64 i = 0; i < 512; i++)
		assert_int_equal(slat_map(&sl, i * PG, G1 + (511 - i) * PG, PG, RW, SLAT_MEM_WB),
				 0);
	assert_int_equal(mem.live, 4);
	expect_map(0, G1 + 511 * PG, RW);
	/* a 2 MiB page over them frees the PT */
	assert_int_equal(slat_map(&sl, 0, 64 * M2, 2 * M2, SLAT_RWX, SLAT_MEM_WB), 0);
	assert_int_equal(mem.live, 3);
	expect_range(0, 64 * M2, 2 * M2, SLAT_RWX);
	/* a 1 GiB page over that frees the PD */
	assert_int_equal(slat_map(&sl, 0, G1, G1, RX, SLAT_MEM_UC), 0);
	assert_int_equal(mem.live, 2);
	assert_int_equal(entry_at(0, 1), want_leaf(G1, RX, SLAT_MEM_UC, 1));
	/* one page of it changed: split again */
	assert_int_equal(slat_map(&sl, 3 * M2, 0, PG, SLAT_R, SLAT_MEM_WB), 0);
	assert_int_equal(mem.live, 4);
	expect_map(3 * M2, 0, SLAT_R);
	expect_map(3 * M2 + PG, G1 + 3 * M2 + PG, RX);
	expect_memtype(3 * M2 + PG, SLAT_MEM_UC);
	/* the same 1 GiB again, but only 4 KiB-aligned on the host side:
	 * a PD and 512 PTs replace everything */
	assert_int_equal(slat_map(&sl, 0, 7 * G1 + PG, G1, RW, SLAT_MEM_WB), 0);
	assert_int_equal(mem.live, 2 + 1 + 512);
	expect_range(0, 7 * G1 + PG, G1, RW);
	check_structure();
	/* and back to one leaf */
	assert_int_equal(slat_map(&sl, 0, 0, G1, SLAT_RWX, SLAT_MEM_WB), 0);
	assert_int_equal(mem.live, 2);
	/* remapping the same thing changes nothing and allocates nothing */
	assert_int_equal(slat_map(&sl, 0, 0, G1, SLAT_RWX, SLAT_MEM_WB), 0);
	assert_int_equal(mem.live, 2);
	check_structure();
}

static void test_destroy(void **state)
{
	(void)state;
	assert_int_equal(slat_map(&sl, 0, 0, 3 * G1 + 5 * M2 + 7 * PG, SLAT_RWX, SLAT_MEM_WB), 0);
	assert_int_equal(slat_map(&sl, 200 * G1, 3 * PG, 3 * M2, SLAT_R, SLAT_MEM_UC), 0);
	assert_int_equal(slat_map(&sl, BIT(47), 0, PG, SLAT_R, SLAT_MEM_UC), 0);
	assert_int_equal(slat_unmap(&sl, G1 + 5 * PG, PG), 0);
	assert_true(mem.live > 10);
	check_structure();
	slat_destroy(&sl);
	assert_int_equal(mem.live, 0);
	assert_int_equal(sl.root_pa, 0);
}

/* ---- out of memory at every allocation ---- */

struct oom_case {
	const char *what;
	void (*before)(void); /* the state the operation starts from */
	int (*op)(void);
	void (*after)(void); /* checks the result of the operation */
};

static void oom_before_empty(void)
{
}

static void oom_before_1g(void)
{
	assert_int_equal(slat_map(&sl, 0, 0, 2 * G1, RX, SLAT_MEM_WB), 0);
}

static void oom_before_mixed(void)
{
	/* a 1 GiB leaf, then 4 KiB pages, then two 2 MiB leaves */
	assert_int_equal(slat_map(&sl, 0, 0, G1, RX, SLAT_MEM_WB), 0);
	assert_int_equal(slat_map(&sl, G1, 8 * G1 + PG, 3 * M2, SLAT_R, SLAT_MEM_UC), 0);
	assert_int_equal(slat_map(&sl, G1 + 3 * M2, 9 * G1, 2 * M2, RW, SLAT_MEM_WB), 0);
}

static int oom_op_map_4k(void)
{
	return slat_map(&sl, 5 * G1 + 3 * PG, 0x1000, PG, RW, SLAT_MEM_WB);
}

static void oom_after_map_4k(void)
{
	expect_map(5 * G1 + 3 * PG, 0x1000, RW);
}

static int oom_op_split(void)
{
	return slat_map(&sl, G1 / 2 + PG, 0x1000, PG, RW, SLAT_MEM_UC);
}

static void oom_after_split(void)
{
	expect_map(G1 / 2 + PG, 0x1000, RW);
	expect_map(G1 / 2, G1 / 2, RX);
	expect_map(G1 / 2 + 2 * PG, G1 / 2 + 2 * PG, RX);
}

static int oom_op_unmap_edges(void)
{
	return slat_unmap(&sl, G1 - PG, 2 * PG);
}

static void oom_after_unmap_edges(void)
{
	expect_unmapped(G1 - PG);
	expect_unmapped(G1);
	expect_map(G1 - 2 * PG, G1 - 2 * PG, RX);
	expect_map(G1 + PG, G1 + PG, RX);
}

static int oom_op_map_big(void)
{
	/* from inside the 1 GiB leaf over the 4 KiB pages and the first
	 * 2 MiB leaf, 4 KiB-aligned on the host side */
	return slat_map(&sl, G1 - 3 * M2 / 2, 20 * G1 + PG, 5 * M2 + M2 / 2, SLAT_RWX, SLAT_MEM_WB);
}

static void oom_after_map_big(void)
{
	expect_range(G1 - 3 * M2 / 2, 20 * G1 + PG, 5 * M2 + M2 / 2, SLAT_RWX);
	expect_map(G1 - 3 * M2 / 2 - PG, G1 - 3 * M2 / 2 - PG, RX);
	expect_map(G1 + 4 * M2, 9 * G1 + M2, RW);
	expect_unmapped(G1 + 5 * M2);
}

static const struct oom_case oom_cases[] = {
	{ "map into empty", oom_before_empty, oom_op_map_4k, oom_after_map_4k },
	{ "split 1G", oom_before_1g, oom_op_split, oom_after_split },
	{ "unmap across 1G edge", oom_before_1g, oom_op_unmap_edges, oom_after_unmap_edges },
	{ "map over mixed", oom_before_mixed, oom_op_map_big, oom_after_map_big },
};

static void test_oom_everywhere(void **state)
{
	(void)state;
	for (u32 c = 0; c < ARRAY_SIZE(oom_cases); c++) {
		const struct oom_case *oc = &oom_cases[c];
		long fail, live;
		u64 before;
		int err;

		for (fail = 0;; fail++) {
			reinit(true, true);
			oc->before();
			live = mem.live;
			before = digest(sl.root_pa, 0);
			mem.attempts = 0;
			mem.fail_from = fail;
			err = oc->op();
			mem.fail_from = -1;
			if (err == 0)
				break;
			if (err != -E_NOMEM)
				fail_msg("%s: %s: error %d at allocation %ld", fmt->name, oc->what,
					 err, fail);
			/* nothing changed, nothing leaked, and it still works */
			assert_int_equal(mem.live, live);
			assert_int_equal(digest(sl.root_pa, 0), before);
			check_structure();
			assert_int_equal(oc->op(), 0);
			oc->after();
			check_structure();
		}
		/* the case did allocate: failing its first allocation was tried */
		assert_true(fail > 0);
		oc->after();
		check_structure();
	}
}

/* ---- randomized, against a page-granular model ---- */

/* The model covers 4 GiB of guest-physical space; host frames below 2^40. */
#define MODEL_PAGES (4 * G1 / PG)

struct model_page {
	u32 hpn;  /* host page number */
	u8 perms; /* 0: not mapped */
	u8 memtype;
};

static struct model_page *model;

static void model_check_page(u64 i)
{
	const struct model_page *m = &model[i];
	u64 gpa = i * PG, off = rnd_below(PG);

	if (!m->perms) {
		expect_unmapped(gpa + off);
		return;
	}
	expect_map(gpa + off, (u64)m->hpn * PG + off, m->perms);
	expect_memtype(gpa, m->memtype);
}

/* Through slat_translate: the pages around both ends of [first, first + n)
 * and a sample inside. */
static void model_check_range(u64 first, u64 n)
{
	const u64 margin = 600;

	for (u64 i = first > margin ? first - margin : 0; i < MIN(first + margin, MODEL_PAGES); i++)
		model_check_page(i);
	for (u64 i = first + n > margin ? first + n - margin : 0;
	     i < MIN(first + n + margin, MODEL_PAGES); i++)
		model_check_page(i);
	for (int k = 0; k < 500; k++)
		model_check_page(first + rnd_below(n));
}

/* Every page, by walking the tables alongside the model. */
static void model_check_tree(u64 pa, int level, u64 base)
{
	u64 *t = fake_ptr(pa, NULL);
	u64 span = level_span(level);

	for (u64 i = 0; i < 512; i++) {
		u64 gpa = base + i * span;
		u64 first = gpa / PG, pages = span / PG;
		u64 e = t[i];

		if (gpa >= MODEL_PAGES * PG) {
			assert_false(fmt->present(e));
			continue;
		}
		if (fmt->present(e) && level < SLAT_LEVELS - 1 && !fmt->is_leaf(e, level)) {
			model_check_tree(fmt->entry_addr(e, level), level + 1, gpa);
			continue;
		}
		for (u64 k = 0; k < pages; k++) {
			const struct model_page *m = &model[first + k];

			if (!fmt->present(e)) {
				if (m->perms)
					fail_msg("%s: gpa %#llx should be mapped", fmt->name,
						 (unsigned long long)(gpa + k * PG));
				continue;
			}
			if (m->perms != fmt->entry_perms(e) ||
			    m->memtype != fmt->entry_memtype(e) ||
			    (u64)m->hpn * PG != fmt->entry_addr(e, level) + k * PG)
				fail_msg("%s: gpa %#llx differs from the model", fmt->name,
					 (unsigned long long)(gpa + k * PG));
		}
	}
}

static void model_check_all(void)
{
	model_check_tree(sl.root_pa, 0, 0);
	check_structure();
}

static u32 rnd_perms(void)
{
	static const u32 any[] = { SLAT_R, RW, RX, SLAT_RWX };

	return any[rnd_below(ARRAY_SIZE(any))];
}

/* A page count with a bias towards large-page sizes and their neighbours. */
static u64 rnd_pages(void)
{
	switch (rnd_below(5)) {
	case 0:
		return 1 + rnd_below(8);
	case 1:
		return 1 + rnd_below(1100);
	case 2:
		return (1 + rnd_below(4)) * 512;
	case 3:
		return (1 + rnd_below(2)) * 512 * 512 + rnd_below(3) * 512;
	default:
		return 512 * 512 - 1 + rnd_below(3);
	}
}

/* A first page aligned to 4 KiB, 2 MiB or 1 GiB. */
static u64 rnd_first(void)
{
	static const u64 align[] = { 1, 512, 512 * 512 };
	u64 a = align[rnd_below(ARRAY_SIZE(align))];

	return rnd_below(MODEL_PAGES / a) * a;
}

static void random_run(bool allow_2m, bool allow_1g, u64 seed, int steps)
{
	rnd_seed(seed);
	reinit(allow_2m, allow_1g);
	memset(model, 0, MODEL_PAGES * sizeof(*model));
	for (int step = 0; step < steps; step++) {
		u64 first = rnd_first();
		u64 n = rnd_pages();
		bool starve = rnd_below(8) == 0;
		long live = mem.live;
		u64 before = starve ? digest(sl.root_pa, 0) : 0;
		int err;

		n = MIN(n, MODEL_PAGES - first);
		/* sometimes run out of memory after a few tables */
		mem.attempts = 0;
		mem.fail_from = starve ? (long)rnd_below(4) : -1;
		if (rnd_below(3)) {
			/* a host side 1 GiB-, 2 MiB- or 4 KiB-aligned */
			u64 hpn = rnd_below(256) * 512 * 512;
			u32 perms = rnd_perms(), memtype = (u32)rnd_below(2);

			if (rnd_below(3) == 0)
				hpn += rnd_below(512 * 512);
			else if (rnd_below(2))
				hpn += rnd_below(512) * 512;

			err = slat_map(&sl, first * PG, hpn * PG, n * PG, perms, memtype);
			if (!err) {
				for (u64 i = 0; i < n; i++)
					model[first + i] = (struct model_page){
						.hpn = (u32)(hpn + i),
						.perms = (u8)perms,
						.memtype = (u8)memtype,
					};
			}
		} else {
			err = slat_unmap(&sl, first * PG, n * PG);
			if (!err)
				memset(&model[first], 0, n * sizeof(*model));
		}
		mem.fail_from = -1;
		if (err) {
			assert_true(starve);
			assert_int_equal(err, -E_NOMEM);
			assert_int_equal(mem.live, live);
			assert_int_equal(digest(sl.root_pa, 0), before);
		}
		model_check_range(first, n);
		if (step % 32 == 31)
			model_check_all();
	}
	model_check_all();
}

static void test_random_against_model(void **state)
{
	(void)state;
	model = calloc(MODEL_PAGES, sizeof(*model));
	assert_non_null(model);
	random_run(true, true, 0x5eed51a7, 1000);
	random_run(true, false, 0x5eed51a8, 400);
	random_run(false, false, 0x5eed51a9, 200);
	free(model);
	model = NULL;
}

/* Each test runs once per format. */
#define BOTH(t)                                                                              \
	cmocka_unit_test_prestate_setup_teardown(t, setup, teardown, (void *)&slat_fmt_ept), \
		cmocka_unit_test_prestate_setup_teardown(t, setup, teardown,                 \
							 (void *)&slat_fmt_npt)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_bad_arguments),
		cmocka_unit_test(test_ept_pointer),
		BOTH(test_identity_4k),
		BOTH(test_offset),
		BOTH(test_large_pages),
		BOTH(test_large_pages_not_allowed),
		BOTH(test_split_1g),
		BOTH(test_unmap_in_2m),
		BOTH(test_unmap_across_large_pages),
		BOTH(test_remap),
		BOTH(test_destroy),
		BOTH(test_oom_everywhere),
		BOTH(test_random_against_model),
	};

	return cmocka_run_group_tests_name("slat", tests, NULL, NULL);
}
