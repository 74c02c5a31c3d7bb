/*
 * hv/loader/linux.c and hv/loader/pvh.c on the host: synthetic bzImages
 * (setup sectors with a header at 0x1f1, a protected-mode kernel with a
 * payload) and ELF64 vmlinux files (PT_LOAD segments, a PT_NOTE with Xen
 * notes) built here byte by byte, loaded into a fake guest RAM through the
 * struct guest_mem callback, and what the guest would find checked against
 * the specifications (boot.rst, zero-page.rst; Xen pvh.pandoc and
 * start_info.h) with offsets written out here, not taken from the loader.
 * Malformed images must be refused with a message; images are handed over
 * in buffers of their exact size, so AddressSanitizer reports any read past
 * the end. A real Debian kernel under build/linux/ is loaded too when
 * present (or the files named by TESSERA_BZIMAGE / TESSERA_VMLINUX).
 */
#define _DEFAULT_SOURCE /* readlink, glob */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "hv/loader/loader.h"
#include "hv/vdev/platform.h"
#include "tests/unit/test_support.h"

/* ---- the fake guest RAM: LOW at 0, optionally 2 MiB at 4 GiB ---- */

#define RAM_LOW_DEFAULT (64 * MiB)
#define RAM_HIGH_GPA (4 * GiB)
#define RAM_HIGH_SIZE (2 * MiB)
#define POISON 0xaa

/* what the loader sees, and behind it the RAM (test_support.h) */
static struct {
	struct guest_mem mem;
	struct fake_ram fake;
} ram;
static char err[LOADER_ERR_MAX];

static void ram_new(u64 low, bool high)
{
	fake_ram_free(&ram.fake);
	fake_ram_add(&ram.fake, 0, low, POISON);
	if (high)
		fake_ram_add(&ram.fake, RAM_HIGH_GPA, RAM_HIGH_SIZE, POISON);
	memset(&ram.mem, 0, sizeof(ram.mem));
	ram.mem.ptr = fake_ram_ptr;
	ram.mem.ctx = &ram.fake;
	ram.mem.region_count = ram.fake.count;
	for (u32 i = 0; i < ram.fake.count; i++) {
		ram.mem.regions[i].gpa = ram.fake.region[i].gpa;
		ram.mem.regions[i].size = ram.fake.region[i].size;
	}
	memset(err, 0, sizeof(err));
}

static u8 *gp(u64 gpa, u64 len)
{
	u8 *p = fake_ram_ptr(&ram.fake, gpa, len);

	if (!p)
		fail_msg("guest range [%#llx, +%#llx) is not in the fake RAM",
			 (unsigned long long)gpa, (unsigned long long)len);
	return p;
}

static u64 rd(u64 gpa, u32 size)
{
	u64 v = 0;

	memcpy(&v, gp(gpa, size), size);
	return v;
}

static void expect_bytes(u64 gpa, const u8 *want, u64 len)
{
	u8 *p = gp(gpa, len);

	for (u64 i = 0; i < len; i++)
		if (p[i] != want[i])
			fail_msg("guest byte %#llx is %#x, want %#x",
				 (unsigned long long)(gpa + i), p[i], want[i]);
}

static void expect_fill(u64 gpa, u8 value, u64 len)
{
	u8 *p = gp(gpa, len);

	for (u64 i = 0; i < len; i++)
		if (p[i] != value)
			fail_msg("guest byte %#llx is %#x, want %#x",
				 (unsigned long long)(gpa + i), p[i], value);
}

static void expect_error(int rc, const char *part)
{
	if (rc >= 0)
		fail_msg("loaded, but should fail with \"...%s...\"", part);
	if (!err[0] || !strstr(err, part))
		fail_msg("error \"%s\" does not say \"%s\"", err, part);
}

static void fill_pattern(u8 *p, u64 len, u8 seed)
{
	for (u64 i = 0; i < len; i++)
		p[i] = (u8)(seed + i * 13 + (i >> 9));
}

/* ---- the specification, written out (boot.rst, zero-page.rst) ---- */

#define ZP 0x8000ULL	   /* where loader.h says the zero page is */
#define CMDLINE 0x9000ULL
#define ZP_SIZE 0x1000
#define BP_ACPI_RSDP 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define BP_SENTINEL 0x1ef
#define BP_E820_TABLE 0x2d0
#define E820_ENTRY_SIZE 20
#define H_SETUP_SECTS 0x1f1
#define H_SYSSIZE 0x1f4
#define H_VID_MODE 0x1fa
#define H_BOOT_FLAG 0x1fe
#define H_JUMP 0x200
#define H_MAGIC 0x202
#define H_VERSION 0x206
#define H_TYPE_OF_LOADER 0x210
#define H_LOADFLAGS 0x211
#define H_CODE32_START 0x214
#define H_RAMDISK_IMAGE 0x218
#define H_RAMDISK_SIZE 0x21c
#define H_HEAP_END_PTR 0x224
#define H_CMD_LINE_PTR 0x228
#define H_INITRD_ADDR_MAX 0x22c
#define H_KERNEL_ALIGNMENT 0x230
#define H_RELOCATABLE 0x234
#define H_MIN_ALIGNMENT 0x235
#define H_XLOADFLAGS 0x236
#define H_CMDLINE_SIZE 0x238
#define H_PAYLOAD_OFFSET 0x248
#define H_PAYLOAD_LENGTH 0x24c
#define H_SETUP_DATA 0x250
#define H_PREF_ADDRESS 0x258
#define H_INIT_SIZE 0x260
#define H_HANDOVER 0x264
#define H_END_215 0x26c /* end of the 2.15 header */

/* clang-format off */
static void put16(u8 *p, u64 off, u16 v) { memcpy(p + off, &v, 2); }
static void put32(u8 *p, u64 off, u32 v) { memcpy(p + off, &v, 4); }
static void put64(u8 *p, u64 off, u64 v) { memcpy(p + off, &v, 8); }
static u32 get32(const u8 *p, u64 off) { u32 v; memcpy(&v, p + off, 4); return v; }
static u64 get64(const u8 *p, u64 off) { u64 v; memcpy(&v, p + off, 8); return v; }
/* clang-format on */

/* ---- synthetic bzImage ---- */

#define BZ_SETUP_SECTS 4
#define BZ_SETUP_SIZE ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_KERNEL_SIZE 0x10000ULL
#define BZ_PREF (16 * MiB)
#define BZ_INIT_SIZE (8 * MiB)
#define BZ_ALIGN (2 * MiB)
#define BZ_MAX 0x20000

static u8 bz[BZ_MAX];
static u64 bz_len;

/* A 2.15 bzImage like Debian's: relocatable, 64-bit entry, XZ payload. */
static void bz_build(void)
{
	memset(bz, 0, sizeof(bz));
	fill_pattern(bz, BZ_SETUP_SIZE, 0x11);
	bz[BP_SENTINEL] = 0xff; /* as in real images */
	bz[H_SETUP_SECTS] = BZ_SETUP_SECTS;
	put16(bz, 0x1f2, 1);	/* root_flags */
	put32(bz, H_SYSSIZE, BZ_KERNEL_SIZE / 16);
	put16(bz, H_VID_MODE, 0xfffd);
	put16(bz, H_BOOT_FLAG, 0xaa55);
	bz[H_JUMP] = 0xeb;
	bz[H_JUMP + 1] = H_END_215 - 0x202;
	memcpy(bz + H_MAGIC, "HdrS", 4);
	put16(bz, H_VERSION, 0x020f);
	bz[H_TYPE_OF_LOADER] = 0;
	bz[H_LOADFLAGS] = 0x01;
	put32(bz, H_CODE32_START, 0x100000);
	put32(bz, H_RAMDISK_IMAGE, 0);
	put32(bz, H_RAMDISK_SIZE, 0);
	put16(bz, H_HEAP_END_PTR, 0x1234);
	put32(bz, H_CMD_LINE_PTR, 0);
	put32(bz, H_INITRD_ADDR_MAX, 0x7fffffff);
	put32(bz, H_KERNEL_ALIGNMENT, BZ_ALIGN);
	bz[H_RELOCATABLE] = 1;
	bz[H_MIN_ALIGNMENT] = 21;
	put16(bz, H_XLOADFLAGS, 0x7f);
	put32(bz, H_CMDLINE_SIZE, 2047);
	put32(bz, 0x23c, 0);			/* hardware_subarch */
	put64(bz, 0x240, 0);
	put32(bz, H_PAYLOAD_OFFSET, 0x2cc);
	put32(bz, H_PAYLOAD_LENGTH, 0x8000);
	put64(bz, H_SETUP_DATA, 0x5000);	/* stale: the loader owns it */
	put64(bz, H_PREF_ADDRESS, BZ_PREF);
	put32(bz, H_INIT_SIZE, BZ_INIT_SIZE);
	put32(bz, H_HANDOVER, 0x190);
	put32(bz, 0x268, 0x7000);		/* kernel_info_offset */
	fill_pattern(bz + BZ_SETUP_SIZE, BZ_KERNEL_SIZE, 0x5a);
	memcpy(bz + BZ_SETUP_SIZE + 0x2cc, "\xfd" "7zXZ", 6);
	bz_len = BZ_SETUP_SIZE + BZ_KERNEL_SIZE;
}

/* An exactly sized heap copy of the first len bytes, for AddressSanitizer. */
static u8 *exact(const u8 *src, u64 len)
{
	u8 *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, src, len);
	return p;
}

static struct loader_entry entry;

static int bz_load_len(u64 len, const char *cmdline, const struct loader_module *initrd,
		       u64 rsdp)
{
	u8 *img = exact(bz, len);
	int rc;

	memset(&entry, 0, sizeof(entry));
	memset(err, 0, sizeof(err));
	rc = linux_load(img, len, cmdline, initrd, rsdp, &ram.mem, &entry, err, sizeof(err));
	free(img);
	return rc;
}

static int bz_load(const char *cmdline, const struct loader_module *initrd, u64 rsdp)
{
	return bz_load_len(bz_len, cmdline, initrd, rsdp);
}

static void load_ok(int rc)
{
	if (rc)
		fail_msg("load failed (%d): %s", rc, err);
}

/* ---- what every load must have built ---- */

struct e820 {
	u64 addr, size;
	u32 type;
};

/* DESIGN.md guest layout for the fake RAM */
static u32 expected_e820(struct e820 *e)
{
	u32 n = 0;

	e[n++] = (struct e820){ 0, 0x9fc00, 1 };
	e[n++] = (struct e820){ 0x9fc00, 0x100000 - 0x9fc00, 2 };
	e[n++] = (struct e820){ 0x100000, ram.mem.regions[0].size - 0x100000, 1 };
	e[n++] = (struct e820){ PLAT_ECAM_BASE, PLAT_ECAM_SIZE, 2 };
	if (ram.mem.region_count > 1)
		e[n++] = (struct e820){ RAM_HIGH_GPA, RAM_HIGH_SIZE, 1 };
	return n;
}

/* SDM 3A 3.4.5: a flat 4 GiB descriptor of the given type */
static void expect_desc(u64 d, u32 type, bool code64)
{
	u64 limit = (d & 0xffff) | ((d >> 32) & 0xf0000);
	u64 base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);

	assert_int_equal(limit, 0xfffff);
	assert_int_equal(base, 0);
	assert_int_equal((d >> 40) & 0xf, type);
	assert_true(d & BIT(44));	     /* S */
	assert_int_equal((d >> 45) & 3, 0); /* DPL */
	assert_true(d & BIT(47));	     /* P */
	assert_true(d & BIT(55));	     /* G */
	if (code64) {
		assert_true(d & BIT(53));   /* L */
		assert_false(d & BIT(54));  /* D must be 0 with L */
	} else {
		assert_false(d & BIT(53));
		assert_true(d & BIT(54));   /* 32-bit */
	}
}

static void expect_gdt(bool long_mode)
{
	assert_int_equal(entry.code_sel, 0x10);
	assert_int_equal(entry.data_sel, 0x18);
	assert_int_not_equal(entry.gdt_base, 0);
	assert_int_equal(entry.gdt_limit, 4 * 8 - 1);
	assert_true(entry.gdt_base + entry.gdt_limit < 0x9fc00);
	assert_int_equal(rd(entry.gdt_base, 8), 0);
	expect_desc(rd(entry.gdt_base + 0x10, 8), 0xb, long_mode); /* execute/read */
	expect_desc(rd(entry.gdt_base + 0x18, 8), 0x3, false);     /* read/write */
}

/* SDM 3A 4.5: walk the guest's 4-level tables for va; returns the physical
 * address, or ~0 when not mapped writable. */
static u64 walk(u64 cr3, u64 va)
{
	u64 e = cr3 & ~0xfffULL;
	const u32 shifts[] = { 39, 30, 21, 12 };

	for (u32 level = 0; level < 4; level++) {
		e = rd((e & 0x000ffffffffff000ULL) + ((va >> shifts[level]) & 0x1ff) * 8, 8);
		if (!(e & BIT(0)) || !(e & BIT(1)))
			return ~0ULL;
		if (level > 0 && level < 3 && (e & BIT(7))) {
			u64 size = 1ULL << shifts[level];

			return (e & 0x000ffffffffff000ULL & ~(size - 1)) + (va & (size - 1));
		}
	}
	return (e & 0x000ffffffffff000ULL) + (va & 0xfff);
}

static void expect_identity(u64 va)
{
	u64 pa = walk(entry.cr3, va);

	if (pa != va)
		fail_msg("%#llx maps to %#llx, not to itself", (unsigned long long)va,
			 (unsigned long long)pa);
}

/* ---- bzImage: a good load, field by field ---- */

static u8 initrd_data[3 * 4096 + 123];

static struct loader_module initrd_mod(u64 len)
{
	fill_pattern(initrd_data, sizeof(initrd_data), 0x77);
	assert_true(len <= sizeof(initrd_data));
	return (struct loader_module){ initrd_data, len, "initrd" };
}

/* The whole zero page the protocol asks for, built here independently. */
static void expect_zero_page(u64 load, u64 initrd_gpa, u64 initrd_len, u64 rsdp)
{
	u8 want[ZP_SIZE] = { 0 };
	struct e820 e[8];
	u32 n = expected_e820(e);
	const u8 *got = gp(ZP, ZP_SIZE);

	memcpy(want + H_SETUP_SECTS, bz + H_SETUP_SECTS, H_END_215 - H_SETUP_SECTS);
	put16(want, H_VID_MODE, 0xffff);
	want[H_TYPE_OF_LOADER] = 0xff;
	want[H_LOADFLAGS] = 0x01;
	put32(want, H_CODE32_START, (u32)load);
	put32(want, H_RAMDISK_IMAGE, (u32)initrd_gpa);
	put32(want, H_RAMDISK_SIZE, (u32)initrd_len);
	put16(want, H_HEAP_END_PTR, 0);
	put32(want, H_CMD_LINE_PTR, CMDLINE);
	put64(want, H_SETUP_DATA, 0);
	put64(want, BP_ACPI_RSDP, rsdp);
	want[BP_E820_ENTRIES] = (u8)n;
	for (u32 i = 0; i < n; i++) {
		put64(want, BP_E820_TABLE + i * E820_ENTRY_SIZE, e[i].addr);
		put64(want, BP_E820_TABLE + i * E820_ENTRY_SIZE + 8, e[i].size);
		put32(want, BP_E820_TABLE + i * E820_ENTRY_SIZE + 16, e[i].type);
	}
	for (u32 i = 0; i < ZP_SIZE; i++)
		if (got[i] != want[i])
			fail_msg("zero page byte %#x is %#x, want %#x", i, got[i], want[i]);
	assert_int_equal(got[BP_SENTINEL], 0);
	assert_int_equal(get32(got, BP_EXT_RAMDISK_IMAGE), 0);
	assert_int_equal(get32(got, BP_EXT_RAMDISK_SIZE), 0);
	assert_int_equal(get32(got, BP_EXT_CMD_LINE_PTR), 0);
}

static void test_bz_load_64(void **state)
{
	struct loader_module rd_mod = initrd_mod(sizeof(initrd_data));
	u64 initrd_gpa;

	(void)state;
	ram_new(RAM_LOW_DEFAULT, false);
	bz_build();
	load_ok(bz_load("console=ttyS0 quiet", &rd_mod, 0xe0000));

	/* 64-bit entry at pref_address + 0x200, RSI = zero page */
	assert_int_equal(entry.mode, LOADER_ENTRY_LONG64);
	assert_int_equal(entry.rip, BZ_PREF + 0x200);
	assert_int_equal(entry.rsi, ZP);
	assert_int_equal(entry.rbx, 0);
	assert_int_equal(entry.rax, 0);
	assert_true(entry.cr3 && !(entry.cr3 & 0xfff));
	assert_true(IS_ALIGNED(BZ_PREF, BZ_ALIGN));

	/* the protected-mode kernel, exactly, and nothing after it */
	expect_bytes(BZ_PREF, bz + BZ_SETUP_SIZE, BZ_KERNEL_SIZE);
	expect_fill(BZ_PREF + BZ_KERNEL_SIZE, POISON, 4096);
	expect_fill(BZ_PREF - 4096, POISON, 4096);

	/* initrd: page aligned, as high as initrd_addr_max and RAM allow,
	 * above the kernel's init_size */
	initrd_gpa = (RAM_LOW_DEFAULT - sizeof(initrd_data)) & ~0xfffULL;
	expect_bytes(initrd_gpa, initrd_data, sizeof(initrd_data));
	assert_true(initrd_gpa >= BZ_PREF + BZ_INIT_SIZE);

	expect_zero_page(BZ_PREF, initrd_gpa, sizeof(initrd_data), 0xe0000);
	assert_string_equal((const char *)gp(CMDLINE, 20), "console=ttyS0 quiet");

	/* identity tables over everything the kernel touches first */
	expect_identity(0);
	expect_identity(ZP);
	expect_identity(CMDLINE);
	expect_identity(entry.gdt_base);
	expect_identity(BZ_PREF);
	expect_identity(BZ_PREF + BZ_INIT_SIZE - 1);
	expect_identity(initrd_gpa);
	expect_identity(initrd_gpa + sizeof(initrd_data) - 1);
	expect_identity(PLAT_ACPI_BASE);
	expect_identity(0xffffffffULL);
	assert_int_equal(walk(entry.cr3, 0x100000000ULL), ~0ULL);
	for (u32 i = 1; i < 512; i++)
		assert_int_equal(rd(entry.cr3 + i * 8, 8), 0);
	expect_gdt(true);
	fake_ram_free(&ram.fake);
}

static void test_bz_load_32(void **state)
{
	(void)state;
	ram_new(RAM_LOW_DEFAULT, false);
	bz_build();
	put16(bz, H_XLOADFLAGS, 0); /* no 64-bit entry */
	load_ok(bz_load("", NULL, 0));
	assert_int_equal(entry.mode, LOADER_ENTRY_PROTECTED32);
	assert_int_equal(entry.rip, BZ_PREF);
	assert_int_equal(entry.rsi, ZP);
	assert_int_equal(entry.rbx, 0);
	assert_int_equal(entry.cr3, 0);
	expect_gdt(false);
	expect_fill(0x2000, POISON, 0x6000); /* no page tables in 32-bit mode */
	/* no initrd, no RSDP, empty command line */
	expect_zero_page(BZ_PREF, 0, 0, 0);
	assert_int_equal(*gp(CMDLINE, 1), 0);
	fake_ram_free(&ram.fake);
}

static void test_bz_e820_high(void **state)
{
	(void)state;
	ram_new(RAM_LOW_DEFAULT, true);
	bz_build();
	load_ok(bz_load(NULL, NULL, 0xf0000));
	assert_int_equal(rd(ZP + BP_E820_ENTRIES, 1), 5);
	expect_zero_page(BZ_PREF, 0, 0, 0xf0000);
	fake_ram_free(&ram.fake);
}

static void test_e820_direct(void **state)
{
	struct loader_e820_entry map[LOADER_E820_MAX];
	struct e820 e[8];
	struct guest_mem m = { 0 };
	u32 n;
	int rc;

	(void)state;
	ram_new(RAM_LOW_DEFAULT, true);
	n = expected_e820(e);
	rc = loader_e820(&ram.mem, map, LOADER_E820_MAX, err, sizeof(err));
	assert_int_equal(rc, n);
	for (u32 i = 0; i < n; i++) {
		assert_int_equal(map[i].addr, e[i].addr);
		assert_int_equal(map[i].size, e[i].size);
		assert_int_equal(map[i].type, e[i].type);
	}
	/* too little room */
	expect_error(loader_e820(&ram.mem, map, 3, err, sizeof(err)), "entries");
	/* layouts the partition code must never hand over (nothing is touched) */
	m.ptr = fake_ram_ptr;
	m.region_count = 1;
	m.regions[0].gpa = 0x100000;
	m.regions[0].size = 64 * MiB;
	expect_error(loader_e820(&m, map, LOADER_E820_MAX, err, sizeof(err)), "start at 0");
	m.regions[0].gpa = 0;
	m.regions[0].size = 0x100000;
	expect_error(loader_e820(&m, map, LOADER_E820_MAX, err, sizeof(err)), "1 MiB");
	m.regions[0].size = PLAT_ECAM_BASE + 0x1000;
	expect_error(loader_e820(&m, map, LOADER_E820_MAX, err, sizeof(err)), "overlaps");
	m.regions[0].size = 64 * MiB;
	m.region_count = 2;
	m.regions[1].gpa = PLAT_ECAM_BASE;
	m.regions[1].size = 2 * MiB;
	expect_error(loader_e820(&m, map, LOADER_E820_MAX, err, sizeof(err)), "overlaps");
	m.region_count = 0;
	expect_error(loader_e820(&m, map, LOADER_E820_MAX, err, sizeof(err)), "start at 0");
	fake_ram_free(&ram.fake);
}

/* ---- bzImage: placement rules ---- */

static void test_bz_initrd_addr_max(void **state)
{
	struct loader_module m = initrd_mod(0x1000);
	u64 kernel_end = BZ_PREF + BZ_INIT_SIZE;

	(void)state;
	/* below initrd_addr_max (the highest byte it may occupy) */
	ram_new(RAM_LOW_DEFAULT, false);
	bz_build();
	put32(bz, H_INITRD_ADDR_MAX, 32 * MiB - 1);
	load_ok(bz_load(NULL, &m, 0));
	assert_int_equal(rd(ZP + H_RAMDISK_IMAGE, 4), 32 * MiB - 0x1000);
	assert_int_equal(rd(ZP + H_RAMDISK_SIZE, 4), 0x1000);
	expect_bytes(32 * MiB - 0x1000, initrd_data, 0x1000);

	/* an unaligned limit: the start is rounded down to a page */
	put32(bz, H_INITRD_ADDR_MAX, 32 * MiB + 0x7ff);
	m.len = 0x900;
	load_ok(bz_load(NULL, &m, 0));
	assert_int_equal(rd(ZP + H_RAMDISK_IMAGE, 4), 32 * MiB - 0x1000);
	assert_int_equal(rd(ZP + H_RAMDISK_SIZE, 4), 0x900);

	/* just fits above init_size; one byte more does not */
	put32(bz, H_INITRD_ADDR_MAX, kernel_end + 0x1000 - 1);
	m.len = 0x1000;
	load_ok(bz_load(NULL, &m, 0));
	assert_int_equal(rd(ZP + H_RAMDISK_IMAGE, 4), kernel_end);
	m.len = 0x1001;
	expect_error(bz_load(NULL, &m, 0), "does not fit");

	/* RAM below initrd_addr_max bounds it too */
	put32(bz, H_INITRD_ADDR_MAX, 0xffffffff);
	m.len = 0x1000;
	load_ok(bz_load(NULL, &m, 0));
	assert_int_equal(rd(ZP + H_RAMDISK_IMAGE, 4), RAM_LOW_DEFAULT - 0x1000);

	/* an empty initrd is no initrd */
	m.len = 0;
	load_ok(bz_load(NULL, &m, 0));
	assert_int_equal(rd(ZP + H_RAMDISK_IMAGE, 4), 0);
	assert_int_equal(rd(ZP + H_RAMDISK_SIZE, 4), 0);
	fake_ram_free(&ram.fake);
}

static void test_bz_initrd_too_big(void **state)
{
	static u8 big[48 * MiB];
	struct loader_module m = { big, sizeof(big), "big" };

	(void)state;
	ram_new(RAM_LOW_DEFAULT, false);
	bz_build();
	expect_error(bz_load(NULL, &m, 0), "initrd big");
	/* the limit is RAM minus the kernel's init_size: 40 MiB fits */
	m.len = RAM_LOW_DEFAULT - BZ_PREF - BZ_INIT_SIZE;
	load_ok(bz_load(NULL, &m, 0));
	assert_int_equal(rd(ZP + H_RAMDISK_IMAGE, 4), BZ_PREF + BZ_INIT_SIZE);
	m.len++;
	expect_error(bz_load(NULL, &m, 0), "does not fit");
	fake_ram_free(&ram.fake);
}

static void test_bz_kernel_fit(void **state)
{
	(void)state;
	bz_build();
	/* exactly enough RAM for pref_address + init_size */
	ram_new(BZ_PREF + BZ_INIT_SIZE, false);
	load_ok(bz_load(NULL, NULL, 0));
	ram_new(BZ_PREF + BZ_INIT_SIZE - 4096, false);
	expect_error(bz_load(NULL, NULL, 0), "needs RAM up to 0x1800000");

	/* a relocatable kernel at an unaligned pref_address runs at the next
	 * kernel_alignment boundary (boot.rst, init_size) */
	put64(bz, H_PREF_ADDRESS, BZ_PREF + 0x100000);
	ram_new(BZ_PREF + BZ_ALIGN + BZ_INIT_SIZE, false);
	load_ok(bz_load(NULL, NULL, 0));
	assert_int_equal(entry.rip, BZ_PREF + 0x100000 + 0x200);
	expect_bytes(BZ_PREF + 0x100000, bz + BZ_SETUP_SIZE, BZ_KERNEL_SIZE);
	ram_new(BZ_PREF + BZ_ALIGN + BZ_INIT_SIZE - 4096, false);
	expect_error(bz_load(NULL, NULL, 0), "needs RAM");

	/* not relocatable: runs where it is, at pref_address */
	bz[H_RELOCATABLE] = 0;
	ram_new(BZ_PREF + 0x100000 + BZ_INIT_SIZE, false);
	load_ok(bz_load(NULL, NULL, 0));
	assert_int_equal(entry.rip, BZ_PREF + 0x100000 + 0x200);

	/* huge init_size */
	bz_build();
	put32(bz, H_INIT_SIZE, 0xfff00000);
	ram_new(RAM_LOW_DEFAULT, false);
	expect_error(bz_load(NULL, NULL, 0), "needs RAM");
	fake_ram_free(&ram.fake);
}

static void test_bz_cmdline(void **state)
{
	char line[2100];

	(void)state;
	ram_new(RAM_LOW_DEFAULT, false);
	bz_build();
	put32(bz, H_CMDLINE_SIZE, 16);
	memset(line, 'x', sizeof(line));
	line[16] = 0;
	load_ok(bz_load(line, NULL, 0));
	assert_string_equal((const char *)gp(CMDLINE, 17), line);
	assert_int_equal(rd(ZP + H_CMD_LINE_PTR, 4), CMDLINE);
	line[16] = 'y';
	line[17] = 0;
	expect_error(bz_load(line, NULL, 0), "command line has 17 characters");
	/* Debian's 2047 */
	put32(bz, H_CMDLINE_SIZE, 2047);
	memset(line, 'x', sizeof(line));
	line[2047] = 0;
	load_ok(bz_load(line, NULL, 0));
	assert_int_equal(strlen((const char *)gp(CMDLINE, 2048)), 2047);
	line[2047] = 'x';
	line[2048] = 0;
	expect_error(bz_load(line, NULL, 0), "at most 2047");
	/* a kernel claiming more than the area holds is held to the area */
	put32(bz, H_CMDLINE_SIZE, 0xffffffff);
	{
		char *huge = malloc(LINUX_CMDLINE_AREA + 1);

		assert_non_null(huge);
		memset(huge, 'z', LINUX_CMDLINE_AREA);
		huge[LINUX_CMDLINE_AREA] = 0;
		expect_error(bz_load(huge, NULL, 0), "command line");
		huge[LINUX_CMDLINE_AREA - 1] = 0;
		load_ok(bz_load(huge, NULL, 0));
		free(huge);
	}
	fake_ram_free(&ram.fake);
}

/* ---- bzImage: malformed ---- */

struct bz_case {
	const char *name;
	void (*mutate)(void);
	const char *message;
};

/* clang-format off */
static void m_no_magic(void) { memcpy(bz + H_MAGIC, "HdrT", 4); }
static void m_old(void) { put16(bz, H_VERSION, 0x020b); }
static void m_no_jump(void) { bz[H_JUMP] = 0xe9; }
static void m_short_hdr(void) { bz[H_JUMP + 1] = 0x50; }
static void m_long_hdr(void) { bz[H_JUMP + 1] = 0x90; }
static void m_setup_past_end(void) { bz[H_SETUP_SECTS] = 200; }
static void m_truncated(void) { put32(bz, H_SYSSIZE, BZ_KERNEL_SIZE / 16 + 1); }
static void m_no_syssize(void) { put32(bz, H_SYSSIZE, 0); }
static void m_zimage(void) { bz[H_LOADFLAGS] = 0; }
static void m_payload_out(void) { put32(bz, H_PAYLOAD_LENGTH, BZ_KERNEL_SIZE); }
static void m_no_payload(void) { put32(bz, H_PAYLOAD_LENGTH, 0); }
static void m_payload_wrap(void)
{
	put32(bz, H_PAYLOAD_OFFSET, 0xfffffff0);
	put32(bz, H_PAYLOAD_LENGTH, 0x100);
}
static void m_small_init(void) { put32(bz, H_INIT_SIZE, BZ_KERNEL_SIZE - 16); }
static void m_bad_align(void) { put32(bz, H_KERNEL_ALIGNMENT, 0x300000); }
static void m_zero_align(void) { put32(bz, H_KERNEL_ALIGNMENT, 0); }
static void m_low_pref(void) { put64(bz, H_PREF_ADDRESS, 0x80000); }
static void m_pref_past_ram(void) { put64(bz, H_PREF_ADDRESS, 0x7fe00000); }
static void m_pref_huge(void) { put64(bz, H_PREF_ADDRESS, ~0ULL - 0xfff); }
/* clang-format on */

static const struct bz_case bz_cases[] = {
	{ "no HdrS", m_no_magic, "HdrS" },
	{ "protocol 2.11", m_old, "2.11 is too old" },
	{ "no jump", m_no_jump, "short jump" },
	{ "header too short", m_short_hdr, "setup header ends at 0x252" },
	{ "header too long", m_long_hdr, "setup header ends at 0x292" },
	{ "setup_sects past the file", m_setup_past_end, "setup code (200 sectors)" },
	{ "truncated kernel", m_truncated, "truncated" },
	{ "syssize 0", m_no_syssize, "syssize 0" },
	{ "zImage", m_zimage, "zImage" },
	{ "payload outside", m_payload_out, "payload" },
	{ "no payload", m_no_payload, "payload" },
	{ "payload offset wraps", m_payload_wrap, "payload" },
	{ "init_size too small", m_small_init, "init_size" },
	{ "alignment not a power of 2", m_bad_align, "power of two" },
	{ "alignment 0", m_zero_align, "power of two" },
	{ "pref_address below 1 MiB", m_low_pref, "load address 0x80000" },
	{ "pref_address past RAM", m_pref_past_ram, "load address" },
	{ "pref_address wraps", m_pref_huge, "load address" },
};

static void test_bz_malformed(void **state)
{
	(void)state;
	ram_new(RAM_LOW_DEFAULT, false);
	for (u32 i = 0; i < ARRAY_SIZE(bz_cases); i++) {
		int rc;

		bz_build();
		bz_cases[i].mutate();
		rc = bz_load(NULL, NULL, 0);
		if (rc >= 0 || !strstr(err, bz_cases[i].message))
			fail_msg("case \"%s\": rc %d, error \"%s\", want \"%s\"", bz_cases[i].name,
				 rc, err, bz_cases[i].message);
	}
	/* probe: only the magic */
	bz_build();
	assert_true(linux_probe(bz, bz_len));
	assert_true(linux_probe(bz, 0x206));
	assert_false(linux_probe(bz, 0x205));
	m_no_magic();
	assert_false(linux_probe(bz, bz_len));
	fake_ram_free(&ram.fake);
}

/* Every shorter file fails cleanly; ASan checks no byte past len is read. */
static void test_bz_truncations(void **state)
{
	(void)state;
	ram_new(RAM_LOW_DEFAULT, false);
	bz_build();
	for (u64 len = 0; len < bz_len; len += len < 0x400 || len > bz_len - 64 ? 1 : 61) {
		int rc = bz_load_len(len, "x", NULL, 0);

		if (rc >= 0 || !err[0])
			fail_msg("a file cut to %llu bytes loaded (rc %d)", (unsigned long long)len,
				 rc);
	}
	/* a longer file (a signature appended) loads the same kernel */
	bz_len += 512;
	load_ok(bz_load(NULL, NULL, 0));
	expect_bytes(BZ_PREF, bz + BZ_SETUP_SIZE, BZ_KERNEL_SIZE);
	expect_fill(BZ_PREF + BZ_KERNEL_SIZE, POISON, 512);
	fake_ram_free(&ram.fake);
}

/* ---- PVH: synthetic ELF64 vmlinux ---- */

#define ELF_MAX 0x4000
#define SEG1_OFF 0x400
#define SEG1_FILESZ 0x1000
#define SEG1_MEMSZ 0x3000
#define SEG1_PADDR (16 * MiB)
#define SEG2_OFF 0x1400
#define SEG2_SZ 0x800
#define SEG2_PADDR (20 * MiB)
#define NOTE_OFF 0x200
#define PVH_ENTRY (SEG1_PADDR + 0x40)
#define PHNUM 3
#define PH(i) (64 + (i) * 56)
#define START_INFO ZP

static u8 elf[ELF_MAX];
static u64 elf_len;
static u64 entry_note_desc; /* file offset of the PHYS32_ENTRY value */

static u64 note(u64 at, const char *name, u32 type, const void *desc, u32 descsz)
{
	u32 namesz = (u32)strlen(name) + 1;

	put32(elf, at, namesz);
	put32(elf, at + 4, descsz);
	put32(elf, at + 8, type);
	memcpy(elf + at + 12, name, namesz);
	at += 12 + ALIGN_UP(namesz, 4);
	memcpy(elf + at, desc, descsz);
	return at + ALIGN_UP(descsz, 4);
}

/* Like Linux 6.1's vmlinux: notes from GNU and Xen, the entry 8 bytes
 * wide (desc64) or 4 (later kernels). */
static void elf_build(bool desc64)
{
	u8 build_id[20];
	u64 at, v = PVH_ENTRY;

	memset(elf, 0, sizeof(elf));
	put32(elf, 0, 0x464c457f);
	elf[4] = 2;		      /* ELFCLASS64 */
	elf[5] = 1;		      /* little-endian */
	elf[6] = 1;
	put16(elf, 16, 2);	      /* ET_EXEC */
	put16(elf, 18, 62);	      /* EM_X86_64 */
	put32(elf, 20, 1);
	put64(elf, 24, 0xffffffff81000000ULL); /* virtual entry: unused */
	put64(elf, 32, 64);	      /* e_phoff */
	put16(elf, 52, 64);
	put16(elf, 54, 56);	      /* e_phentsize */
	put16(elf, 56, PHNUM);
	/* PT_LOAD text + bss */
	put32(elf, PH(0), 1);
	put64(elf, PH(0) + 8, SEG1_OFF);
	put64(elf, PH(0) + 16, 0xffffffff81000000ULL);
	put64(elf, PH(0) + 24, SEG1_PADDR);
	put64(elf, PH(0) + 32, SEG1_FILESZ);
	put64(elf, PH(0) + 40, SEG1_MEMSZ);
	/* PT_LOAD data */
	put32(elf, PH(1), 1);
	put64(elf, PH(1) + 8, SEG2_OFF);
	put64(elf, PH(1) + 16, 0xffffffff81400000ULL);
	put64(elf, PH(1) + 24, SEG2_PADDR);
	put64(elf, PH(1) + 32, SEG2_SZ);
	put64(elf, PH(1) + 40, SEG2_SZ);
	/* PT_NOTE */
	fill_pattern(build_id, sizeof(build_id), 3);
	at = note(NOTE_OFF, "GNU", 3, build_id, sizeof(build_id));
	at = note(at, "Xen", 6, "linux", 6);	/* XEN_ELFNOTE_GUEST_OS */
	entry_note_desc = at + 12 + 4;
	at = note(at, "Xen", 18, &v, desc64 ? 8 : 4);
	at = note(at, "Linux", 0x100, "x", 2);
	put32(elf, PH(2), 4);
	put64(elf, PH(2) + 8, NOTE_OFF);
	put64(elf, PH(2) + 32, at - NOTE_OFF);
	put64(elf, PH(2) + 40, at - NOTE_OFF);
	assert_true(at <= SEG1_OFF);
	fill_pattern(elf + SEG1_OFF, SEG1_FILESZ, 0x21);
	fill_pattern(elf + SEG2_OFF, SEG2_SZ, 0x43);
	elf_len = SEG2_OFF + SEG2_SZ;
}

static int pvh_load_len(u64 len, const char *cmdline, const struct loader_module *initrd,
			u64 rsdp)
{
	u8 *img = exact(elf, len);
	int rc;

	memset(&entry, 0, sizeof(entry));
	memset(err, 0, sizeof(err));
	rc = pvh_load(img, len, cmdline, initrd, rsdp, &ram.mem, &entry, err, sizeof(err));
	free(img);
	return rc;
}

static int pvh_load_elf(const char *cmdline, const struct loader_module *initrd, u64 rsdp)
{
	return pvh_load_len(elf_len, cmdline, initrd, rsdp);
}

/* start_info.h, written out */
#define SI_MAGIC 0
#define SI_VERSION 4
#define SI_FLAGS 8
#define SI_NR_MODULES 12
#define SI_MODLIST 16
#define SI_CMDLINE 24
#define SI_RSDP 32
#define SI_MEMMAP 40
#define SI_MEMMAP_ENTRIES 48
#define SI_RESERVED 52

static void expect_start_info(u64 initrd_gpa, u64 initrd_len, u64 rsdp)
{
	struct e820 e[8];
	u32 n = expected_e820(e);
	u64 mm, ml;

	assert_int_equal(rd(START_INFO + SI_MAGIC, 4), 0x336ec578);
	assert_int_equal(rd(START_INFO + SI_VERSION, 4), 1);
	assert_int_equal(rd(START_INFO + SI_FLAGS, 4), 0);
	assert_int_equal(rd(START_INFO + SI_RSDP, 8), rsdp);
	assert_int_equal(rd(START_INFO + SI_RESERVED, 4), 0);
	assert_string_equal((const char *)gp(rd(START_INFO + SI_CMDLINE, 8), 1),
			    (const char *)gp(CMDLINE, 1));
	assert_int_equal(rd(START_INFO + SI_MEMMAP_ENTRIES, 4), n);
	mm = rd(START_INFO + SI_MEMMAP, 8);
	assert_true(mm && mm + n * 24 <= 0x9fc00);
	for (u32 i = 0; i < n; i++) {
		assert_int_equal(rd(mm + i * 24, 8), e[i].addr);
		assert_int_equal(rd(mm + i * 24 + 8, 8), e[i].size);
		assert_int_equal(rd(mm + i * 24 + 16, 4), e[i].type);
		assert_int_equal(rd(mm + i * 24 + 20, 4), 0);
	}
	if (!initrd_len) {
		assert_int_equal(rd(START_INFO + SI_NR_MODULES, 4), 0);
		assert_int_equal(rd(START_INFO + SI_MODLIST, 8), 0);
		return;
	}
	assert_int_equal(rd(START_INFO + SI_NR_MODULES, 4), 1);
	ml = rd(START_INFO + SI_MODLIST, 8);
	assert_true(ml && ml + 32 <= 0x9fc00);
	assert_int_equal(rd(ml, 8), initrd_gpa);
	assert_int_equal(rd(ml + 8, 8), initrd_len);
	assert_int_equal(rd(ml + 16, 8), 0); /* no module command line */
	assert_int_equal(rd(ml + 24, 8), 0);
	/* nothing overlaps: start info, module list, memory map, command line */
	assert_true(START_INFO + 56 <= ml || ml + 32 <= START_INFO);
	assert_true(ml + 32 <= mm || mm + n * 24 <= ml);
	assert_true(mm + n * 24 <= CMDLINE || START_INFO >= CMDLINE + 4096);
}

static void test_pvh_load(void **state)
{
	struct loader_module m = initrd_mod(sizeof(initrd_data));
	u64 initrd_gpa = (RAM_LOW_DEFAULT - sizeof(initrd_data)) & ~0xfffULL;

	(void)state;
	for (int desc64 = 0; desc64 < 2; desc64++) {
		ram_new(RAM_LOW_DEFAULT, desc64);
		elf_build(desc64);
		load_ok(pvh_load_elf("console=hvc0 root=/dev/vda", &m, 0xe0000));

		assert_int_equal(entry.mode, LOADER_ENTRY_PROTECTED32);
		assert_int_equal(entry.rip, PVH_ENTRY);
		assert_int_equal(entry.rbx, START_INFO);
		assert_int_equal(entry.rsi, 0);
		assert_int_equal(entry.rax, 0);
		assert_int_equal(entry.cr3, 0);
		expect_gdt(false);

		/* segments at p_paddr, bss zeroed, nothing beyond */
		expect_bytes(SEG1_PADDR, elf + SEG1_OFF, SEG1_FILESZ);
		expect_fill(SEG1_PADDR + SEG1_FILESZ, 0, SEG1_MEMSZ - SEG1_FILESZ);
		expect_fill(SEG1_PADDR + SEG1_MEMSZ, POISON, 4096);
		expect_bytes(SEG2_PADDR, elf + SEG2_OFF, SEG2_SZ);
		expect_fill(SEG2_PADDR + SEG2_SZ, POISON, 4096);

		expect_bytes(initrd_gpa, initrd_data, sizeof(initrd_data));
		assert_string_equal((const char *)gp(CMDLINE, 30), "console=hvc0 root=/dev/vda");
		expect_start_info(initrd_gpa, sizeof(initrd_data), 0xe0000);
	}
	/* no initrd, no RSDP */
	ram_new(RAM_LOW_DEFAULT, false);
	elf_build(true);
	load_ok(pvh_load_elf(NULL, NULL, 0));
	expect_start_info(0, 0, 0);
	assert_true(pvh_probe(elf, elf_len));
	fake_ram_free(&ram.fake);
}

static void test_pvh_initrd(void **state)
{
	static u8 big[48 * MiB];
	struct loader_module m = { big, 0, "big" };
	u64 room = RAM_LOW_DEFAULT - (SEG2_PADDR + SEG2_SZ);

	(void)state;
	ram_new(RAM_LOW_DEFAULT, false);
	elf_build(true);
	/* right after the highest segment, page aligned, at the most */
	m.len = ALIGN_DOWN(room, 4096);
	load_ok(pvh_load_elf(NULL, &m, 0));
	assert_int_equal(rd(rd(START_INFO + SI_MODLIST, 8), 8),
			 ALIGN_UP(SEG2_PADDR + SEG2_SZ, 4096));
	m.len += 1;
	expect_error(pvh_load_elf(NULL, &m, 0), "does not fit");
	fake_ram_free(&ram.fake);
}

static void test_pvh_cmdline(void **state)
{
	char line[2100];

	(void)state;
	ram_new(RAM_LOW_DEFAULT, false);
	elf_build(true);
	memset(line, 'c', sizeof(line));
	line[2047] = 0;
	load_ok(pvh_load_elf(line, NULL, 0));
	assert_int_equal(strlen((const char *)gp(CMDLINE, 2048)), 2047);
	line[2047] = 'c';
	line[2048] = 0;
	expect_error(pvh_load_elf(line, NULL, 0), "command line has 2048 characters");
	fake_ram_free(&ram.fake);
}

struct pvh_case {
	const char *name;
	void (*mutate)(void);
	const char *message;
};

/* clang-format off */
static void p_not_elf(void) { elf[0] = 'M'; }
static void p_elf32(void) { elf[4] = 1; }
static void p_big_endian(void) { elf[5] = 2; }
static void p_i386(void) { put16(elf, 18, 3); }
static void p_dyn(void) { put16(elf, 16, 3); }
static void p_phentsize(void) { put16(elf, 54, 32); }
static void p_phoff(void) { put64(elf, 32, elf_len - 100); }
static void p_phoff_huge(void) { put64(elf, 32, ~0ULL - 8); }
static void p_no_phdrs(void) { put16(elf, 56, 0); }
static void p_no_note(void) { put32(elf, PH(2), 6); /* PT_PHDR */ }
static void p_wrong_name(void) { elf[entry_note_desc - 4 + 2] = 'm'; /* "Xem" */ }
static void p_wrong_type(void) { put32(elf, entry_note_desc - 8, 17); }
static void p_desc_size(void) { put32(elf, entry_note_desc - 12, 2); }
static void p_desc_huge(void) { put32(elf, entry_note_desc - 12, 0xfffffff0); }
static void p_name_huge(void) { put32(elf, entry_note_desc - 16, 0xffffffff); }
static void p_entry_high(void) { put64(elf, entry_note_desc, 0x100000000ULL); }
static void p_entry_outside(void) { put64(elf, entry_note_desc, SEG1_PADDR + SEG1_MEMSZ); }
static void p_note_outside(void) { put64(elf, PH(2) + 32, elf_len); }
static void p_seg_past_ram(void) { put64(elf, PH(1) + 24, RAM_LOW_DEFAULT - 0x400); }
static void p_seg_low(void) { put64(elf, PH(1) + 24, 0x8000); }
static void p_seg_hole(void) { put64(elf, PH(1) + 24, 0xff000); }
static void p_seg_wrap(void) { put64(elf, PH(1) + 24, ~0ULL - 0x100); }
static void p_seg_file(void) { put64(elf, PH(1) + 32, SEG2_SZ + 1); put64(elf, PH(1) + 40, SEG2_SZ + 1); }
static void p_seg_off(void) { put64(elf, PH(1) + 8, ~0ULL - 0x10); }
static void p_filesz_memsz(void) { put64(elf, PH(1) + 40, SEG2_SZ - 1); }
/* clang-format on */
static void p_no_load(void)
{
	put32(elf, PH(0), 0);
	put32(elf, PH(1), 0);
}

static const struct pvh_case pvh_cases[] = {
	{ "not ELF", p_not_elf, "not an ELF file" },
	{ "ELF32", p_elf32, "class 1" },
	{ "big-endian", p_big_endian, "little-endian" },
	{ "i386", p_i386, "machine 3" },
	{ "ET_DYN", p_dyn, "type 3" },
	{ "phentsize", p_phentsize, "program headers" },
	{ "phdrs past the end", p_phoff, "program headers" },
	{ "phoff wraps", p_phoff_huge, "program headers" },
	{ "no phdrs", p_no_phdrs, "program headers" },
	{ "no PT_NOTE", p_no_note, "no PVH entry" },
	{ "note not from Xen", p_wrong_name, "no PVH entry" },
	{ "another Xen note", p_wrong_type, "no PVH entry" },
	{ "2-byte entry", p_desc_size, "holds 2 bytes" },
	{ "descsz runs past", p_desc_huge, "runs past" },
	{ "namesz runs past", p_name_huge, "runs past" },
	{ "entry above 4 GiB", p_entry_high, "not a 32-bit address" },
	{ "entry outside segments", p_entry_outside, "not inside a loaded segment" },
	{ "note segment outside the file", p_note_outside, "note segment 2" },
	{ "segment past RAM", p_seg_past_ram, "segment 1" },
	{ "segment below 1 MiB", p_seg_low, "outside the partition's RAM" },
	{ "segment in the BIOS hole", p_seg_hole, "outside the partition's RAM" },
	{ "segment wraps", p_seg_wrap, "outside the partition's RAM" },
	{ "segment past the file", p_seg_file, "lies outside the file" },
	{ "segment offset wraps", p_seg_off, "lies outside the file" },
	{ "filesz > memsz", p_filesz_memsz, "more bytes in the file" },
	{ "nothing to load", p_no_load, "nothing to load" },
};

static void test_pvh_malformed(void **state)
{
	(void)state;
	ram_new(RAM_LOW_DEFAULT, false);
	for (u32 i = 0; i < ARRAY_SIZE(pvh_cases); i++) {
		int rc;

		elf_build(true);
		pvh_cases[i].mutate();
		rc = pvh_load_elf(NULL, NULL, 0);
		if (rc >= 0 || !strstr(err, pvh_cases[i].message))
			fail_msg("case \"%s\": rc %d, error \"%s\", want \"%s\"",
				 pvh_cases[i].name, rc, err, pvh_cases[i].message);
	}
	elf_build(true);
	assert_false(pvh_probe(elf, 63));
	p_elf32();
	assert_false(pvh_probe(elf, elf_len));
	fake_ram_free(&ram.fake);
}

static void test_pvh_truncations(void **state)
{
	(void)state;
	ram_new(RAM_LOW_DEFAULT, false);
	elf_build(true);
	for (u64 len = 0; len < elf_len; len++) {
		int rc = pvh_load_len(len, NULL, NULL, 0);

		if (rc >= 0 || !err[0])
			fail_msg("a file cut to %llu bytes loaded (rc %d)", (unsigned long long)len,
				 rc);
	}
	fake_ram_free(&ram.fake);
}

/* ---- a real Debian kernel, when one is there ---- */

static u8 *read_file(const char *path, u64 *len)
{
	FILE *f = fopen(path, "rb");
	u8 *p;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = malloc(n > 0 ? (size_t)n : 1);
	if (!p || n <= 0 || fread(p, 1, (size_t)n, f) != (size_t)n) {
		free(p);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = (u64)n;
	return p;
}

/* The repository: this binary is ROOT/build/unit/NAME (else the current
 * directory is taken). */
static void repo_root(char *root, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", root, size - 1);
	char *at;

	root[n > 0 ? n : 0] = 0;
	at = n > 0 ? strstr(root, "/build/unit/") : NULL;
	if (at)
		*at = 0;
	else
		snprintf(root, size, ".");
}

/* The first file matching one of patterns, under the repository (after
 * the file the environment names). */
static u8 *find_kernel(const char *env, const char *const *patterns, char *path, size_t size,
		       u64 *len)
{
	const char *e = getenv(env);
	char root[400];

	if (e && e[0]) {
		snprintf(path, size, "%s", e);
		return read_file(path, len);
	}
	repo_root(root, sizeof(root));
	for (const char *const *pat = patterns; *pat; pat++) {
		char full[512];
		glob_t g;
		u8 *p = NULL;

		snprintf(full, sizeof(full), "%s/%s", root, *pat);
		if (glob(full, 0, NULL, &g) == 0 && g.gl_pathc) {
			snprintf(path, size, "%s", g.gl_pathv[0]);
			p = read_file(path, len);
		}
		globfree(&g);
		if (p)
			return p;
	}
	return NULL;
}

#define REAL_RAM (256 * MiB)

static void test_real_bzimage(void **state)
{
	static const char *const patterns[] = {
		"build/linux/vmlinuz*", "build/linux/bzImage*", "build/linux/boot/vmlinuz-*",
		"build/linux/*/boot/vmlinuz-*", NULL,
	};
	struct loader_module m = initrd_mod(sizeof(initrd_data));
	char path[512];
	u64 len = 0, pref, init_size, setup, kernel;
	u8 *img = find_kernel("TESSERA_BZIMAGE", patterns, path, sizeof(path), &len);
	int rc;

	(void)state;
	if (!img) {
		print_message("no Debian bzImage under build/linux/ (nor $TESSERA_BZIMAGE): "
			      "the real-kernel case is skipped\n");
		skip();
	}
	print_message("loading %s (%llu bytes)\n", path, (unsigned long long)len);
	ram_new(REAL_RAM, false);
	assert_true(linux_probe(img, len));
	rc = linux_load(img, len, "console=ttyS0", &m, 0xe0000, &ram.mem, &entry, err,
			sizeof(err));
	if (rc)
		fail_msg("%s: %s", path, err);
	pref = get64(img, H_PREF_ADDRESS);
	init_size = get32(img, H_INIT_SIZE);
	setup = ((img[H_SETUP_SECTS] ? img[H_SETUP_SECTS] : 4) + 1) * 512ULL;
	kernel = get32(img, H_SYSSIZE) * 16ULL;
	assert_true((get32(img, H_VERSION) & 0xffff) >= 0x020c);
	assert_int_equal(entry.mode, LOADER_ENTRY_LONG64);
	assert_int_equal(entry.rip, pref + 0x200);
	assert_true(IS_ALIGNED(pref, get32(img, H_KERNEL_ALIGNMENT)));
	expect_bytes(pref, img + setup, kernel);
	assert_true(rd(ZP + H_RAMDISK_IMAGE, 4) >= pref + init_size);
	assert_int_equal(rd(ZP + H_RAMDISK_IMAGE, 4) & 0xfff, 0);
	assert_int_equal(rd(ZP + H_VERSION, 2), get32(img, H_VERSION) & 0xffff);
	assert_int_equal(rd(ZP + BP_ACPI_RSDP, 8), 0xe0000);
	expect_identity(pref + init_size - 1);
	/* the header fields the kernel only reads are the image's */
	expect_bytes(ZP + H_XLOADFLAGS, img + H_XLOADFLAGS, 2);
	expect_bytes(ZP + H_PAYLOAD_OFFSET, img + H_PAYLOAD_OFFSET, 8);
	expect_bytes(ZP + H_INIT_SIZE, img + H_INIT_SIZE, 4);
	free(img);
	fake_ram_free(&ram.fake);
}

static void test_real_vmlinux(void **state)
{
	static const char *const patterns[] = {
		"build/linux/vmlinux", "build/linux/vmlinux-*", "build/linux/*/vmlinux", NULL,
	};
	struct loader_module m = initrd_mod(sizeof(initrd_data));
	char path[512];
	u64 len = 0;
	u8 *img = find_kernel("TESSERA_VMLINUX", patterns, path, sizeof(path), &len);
	int rc;

	(void)state;
	if (!img) {
		print_message("no vmlinux under build/linux/ (nor $TESSERA_VMLINUX; "
			      "tools/extract-vmlinux.py makes one): the real-kernel case is "
			      "skipped\n");
		skip();
	}
	print_message("loading %s (%llu bytes)\n", path, (unsigned long long)len);
	ram_new(REAL_RAM, false);
	assert_true(pvh_probe(img, len));
	rc = pvh_load(img, len, "console=ttyS0", &m, 0xe0000, &ram.mem, &entry, err,
		      sizeof(err));
	if (rc)
		fail_msg("%s: %s", path, err);
	print_message("PVH entry %#llx\n", (unsigned long long)entry.rip);
	assert_int_equal(entry.mode, LOADER_ENTRY_PROTECTED32);
	assert_true(entry.rip >= 0x100000 && entry.rip < REAL_RAM);
	assert_int_equal(entry.rbx, START_INFO);
	expect_start_info(rd(rd(START_INFO + SI_MODLIST, 8), 8), sizeof(initrd_data), 0xe0000);
	free(img);
	fake_ram_free(&ram.fake);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bz_load_64),
		cmocka_unit_test(test_bz_load_32),
		cmocka_unit_test(test_bz_e820_high),
		cmocka_unit_test(test_e820_direct),
		cmocka_unit_test(test_bz_initrd_addr_max),
		cmocka_unit_test(test_bz_initrd_too_big),
		cmocka_unit_test(test_bz_kernel_fit),
		cmocka_unit_test(test_bz_cmdline),
		cmocka_unit_test(test_bz_malformed),
		cmocka_unit_test(test_bz_truncations),
		cmocka_unit_test(test_pvh_load),
		cmocka_unit_test(test_pvh_initrd),
		cmocka_unit_test(test_pvh_cmdline),
		cmocka_unit_test(test_pvh_malformed),
		cmocka_unit_test(test_pvh_truncations),
		cmocka_unit_test(test_real_bzimage),
		cmocka_unit_test(test_real_vmlinux),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
