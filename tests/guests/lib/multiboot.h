/*
 * What the guest keeps of the Multiboot1 information (Multiboot spec 3.3):
 * copied into the guest's own .bss at start, so that tests may overwrite
 * any RAM outside the image afterwards.
 */
#pragma once

#include "boot/multiboot.h" /* the structures, E820_RAM */
#include "types.h"

#define MB_CMDLINE_MAX 512
#define MB_MMAP_MAX 64
#define MB_MODS_MAX 8

struct mb_region {
	u64 base, len;
	u32 type;
};

struct mb_state {
	bool valid;   /* the magic was right */
	bool has_mem; /* mem_lower/mem_upper are valid */
	bool has_mmap;
	u32 magic;
	u32 flags;
	u32 mem_lower_kib, mem_upper_kib;
	char cmdline[MB_CMDLINE_MAX];
	u32 nr_regions;
	struct mb_region regions[MB_MMAP_MAX];
	u32 info_addr; /* where the loader put the information (EBX) */
	u32 nr_modules;
	struct {
		u32 start, end;
	} modules[MB_MODS_MAX]; /* the first MB_MODS_MAX of them */
};

extern struct mb_state mb;

void mb_parse(u32 magic, u32 info_addr);
bool mb_is_ram(u64 addr);
void mb_print_map(void);
