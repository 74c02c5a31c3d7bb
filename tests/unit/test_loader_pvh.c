/*
 * hv/loader/pvh.c on the host: synthetic ELF64 vmlinux files (PT_LOAD
 * segments, a PT_NOTE with Xen notes) built here byte by byte, loaded into
 * a fake guest RAM through the struct guest_mem callback, and what the guest
 * would find checked against the specifications (Xen pvh.pandoc and
 * start_info.h) with offsets written out here, not taken from the loader.
 * Malformed images must be refused with a message; images are handed over
 * in buffers of their exact size, so AddressSanitizer reports any read past
 * the end. A real vmlinux under build/linux/ is loaded too when present (or
 * the file named by TESSERA_VMLINUX).
 */
#include "tests/unit/test_loader_fakes.h"

#include "hv/loader/pvh.h"

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
#define PH(i) (64 + 56 * (i))
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
	elf[4] = 2; /* ELFCLASS64 */
	elf[5] = 1; /* little-endian */
	elf[6] = 1;
	put16(elf, 16, 2);  /* ET_EXEC */
	put16(elf, 18, 62); /* EM_X86_64 */
	put32(elf, 20, 1);
	put64(elf, 24, 0xffffffff81000000ULL); /* virtual entry: unused */
	put64(elf, 32, 64);		       /* e_phoff */
	put16(elf, 52, 64);
	put16(elf, 54, 56); /* e_phentsize */
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
	at = note(at, "Xen", 6, "linux", 6); /* XEN_ELFNOTE_GUEST_OS */
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

static int pvh_load_len(u64 len, const char *cmdline, const struct loader_module *initrd, u64 rsdp)
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
			fail_msg("case \"%s\": rc %d, error \"%s\", want \"%s\"", pvh_cases[i].name,
				 rc, err, pvh_cases[i].message);
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
/* ---- a real Debian vmlinux, when one is there ---- */

static void test_real_vmlinux(void **state)
{
	static const char *const patterns[] = {
		"build/linux/vmlinux",
		"build/linux/vmlinux-*",
		"build/linux/*/vmlinux",
		NULL,
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
	rc = pvh_load(img, len, "console=ttyS0", &m, 0xe0000, &ram.mem, &entry, err, sizeof(err));
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
		cmocka_unit_test(test_pvh_load),	cmocka_unit_test(test_pvh_initrd),
		cmocka_unit_test(test_pvh_cmdline),	cmocka_unit_test(test_pvh_malformed),
		cmocka_unit_test(test_pvh_truncations), cmocka_unit_test(test_real_vmlinux),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
