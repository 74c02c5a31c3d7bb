/*
 * The last step with boot services: the final memory map and
 * ExitBootServices (UEFI 2.10, 7.4.6), then the map -> bi->mmap.
 */
#include "boot/efi/efi_boot.h"
#include "boot/efi/mmap_convert.h"

/*
 * Room for the descriptors the map gains between sizing it and taking it:
 * allocating the buffer itself may split a free range. The buffer is also
 * rounded up to whole pages.
 */
#define MMAP_SLACK_DESCS 16
/* ExitBootServices fails with EFI_INVALID_PARAMETER when the map changed
 * after GetMemoryMap (an event ran): take the map again, a few times. */
#define EXIT_TRIES 8

static void convert(struct boot_info *bi, const u8 *map, UINTN size, UINTN desc_size)
{
	bi->mmap_count = 0;
	for (UINTN off = 0; off + desc_size <= size; off += desc_size) {
		const EFI_MEMORY_DESCRIPTOR *d = (const void *)(map + off);

		/* Full even after merging: the ranges left out are not
		 * reported as RAM, so the hypervisor leaves them alone. */
		if (!efi_mmap_add(bi, d->PhysicalStart, d->NumberOfPages << EFI_MEM_PAGE_SHIFT,
				  efi_mmap_type(d->Type)))
			break;
	}
}

EFI_STATUS efi_mmap_exit(EFI_HANDLE image, struct boot_info *bi)
{
	UINTN size = 0, key, desc_size, buf_size;
	UINT32 desc_version;
	u64 buf;
	EFI_STATUS st;

	st = BS->GetMemoryMap(&size, NULL, &key, &desc_size, &desc_version);
	if (st != EFI_BUFFER_TOO_SMALL) {
		efi_msg(L"cannot size the memory map (%r)\n", st);
		return EFI_ERROR(st) ? st : EFI_LOAD_ERROR;
	}
	buf_size = ALIGN_UP(size + MMAP_SLACK_DESCS * desc_size, EFI_PAGE_SIZE);
	st = efi_alloc_pages(EfiLoaderData, buf_size, 0, &buf);
	if (EFI_ERROR(st)) {
		efi_msg(L"no memory for the memory map (%r)\n", st);
		return st;
	}
	efi_msg(L"boot information at 0x%lx; exiting boot services\n", (u64)(uintptr_t)bi);

	/* From here to ExitBootServices: no allocation, no console output. */
	for (int tries = 0; tries < EXIT_TRIES; tries++) {
		size = buf_size;
		st = BS->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)(uintptr_t)buf, &key,
				      &desc_size, &desc_version);
		if (EFI_ERROR(st) && !tries) {
			efi_msg(L"cannot get the memory map (%r)\n", st);
			return st;
		}
		if (EFI_ERROR(st))
			break;
		st = BS->ExitBootServices(image, key);
		if (st != EFI_INVALID_PARAMETER)
			break;
	}
	/* After a failed ExitBootServices only GetMemoryMap and
	 * ExitBootServices may be called (UEFI 2.10, 7.4.6): nothing left to
	 * report with, nothing to return to. */
	while (EFI_ERROR(st))
		__asm__ volatile("cli; hlt");
	/* The firmware's interrupt handlers are no longer ours to run. */
	__asm__ volatile("cli");
	convert(bi, (const u8 *)(uintptr_t)buf, size, desc_size);
	return EFI_SUCCESS;
}
