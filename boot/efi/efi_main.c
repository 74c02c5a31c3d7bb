/*
 * hv.efi: the UEFI front-end of the hypervisor (DESIGN.md, boot/efi/).
 *
 * A gnu-efi application that carries the hypervisor image (build/hv.bin,
 * the flat memory image of build/hv.elf, embedded by leave.asm) and starts
 * it the way a Multiboot loader would, so the image has one 32-bit entry for
 * every boot path. In order:
 *
 *  1. finds the image's struct tessera_image_header (boot/image_header.h),
 *     copies the image to fresh EfiLoaderData pages at an HV_IMAGE_ALIGN
 *     boundary below HV_IMAGE_MAX_PHYS and zeroes its .bss;
 *  2. reads hv.conf from the directory hv.efi was started from, and every
 *     file its `kernel` and `initrd` keys name (efi_files.c); each becomes a
 *     boot_info module named after its file (SPEC.md 2);
 *  3. fills a struct boot_info below 4 GiB: the command line (the shell's
 *     arguments or the boot option's text), a copy of the ACPI RSDP and the
 *     GOP framebuffer (efi_info.c);
 *  4. takes the final memory map and exits boot services, converting the
 *     map into boot_info ranges (efi_mmap.c, mmap_convert.c);
 *  5. leaves long mode in a stub copied below 4 GiB (leave.asm) and jumps to
 *     the image's mb_entry32 in flat 32-bit protected mode, paging off, with
 *     EAX = TESSERA_EFI_LOADER_MAGIC and EBX = the boot_info.
 *
 * Errors before ExitBootServices are reported on the EFI console and return
 * to the firmware (or the shell). A file that hv.conf names but that is
 * missing is reported and skipped: the hypervisor's configuration check
 * names it again. Nothing here interprets the configuration further.
 *
 * Usage: copy build/hv.efi to the ESP (as EFI/BOOT/BOOTX64.EFI for removable
 * media, or anywhere) with hv.conf and its files beside it; from the UEFI
 * shell, `fs0:\tessera\hv.efi console=com1` passes a command line.
 */
#include "boot/efi/efi_boot.h"
#include "boot/image_header.h"
#include "hv/layout.h"
#include "hv/lib/lib.h"
#include "hv/lib/strlcpy.h"

/* Where the header may be (boot/entry.asm puts it right after the Multiboot
 * headers, which must be in the first 32 KiB themselves). */
#define HDR_SEARCH_LIMIT (32 * KiB)
#define HDR_ALIGN 8
/* The boot_info and the stub must be reachable with 32-bit addresses. */
#define BELOW_4G_MAX 0xffffffffULL
/* The stub's allocation: its code page, then its stack page. */
#define STUB_CODE_BYTES PAGE_SIZE
#define STUB_BYTES (2 * PAGE_SIZE)

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab);

EFI_STATUS efi_alloc_pages(EFI_MEMORY_TYPE type, u64 bytes, u64 max, u64 *addr)
{
	EFI_PHYSICAL_ADDRESS pa = max;
	EFI_STATUS st;

	st = BS->AllocatePages(max ? AllocateMaxAddress : AllocateAnyPages, type,
			       EFI_SIZE_TO_PAGES(bytes ? bytes : 1), &pa);
	if (!EFI_ERROR(st))
		*addr = pa;
	return st;
}

static const struct tessera_image_header *find_header(void)
{
	size_t size = (size_t)(efi_hv_image_end - efi_hv_image);
	size_t limit = MIN(size, (size_t)HDR_SEARCH_LIMIT);

	for (size_t off = 0; off + sizeof(struct tessera_image_header) <= limit; off += HDR_ALIGN) {
		u64 magic;

		memcpy(&magic, efi_hv_image + off, sizeof(magic));
		if (magic == TESSERA_HDR_MAGIC)
			return (const void *)(efi_hv_image + off);
	}
	return NULL;
}

/*
 * Step 1: the image at an aligned physical address. file_size counts up to
 * the page-aligned end of .data, but objcopy -O binary stops at the last
 * byte of section contents: what hv.bin lacks of file_size is that padding,
 * zeroed like the .bss after it.
 */
static EFI_STATUS load_image(u64 *image_phys, u64 *entry_phys, u64 *mem_size)
{
	const struct tessera_image_header *hdr = find_header();
	u64 carried = (u64)(efi_hv_image_end - efi_hv_image);
	u64 copy, base, phys;
	EFI_STATUS st;

	if (!hdr) {
		efi_msg(L"no image header in the embedded hypervisor image\n");
		return EFI_LOAD_ERROR;
	}
	copy = MIN(hdr->file_size, carried);
	if (hdr->mem_size < hdr->file_size || hdr->entry_offset >= copy ||
	    hdr->file_size - copy >= PAGE_SIZE) {
		efi_msg(L"bad image header (entry 0x%lx, file 0x%lx, memory 0x%lx; "
			"0x%lx bytes carried)\n",
			hdr->entry_offset, hdr->file_size, hdr->mem_size, carried);
		return EFI_LOAD_ERROR;
	}
	/* Over-allocate so that an aligned start fits inside, below the top. */
	st = efi_alloc_pages(EfiLoaderData, hdr->mem_size + HV_IMAGE_ALIGN - PAGE_SIZE,
			     HV_IMAGE_MAX_PHYS - 1, &base);
	if (EFI_ERROR(st)) {
		efi_msg(L"no memory for the image (0x%lx bytes below 0x%lx): %r\n", hdr->mem_size,
			(u64)HV_IMAGE_MAX_PHYS, st);
		return st;
	}
	phys = ALIGN_UP(base, (u64)HV_IMAGE_ALIGN);
	memcpy((void *)(uintptr_t)phys, efi_hv_image, copy);
	memset((void *)(uintptr_t)(phys + copy), 0, hdr->mem_size - copy);
	*image_phys = phys;
	*entry_phys = phys + hdr->entry_offset;
	*mem_size = hdr->mem_size;
	efi_msg(L"image: 0x%lx bytes at 0x%lx\n", hdr->mem_size, phys);
	return EFI_SUCCESS;
}

static EFI_STATUS alloc_boot_info(struct boot_info **out)
{
	struct boot_info *bi;
	u64 pa;
	EFI_STATUS st;

	st = efi_alloc_pages(EfiLoaderData, sizeof(*bi), BELOW_4G_MAX, &pa);
	if (EFI_ERROR(st)) {
		efi_msg(L"no memory below 4 GiB for the boot information: %r\n", st);
		return st;
	}
	bi = (void *)(uintptr_t)pa;
	memset(bi, 0, sizeof(*bi));
	bi->loader = BOOT_LOADER_UEFI;
	bi->firmware = BOOT_FW_UEFI;
	hv_strlcpy(bi->loader_name, "UEFI", sizeof(bi->loader_name));
	*out = bi;
	return EFI_SUCCESS;
}

/* The stub's code page (identity-mapped, below 4 GiB) and its stack. */
static EFI_STATUS prepare_stub(efi_leave_fn *leave, u64 *stack_top)
{
	size_t size = (size_t)(efi_leave_end - efi_leave_start);
	u64 pa;
	EFI_STATUS st;

	if (size > STUB_CODE_BYTES) {
		efi_msg(L"the transition stub does not fit in a page\n");
		return EFI_LOAD_ERROR;
	}
	st = efi_alloc_pages(EfiLoaderCode, STUB_BYTES, BELOW_4G_MAX, &pa);
	if (EFI_ERROR(st)) {
		efi_msg(L"no memory below 4 GiB for the transition stub: %r\n", st);
		return st;
	}
	memcpy((void *)(uintptr_t)pa, efi_leave_start, size);
	*leave = (efi_leave_fn)(uintptr_t)pa;
	*stack_top = pa + STUB_BYTES;
	return EFI_SUCCESS;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	struct boot_info *bi;
	efi_leave_fn leave;
	u64 image_phys, entry, mem_size, stack_top;
	EFI_STATUS st;

	InitializeLib(image, systab);
	efi_msg(L"Tessera UEFI loader\n");
	st = load_image(&image_phys, &entry, &mem_size);
	if (EFI_ERROR(st))
		return st;
	st = alloc_boot_info(&bi);
	if (EFI_ERROR(st))
		return st;
	bi->image_phys = image_phys;
	bi->image_size = mem_size;
	efi_load_modules(image, bi);
	efi_get_cmdline(image, bi);
	efi_get_rsdp(bi);
	efi_get_framebuffer(bi);
	st = prepare_stub(&leave, &stack_top);
	if (EFI_ERROR(st))
		return st;

	st = efi_mmap_exit(image, bi);
	if (EFI_ERROR(st))
		return st;
	leave(entry, TESSERA_EFI_LOADER_MAGIC, (uintptr_t)bi, stack_top);
}
