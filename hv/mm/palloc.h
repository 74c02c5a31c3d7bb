/*
 * The physical page allocator: a sorted, coalesced table of free ranges.
 * Pure logic (no locking, no hardware): the caller serialises, and it is
 * unit-tested on the host.
 */
#pragma once

#include "boot/boot_info.h"
#include "hv/lib/types.h"

#define PALLOC_MAX_RANGES 256
#define PALLOC_FAIL (~0ULL)

struct palloc_range {
	u64 base, len;
};

/*
 * r[0..count) are the free ranges: page-aligned, non-empty, sorted by base,
 * and never touching (touching ranges are merged). total is the sum of
 * their lengths, the free bytes.
 */
struct palloc {
	struct palloc_range r[PALLOC_MAX_RANGES];
	u32 count;
	u64 total;
};

void palloc_init(struct palloc *pa);

/*
 * Adds free RAM; base and len must be page multiples. Returns -E_INVAL when
 * they are not, when the range wraps or overlaps memory already free, and
 * -E_TOOBIG when the table is full; the table is unchanged on error.
 */
int palloc_add(struct palloc *pa, u64 base, u64 len);

/* palloc_init, then adds every BOOT_MEM_RAM range of a normalised map
 * (memmap_normalize). Returns the first error of palloc_add. */
int palloc_init_from_map(struct palloc *pa, const struct boot_mem_range *normalized, u32 n);

/*
 * Takes [base, base+len) out of the free memory, widened to whole pages;
 * parts that are not free are skipped. Returns -E_TOOBIG, with the table
 * unchanged, when it would split a range and the table is full.
 */
int palloc_reserve(struct palloc *pa, u64 base, u64 len);

/*
 * Allocates size bytes (rounded up to pages) aligned to align (a power of
 * two; below a page counts as a page), ending at or below max_addr
 * (exclusive; 0 for no limit). Takes the highest such block, so low memory
 * stays free for what needs it (the AP trampoline below 1 MiB, tables below
 * 4 GiB). When the table is full, only blocks that split no range are
 * considered. Returns the physical base or PALLOC_FAIL.
 */
u64 palloc_alloc(struct palloc *pa, u64 size, u64 align, u64 max_addr);

/*
 * Returns a block (size rounded up to pages) and merges it with its
 * neighbours. Freeing memory that is partly free already, or a base that is
 * not page-aligned, is a bug of the caller: -E_INVAL. -E_TOOBIG when the
 * block touches no free range and the table is full. The table is unchanged
 * on error.
 */
int palloc_free(struct palloc *pa, u64 base, u64 size);

u64 palloc_free_bytes(const struct palloc *pa);
