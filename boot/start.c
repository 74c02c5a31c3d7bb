/*
 * boot_entry: the first C code, in long mode on the early page tables (low
 * 4 GiB identity-mapped, the image at HV_VBASE). It turns whatever the loader
 * gave into the one struct boot_info and calls hv_main.
 */
#include "boot/boot_info.h"
#include "boot/image_header.h"
#include "boot/multiboot.h"
#include "hv/console/console.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/main.h"

extern char __image_start[], __bss_start[], __bss_end[], __image_end[];

static struct boot_info boot_info;

static const void *early_phys_to_ptr(u64 pa)
{
	return (const void *)(uintptr_t)pa; /* the early tables identity-map 4 GiB */
}

void boot_entry(u32 info_pa, u32 magic, u64 image_phys);

void boot_entry(u32 info_pa, u32 magic, u64 image_phys)
{
	struct boot_info *bi = &boot_info;
	int err = 0;

	/* A loader need not clear .bss (the early tables and stack live apart). */
	memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));

	switch (magic) {
	case MB1_LOADER_MAGIC:
		err = mb1_parse(bi, early_phys_to_ptr(info_pa), early_phys_to_ptr);
		break;
	case MB2_LOADER_MAGIC:
		err = mb2_parse(bi, early_phys_to_ptr(info_pa), early_phys_to_ptr);
		break;
	case TESSERA_EFI_LOADER_MAGIC:
		/* the UEFI front-end filled a struct boot_info already */
		memcpy(bi, early_phys_to_ptr(info_pa), sizeof(*bi));
		break;
	default:
		err = -E_INVAL;
		break;
	}
	bi->image_phys = image_phys;
	bi->image_size = (u64)(__image_end - __image_start);
	if (err) {
		console_init(bi->cmdline);
		pr_err("boot: cannot read the loader's information (magic %#x, "
		       "error %d)\n",
		       magic, err);
		for (;;)
			halt();
	}
	hv_main(bi);
}
