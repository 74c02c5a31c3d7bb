/*
 * hv/loader/linux.c on the host: synthetic bzImages (setup sectors with a
 * header at 0x1f1, a protected-mode kernel with a payload) built here byte
 * by byte, loaded into a fake guest RAM through the struct guest_mem
 * callback, and what the guest would find checked against the
 * specifications (boot.rst, zero-page.rst) with offsets written out here,
 * not taken from the loader. Malformed images must be refused with a
 * message; images are handed over in buffers of their exact size, so
 * AddressSanitizer reports any read past the end. A real Debian kernel
 * under build/linux/ is loaded too when present (or the file named by
 * TESSERA_BZIMAGE). The PVH loader's tests are in test_loader_pvh.c.
 */
#include "tests/unit/test_loader_fakes.h"

#include "hv/loader/linux.h"

/* ---- the specification, written out (boot.rst, zero-page.rst) ---- */

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
	put16(bz, 0x1f2, 1); /* root_flags */
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
	put32(bz, 0x23c, 0); /* hardware_subarch */
	put64(bz, 0x240, 0);
	put32(bz, H_PAYLOAD_OFFSET, 0x2cc);
	put32(bz, H_PAYLOAD_LENGTH, 0x8000);
	put64(bz, H_SETUP_DATA, 0x5000); /* stale: the loader owns it */
	put64(bz, H_PREF_ADDRESS, BZ_PREF);
	put32(bz, H_INIT_SIZE, BZ_INIT_SIZE);
	put32(bz, H_HANDOVER, 0x190);
	put32(bz, 0x268, 0x7000); /* kernel_info_offset */
	fill_pattern(bz + BZ_SETUP_SIZE, BZ_KERNEL_SIZE, 0x5a);
	memcpy(bz + BZ_SETUP_SIZE + 0x2cc,
	       "\xfd"
	       "7zXZ",
	       6);
	bz_len = BZ_SETUP_SIZE + BZ_KERNEL_SIZE;
}

static int bz_load_len(u64 len, const char *cmdline, const struct loader_module *initrd, u64 rsdp)
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
/* found by tests/fuzz/fuzz_loader.c: entered past the loaded kernel */
static void m_entry64_past_kernel(void)
{
	put32(bz, H_SYSSIZE, 0x200 / 16);
	put32(bz, H_PAYLOAD_OFFSET, 0);
	put32(bz, H_PAYLOAD_LENGTH, 0x100);
}
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
	{ "64-bit entry past the kernel", m_entry64_past_kernel, "64-bit entry point (+0x200)" },
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
/* ---- a real Debian kernel, when one is there ---- */

static void test_real_bzimage(void **state)
{
	static const char *const patterns[] = {
		"build/linux/vmlinuz*",
		"build/linux/bzImage*",
		"build/linux/boot/vmlinuz-*",
		"build/linux/*/boot/vmlinuz-*",
		NULL,
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
	rc = linux_load(img, len, "console=ttyS0", &m, 0xe0000, &ram.mem, &entry, err, sizeof(err));
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bz_load_64),	   cmocka_unit_test(test_bz_load_32),
		cmocka_unit_test(test_bz_e820_high),	   cmocka_unit_test(test_e820_direct),
		cmocka_unit_test(test_bz_initrd_addr_max), cmocka_unit_test(test_bz_initrd_too_big),
		cmocka_unit_test(test_bz_kernel_fit),	   cmocka_unit_test(test_bz_cmdline),
		cmocka_unit_test(test_bz_malformed),	   cmocka_unit_test(test_bz_truncations),
		cmocka_unit_test(test_real_bzimage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
