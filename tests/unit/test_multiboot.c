/*
 * boot/multiboot.c on the host: Multiboot1 information and Multiboot2 tag
 * lists built in host buffers. The buffers are allocated at their exact
 * size, so AddressSanitizer reports any read past what the loader gave.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "boot/boot_info.h"
#include "boot/multiboot.h"

/*
 * The tests of malformed Multiboot2 input that boot/multiboot.c, as
 * committed, reads out of bounds on (see the report for the fix). They are
 * skipped until the fix is in; set this to 1 with it.
 */
#ifndef MB_BOUNDS_FIXED
#define MB_BOUNDS_FIXED 1
#endif

static struct boot_info bi;

static int setup(void **state)
{
	(void)state;
	memset(&bi, 0, sizeof(bi));
	return 0;
}

/* ---- a fake physical memory for Multiboot1 ---- */

#define ARENA_PA 0x10000ULL

static u8 *arena;
static size_t arena_used, arena_size;

static void arena_new(size_t size)
{
	free(arena);
	arena = calloc(1, size);
	assert_non_null(arena);
	arena_size = size;
	arena_used = 0;
}

/* Copies data into the arena (8-byte aligned) and returns its address. */
static u32 arena_put(const void *data, size_t len)
{
	size_t at = ALIGN_UP(arena_used, 8);

	assert_true(at + len <= arena_size);
	memcpy(arena + at, data, len);
	arena_used = at + len;
	return (u32)(ARENA_PA + at);
}

static u32 arena_str(const char *s)
{
	return arena_put(s, strlen(s) + 1);
}

static const void *arena_ptr(u64 pa)
{
	if (pa < ARENA_PA || pa >= ARENA_PA + arena_size)
		fail_msg("read of physical address %#llx outside what the loader gave",
			 (unsigned long long)pa);
	return arena + (pa - ARENA_PA);
}

static const void *no_phys(u64 pa)
{
	fail_msg("Multiboot2 parser dereferenced physical address %#llx", (unsigned long long)pa);
	return NULL;
}

/* ---- Multiboot1 ---- */

static void mb1_set_mmap(struct mb1_info *info, const struct mb1_mmap_entry *e, u32 n)
{
	info->mmap_length = n * (u32)sizeof(*e);
	info->mmap_addr = arena_put(e, n * sizeof(*e));
}

#define MB1_MOD(s, e, c) ((struct mb1_module){ .mod_start = (s), .mod_end = (e), .cmdline = (c) })

#define MB1_E(a, l, t)                                           \
	{                                                        \
		.size = 20, .addr = (a), .len = (l), .type = (t) \
	}

static const struct mb1_mmap_entry qemu_mb1_map[] = {
	MB1_E(0, 0x9fc00, E820_RAM),
	MB1_E(0x9fc00, 0x400, E820_RESERVED),
	MB1_E(0xf0000, 0x10000, E820_RESERVED),
	MB1_E(0x100000, 0x7fedf000, E820_RAM),
	MB1_E(0x7ffdf000, 0x21000, E820_ACPI),
	MB1_E(0x80000000, 0x1000, E820_NVS),
	MB1_E(0x80001000, 0x1000, E820_UNUSABLE),
	MB1_E(0xb0000000, 0x10000000, 12),
};

static void test_mb1_full(void **state)
{
	struct mb1_module mods[3];
	struct mb1_info info = { 0 };
	u32 info_pa;

	(void)state;
	arena_new(4096);
	info.flags = MB1_INFO_CMDLINE | MB1_INFO_MODS | MB1_INFO_MMAP | MB1_INFO_LOADER_NAME |
		     MB1_INFO_FRAMEBUFFER;
	info.cmdline = arena_str("build/hv.elf console=com1");
	info.boot_loader_name = arena_str("qemu");
	mb1_set_mmap(&info, qemu_mb1_map, ARRAY_SIZE(qemu_mb1_map));
	mods[0] = MB1_MOD(0x1000000, 0x1000200, arena_str("tests/x.conf hv.conf"));
	mods[1] = MB1_MOD(0x2000000, 0x2800000, arena_str("build/guest/vmlinuz bzImage"));
	mods[2] = MB1_MOD(0x3000000, 0x3000000, 0); /* no command line */
	info.mods_count = 3;
	info.mods_addr = arena_put(mods, sizeof(mods));
	info.framebuffer_addr = 0xfd000000;
	info.framebuffer_width = 1024;
	info.framebuffer_height = 768;
	info.framebuffer_pitch = 4096;
	info.framebuffer_bpp = 32;
	info_pa = arena_put(&info, sizeof(info));

	assert_int_equal(mb1_parse(&bi, arena_ptr(info_pa), arena_ptr), 0);
	assert_int_equal(bi.loader, BOOT_LOADER_MULTIBOOT1);
	assert_int_equal(bi.firmware, BOOT_FW_BIOS);
	assert_string_equal(bi.cmdline, "build/hv.elf console=com1");
	assert_string_equal(bi.loader_name, "qemu");
	assert_int_equal(bi.mmap_count, ARRAY_SIZE(qemu_mb1_map));
	for (u32 i = 0; i < bi.mmap_count; i++) {
		assert_int_equal(bi.mmap[i].base, qemu_mb1_map[i].addr);
		assert_int_equal(bi.mmap[i].len, qemu_mb1_map[i].len);
	}
	assert_int_equal(bi.mmap[0].type, BOOT_MEM_RAM);
	assert_int_equal(bi.mmap[1].type, BOOT_MEM_RESERVED);
	assert_int_equal(bi.mmap[4].type, BOOT_MEM_ACPI);
	assert_int_equal(bi.mmap[5].type, BOOT_MEM_NVS);
	assert_int_equal(bi.mmap[6].type, BOOT_MEM_UNUSABLE);
	assert_int_equal(bi.mmap[7].type, BOOT_MEM_RESERVED); /* unknown: reserved */
	assert_int_equal(bi.module_count, 3);
	assert_string_equal(bi.modules[0].name, "hv.conf");
	assert_int_equal(bi.modules[0].base, 0x1000000);
	assert_int_equal(bi.modules[0].len, 0x200);
	assert_string_equal(bi.modules[1].name, "bzImage");
	assert_int_equal(bi.modules[1].len, 0x800000);
	assert_string_equal(bi.modules[2].name, "");
	assert_int_equal(bi.modules[2].len, 0);
	assert_int_equal(bi.fb.addr, 0xfd000000);
	assert_int_equal(bi.fb.width, 1024);
	assert_int_equal(bi.fb.height, 768);
	assert_int_equal(bi.fb.pitch, 4096);
	assert_int_equal(bi.fb.bpp, 32);
	assert_int_equal(bi.rsdp_len, 0); /* Multiboot1 carries no RSDP */
}

/* Only the flagged fields are read: garbage elsewhere is ignored. */
static void test_mb1_minimal(void **state)
{
	struct mb1_info info;
	u32 info_pa;

	(void)state;
	arena_new(1024);
	memset(&info, 0xee, sizeof(info));
	info.flags = MB1_INFO_MMAP;
	mb1_set_mmap(&info, qemu_mb1_map, 2);
	info_pa = arena_put(&info, sizeof(info));
	assert_int_equal(mb1_parse(&bi, arena_ptr(info_pa), arena_ptr), 0);
	assert_int_equal(bi.mmap_count, 2);
	assert_int_equal(bi.module_count, 0);
	assert_string_equal(bi.cmdline, "");
	assert_int_equal(bi.fb.addr, 0);
}

static void test_mb1_needs_mmap(void **state)
{
	struct mb1_info info = { .flags = MB1_INFO_MEMORY, .mem_lower = 639, .mem_upper = 1024 };

	(void)state;
	arena_new(256);
	assert_int_equal(mb1_parse(&bi, arena_ptr(arena_put(&info, sizeof(info))), arena_ptr),
			 -E_INVAL);
}

/* Entries are stepped by their size field, which may exceed 20. */
static void test_mb1_mmap_entry_size(void **state)
{
	struct {
		u32 size;
		u64 addr, len;
		u32 type;
		u32 extra[2];
	} __packed e[3] = {
		{ 28, 0, 0x9f000, E820_RAM, { 0xdead, 0xbeef } },
		{ 28, 0x100000, 0x100000, E820_RAM, { 0, 0 } },
		{ 28, 0x200000, 0x1000, E820_NVS, { 0, 0 } },
	};
	struct mb1_info info = { .flags = MB1_INFO_MMAP };

	(void)state;
	arena_new(1024);
	info.mmap_addr = arena_put(e, sizeof(e));
	/* a truncated fourth entry at the end is not read */
	info.mmap_length = sizeof(e) + 10;
	arena_put("\x18\0\0\0\0\0\0\0\0\0", 10);
	assert_int_equal(mb1_parse(&bi, arena_ptr(arena_put(&info, sizeof(info))), arena_ptr), 0);
	assert_int_equal(bi.mmap_count, 3);
	assert_int_equal(bi.mmap[1].base, 0x100000);
	assert_int_equal(bi.mmap[2].type, BOOT_MEM_NVS);
}

static void test_mb1_bad_module(void **state)
{
	struct mb1_module mod = MB1_MOD(0x2000000, 0x1fff000, 0);
	struct mb1_info info = { .flags = MB1_INFO_MMAP | MB1_INFO_MODS, .mods_count = 1 };

	(void)state;
	arena_new(1024);
	mb1_set_mmap(&info, qemu_mb1_map, 1);
	info.mods_addr = arena_put(&mod, sizeof(mod));
	assert_int_equal(mb1_parse(&bi, arena_ptr(arena_put(&info, sizeof(info))), arena_ptr),
			 -E_INVAL);
}

static void test_mb1_too_many(void **state)
{
	struct mb1_module mods[BOOT_MODULES_MAX + 1];
	struct mb1_mmap_entry map[BOOT_MMAP_MAX + 1];
	struct mb1_info info = { .flags = MB1_INFO_MMAP | MB1_INFO_MODS };
	u32 name;

	(void)state;
	arena_new(16384);
	name = arena_str("m");
	for (u32 i = 0; i < ARRAY_SIZE(mods); i++)
		mods[i] = MB1_MOD(i * 0x1000, i * 0x1000 + 1, name);
	for (u32 i = 0; i < ARRAY_SIZE(map); i++)
		map[i] = (struct mb1_mmap_entry)MB1_E(i * 0x1000ULL, 0x1000, E820_RAM);
	mb1_set_mmap(&info, map, BOOT_MMAP_MAX);
	info.mods_addr = arena_put(mods, sizeof(mods));
	info.mods_count = ARRAY_SIZE(mods);
	assert_int_equal(mb1_parse(&bi, arena_ptr(arena_put(&info, sizeof(info))), arena_ptr),
			 -E_TOOBIG);
	assert_int_equal(bi.mmap_count, BOOT_MMAP_MAX);
	assert_int_equal(bi.module_count, BOOT_MODULES_MAX);

	memset(&bi, 0, sizeof(bi));
	mb1_set_mmap(&info, map, BOOT_MMAP_MAX + 1);
	info.mods_count = 0;
	assert_int_equal(mb1_parse(&bi, arena_ptr(arena_put(&info, sizeof(info))), arena_ptr),
			 -E_TOOBIG);
}

/* ---- Multiboot2 ---- */

/* A tag list under construction; mb2_done copies it to an exact-size buffer. */
static u8 mb2_buf[65536];
static u32 mb2_len;
static void *mb2_info;

static void mb2_begin(void)
{
	memset(mb2_buf, 0, sizeof(mb2_buf));
	mb2_len = 8; /* total_size, reserved */
}

/* Appends a tag whose header says size, with body bytes after the header. */
static void mb2_tag_sized(u32 type, u32 size, const void *body, u32 body_len)
{
	struct mb2_tag t = { type, size };

	assert_true(mb2_len + sizeof(t) + body_len <= sizeof(mb2_buf));
	memcpy(mb2_buf + mb2_len, &t, sizeof(t));
	if (body_len)
		memcpy(mb2_buf + mb2_len + sizeof(t), body, body_len);
	mb2_len = ALIGN_UP(mb2_len + (u32)sizeof(t) + body_len, 8U);
}

static void mb2_tag(u32 type, const void *body, u32 body_len)
{
	mb2_tag_sized(type, (u32)sizeof(struct mb2_tag) + body_len, body, body_len);
}

static void mb2_str(u32 type, const char *s)
{
	mb2_tag(type, s, (u32)strlen(s) + 1);
}

static void mb2_module(u32 start, u32 end, const char *cmdline)
{
	u8 body[256];
	u32 n = (u32)strlen(cmdline) + 1;

	memcpy(body, &start, 4);
	memcpy(body + 4, &end, 4);
	memcpy(body + 8, cmdline, n);
	mb2_tag(MB2_TAG_MODULE, body, 8 + n);
}

static void mb2_mmap_tag(const struct mb2_mmap_entry *e, u32 n)
{
	u8 body[8 + 24 * (BOOT_MMAP_MAX + 1)];
	u32 entry_size = sizeof(*e), version = 0;

	assert_true(n <= BOOT_MMAP_MAX + 1);
	memcpy(body, &entry_size, 4);
	memcpy(body + 4, &version, 4);
	memcpy(body + 8, e, n * sizeof(*e));
	mb2_tag(MB2_TAG_MMAP, body, 8 + n * (u32)sizeof(*e));
}

/* Ends the list (with an END tag unless told not to) and returns it in a
 * buffer of exactly total_size bytes. */
static const void *mb2_done(bool end_tag)
{
	if (end_tag)
		mb2_tag(MB2_TAG_END, NULL, 0);
	memcpy(mb2_buf, &mb2_len, 4);
	free(mb2_info);
	mb2_info = malloc(mb2_len);
	assert_non_null(mb2_info);
	memcpy(mb2_info, mb2_buf, mb2_len);
	return mb2_info;
}

static const struct mb2_mmap_entry qemu_mb2_map[] = {
	{ 0, 0x9fc00, E820_RAM, 0 },
	{ 0x9fc00, 0x400, E820_RESERVED, 0 },
	{ 0x100000, 0x7fedf000, E820_RAM, 0 },
	{ 0x7ffdf000, 0x21000, E820_ACPI, 0 },
	{ 0x80000000, 0x1000, E820_NVS, 0 },
	{ 0x80001000, 0x1000, E820_UNUSABLE, 0 },
	{ 0xfd00000000ULL, 0x300000000ULL, 0xf00d, 0 },
};

static void test_mb2_full(void **state)
{
	struct {
		u64 addr;
		u32 pitch, width, height;
		u8 bpp, type;
		u16 reserved;
		u8 color_info[6];
	} __packed fb = { 0xfd000000, 5120, 1280, 800, 32, 1, 0, { 0 } };
	u32 load_base = 0x200000;

	(void)state;
	mb2_begin();
	mb2_str(MB2_TAG_CMDLINE, "/boot/hv.elf console=com2");
	mb2_str(MB2_TAG_LOADER_NAME, "GRUB 2.06");
	mb2_module(0x1000000, 0x1000123, "/boot/tessera/hv.conf");
	mb2_module(0x2000000, 0x2900000, "/boot/vmlinuz-6.1 bzImage");
	mb2_module(0x3000000, 0x3100000, "");
	mb2_mmap_tag(qemu_mb2_map, ARRAY_SIZE(qemu_mb2_map));
	mb2_tag(MB2_TAG_FRAMEBUFFER, &fb, sizeof(fb));
	mb2_tag(MB2_TAG_LOAD_BASE, &load_base, 4);
	mb2_tag(0x7777, "unknown tags are skipped", 24);

	assert_int_equal(mb2_parse(&bi, mb2_done(true), no_phys), 0);
	assert_int_equal(bi.loader, BOOT_LOADER_MULTIBOOT2);
	assert_int_equal(bi.firmware, BOOT_FW_BIOS);
	assert_string_equal(bi.cmdline, "/boot/hv.elf console=com2");
	assert_string_equal(bi.loader_name, "GRUB 2.06");
	assert_int_equal(bi.module_count, 3);
	assert_string_equal(bi.modules[0].name, "hv.conf");
	assert_int_equal(bi.modules[0].base, 0x1000000);
	assert_int_equal(bi.modules[0].len, 0x123);
	assert_string_equal(bi.modules[1].name, "bzImage");
	assert_int_equal(bi.modules[1].len, 0x900000);
	assert_string_equal(bi.modules[2].name, "");
	assert_int_equal(bi.mmap_count, ARRAY_SIZE(qemu_mb2_map));
	for (u32 i = 0; i < bi.mmap_count; i++) {
		assert_int_equal(bi.mmap[i].base, qemu_mb2_map[i].addr);
		assert_int_equal(bi.mmap[i].len, qemu_mb2_map[i].len);
		assert_int_equal(bi.mmap[i].type, boot_e820_type(qemu_mb2_map[i].type));
	}
	assert_int_equal(bi.mmap[0].type, BOOT_MEM_RAM);
	assert_int_equal(bi.mmap[1].type, BOOT_MEM_RESERVED);
	assert_int_equal(bi.mmap[3].type, BOOT_MEM_ACPI);
	assert_int_equal(bi.mmap[4].type, BOOT_MEM_NVS);
	assert_int_equal(bi.mmap[5].type, BOOT_MEM_UNUSABLE);
	assert_int_equal(bi.mmap[6].type, BOOT_MEM_RESERVED);
	assert_int_equal(bi.fb.addr, 0xfd000000);
	assert_int_equal(bi.fb.pitch, 5120);
	assert_int_equal(bi.fb.width, 1280);
	assert_int_equal(bi.fb.height, 800);
	assert_int_equal(bi.fb.bpp, 32);
	assert_int_equal(bi.rsdp_len, 0);
}

static void test_e820_types(void **state)
{
	(void)state;
	assert_int_equal(boot_e820_type(E820_RAM), BOOT_MEM_RAM);
	assert_int_equal(boot_e820_type(E820_RESERVED), BOOT_MEM_RESERVED);
	assert_int_equal(boot_e820_type(E820_ACPI), BOOT_MEM_ACPI);
	assert_int_equal(boot_e820_type(E820_NVS), BOOT_MEM_NVS);
	assert_int_equal(boot_e820_type(E820_UNUSABLE), BOOT_MEM_UNUSABLE);
	assert_int_equal(boot_e820_type(0), BOOT_MEM_RESERVED);
	assert_int_equal(boot_e820_type(7), BOOT_MEM_RESERVED); /* persistent memory */
	assert_int_equal(boot_e820_type(~0U), BOOT_MEM_RESERVED);
}

/* The firmware is UEFI when the loader passes any EFI tag. */
static void test_mb2_efi(void **state)
{
	static const u32 efi_tags[] = { MB2_TAG_EFI64, MB2_TAG_EFI_MMAP, MB2_TAG_EFI64_IH };
	u64 handle = 0x7e000000;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(efi_tags); i++) {
		memset(&bi, 0, sizeof(bi));
		mb2_begin();
		mb2_mmap_tag(qemu_mb2_map, 1);
		mb2_tag(efi_tags[i], &handle, sizeof(handle));
		assert_int_equal(mb2_parse(&bi, mb2_done(true), no_phys), 0);
		assert_int_equal(bi.firmware, BOOT_FW_UEFI);
	}
}

/* An ACPI 1.0 RSDP (20 bytes) and an ACPI 2.0+ one (36 bytes). */
static u8 rsdp_old[20], rsdp_new[36];

static void make_rsdps(void)
{
	memcpy(rsdp_old, "RSD PTR ", 8);
	rsdp_old[15] = 0; /* revision 0 */
	memcpy(rsdp_new, "RSD PTR ", 8);
	rsdp_new[15] = 2;
	rsdp_new[20] = 36; /* length */
	for (int i = 24; i < 32; i++)
		rsdp_new[i] = (u8)(0xa0 + i); /* XSDT address */
}

static void parse_acpi(const u32 *types, int n)
{
	memset(&bi, 0, sizeof(bi));
	mb2_begin();
	for (int i = 0; i < n; i++) {
		if (types[i] == MB2_TAG_ACPI_OLD)
			mb2_tag(MB2_TAG_ACPI_OLD, rsdp_old, sizeof(rsdp_old));
		else
			mb2_tag(MB2_TAG_ACPI_NEW, rsdp_new, sizeof(rsdp_new));
	}
	mb2_mmap_tag(qemu_mb2_map, 1);
	assert_int_equal(mb2_parse(&bi, mb2_done(true), no_phys), 0);
}

static void test_mb2_acpi(void **state)
{
	static const u32 old_only[] = { MB2_TAG_ACPI_OLD };
	static const u32 new_only[] = { MB2_TAG_ACPI_NEW };
	static const u32 old_new[] = { MB2_TAG_ACPI_OLD, MB2_TAG_ACPI_NEW };
	static const u32 new_old[] = { MB2_TAG_ACPI_NEW, MB2_TAG_ACPI_OLD };

	(void)state;
	make_rsdps();
	parse_acpi(NULL, 0);
	assert_int_equal(bi.rsdp_len, 0);
	parse_acpi(old_only, 1);
	assert_int_equal(bi.rsdp_len, sizeof(rsdp_old));
	assert_memory_equal(bi.rsdp, rsdp_old, sizeof(rsdp_old));
	parse_acpi(new_only, 1);
	assert_int_equal(bi.rsdp_len, sizeof(rsdp_new));
	assert_memory_equal(bi.rsdp, rsdp_new, sizeof(rsdp_new));
	/* the new one is preferred, whichever comes first */
	parse_acpi(old_new, 2);
	assert_int_equal(bi.rsdp_len, sizeof(rsdp_new));
	assert_memory_equal(bi.rsdp, rsdp_new, sizeof(rsdp_new));
	parse_acpi(new_old, 2);
	assert_int_equal(bi.rsdp_len, sizeof(rsdp_new));
	assert_memory_equal(bi.rsdp, rsdp_new, sizeof(rsdp_new));
}

/* A longer RSDP tag (padding, a future revision) is cut at BOOT_RSDP_MAX. */
static void test_mb2_acpi_long(void **state)
{
	u8 big[64];

	(void)state;
	memset(big, 0x42, sizeof(big));
	mb2_begin();
	mb2_tag(MB2_TAG_ACPI_NEW, big, sizeof(big));
	mb2_mmap_tag(qemu_mb2_map, 1);
	assert_int_equal(mb2_parse(&bi, mb2_done(true), no_phys), 0);
	assert_int_equal(bi.rsdp_len, BOOT_RSDP_MAX);
	assert_memory_equal(bi.rsdp, big, BOOT_RSDP_MAX);
}

/* Entries are stepped by entry_size, which may exceed 24. */
static void test_mb2_mmap_entry_size(void **state)
{
	u8 body[8 + 3 * 32];
	u32 entry_size = 32, version = 0;

	(void)state;
	memset(body, 0xcc, sizeof(body));
	memcpy(body, &entry_size, 4);
	memcpy(body + 4, &version, 4);
	for (u32 i = 0; i < 3; i++)
		memcpy(body + 8 + i * 32, &qemu_mb2_map[i], sizeof(qemu_mb2_map[i]));
	mb2_begin();
	mb2_tag(MB2_TAG_MMAP, body, sizeof(body));
	assert_int_equal(mb2_parse(&bi, mb2_done(true), no_phys), 0);
	assert_int_equal(bi.mmap_count, 3);
	assert_int_equal(bi.mmap[2].base, 0x100000);
	assert_int_equal(bi.mmap[2].type, BOOT_MEM_RAM);

	/* an entry size below the structure's is malformed */
	entry_size = 16;
	memcpy(body, &entry_size, 4);
	memset(&bi, 0, sizeof(bi));
	mb2_begin();
	mb2_tag(MB2_TAG_MMAP, body, sizeof(body));
	assert_int_equal(mb2_parse(&bi, mb2_done(true), no_phys), -E_INVAL);
}

static void test_mb2_needs_mmap(void **state)
{
	(void)state;
	mb2_begin();
	mb2_str(MB2_TAG_CMDLINE, "x");
	assert_int_equal(mb2_parse(&bi, mb2_done(true), no_phys), -E_INVAL);
	/* nothing at all: total_size 8 */
	memset(&bi, 0, sizeof(bi));
	mb2_begin();
	assert_int_equal(mb2_parse(&bi, mb2_done(false), no_phys), -E_INVAL);
}

/* Tags after the END tag are not read; a list may also end at total_size. */
static void test_mb2_end(void **state)
{
	(void)state;
	mb2_begin();
	mb2_mmap_tag(qemu_mb2_map, 2);
	mb2_tag(MB2_TAG_END, NULL, 0);
	mb2_str(MB2_TAG_CMDLINE, "after the end");
	mb2_module(0x1000, 0x0, "bad but unread");
	assert_int_equal(mb2_parse(&bi, mb2_done(false), no_phys), 0);
	assert_string_equal(bi.cmdline, "");
	assert_int_equal(bi.module_count, 0);
	assert_int_equal(bi.mmap_count, 2);

	memset(&bi, 0, sizeof(bi));
	mb2_begin();
	mb2_mmap_tag(qemu_mb2_map, 2);
	assert_int_equal(mb2_parse(&bi, mb2_done(false), no_phys), 0);
	assert_int_equal(bi.mmap_count, 2);
}

static void test_mb2_bad_module(void **state)
{
	(void)state;
	mb2_begin();
	mb2_mmap_tag(qemu_mb2_map, 2);
	mb2_module(0x2000000, 0x1ffffff, "backwards");
	assert_int_equal(mb2_parse(&bi, mb2_done(true), no_phys), -E_INVAL);
}

static void test_mb2_too_many(void **state)
{
	static struct mb2_mmap_entry map[BOOT_MMAP_MAX + 1];

	(void)state;
	mb2_begin();
	mb2_mmap_tag(qemu_mb2_map, 1);
	for (u32 i = 0; i <= BOOT_MODULES_MAX; i++)
		mb2_module(i * 0x1000, i * 0x1000 + 10, "m");
	assert_int_equal(mb2_parse(&bi, mb2_done(true), no_phys), -E_TOOBIG);
	assert_int_equal(bi.module_count, BOOT_MODULES_MAX);

	for (u32 i = 0; i < ARRAY_SIZE(map); i++)
		map[i] = (struct mb2_mmap_entry){ i * 0x1000ULL, 0x1000, E820_RAM, 0 };
	memset(&bi, 0, sizeof(bi));
	mb2_begin();
	mb2_mmap_tag(map, ARRAY_SIZE(map));
	assert_int_equal(mb2_parse(&bi, mb2_done(true), no_phys), -E_TOOBIG);
	assert_int_equal(bi.mmap_count, BOOT_MMAP_MAX);
}

/* A tag size that runs past total_size, or is smaller than a tag header. */
static void test_mb2_bad_tag_size(void **state)
{
	static const u32 sizes[] = { 0, 4, 7 };

	(void)state;
	/* past the end by a little */
	mb2_begin();
	mb2_mmap_tag(qemu_mb2_map, 1);
	mb2_tag_sized(MB2_TAG_CMDLINE, 64, "short\0\0", 8);
	assert_int_equal(mb2_parse(&bi, mb2_done(false), no_phys), -E_INVAL);
	/* the mmap tag itself runs past the end */
	memset(&bi, 0, sizeof(bi));
	mb2_begin();
	mb2_tag_sized(MB2_TAG_MMAP, 8 + 8 + 24 * 4, "\x18\0\0\0\0\0\0\0", 8);
	assert_int_equal(mb2_parse(&bi, mb2_done(false), no_phys), -E_INVAL);
	assert_int_equal(bi.mmap_count, 0);
	/* smaller than its header */
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		memset(&bi, 0, sizeof(bi));
		mb2_begin();
		mb2_mmap_tag(qemu_mb2_map, 1);
		mb2_tag_sized(MB2_TAG_CMDLINE, sizes[i], "x\0\0\0\0\0\0", 8);
		mb2_tag(MB2_TAG_END, NULL, 0);
		assert_int_equal(mb2_parse(&bi, mb2_done(false), no_phys), -E_INVAL);
	}
}

/*
 * Malformed lists the committed parser reads out of bounds on: a tag size
 * so large that off + size wraps, tags too short for their fixed fields,
 * strings without their NUL, an mmap entry size that wraps.
 */
static void skip_unless_fixed(void)
{
	if (!MB_BOUNDS_FIXED)
		skip();
}

static void test_mb2_tag_size_wraps(void **state)
{
	static const u32 types[] = { MB2_TAG_MMAP, MB2_TAG_CMDLINE, MB2_TAG_MODULE, 0x7777 };

	(void)state;
	skip_unless_fixed();
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		memset(&bi, 0, sizeof(bi));
		mb2_begin();
		mb2_mmap_tag(qemu_mb2_map, 1);
		mb2_tag_sized(types[i], 0xfffffff8, "\x18\0\0\0\0\0\0\0", 8);
		assert_int_equal(mb2_parse(&bi, mb2_done(false), no_phys), -E_INVAL);
	}
}

/* Drops the padding after the last tag, so that it ends the buffer. */
static void mb2_trim(u32 last_tag_size)
{
	mb2_len = mb2_len - ALIGN_UP(last_tag_size, 8U) + last_tag_size;
}

static void test_mb2_short_tags(void **state)
{
	/* the smallest well-formed size of each tag with fixed fields or a
	 * string (which needs at least its NUL) */
	static const struct {
		u32 type, min_size;
	} tags[] = {
		{ MB2_TAG_CMDLINE, sizeof(struct mb2_tag) + 1 },
		{ MB2_TAG_LOADER_NAME, sizeof(struct mb2_tag) + 1 },
		{ MB2_TAG_MODULE, sizeof(struct mb2_tag_module) + 1 },
		{ MB2_TAG_MMAP, sizeof(struct mb2_tag_mmap) },
		{ MB2_TAG_FRAMEBUFFER, sizeof(struct mb2_tag_framebuffer) },
	};
	u8 body[64] = { 0 };

	(void)state;
	skip_unless_fixed();
	/* each tag, at every size around its smallest, ends the buffer */
	for (size_t i = 0; i < ARRAY_SIZE(tags); i++) {
		for (u32 size = 8; size <= tags[i].min_size + 4; size += 4) {
			memset(&bi, 0, sizeof(bi));
			/* zeros, but for an mmap tag's entry_size */
			body[0] = tags[i].type == MB2_TAG_MMAP ? sizeof(struct mb2_mmap_entry) : 0;
			mb2_begin();
			mb2_mmap_tag(qemu_mb2_map, 1);
			mb2_tag(tags[i].type, body, size - 8);
			mb2_trim(size);
			assert_int_equal(mb2_parse(&bi, mb2_done(false), no_phys),
					 size < tags[i].min_size ? -E_INVAL : 0);
		}
	}
}

/* A string that does not end inside its tag is malformed: not read on. */
static void test_mb2_unterminated_strings(void **state)
{
	static const u32 types[] = { MB2_TAG_CMDLINE, MB2_TAG_LOADER_NAME };

	(void)state;
	skip_unless_fixed();
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		memset(&bi, 0, sizeof(bi));
		mb2_begin();
		mb2_mmap_tag(qemu_mb2_map, 1);
		mb2_tag(types[i], "no-nul!!", 8); /* the last tag, ending the buffer */
		assert_int_equal(mb2_parse(&bi, mb2_done(false), no_phys), -E_INVAL);
	}
	/* a module command line without its NUL */
	memset(&bi, 0, sizeof(bi));
	mb2_begin();
	mb2_mmap_tag(qemu_mb2_map, 1);
	mb2_tag(MB2_TAG_MODULE, "\0\0\0\1\0\0\0\2/x/bzImage", 18);
	mb2_trim(8 + 18); /* the tag ends the buffer */
	assert_int_equal(mb2_parse(&bi, mb2_done(false), no_phys), -E_INVAL);
	/* the same with its NUL is fine */
	memset(&bi, 0, sizeof(bi));
	mb2_begin();
	mb2_mmap_tag(qemu_mb2_map, 1);
	mb2_tag(MB2_TAG_MODULE, "\0\0\0\1\0\0\0\2/x/bzImage", 19);
	mb2_trim(8 + 19);
	assert_int_equal(mb2_parse(&bi, mb2_done(false), no_phys), 0);
	assert_int_equal(bi.module_count, 1);
	assert_int_equal(bi.modules[0].base, 0x01000000);
	assert_int_equal(bi.modules[0].len, 0x01000000);
	assert_string_equal(bi.modules[0].name, "bzImage");
}

static void test_mb2_mmap_entry_size_wraps(void **state)
{
	u8 body[8 + 24];
	u32 entry_size = 0xfffffff0, version = 0;

	(void)state;
	skip_unless_fixed();
	memcpy(body, &entry_size, 4);
	memcpy(body + 4, &version, 4);
	memcpy(body + 8, &qemu_mb2_map[0], 24);
	mb2_begin();
	mb2_tag(MB2_TAG_MMAP, body, sizeof(body));
	/* no entry fits in the tag: none is read, and nothing goes wrong */
	assert_int_equal(mb2_parse(&bi, mb2_done(false), no_phys), 0);
	assert_int_equal(bi.mmap_count, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_mb1_full, setup),
		cmocka_unit_test_setup(test_mb1_minimal, setup),
		cmocka_unit_test_setup(test_mb1_needs_mmap, setup),
		cmocka_unit_test_setup(test_mb1_mmap_entry_size, setup),
		cmocka_unit_test_setup(test_mb1_bad_module, setup),
		cmocka_unit_test_setup(test_mb1_too_many, setup),
		cmocka_unit_test_setup(test_e820_types, setup),
		cmocka_unit_test_setup(test_mb2_full, setup),
		cmocka_unit_test_setup(test_mb2_efi, setup),
		cmocka_unit_test_setup(test_mb2_acpi, setup),
		cmocka_unit_test_setup(test_mb2_acpi_long, setup),
		cmocka_unit_test_setup(test_mb2_mmap_entry_size, setup),
		cmocka_unit_test_setup(test_mb2_needs_mmap, setup),
		cmocka_unit_test_setup(test_mb2_end, setup),
		cmocka_unit_test_setup(test_mb2_bad_module, setup),
		cmocka_unit_test_setup(test_mb2_too_many, setup),
		cmocka_unit_test_setup(test_mb2_bad_tag_size, setup),
		cmocka_unit_test_setup(test_mb2_tag_size_wraps, setup),
		cmocka_unit_test_setup(test_mb2_short_tags, setup),
		cmocka_unit_test_setup(test_mb2_unterminated_strings, setup),
		cmocka_unit_test_setup(test_mb2_mmap_entry_size_wraps, setup),
	};
	int rc = cmocka_run_group_tests_name("multiboot", tests, NULL, NULL);

	free(arena);
	free(mb2_info);
	return rc;
}
