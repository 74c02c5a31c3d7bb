/*
 * UEFI memory map -> boot_info memory ranges. Pure (no EFI headers), so it
 * is unit-testable on the host; boot/efi/efi_mmap.c feeds it descriptors.
 */
#pragma once

#include "boot/boot_info.h"
#include "hv/lib/types.h"

/* EFI_MEMORY_TYPE (UEFI 2.10, 7.2.1, Table 7.6; values fixed by the spec) */
enum efi_mem_type {
	EFI_MEM_RESERVED = 0,
	EFI_MEM_LOADER_CODE = 1,
	EFI_MEM_LOADER_DATA = 2,
	EFI_MEM_BS_CODE = 3,
	EFI_MEM_BS_DATA = 4,
	EFI_MEM_RT_CODE = 5,
	EFI_MEM_RT_DATA = 6,
	EFI_MEM_CONVENTIONAL = 7,
	EFI_MEM_UNUSABLE = 8,
	EFI_MEM_ACPI_RECLAIM = 9,
	EFI_MEM_ACPI_NVS = 10,
	EFI_MEM_MMIO = 11,
	EFI_MEM_MMIO_PORT = 12,
	EFI_MEM_PAL_CODE = 13,
	EFI_MEM_PERSISTENT = 14,
	EFI_MEM_UNACCEPTED = 15,
};

/* EFI_MEMORY_DESCRIPTOR.NumberOfPages counts 4 KiB pages (UEFI 7.2.3). */
#define EFI_MEM_PAGE_SHIFT 12

/* The boot_info type (enum boot_mem_type) of an EFI memory type. Boot
 * services and loader memory is free once boot services have exited. */
u32 efi_mmap_type(u32 efi_type);

/*
 * Adds [base, base + len) as type to bi->mmap, which it keeps sorted by base
 * (a UEFI map need not be: OVMF lists MMIO last), merged with a neighbour
 * that it continues or that continues it with the same type: an EFI map
 * easily has more descriptors than BOOT_MMAP_MAX, and the boot types lose
 * nothing by merging. Returns false when the table is full.
 */
bool efi_mmap_add(struct boot_info *bi, u64 base, u64 len, u32 type);
