/*
 * The UEFI front-end's internal interfaces (hv.efi only; see efi_main.c for
 * the whole sequence). Everything here runs with boot services, except
 * efi_mmap_exit()'s conversion and efi_leave().
 */
#pragma once

#include <efi.h>
#include <efilib.h>

#include "boot/boot_info.h"
#include "hv/lib/types.h"

/* Printable ASCII: what command lines and file names may hold here. */
#define ASCII_PRINTABLE_FIRST 0x20
#define ASCII_PRINTABLE_LAST 0x7e

/* Every message on the EFI console starts with the program's name. */
#define efi_msg(fmt, ...) Print(L"hv.efi: " fmt, ##__VA_ARGS__)

/* The hypervisor image (build/hv.bin), embedded by leave.asm. */
extern const u8 efi_hv_image[], efi_hv_image_end[];

/*
 * The transition stub (leave.asm), position-independent; efi_main copies
 * [efi_leave_start, efi_leave_end) to a page below 4 GiB and calls the copy.
 * Arguments: the image's 32-bit entry, the EAX and EBX values for it, and a
 * stack top; all physical, below 4 GiB. Never returns.
 */
extern const u8 efi_leave_start[], efi_leave_end[];
typedef void __noreturn (*efi_leave_fn)(u64 entry, u64 eax, u64 ebx, u64 stack_top);

/* Allocates whole pages of type for bytes (at least one page), ending at or
 * below max (0: anywhere); *addr is the physical base. */
EFI_STATUS efi_alloc_pages(EFI_MEMORY_TYPE type, u64 bytes, u64 max, u64 *addr);

/* efi_files.c: hv.conf and the files it names, from the directory of
 * hv.efi, appended to bi->modules. Missing files are reported and skipped. */
void efi_load_modules(EFI_HANDLE image, struct boot_info *bi);

/* efi_info.c: the command line, the ACPI RSDP and the GOP framebuffer. */
void efi_get_cmdline(EFI_HANDLE image, struct boot_info *bi);
void efi_get_rsdp(struct boot_info *bi);
void efi_get_framebuffer(struct boot_info *bi);

/* efi_mmap.c: takes the final memory map, exits boot services and fills
 * bi->mmap. After it returns success, only the stub may run: no boot
 * service, no console. Returns an error only while boot services still work;
 * when ExitBootServices itself keeps failing, it halts the machine. */
EFI_STATUS efi_mmap_exit(EFI_HANDLE image, struct boot_info *bi);
