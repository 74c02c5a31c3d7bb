/*
 * hv/loader/loader.c on the host: loader_load picks the format the way the
 * partition code relies on. Each format, built here as a small valid image,
 * is loaded by its own loader (told apart by the entry state each boot
 * protocol defines); an image that two probes accept goes to the first in
 * the order bzImage, Multiboot1, PVH; anything else is refused with one
 * message. The formats' own rules are in test_loader_linux.c,
 * test_loader_pvh.c and test_loader_mb1.c.
 */
#include "tests/unit/test_loader_fakes.h"

#include "boot/multiboot.h"

#define NOT_A_KERNEL "not a Linux bzImage, a Multiboot1 kernel or a PVH vmlinux"
#define IMG_MAX 0x2000
#define RSDP 0xe0000

/* boot.rst: a 2.15 setup header with a 64-bit entry; one setup sector */
#define BZ_SETUP_SIZE 0x400
#define BZ_KERNEL_SIZE 0x1000
#define BZ_LOAD 0x100000ULL /* LOADED_HIGH without pref_address */
#define BZ_ENTRY64 0x200
/* Multiboot 0.6.96 3.1: a header with the a.out kludge (flag 16) */
#define MB_MAGIC 0x1badb002
#define MB_FLAG_AOUT BIT(16)
#define MB_LOAD 0x200000ULL
#define MB_ENTRY (MB_LOAD + 0x20)
#define MB_BOOT_MAGIC 0x2badb002
/* ELF-64 and Xen's PVH note: one PT_LOAD segment and a PT_NOTE */
#define PVH_SEG_OFF 0x400
#define PVH_SEG_SIZE 0x200
#define PVH_SEG_PADDR 0x300000ULL
#define PVH_ENTRY (PVH_SEG_PADDR + 0x10)
#define PVH_NOTE_OFF 0x100

static u8 img[IMG_MAX];
static u64 img_len;

static void bz_put(void)
{
	img[0x1f1] = 1;				/* setup_sects */
	put32(img, 0x1f4, BZ_KERNEL_SIZE / 16); /* syssize */
	img[0x200] = 0xeb;			/* jump over the header, */
	img[0x201] = 0x26c - 0x202;		/* to its end */
	memcpy(img + 0x202, "HdrS", 4);
	put16(img, 0x206, 0x020f);	       /* version */
	img[0x211] = 0x01;		       /* loadflags: LOADED_HIGH */
	put32(img, 0x22c, 0x7fffffff);	       /* initrd_addr_max */
	put16(img, 0x236, 0x01);	       /* xloadflags: XLF_KERNEL_64 */
	put32(img, 0x238, 255);		       /* cmdline_size */
	put32(img, 0x24c, 0x100);	       /* payload_length */
	put32(img, 0x260, 2 * BZ_KERNEL_SIZE); /* init_size */
	fill_pattern(img + BZ_SETUP_SIZE, BZ_KERNEL_SIZE, 0x5a);
	img_len = MAX(img_len, (u64)BZ_SETUP_SIZE + BZ_KERNEL_SIZE);
}

/* The a.out kludge header at file offset off: the file from its start is
 * loaded at MB_LOAD. */
static void mb_put(u64 off)
{
	u32 flags = MB_FLAG_AOUT;

	put32(img, off, MB_MAGIC);
	put32(img, off + 4, flags);
	put32(img, off + 8, -(MB_MAGIC + flags));
	put32(img, off + 12, (u32)(MB_LOAD + off)); /* header_addr */
	put32(img, off + 16, (u32)MB_LOAD);	    /* load_addr */
	put32(img, off + 20, 0);		    /* load_end_addr: the file */
	put32(img, off + 24, 0);		    /* bss_end_addr: none */
	put32(img, off + 28, (u32)MB_ENTRY);	    /* entry_addr */
	img_len = MAX(img_len, off + 32);
}

static void pvh_put(void)
{
	const u64 ph = 64, phsize = 56;

	put32(img, 0, 0x464c457f);
	img[4] = 2; /* ELFCLASS64 */
	img[5] = 1; /* little-endian */
	img[6] = 1;
	put16(img, 16, 2);  /* ET_EXEC */
	put16(img, 18, 62); /* EM_X86_64 */
	put32(img, 20, 1);
	put64(img, 32, ph); /* e_phoff */
	put16(img, 52, 64);
	put16(img, 54, phsize); /* e_phentsize */
	put16(img, 56, 2);	/* e_phnum */
	put32(img, ph, 1);	/* PT_LOAD */
	put64(img, ph + 8, PVH_SEG_OFF);
	put64(img, ph + 24, PVH_SEG_PADDR);
	put64(img, ph + 32, PVH_SEG_SIZE);
	put64(img, ph + 40, PVH_SEG_SIZE);
	put32(img, ph + phsize, 4); /* PT_NOTE */
	put64(img, ph + phsize + 8, PVH_NOTE_OFF);
	put64(img, ph + phsize + 32, 20);
	put64(img, ph + phsize + 40, 20);
	put32(img, PVH_NOTE_OFF, 4); /* namesz: "Xen" and its NUL */
	put32(img, PVH_NOTE_OFF + 4, 4);
	put32(img, PVH_NOTE_OFF + 8, 18); /* XEN_ELFNOTE_PHYS32_ENTRY */
	memcpy(img + PVH_NOTE_OFF + 12, "Xen", 4);
	put32(img, PVH_NOTE_OFF + 16, (u32)PVH_ENTRY);
	fill_pattern(img + PVH_SEG_OFF, PVH_SEG_SIZE, 0x21);
	img_len = MAX(img_len, (u64)PVH_SEG_OFF + PVH_SEG_SIZE);
}

static void img_new(void)
{
	memset(img, 0, sizeof(img));
	img_len = 0;
	ram_new(RAM_LOW_DEFAULT, false);
	memset(&entry, 0, sizeof(entry));
}

static int load(const char *cmdline, const struct loader_module *initrd)
{
	u8 *copy = exact(img, img_len);
	int rc = loader_load(copy, img_len, cmdline, initrd, RSDP, &ram.mem, &entry, err,
			     sizeof(err));

	free(copy);
	return rc;
}

/* boot.rst 64-bit protocol: RIP = load + 0x200, RSI = the zero page */
static void expect_bzimage(void)
{
	assert_int_equal(entry.mode, LOADER_ENTRY_LONG64);
	assert_int_equal(entry.rip, BZ_LOAD + BZ_ENTRY64);
	assert_int_equal(entry.rsi, ZP);
	assert_int_equal(rd(ZP + 0x070, 8), RSDP); /* acpi_rsdp_addr */
	expect_bytes(BZ_LOAD, img + BZ_SETUP_SIZE, BZ_KERNEL_SIZE);
}

/* Multiboot 3.2: EAX = the boot magic, EBX = the information structure */
static const struct mb1_info *expect_multiboot(void)
{
	assert_int_equal(entry.mode, LOADER_ENTRY_PROTECTED32);
	assert_int_equal(entry.rip, MB_ENTRY);
	assert_int_equal(entry.rax, MB_BOOT_MAGIC);
	expect_bytes(MB_LOAD, img, img_len);
	return (const struct mb1_info *)gp(entry.rbx, sizeof(struct mb1_info));
}

/* pvh.pandoc: EBX = struct hvm_start_info, whose magic comes first */
static void expect_pvh(void)
{
	assert_int_equal(entry.mode, LOADER_ENTRY_PROTECTED32);
	assert_int_equal(entry.rip, PVH_ENTRY);
	assert_int_equal(entry.rbx, ZP);
	assert_int_equal(rd(ZP, 4), 0x336ec578);
	assert_int_equal(rd(ZP + 32, 8), RSDP); /* rsdp_paddr */
	expect_bytes(PVH_SEG_PADDR, img + PVH_SEG_OFF, PVH_SEG_SIZE);
}

static void test_picks_bzimage(void **state)
{
	(void)state;
	img_new();
	bz_put();
	load_ok(load("console=ttyS0", NULL));
	expect_bzimage();
	assert_string_equal((const char *)gp(CMDLINE, 14), "console=ttyS0");
	fake_ram_free(&ram.fake);
}

static void test_picks_multiboot(void **state)
{
	struct loader_module m = initrd_mod(4096);
	const struct mb1_info *info;
	const struct mb1_module *mod;

	(void)state;
	img_new();
	mb_put(0x40);
	load_ok(load("quiet", &m));
	info = expect_multiboot();
	assert_string_equal((const char *)gp(info->cmdline, 6), "quiet");
	/* the initrd is the one module */
	assert_int_equal(info->mods_count, 1);
	mod = (const struct mb1_module *)gp(info->mods_addr, sizeof(*mod));
	assert_int_equal(mod->mod_end - mod->mod_start, 4096);
	expect_bytes(mod->mod_start, initrd_data, 4096);

	/* no command line, no initrd */
	img_new();
	mb_put(0x40);
	load_ok(load(NULL, NULL));
	info = expect_multiboot();
	assert_string_equal((const char *)gp(info->cmdline, 1), "");
	assert_int_equal(info->mods_count, 0);
	fake_ram_free(&ram.fake);
}

static void test_picks_pvh(void **state)
{
	(void)state;
	img_new();
	pvh_put();
	load_ok(load("console=hvc0", NULL));
	expect_pvh();
	assert_string_equal((const char *)gp(CMDLINE, 13), "console=hvc0");
	fake_ram_free(&ram.fake);
}

/* An image two probes accept goes to the first in the table's order. */
static void test_probe_order(void **state)
{
	(void)state;
	/* a bzImage with a Multiboot header in its setup sectors */
	img_new();
	bz_put();
	mb_put(0x300);
	load_ok(load(NULL, NULL));
	expect_bzimage();

	/* a Multiboot kernel that is an x86-64 ELF file too */
	img_new();
	pvh_put();
	mb_put(0x200);
	load_ok(load(NULL, NULL));
	expect_multiboot();
	fake_ram_free(&ram.fake);
}

static void test_not_a_kernel(void **state)
{
	char small[10];

	(void)state;
	img_new();
	fill_pattern(img, sizeof(img), 0x42);
	img_len = sizeof(img);
	assert_int_equal(load(NULL, NULL), -E_INVAL);
	assert_string_equal(err, NOT_A_KERNEL);
	expect_fill(BZ_LOAD, POISON, 0x1000); /* nothing was written */

	/* nothing at all */
	img_new();
	memset(err, 0, sizeof(err));
	assert_int_equal(load(NULL, NULL), -E_INVAL);
	assert_string_equal(err, NOT_A_KERNEL);

	/* a short buffer gets the start of the message */
	assert_int_equal(loader_load(img, 0, NULL, NULL, 0, &ram.mem, &entry, small, sizeof(small)),
			 -E_INVAL);
	assert_string_equal(small, "not a Lin");
	fake_ram_free(&ram.fake);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_picks_bzimage), cmocka_unit_test(test_picks_multiboot),
		cmocka_unit_test(test_picks_pvh),     cmocka_unit_test(test_probe_order),
		cmocka_unit_test(test_not_a_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
