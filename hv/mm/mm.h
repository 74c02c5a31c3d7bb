/*
 * The hypervisor's memory: the physical page allocator over the firmware
 * map (hv/mm/palloc.c), the direct map of all physical memory, the image
 * mapped with code read-only and data non-executable, and device mappings.
 */
#pragma once

#include "boot/boot_info.h"
#include "hv/hw/paging.h"
#include "hv/layout.h"
#include "hv/lib/types.h"

#define MM_BELOW_1M (1 * MiB)
#define MM_BELOW_4G (4 * GiB)

extern u64 mm_image_phys;

static inline void *phys_to_virt(u64 pa)
{
	return (void *)(uintptr_t)(HV_DIRECT_BASE + pa);
}

static inline u64 virt_to_phys(const void *va)
{
	u64 v = (u64)(uintptr_t)va;

	if (v >= HV_VBASE)
		return v - HV_VBASE + mm_image_phys;
	return v - HV_DIRECT_BASE;
}

/* Whether [pa, pa+len) lies in the direct map. */
bool mm_direct_mapped(u64 pa, u64 len);

/* Sets up the allocator and the hypervisor's page tables, and switches to
 * them. After this, phys_to_virt() works for all of physical memory. */
int mm_init(struct boot_info *bi);
/* Called on every CPU to enable the features the tables rely on (NX). */
void mm_cpu_init(void);
/* The hypervisor's own CR3 (below 4 GiB: APs load it from real mode). */
u64 mm_root(void);

/* Zeroed, physically contiguous memory; NULL when out of memory.
 * max_addr: 0 for anywhere, else the block ends at or below it. */
void *mm_alloc(u64 bytes, u64 align, u64 max_addr);
void *mm_alloc_page(void);
/* Physically contiguous memory for a partition (not counted as the
 * hypervisor's, not zeroed); 0 when there is no such block. */
u64 mm_alloc_guest(u64 bytes, u64 align);
void mm_free_guest(u64 pa, u64 bytes);
void mm_free(void *va, u64 bytes);
u64 mm_free_bytes(void);
u64 mm_ram_bytes(void);
/* Bytes the hypervisor took for itself (image, tables, per-CPU data). */
u64 mm_hv_bytes(void);

/* Maps device memory uncached; NULL on failure. */
void *mm_ioremap(u64 pa, u64 len);
/* Maps [pa, pa+len) at the same virtual address, executable; for the AP
 * trampoline while CPUs start. */
int mm_identity_map(u64 pa, u64 len);
void mm_identity_unmap(u64 pa, u64 len);

/* The normalised firmware memory map. */
const struct boot_mem_range *mm_map(u32 *count);
