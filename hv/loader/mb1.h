/*
 * Multiboot1 guest loader (Multiboot 0.6.96): an ELF32 kernel or one with
 * the a.out kludge, entered as GRUB would, in flat 32-bit protected mode
 * with paging off.
 */
#pragma once

#include "hv/loader/loader.h"

#define MB1_HEADER_MAGIC 0x1badb002
#define MB1_BOOT_MAGIC 0x2badb002
#define MB1_SEARCH_LEN 8192
#define MB1_INFO_GPA 0x90000ULL /* the information structure, below the BIOS hole */
#define MB1_INFO_LIMIT 0x9f000ULL

/* Whether image looks like a Multiboot1 kernel (a valid header). */
bool mb1_probe(const u8 *image, u64 len);
/*
 * Loads it with mod_count modules (cmdline not NULL); on failure returns a
 * negative error and a message in err.
 */
int mb1_load_modules(const u8 *image, u64 len, const char *cmdline,
		     const struct loader_module *mods, u32 mod_count, const struct guest_mem *mem,
		     struct loader_entry *entry, char *err, size_t err_size);
/*
 * The loader_load_fn: the initrd, if any, is the one module; Multiboot1 has
 * no place for rsdp_gpa (the guest scans the BIOS area).
 */
int mb1_load(const u8 *image, u64 len, const char *cmdline, const struct loader_module *initrd,
	     u64 rsdp_gpa, const struct guest_mem *mem, struct loader_entry *entry, char *err,
	     size_t err_size);
