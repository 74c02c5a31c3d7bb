/*
 * The hypervisor's memory: allocator set-up from the firmware map and the
 * hypervisor's own page tables (SDM 3A 4.5, 4-level paging).
 *
 * All page-table pages live below 4 GiB: APs load CR3 while still in real
 * mode, and until the switch the tables are written through the early
 * identity map of the low 4 GiB.
 */
#include "hv/mm/mm.h"
#include "hv/console/console.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/lib/spinlock.h"
#include "hv/mm/memmap.h"
#include "hv/mm/palloc.h"

#define PT_INDEX(va, level) (((va) >> (12 + 9 * (3 - (level)))) & 511)
#define PT_TABLE_FLAGS (PTE_P | PTE_W)
#define MM_LOW_RESERVE (64 * KiB) /* IVT, BIOS data area: never handed out */

extern char __image_start[], __text_end[], __rodata_end[], __image_end[];

u64 mm_image_phys;

static struct palloc phys;
static struct spinlock mm_lock = SPINLOCK_INIT;
static struct boot_mem_range norm_map[BOOT_MMAP_MAX];
static u32 norm_count;
static u64 root_pa;
static bool mm_live; /* our tables are loaded: page tables via the direct map */
static u64 hv_bytes;
static u64 iomap_next = HV_IOMAP_BASE;
static bool have_nx, have_1g;
static u64 direct_top;

static u64 *pt_ptr(u64 pa)
{
	return mm_live ? phys_to_virt(pa) : (u64 *)(uintptr_t)pa;
}

static u64 pt_alloc(void)
{
	u64 pa = palloc_alloc(&phys, PAGE_SIZE, PAGE_SIZE, MM_BELOW_4G);

	if (pa == PALLOC_FAIL)
		return 0;
	memset(pt_ptr(pa), 0, PAGE_SIZE);
	hv_bytes += PAGE_SIZE;
	return pa;
}

/* Level 0 = PML4 ... 3 = PT; a leaf at level 1 is 1 GiB, at 2 is 2 MiB. */
static int map_one(u64 va, u64 pa, u64 flags, int leaf_level)
{
	u64 *table = pt_ptr(root_pa);

	for (int level = 0; level < leaf_level; level++) {
		u64 *e = &table[PT_INDEX(va, level)];

		if (!(*e & PTE_P)) {
			u64 next = pt_alloc();

			if (!next)
				return -E_NOMEM;
			*e = next | PT_TABLE_FLAGS;
		} else if (*e & PTE_PS) {
			return -E_EXIST; /* already covered by a large page */
		}
		table = pt_ptr(*e & PTE_ADDR_MASK);
	}
	if (!have_nx)
		flags &= ~PTE_NX;
	table[PT_INDEX(va, leaf_level)] = pa | flags | (leaf_level < 3 ? PTE_PS : 0);
	return 0;
}

static int map_range(u64 va, u64 pa, u64 len, u64 flags, bool large)
{
	u64 end = va + len;

	while (va < end) {
		int level = 3;
		u64 size = PAGE_SIZE;
		int err;

		if (large && have_1g && IS_ALIGNED(va | pa, HUGE_PAGE_SIZE) &&
		    end - va >= HUGE_PAGE_SIZE) {
			level = 1;
			size = HUGE_PAGE_SIZE;
		} else if (large && IS_ALIGNED(va | pa, LARGE_PAGE_SIZE) &&
			   end - va >= LARGE_PAGE_SIZE) {
			level = 2;
			size = LARGE_PAGE_SIZE;
		}
		err = map_one(va, pa, flags, level);
		if (err)
			return err;
		va += size;
		pa += size;
	}
	return 0;
}

static u64 *find_pte(u64 va)
{
	u64 *table = pt_ptr(root_pa);

	for (int level = 0; level < 3; level++) {
		u64 e = table[PT_INDEX(va, level)];

		if (!(e & PTE_P) || (e & PTE_PS))
			return NULL;
		table = pt_ptr(e & PTE_ADDR_MASK);
	}
	return &table[PT_INDEX(va, 3)];
}

static u64 image_pa(const char *va)
{
	return (u64)(va - __image_start) + mm_image_phys;
}

static int map_image(void)
{
	const struct {
		char *start, *end;
		u64 flags;
	} parts[] = {
		{ __image_start, __text_end, PTE_P },		       /* code: RX */
		{ __text_end, __rodata_end, PTE_P | PTE_NX },	       /* rodata: R */
		{ __rodata_end, __image_end, PTE_P | PTE_W | PTE_NX }, /* data: RW */
	};

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		int err = map_range((u64)(uintptr_t)parts[i].start, image_pa(parts[i].start),
				    (u64)(parts[i].end - parts[i].start), parts[i].flags, false);
		if (err)
			return err;
	}
	return 0;
}

void mm_cpu_init(void)
{
	if (have_nx)
		wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_NXE);
	write_cr0(read_cr0() | CR0_WP); /* read-only means read-only in ring 0 */
	/* SDM 3A 13.3: XSETBV needs CR4.OSXSAVE; the guests' XCR0 is loaded
	 * on their CPU with it (hv/vcpu/exit.c), the host itself uses no FPU state */
	if (cpuid(1).ecx & CPUID_1_ECX_XSAVE)
		write_cr4(read_cr4() | CR4_OSXSAVE | CR4_OSFXSR | CR4_OSXMMEXCPT);
}

static int reserve_boot_ranges(const struct boot_info *bi)
{
	int err = palloc_reserve(&phys, 0, MM_LOW_RESERVE);

	err = err ? err : palloc_reserve(&phys, bi->image_phys, bi->image_size);
	for (u32 i = 0; !err && i < bi->module_count; i++)
		err = palloc_reserve(&phys, bi->modules[i].base, bi->modules[i].len);
	return err;
}

/* The end of the highest range that holds memory (not device windows). */
static u64 direct_map_top(void)
{
	u64 top = 0;

	for (u32 i = 0; i < norm_count; i++)
		if (norm_map[i].type != BOOT_MEM_RESERVED && norm_map[i].type != BOOT_MEM_UNUSABLE)
			top = MAX(top, norm_map[i].base + norm_map[i].len);
	return top;
}

bool mm_direct_mapped(u64 pa, u64 len)
{
	return pa < direct_top && len <= direct_top - pa;
}

int mm_init(struct boot_info *bi)
{
	struct cpuid_regs ext = cpuid(CPUID_EXT_FEATURES);
	u64 top;
	int n, err;

	mm_image_phys = bi->image_phys;
	have_nx = ext.edx & CPUID_EXT_EDX_NX;
	have_1g = ext.edx & CPUID_EXT_EDX_PAGE1GB;

	n = memmap_normalize(bi->mmap, bi->mmap_count, norm_map, BOOT_MMAP_MAX);
	if (n < 0)
		return n;
	norm_count = (u32)n;
	palloc_init(&phys);
	err = palloc_init_from_map(&phys, norm_map, norm_count);
	if (err)
		return err;
	err = reserve_boot_ranges(bi);
	if (err)
		return err;
	hv_bytes = bi->image_size;

	root_pa = pt_alloc();
	if (!root_pa)
		return -E_NOMEM;
	/* The direct map covers RAM, firmware tables and the low 4 GiB. */
	top = ALIGN_UP(MAX(direct_map_top(), MM_BELOW_4G), HUGE_PAGE_SIZE);
	direct_top = top;
	err = map_range(HV_DIRECT_BASE, 0, top, PTE_P | PTE_W | PTE_NX, true);
	if (err)
		return err;
	err = map_image();
	if (err)
		return err;

	mm_cpu_init();
	write_cr3(root_pa);
	mm_live = true;
	return 0;
}

u64 mm_root(void)
{
	return root_pa;
}

void *mm_alloc(u64 bytes, u64 align, u64 max_addr)
{
	u64 pa;

	spin_lock(&mm_lock);
	pa = palloc_alloc(&phys, bytes, MAX(align, PAGE_SIZE), max_addr);
	if (pa != PALLOC_FAIL)
		hv_bytes += ALIGN_UP(bytes, PAGE_SIZE);
	spin_unlock(&mm_lock);
	if (pa == PALLOC_FAIL)
		return NULL;
	memset(phys_to_virt(pa), 0, bytes);
	return phys_to_virt(pa);
}

u64 mm_alloc_guest(u64 bytes, u64 align)
{
	u64 pa;

	spin_lock(&mm_lock);
	pa = palloc_alloc(&phys, bytes, align, 0);
	spin_unlock(&mm_lock);
	return pa == PALLOC_FAIL ? 0 : pa;
}

void mm_free_guest(u64 pa, u64 bytes)
{
	spin_lock(&mm_lock);
	palloc_free(&phys, pa, bytes);
	spin_unlock(&mm_lock);
}

void *mm_alloc_page(void)
{
	return mm_alloc(PAGE_SIZE, PAGE_SIZE, 0);
}

void mm_free(void *va, u64 bytes)
{
	spin_lock(&mm_lock);
	palloc_free(&phys, virt_to_phys(va), ALIGN_UP(bytes, PAGE_SIZE));
	hv_bytes -= ALIGN_UP(bytes, PAGE_SIZE);
	spin_unlock(&mm_lock);
}

u64 mm_free_bytes(void)
{
	return palloc_free_bytes(&phys);
}

u64 mm_ram_bytes(void)
{
	return memmap_ram_bytes(norm_map, norm_count);
}

u64 mm_hv_bytes(void)
{
	return hv_bytes;
}

void *mm_ioremap(u64 pa, u64 len)
{
	u64 off = pa & (PAGE_SIZE - 1);
	u64 size = ALIGN_UP(len + off, PAGE_SIZE);
	u64 va;
	int err;

	spin_lock(&mm_lock);
	va = iomap_next;
	if (va + size > HV_IOMAP_BASE + HV_IOMAP_SIZE) {
		spin_unlock(&mm_lock);
		return NULL;
	}
	err = map_range(va, pa - off, size, PTE_P | PTE_W | PTE_NX | PTE_PCD | PTE_PWT, false);
	if (!err)
		iomap_next += size;
	spin_unlock(&mm_lock);
	return err ? NULL : (void *)(uintptr_t)(va + off);
}

int mm_identity_map(u64 pa, u64 len)
{
	int err;

	spin_lock(&mm_lock);
	err = map_range(pa, pa, ALIGN_UP(len, PAGE_SIZE), PTE_P | PTE_W, false);
	spin_unlock(&mm_lock);
	return err;
}

void mm_identity_unmap(u64 pa, u64 len)
{
	spin_lock(&mm_lock);
	for (u64 va = pa; va < pa + len; va += PAGE_SIZE) {
		u64 *pte = find_pte(va);

		if (pte) {
			*pte = 0;
			invlpg(va);
		}
	}
	spin_unlock(&mm_lock);
}

const struct boot_mem_range *mm_map(u32 *count)
{
	*count = norm_count;
	return norm_map;
}
