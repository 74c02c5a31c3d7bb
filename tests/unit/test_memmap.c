/*
 * memmap_normalize: table-driven cases (every kind of overlap, odd sizes,
 * wrap-around, real QEMU and OVMF maps), a randomized check against a
 * page-by-page oracle, and the end-to-end property the issue asks for:
 * whatever the firmware map, no memory that firmware reserved (or that we
 * reserved for the image and modules) is ever handed out by the allocator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/mm/memmap.h"
#include "hv/mm/palloc.h"
#include "tests/unit/test_support.h"

#define RAM BOOT_MEM_RAM
#define RES BOOT_MEM_RESERVED
#define ACPI BOOT_MEM_ACPI
#define NVS BOOT_MEM_NVS
#define UNUS BOOT_MEM_UNUSABLE
#define FWRT BOOT_MEM_FW_RUNTIME
/* clang-format off */
#define R(b, l, t) { .base = (b), .len = (l), .type = (t) }
/* clang-format on */
#define TOP (~0ULL)
#define MAX_CASE 48

/* ---- helpers ---- */

static void print_map(const char *what, const struct boot_mem_range *m, int n)
{
	print_message("%s (%d):\n", what, n);
	for (int i = 0; i < n; i++)
		print_message("  %#018llx-%#018llx type %u\n", (unsigned long long)m[i].base,
			      (unsigned long long)(m[i].base + m[i].len), m[i].type);
}

/* The structural promises of a normalised map. */
static void check_normalized(const struct boot_mem_range *m, int n)
{
	for (int i = 0; i < n; i++) {
		assert_true(m[i].len > 0);
		assert_true(IS_ALIGNED(m[i].base, PAGE_SIZE));
		assert_true(IS_ALIGNED(m[i].len, PAGE_SIZE));
		assert_true(m[i].type >= BOOT_MEM_RAM && m[i].type <= BOOT_MEM_FW_RUNTIME);
		assert_int_equal(m[i].pad, 0);
		assert_true(m[i].len <= MEMMAP_ADDR_LIMIT - m[i].base);
		if (i == 0)
			continue;
		assert_true(m[i - 1].base + m[i - 1].len <= m[i].base);
		if (m[i - 1].base + m[i - 1].len == m[i].base)
			assert_int_not_equal(m[i - 1].type, m[i].type);
	}
}

struct mm_case {
	const char *name;
	struct boot_mem_range in[MAX_CASE];
	u32 n_in;
	struct boot_mem_range out[MAX_CASE];
	int n_out;
};

static void run_case(const struct mm_case *c)
{
	struct boot_mem_range out[MAX_CASE * 2 + 1];
	int n;

	memset(out, 0xa5, sizeof(out));
	n = memmap_normalize(c->in, c->n_in, out, ARRAY_SIZE(out));
	if (n != c->n_out || (n > 0 && memcmp(out, c->out, (size_t)n * sizeof(out[0])) != 0)) {
		print_message("case '%s' failed\n", c->name);
		print_map("expected", c->out, c->n_out);
		print_map("got", out, n);
		fail();
	}
	check_normalized(out, n);
}

/* ---- table-driven cases ---- */

/* clang-format off */
static const struct mm_case cases[] = {
	{ "empty", { R(0, 0, RAM) }, 0, { R(0, 0, 0) }, 0 },
	{ "one aligned RAM range", { R(0x100000, 0x100000, RAM) }, 1,
	  { R(0x100000, 0x100000, RAM) }, 1 },
	{ "unsorted",
	  { R(0x300000, 0x1000, RAM), R(0x100000, 0x1000, RES), R(0x200000, 0x1000, ACPI) }, 3,
	  { R(0x100000, 0x1000, RES), R(0x200000, 0x1000, ACPI), R(0x300000, 0x1000, RAM) }, 3 },
	{ "adjacent RAM merges", { R(0x1000, 0x2000, RAM), R(0, 0x1000, RAM) }, 2,
	  { R(0, 0x3000, RAM) }, 1 },
	{ "adjacent RAM split at an odd address merges into whole pages",
	  { R(0, 0x1800, RAM), R(0x1800, 0x1800, RAM) }, 2, { R(0, 0x3000, RAM) }, 1 },
	{ "adjacent non-RAM of one type merges",
	  { R(0x800, 0x1000, RES), R(0x1800, 0x1000, RES) }, 2, { R(0, 0x3000, RES) }, 1 },
	{ "adjacent different types stay apart",
	  { R(0, 0x1000, RAM), R(0x1000, 0x1000, ACPI), R(0x2000, 0x1000, NVS) }, 3,
	  { R(0, 0x1000, RAM), R(0x1000, 0x1000, ACPI), R(0x2000, 0x1000, NVS) }, 3 },
	{ "a hole keeps ranges of one type apart",
	  { R(0, 0x1000, RAM), R(0x2000, 0x1000, RAM) }, 2,
	  { R(0, 0x1000, RAM), R(0x2000, 0x1000, RAM) }, 2 },
	{ "identical duplicates", { R(0x5000, 0x3000, RAM), R(0x5000, 0x3000, RAM) }, 2,
	  { R(0x5000, 0x3000, RAM) }, 1 },
	{ "identical ranges of two types: the stronger wins",
	  { R(0x5000, 0x3000, RAM), R(0x5000, 0x3000, ACPI) }, 2,
	  { R(0x5000, 0x3000, ACPI) }, 1 },
	{ "RAM overlapping RAM", { R(0, 0x3000, RAM), R(0x2000, 0x3000, RAM) }, 2,
	  { R(0, 0x5000, RAM) }, 1 },
	{ "reserved inside RAM splits it",
	  { R(0, 0x10000, RAM), R(0x4000, 0x1000, RES) }, 2,
	  { R(0, 0x4000, RAM), R(0x4000, 0x1000, RES), R(0x5000, 0xb000, RAM) }, 3 },
	{ "RAM inside reserved vanishes",
	  { R(0x4000, 0x1000, RAM), R(0, 0x10000, RES) }, 2, { R(0, 0x10000, RES) }, 1 },
	{ "reserved overlapping the end of RAM",
	  { R(0, 0x8000, RAM), R(0x6000, 0x4000, RES) }, 2,
	  { R(0, 0x6000, RAM), R(0x6000, 0x4000, RES) }, 2 },
	{ "reserved overlapping the start of RAM",
	  { R(0x6000, 0x4000, RAM), R(0x4000, 0x4000, RES) }, 2,
	  { R(0x4000, 0x4000, RES), R(0x8000, 0x2000, RAM) }, 2 },
	{ "RAM containing ACPI containing NVS",
	  { R(0, 0x10000, RAM), R(0x2000, 0x8000, ACPI), R(0x4000, 0x1000, NVS) }, 3,
	  { R(0, 0x2000, RAM), R(0x2000, 0x2000, ACPI), R(0x4000, 0x1000, NVS),
	    R(0x5000, 0x5000, ACPI), R(0xa000, 0x6000, RAM) }, 5 },
	{ "a chain of overlaps of every type, strongest last",
	  { R(0, 0x7000, RAM), R(0x1000, 0x6000, ACPI), R(0x2000, 0x5000, NVS),
	    R(0x3000, 0x4000, FWRT), R(0x4000, 0x3000, RES), R(0x5000, 0x1000, UNUS) }, 6,
	  { R(0, 0x1000, RAM), R(0x1000, 0x1000, ACPI), R(0x2000, 0x1000, NVS),
	    R(0x3000, 0x1000, FWRT), R(0x4000, 0x1000, RES), R(0x5000, 0x1000, UNUS),
	    R(0x6000, 0x1000, RES) }, 7 },
	{ "the same chain, given strongest first",
	  { R(0x5000, 0x1000, UNUS), R(0x4000, 0x3000, RES), R(0x3000, 0x4000, FWRT),
	    R(0x2000, 0x5000, NVS), R(0x1000, 0x6000, ACPI), R(0, 0x7000, RAM) }, 6,
	  { R(0, 0x1000, RAM), R(0x1000, 0x1000, ACPI), R(0x2000, 0x1000, NVS),
	    R(0x3000, 0x1000, FWRT), R(0x4000, 0x1000, RES), R(0x5000, 0x1000, UNUS),
	    R(0x6000, 0x1000, RES) }, 7 },
	{ "one reserved byte spoils its whole page",
	  { R(0, 0x10000, RAM), R(0x4800, 1, RES) }, 2,
	  { R(0, 0x4000, RAM), R(0x4000, 0x1000, RES), R(0x5000, 0xb000, RAM) }, 3 },
	{ "a reserved range straddling a page boundary spoils both pages",
	  { R(0, 0x10000, RAM), R(0x4ff0, 0x20, ACPI) }, 2,
	  { R(0, 0x4000, RAM), R(0x4000, 0x2000, ACPI), R(0x6000, 0xa000, RAM) }, 3 },
	{ "odd RAM shrinks to whole pages", { R(0x100, 0x2e00, RAM) }, 1,
	  { R(0x1000, 0x1000, RAM) }, 1 },
	{ "RAM smaller than a page vanishes", { R(0x100, 0xe00, RAM) }, 1, { R(0, 0, 0) }, 0 },
	{ "RAM spanning a page boundary but no whole page vanishes",
	  { R(0x1800, 0x1000, RAM) }, 1, { R(0, 0, 0) }, 0 },
	{ "odd reserved widens to whole pages", { R(0x1234, 0x10, RES) }, 1,
	  { R(0x1000, 0x1000, RES) }, 1 },
	{ "RAM next to a reserved tail in the same page (BIOS EBDA)",
	  { R(0, 0x9fc00, RAM), R(0x9fc00, 0x400, RES) }, 2,
	  { R(0, 0x9f000, RAM), R(0x9f000, 0x1000, RES) }, 2 },
	{ "zero-length entries are ignored",
	  { R(0x1000, 0, RES), R(0, 0x4000, RAM), R(0x2345, 0, UNUS), R(TOP, 0, RES) }, 4,
	  { R(0, 0x4000, RAM) }, 1 },
	{ "unknown types count as reserved and merge with it",
	  { R(0, 0x8000, RAM), R(0x1000, 0x1000, 0), R(0x2000, 0x1000, RES),
	    R(0x3000, 0x1000, 7), R(0x6000, 0x1000, 0xffffffff) }, 5,
	  { R(0, 0x1000, RAM), R(0x1000, 0x3000, RES), R(0x4000, 0x2000, RAM),
	    R(0x6000, 0x1000, RES), R(0x7000, 0x1000, RAM) }, 5 },
	{ "RAM wrapping past 2^64 is clipped", { R(0xfffffffffff00000ULL, 0x200000, RAM) }, 1,
	  { R(0xfffffffffff00000ULL, 0xff000, RAM) }, 1 },
	{ "reserved wrapping past 2^64 is clipped",
	  { R(0xffffffffffffe800ULL, 0x10000, RES) }, 1,
	  { R(0xffffffffffffe000ULL, 0x1000, RES) }, 1 },
	{ "a range in the last page is dropped",
	  { R(0xfffffffffffff800ULL, 0x100, RES), R(0xfffffffffffff000ULL, 0x1000, RAM) }, 2,
	  { R(0, 0, 0) }, 0 },
	{ "a range of length 2^64-1 from 0",
	  { R(0, TOP, RAM), R(0x100000000ULL, 0x1000, RES) }, 2,
	  { R(0, 0x100000000ULL, RAM), R(0x100000000ULL, 0x1000, RES),
	    R(0x100001000ULL, MEMMAP_ADDR_LIMIT - 0x100001000ULL, RAM) }, 3 },
	{ "a wrapping range does not cover low memory",
	  { R(0xffffffff00000000ULL, 0x200000000ULL, RES), R(0, 0x1000, RAM) }, 2,
	  { R(0, 0x1000, RAM),
	    R(0xffffffff00000000ULL, MEMMAP_ADDR_LIMIT - 0xffffffff00000000ULL, RES) }, 2 },
	{ "RAM pieces overlapping, odd, contained",
	  { R(0x10, 0x5000, RAM), R(0x800, 0x100, RAM), R(0x4000, 0x2345, RAM) }, 3,
	  { R(0x1000, 0x5000, RAM) }, 1 },
	{ "the ranges around a vanished RAM sliver stay apart",
	  { R(0, 0x1000, RES), R(0x1000, 0x800, RAM), R(0x2000, 0x1000, RES) }, 3,
	  { R(0, 0x1000, RES), R(0x2000, 0x1000, RES) }, 2 },
};
/* clang-format on */

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
}

/* Every ordered pair of types on one range: the documented order decides. */
static void test_type_order(void **state)
{
	static const u32 order[] = { RAM, ACPI, NVS, FWRT, RES, UNUS }; /* weakest first */

	(void)state;
	for (size_t a = 0; a < ARRAY_SIZE(order); a++) {
		for (size_t b = 0; b < ARRAY_SIZE(order); b++) {
			struct boot_mem_range in[2] = { R(0x3000, 0x2000, order[a]),
							R(0x3000, 0x2000, order[b]) };
			struct boot_mem_range out[4];

			assert_int_equal(memmap_normalize(in, 2, out, 4), 1);
			assert_int_equal(out[0].type, order[MAX(a, b)]);
			assert_int_equal(memmap_type_rank(order[a]), a + 1);
		}
	}
	assert_int_equal(memmap_type_rank(0), memmap_type_rank(RES));
	assert_int_equal(memmap_type_rank(99), memmap_type_rank(RES));
}

/* The map QEMU 7.2 (q35, -m 5G, SeaBIOS) gives a Multiboot1 kernel. */
static const struct boot_mem_range qemu_e820[] = {
	R(0x0000000000, 0x009fc00, RAM),  R(0x000009fc00, 0x0000400, RES),
	R(0x00000f0000, 0x0010000, RES),  R(0x0000100000, 0x7fedf000, RAM),
	R(0x007ffdf000, 0x0021000, RES),  R(0x00b0000000, 0x10000000, RES),
	R(0x00fed1c000, 0x0004000, RES),  R(0x00fffc0000, 0x0040000, RES),
	R(0x0100000000, 0xc0000000, RAM), R(0xfd00000000, 0x300000000ULL, RES),
};

static void test_qemu_e820(void **state)
{
	static const struct boot_mem_range want[] = {
		R(0x0000000000, 0x009f000, RAM),  R(0x000009f000, 0x0001000, RES),
		R(0x00000f0000, 0x0010000, RES),  R(0x0000100000, 0x7fedf000, RAM),
		R(0x007ffdf000, 0x0021000, RES),  R(0x00b0000000, 0x10000000, RES),
		R(0x00fed1c000, 0x0004000, RES),  R(0x00fffc0000, 0x0040000, RES),
		R(0x0100000000, 0xc0000000, RAM), R(0xfd00000000, 0x300000000ULL, RES),
	};
	struct boot_mem_range out[32], shuffled[ARRAY_SIZE(qemu_e820)];
	int n;

	(void)state;
	n = memmap_normalize(qemu_e820, ARRAY_SIZE(qemu_e820), out, ARRAY_SIZE(out));
	assert_int_equal(n, ARRAY_SIZE(want));
	assert_memory_equal(out, want, sizeof(want));
	assert_int_equal(memmap_ram_bytes(out, (u32)n), 0x9f000 + 0x7fedf000ULL + 0xc0000000ULL);
	assert_int_equal(memmap_top_of_ram(out, (u32)n), 0x1c0000000ULL);

	/* reversed: the same result */
	for (size_t i = 0; i < ARRAY_SIZE(qemu_e820); i++)
		shuffled[i] = qemu_e820[ARRAY_SIZE(qemu_e820) - 1 - i];
	n = memmap_normalize(shuffled, ARRAY_SIZE(shuffled), out, ARRAY_SIZE(out));
	assert_int_equal(n, ARRAY_SIZE(want));
	assert_memory_equal(out, want, sizeof(want));

	/* too small an output: an error, at every size below the need */
	for (u32 max = 0; max < ARRAY_SIZE(want); max++)
		assert_int_equal(memmap_normalize(qemu_e820, ARRAY_SIZE(qemu_e820), out, max),
				 -E_TOOBIG);
	assert_int_equal(memmap_normalize(qemu_e820, ARRAY_SIZE(qemu_e820), out, ARRAY_SIZE(want)),
			 ARRAY_SIZE(want));
}

/*
 * A UEFI map as OVMF (q35, 2 GiB) reports it, after the front-end's type
 * conversion (boot services, loader and conventional memory are RAM,
 * runtime services are FW_RUNTIME): many neighbouring entries of one type,
 * a few of them listed out of order as some firmware does.
 */
/* clang-format off */
static const struct boot_mem_range ovmf_map[] = {
	R(0x0000000000, 0x0001000, RAM),      /* BS code */
	R(0x0000001000, 0x009f000, RAM),      /* conventional */
	R(0x0000100000, 0x0700000, RAM),      /* conventional */
	R(0x0000800000, 0x0008000, NVS),      /* OVMF work area */
	R(0x0000808000, 0x0003000, RAM),
	R(0x000080b000, 0x0001000, NVS),
	R(0x000080c000, 0x0004000, RAM),
	R(0x0000810000, 0x00f0000, NVS),
	R(0x0000900000, 0x0300000, RAM),      /* BS data */
	R(0x0000c00000, 0x7a6c1000, RAM),     /* conventional */
	R(0x007b2c1000, 0x00e2000, RAM),      /* loader code: us */
	R(0x007b3a3000, 0x354c000, RAM),      /* BS data */
	R(0x007e8ef000, 0x0280000, RES),
	R(0x007eb6f000, 0x0010000, ACPI),
	R(0x007eb7f000, 0x0080000, NVS),
	R(0x007ebff000, 0x031f000, RAM),      /* BS data */
	R(0x007ef6e000, 0x0003000, FWRT),     /* RT data (listed late) */
	R(0x007ef1e000, 0x0050000, FWRT),     /* RT code */
	R(0x007ef71000, 0x0c0f000, RAM),      /* BS code */
	R(0x007fb80000, 0x0080000, FWRT),     /* RT data */
	R(0x007fc00000, 0x0100000, RAM),
	R(0x007fd00000, 0x00f0000, RAM),
	R(0x007fdf0000, 0x0010000, NVS),
	R(0x007fe00000, 0x0200000, RES),
	R(0x00b0000000, 0x10000000, RES),     /* MMIO: ECAM */
	R(0x00ffc00000, 0x0400000, RES),      /* MMIO: flash */
	R(0x00ffe00000, 0x0001000, RES),      /* duplicate inside the flash */
	R(0xfd00000000, 0x300000000ULL, RES), /* reserved for the IOMMU window */
};
/* clang-format on */

static void test_ovmf_map(void **state)
{
	static const struct boot_mem_range want[] = {
		R(0x0000000000, 0x00a0000, RAM),      R(0x0000100000, 0x0700000, RAM),
		R(0x0000800000, 0x0008000, NVS),      R(0x0000808000, 0x0003000, RAM),
		R(0x000080b000, 0x0001000, NVS),      R(0x000080c000, 0x0004000, RAM),
		R(0x0000810000, 0x00f0000, NVS),      R(0x0000900000, 0x7dfef000, RAM),
		R(0x007e8ef000, 0x0280000, RES),      R(0x007eb6f000, 0x0010000, ACPI),
		R(0x007eb7f000, 0x0080000, NVS),      R(0x007ebff000, 0x031f000, RAM),
		R(0x007ef1e000, 0x0053000, FWRT),     R(0x007ef71000, 0x0c0f000, RAM),
		R(0x007fb80000, 0x0080000, FWRT),     R(0x007fc00000, 0x01f0000, RAM),
		R(0x007fdf0000, 0x0010000, NVS),      R(0x007fe00000, 0x0200000, RES),
		R(0x00b0000000, 0x10000000, RES),     R(0x00ffc00000, 0x0400000, RES),
		R(0xfd00000000, 0x300000000ULL, RES),
	};
	struct boot_mem_range out[64];
	int n;

	(void)state;
	n = memmap_normalize(ovmf_map, ARRAY_SIZE(ovmf_map), out, ARRAY_SIZE(out));
	if (n != (int)ARRAY_SIZE(want) || memcmp(out, want, sizeof(want))) {
		print_map("expected", want, ARRAY_SIZE(want));
		print_map("got", out, n);
		fail();
	}
	assert_int_equal(memmap_top_of_ram(out, (u32)n), 0x7fdf0000ULL);
}

static void test_normalize_is_idempotent(void **state)
{
	struct boot_mem_range once[64], twice[64];
	int n1, n2;

	(void)state;
	n1 = memmap_normalize(ovmf_map, ARRAY_SIZE(ovmf_map), once, ARRAY_SIZE(once));
	assert_true(n1 > 0);
	n2 = memmap_normalize(once, (u32)n1, twice, ARRAY_SIZE(twice));
	assert_int_equal(n1, n2);
	assert_memory_equal(once, twice, (size_t)n1 * sizeof(once[0]));
}

static void test_ram_helpers(void **state)
{
	static const struct boot_mem_range m[] = {
		R(0, 0x1000, RAM),
		R(0x1000, 0x1000, RES),
		R(0x200000, 0x3000, RAM),
		R(0x400000, 0x1000, ACPI),
	};
	static const struct boot_mem_range wrap[] = { R(0xfffffffffffff000ULL, 0x2000, RAM) };

	(void)state;
	assert_int_equal(memmap_ram_bytes(m, ARRAY_SIZE(m)), 0x4000);
	assert_int_equal(memmap_top_of_ram(m, ARRAY_SIZE(m)), 0x203000);
	assert_int_equal(memmap_ram_bytes(m, 0), 0);
	assert_int_equal(memmap_top_of_ram(m, 0), 0);
	assert_int_equal(memmap_top_of_ram(m + 1, 1), 0);
	assert_int_equal(memmap_top_of_ram(wrap, 1), TOP);
}

/* ---- randomized: a page-by-page oracle ---- */

/* The end of an input range, saturated at 2^64-1 when it wraps. */
static u64 sat_end(const struct boot_mem_range *r)
{
	return r->len > TOP - r->base ? TOP : r->base + r->len;
}

/* True when RAM ranges of m cover every byte of [s, e) (e <= TOP). */
static bool ram_covers(const struct boot_mem_range *m, u32 n, u64 s, u64 e)
{
	while (s < e) {
		u64 best = s;

		for (u32 i = 0; i < n; i++)
			if (m[i].type == RAM && m[i].len && m[i].base <= s && sat_end(&m[i]) > s)
				best = MAX(best, sat_end(&m[i]));
		if (best == s)
			return false;
		s = best;
	}
	return true;
}

static bool is_known(u32 t)
{
	return t >= RAM && t <= FWRT;
}

/* What the page at p must be, straight from the definition in memmap.h. */
static u32 oracle_page(const struct boot_mem_range *m, u32 n, u64 p)
{
	u32 best = 0;

	if (p >= MEMMAP_ADDR_LIMIT)
		return 0;
	for (u32 i = 0; i < n; i++) {
		u32 t = is_known(m[i].type) ? m[i].type : RES;

		if (t == RAM || !m[i].len || m[i].base >= p + PAGE_SIZE || sat_end(&m[i]) <= p)
			continue;
		if (!best || memmap_type_rank(t) > memmap_type_rank(best))
			best = t;
	}
	if (best)
		return best;
	return ram_covers(m, n, p, p + PAGE_SIZE) ? RAM : 0;
}

/* The type of the byte at p in a normalised map; 0 for a hole. */
static u32 lookup(const struct boot_mem_range *m, int n, u64 p)
{
	for (int i = 0; i < n; i++)
		if (p >= m[i].base && p - m[i].base < m[i].len)
			return m[i].type;
	return 0;
}

static u64 rnd_addr(u64 span)
{
	switch (rnd_below(8)) {
	case 0:
		return rnd_below(span) & ~(PAGE_SIZE - 1);
	case 1:
		return TOP - rnd_below(64 * KiB); /* near the top: wraps */
	default:
		return rnd_below(span);
	}
}

static u64 rnd_len(void)
{
	switch (rnd_below(10)) {
	case 0:
		return 0;
	case 1:
		return rnd_below(PAGE_SIZE) + 1;
	case 2:
		return TOP - rnd_below(4); /* covers (nearly) everything */
	case 3:
		return (rnd_below(64) + 1) * PAGE_SIZE;
	default:
		return rnd_below(64 * MiB) + 1;
	}
}

static const u32 rnd_types[] = { RAM, RAM, RAM, RAM, RAM, RES, ACPI, NVS, UNUS, FWRT, 0, 9 };

/* A random firmware map: overlapping, odd, duplicated, unsorted, wrapping. */
static u32 gen_map(struct boot_mem_range *m, u32 max)
{
	u32 n = (u32)rnd_below(max) + 1;
	u64 span = rnd_below(2) ? 256 * MiB : 8 * GiB;

	for (u32 i = 0; i < n; i++) {
		u32 t = rnd_types[rnd_below(ARRAY_SIZE(rnd_types))];

		m[i] = (struct boot_mem_range)R(rnd_addr(span), rnd_len(), t);
		/* rarer cases: a copy of an earlier range, or a neighbour of one */
		if (i && t != RAM && rnd_below(6) == 0)
			m[i] = (struct boot_mem_range)R(m[rnd_below(i)].base, m[rnd_below(i)].len,
							t);
		if (i && rnd_below(6) == 0)
			m[i].base = sat_end(&m[rnd_below(i)]);
		if (rnd_below(3) == 0 && m[i].len < TOP / 2)
			m[i].len = ALIGN_DOWN(m[i].len, PAGE_SIZE);
		/* most real maps keep below 4 GiB and mostly RAM */
		if (rnd_below(20) == 0)
			m[i].base = ALIGN_DOWN(m[i].base, PAGE_SIZE);
	}
	return n;
}

static void check_page(const struct boot_mem_range *in, u32 n_in, const struct boot_mem_range *out,
		       int n, u64 addr)
{
	u64 p = ALIGN_DOWN(addr, PAGE_SIZE);
	u32 want = oracle_page(in, n_in, p), got = lookup(out, n, p);

	if (want != got) {
		print_message("page %#llx: want type %u, got %u\n", (unsigned long long)p, want,
			      got);
		print_map("input", in, (int)n_in);
		print_map("output", out, n);
		fail();
	}
}

static void test_random_against_oracle(void **state)
{
	enum { ROUNDS = 3000, MAX_IN = 24 };

	(void)state;
	rnd_seed(0x5eed0001);
	for (int round = 0; round < ROUNDS; round++) {
		struct boot_mem_range in[MAX_IN], perm[MAX_IN], out[4 * MAX_IN], out2[4 * MAX_IN];
		u32 n_in = gen_map(in, MAX_IN);
		int n = memmap_normalize(in, n_in, out, ARRAY_SIZE(out));

		assert_true(n >= 0 && n <= (int)(2 * n_in + 1));
		check_normalized(out, n);
		/* the pages at and around every boundary, in and out */
		for (u32 i = 0; i < n_in; i++) {
			u64 b = in[i].base, e = sat_end(&in[i]);

			for (int d = -1; d <= 1; d++) {
				check_page(in, n_in, out, n, b + (u64)d * PAGE_SIZE);
				check_page(in, n_in, out, n, e + (u64)d * PAGE_SIZE);
			}
		}
		for (int i = 0; i < n; i++) {
			check_page(in, n_in, out, n, out[i].base);
			check_page(in, n_in, out, n, out[i].base - PAGE_SIZE);
			check_page(in, n_in, out, n, out[i].base + out[i].len - PAGE_SIZE);
			check_page(in, n_in, out, n, out[i].base + out[i].len);
		}
		for (int i = 0; i < 32; i++)
			check_page(in, n_in, out, n, rnd_below(9 * GiB));

		/* the order of the input does not matter */
		memcpy(perm, in, sizeof(in[0]) * n_in);
		for (u32 i = n_in; i > 1; i--) {
			u32 j = (u32)rnd_below(i);
			struct boot_mem_range t = perm[i - 1];

			perm[i - 1] = perm[j];
			perm[j] = t;
		}
		assert_int_equal(memmap_normalize(perm, n_in, out2, ARRAY_SIZE(out2)), n);
		assert_memory_equal(out, out2, (size_t)n * sizeof(out[0]));
		/* normalising again changes nothing */
		assert_int_equal(memmap_normalize(out, (u32)n, out2, ARRAY_SIZE(out2)), n);
		assert_memory_equal(out, out2, (size_t)n * sizeof(out[0]));
		/* one slot short is an error */
		if (n > 0)
			assert_int_equal(memmap_normalize(in, n_in, out2, (u32)n - 1), -E_TOOBIG);
	}
}

/* ---- end to end: firmware map -> allocator, nothing reserved handed out ---- */

struct block {
	u64 base, size;
};

static bool overlaps(u64 s1, u64 e1, u64 s2, u64 e2)
{
	return s1 < e2 && s2 < e1;
}

static int cmp_block(const void *a, const void *b)
{
	const struct block *x = a, *y = b;

	return x->base < y->base ? -1 : x->base > y->base;
}

static void check_table(const struct palloc *pa)
{
	u64 sum = 0;

	assert_true(pa->count <= PALLOC_MAX_RANGES);
	for (u32 i = 0; i < pa->count; i++) {
		assert_true(pa->r[i].len > 0);
		assert_true(IS_ALIGNED(pa->r[i].base | pa->r[i].len, PAGE_SIZE));
		if (i)
			assert_true(pa->r[i - 1].base + pa->r[i - 1].len < pa->r[i].base);
		sum += pa->r[i].len;
	}
	assert_int_equal(sum, palloc_free_bytes(pa));
}

/* Everything the issue promises about one block handed out. */
static void check_block(const struct boot_mem_range *fw, u32 n_fw, const struct block *rsv,
			u32 n_rsv, u64 base, u64 size, u64 align, u64 max_addr)
{
	u64 end = base + size;

	assert_true(size > 0 && end > base);
	assert_true(IS_ALIGNED(base, align));
	if (max_addr)
		assert_true(end <= max_addr);
	/* in RAM of the original map, every byte of it */
	assert_true(ram_covers(fw, n_fw, base, end));
	/* in no non-RAM range of the original map, not even one byte */
	for (u32 i = 0; i < n_fw; i++)
		if (fw[i].type != RAM && fw[i].len)
			assert_false(overlaps(base, end, fw[i].base, sat_end(&fw[i])));
	/* in nothing we reserved */
	for (u32 i = 0; i < n_rsv; i++)
		assert_false(overlaps(base, end, rsv[i].base, rsv[i].base + rsv[i].size));
}

/* A reservation like the image or a module: inside RAM, at odd bounds. */
static struct block rnd_reservation(const struct boot_mem_range *m, int n)
{
	struct block b = { rnd_below(4 * GiB), rnd_below(8 * MiB) + 1 };

	if (n > 0 && rnd_below(4)) {
		const struct boot_mem_range *r = &m[rnd_below((u64)n)];

		b.base = r->base + rnd_below(r->len);
		b.size = rnd_below(MIN(r->len, 16 * MiB)) + 1;
	}
	if (b.size > TOP - b.base)
		b.size = TOP - b.base;
	return b;
}

static u64 rnd_limit(void)
{
	switch (rnd_below(6)) {
	case 0:
		return MiB;
	case 1:
		return 4 * GiB;
	case 2:
		return rnd_below(8 * GiB);
	default:
		return 0;
	}
}

static void test_no_reserved_memory_handed_out(void **state)
{
	enum { ROUNDS = 1000, MAX_IN = 32, MAX_RSV = 8, MAX_BLOCKS = 100000 };
	static struct palloc pa, snapshot;
	struct block *blocks = calloc(MAX_BLOCKS, sizeof(*blocks));
	u32 rounds_with_ram = 0;

	(void)state;
	assert_non_null(blocks);
	rnd_seed(0x5eed0002);
	for (int round = 0; round < ROUNDS; round++) {
		struct boot_mem_range fw[MAX_IN], norm[4 * MAX_IN];
		struct block rsv[MAX_RSV];
		u32 n_fw = gen_map(fw, MAX_IN), n_rsv = (u32)rnd_below(MAX_RSV + 1), nb = 0;
		int n = memmap_normalize(fw, n_fw, norm, ARRAY_SIZE(norm));
		u64 start_free, size;

		assert_true(n >= 0);
		assert_int_equal(palloc_init_from_map(&pa, norm, (u32)n), 0);
		assert_int_equal(palloc_free_bytes(&pa), memmap_ram_bytes(norm, (u32)n));
		for (u32 i = 0; i < n_rsv; i++) {
			rsv[i] = rnd_reservation(norm, n);
			assert_int_equal(palloc_reserve(&pa, rsv[i].base, rsv[i].size), 0);
		}
		check_table(&pa);
		snapshot = pa;
		start_free = palloc_free_bytes(&pa);

		/* random requests first */
		for (int i = 0; i < 600 && nb < MAX_BLOCKS; i++) {
			u64 align = PAGE_SIZE << rnd_below(11), max_addr = rnd_limit();
			u64 at;

			size = rnd_below(2) ? rnd_below(PAGE_SIZE << rnd_below(14)) + 1 :
					      (rnd_below(64) + 1) * PAGE_SIZE;
			at = palloc_alloc(&pa, size, align, max_addr);
			if (at == PALLOC_FAIL)
				continue;
			size = ALIGN_UP(size, PAGE_SIZE);
			check_block(fw, n_fw, rsv, n_rsv, at, size, align, max_addr);
			blocks[nb++] = (struct block){ at, size };
		}
		/* then to exhaustion: the largest power of two that still fits */
		size = 1ULL << 62;
		while (size >= PAGE_SIZE && nb < MAX_BLOCKS) {
			u64 at = palloc_alloc(&pa, size, PAGE_SIZE, 0);

			if (at == PALLOC_FAIL) {
				size >>= 1;
				continue;
			}
			check_block(fw, n_fw, rsv, n_rsv, at, size, PAGE_SIZE, 0);
			blocks[nb++] = (struct block){ at, size };
		}
		assert_true(nb < MAX_BLOCKS);
		assert_int_equal(palloc_free_bytes(&pa), 0);
		assert_int_equal(pa.count, 0);
		check_table(&pa);

		/* no two blocks overlap, and together they are what was free */
		qsort(blocks, nb, sizeof(blocks[0]), cmp_block);
		size = 0;
		for (u32 i = 0; i < nb; i++) {
			if (i)
				assert_true(blocks[i - 1].base + blocks[i - 1].size <=
					    blocks[i].base);
			size += blocks[i].size;
		}
		assert_int_equal(size, start_free);
		rounds_with_ram += size > 0;

		/* free in random order; a free the full table refuses is retried
		 * after the others have coalesced */
		for (u32 i = nb; i > 1; i--) {
			u32 j = (u32)rnd_below(i);
			struct block t = blocks[i - 1];

			blocks[i - 1] = blocks[j];
			blocks[j] = t;
		}
		for (u32 left = nb; left;) {
			u32 kept = 0;

			for (u32 i = 0; i < left; i++) {
				int err = palloc_free(&pa, blocks[i].base, blocks[i].size);

				if (err == -E_TOOBIG)
					blocks[kept++] = blocks[i];
				else
					assert_int_equal(err, 0);
			}
			assert_true(kept < left);
			left = kept;
			check_table(&pa);
		}
		/* back to the start, coalesced exactly as before */
		assert_int_equal(palloc_free_bytes(&pa), start_free);
		assert_int_equal(pa.count, snapshot.count);
		assert_memory_equal(pa.r, snapshot.r, pa.count * sizeof(pa.r[0]));
	}
	/* most maps were not trivially empty */
	assert_true(rounds_with_ram > ROUNDS / 2);
	free(blocks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_type_order),
		cmocka_unit_test(test_qemu_e820),
		cmocka_unit_test(test_ovmf_map),
		cmocka_unit_test(test_normalize_is_idempotent),
		cmocka_unit_test(test_ram_helpers),
		cmocka_unit_test(test_random_against_oracle),
		cmocka_unit_test(test_no_reserved_memory_handed_out),
	};

	return cmocka_run_group_tests_name("memmap", tests, NULL, NULL);
}
