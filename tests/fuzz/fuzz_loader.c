/*
 * libFuzzer target for hv/loader/: any image through loader_load, into a
 * fake guest RAM, with the three formats' seeds (Linux bzImage, Multiboot1,
 * PVH vmlinux).
 *
 * Input: an 8-byte header, then the image. The header picks the partition:
 * low RAM of 2 to 16 MiB at 0 (or a layout the loaders must refuse), 0 to
 * 6 MiB at 4 GiB (or overlapping the ECAM window), the command line's
 * length (0xffff: none), the initrd's size (0: none, 0xff: empty) and the
 * RSDP.
 *
 * The guest RAM is poisoned for AddressSanitizer except what struct
 * guest_mem's ptr() hands out, so a loader that writes anywhere else, or
 * past the length it asked for, is caught. Checked besides: a failure has a
 * one-line message; a load that succeeds enters in RAM the loader wrote,
 * below 4 GiB, with a valid GDT; in long mode its page tables map the entry
 * to itself (walked with hv/insn/gpt.c); the kernel's and Linux's low
 * structures stay apart (the image at or above 1 MiB, the Multiboot
 * information area untouched by the image); and what each format tells
 * the guest holds: the boot magic, the command line and the initrd bytes
 * where its structures say they are, and memory maps whose RAM is the
 * partition's RAM.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <sanitizer/asan_interface.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/multiboot.h"
#include "hv/hw/x86.h"
#include "hv/insn/gpt.h"
#include "hv/loader/linux.h"
#include "hv/loader/loader.h"
#include "hv/loader/mb1.h"
#include "hv/loader/pvh.h"
#include "hv/vdev/platform.h"

#define CHECK(cond)                                                                             \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz_loader: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			__builtin_trap();                                                       \
		}                                                                               \
	} while (0)

#define HDR_LEN 8
#define LOW_MAX (16 * MiB)
#define HIGH_GPA (4 * GiB)
#define HIGH_MAX (6 * MiB)
#define MAX_GRANTS 1024
#define SCRUB 0xa5
#define CMDLINE_MAX 0x10000
#define INITRD_MAX (254 * PAGE_SIZE)

/* ---- the fake RAM ---- */

static struct {
	u8 *buf[LOADER_MAX_REGIONS];
	u32 grants;
	bool overflow;
	u64 gpa[MAX_GRANTS], len[MAX_GRANTS];
	u8 *host[MAX_GRANTS];
} ram;

static struct guest_mem mem;

static void *host_of(u64 gpa, u64 len)
{
	for (u32 i = 0; i < mem.region_count; i++) {
		u64 base = mem.regions[i].gpa, size = mem.regions[i].size;

		if (gpa >= base && gpa - base <= size && len <= size - (gpa - base))
			return ram.buf[i] + (gpa - base);
	}
	return NULL;
}

static void *fake_ptr(void *ctx, u64 gpa, u64 len)
{
	u8 *p = host_of(gpa, len);

	CHECK(ctx == &ram);
	if (!p)
		return NULL;
	if (ram.grants < MAX_GRANTS) {
		ram.gpa[ram.grants] = gpa;
		ram.len[ram.grants] = len;
		ram.host[ram.grants++] = p;
	} else {
		ram.overflow = true;
	}
	ASAN_UNPOISON_MEMORY_REGION(p, len);
	return p;
}

/* Back to scrubbed and poisoned, as before the load. */
static void ram_reset(void)
{
	if (ram.overflow) {
		for (u32 i = 0; i < LOADER_MAX_REGIONS; i++) {
			u64 size = i ? HIGH_MAX : LOW_MAX;

			ASAN_UNPOISON_MEMORY_REGION(ram.buf[i], size);
			memset(ram.buf[i], SCRUB, size);
			ASAN_POISON_MEMORY_REGION(ram.buf[i], size);
		}
	} else {
		/* grants may overlap: all scrubbed first */
		for (u32 i = 0; i < ram.grants; i++)
			memset(ram.host[i], SCRUB, ram.len[i]);
		for (u32 i = 0; i < ram.grants; i++)
			ASAN_POISON_MEMORY_REGION(ram.host[i], ram.len[i]);
	}
	ram.grants = 0;
	ram.overflow = false;
}

/* [gpa, gpa + len) is something the loader wrote: one of its grants. */
static bool written(u64 gpa, u64 len)
{
	for (u32 i = 0; i < ram.grants; i++)
		if (gpa >= ram.gpa[i] && gpa - ram.gpa[i] <= ram.len[i] &&
		    len <= ram.len[i] - (gpa - ram.gpa[i]))
			return true;
	return ram.overflow && host_of(gpa, len);
}

/* The host copy of a structure the loader wrote for the guest. */
static const void *guest(u64 gpa, u64 len)
{
	if (!written(gpa, len))
		fprintf(stderr, "fuzz_loader: [%#llx, +%#llx) was not written\n",
			(unsigned long long)gpa, (unsigned long long)len);
	CHECK(written(gpa, len));
	return host_of(gpa, len);
}

static bool ram_range(u64 addr, u64 size)
{
	return host_of(addr, size) != NULL;
}

/* ---- the partition, from the header ---- */

/* the command line and initrd bytes, cut to the lengths the header asks */
static char cmdline_buf[CMDLINE_MAX];
static u8 initrd_buf[INITRD_MAX];

struct setup {
	const char *cmdline;
	struct loader_module initrd;
	bool has_initrd;
	u64 rsdp;
	bool real_layout; /* one the partition code makes */
};

static void make_partition(const u8 *h, struct setup *s)
{
	u32 low = h[0], high = h[1], cmd = h[2] | (u32)h[3] << 8, pages = h[4];

	memset(&mem, 0, sizeof(mem));
	mem.ptr = fake_ptr;
	mem.ctx = &ram;
	mem.region_count = 1;
	mem.regions[0].size = ((low & 7) + 1) * 2 * MiB;
	/* layouts the partition code never makes: the loaders must refuse them */
	s->real_layout = !(low >> 6) && !(high & 0x80);
	if ((low >> 6) == 1)
		mem.regions[0].size = GUEST_BIOS_HOLE_END;
	else if ((low >> 6) == 2)
		mem.region_count = 0;
	else if ((low >> 6) == 3)
		mem.regions[0].gpa = PAGE_SIZE;
	if (high & 3) {
		u32 i = mem.region_count++;

		mem.regions[i].gpa = (high & 0x80) ? PLAT_ECAM_BASE : HIGH_GPA;
		mem.regions[i].size = (high & 3) * 2 * MiB;
	}

	s->cmdline = NULL;
	if (cmd != 0xffff) {
		cmdline_buf[cmd] = 0; /* put back by done_partition */
		s->cmdline = cmdline_buf;
	}
	s->has_initrd = pages != 0;
	s->initrd = (struct loader_module){ initrd_buf, 0, "initrd" };
	if (pages && pages != 0xff)
		s->initrd.len = (u64)pages * PAGE_SIZE - h[6];
	s->rsdp = (h[5] & 1) ? PLAT_ACPI_BASE : 0;
}

static void done_partition(const struct setup *s)
{
	size_t n = s->cmdline ? strlen(s->cmdline) : 0;

	if (s->cmdline)
		cmdline_buf[n] = (char)('a' + n % 26);
}

/* ---- what the loaded guest is told ---- */

static void check_cmdline(u64 gpa, const struct setup *s)
{
	const char *want = s->cmdline ? s->cmdline : "";
	u64 n = strlen(want) + 1;

	CHECK(!memcmp(guest(gpa, n), want, n));
}

static void check_initrd(u64 gpa, u64 len, const struct setup *s)
{
	CHECK(len == s->initrd.len);
	if (len)
		CHECK(!memcmp(guest(gpa, len), s->initrd.data, len));
}

/* Every RAM range of a memory map is the partition's RAM. */
static void check_map_entry(u64 addr, u64 size, u32 type)
{
	if (type == E820_RAM)
		CHECK(size && ram_range(addr, size));
}

static void check_gdt(const struct loader_entry *e, bool long_mode)
{
	const u8 *gdt;
	u64 cs;

	CHECK(e->gdt_limit >= 15 && e->gdt_limit < 0x10000 && (e->gdt_limit & 7) == 7);
	CHECK(e->code_sel && !(e->code_sel & 7) && e->code_sel + 7u <= e->gdt_limit);
	CHECK(e->data_sel && !(e->data_sel & 7) && e->data_sel + 7u <= e->gdt_limit);
	gdt = guest(e->gdt_base, e->gdt_limit + 1);
	memcpy(&cs, gdt + e->code_sel, sizeof(cs));
	/* SDM 3A 3.4.5: present, code, L for 64-bit, D for 32-bit */
	CHECK((cs >> 47) & 1 && (cs >> 43) & 1);
	CHECK(long_mode ? ((cs >> 53) & 1) && !((cs >> 54) & 1) : !((cs >> 53) & 1));
}

static int read_phys(void *ctx, u64 gpa, void *buf, size_t len)
{
	(void)ctx;
	if (!written(gpa, len))
		return -E_NOENT;
	memcpy(buf, host_of(gpa, len), len);
	return 0;
}

/* LONG64: the loader's own tables map the entry to itself. */
static void check_identity(const struct loader_entry *e)
{
	static const struct gpt_mem_ops ops = { .read_phys = read_phys };
	struct gpt_regs r = {
		.cr0 = CR0_PE | CR0_PG,
		.cr3 = e->cr3,
		.cr4 = CR4_PAE,
		.efer = EFER_LME | EFER_LMA,
	};
	u64 gpa = 0;
	u32 pfec = 0;

	CHECK(gpt_translate(&r, e->rip, GPT_ACC_EXEC, &ops, NULL, &gpa, &pfec) == 0);
	CHECK(gpa == e->rip);
}

/* Linux boot protocol: zero-page.rst offsets */
#define ZP_RSDP 0x070
#define ZP_EXT_RAMDISK_IMAGE 0x0c0
#define ZP_EXT_RAMDISK_SIZE 0x0c4
#define ZP_EXT_CMD_LINE_PTR 0x0c8
#define ZP_E820_ENTRIES 0x1e8
#define ZP_HDR_MAGIC 0x202
#define ZP_RAMDISK_IMAGE 0x218
#define ZP_RAMDISK_SIZE 0x21c
#define ZP_CMD_LINE_PTR 0x228
#define ZP_E820_TABLE 0x2d0

static u64 rd(const u8 *p, u32 off, u32 size)
{
	u64 v = 0;

	memcpy(&v, p + off, size);
	return v;
}

static void check_linux(const struct loader_entry *e, const struct setup *s)
{
	const u8 *zp = guest(e->rsi, PAGE_SIZE);
	u32 n = zp[ZP_E820_ENTRIES];

	CHECK(rd(zp, ZP_HDR_MAGIC, 4) == 0x53726448);
	CHECK(rd(zp, ZP_RSDP, 8) == s->rsdp);
	check_cmdline(rd(zp, ZP_CMD_LINE_PTR, 4) | rd(zp, ZP_EXT_CMD_LINE_PTR, 4) << 32, s);
	check_initrd(rd(zp, ZP_RAMDISK_IMAGE, 4) | rd(zp, ZP_EXT_RAMDISK_IMAGE, 4) << 32,
		     rd(zp, ZP_RAMDISK_SIZE, 4) | rd(zp, ZP_EXT_RAMDISK_SIZE, 4) << 32, s);
	CHECK(n >= 1 && n <= LOADER_E820_MAX);
	for (u32 i = 0; i < n; i++)
		check_map_entry(rd(zp, ZP_E820_TABLE + 20 * i, 8),
				rd(zp, ZP_E820_TABLE + 20 * i + 8, 8),
				(u32)rd(zp, ZP_E820_TABLE + 20 * i + 16, 4));
	check_gdt(e, e->mode == LOADER_ENTRY_LONG64);
}

/* Xen public/arch-x86/hvm/start_info.h */
static void check_pvh(const struct loader_entry *e, const struct setup *s)
{
	const u8 *si = guest(e->rbx, 56);
	u32 mods = (u32)rd(si, 12, 4), n = (u32)rd(si, 48, 4);
	const u8 *map;

	CHECK(rd(si, 0, 4) == HVM_START_MAGIC && rd(si, 4, 4) >= 1);
	CHECK(rd(si, 32, 8) == s->rsdp);
	check_cmdline(rd(si, 24, 8), s);
	CHECK(mods <= 1);
	if (mods) {
		const u8 *mod = guest(rd(si, 16, 8), 32);

		check_initrd(rd(mod, 0, 8), rd(mod, 8, 8), s);
	} else {
		CHECK(!s->initrd.len);
	}
	CHECK(n >= 1 && n <= LOADER_E820_MAX);
	map = guest(rd(si, 40, 8), 24 * n);
	for (u32 i = 0; i < n; i++)
		check_map_entry(rd(map, 24 * i, 8), rd(map, 24 * i + 8, 8),
				(u32)rd(map, 24 * i + 16, 4));
	check_gdt(e, false);
}

/* Multiboot 0.6.96 3.2, 3.3 */
static void check_mb1(const struct loader_entry *e, const struct setup *s)
{
	const struct mb1_info *info;
	const u8 *mmap;

	CHECK(e->rax == MB1_BOOT_MAGIC);
	CHECK(e->rbx >= MB1_INFO_GPA && e->rbx + sizeof(*info) <= MB1_INFO_LIMIT);
	info = guest(e->rbx, sizeof(*info));
	CHECK((info->flags & (MB1_INFO_CMDLINE | MB1_INFO_MMAP)) ==
	      (MB1_INFO_CMDLINE | MB1_INFO_MMAP));
	check_cmdline(info->cmdline, s);
	/* 3.3: lower memory from 0, upper from 1 MiB (in a layout the
	 * partition code makes: RAM from 0 beyond 1 MiB) */
	if ((info->flags & MB1_INFO_MEMORY) && s->real_layout)
		CHECK(ram_range(0, info->mem_lower * KiB) &&
		      ram_range(MiB, info->mem_upper * (u64)KiB));
	if (info->flags & MB1_INFO_MODS) {
		CHECK(info->mods_count == (s->has_initrd ? 1u : 0u));
		if (info->mods_count) {
			const struct mb1_module *m = guest(info->mods_addr, sizeof(*m));

			CHECK(m->mod_end >= m->mod_start && !(m->mod_start & (PAGE_SIZE - 1)));
			check_initrd(m->mod_start, m->mod_end - m->mod_start, s);
		}
	}
	mmap = guest(info->mmap_addr, info->mmap_length);
	for (u32 off = 0; off + sizeof(struct mb1_mmap_entry) <= info->mmap_length;) {
		struct mb1_mmap_entry m;

		memcpy(&m, mmap + off, sizeof(m));
		check_map_entry(m.addr, m.len, m.type);
		off += m.size + sizeof(m.size);
	}
	CHECK(e->mode == LOADER_ENTRY_PROTECTED32);
}

/* Where the loader wrote: apart from the structures it builds low. */
static void check_layout(bool mb1)
{
	for (u32 i = 0; i < ram.grants; i++) {
		u64 a = ram.gpa[i], end = ram.gpa[i] + ram.len[i];

		if (mb1) /* the information area is its own, or nobody's */
			CHECK((a >= MB1_INFO_GPA && end <= MB1_INFO_LIMIT) || end <= MB1_INFO_GPA ||
			      a >= MB1_INFO_LIMIT);
		else /* loader.h: the low structures, else at or above 1 MiB */
			CHECK(end <= LINUX_LOW_END || a >= LINUX_LOAD_MIN);
	}
}

static void check_loaded(const u8 *image, u64 len, const struct loader_entry *e,
			 const struct setup *s)
{
	bool bz = linux_probe(image, len), mb1 = !bz && mb1_probe(image, len);

	CHECK(bz || mb1 || pvh_probe(image, len));
	CHECK(e->mode == LOADER_ENTRY_PROTECTED32 || e->mode == LOADER_ENTRY_LONG64);
	/* EIP is 32 bits; the long-mode tables map [0, 4 GiB) */
	CHECK(e->rip < 4 * GiB && written(e->rip, 1));
	if (e->mode == LOADER_ENTRY_LONG64)
		check_identity(e);
	if (bz)
		check_linux(e, s);
	else if (mb1)
		check_mb1(e, s);
	else
		check_pvh(e, s);
	check_layout(mb1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct loader_entry entry = { 0 };
	struct setup s;
	char err[LOADER_ERR_MAX];
	const u8 *image;
	u64 len;
	int rc;

	if (!ready) {
		ram.buf[0] = aligned_alloc(PAGE_SIZE, LOW_MAX);
		ram.buf[1] = aligned_alloc(PAGE_SIZE, HIGH_MAX);
		CHECK(ram.buf[0] && ram.buf[1]);
		memset(ram.buf[0], SCRUB, LOW_MAX);
		memset(ram.buf[1], SCRUB, HIGH_MAX);
		ASAN_POISON_MEMORY_REGION(ram.buf[0], LOW_MAX);
		ASAN_POISON_MEMORY_REGION(ram.buf[1], HIGH_MAX);
		for (u32 i = 0; i < CMDLINE_MAX - 1; i++)
			cmdline_buf[i] = (char)('a' + i % 26);
		for (u32 i = 0; i < INITRD_MAX; i++)
			initrd_buf[i] = (u8)(i * 7 + i / PAGE_SIZE);
		ready = true;
	}
	if (size < HDR_LEN)
		return 0;
	/* the image alone on the heap, exactly its size: reads past it show */
	len = size - HDR_LEN;
	image = memcpy(malloc(len ? len : 1), data + HDR_LEN, len);
	make_partition(data, &s);

	memset(err, 0, sizeof(err));
	rc = loader_load(image, len, s.cmdline, s.has_initrd ? &s.initrd : NULL, s.rsdp, &mem,
			 &entry, err, sizeof(err));
	if (getenv("FUZZ_VERBOSE")) /* replaying one input: what happened */
		fprintf(stderr, "fuzz_loader: rc %d, entry mode %u rip %#llx: %s\n", rc, entry.mode,
			(unsigned long long)entry.rip, err);
	if (rc) {
		size_t n = strnlen(err, sizeof(err));

		/* one line, and a message at all */
		CHECK(rc < 0 && n > 0 && n < sizeof(err));
		CHECK(!strchr(err, '\n'));
	} else {
		check_loaded(image, len, &entry, &s);
	}
	ram_reset();
	done_partition(&s);
	free((void *)image);
	return 0;
}
