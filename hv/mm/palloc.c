/*
 * The physical page allocator. The free memory is a short table of ranges,
 * kept sorted and coalesced; every change goes through replace(), which
 * swaps a run of entries for at most two new ones, so the invariants are
 * easy to see. Capacity is checked before anything is written: a full
 * table makes an operation fail, never corrupts it.
 */
#include "hv/mm/palloc.h"
#include "hv/lib/lib.h"

/* The end of the last page below 2^64: no free range goes beyond it, so
 * every range end is representable. */
#define PALLOC_ADDR_END ALIGN_DOWN(~0ULL, PAGE_SIZE)

static u64 range_end(const struct palloc_range *r)
{
	return r->base + r->len;
}

/* Replaces r[i, i+n_old) by pieces[0, n_new); the caller checked capacity. */
static void replace(struct palloc *pa, u32 i, u32 n_old, const struct palloc_range *pieces,
		    u32 n_new)
{
	u32 tail = pa->count - i - n_old;

	for (u32 k = i; k < i + n_old; k++)
		pa->total -= pa->r[k].len;
	memmove(&pa->r[i + n_new], &pa->r[i + n_old], tail * sizeof(pa->r[0]));
	for (u32 k = 0; k < n_new; k++) {
		pa->r[i + k] = pieces[k];
		pa->total += pieces[k].len;
	}
	pa->count = pa->count - n_old + n_new;
}

/* Makes [base, base+len) free: page-aligned, not free yet. */
static int insert_free(struct palloc *pa, u64 base, u64 len)
{
	struct palloc_range piece = { base, len };
	u64 end = base + len;
	bool left, right;
	u32 k = 0;

	if (!IS_ALIGNED(base | len, PAGE_SIZE) || len > ~0ULL - base)
		return -E_INVAL;
	if (!len)
		return 0;
	while (k < pa->count && pa->r[k].base < base)
		k++;
	/* r[k] is the first range at or above base: only r[k-1] and r[k] can
	 * overlap or touch the new one */
	if ((k > 0 && range_end(&pa->r[k - 1]) > base) || (k < pa->count && pa->r[k].base < end))
		return -E_INVAL;
	left = k > 0 && range_end(&pa->r[k - 1]) == base;
	right = k < pa->count && pa->r[k].base == end;
	if (left) {
		piece.base = pa->r[k - 1].base;
		piece.len += pa->r[k - 1].len;
	}
	if (right)
		piece.len += pa->r[k].len;
	if (!left && !right && pa->count >= PALLOC_MAX_RANGES)
		return -E_TOOBIG;
	replace(pa, left ? k - 1 : k, (u32)left + (u32)right, &piece, 1);
	return 0;
}

/* Removes [s, e) (page-aligned) from the free ranges, wherever it is free. */
static int take(struct palloc *pa, u64 s, u64 e)
{
	struct palloc_range pieces[2];
	u32 i = 0, j, n = 0;

	while (i < pa->count && range_end(&pa->r[i]) <= s)
		i++;
	for (j = i; j < pa->count && pa->r[j].base < e; j++)
		;
	if (i == j)
		return 0; /* none of it is free */
	/* r[i, j) overlap [s, e): keep what sticks out on either side */
	if (pa->r[i].base < s)
		pieces[n++] = (struct palloc_range){ pa->r[i].base, s - pa->r[i].base };
	if (range_end(&pa->r[j - 1]) > e)
		pieces[n++] = (struct palloc_range){ e, range_end(&pa->r[j - 1]) - e };
	if (pa->count - (j - i) + n > PALLOC_MAX_RANGES)
		return -E_TOOBIG;
	replace(pa, i, j - i, pieces, n);
	return 0;
}

void palloc_init(struct palloc *pa)
{
	pa->count = 0;
	pa->total = 0;
}

int palloc_add(struct palloc *pa, u64 base, u64 len)
{
	return insert_free(pa, base, len);
}

int palloc_init_from_map(struct palloc *pa, const struct boot_mem_range *normalized, u32 n)
{
	palloc_init(pa);
	for (u32 i = 0; i < n; i++) {
		int err;

		if (normalized[i].type != BOOT_MEM_RAM)
			continue;
		err = palloc_add(pa, normalized[i].base, normalized[i].len);
		if (err)
			return err;
	}
	return 0;
}

int palloc_reserve(struct palloc *pa, u64 base, u64 len)
{
	u64 s, e;

	if (!len)
		return 0;
	/* saturate, and stop at the last page: no free memory lies above */
	e = len > PALLOC_ADDR_END - MIN(base, PALLOC_ADDR_END) ? PALLOC_ADDR_END : base + len;
	s = ALIGN_DOWN(base, PAGE_SIZE);
	e = ALIGN_UP(e, PAGE_SIZE);
	if (s >= e)
		return 0;
	return take(pa, s, e);
}

/*
 * The highest block of r that satisfies the request, in *at. With no_split
 * (the table is full), only a block at either end of r will do: it leaves
 * one piece of r, not two.
 */
static bool fit(const struct palloc_range *r, u64 size, u64 align, u64 max_addr, bool no_split,
		u64 *at)
{
	u64 lo = r->base, hi = range_end(r), top;

	if (max_addr && max_addr < hi)
		hi = max_addr;
	if (hi <= lo || hi - lo < size)
		return false;
	top = ALIGN_DOWN(hi - size, align);
	if (top < lo)
		return false;
	if (!no_split || top + size == range_end(r) || top == lo) {
		*at = top;
		return true;
	}
	if (IS_ALIGNED(lo, align)) {
		*at = lo; /* lo + size <= hi: checked above */
		return true;
	}
	return false;
}

u64 palloc_alloc(struct palloc *pa, u64 size, u64 align, u64 max_addr)
{
	bool full = pa->count >= PALLOC_MAX_RANGES;

	if (!size || size > PALLOC_ADDR_END)
		return PALLOC_FAIL;
	size = ALIGN_UP(size, PAGE_SIZE);
	if (align < PAGE_SIZE)
		align = PAGE_SIZE;
	if (align & (align - 1))
		return PALLOC_FAIL;
	for (u32 i = pa->count; i-- > 0;) {
		u64 at;

		if (!fit(&pa->r[i], size, align, max_addr, full, &at))
			continue;
		/* cannot fail: with a full table, fit() chose a block that
		 * leaves at most one piece of the range */
		if (take(pa, at, at + size))
			return PALLOC_FAIL;
		return at;
	}
	return PALLOC_FAIL;
}

int palloc_free(struct palloc *pa, u64 base, u64 size)
{
	if (size > PALLOC_ADDR_END)
		return -E_INVAL;
	return insert_free(pa, base, ALIGN_UP(size, PAGE_SIZE));
}

u64 palloc_free_bytes(const struct palloc *pa)
{
	return pa->total;
}
