/* UEFI memory types -> boot_info memory ranges (see mmap_convert.h). */
#include "boot/efi/mmap_convert.h"

u32 efi_mmap_type(u32 efi_type)
{
	switch (efi_type) {
	case EFI_MEM_CONVENTIONAL:
	case EFI_MEM_BS_CODE:
	case EFI_MEM_BS_DATA:
	case EFI_MEM_LOADER_CODE:
	case EFI_MEM_LOADER_DATA:
		return BOOT_MEM_RAM;
	case EFI_MEM_ACPI_RECLAIM:
		return BOOT_MEM_ACPI;
	case EFI_MEM_ACPI_NVS:
		return BOOT_MEM_NVS;
	case EFI_MEM_RT_CODE:
	case EFI_MEM_RT_DATA:
		return BOOT_MEM_FW_RUNTIME;
	case EFI_MEM_UNUSABLE:
		return BOOT_MEM_UNUSABLE;
	default:
		/* MMIO, reserved, PAL code, persistent, unaccepted, OEM, OS:
		 * not RAM the hypervisor may take */
		return BOOT_MEM_RESERVED;
	}
}

/* Does r end where [base, ...) of type begins? */
static bool continued_by(const struct boot_mem_range *r, u64 base, u32 type)
{
	return r->type == type && r->base + r->len == base;
}

static void remove_at(struct boot_info *bi, u32 i)
{
	for (; i + 1 < bi->mmap_count; i++)
		bi->mmap[i] = bi->mmap[i + 1];
	bi->mmap_count--;
}

bool efi_mmap_add(struct boot_info *bi, u64 base, u64 len, u32 type)
{
	struct boot_mem_range *prev, *next;
	u32 i;

	if (!len)
		return true;
	i = bi->mmap_count;
	while (i && bi->mmap[i - 1].base > base)
		i--;
	prev = i ? &bi->mmap[i - 1] : NULL;
	next = i < bi->mmap_count ? &bi->mmap[i] : NULL;
	if (prev && continued_by(prev, base, type)) {
		prev->len += len;
		if (next && continued_by(prev, next->base, next->type)) {
			prev->len += next->len;
			remove_at(bi, i);
		}
		return true;
	}
	if (next && next->type == type && base + len == next->base) {
		next->base = base;
		next->len += len;
		return true;
	}
	if (!boot_add_mem(bi, base, len, type))
		return false;
	/* boot_add_mem appended it: move it down to its place */
	for (u32 j = bi->mmap_count - 1; j > i; j--) {
		struct boot_mem_range t = bi->mmap[j];

		bi->mmap[j] = bi->mmap[j - 1];
		bi->mmap[j - 1] = t;
	}
	return true;
}
