/* Copying the Multiboot1 information (Multiboot spec 0.6.96, 3.3). */
#include "multiboot.h"
#include "console.h"
#include "lib.h"

struct mb_state mb;

static void mb_add_region(u64 base, u64 len, u32 type)
{
	if (mb.nr_regions < MB_MMAP_MAX && len)
		mb.regions[mb.nr_regions++] = (struct mb_region){ base, len, type };
}

static void mb_copy_mmap(const struct mb1_info *info)
{
	uintptr_t p = info->mmap_addr, end = p + info->mmap_length;

	while (p + sizeof(struct mb1_mmap_entry) <= end) {
		const struct mb1_mmap_entry *e = (const void *)p;

		mb_add_region(e->addr, e->len, e->type);
		p += e->size + sizeof(e->size);
	}
}

void mb_parse(u32 magic, u32 info_addr)
{
	const struct mb1_info *info = (const void *)(uintptr_t)info_addr;

	mb.magic = magic;
	if (magic != MB1_LOADER_MAGIC || !info_addr)
		return;
	mb.valid = true;
	mb.info_addr = info_addr;
	mb.flags = info->flags;
	if (info->flags & MB1_INFO_MEMORY) {
		mb.has_mem = true;
		mb.mem_lower_kib = info->mem_lower;
		mb.mem_upper_kib = info->mem_upper;
	}
	if ((info->flags & MB1_INFO_CMDLINE) && info->cmdline) {
		const char *s = (const char *)(uintptr_t)info->cmdline;
		size_t n = 0;

		while (s[n] && n + 1 < sizeof(mb.cmdline)) {
			mb.cmdline[n] = s[n];
			n++;
		}
		mb.cmdline[n] = '\0';
	}
	if (info->flags & MB1_INFO_MODS) {
		const struct mb1_module *m = (const void *)(uintptr_t)info->mods_addr;

		mb.nr_modules = info->mods_count;
		for (u32 i = 0; i < mb.nr_modules && i < MB_MODS_MAX; i++) {
			mb.modules[i].start = m[i].mod_start;
			mb.modules[i].end = m[i].mod_end;
		}
	}
	if (info->flags & MB1_INFO_MMAP) {
		mb.has_mmap = true;
		mb_copy_mmap(info);
	} else if (mb.has_mem) {
		/* no map: the two classic ranges (spec 3.3, mem_lower/mem_upper) */
		mb_add_region(0, (u64)mb.mem_lower_kib * KiB, E820_RAM);
		mb_add_region(1 * MiB, (u64)mb.mem_upper_kib * KiB, E820_RAM);
	}
}

bool mb_is_ram(u64 addr)
{
	for (u32 i = 0; i < mb.nr_regions; i++) {
		const struct mb_region *r = &mb.regions[i];

		if (r->type == E820_RAM && addr >= r->base && addr - r->base < r->len)
			return true;
	}
	return false;
}

void mb_print_map(void)
{
	con_printf("memory map (%s), mem_lower=%uK mem_upper=%uK:\n",
		   mb.has_mmap ? "mmap" : "mem_*", mb.mem_lower_kib, mb.mem_upper_kib);
	for (u32 i = 0; i < mb.nr_regions; i++) {
		const struct mb_region *r = &mb.regions[i];

		if (r->type == E820_RAM)
			con_printf("  [0x%09llx-0x%09llx) RAM\n", r->base, r->base + r->len);
		else
			con_printf("  [0x%09llx-0x%09llx) reserved (type %u)\n", r->base,
				   r->base + r->len, r->type);
	}
}
