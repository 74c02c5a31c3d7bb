/* PAE identity map plus one movable 2 MiB window (SDM 3A 4.4). */
#include "paging.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/paging.h"
#include "hv/hw/x86.h"

#define PDPTE_FLAGS PTE_P /* SDM 3A 4.4.1: only P, PWT, PCD are allowed */
#define PHYS_BITS_DEFAULT 36

static u64 pae_pdpt[PDPTE_COUNT] __aligned(32);
static u64 pae_pd[PDPTE_COUNT][PT_ENTRIES] __aligned(4096);
static bool paging_on;

u64 phys_addr_limit(void)
{
	u32 bits = PHYS_BITS_DEFAULT;

	if (cpuid(CPUID_EXT_LEAF).eax >= CPUID_ADDR_SIZES)
		bits = cpuid(CPUID_ADDR_SIZES).eax & CPUID_ADDR_SIZES_EAX_PHYS_MASK;
	return 1ULL << bits;
}

static void paging_enable(void)
{
	for (u32 i = 0; i < PDPTE_COUNT; i++) {
		for (u32 j = 0; j < PT_ENTRIES; j++) {
			u64 pa = ((u64)i * PT_ENTRIES + j) << LARGE_PAGE_SHIFT;

			pae_pd[i][j] = pa | PTE_P | PTE_W | PTE_PS;
		}
		pae_pdpt[i] = (u64)(uintptr_t)pae_pd[i] | PDPTE_FLAGS;
	}
	write_cr4(read_cr4() | CR4_PAE);
	write_cr3((u32)(uintptr_t)pae_pdpt);
	write_cr0(read_cr0() | CR0_PG);
	paging_on = true;
}

uintptr_t phys_window(u64 pa)
{
	u32 slot = PHYS_WINDOW_VA >> LARGE_PAGE_SHIFT;
	u64 *pde = &pae_pd[slot / PT_ENTRIES][slot % PT_ENTRIES];

	if (pa >= phys_addr_limit())
		return 0;
	if (!paging_on)
		paging_enable();
	*pde = ALIGN_DOWN(pa, LARGE_PAGE_SIZE) | PTE_P | PTE_W | PTE_PS | PTE_PCD;
	invlpg(PHYS_WINDOW_VA);
	return PHYS_WINDOW_VA + (uintptr_t)(pa & (LARGE_PAGE_SIZE - 1));
}

void phys_window_off(void)
{
	if (!paging_on)
		return;
	write_cr0(read_cr0() & ~CR0_PG);
	write_cr4(read_cr4() & ~CR4_PAE);
	paging_on = false;
}
