/*
 * The AMD nested page table format (APM 2 15.25) for the second-level
 * walker. Nested entries are ordinary long-mode page-table entries (APM 2
 * 5.3-5.4): P, R/W, U/S, PWT/PCD, PS (bit 7) for a 2 MiB / 1 GiB leaf, NX
 * (bit 63). Nested walks are user accesses, so U/S is set on every level
 * (APM 2 15.25.5).
 *
 * How rights map: R -> P, W -> R/W, X -> NX clear. A long-mode entry cannot
 * say "writable but not readable" or "executable but not readable", so the
 * walker refuses write-only and execute-only rights for this format rather
 * than widen them. A non-present entry (P clear) makes every guest access
 * to its range a nested page fault (#VMEXIT(NPF)).
 *
 * Memory type: the nested entry selects a host PAT entry with PAT/PCD/PWT
 * (APM 2 15.25.8), combined with the guest's own type. We use index 0 (WB:
 * PCD = PWT = 0) and index 3 (UC: PCD = PWT = 1) and leave the PAT bit (bit 7
 * in a 4 KiB leaf, bit 12 in a large one) clear, so this relies on host PAT
 * entries 0 and 3 keeping their reset values (WB and UC).
 *
 * NX is a valid bit only with EFER.NXE set on the host, which mm_cpu_init()
 * does on every CPU. Accessed and dirty bits are the CPU's; we ignore them.
 */
#include "hv/ept/npt.h"

#define NPT_P BIT(0)
#define NPT_RW BIT(1)
#define NPT_US BIT(2)
#define NPT_PWT BIT(3)
#define NPT_PCD BIT(4)
#define NPT_PS BIT(7)
#define NPT_NX BIT(63)
#define NPT_ADDR_MASK 0x000ffffffffff000ULL /* bits 51:12 */

#define NPT_LEVEL_PDPT 1
#define NPT_LEVEL_PD 2
#define NPT_LEVEL_PT 3

static u64 npt_page_mask(int level)
{
	/* a large leaf's frame starts above its PAT bit (bit 12) */
	int shift = PAGE_SHIFT + 9 * (SLAT_LEVELS - 1 - level);

	return NPT_ADDR_MASK & ~(BIT(shift) - 1);
}

static u64 npt_table_entry(u64 table_pa)
{
	/* Rights on the way down are the widest; the leaf decides. */
	return (table_pa & NPT_ADDR_MASK) | NPT_P | NPT_RW | NPT_US;
}

static u64 npt_leaf_entry(u64 pa, u32 perms, u32 memtype, int level)
{
	u64 e = (pa & npt_page_mask(level)) | NPT_US;

	if (perms & SLAT_R)
		e |= NPT_P;
	if (perms & SLAT_W)
		e |= NPT_RW;
	if (!(perms & SLAT_X))
		e |= NPT_NX;
	if (memtype == SLAT_MEM_UC)
		e |= NPT_PCD | NPT_PWT;
	if (level == NPT_LEVEL_PDPT || level == NPT_LEVEL_PD)
		e |= NPT_PS;
	return e;
}

static bool npt_present(u64 entry)
{
	return (entry & NPT_P) != 0;
}

static bool npt_is_leaf(u64 entry, int level)
{
	if (level == NPT_LEVEL_PT)
		return true;
	/* PS is reserved (0) in a PML4E */
	if (level == NPT_LEVEL_PDPT || level == NPT_LEVEL_PD)
		return (entry & NPT_PS) != 0;
	return false;
}

static u64 npt_entry_addr(u64 entry, int level)
{
	if (npt_is_leaf(entry, level))
		return entry & npt_page_mask(level);
	return entry & NPT_ADDR_MASK;
}

static u32 npt_entry_perms(u64 entry)
{
	u32 perms = 0;

	if (!(entry & NPT_P))
		return 0;
	perms |= SLAT_R;
	if (entry & NPT_RW)
		perms |= SLAT_W;
	if (!(entry & NPT_NX))
		perms |= SLAT_X;
	return perms;
}

static u32 npt_entry_memtype(u64 entry)
{
	return (entry & (NPT_PCD | NPT_PWT)) ? SLAT_MEM_UC : SLAT_MEM_WB;
}

/* Readable, with or without write and execute: R, RW, RX, RWX. */
static bool npt_perms_ok(u32 perms)
{
	if (perms & ~(u32)SLAT_RWX)
		return false;
	return (perms & SLAT_R) != 0;
}

const struct slat_format slat_fmt_npt = {
	.name = "npt",
	.table_entry = npt_table_entry,
	.leaf_entry = npt_leaf_entry,
	.present = npt_present,
	.is_leaf = npt_is_leaf,
	.entry_addr = npt_entry_addr,
	.entry_perms = npt_entry_perms,
	.entry_memtype = npt_entry_memtype,
	.perms_ok = npt_perms_ok,
};
