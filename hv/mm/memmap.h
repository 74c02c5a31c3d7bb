/*
 * Normalising a firmware memory map (e820, Multiboot, UEFI): pure logic,
 * compiled into the image and unit-tested on the host.
 */
#pragma once

#include "boot/boot_info.h"
#include "hv/lib/types.h"

/*
 * The highest address a normalised map describes (exclusive). Anything
 * above it is dropped: it cannot be physical memory on x86-64 (MAXPHYADDR
 * is at most 52, SDM 3A 4.1.4), and clipping here keeps every range end
 * representable in a u64 even after rounding up to a page.
 */
#define MEMMAP_ADDR_LIMIT (~0ULL - PAGE_SIZE + 1)

/*
 * Turns a raw map into a clean one. The input may be unsorted, overlapping,
 * zero-length, not page-sized or wrap past 2^64. The output is sorted by
 * base, non-overlapping, page-aligned, and adjacent ranges of one type are
 * merged. A page is:
 *   - of the strongest non-RAM type whose range touches any byte of it
 *     (a reserved byte spoils its whole page), in the order, strongest first,
 *     UNUSABLE > RESERVED > FW_RUNTIME > NVS > ACPI; unknown types count
 *     as RESERVED and are output as such;
 *   - else RAM if RAM ranges cover every byte of it;
 *   - else absent (a hole).
 * RAM runs are shrunk after merging, so RAM split at an odd address between
 * two entries keeps the page that straddles the split. in and out must not
 * overlap. Returns the number of output ranges, or -E_TOOBIG when they do
 * not fit in max_out (out is then partly written). Uses no working storage
 * beyond a few locals: O(n^2) time, fine for a few hundred entries.
 */
int memmap_normalize(const struct boot_mem_range *in, u32 n_in, struct boot_mem_range *out,
		     u32 max_out);

/* The strength of a type in overlaps (RAM weakest, 1; unknown as RESERVED). */
u32 memmap_type_rank(u32 type);

/* Bytes of BOOT_MEM_RAM in a normalised map. */
u64 memmap_ram_bytes(const struct boot_mem_range *m, u32 n);

/* The end (exclusive) of the highest RAM range; 0 when there is none. */
u64 memmap_top_of_ram(const struct boot_mem_range *m, u32 n);
