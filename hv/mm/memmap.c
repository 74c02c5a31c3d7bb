/*
 * Normalising a firmware memory map.
 *
 * The obvious algorithm, chosen over a clever one: sweep the address space
 * from boundary to boundary (every start and end of an input range); each
 * elementary interval between two neighbouring boundaries is covered by the
 * same set of input ranges throughout, so it takes the strongest type among
 * them. Equal neighbours are merged as they are emitted, and each finished
 * RAM run is shrunk to whole pages. Non-RAM ranges are widened to whole
 * pages before the sweep, so a page touched by any of them never counts as
 * RAM. Finding the next boundary and classifying an interval each scan the
 * whole input: O(n^2) time and no working storage (the hypervisor stack is
 * small), which is fine for the few hundred entries a firmware gives.
 */
#include "hv/mm/memmap.h"

/* The type we keep: anything we do not know is reserved. */
static u32 canon_type(u32 type)
{
	switch (type) {
	case BOOT_MEM_RAM:
	case BOOT_MEM_RESERVED:
	case BOOT_MEM_ACPI:
	case BOOT_MEM_NVS:
	case BOOT_MEM_UNUSABLE:
	case BOOT_MEM_FW_RUNTIME:
		return type;
	default:
		return BOOT_MEM_RESERVED;
	}
}

u32 memmap_type_rank(u32 type)
{
	/* Strongest last: the most restrictive type wins an overlap. */
	static const u8 rank[] = {
		[BOOT_MEM_RAM] = 1,	   [BOOT_MEM_ACPI] = 2,	    [BOOT_MEM_NVS] = 3,
		[BOOT_MEM_FW_RUNTIME] = 4, [BOOT_MEM_RESERVED] = 5, [BOOT_MEM_UNUSABLE] = 6,
	};

	return rank[canon_type(type)];
}

/*
 * The bytes [*start, *end) an input range stands for: clipped at
 * MEMMAP_ADDR_LIMIT (which also catches ranges wrapping past 2^64) and, when
 * it is not RAM, widened to whole pages. False when it stands for nothing.
 */
static bool span_of(const struct boot_mem_range *r, u64 *start, u64 *end)
{
	u64 s = r->base, e;

	if (!r->len || s >= MEMMAP_ADDR_LIMIT)
		return false;
	e = r->len > MEMMAP_ADDR_LIMIT - s ? MEMMAP_ADDR_LIMIT : s + r->len;
	if (canon_type(r->type) != BOOT_MEM_RAM) {
		/* MEMMAP_ADDR_LIMIT is page-aligned: rounding up stays below it */
		s = ALIGN_DOWN(s, PAGE_SIZE);
		e = ALIGN_UP(e, PAGE_SIZE);
	}
	*start = s;
	*end = e;
	return true;
}

/* The lowest boundary (a start or an end) above pos, or above-or-at pos when
 * inclusive; false when there is none. */
static bool next_boundary(const struct boot_mem_range *in, u32 n, u64 pos, bool inclusive,
			  u64 *next)
{
	bool found = false;
	u64 best = 0, s, e;

	for (u32 i = 0; i < n; i++) {
		if (!span_of(&in[i], &s, &e))
			continue;
		if ((s > pos || (inclusive && s == pos)) && (!found || s < best)) {
			best = s;
			found = true;
		}
		if (e > pos && (!found || e < best)) {
			best = e;
			found = true;
		}
	}
	*next = best;
	return found;
}

/* The strongest type of the ranges covering the byte at pos; 0 for none. */
static u32 type_at(const struct boot_mem_range *in, u32 n, u64 pos)
{
	u32 best = 0;
	u64 s, e;

	for (u32 i = 0; i < n; i++) {
		u32 t = canon_type(in[i].type);

		if (!span_of(&in[i], &s, &e) || pos < s || pos >= e)
			continue;
		if (!best || memmap_type_rank(t) > memmap_type_rank(best))
			best = t;
	}
	return best;
}

/* Appends a finished run to out; RAM keeps only its whole pages. */
static int emit(const struct boot_mem_range *run, struct boot_mem_range *out, u32 max_out,
		u32 *count)
{
	u64 s = run->base, e = run->base + run->len;

	if (run->type == BOOT_MEM_RAM) {
		s = ALIGN_UP(s, PAGE_SIZE);
		e = ALIGN_DOWN(e, PAGE_SIZE);
		if (s >= e)
			return 0;
	}
	if (*count >= max_out)
		return -E_TOOBIG;
	out[*count] = (struct boot_mem_range){ .base = s, .len = e - s, .type = run->type };
	(*count)++;
	return 0;
}

int memmap_normalize(const struct boot_mem_range *in, u32 n_in, struct boot_mem_range *out,
		     u32 max_out)
{
	struct boot_mem_range run = { 0 }; /* the run being built; type 0: none */
	u32 count = 0;
	u64 pos, next;
	int err;

	if (!next_boundary(in, n_in, 0, true, &pos))
		return 0;
	while (next_boundary(in, n_in, pos, false, &next)) {
		u32 t = type_at(in, n_in, pos);

		if (t && t == run.type && run.base + run.len == pos) {
			run.len += next - pos;
		} else if (t) {
			if (run.type) {
				err = emit(&run, out, max_out, &count);
				if (err)
					return err;
			}
			run = (struct boot_mem_range){ .base = pos, .len = next - pos, .type = t };
		}
		pos = next;
	}
	if (run.type) {
		err = emit(&run, out, max_out, &count);
		if (err)
			return err;
	}
	return (int)count;
}

u64 memmap_ram_bytes(const struct boot_mem_range *m, u32 n)
{
	u64 sum = 0;

	for (u32 i = 0; i < n; i++)
		if (m[i].type == BOOT_MEM_RAM)
			sum += m[i].len;
	return sum;
}

u64 memmap_top_of_ram(const struct boot_mem_range *m, u32 n)
{
	u64 top = 0;

	for (u32 i = 0; i < n; i++) {
		u64 end = m[i].base + m[i].len;

		if (m[i].type != BOOT_MEM_RAM || !m[i].len)
			continue;
		if (end < m[i].base)
			end = ~0ULL; /* wraps: saturate (a normalised map never does) */
		top = MAX(top, end);
	}
	return top;
}
