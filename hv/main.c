/* hv_main: the start-up sequence, in order (DESIGN.md, data flow). */
#include "hv/hv.h"
#include "hv/console.h"
#include "hv/lib.h"
#include "hv/x86.h"

static const char *loader_name(u32 loader)
{
	switch (loader) {
	case BOOT_LOADER_MULTIBOOT1:
		return "multiboot1";
	case BOOT_LOADER_MULTIBOOT2:
		return "multiboot2";
	case BOOT_LOADER_UEFI:
		return "uefi";
	default:
		return "unknown";
	}
}

void hv_main(struct boot_info *bi)
{
	console_init(bi->cmdline);
	pr_info("%s %s starting (%s, image at %#lx)\n", HV_NAME, HV_VERSION,
		loader_name(bi->loader), bi->image_phys);
	for (u32 i = 0; i < bi->mmap_count; i++)
		pr_info("mem %#016lx-%#016lx type %u\n", bi->mmap[i].base,
			bi->mmap[i].base + bi->mmap[i].len - 1, bi->mmap[i].type);
	for (u32 i = 0; i < bi->module_count; i++)
		pr_info("module %s at %#lx, %lu bytes\n", bi->modules[i].name,
			bi->modules[i].base, bi->modules[i].len);
	for (;;)
		halt();
}
