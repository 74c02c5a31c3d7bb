/*
 * hv/loader/mb1.c on the host: Multiboot1 kernels (ELF32, and the a.out
 * kludge) built here byte by byte, loaded into a fake guest RAM through the
 * struct guest_mem callback, and the Multiboot information the guest would
 * find checked field by field (Multiboot 0.6.96, 3.1-3.3). Every malformed
 * image must be refused with a message. Images are handed over in buffers of
 * their exact size, so AddressSanitizer reports any read past the end.
 */
#include "tests/unit/test_loader_fakes.h"

#include "boot/multiboot.h"
#include "hv/loader/mb1.h"

/* ---- the fake guest RAM (test_loader_fakes.h): 8 MiB at 0 ---- */

#define RAM_LOW_SIZE (8 * MiB)
#define BIOS_HOLE 0x9fc00ULL /* where the guest's e820 hole starts */
#define ONE_MIB 0x100000ULL

/* A NUL-terminated string at guest address gpa, entirely in RAM. */
static const char *gstr(u64 gpa)
{
	u8 *p = gp(gpa, 1);
	u64 room = RAM_LOW_SIZE - gpa;

	if (gpa >= RAM_HIGH_GPA)
		room = RAM_HIGH_GPA + RAM_HIGH_SIZE - gpa;
	if (!memchr(p, 0, room))
		fail_msg("string at %#llx runs off the end of RAM", (unsigned long long)gpa);
	return (const char *)p;
}

/* ---- image building ---- */

#define ELF32_MAGIC 0x464c457f
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ELFDATA2MSB 2
#define EV_CURRENT 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_386 3
#define EM_X86_64 62
#define PT_LOAD 1
#define PT_NOTE 4

#define MB1_FLAG_PAGE_ALIGN BIT(0)
#define MB1_FLAG_MEMINFO BIT(1)
#define MB1_FLAG_VIDEO BIT(2)
#define MB1_FLAG_BIT3 BIT(3) /* undefined "required" bit: must be refused */
#define MB1_FLAG_AOUT BIT(16)

struct t_ehdr {
	u32 magic;
	u8 cls, data, version, osabi, pad[8];
	u16 type, machine;
	u32 version2, entry, phoff, shoff, flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;

struct t_phdr {
	u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __packed;

struct t_mb1_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
} __packed;

#define IMG_MAX 0x10000

struct image {
	u8 buf[IMG_MAX];
	u64 len;
	u64 hoff; /* where the Multiboot header is */
};

static struct image img;

static void img_fill(u64 off, u64 len, u8 seed)
{
	assert_true(off + len <= IMG_MAX);
	for (u64 i = 0; i < len; i++)
		img.buf[off + i] = (u8)(seed + i * 7 + (i >> 8));
	img.len = MAX(img.len, off + len);
}

static struct t_ehdr *ehdr(void)
{
	return (struct t_ehdr *)img.buf;
}

static struct t_phdr *phdr(u32 i)
{
	return (struct t_phdr *)(img.buf + ehdr()->phoff + i * sizeof(struct t_phdr));
}

static struct t_mb1_header *mbh(void)
{
	return (struct t_mb1_header *)(img.buf + img.hoff);
}

/* Makes the header's checksum right again after its flags changed. */
static void mbh_seal(void)
{
	mbh()->checksum = -(mbh()->magic + mbh()->flags);
}

static void mbh_put(u64 off, u32 flags)
{
	img.hoff = off;
	assert_true(off + sizeof(struct t_mb1_header) <= IMG_MAX);
	memset(mbh(), 0, sizeof(struct t_mb1_header));
	mbh()->magic = MB1_HEADER_MAGIC;
	mbh()->flags = flags;
	mbh_seal();
	img.len = MAX(img.len, off + sizeof(struct t_mb1_header));
}

/*
 * The good ELF kernel:
 *   text  PT_LOAD file [0x1000, 0x1800) -> [1 MiB, +0x800), the header first
 *   note  PT_NOTE (must not be loaded: its paddr is 0)
 *   data  PT_LOAD file [0x1800, 0x1900) -> [0x102000, +0x3000), bss after
 *   empty PT_LOAD with memsz 0 (must be ignored)
 * The file ends with the data segment, so that any truncation cuts a segment.
 */
#define ELF_TEXT_OFF 0x1000
#define ELF_TEXT_PA 0x100000
#define ELF_TEXT_SIZE 0x800
#define ELF_DATA_OFF 0x1800
#define ELF_DATA_PA 0x102000
#define ELF_DATA_FILESZ 0x100
#define ELF_DATA_MEMSZ 0x3000
#define ELF_ENTRY (ELF_TEXT_PA + 0x40)
#define ELF_END (ELF_DATA_PA + ELF_DATA_MEMSZ)
#define ELF_PHNUM 4

static void phdr_set(u32 i, u32 type, u32 off, u32 pa, u32 filesz, u32 memsz)
{
	*phdr(i) = (struct t_phdr){ .type = type,
				    .offset = off,
				    .vaddr = pa,
				    .paddr = pa,
				    .filesz = filesz,
				    .memsz = memsz,
				    .flags = 7,
				    .align = 0x1000 };
}

static void build_elf(void)
{
	memset(&img, 0, sizeof(img));
	*ehdr() = (struct t_ehdr){ .magic = ELF32_MAGIC,
				   .cls = ELFCLASS32,
				   .data = ELFDATA2LSB,
				   .version = EV_CURRENT,
				   .type = ET_EXEC,
				   .machine = EM_386,
				   .version2 = EV_CURRENT,
				   .entry = ELF_ENTRY,
				   .phoff = sizeof(struct t_ehdr),
				   .ehsize = sizeof(struct t_ehdr),
				   .phentsize = sizeof(struct t_phdr),
				   .phnum = ELF_PHNUM };
	phdr_set(0, PT_LOAD, ELF_TEXT_OFF, ELF_TEXT_PA, ELF_TEXT_SIZE, ELF_TEXT_SIZE);
	phdr_set(1, PT_NOTE, ELF_TEXT_OFF, 0, 0x10, 0x10);
	phdr_set(2, PT_LOAD, ELF_DATA_OFF, ELF_DATA_PA, ELF_DATA_FILESZ, ELF_DATA_MEMSZ);
	phdr_set(3, PT_LOAD, ELF_DATA_OFF, 0x200, 0, 0);
	img.len = sizeof(struct t_ehdr) + ELF_PHNUM * sizeof(struct t_phdr);
	img_fill(ELF_TEXT_OFF, ELF_TEXT_SIZE, 0x11);
	img_fill(ELF_DATA_OFF, ELF_DATA_FILESZ, 0x5a);
	mbh_put(ELF_TEXT_OFF, MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMINFO);
}

/*
 * The good a.out-kludge kernel: a flat file of 0x2000 bytes loaded at 1 MiB,
 * the header at file offset 0x20, bss up to 0x105000.
 */
#define AOUT_HOFF 0x20
#define AOUT_LOAD 0x100000
#define AOUT_SIZE 0x2000
#define AOUT_BSS_END 0x105000
#define AOUT_ENTRY (AOUT_LOAD + 0x100)

static void build_aout(void)
{
	memset(&img, 0, sizeof(img));
	img_fill(0, AOUT_SIZE, 0x33);
	mbh_put(AOUT_HOFF, MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMINFO | MB1_FLAG_AOUT);
	mbh()->header_addr = AOUT_LOAD + AOUT_HOFF;
	mbh()->load_addr = AOUT_LOAD;
	mbh()->load_end_addr = AOUT_LOAD + AOUT_SIZE;
	mbh()->bss_end_addr = AOUT_BSS_END;
	mbh()->entry_addr = AOUT_ENTRY;
}

/* ---- running the loader ---- */

/* Loads the first len bytes of img from an exactly-sized copy. */
static int load_n(u64 len, const char *cmdline, const struct loader_module *mods, u32 mod_count)
{
	u8 *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, img.buf, len);
	memset(&entry, 0, sizeof(entry));
	memset(err, 0, sizeof(err));
	rc = mb1_load_modules(copy, len, cmdline, mods, mod_count, &ram.mem, &entry, err,
			      sizeof(err));
	free(copy);
	return rc;
}

static int load(const char *cmdline, const struct loader_module *mods, u32 mod_count)
{
	return load_n(img.len, cmdline, mods, mod_count);
}

static void expect_ok(const char *cmdline, const struct loader_module *mods, u32 mod_count)
{
	int rc = load(cmdline, mods, mod_count);

	if (rc)
		fail_msg("load failed (%d): %s", rc, err);
}

static void expect_reject_mods(const char *phrase, const struct loader_module *mods, u32 mod_count)
{
	int rc = load("", mods, mod_count);

	if (rc >= 0)
		fail_msg("malformed image accepted (rc %d); wanted \"%s\"", rc, phrase);
	assert_non_null(memchr(err, 0, sizeof(err)));
	if (!strstr(err, phrase))
		fail_msg("error \"%s\" does not say \"%s\"", err, phrase);
}

static void expect_reject(const char *phrase)
{
	expect_reject_mods(phrase, NULL, 0);
}

static int setup(void **state)
{
	(void)state;
	ram_new(RAM_LOW_SIZE, false);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_ram_free(&ram.fake);
	return 0;
}

/* ---- the information structure ---- */

struct want_mod {
	const char *name;
	const u8 *data;
	u64 len;
};

static const struct mb1_info *info_at(u64 gpa)
{
	assert_true(gpa >= MB1_INFO_GPA && gpa + sizeof(struct mb1_info) <= MB1_INFO_LIMIT);
	return (const struct mb1_info *)gp(gpa, sizeof(struct mb1_info));
}

static void expect_mmap(const struct mb1_info *info, bool high)
{
	const struct {
		u64 addr, len;
		u32 type;
	} want[] = {
		{ 0, BIOS_HOLE, E820_RAM },
		{ BIOS_HOLE, ONE_MIB - BIOS_HOLE, E820_RESERVED },
		{ ONE_MIB, RAM_LOW_SIZE - ONE_MIB, E820_RAM },
		{ RAM_HIGH_GPA, RAM_HIGH_SIZE, E820_RAM },
	};
	u32 n = high ? 4 : 3, i = 0;
	u64 off = 0;

	assert_true(info->flags & MB1_INFO_MMAP);
	assert_int_equal(info->mmap_length, n * sizeof(struct mb1_mmap_entry));
	gp(info->mmap_addr, info->mmap_length);
	/* Multiboot 3.3: size excludes itself; the next entry is size + 4 on */
	while (off < info->mmap_length) {
		const struct mb1_mmap_entry *e =
			(const void *)gp(info->mmap_addr + off, sizeof(*e));

		assert_true(i < n);
		assert_int_equal(e->size, sizeof(*e) - sizeof(e->size));
		if (e->addr != want[i].addr || e->len != want[i].len || e->type != want[i].type)
			fail_msg("mmap entry %u is [%#llx, +%#llx) type %u, want [%#llx, +%#llx) "
				 "type %u",
				 i, (unsigned long long)e->addr, (unsigned long long)e->len,
				 e->type, (unsigned long long)want[i].addr,
				 (unsigned long long)want[i].len, want[i].type);
		off += e->size + sizeof(e->size);
		i++;
	}
	assert_int_equal(i, n);
}

/* Checks the entry state and everything EBX leads to. */
static void expect_info(const char *cmdline, const struct want_mod *mods, u32 mod_count,
			u64 image_end, bool high)
{
	const struct mb1_info *info;
	u64 next = ALIGN_UP(image_end, PAGE_SIZE);

	assert_int_equal(entry.mode, LOADER_ENTRY_PROTECTED32);
	assert_int_equal(entry.rax, MB1_BOOT_MAGIC);
	info = info_at(entry.rbx);
	assert_true(info->flags & MB1_INFO_MEMORY);
	/* Multiboot 3.3: KiB below 640K and from 1 MiB to the first hole */
	assert_int_equal(info->mem_lower, BIOS_HOLE / KiB);
	assert_int_equal(info->mem_upper, (RAM_LOW_SIZE - ONE_MIB) / KiB);
	assert_true(info->flags & MB1_INFO_CMDLINE);
	assert_string_equal(gstr(info->cmdline), cmdline);
	if (info->flags & MB1_INFO_LOADER_NAME)
		assert_string_equal(gstr(info->boot_loader_name), "Tessera");
	expect_mmap(info, high);

	assert_true(info->flags & MB1_INFO_MODS);
	assert_int_equal(info->mods_count, mod_count);
	if (mod_count)
		gp(info->mods_addr, mod_count * sizeof(struct mb1_module));
	for (u32 i = 0; i < mod_count; i++) {
		const struct mb1_module *m =
			(const void *)gp(info->mods_addr + i * sizeof(*m), sizeof(*m));

		/* flag bit 0: page-aligned, after the image, in order */
		assert_int_equal(m->mod_start, next);
		assert_int_equal(m->mod_end, next + mods[i].len);
		expect_bytes(m->mod_start, mods[i].data, mods[i].len);
		assert_string_equal(gstr(m->cmdline), mods[i].name);
		next = ALIGN_UP((u64)m->mod_end, PAGE_SIZE);
	}
}

/* ---- good images ---- */

static u8 mod_a[5000], mod_b[10];

static void mods_init(struct loader_module *lm, struct want_mod *wm)
{
	for (size_t i = 0; i < sizeof(mod_a); i++)
		mod_a[i] = (u8)(i * 13 + 1);
	memcpy(mod_b, "key = val\n", sizeof(mod_b));
	lm[0] = (struct loader_module){ mod_a, sizeof(mod_a), "initrd-a" };
	lm[1] = (struct loader_module){ mod_b, sizeof(mod_b), "hv.conf" };
	wm[0] = (struct want_mod){ "initrd-a", mod_a, sizeof(mod_a) };
	wm[1] = (struct want_mod){ "hv.conf", mod_b, sizeof(mod_b) };
}

/* with_mods: modules follow the image, page-aligned, so ELF_END is taken */
static void expect_elf_loaded(bool with_mods)
{
	/* segments at p_paddr, bss zeroed, nothing else touched */
	expect_bytes(ELF_TEXT_PA, img.buf + ELF_TEXT_OFF, ELF_TEXT_SIZE);
	expect_bytes(ELF_DATA_PA, img.buf + ELF_DATA_OFF, ELF_DATA_FILESZ);
	expect_fill(ELF_DATA_PA + ELF_DATA_FILESZ, 0, ELF_DATA_MEMSZ - ELF_DATA_FILESZ);
	expect_fill(ELF_TEXT_PA + ELF_TEXT_SIZE, POISON, ELF_DATA_PA - ELF_TEXT_PA - ELF_TEXT_SIZE);
	if (!with_mods)
		expect_fill(ELF_END, POISON, 0x10);
	expect_fill(0, POISON, 0x1000); /* the PT_NOTE and memsz-0 segments */
	expect_fill(ONE_MIB - 0x10, POISON, 0x10);
	assert_int_equal(entry.rip, ELF_ENTRY);
}

static void test_elf_good(void **state)
{
	struct loader_module lm[2];
	struct want_mod wm[2];
	const char *cmdline = "console=ttyS0 root=/dev/ram0 quiet";

	(void)state;
	mods_init(lm, wm);
	build_elf();
	assert_true(mb1_probe(img.buf, img.len));
	expect_ok(cmdline, lm, 2);
	expect_elf_loaded(true);
	expect_info(cmdline, wm, 2, ELF_END, false);
	/* modules: data, and nothing spilled past the last one */
	expect_fill(ALIGN_UP(ELF_END, PAGE_SIZE) + sizeof(mod_a), POISON, 0x10);
}

static void test_elf_high_ram(void **state)
{
	struct loader_module lm[2];
	struct want_mod wm[2];

	(void)state;
	ram_new(RAM_LOW_SIZE, true);
	mods_init(lm, wm);
	build_elf();
	expect_ok("x", lm, 1);
	expect_elf_loaded(true);
	expect_info("x", wm, 1, ELF_END, true);
	expect_fill(RAM_HIGH_GPA, POISON, RAM_HIGH_SIZE);
}

static void test_elf_no_modules_empty_cmdline(void **state)
{
	(void)state;
	build_elf();
	expect_ok("", NULL, 0);
	expect_elf_loaded(false);
	expect_info("", NULL, 0, ELF_END, false);
}

/* Bits 16-31 are optional (Multiboot 3.1.2); video (bit 2) is a request. */
static void test_elf_optional_flags(void **state)
{
	(void)state;
	build_elf();
	mbh()->flags |= MB1_FLAG_VIDEO | BIT(20) | BIT(31);
	mbh_seal();
	expect_ok("", NULL, 0);
	expect_elf_loaded(false);
}

/* A 32 KiB command line fits the information area (0x90000-0x9f000). */
static void test_long_cmdline_fits(void **state)
{
	static char cmdline[32 * 1024];

	(void)state;
	memset(cmdline, 'c', sizeof(cmdline) - 1);
	build_elf();
	expect_ok(cmdline, NULL, 0);
	expect_info(cmdline, NULL, 0, ELF_END, false);
}

/* The module ends exactly at the end of RAM. */
static void test_module_fills_ram(void **state)
{
	u64 at = ALIGN_UP(ELF_END, PAGE_SIZE), len = RAM_LOW_SIZE - at;
	u8 *data = malloc(len + 1);
	struct loader_module lm = { data, len, "big" };
	struct want_mod wm = { "big", data, len };

	(void)state;
	assert_non_null(data);
	memset(data, 0x42, len);
	build_elf();
	expect_ok("", &lm, 1);
	expect_info("", &wm, 1, ELF_END, false);
	lm.len++;
	expect_reject_mods("does not fit", &lm, 1);
	free(data);
}

static void test_aout_good(void **state)
{
	struct loader_module lm[2];
	struct want_mod wm[2];

	(void)state;
	mods_init(lm, wm);
	build_aout();
	assert_true(mb1_probe(img.buf, img.len));
	expect_ok("a.out kernel", lm, 2);
	expect_bytes(AOUT_LOAD, img.buf, AOUT_SIZE);
	expect_fill(AOUT_LOAD + AOUT_SIZE, 0, AOUT_BSS_END - AOUT_LOAD - AOUT_SIZE);
	expect_fill(AOUT_LOAD - 0x10, POISON, 0x10);
	assert_int_equal(entry.rip, AOUT_ENTRY);
	expect_info("a.out kernel", wm, 2, AOUT_BSS_END, false);
}

/* The loaded part starts after a file prefix: header_addr - load_addr < hoff. */
static void test_aout_file_prefix(void **state)
{
	const u64 prefix = 0x1000;

	(void)state;
	memset(&img, 0, sizeof(img));
	img_fill(0, prefix + AOUT_SIZE, 0x77);
	mbh_put(prefix + AOUT_HOFF, MB1_FLAG_AOUT);
	mbh()->header_addr = AOUT_LOAD + AOUT_HOFF;
	mbh()->load_addr = AOUT_LOAD;
	mbh()->load_end_addr = AOUT_LOAD + AOUT_SIZE;
	mbh()->bss_end_addr = 0; /* no bss */
	mbh()->entry_addr = AOUT_ENTRY;
	expect_ok("", NULL, 0);
	expect_bytes(AOUT_LOAD, img.buf + prefix, AOUT_SIZE);
	expect_fill(AOUT_LOAD + AOUT_SIZE, POISON, 0x10);
	expect_info("", NULL, 0, AOUT_LOAD + AOUT_SIZE, false);
}

/* load_end_addr 0: the text and data run to the end of the file. */
static void test_aout_load_to_eof(void **state)
{
	(void)state;
	build_aout();
	mbh()->load_end_addr = 0;
	expect_ok("", NULL, 0);
	expect_bytes(AOUT_LOAD, img.buf, AOUT_SIZE);
	expect_fill(AOUT_LOAD + AOUT_SIZE, 0, AOUT_BSS_END - AOUT_LOAD - AOUT_SIZE);
	expect_fill(AOUT_BSS_END, POISON, 0x10);
}

/* The a.out kludge wins over an ELF header (Multiboot 3.1.3). */
static void test_aout_kludge_in_elf(void **state)
{
	(void)state;
	build_elf();
	mbh()->flags |= MB1_FLAG_AOUT;
	mbh_seal();
	mbh()->header_addr = 0x200000 + ELF_TEXT_OFF;
	mbh()->load_addr = 0x200000;
	mbh()->load_end_addr = 0x200000 + img.len;
	mbh()->bss_end_addr = 0x200000 + img.len + 0x1000;
	mbh()->entry_addr = 0x200000 + ELF_TEXT_OFF + 0x40;
	expect_ok("", NULL, 0);
	expect_bytes(0x200000, img.buf, img.len);
	expect_fill(ELF_TEXT_PA, POISON, 0x10); /* not at p_paddr */
	assert_int_equal(entry.rip, 0x200000 + ELF_TEXT_OFF + 0x40);
}

/* ---- malformed headers ---- */

static void test_no_header(void **state)
{
	(void)state;
	build_elf();
	mbh()->magic = 0;
	assert_false(mb1_probe(img.buf, img.len));
	expect_reject("no Multiboot1 header");
	/* a plain ELF, headerless */
	memset(mbh(), 0, sizeof(struct t_mb1_header));
	expect_reject("no Multiboot1 header");
}

static void test_bad_checksum(void **state)
{
	(void)state;
	build_elf();
	mbh()->checksum++;
	assert_false(mb1_probe(img.buf, img.len));
	expect_reject("no Multiboot1 header");
	build_aout();
	mbh()->checksum ^= 0x80000000;
	expect_reject("no Multiboot1 header");
}

/* Multiboot 3.1.1: the header lies wholly within the first 8192 bytes. */
static void test_header_beyond_8k(void **state)
{
	(void)state;
	build_elf();
	phdr(0)->offset = MB1_SEARCH_LEN;
	phdr(2)->offset = MB1_SEARCH_LEN + ELF_TEXT_SIZE;
	memset(mbh(), 0, sizeof(struct t_mb1_header));
	img_fill(MB1_SEARCH_LEN, ELF_TEXT_SIZE + ELF_DATA_FILESZ, 0x11);
	mbh_put(MB1_SEARCH_LEN, MB1_FLAG_MEMINFO);
	assert_false(mb1_probe(img.buf, img.len));
	expect_reject("no Multiboot1 header");
	/* straddling the limit: magic inside, the rest beyond */
	memset(mbh(), 0, sizeof(struct t_mb1_header));
	mbh_put(MB1_SEARCH_LEN - 8, MB1_FLAG_MEMINFO);
	assert_false(mb1_probe(img.buf, img.len));
	expect_reject("no Multiboot1 header");
}

static void test_required_flag_unsupported(void **state)
{
	static const u32 bits[] = { 3, 4, 10, 15 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++) {
		build_elf();
		mbh()->flags |= BIT(bits[i]);
		mbh_seal();
		assert_true(mb1_probe(img.buf, img.len));
		expect_reject("requires Multiboot features");
	}
	build_aout();
	mbh()->flags |= MB1_FLAG_BIT3;
	mbh_seal();
	expect_reject("requires Multiboot features 0x8");
}

static void test_too_many_modules(void **state)
{
	struct loader_module lm[5];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(lm); i++)
		lm[i] = (struct loader_module){ mod_b, sizeof(mod_b), "m" };
	build_elf();
	expect_reject_mods("too many modules", lm, ARRAY_SIZE(lm));
}

/* ---- malformed ELF ---- */

static void test_not_elf(void **state)
{
	(void)state;
	build_elf();
	ehdr()->magic = 0x7f454c46; /* byte-swapped */
	expect_reject("not an ELF file");
}

static void test_elf_wrong_kind(void **state)
{
	(void)state;
	build_elf();
	ehdr()->cls = ELFCLASS64;
	expect_reject("not a 32-bit x86 executable ELF");
	build_elf();
	ehdr()->machine = EM_X86_64;
	expect_reject("not a 32-bit x86 executable ELF");
	build_elf();
	ehdr()->data = ELFDATA2MSB;
	expect_reject("not a 32-bit x86 executable ELF");
	build_elf();
	ehdr()->type = ET_DYN;
	expect_reject("not a 32-bit x86 executable ELF");
}

static void test_elf_phdrs_outside_file(void **state)
{
	(void)state;
	build_elf();
	ehdr()->phoff = img.len - sizeof(struct t_phdr) + 4;
	expect_reject("program headers lie outside the file");
	build_elf();
	ehdr()->phoff = 0xfffffff0; /* would wrap in 32 bits */
	expect_reject("program headers lie outside the file");
	build_elf();
	ehdr()->phnum = 0xffff;
	expect_reject("program headers lie outside the file");
	build_elf();
	ehdr()->phentsize = 56; /* an ELF64 program header */
	expect_reject("program headers");
}

static void test_elf_segment_outside_file(void **state)
{
	(void)state;
	build_elf();
	phdr(2)->filesz = ELF_DATA_FILESZ + 1; /* one byte past the end */
	expect_reject("ELF segment 2 lies outside the file");
	build_elf();
	phdr(0)->offset = 0xfffff000; /* offset + filesz wraps in 32 bits */
	phdr(0)->filesz = 0x1000;
	phdr(0)->memsz = 0x1000;
	expect_reject("ELF segment 0 lies outside the file");
}

static void test_elf_filesz_over_memsz(void **state)
{
	(void)state;
	build_elf();
	phdr(0)->memsz = ELF_TEXT_SIZE - 1;
	expect_reject("ELF segment 0");
}

static void test_elf_segment_outside_ram(void **state)
{
	static const struct {
		u32 paddr, memsz;
	} bad[] = {
		{ RAM_LOW_SIZE, 0x800 },	 /* just past the end */
		{ RAM_LOW_SIZE - 0x400, 0x800 }, /* straddling the end */
		{ 0x10000000, 0x800 },		 /* far beyond */
		{ 0xfffff800, 0x1000 },		 /* wrapping 2^32 */
		{ ELF_TEXT_PA, 0xffffffff },	 /* huge bss */
	};

	(void)state;
	for (int high = 0; high < 2; high++) {
		ram_new(RAM_LOW_SIZE, high);
		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			build_elf();
			phdr(0)->paddr = bad[i].paddr;
			phdr(0)->vaddr = bad[i].paddr;
			phdr(0)->memsz = bad[i].memsz;
			expect_reject("outside the partition's RAM");
			/* nothing at 0 or at the wrapped address was written */
			expect_fill(0, POISON, 0x1000);
		}
	}
}

static void test_elf_nothing_to_load(void **state)
{
	(void)state;
	build_elf();
	phdr(0)->type = PT_NOTE;
	phdr(2)->type = PT_NOTE;
	expect_reject("nothing to load");
	build_elf();
	ehdr()->phnum = 0;
	expect_reject("nothing to load");
}

static void test_entry_outside_ram(void **state)
{
	(void)state;
	build_elf();
	ehdr()->entry = 0x1000; /* in RAM, below 1 MiB */
	expect_reject("entry point");
	build_elf();
	ehdr()->entry = 0x40000000; /* beyond RAM */
	expect_reject("entry point");
	build_aout();
	mbh()->entry_addr = 0x40000000;
	expect_reject("entry point");
}

/* GRUB 2 too refuses an ELF whose entry "isn't in a segment". */
static void test_entry_in_ram_outside_image(void **state)
{
	(void)state;
	build_elf();
	ehdr()->entry = 0x700000; /* in RAM, but not in any segment */
	expect_reject("entry point");
	build_elf();
	ehdr()->entry = ELF_TEXT_PA + ELF_TEXT_SIZE; /* just past the text */
	expect_reject("entry point");
	build_aout();
	mbh()->entry_addr = 0x700000;
	expect_reject("entry point");
	build_aout();
	mbh()->entry_addr = AOUT_LOAD - 1;
	expect_reject("entry point");
}

/*
 * A higher-half kernel: linked at 0xC0100000, loaded at 1 MiB (p_paddr), its
 * e_entry virtual. Paging is off at entry, so the loader starts it at the
 * physical address of the entry (what GRUB 2 does).
 */
static void test_elf_higher_half_entry(void **state)
{
	const u32 va = 0xc0000000;

	(void)state;
	build_elf();
	phdr(0)->vaddr += va;
	phdr(2)->vaddr += va;
	ehdr()->entry = ELF_ENTRY + va;
	expect_ok("", NULL, 0);
	assert_int_equal(entry.rip, ELF_ENTRY);
	expect_bytes(ELF_TEXT_PA, img.buf + ELF_TEXT_OFF, ELF_TEXT_SIZE);
}

/* ---- images below 1 MiB ---- */

/* Moves the good ELF's text to pa_text and its data (and bss) to pa_data. */
static void elf_move(u32 pa_text, u32 pa_data)
{
	phdr(0)->paddr = phdr(0)->vaddr = pa_text;
	phdr(2)->paddr = phdr(2)->vaddr = pa_data;
	ehdr()->entry = pa_text + (ELF_ENTRY - ELF_TEXT_PA);
}

/*
 * A low-linked kernel (GRUB and QEMU's -kernel load them): its segments
 * where it asks, below 1 MiB, the information structure intact beside it,
 * and the modules above 1 MiB, clear of the areas the loader keeps there.
 */
static void test_elf_low_linked(void **state)
{
	const u32 text = 0x10000, data = 0x12000;
	struct loader_module lm[2];
	struct want_mod wm[2];

	(void)state;
	mods_init(lm, wm);
	build_elf();
	elf_move(text, data);
	expect_ok("low", lm, 2);
	expect_bytes(text, img.buf + ELF_TEXT_OFF, ELF_TEXT_SIZE);
	expect_bytes(data, img.buf + ELF_DATA_OFF, ELF_DATA_FILESZ);
	expect_fill(data + ELF_DATA_FILESZ, 0, ELF_DATA_MEMSZ - ELF_DATA_FILESZ);
	expect_fill(data + ELF_DATA_MEMSZ, POISON, 0x10);
	expect_fill(text - 0x10, POISON, 0x10);
	assert_int_equal(entry.rip, text + (ELF_ENTRY - ELF_TEXT_PA));
	expect_info("low", wm, 2, ONE_MIB, false);

	/* one segment low, one high: the modules follow the high one */
	build_elf();
	elf_move(text, ELF_DATA_PA);
	expect_ok("split", lm, 1);
	expect_bytes(text, img.buf + ELF_TEXT_OFF, ELF_TEXT_SIZE);
	expect_info("split", wm, 1, ELF_END, false);

	/* right up to the information area, and in the RAM between it and the
	 * BIOS area; page 0 too */
	build_elf();
	elf_move(0x9f000, MB1_INFO_GPA - ELF_DATA_MEMSZ);
	expect_ok("", NULL, 0);
	assert_int_equal(entry.rip, 0x9f000 + (ELF_ENTRY - ELF_TEXT_PA));
	expect_info("", NULL, 0, ONE_MIB, false);
	build_elf();
	elf_move(0, 0x1000);
	expect_ok("", NULL, 0);
	expect_bytes(0, img.buf + ELF_TEXT_OFF, ELF_TEXT_SIZE);
}

static void test_aout_low_linked(void **state)
{
	const u32 load = 0x20000;

	(void)state;
	build_aout();
	mbh()->header_addr = load + AOUT_HOFF;
	mbh()->load_addr = load;
	mbh()->load_end_addr = load + AOUT_SIZE;
	mbh()->bss_end_addr = load + (AOUT_BSS_END - AOUT_LOAD);
	mbh()->entry_addr = load + (AOUT_ENTRY - AOUT_LOAD);
	expect_ok("aout low", NULL, 0);
	expect_bytes(load, img.buf, AOUT_SIZE);
	expect_fill(load + AOUT_SIZE, 0, AOUT_BSS_END - AOUT_LOAD - AOUT_SIZE);
	assert_int_equal(entry.rip, load + (AOUT_ENTRY - AOUT_LOAD));
	expect_info("aout low", NULL, 0, ONE_MIB, false);
}

/*
 * The loader builds the information structure at MB1_INFO_GPA, and the map
 * it hands over says [BIOS_HOLE, 1 MiB) is reserved (the ACPI tables are
 * there): an image overlapping either by one byte is refused, saying which.
 */
static void test_low_image_overlaps(void **state)
{
	static const struct {
		u32 text, data;
		const char *phrase;
	} bad[] = {
		{ 0x10000, MB1_INFO_GPA - ELF_DATA_MEMSZ + 1, "the Multiboot information area" },
		{ MB1_INFO_LIMIT - ELF_TEXT_SIZE / 2, 0x12000, "the Multiboot information area" },
		{ MB1_INFO_GPA + 0x1000, 0x12000, "the Multiboot information area" },
		{ BIOS_HOLE - ELF_TEXT_SIZE + 1, 0x12000, "the reserved BIOS area" },
		{ 0x10000, 0xe0000, "the reserved BIOS area" },
		{ 0x10000, ONE_MIB - ELF_DATA_MEMSZ / 2, "the reserved BIOS area" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		build_elf();
		elf_move(bad[i].text, bad[i].data);
		expect_reject(bad[i].phrase);
		expect_reject("overlaps");
	}
	/* one segment across both */
	build_elf();
	phdr(2)->paddr = phdr(2)->vaddr = MB1_INFO_GPA - 0x1000;
	phdr(2)->memsz = 0x80000;
	expect_reject("the Multiboot information area");
	/* an a.out image whose bss runs into the information area */
	build_aout();
	mbh()->header_addr = MB1_INFO_GPA - AOUT_SIZE + AOUT_HOFF;
	mbh()->load_addr = MB1_INFO_GPA - AOUT_SIZE;
	mbh()->load_end_addr = MB1_INFO_GPA;
	mbh()->bss_end_addr = MB1_INFO_GPA + 1;
	mbh()->entry_addr = MB1_INFO_GPA - AOUT_SIZE + 0x100;
	expect_reject("the Multiboot information area");
	mbh()->bss_end_addr = 0;
	expect_ok("", NULL, 0);
}

/* ---- malformed a.out kludge ---- */

static void test_aout_load_end_below_load(void **state)
{
	(void)state;
	build_aout();
	mbh()->load_end_addr = AOUT_LOAD - 1;
	expect_reject("load_end_addr is below load_addr");
}

static void test_aout_header_addr_inconsistent(void **state)
{
	(void)state;
	build_aout();
	mbh()->header_addr = AOUT_LOAD - 4; /* below load_addr */
	expect_reject("addresses are inconsistent");
	build_aout();
	mbh()->header_addr = AOUT_LOAD + AOUT_HOFF + 4; /* file would start at -4 */
	expect_reject("addresses are inconsistent");
}

static void test_aout_image_short(void **state)
{
	(void)state;
	build_aout();
	mbh()->load_end_addr = AOUT_LOAD + AOUT_SIZE + 1;
	mbh()->bss_end_addr = 0;
	expect_reject("shorter than its Multiboot header says");
	build_aout();
	mbh()->load_end_addr = 0xffffffff;
	mbh()->bss_end_addr = 0;
	expect_reject("shorter than its Multiboot header says");
}

static void test_aout_bss_below_load_end(void **state)
{
	(void)state;
	build_aout();
	mbh()->bss_end_addr = AOUT_LOAD + AOUT_SIZE - 1;
	expect_reject("bss_end_addr is below");
}

static void test_aout_outside_ram(void **state)
{
	(void)state;
	build_aout();
	mbh()->bss_end_addr = RAM_LOW_SIZE + 1;
	expect_reject("outside the partition's RAM");
	build_aout();
	mbh()->header_addr += RAM_LOW_SIZE;
	mbh()->load_addr += RAM_LOW_SIZE;
	mbh()->load_end_addr += RAM_LOW_SIZE;
	mbh()->bss_end_addr += RAM_LOW_SIZE;
	mbh()->entry_addr += RAM_LOW_SIZE;
	expect_reject("outside the partition's RAM");
}

/* ---- modules and the information area ---- */

static void test_module_does_not_fit(void **state)
{
	static u8 big[RAM_LOW_SIZE];
	struct loader_module lm[2] = {
		{ mod_b, sizeof(mod_b), "small" },
		{ big, sizeof(big), "huge.img" },
	};

	(void)state;
	build_elf();
	expect_reject_mods("module huge.img", lm, 2);
	expect_reject_mods("does not fit", lm, 2);
}

static void test_cmdline_too_long(void **state)
{
	static char cmdline[MB1_INFO_LIMIT - MB1_INFO_GPA + 1];

	(void)state;
	memset(cmdline, 'x', sizeof(cmdline) - 1);
	build_elf();
	assert_true(load(cmdline, NULL, 0) < 0);
	if (!strstr(err, "do not fit the information area"))
		fail_msg("error \"%s\" does not name the information area", err);
	/* nothing of the command line reached the guest's information area */
	expect_fill(MB1_INFO_GPA, POISON, 0x100);
}

/* A module name too long for the information area, with a short cmdline. */
static void test_module_name_too_long(void **state)
{
	static char name[MB1_INFO_LIMIT - MB1_INFO_GPA]; /* the rest still fits */
	struct loader_module lm = { mod_b, sizeof(mod_b), name };

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	build_elf();
	expect_reject_mods("do not fit the information area", &lm, 1);
}

/* ---- truncations: never a read past len, always an error ---- */

static void truncate_all(void)
{
	u64 full = img.len;

	for (u64 n = 0; n < full; n++) {
		int rc;

		(void)mb1_probe(img.buf, n); /* the search honours len too */
		rc = load_n(n, "", NULL, 0);
		if (rc >= 0)
			fail_msg("image truncated to %llu of %llu bytes was accepted",
				 (unsigned long long)n, (unsigned long long)full);
		assert_true(err[0] != '\0');
	}
}

static void test_elf_truncated(void **state)
{
	(void)state;
	build_elf();
	truncate_all();
	/* and the probe needs the whole header */
	for (u64 n = 0; n < ELF_TEXT_OFF + 12; n++) {
		u8 *copy = malloc(n ? n : 1);

		assert_non_null(copy);
		memcpy(copy, img.buf, n);
		assert_false(mb1_probe(copy, n));
		free(copy);
	}
	build_elf();
	expect_ok("", NULL, 0); /* the full image still loads */
}

static void test_aout_truncated(void **state)
{
	(void)state;
	build_aout();
	truncate_all();
}

/* The exactly-sized probe of an image whose header ends at its last byte. */
static void test_probe_header_at_end(void **state)
{
	u8 *copy;
	u64 n;

	(void)state;
	build_aout();
	n = AOUT_HOFF + sizeof(struct t_mb1_header);
	copy = malloc(n);
	assert_non_null(copy);
	memcpy(copy, img.buf, n);
	assert_true(mb1_probe(copy, n));
	free(copy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_elf_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_high_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_no_modules_empty_cmdline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_optional_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_cmdline_fits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_fills_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aout_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aout_file_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aout_load_to_eof, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aout_kludge_in_elf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_beyond_8k, setup, teardown),
		cmocka_unit_test_setup_teardown(test_required_flag_unsupported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_many_modules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_elf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_wrong_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_phdrs_outside_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_segment_outside_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_filesz_over_memsz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_segment_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_nothing_to_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_in_ram_outside_image, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_higher_half_entry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_low_linked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aout_low_linked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_low_image_overlaps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aout_load_end_below_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aout_header_addr_inconsistent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_aout_image_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aout_bss_below_load_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aout_outside_ram, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_does_not_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cmdline_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_name_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elf_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aout_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_header_at_end, setup, teardown),
	};

	return cmocka_run_group_tests_name("loader_mb1", tests, NULL, NULL);
}
