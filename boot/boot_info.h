/*
 * struct boot_info: everything the firmware front-ends (Multiboot1,
 * Multiboot2, UEFI) learned from the loader, in one loader-neutral form.
 * Nothing after boot/ reads a Multiboot or EFI structure (DESIGN.md).
 */
#pragma once

#include "hv/lib/types.h"

#define BOOT_MMAP_MAX 256
#define BOOT_MODULES_MAX 32
#define BOOT_NAME_MAX 64
#define BOOT_CMDLINE_MAX 256
#define BOOT_RSDP_MAX 36 /* ACPI 2.0+ RSDP size */

enum boot_mem_type {
	BOOT_MEM_RAM = 1,	 /* free for the hypervisor to use */
	BOOT_MEM_RESERVED = 2,	 /* firmware, MMIO, anything unknown */
	BOOT_MEM_ACPI = 3,	 /* ACPI tables (reclaimable only after parsing) */
	BOOT_MEM_NVS = 4,	 /* ACPI non-volatile storage */
	BOOT_MEM_UNUSABLE = 5,	 /* known-bad RAM */
	BOOT_MEM_FW_RUNTIME = 6, /* UEFI runtime services code/data */
};

enum boot_loader {
	BOOT_LOADER_MULTIBOOT1 = 1,
	BOOT_LOADER_MULTIBOOT2 = 2,
	BOOT_LOADER_UEFI = 3,
};

enum boot_firmware {
	BOOT_FW_BIOS = 1,
	BOOT_FW_UEFI = 2,
};

struct boot_mem_range {
	u64 base;
	u64 len;
	u32 type; /* enum boot_mem_type */
	u32 pad;
};

struct boot_module {
	u64 base; /* physical */
	u64 len;
	char name[BOOT_NAME_MAX]; /* SPEC 2: last word of the command line, no directory */
};

struct boot_framebuffer {
	u64 addr; /* physical, 0 when none */
	u32 width, height, pitch;
	u8 bpp;
	u8 pad[3];
};

struct boot_info {
	u32 loader;	/* enum boot_loader */
	u32 firmware;	/* enum boot_firmware */
	u64 image_phys; /* where the hypervisor image was loaded */
	u64 image_size; /* bytes, including .bss */
	u32 mmap_count;
	u32 module_count;
	struct boot_mem_range mmap[BOOT_MMAP_MAX];
	struct boot_module modules[BOOT_MODULES_MAX];
	char cmdline[BOOT_CMDLINE_MAX];
	u8 rsdp[BOOT_RSDP_MAX]; /* a copy of the RSDP, when the loader gave one */
	u32 rsdp_len;		/* 0 when the loader gave none: scan the BIOS areas */
	struct boot_framebuffer fb;
	char loader_name[32];
};

/* The rule of SPEC 2: a module is named by the last word of its command line,
 * with any directory part removed. Writes at most out_size bytes with NUL. */
void boot_module_name(const char *cmdline, char *out, size_t out_size);

/* Appends a module; returns false when the table is full. */
bool boot_add_module(struct boot_info *bi, u64 base, u64 len, const char *cmdline);

/* The module named name (SPEC 2), or NULL. */
const struct boot_module *boot_find_module(const struct boot_info *bi, const char *name);

/* Appends a raw memory range; returns false when the table is full. */
bool boot_add_mem(struct boot_info *bi, u64 base, u64 len, u32 type);
