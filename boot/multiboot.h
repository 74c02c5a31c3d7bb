/* Multiboot 0.6.96 and Multiboot2 1.0 information structures we read. */
#pragma once

#include "boot/boot_info.h"
#include "hv/lib/types.h"

#define MB1_LOADER_MAGIC 0x2badb002
#define MB2_LOADER_MAGIC 0x36d76289

/* Multiboot1 information (spec 3.3) */
#define MB1_INFO_MEMORY BIT(0)
#define MB1_INFO_CMDLINE BIT(2)
#define MB1_INFO_MODS BIT(3)
#define MB1_INFO_MMAP BIT(6)
#define MB1_INFO_LOADER_NAME BIT(9)
#define MB1_INFO_FRAMEBUFFER BIT(12)

struct mb1_info {
	u32 flags;
	u32 mem_lower, mem_upper;
	u32 boot_device;
	u32 cmdline;
	u32 mods_count, mods_addr;
	u32 syms[4];
	u32 mmap_length, mmap_addr;
	u32 drives_length, drives_addr;
	u32 config_table;
	u32 boot_loader_name;
	u32 apm_table;
	u32 vbe_control_info, vbe_mode_info;
	u16 vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
	u64 framebuffer_addr;
	u32 framebuffer_pitch, framebuffer_width, framebuffer_height;
	u8 framebuffer_bpp, framebuffer_type;
} __packed;

struct mb1_module {
	u32 mod_start, mod_end;
	u32 cmdline;
	u32 pad;
} __packed;

struct mb1_mmap_entry {
	u32 size; /* of the rest of the entry */
	u64 addr, len;
	u32 type;
} __packed;

/* Multiboot2 information tags (spec 3.6) */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_EFI64 12
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_EFI_BS 18
#define MB2_TAG_EFI64_IH 20
#define MB2_TAG_LOAD_BASE 21

struct mb2_tag {
	u32 type, size;
} __packed;

struct mb2_tag_module {
	u32 type, size;
	u32 mod_start, mod_end;
	char cmdline[];
} __packed;

struct mb2_tag_mmap {
	u32 type, size;
	u32 entry_size, entry_version;
} __packed;

struct mb2_mmap_entry {
	u64 addr, len;
	u32 type, reserved;
} __packed;

struct mb2_tag_framebuffer {
	u32 type, size;
	u64 addr;
	u32 pitch, width, height;
	u8 bpp, fb_type;
	u16 reserved;
} __packed;

/* E820 / Multiboot memory types (ACPI 6.4 15.1) */
#define E820_RAM 1
#define E820_RESERVED 2
#define E820_ACPI 3
#define E820_NVS 4
#define E820_UNUSABLE 5

/* Converts a loader's information into bi; pure, unit-tested on the host
 * (phys_to_ptr turns a loader's physical address into a pointer). */
int mb1_parse(struct boot_info *bi, const struct mb1_info *info,
	      const void *(*phys_to_ptr)(u64 pa));
int mb2_parse(struct boot_info *bi, const void *info, const void *(*phys_to_ptr)(u64 pa));
u32 boot_e820_type(u32 e820);
