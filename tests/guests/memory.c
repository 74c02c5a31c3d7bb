/*
 * memory: the RAM the Multiboot map gives, and that all of it holds data.
 *
 *   mem=SIZE     the RAM size must be SIZE. The size is 1 MiB (for the first
 *                MiB, when the map has RAM at 0) plus every RAM range above
 *                1 MiB, each extended by a reserved range that starts at its
 *                end and is not followed by more RAM (firmware that keeps
 *                the top of RAM for itself, as SeaBIOS does). With the
 *                partition layout, [0, 0x9FC00) + [1 MiB, SIZE), that is the
 *                highest RAM end. mem_lower/mem_upper must agree with the
 *                map: mem_lower within 1 KiB of the RAM at 0, mem_upper
 *                between the RAM range at 1 MiB and that range extended.
 *   check=SIZE   how much to write and read back (default: all). When less
 *                than all, half is taken from the bottom, half from the top.
 *
 * The test writes an address-dependent pattern over the RAM it may touch,
 * [0x500, 0x9F000) and everything above its own image (above 4 GiB through
 * a PAE window), then reads it all back: a range that is not really there,
 * or two addresses that share a page, show as mismatches.
 *
 * PASS details: mem=SIZE checked=BYTES ...
 */
#include "cmdline.h"
#include "console.h"
#include "guest.h"
#include "hv/hw/x86.h"
#include "lib.h"
#include "multiboot.h"
#include "paging.h"

#define LOW_CHECK_START 0x500 /* above the real-mode IVT and BIOS data area */
#define LOW_CHECK_END 0x9f000 /* below the EBDA */
#define MAX_RANGES (MB_MMAP_MAX * 2 + 2)
#define PATTERN_MUL_LO 0x9e3779b1U /* odd: a bijection on 32-bit addresses */
#define PATTERN_MUL_HI 0x85ebca6bU
#define MEM_LOWER_SLACK_KIB 1
#define MISMATCH_REPORT_MAX 4

const char guest_name[] = "memory";

struct range {
	u64 start, end;
};

static struct range ranges[MAX_RANGES];
static u32 nr_ranges;
static u32 seed;
static u64 mismatches;

static u32 pattern_xor(u64 pa)
{
	return seed ^ ((u32)(pa >> 32) * PATTERN_MUL_HI);
}

static void range_add(u64 start, u64 end)
{
	start = ALIGN_UP(start, 4);
	end = ALIGN_DOWN(end, 4);
	if (start >= end)
		return;
	if (nr_ranges == MAX_RANGES)
		guest_fail("memory map too fragmented (more than %u ranges)", MAX_RANGES);
	ranges[nr_ranges++] = (struct range){ start, end };
}

/* A reserved range that continues RAM range r at its end, with no RAM after
 * it: its length, or 0. */
static u64 reserved_tail(const struct mb_region *r)
{
	u64 end = r->base + r->len;

	for (u32 i = 0; i < mb.nr_regions; i++) {
		const struct mb_region *x = &mb.regions[i];

		if (x->type != E820_RAM && x->base == end && !mb_is_ram(x->base + x->len))
			return x->len;
	}
	return 0;
}

static const struct mb_region *ram_at(u64 addr)
{
	for (u32 i = 0; i < mb.nr_regions; i++)
		if (mb.regions[i].type == E820_RAM && mb.regions[i].base == addr)
			return &mb.regions[i];
	return NULL;
}

static u64 ram_size(void)
{
	u64 size = ram_at(0) ? 1 * MiB : 0;

	for (u32 i = 0; i < mb.nr_regions; i++) {
		const struct mb_region *r = &mb.regions[i];

		if (r->type == E820_RAM && r->base >= 1 * MiB)
			size += r->len + reserved_tail(r);
	}
	return size;
}

static void check_mem_fields(void)
{
	const struct mb_region *low = ram_at(0), *up = ram_at(1 * MiB);
	u64 low_kib = low ? low->len / KiB : 0;
	u64 up_min = up ? up->len : 0, up_max = up ? up->len + reserved_tail(up) : 0;
	u64 upper = (u64)mb.mem_upper_kib * KiB;

	if (!mb.has_mem)
		return;
	if (mb.mem_lower_kib + MEM_LOWER_SLACK_KIB < low_kib ||
	    mb.mem_lower_kib > low_kib + MEM_LOWER_SLACK_KIB)
		guest_fail("mem_lower=%uK but the map has %lluK of RAM at 0", mb.mem_lower_kib,
			   low_kib);
	if (upper < up_min || upper > up_max)
		guest_fail("mem_upper=%uK but the map has %lluK of RAM at 1M (%lluK with the "
			   "reserved range after it)",
			   mb.mem_upper_kib, up_min / KiB, up_max / KiB);
}

/* The RAM the test may write: [0x500, 0x9F000) and above the image. */
static void collect_ranges(void)
{
	u64 image_end = guest_image_end();

	for (u32 i = 0; i < mb.nr_regions; i++) {
		const struct mb_region *r = &mb.regions[i];
		u64 s = r->base, e = r->base + r->len;

		if (r->type != E820_RAM)
			continue;
		range_add(MAX(s, LOW_CHECK_START), MIN(e, LOW_CHECK_END));
		s = MAX(s, image_end);
		if (s < FOUR_GIB && e > FOUR_GIB) {
			range_add(s, FOUR_GIB);
			s = FOUR_GIB;
		}
		range_add(s, e);
	}
}

static u64 ranges_total(void)
{
	u64 total = 0;

	for (u32 i = 0; i < nr_ranges; i++)
		total += ranges[i].end - ranges[i].start;
	return total;
}

/* Keeps the first 'head' and the last 'tail' bytes of the ranges (sorted). */
static void ranges_trim(u64 head, u64 tail)
{
	struct range out[MAX_RANGES];
	u32 n = 0;
	u64 total = ranges_total(), pos = 0;

	for (u32 i = 0; i < nr_ranges; i++) {
		struct range r = ranges[i];
		u64 len = r.end - r.start;
		/* this range covers [pos, pos + len) of the concatenation */
		u64 keep_head_end = head > pos ? MIN(head - pos, len) : 0;
		u64 tail_from = total - tail;
		u64 keep_tail_start = tail_from > pos ? MIN(tail_from - pos, len) : 0;

		if (keep_tail_start <= keep_head_end) {
			out[n++] = r; /* the two parts meet: keep it whole */
		} else {
			if (keep_head_end)
				out[n++] = (struct range){ r.start, r.start + keep_head_end };
			if (keep_tail_start < len)
				out[n++] = (struct range){ r.start + keep_tail_start, r.end };
		}
		pos += len;
	}
	memcpy(ranges, out, n * sizeof(out[0]));
	nr_ranges = n;
}

static void ranges_sort(void)
{
	for (u32 i = 1; i < nr_ranges; i++)
		for (u32 j = i; j > 0 && ranges[j].start < ranges[j - 1].start; j--) {
			struct range t = ranges[j];

			ranges[j] = ranges[j - 1];
			ranges[j - 1] = t;
		}
}

/* Writes or checks [va, va + len) that holds physical [pa, pa + len). */
static void pattern_pass(uintptr_t va, u64 pa, u32 len, bool write)
{
	volatile u32 *p = (volatile u32 *)va, *end = (volatile u32 *)(va + len);
	u32 a = (u32)pa, x = pattern_xor(pa);

	if (write) {
		for (; p < end; p++, a += 4)
			*p = (a * PATTERN_MUL_LO) ^ x;
		return;
	}
	for (; p < end; p++, a += 4) {
		u32 want = (a * PATTERN_MUL_LO) ^ x, got = *p;

		if (got == want)
			continue;
		if (mismatches++ < MISMATCH_REPORT_MAX)
			con_printf("memory: mismatch at 0x%llx: wrote 0x%08x, read 0x%08x\n",
				   (pa & ~0xffffffffULL) | a, want, got);
	}
}

static void range_pass(const struct range *r, bool write)
{
	u64 pa = r->start;

	if (r->end <= FOUR_GIB) {
		pattern_pass((uintptr_t)pa, pa, (u32)(r->end - pa), write);
		return;
	}
	/* above 4 GiB: 2 MiB at a time through the window */
	while (pa < r->end) {
		u64 chunk_end = MIN(ALIGN_DOWN(pa, PHYS_WINDOW_SIZE) + PHYS_WINDOW_SIZE, r->end);
		uintptr_t va = phys_window(pa);

		if (!va)
			guest_fail("RAM at 0x%llx is beyond the physical address width", pa);
		pattern_pass(va, pa, (u32)(chunk_end - pa), write);
		pa = chunk_end;
	}
}

static void all_ranges_pass(bool write)
{
	/* the low ranges come first and run with paging off */
	for (u32 i = 0; i < nr_ranges; i++)
		range_pass(&ranges[i], write);
	phys_window_off();
}

void guest_main(void)
{
	u64 size, want = cmdline_size("mem", 0), cap, total;
	char v[CMDLINE_VALUE_MAX];

	mb_print_map();
	size = ram_size();
	con_printf("memory: RAM size %llu bytes (%llu MiB)\n", size, size / MiB);
	if (want && size != want)
		guest_fail("the memory map has %llu bytes of RAM (%llu MiB), cmdline mem=%llu",
			   size, size / MiB, want);
	check_mem_fields();

	collect_ranges();
	ranges_sort();
	total = ranges_total();
	cap = total;
	if (cmdline_get("check", v, sizeof(v)) && strncmp(v, "all", 4))
		cap = cmdline_size("check", total);
	if (cap < total)
		ranges_trim(ALIGN_DOWN(cap / 2, 4), ALIGN_DOWN(cap - cap / 2, 4));
	total = ranges_total();
	for (u32 i = 0; i < nr_ranges; i++)
		con_printf("memory: will check [0x%llx-0x%llx)\n", ranges[i].start, ranges[i].end);

	seed = (u32)rdtsc() | 1;
	all_ranges_pass(true);
	all_ranges_pass(false);
	if (mismatches)
		guest_fail("%llu of %llu words read back wrong", mismatches, total / 4);
	guest_pass("mem=%llu (%lluM) checked=%llu in %u ranges", size, size / MiB, total,
		   nr_ranges);
}
