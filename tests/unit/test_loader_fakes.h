/*
 * What the guest loader tests share (test_loader*.c): test_support.h's fake
 * guest RAM behind a struct guest_mem, poisoned so that stray writes show,
 * with accessors and expectations on its bytes; exact-size image copies for
 * AddressSanitizer; the low structures every Linux bzImage and PVH load
 * builds (hv/loader/loader.c: the e820 map, the boot GDT), written out
 * from the specifications; and the lookup of a real Debian kernel under
 * build/linux/.
 */
#pragma once

#define _DEFAULT_SOURCE /* readlink, glob */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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

static inline void ram_new(u64 low, bool high)
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

/* The host address of guest [gpa, gpa + len), which must be RAM. */
static inline u8 *gp(u64 gpa, u64 len)
{
	u8 *p = fake_ram_ptr(&ram.fake, gpa, len);

	if (!p)
		fail_msg("guest range [%#llx, +%#llx) is not in the fake RAM",
			 (unsigned long long)gpa, (unsigned long long)len);
	return p;
}

static inline u64 rd(u64 gpa, u32 size)
{
	u64 v = 0;

	memcpy(&v, gp(gpa, size), size);
	return v;
}

static inline void expect_bytes(u64 gpa, const u8 *want, u64 len)
{
	u8 *p = gp(gpa, len);

	for (u64 i = 0; i < len; i++)
		if (p[i] != want[i])
			fail_msg("guest byte %#llx is %#x, want %#x", (unsigned long long)(gpa + i),
				 p[i], want[i]);
}

static inline void expect_fill(u64 gpa, u8 value, u64 len)
{
	u8 *p = gp(gpa, len);

	for (u64 i = 0; i < len; i++)
		if (p[i] != value)
			fail_msg("guest byte %#llx is %#x, want %#x", (unsigned long long)(gpa + i),
				 p[i], value);
}

static inline void expect_error(int rc, const char *part)
{
	if (rc >= 0)
		fail_msg("loaded, but should fail with \"...%s...\"", part);
	if (!err[0] || !strstr(err, part))
		fail_msg("error \"%s\" does not say \"%s\"", err, part);
}

static inline void fill_pattern(u8 *p, u64 len, u8 seed)
{
	for (u64 i = 0; i < len; i++)
		p[i] = (u8)(seed + i * 13 + (i >> 9));
}

#define ZP 0x8000ULL /* where loader.h says the zero page is */
#define CMDLINE 0x9000ULL

/* clang-format off */
static inline void put16(u8 *p, u64 off, u16 v) { memcpy(p + off, &v, 2); }
static inline void put32(u8 *p, u64 off, u32 v) { memcpy(p + off, &v, 4); }
static inline void put64(u8 *p, u64 off, u64 v) { memcpy(p + off, &v, 8); }
static inline u32 get32(const u8 *p, u64 off) { u32 v; memcpy(&v, p + off, 4); return v; }
static inline u64 get64(const u8 *p, u64 off) { u64 v; memcpy(&v, p + off, 8); return v; }
/* clang-format on */

/* An exactly sized heap copy of the first len bytes, for AddressSanitizer. */
static inline u8 *exact(const u8 *src, u64 len)
{
	u8 *p = malloc(len ? len : 1);

	assert_non_null(p);
	memcpy(p, src, len);
	return p;
}

static struct loader_entry entry;

static inline void load_ok(int rc)
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
static inline u32 expected_e820(struct e820 *e)
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
static inline void expect_desc(u64 d, u32 type, bool code64)
{
	u64 limit = (d & 0xffff) | ((d >> 32) & 0xf0000);
	u64 base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);

	assert_int_equal(limit, 0xfffff);
	assert_int_equal(base, 0);
	assert_int_equal((d >> 40) & 0xf, type);
	assert_true(d & BIT(44));	    /* S */
	assert_int_equal((d >> 45) & 3, 0); /* DPL */
	assert_true(d & BIT(47));	    /* P */
	assert_true(d & BIT(55));	    /* G */
	if (code64) {
		assert_true(d & BIT(53));  /* L */
		assert_false(d & BIT(54)); /* D must be 0 with L */
	} else {
		assert_false(d & BIT(53));
		assert_true(d & BIT(54)); /* 32-bit */
	}
}

static inline void expect_gdt(bool long_mode)
{
	assert_int_equal(entry.code_sel, 0x10);
	assert_int_equal(entry.data_sel, 0x18);
	assert_int_not_equal(entry.gdt_base, 0);
	assert_int_equal(entry.gdt_limit, 4 * 8 - 1);
	assert_true(entry.gdt_base + entry.gdt_limit < 0x9fc00);
	assert_int_equal(rd(entry.gdt_base, 8), 0);
	expect_desc(rd(entry.gdt_base + 0x10, 8), 0xb, long_mode); /* execute/read */
	expect_desc(rd(entry.gdt_base + 0x18, 8), 0x3, false);	   /* read/write */
}

/* ---- an initrd ---- */

static u8 initrd_data[3 * 4096 + 123];

static inline struct loader_module initrd_mod(u64 len)
{
	fill_pattern(initrd_data, sizeof(initrd_data), 0x77);
	assert_true(len <= sizeof(initrd_data));
	return (struct loader_module){ initrd_data, len, "initrd" };
}

/* ---- a real Debian kernel, when one is there ---- */

static inline u8 *read_file(const char *path, u64 *len)
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
static inline void repo_root(char *root, size_t size)
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
static inline u8 *find_kernel(const char *env, const char *const *patterns, char *path, size_t size,
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
