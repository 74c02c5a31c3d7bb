/* PAE identity map plus one movable 2 MiB window (SDM 3A 4.4). */
#include "paging.h"
#include "x86.h"

#define PAE_PDPTES 4
#define PAE_PDES 512
#define PDPTE_P BIT64(0) /* SDM 3A 4.4.1: only P, PWT, PCD are allowed */
#define PDE_P BIT64(0)
#define PDE_RW BIT64(1)
#define PDE_PCD BIT64(4)
#define PDE_PS BIT64(7) /* 2 MiB page */
#define PAGE_2M_SHIFT 21
#define PAGE_2M (1ULL << PAGE_2M_SHIFT)
#define PHYS_BITS_DEFAULT 36

static u64 pae_pdpt[PAE_PDPTES] __aligned(32);
static u64 pae_pd[PAE_PDPTES][PAE_PDES] __aligned(4096);
static bool paging_on;

u64 phys_addr_limit(void)
{
	u32 bits = PHYS_BITS_DEFAULT;

	if (cpuid(CPUID_LEAF_EXT_MAX).eax >= CPUID_LEAF_EXT_SIZES)
		bits = cpuid(CPUID_LEAF_EXT_SIZES).eax & CPUID_88_EAX_PHYS_MASK;
	return 1ULL << bits;
}

static void paging_enable(void)
{
	for (u32 i = 0; i < PAE_PDPTES; i++) {
		for (u32 j = 0; j < PAE_PDES; j++) {
			u64 pa = ((u64)i * PAE_PDES + j) << PAGE_2M_SHIFT;

			pae_pd[i][j] = pa | PDE_P | PDE_RW | PDE_PS;
		}
		pae_pdpt[i] = (u64)(uintptr_t)pae_pd[i] | PDPTE_P;
	}
	write_cr4(read_cr4() | CR4_PAE);
	write_cr3((u32)(uintptr_t)pae_pdpt);
	write_cr0(read_cr0() | CR0_PG);
	paging_on = true;
}

uintptr_t phys_window(u64 pa)
{
	u32 slot = PHYS_WINDOW_VA >> PAGE_2M_SHIFT;
	u64 *pde = &pae_pd[slot / PAE_PDES][slot % PAE_PDES];

	if (pa >= phys_addr_limit())
		return 0;
	if (!paging_on)
		paging_enable();
	*pde = (pa & ~(PAGE_2M - 1)) | PDE_P | PDE_RW | PDE_PS | PDE_PCD;
	invlpg(PHYS_WINDOW_VA);
	return PHYS_WINDOW_VA + (uintptr_t)(pa & (PAGE_2M - 1));
}

void phys_window_off(void)
{
	if (!paging_on)
		return;
	write_cr0(read_cr0() & ~CR0_PG);
	write_cr4(read_cr4() & ~CR4_PAE);
	paging_on = false;
}
