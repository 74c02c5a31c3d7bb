/*
 * The Intel EPT entry format (SDM 3C 29.3.2, tables 29-1 to 29-6) for the
 * second-level walker. Every level has read/write/execute in bits 2:0; an
 * entry is present when any of them is set (29.3.2), and a non-present
 * entry makes every access to its range an EPT violation. Leaves carry the
 * memory type in bits 5:3 with "ignore PAT" (bit 6) set, so the guest's PAT
 * cannot weaken the type we chose (29.3.7.2); bit 7 marks a 1 GiB / 2 MiB
 * leaf at PDPT / PD level. Accessed and dirty (bits 8/9) are the CPU's:
 * we never set them and ignore them when reading.
 */
#include "hv/ept/ept.h"

#define EPT_R BIT(0)
#define EPT_W BIT(1)
#define EPT_X BIT(2)
#define EPT_RWX (EPT_R | EPT_W | EPT_X)
#define EPT_MEMTYPE_SHIFT 3
#define EPT_MEMTYPE_MASK (7ULL << EPT_MEMTYPE_SHIFT)
#define EPT_MEMTYPE_UC 0ULL /* SDM 3C 29.3.7: the MTRR type encodings */
#define EPT_MEMTYPE_WB 6ULL
#define EPT_IGNORE_PAT BIT(6)
#define EPT_LARGE BIT(7)		    /* a leaf at PDPT (1 GiB) or PD (2 MiB) level */
#define EPT_ADDR_MASK 0x000ffffffffff000ULL /* bits 51:12; MAXPHYADDR <= 52 */

#define EPT_LEVEL_PDPT 1
#define EPT_LEVEL_PD 2
#define EPT_LEVEL_PT 3

static u64 ept_page_mask(int level)
{
	/* 1 GiB leaves take bits 51:30, 2 MiB leaves 51:21, the rest 51:12 */
	int shift = PAGE_SHIFT + 9 * (SLAT_LEVELS - 1 - level);

	return EPT_ADDR_MASK & ~(BIT(shift) - 1);
}

static u64 ept_table_entry(u64 table_pa)
{
	/* Full rights on the way down: the leaf alone decides (29.3.3 takes
	 * the intersection over the walk). */
	return (table_pa & EPT_ADDR_MASK) | EPT_RWX;
}

static u64 ept_leaf_entry(u64 pa, u32 perms, u32 memtype, int level)
{
	u64 e = (pa & ept_page_mask(level)) | EPT_IGNORE_PAT;

	if (perms & SLAT_R)
		e |= EPT_R;
	if (perms & SLAT_W)
		e |= EPT_W;
	if (perms & SLAT_X)
		e |= EPT_X;
	e |= (memtype == SLAT_MEM_WB ? EPT_MEMTYPE_WB : EPT_MEMTYPE_UC) << EPT_MEMTYPE_SHIFT;
	if (level == EPT_LEVEL_PDPT || level == EPT_LEVEL_PD)
		e |= EPT_LARGE;
	return e;
}

static bool ept_present(u64 entry)
{
	return (entry & EPT_RWX) != 0;
}

static bool ept_is_leaf(u64 entry, int level)
{
	if (level == EPT_LEVEL_PT)
		return true;
	/* bit 7 is reserved (0) in a PML4E, 29.3.2 table 29-1 */
	if (level == EPT_LEVEL_PDPT || level == EPT_LEVEL_PD)
		return (entry & EPT_LARGE) != 0;
	return false;
}

static u64 ept_entry_addr(u64 entry, int level)
{
	if (ept_is_leaf(entry, level))
		return entry & ept_page_mask(level);
	return entry & EPT_ADDR_MASK;
}

static u32 ept_entry_perms(u64 entry)
{
	u32 perms = 0;

	if (entry & EPT_R)
		perms |= SLAT_R;
	if (entry & EPT_W)
		perms |= SLAT_W;
	if (entry & EPT_X)
		perms |= SLAT_X;
	return perms;
}

static u32 ept_entry_memtype(u64 entry)
{
	u64 type = (entry & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT;

	return type == EPT_MEMTYPE_WB ? SLAT_MEM_WB : SLAT_MEM_UC;
}

/*
 * Write without read (-W-, -WX) is an EPT misconfiguration (SDM 3C
 * 29.3.3.1). Execute-only (--X) is accepted here; it is legal only when
 * IA32_VMX_EPT_VPID_CAP bit 0 is set, which the caller checks.
 */
static bool ept_perms_ok(u32 perms)
{
	if (perms == 0 || (perms & ~(u32)SLAT_RWX))
		return false;
	return !((perms & SLAT_W) && !(perms & SLAT_R));
}

const struct slat_format slat_fmt_ept = {
	.name = "ept",
	.table_entry = ept_table_entry,
	.leaf_entry = ept_leaf_entry,
	.present = ept_present,
	.is_leaf = ept_is_leaf,
	.entry_addr = ept_entry_addr,
	.entry_perms = ept_entry_perms,
	.entry_memtype = ept_entry_memtype,
	.perms_ok = ept_perms_ok,
};

u64 ept_pointer(u64 root_pa, bool ad)
{
	u64 eptp = (root_pa & EPTP_ADDR_MASK) | EPTP_MEMTYPE_WB | EPTP_WALK_LEN_4;

	if (ad)
		eptp |= EPTP_AD_ENABLE;
	return eptp;
}
