/*
 * PVH loader: an uncompressed ELF64 vmlinux entered at its
 * XEN_ELFNOTE_PHYS32_ENTRY (Xen docs/misc/pvh.pandoc). What it builds below
 * 1 MiB and the entry state are in hv/loader/loader.h.
 */
#pragma once

#include "hv/loader/loader.h"

#define PVH_CMDLINE_MAX 2047	    /* x86 COMMAND_LINE_SIZE less its NUL */
#define XEN_ELFNOTE_PHYS32_ENTRY 18 /* Xen public/elfnote.h */
#define HVM_START_MAGIC 0x336ec578  /* Xen public/arch-x86/hvm/start_info.h */
#define HVM_START_VERSION 1	    /* with a memory map */

/* Whether image is an x86-64 ELF file (pvh_load says if it has a PVH entry). */
bool pvh_probe(const u8 *image, u64 len);
/*
 * Loads an ELF64 vmlinux at its segments' physical addresses and enters it
 * at its XEN_ELFNOTE_PHYS32_ENTRY with a struct hvm_start_info (version 1:
 * command line, the initrd as module 0, rsdp_gpa, the e820 map). A
 * loader_load_fn, with the conventions of linux_load.
 */
int pvh_load(const u8 *image, u64 len, const char *cmdline, const struct loader_module *initrd,
	     u64 rsdp_gpa, const struct guest_mem *mem, struct loader_entry *entry, char *err,
	     size_t err_size);
