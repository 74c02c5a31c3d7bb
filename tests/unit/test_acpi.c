/*
 * drivers/acpi.c against real firmware tables (tests/unit/data/acpi/, see
 * its README.md) placed in a fake physical memory, and against damaged and
 * synthetic tables. The fake memory hands out an exact-size heap copy for
 * every range the parser maps, so AddressSanitizer catches any read outside
 * what the parser asked for.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "drivers/acpi.h"
#include "tests/unit/test_support.h"

/* ------------------------------------------------------------ fake memory */

#define FM_REGIONS 80
#define FM_MAPS 4096

struct region {
	u64 pa;
	u64 len;
	u8 *data;
};

struct fakemem {
	int n;
	struct region r[FM_REGIONS];
	void *maps[FM_MAPS];
	int nmaps;
	u64 max_len_asked;
};

static const void *fm_map(u64 pa, u64 len, void *ctx)
{
	struct fakemem *fm = ctx;

	if (len > fm->max_len_asked)
		fm->max_len_asked = len;
	for (int i = 0; i < fm->n; i++) {
		struct region *r = &fm->r[i];
		u8 *copy;

		if (pa < r->pa || len > r->len || pa - r->pa > r->len - len)
			continue;
		assert_true(fm->nmaps < FM_MAPS);
		copy = malloc(len ? len : 1);
		assert_non_null(copy);
		memcpy(copy, r->data + (pa - r->pa), len);
		fm->maps[fm->nmaps++] = copy;
		return copy;
	}
	return NULL;
}

static u8 *fm_add(struct fakemem *fm, u64 pa, const void *data, u64 len)
{
	struct region *r;

	assert_true(fm->n < FM_REGIONS);
	r = &fm->r[fm->n++];
	r->pa = pa;
	r->len = len;
	r->data = calloc(1, len ? len : 1);
	assert_non_null(r->data);
	if (data)
		memcpy(r->data, data, len);
	return r->data;
}

/* The bytes at pa, for damaging a table in place. */
static u8 *fm_at(struct fakemem *fm, u64 pa)
{
	for (int i = 0; i < fm->n; i++)
		if (pa >= fm->r[i].pa && pa < fm->r[i].pa + fm->r[i].len)
			return fm->r[i].data + (pa - fm->r[i].pa);
	fail_msg("nothing at %#lx", pa);
	return NULL;
}

static void fm_free(struct fakemem *fm)
{
	for (int i = 0; i < fm->n; i++)
		free(fm->r[i].data);
	for (int i = 0; i < fm->nmaps; i++)
		free(fm->maps[i]);
	memset(fm, 0, sizeof(*fm));
}

/* ------------------------------------------------------------ data files */

static char data_dir[4200];

static bool dir_ok(const char *dir)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/qemu-q35/layout.txt", dir);
	return access(path, R_OK) == 0;
}

/* The data lives beside this file: found from the working directory (make
 * runs tests from the repository root), from the binary's location
 * (build/unit/), or from $ACPI_TEST_DATA. */
static void find_data_dir(void)
{
	char exe[2048];
	ssize_t n;
	char *slash;

	if (data_dir[0])
		return;
	if (getenv("ACPI_TEST_DATA") && dir_ok(getenv("ACPI_TEST_DATA"))) {
		snprintf(data_dir, sizeof(data_dir), "%s", getenv("ACPI_TEST_DATA"));
		return;
	}
	snprintf(data_dir, sizeof(data_dir), "%s", __FILE__);
	slash = strrchr(data_dir, '/');
	if (slash) {
		snprintf(slash, sizeof(data_dir) - (size_t)(slash - data_dir), "/data/acpi");
		if (dir_ok(data_dir))
			return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		snprintf(data_dir, sizeof(data_dir), "%s/../../tests/unit/data/acpi", exe);
		if (dir_ok(data_dir))
			return;
	}
	fail_msg("tests/unit/data/acpi not found (set ACPI_TEST_DATA)");
}

static u8 *read_file(const char *set, const char *name, size_t *len)
{
	char path[4300];
	FILE *f;
	u8 *buf;
	long size;

	find_data_dir();
	snprintf(path, sizeof(path), "%s/%s/%s", data_dir, set, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	size = ftell(f);
	assert_true(size > 0);
	rewind(f);
	buf = malloc((size_t)size);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return buf;
}

/* Places every file of a set at the address its layout.txt gives. */
static void fm_load_set(struct fakemem *fm, const char *set)
{
	char path[4300], line[256], name[64];
	unsigned long long pa, len;
	FILE *f;

	find_data_dir();
	snprintf(path, sizeof(path), "%s/%s/layout.txt", data_dir, set);
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s", path);
	while (fgets(line, sizeof(line), f)) {
		size_t size;
		u8 *data;

		if (line[0] == '#' || sscanf(line, "%63s %llx %llu", name, &pa, &len) != 3)
			continue;
		data = read_file(set, name, &size);
		assert_int_equal(size, len);
		fm_add(fm, pa, data, size);
		free(data);
	}
	fclose(f);
}

/* ------------------------------------------------------ building tables */

struct buf {
	u8 d[16384];
	u32 n;
};

static void put8(struct buf *b, u8 v)
{
	assert_true(b->n < sizeof(b->d));
	b->d[b->n++] = v;
}

static void put16(struct buf *b, u16 v)
{
	put8(b, (u8)v);
	put8(b, (u8)(v >> 8));
}

static void put32(struct buf *b, u32 v)
{
	put16(b, (u16)v);
	put16(b, (u16)(v >> 16));
}

static void put64(struct buf *b, u64 v)
{
	put32(b, (u32)v);
	put32(b, (u32)(v >> 32));
}

static void put_bytes(struct buf *b, const void *p, u32 n)
{
	for (u32 i = 0; i < n; i++)
		put8(b, ((const u8 *)p)[i]);
}

static u8 sum8(const u8 *p, u64 n)
{
	u8 s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* Starts a table: a 36-byte header with length and checksum to be fixed */
static void table_begin(struct buf *b, const char *sig, u8 rev)
{
	b->n = 0;
	put_bytes(b, sig, 4);
	put32(b, 0);
	put8(b, rev);
	put8(b, 0);
	put_bytes(b, "TESSER", 6);
	put_bytes(b, "UNITTEST", 8);
	put32(b, 1);
	put32(b, 0x54455354);
	put32(b, 1);
}

static void fix_table(u8 *t, u32 len)
{
	memcpy(t + 4, &len, 4);
	t[9] = 0;
	t[9] = (u8)-sum8(t, len);
}

static void table_end(struct buf *b)
{
	fix_table(b->d, b->n);
}

static void fix_checksum(u8 *t)
{
	u32 len;

	memcpy(&len, t + 4, 4);
	t[9] = 0;
	t[9] = (u8)-sum8(t, len);
}

static void make_rsdp(u8 out[36], u8 rev, u32 rsdt, u64 xsdt)
{
	u32 len = 36;

	memset(out, 0, 36);
	memcpy(out, "RSD PTR ", 8);
	memcpy(out + 9, "TESSER", 6);
	out[15] = rev;
	memcpy(out + 16, &rsdt, 4);
	memcpy(out + 20, &len, 4);
	memcpy(out + 24, &xsdt, 8);
	out[8] = (u8)-sum8(out, 20);
	out[32] = (u8)-sum8(out, 36);
}

/* A root table at pa listing the given tables */
static void put_root(struct fakemem *fm, u64 pa, bool xsdt, const u64 *entries, int n)
{
	struct buf b;

	table_begin(&b, xsdt ? "XSDT" : "RSDT", 1);
	for (int i = 0; i < n; i++) {
		if (xsdt)
			put64(&b, entries[i]);
		else
			put32(&b, (u32)entries[i]);
	}
	table_end(&b);
	fm_add(fm, pa, b.d, b.n);
}

#define SYN_RSDP 0xe0000ULL
#define SYN_XSDT 0x1000ULL
#define SYN_RSDT 0x1800ULL

/* An ACPI 2.0 RSDP and an XSDT (and an RSDT) listing the given tables */
static u64 put_rsdp_xsdt(struct fakemem *fm, const u64 *entries, int n)
{
	u8 rsdp[36];

	put_root(fm, SYN_XSDT, true, entries, n);
	put_root(fm, SYN_RSDT, false, entries, n);
	make_rsdp(rsdp, 2, SYN_RSDT, SYN_XSDT);
	fm_add(fm, SYN_RSDP, rsdp, sizeof(rsdp));
	return SYN_RSDP;
}

static bool has_warning(const struct acpi_info *ai, const char *needle)
{
	for (u32 i = 0; i < ai->warning_count && i < ACPI_MAX_WARNINGS; i++)
		if (strstr(ai->warning[i], needle))
			return true;
	return false;
}

static void print_warnings(const struct acpi_info *ai)
{
	for (u32 i = 0; i < ai->warning_count && i < ACPI_MAX_WARNINGS; i++)
		print_message("  warning: %s\n", ai->warning[i]);
}

static struct acpi_info ai; /* about 10 KiB: not on the stack */

/* --------------------------------------------------- the real table sets */

/* tests/unit/data/acpi/qemu-q35/layout.txt */
#define Q35_RSDP 0x000f59e0ULL
#define Q35_RSDT 0x7ffe23f8ULL
#define Q35_FACP 0x7ffe21d8ULL
#define Q35_DSDT 0x7ffe0040ULL
#define Q35_APIC 0x7ffe22ccULL
#define Q35_HPET 0x7ffe235cULL
#define Q35_MCFG 0x7ffe2394ULL
#define Q35_WAET 0x7ffe23d0ULL

/* Everything iasl -d shows for QEMU 7.2 q35 -smp 4 (see the README). */
static void check_q35(const struct acpi_info *a)
{
	static const struct {
		u8 source;
		u32 gsi;
		u16 flags;
	} isos[] = { { 0, 2, 0 }, { 5, 5, 0xd }, { 9, 9, 0xd }, { 10, 10, 0xd }, { 11, 11, 0xd } };

	/* MADT */
	assert_true(a->have_madt);
	assert_int_equal(a->lapic_pa, 0xfee00000);
	assert_true(a->pcat_compat);
	assert_int_equal(a->cpu_count, 4);
	for (u32 i = 0; i < 4; i++) {
		assert_int_equal(a->cpus[i].apic_id, i);
		assert_int_equal(a->cpus[i].uid, i);
		assert_false(a->cpus[i].x2apic_entry);
	}
	assert_int_equal(a->cpu_disabled_count, 0);
	assert_int_equal(a->ioapic_count, 1);
	assert_int_equal(a->ioapics[0].id, 0);
	assert_int_equal(a->ioapics[0].pa, 0xfec00000);
	assert_int_equal(a->ioapics[0].gsi_base, 0);
	assert_int_equal(a->iso_count, ARRAY_SIZE(isos));
	for (size_t i = 0; i < ARRAY_SIZE(isos); i++) {
		assert_int_equal(a->isos[i].bus, 0);
		assert_int_equal(a->isos[i].source, isos[i].source);
		assert_int_equal(a->isos[i].gsi, isos[i].gsi);
		assert_int_equal(a->isos[i].flags, isos[i].flags);
	}
	assert_int_equal(a->lapic_nmi_count, 1);
	assert_int_equal(a->lapic_nmis[0].uid, ACPI_UID_ALL);
	assert_int_equal(a->lapic_nmis[0].lint, 1);

	/* FADT */
	assert_true(a->have_fadt);
	assert_int_equal(a->fadt_revision, 3);
	assert_int_equal(a->fadt_flags, 0x84a5);
	assert_false(a->hw_reduced);
	assert_int_equal(a->sci_irq, 9);
	assert_int_equal(a->smi_cmd, 0xb2);
	assert_int_equal(a->acpi_enable, 0x02);
	assert_int_equal(a->pm_tmr_port, 0x608);
	assert_false(a->pm_tmr_32bit);
	assert_int_equal(a->pm1a_cnt.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(a->pm1a_cnt.address, 0x604);
	assert_int_equal(a->pm1a_cnt.bit_width, 16);
	assert_int_equal(a->pm1b_cnt.address, 0);
	assert_true(a->reset_supported);
	assert_int_equal(a->reset_reg.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(a->reset_reg.address, 0xcf9);
	assert_int_equal(a->reset_reg.bit_width, 8);
	assert_int_equal(a->reset_value, 0x0f);
	assert_int_equal(a->dsdt_pa, Q35_DSDT);
	assert_int_equal(a->iapc_boot_arch, ACPI_BOOT_8042);
	assert_int_equal(a->century, 0x32);
	assert_int_equal(a->sleep_control.address, 0);

	/* DSDT: Name (_S5, Package (0x04) {Zero, Zero, Zero, Zero}) */
	assert_true(a->have_s5);
	assert_int_equal(a->s5_slp_typ_a, 0);
	assert_int_equal(a->s5_slp_typ_b, 0);

	/* MCFG */
	assert_int_equal(a->mcfg_count, 1);
	assert_int_equal(a->mcfg[0].base, 0xb0000000);
	assert_int_equal(a->mcfg[0].segment, 0);
	assert_int_equal(a->mcfg[0].bus_start, 0);
	assert_int_equal(a->mcfg[0].bus_end, 255);

	assert_int_equal(a->hpet_pa, Q35_HPET);
	assert_int_equal(a->dmar_pa, 0);
	assert_int_equal(a->ivrs_pa, 0);
	assert_int_equal(a->truncated, 0);
}

/* The machine's own RSDP (ACPI 1.0, revision 0) and RSDT, unchanged. */
static void test_q35_native(void **state)
{
	static const struct {
		const char *sig;
		u64 pa;
		u32 len;
	} tables[] = {
		{ "FACP", Q35_FACP, 244 }, { "APIC", Q35_APIC, 144 }, { "HPET", Q35_HPET, 56 },
		{ "MCFG", Q35_MCFG, 60 },  { "WAET", Q35_WAET, 40 },  { "DSDT", Q35_DSDT, 8600 },
	};
	struct fakemem fm = { 0 };

	(void)state;
	fm_load_set(&fm, "qemu-q35");
	assert_int_equal(acpi_parse(&ai, Q35_RSDP, NULL, 0, fm_map, &fm), 0);
	print_warnings(&ai);
	assert_int_equal(ai.warning_count, 0);
	assert_int_equal(ai.rsdp_pa, Q35_RSDP);
	assert_int_equal(ai.revision, 0);
	assert_string_equal(ai.oem_id, "BOCHS ");
	assert_int_equal(ai.rsdt_pa, Q35_RSDT);
	assert_int_equal(ai.xsdt_pa, 0);
	assert_false(ai.used_xsdt);
	assert_int_equal(ai.table_count, ARRAY_SIZE(tables));
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++) {
		assert_string_equal(ai.tables[i].sig, tables[i].sig);
		assert_int_equal(ai.tables[i].pa, tables[i].pa);
		assert_int_equal(ai.tables[i].len, tables[i].len);
		assert_true(ai.tables[i].valid);
	}
	check_q35(&ai);
	fm_free(&fm);
}

/* The same tables behind an ACPI 2.0 RSDP and XSDT, the RSDP as a copy
 * from the loader (no physical address), as UEFI would hand it over. */
static void test_q35_xsdt_copy(void **state)
{
	static const u64 entries[] = { Q35_FACP, Q35_APIC, Q35_HPET, Q35_MCFG, Q35_WAET };
	struct fakemem fm = { 0 };
	u8 rsdp[36];

	(void)state;
	fm_load_set(&fm, "qemu-q35");
	put_root(&fm, SYN_XSDT, true, entries, ARRAY_SIZE(entries));
	make_rsdp(rsdp, 2, (u32)Q35_RSDT, SYN_XSDT);
	assert_int_equal(acpi_parse(&ai, 0, rsdp, sizeof(rsdp), fm_map, &fm), 0);
	print_warnings(&ai);
	assert_int_equal(ai.warning_count, 0);
	assert_int_equal(ai.rsdp_pa, 0);
	assert_int_equal(ai.revision, 2);
	assert_string_equal(ai.oem_id, "TESSER");
	assert_int_equal(ai.xsdt_pa, SYN_XSDT);
	assert_true(ai.used_xsdt);
	check_q35(&ai);
	fm_free(&fm);
}

/* The development host (Firecracker on EPYC): HW-reduced, no \_S5. */
static void test_host_epyc(void **state)
{
	static const u64 entries[] = { 0xa0c97, 0xa0dab, 0xa0df3 }; /* FACP APIC MCFG */
	struct fakemem fm = { 0 };
	u64 rsdp;

	(void)state;
	fm_load_set(&fm, "host-epyc");
	rsdp = put_rsdp_xsdt(&fm, entries, ARRAY_SIZE(entries));
	assert_int_equal(acpi_parse(&ai, rsdp, NULL, 0, fm_map, &fm), 0);
	print_warnings(&ai);
	assert_true(ai.used_xsdt);

	/* MADT: the I/O APIC comes first, then two CPUs */
	assert_true(ai.have_madt);
	assert_int_equal(ai.lapic_pa, 0xfee00000);
	assert_false(ai.pcat_compat);
	assert_int_equal(ai.cpu_count, 2);
	assert_int_equal(ai.cpus[0].apic_id, 0);
	assert_int_equal(ai.cpus[1].apic_id, 1);
	assert_int_equal(ai.cpus[1].uid, 1);
	assert_int_equal(ai.ioapic_count, 1);
	assert_int_equal(ai.ioapics[0].pa, 0xfec00000);
	assert_int_equal(ai.iso_count, 0);

	/* FADT revision 6, HW-reduced: only X_DSDT is set */
	assert_true(ai.have_fadt);
	assert_int_equal(ai.fadt_revision, 6);
	assert_int_equal(ai.fadt_flags, 0x00100030);
	assert_true(ai.hw_reduced);
	assert_int_equal(ai.iapc_boot_arch, ACPI_BOOT_VGA_NOT_PRESENT);
	assert_int_equal(ai.dsdt_pa, 0x9fd44);
	assert_int_equal(ai.pm_tmr_port, 0);
	assert_int_equal(ai.pm1a_cnt.address, 0);
	assert_int_equal(ai.sleep_control.address, 0);
	assert_false(ai.reset_supported);
	assert_int_equal(ai.sci_irq, 0);

	/* its DSDT is valid and has no \_S5 */
	assert_false(ai.have_s5);
	assert_true(has_warning(&ai, "no \\_S5"));
	assert_int_equal(ai.warning_count, 1);
	assert_string_equal(ai.tables[ai.table_count - 1].sig, "DSDT");
	assert_true(ai.tables[ai.table_count - 1].valid);

	assert_int_equal(ai.mcfg_count, 1);
	assert_int_equal(ai.mcfg[0].base, 0xeec00000);
	assert_int_equal(ai.mcfg[0].bus_start, 0);
	assert_int_equal(ai.mcfg[0].bus_end, 0);
	fm_free(&fm);
}

/* Bochs BIOS: ACPI 1.0 RSDP and a 116-byte revision 1 FADT. */
static void test_bochs(void **state)
{
	struct fakemem fm = { 0 };

	(void)state;
	fm_load_set(&fm, "bochs");
	assert_int_equal(acpi_parse(&ai, 0xf9fe0, NULL, 0, fm_map, &fm), 0);
	print_warnings(&ai);
	assert_int_equal(ai.warning_count, 0);
	assert_int_equal(ai.revision, 0);
	assert_int_equal(ai.rsdt_pa, 0x1fff0000);
	assert_false(ai.used_xsdt);

	assert_int_equal(ai.cpu_count, 2);
	assert_int_equal(ai.ioapic_count, 1);
	assert_int_equal(ai.ioapics[0].id, 2);
	assert_int_equal(ai.ioapics[0].pa, 0xfec00000);
	assert_int_equal(ai.iso_count, 1);
	assert_int_equal(ai.isos[0].source, 0);
	assert_int_equal(ai.isos[0].gsi, 2);

	assert_int_equal(ai.fadt_revision, 1);
	assert_int_equal(ai.sci_irq, 9);
	assert_int_equal(ai.pm_tmr_port, 0xb008);
	assert_true(ai.pm_tmr_alone);
	assert_int_equal(ai.pm1a_cnt.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(ai.pm1a_cnt.address, 0xb004);
	assert_int_equal(ai.pm1a_cnt.bit_width, 16);
	assert_false(ai.reset_supported); /* the FADT ends before RESET_REG */
	assert_int_equal(ai.reset_reg.address, 0);
	assert_int_equal(ai.iapc_boot_arch, 0);
	assert_int_equal(ai.dsdt_pa, 0x1fff0100);
	assert_true(ai.have_s5);
	assert_int_equal(ai.s5_slp_typ_a, 0);
	assert_int_equal(ai.s5_slp_typ_b, 0);
	assert_int_equal(ai.mcfg_count, 0);
	assert_int_equal(ai.hpet_pa, 0x1fff0fd8);
	/* RSDT order, then the DSDT */
	assert_int_equal(ai.table_count, 5);
	assert_string_equal(ai.tables[0].sig, "FACP");
	assert_string_equal(ai.tables[1].sig, "APIC");
	assert_string_equal(ai.tables[2].sig, "SSDT");
	assert_int_equal(ai.tables[2].pa, 0x1fff0f38);
	assert_string_equal(ai.tables[3].sig, "HPET");
	assert_string_equal(ai.tables[4].sig, "DSDT");
	fm_free(&fm);
}

/* ----------------------------------------------------- damaged tables */

static void test_bad_checksum_skipped(void **state)
{
	struct fakemem fm = { 0 };

	(void)state;
	fm_load_set(&fm, "qemu-q35");
	fm_at(&fm, Q35_APIC)[20] ^= 0x01; /* in OEM table ID */
	assert_int_equal(acpi_parse(&ai, Q35_RSDP, NULL, 0, fm_map, &fm), 0);
	assert_false(ai.have_madt);
	assert_int_equal(ai.cpu_count, 0);
	assert_string_equal(ai.tables[1].sig, "APIC");
	assert_false(ai.tables[1].valid);
	assert_true(has_warning(&ai, "APIC at 0x7ffe22cc: bad checksum"));
	assert_true(has_warning(&ai, "no MADT"));
	/* the others still count */
	assert_int_equal(ai.pm_tmr_port, 0x608);
	assert_true(ai.have_s5);
	assert_int_equal(ai.mcfg_count, 1);
	fm_free(&fm);

	/* a bad DSDT checksum loses \_S5 only */
	fm_load_set(&fm, "qemu-q35");
	fm_at(&fm, Q35_DSDT)[100] ^= 0xff;
	assert_int_equal(acpi_parse(&ai, Q35_RSDP, NULL, 0, fm_map, &fm), 0);
	assert_false(ai.have_s5);
	assert_true(has_warning(&ai, "DSDT at 0x7ffe0040: bad checksum"));
	assert_int_equal(ai.cpu_count, 4);
	fm_free(&fm);
}

static void test_truncated_tables(void **state)
{
	struct fakemem fm = { 0 };
	size_t len;
	u8 *madt = read_file("qemu-q35", "APIC.bin", &len);
	u64 entries[3];
	u32 big = 0x7fffffff, tiny = 20;
	struct buf b;

	(void)state;
	/* the MADT's memory ends before its length: cannot be mapped */
	fm_add(&fm, 0x10000, madt, 100);
	/* a header claiming 2 GiB, and one shorter than a header */
	table_begin(&b, "APIC", 1);
	table_end(&b);
	memcpy(b.d + 4, &big, 4);
	fm_add(&fm, 0x20000, b.d, b.n);
	memcpy(b.d + 4, &tiny, 4);
	fm_add(&fm, 0x30000, b.d, b.n);
	entries[0] = 0x10000;
	entries[1] = 0x20000;
	entries[2] = 0x30000;
	put_rsdp_xsdt(&fm, entries, 3);
	assert_int_equal(acpi_parse(&ai, SYN_RSDP, NULL, 0, fm_map, &fm), 0);
	print_warnings(&ai);
	assert_false(ai.have_madt);
	assert_true(has_warning(&ai, "APIC at 0x10000: cannot map 144 bytes"));
	assert_true(has_warning(&ai, "APIC at 0x20000: bad length 2147483647"));
	assert_true(has_warning(&ai, "APIC at 0x30000: bad length 20"));
	assert_int_equal(ai.table_count, 3);
	for (int i = 0; i < 3; i++)
		assert_false(ai.tables[i].valid);
	/* never asked to map more than the largest sane table */
	assert_true(fm.max_len_asked <= 16 * MiB);
	free(madt);
	fm_free(&fm);
}

/* The q35 FADT cut to ACPI 1.0 size (116 bytes) and to 60 bytes. */
static void test_short_fadt(void **state)
{
	struct fakemem fm = { 0 };
	size_t len;
	u8 *fadt = read_file("qemu-q35", "FACP.bin", &len);
	u64 entry = 0x10000;

	(void)state;
	fix_table(fadt, 116);
	fm_load_set(&fm, "qemu-q35"); /* for the DSDT */
	fm_add(&fm, entry, fadt, 116);
	put_rsdp_xsdt(&fm, &entry, 1);
	assert_int_equal(acpi_parse(&ai, SYN_RSDP, NULL, 0, fm_map, &fm), 0);
	assert_true(ai.have_fadt);
	assert_int_equal(ai.fadt_flags, 0x84a5);
	assert_int_equal(ai.pm_tmr_port, 0x608);
	assert_int_equal(ai.pm1a_cnt.address, 0x604);
	assert_int_equal(ai.pm1a_cnt.bit_width, 16);
	assert_false(ai.reset_supported); /* RESET_REG_SUP, but no register */
	assert_int_equal(ai.iapc_boot_arch, 0);
	assert_int_equal(ai.dsdt_pa, Q35_DSDT); /* from the 32-bit field */
	assert_true(ai.have_s5);
	fm_free(&fm);

	free(fadt);
	fadt = read_file("qemu-q35", "FACP.bin", &len);
	fix_table(fadt, 60);
	fm_load_set(&fm, "qemu-q35");
	fm_add(&fm, entry, fadt, 60);
	put_rsdp_xsdt(&fm, &entry, 1);
	assert_int_equal(acpi_parse(&ai, SYN_RSDP, NULL, 0, fm_map, &fm), 0);
	assert_true(ai.have_fadt);
	assert_int_equal(ai.sci_irq, 9);
	assert_int_equal(ai.fadt_flags, 0);
	assert_int_equal(ai.pm_tmr_port, 0);
	assert_int_equal(ai.pm1a_cnt.address, 0);
	assert_true(has_warning(&ai, "shorter than ACPI 1.0"));
	free(fadt);
	fm_free(&fm);
}

/* Offsets in the FADT (ACPI 6.4 5.2.9), for damaging a copy of q35's. */
#define FADT_DSDT 40
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK 76
#define FADT_FLAGS 112
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK 208

static void put_fadt_variant(struct fakemem *fm, const u8 *fadt, u32 len)
{
	u64 entry = 0x10000;

	fm_load_set(fm, "qemu-q35"); /* for the DSDT */
	fm_add(fm, entry, fadt, len);
	fix_checksum(fm_at(fm, entry));
	put_rsdp_xsdt(fm, &entry, 1);
}

/* The X_ fields win over the 32-bit ones when non-zero. */
static void test_fadt_x_fields(void **state)
{
	struct fakemem fm = { 0 };
	size_t len;
	u8 *orig = read_file("qemu-q35", "FACP.bin", &len);
	u8 f[244];
	u32 v;

	(void)state;
	assert_int_equal(len, sizeof(f));
	memcpy(f, orig, len);
	v = 0x12345678;
	memcpy(f + FADT_DSDT, &v, 4);
	v = 0x4320;
	memcpy(f + FADT_PM1A_CNT_BLK, &v, 4);
	v = 0x1230;
	memcpy(f + FADT_PM_TMR_BLK, &v, 4);
	put_fadt_variant(&fm, f, sizeof(f));
	assert_int_equal(acpi_parse(&ai, SYN_RSDP, NULL, 0, fm_map, &fm), 0);
	assert_int_equal(ai.dsdt_pa, Q35_DSDT);
	assert_true(ai.have_s5);
	assert_int_equal(ai.pm_tmr_port, 0x608);
	assert_int_equal(ai.pm1a_cnt.address, 0x604);
	assert_true(has_warning(&ai, "DSDT 0x12345678 and X_DSDT 0x7ffe0040 differ"));
	assert_true(has_warning(&ai, "PM1a_CNT_BLK 0x4320 and X_PM1a_CNT_BLK 0x604 differ"));
	fm_free(&fm);

	/* X_PM_TMR_BLK in memory space is not a port: the 32-bit block is
	 * used; X_PM1a_CNT_BLK zero: likewise; TMR_VAL_EXT: 32-bit timer;
	 * no RESET_REG_SUP: no reset register */
	f[FADT_X_PM_TMR_BLK] = ACPI_GAS_SYSTEM_MEMORY;
	memset(f + FADT_X_PM1A_CNT_BLK, 0, 12);
	memcpy(&v, f + FADT_FLAGS, 4);
	v = (v | ACPI_FADT_TMR_VAL_EXT) & ~(u32)ACPI_FADT_RESET_REG_SUP;
	memcpy(f + FADT_FLAGS, &v, 4);
	put_fadt_variant(&fm, f, sizeof(f));
	assert_int_equal(acpi_parse(&ai, SYN_RSDP, NULL, 0, fm_map, &fm), 0);
	assert_int_equal(ai.pm_tmr_port, 0x1230);
	assert_true(ai.pm_tmr_32bit);
	assert_true(has_warning(&ai, "X_PM_TMR_BLK in address space 0"));
	assert_int_equal(ai.pm1a_cnt.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(ai.pm1a_cnt.address, 0x4320);
	assert_int_equal(ai.pm1a_cnt.bit_width, 16);
	assert_false(ai.reset_supported);
	assert_int_equal(ai.reset_reg.address, 0xcf9); /* described, not usable */
	fm_free(&fm);

	/* HW_REDUCED_ACPI: the fixed hardware fields are ignored, the reset
	 * register and the sleep registers are not */
	memcpy(f, orig, len);
	memcpy(&v, f + FADT_FLAGS, 4);
	v |= ACPI_FADT_HW_REDUCED_ACPI;
	memcpy(f + FADT_FLAGS, &v, 4);
	put_fadt_variant(&fm, f, sizeof(f));
	assert_int_equal(acpi_parse(&ai, SYN_RSDP, NULL, 0, fm_map, &fm), 0);
	assert_true(ai.hw_reduced);
	assert_int_equal(ai.sci_irq, 0);
	assert_int_equal(ai.smi_cmd, 0);
	assert_int_equal(ai.pm_tmr_port, 0);
	assert_int_equal(ai.pm1a_cnt.address, 0);
	assert_int_equal(ai.century, 0);
	assert_true(ai.reset_supported);
	assert_int_equal(ai.dsdt_pa, Q35_DSDT);
	assert_true(ai.have_s5);
	free(orig);
	fm_free(&fm);
}

/*
 * The PM timer's ports may be given to a partition only when they hold the
 * timer alone (ACPI 6.4 4.8.3.3, 5.2.9): q35's do; a FADT that puts them
 * over GPE0, PM1a_CNT (X_ field), SMI_CMD or the reset register, or gives
 * the timer fewer than 4 bytes, does not.
 */
#define FADT_SMI_CMD 48
#define FADT_GPE0_BLK 80
#define FADT_PM_TMR_LEN 91
#define FADT_RESET_REG 116

static void test_fadt_pm_timer_alone(void **state)
{
	struct fakemem fm = { 0 };
	size_t len;
	u8 *orig = read_file("qemu-q35", "FACP.bin", &len);
	u8 f[244];
	u64 a;
	u32 v;

	(void)state;
	memcpy(f, orig, sizeof(f));
	put_fadt_variant(&fm, f, sizeof(f));
	assert_int_equal(acpi_parse(&ai, SYN_RSDP, NULL, 0, fm_map, &fm), 0);
	assert_int_equal(ai.pm_tmr_port, 0x608);
	assert_true(ai.pm_tmr_alone);
	fm_free(&fm);
	for (int c = 0; c < 5; c++) {
		memcpy(f, orig, sizeof(f));
		switch (c) {
		case 0: /* GPE0 at the timer's last two bytes */
			v = 0x60a;
			memcpy(f + FADT_GPE0_BLK, &v, 4);
			break;
		case 1: /* X_PM1a_CNT_BLK at 0x609, 16 bits */
			a = 0x609;
			memcpy(f + FADT_X_PM1A_CNT_BLK + 4, &a, 8);
			break;
		case 2:
			v = 0x60b;
			memcpy(f + FADT_SMI_CMD, &v, 4);
			break;
		case 3: /* the reset register, in I/O space, at 0x608 */
			f[FADT_RESET_REG] = ACPI_GAS_SYSTEM_IO;
			a = 0x608;
			memcpy(f + FADT_RESET_REG + 4, &a, 8);
			break;
		default: /* a 2-byte block, from the 32-bit field */
			memset(f + FADT_X_PM_TMR_BLK, 0, 12);
			f[FADT_PM_TMR_LEN] = 2;
			break;
		}
		put_fadt_variant(&fm, f, sizeof(f));
		assert_int_equal(acpi_parse(&ai, SYN_RSDP, NULL, 0, fm_map, &fm), 0);
		print_message("case %d\n", c);
		assert_int_equal(ai.pm_tmr_port, 0x608);
		assert_false(ai.pm_tmr_alone);
		assert_true(
			has_warning(&ai, "FADT: PM timer ports 0x608-0x60b hold other registers"));
		fm_free(&fm);
	}
	free(orig);
}

/* ------------------------------------------------------- MADT entries */

static void madt_begin(struct buf *b, u32 lapic, u32 flags)
{
	table_begin(b, "APIC", 5);
	put32(b, lapic);
	put32(b, flags);
}

static void madt_lapic(struct buf *b, u8 uid, u8 id, u32 flags)
{
	put8(b, ACPI_MADT_LAPIC);
	put8(b, 8);
	put8(b, uid);
	put8(b, id);
	put32(b, flags);
}

static void madt_x2apic(struct buf *b, u32 id, u32 uid, u32 flags)
{
	put8(b, ACPI_MADT_X2APIC);
	put8(b, 16);
	put16(b, 0);
	put32(b, id);
	put32(b, flags);
	put32(b, uid);
}

static void madt_ioapic(struct buf *b, u8 id, u32 pa, u32 gsi)
{
	put8(b, ACPI_MADT_IOAPIC);
	put8(b, 12);
	put8(b, id);
	put8(b, 0);
	put32(b, pa);
	put32(b, gsi);
}

static void madt_iso(struct buf *b, u8 bus, u8 src, u32 gsi, u16 flags)
{
	put8(b, ACPI_MADT_ISO);
	put8(b, 10);
	put8(b, bus);
	put8(b, src);
	put32(b, gsi);
	put16(b, flags);
}

/* Parses one synthetic MADT as the only table. */
static int parse_one(struct fakemem *fm, struct buf *b)
{
	u64 entry = 0x10000;

	fm_add(fm, entry, b->d, b->n);
	put_rsdp_xsdt(fm, &entry, 1);
	return acpi_parse(&ai, SYN_RSDP, NULL, 0, fm_map, fm);
}

static void test_madt_zero_length_entry(void **state)
{
	static const u8 bad_len[] = { 0, 1 };
	struct fakemem fm = { 0 };
	struct buf b;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_len); i++) {
		madt_begin(&b, 0xfee00000, 0);
		madt_lapic(&b, 0, 0, ACPI_LAPIC_ENABLED);
		put8(&b, ACPI_MADT_LAPIC);
		put8(&b, bad_len[i]);
		put16(&b, 0x0101);
		put32(&b, ACPI_LAPIC_ENABLED);
		madt_lapic(&b, 2, 2, ACPI_LAPIC_ENABLED);
		table_end(&b);
		assert_int_equal(parse_one(&fm, &b), 0);
		assert_int_equal(ai.cpu_count, 1);
		assert_true(has_warning(&ai, "entry at 0x34 has length"));
		fm_free(&fm);
	}

	/* an entry running past the end of the table */
	madt_begin(&b, 0xfee00000, 0);
	madt_lapic(&b, 0, 0, ACPI_LAPIC_ENABLED);
	put8(&b, ACPI_MADT_X2APIC);
	put8(&b, 16);
	put32(&b, 0);
	table_end(&b);
	assert_int_equal(parse_one(&fm, &b), 0);
	assert_int_equal(ai.cpu_count, 1);
	assert_true(has_warning(&ai, "entry at 0x34 has length 16"));
	fm_free(&fm);

	/* a known type shorter than its structure is skipped, the rest read;
	 * unknown types (here 0x7f) are passed over */
	madt_begin(&b, 0xfee00000, 0);
	put8(&b, ACPI_MADT_IOAPIC);
	put8(&b, 6);
	put32(&b, 0);
	put8(&b, 0x7f);
	put8(&b, 3);
	put8(&b, 0);
	madt_lapic(&b, 0, 5, ACPI_LAPIC_ENABLED);
	put8(&b, 0); /* one stray byte */
	table_end(&b);
	assert_int_equal(parse_one(&fm, &b), 0);
	assert_int_equal(ai.ioapic_count, 0);
	assert_int_equal(ai.cpu_count, 1);
	assert_int_equal(ai.cpus[0].apic_id, 5);
	assert_true(has_warning(&ai, "type 1 entry at 0x2c: length 6 < 12"));
	assert_true(has_warning(&ai, "1 stray bytes"));
	fm_free(&fm);
}

static void test_madt_cpus(void **state)
{
	struct fakemem fm = { 0 };
	struct buf b;

	(void)state;
	madt_begin(&b, 0xfee00000, ACPI_MADT_PCAT_COMPAT);
	madt_lapic(&b, 0, 0, ACPI_LAPIC_ENABLED);
	madt_lapic(&b, 1, 1, ACPI_LAPIC_ENABLED);
	madt_lapic(&b, 2, 2, 0);			 /* not present */
	madt_lapic(&b, 3, 3, ACPI_LAPIC_ONLINE_CAPABLE); /* hot-pluggable */
	madt_lapic(&b, 4, 0xff, ACPI_LAPIC_ENABLED);	 /* broadcast ID */
	madt_x2apic(&b, 1, 1, ACPI_LAPIC_ENABLED);	 /* CPU 1 again */
	madt_x2apic(&b, 300, 300, ACPI_LAPIC_ENABLED);
	madt_x2apic(&b, 301, 301, 0);
	madt_lapic(&b, 9, 0, ACPI_LAPIC_ENABLED); /* ID 0 again */
	/* Local APIC address override */
	put8(&b, ACPI_MADT_LAPIC_OVERRIDE);
	put8(&b, 12);
	put16(&b, 0);
	put64(&b, 0x1fee00000ULL);
	/* x2APIC NMI for UID 300 on LINT1 */
	put8(&b, ACPI_MADT_X2APIC_NMI);
	put8(&b, 12);
	put16(&b, 5);
	put32(&b, 300);
	put8(&b, 1);
	put8(&b, 0);
	put16(&b, 0);
	madt_iso(&b, 1, 3, 3, 0); /* not ISA */
	table_end(&b);
	assert_int_equal(parse_one(&fm, &b), 0);
	print_warnings(&ai);
	assert_true(ai.pcat_compat);
	assert_int_equal(ai.lapic_pa, 0x1fee00000ULL);
	assert_int_equal(ai.cpu_count, 3);
	assert_int_equal(ai.cpus[0].apic_id, 0);
	assert_int_equal(ai.cpus[1].apic_id, 1);
	assert_false(ai.cpus[1].x2apic_entry);
	assert_int_equal(ai.cpus[2].apic_id, 300);
	assert_int_equal(ai.cpus[2].uid, 300);
	assert_true(ai.cpus[2].x2apic_entry);
	assert_int_equal(ai.cpu_disabled_count, 3);
	assert_true(has_warning(&ai, "APIC ID 0xff"));
	assert_true(has_warning(&ai, "APIC ID 0 listed twice"));
	assert_false(has_warning(&ai, "APIC ID 1 listed twice"));
	assert_int_equal(ai.lapic_nmi_count, 1);
	assert_int_equal(ai.lapic_nmis[0].uid, 300);
	assert_int_equal(ai.lapic_nmis[0].lint, 1);
	assert_int_equal(ai.lapic_nmis[0].flags, 5);
	assert_int_equal(ai.iso_count, 0);
	assert_true(has_warning(&ai, "override on bus 1"));
	fm_free(&fm);
}

static void test_madt_bounded(void **state)
{
	struct fakemem fm = { 0 };
	static struct buf b;

	(void)state;
	madt_begin(&b, 0xfee00000, 0);
	for (u32 i = 0; i < 300; i++)
		madt_x2apic(&b, i, i, ACPI_LAPIC_ENABLED);
	for (u32 i = 0; i < 20; i++)
		madt_ioapic(&b, (u8)i, 0xfec00000 + i * 0x1000, i * 24);
	for (u32 i = 0; i < 40; i++)
		madt_iso(&b, 0, (u8)i, i, 0);
	table_end(&b);
	assert_int_equal(parse_one(&fm, &b), 0);
	assert_int_equal(ai.cpu_count, ACPI_MAX_CPUS);
	assert_int_equal(ai.cpus[ACPI_MAX_CPUS - 1].apic_id, ACPI_MAX_CPUS - 1);
	assert_int_equal(ai.ioapic_count, ACPI_MAX_IOAPICS);
	assert_int_equal(ai.iso_count, ACPI_MAX_ISOS);
	assert_int_equal(ai.truncated, ACPI_TRUNC_CPUS | ACPI_TRUNC_IOAPICS | ACPI_TRUNC_ISOS);
	assert_true(has_warning(&ai, "more than 256 CPUs, APIC ID 256"));
	assert_true(has_warning(&ai, "more than 16 I/O APICs"));
	assert_true(has_warning(&ai, "more than 32 interrupt overrides"));
	/* one warning per overflow, not one per dropped entry, plus the
	 * missing FADT */
	assert_int_equal(ai.warning_count, 4);
	fm_free(&fm);
}

/* ----------------------------------------------------- MCFG, root table */

static void test_mcfg_entries(void **state)
{
	struct fakemem fm = { 0 };
	struct buf b;

	(void)state;
	table_begin(&b, "MCFG", 1);
	put64(&b, 0);
	for (u32 i = 0; i < 11; i++) {
		put64(&b, 0xe0000000ULL + i * 0x10000000ULL);
		put16(&b, (u16)i);
		put8(&b, i == 1 ? 9 : 0); /* entry 1: buses 9-8 */
		put8(&b, 8);
		put32(&b, 0);
	}
	put8(&b, 0xaa);
	table_end(&b);
	assert_int_equal(parse_one(&fm, &b), 0);
	assert_int_equal(ai.mcfg_count, ACPI_MAX_MCFG);
	assert_int_equal(ai.mcfg[0].base, 0xe0000000);
	assert_int_equal(ai.mcfg[1].segment, 2); /* entry 1 skipped */
	assert_int_equal(ai.mcfg[1].bus_end, 8);
	assert_true(ai.truncated & ACPI_TRUNC_MCFG);
	assert_true(has_warning(&ai, "entry 1 (base 0xf0000000, buses 9-8) invalid"));
	assert_true(has_warning(&ai, "MCFG: 1 stray bytes"));
	fm_free(&fm);
}

static void test_root_table_bounded(void **state)
{
	struct fakemem fm = { 0 };
	u64 entries[40];
	struct buf b;

	(void)state;
	table_begin(&b, "WAET", 1);
	put32(&b, 0);
	table_end(&b);
	for (int i = 0; i < 40; i++) {
		entries[i] = 0x10000 + (u64)i * 0x100;
		fm_add(&fm, entries[i], b.d, b.n);
	}
	entries[3] = 0;		  /* a null entry */
	entries[4] = 0x123456789; /* nothing there */
	put_rsdp_xsdt(&fm, entries, 40);
	assert_int_equal(acpi_parse(&ai, SYN_RSDP, NULL, 0, fm_map, &fm), 0);
	assert_int_equal(ai.table_count, ACPI_MAX_TABLES);
	assert_true(ai.truncated & ACPI_TRUNC_TABLES);
	assert_true(has_warning(&ai, "XSDT entry 3 is null"));
	assert_true(has_warning(&ai, "table at 0x123456789: cannot map"));
	fm_free(&fm);
}

static void test_rsdp_and_root_fallbacks(void **state)
{
	static const u64 entries[] = { Q35_FACP, Q35_APIC, Q35_HPET, Q35_MCFG, Q35_WAET };
	struct fakemem fm = { 0 };
	u8 rsdp[36];

	(void)state;
	/* bad XSDT checksum: the RSDT is used instead */
	fm_load_set(&fm, "qemu-q35");
	put_root(&fm, SYN_XSDT, true, entries, ARRAY_SIZE(entries));
	fm_at(&fm, SYN_XSDT)[12] ^= 1;
	make_rsdp(rsdp, 2, (u32)Q35_RSDT, SYN_XSDT);
	assert_int_equal(acpi_parse(&ai, 0, rsdp, sizeof(rsdp), fm_map, &fm), 0);
	assert_false(ai.used_xsdt);
	assert_true(has_warning(&ai, "XSDT at 0x1000: bad checksum"));
	assert_true(has_warning(&ai, "falling back to the RSDT"));
	check_q35(&ai);

	/* a bad extended checksum: the XSDT address is not trusted */
	rsdp[32] ^= 1;
	assert_int_equal(acpi_parse(&ai, 0, rsdp, sizeof(rsdp), fm_map, &fm), 0);
	assert_int_equal(ai.xsdt_pa, 0);
	assert_false(ai.used_xsdt);
	assert_true(has_warning(&ai, "extended checksum"));
	check_q35(&ai);

	/* a revision 2 RSDP copied as its first 20 bytes only (Multiboot2's
	 * "old" tag): RSDT */
	make_rsdp(rsdp, 2, (u32)Q35_RSDT, SYN_XSDT);
	assert_int_equal(acpi_parse(&ai, 0, rsdp, 20, fm_map, &fm), 0);
	assert_false(ai.used_xsdt);
	check_q35(&ai);

	/* an RSDP of revision 1 (never used by ACPI, but seen): 20 bytes
	 * only; what follows them is not read */
	make_rsdp(rsdp, 1, (u32)Q35_RSDT, 0);
	memset(rsdp + 20, 0xff, 16);
	assert_int_equal(acpi_parse(&ai, 0, rsdp, sizeof(rsdp), fm_map, &fm), 0);
	assert_int_equal(ai.revision, 1);
	assert_int_equal(ai.xsdt_pa, 0);
	assert_false(ai.used_xsdt);
	check_q35(&ai);

	/* bad RSDP: signature, checksum; no root table at all */
	make_rsdp(rsdp, 0, (u32)Q35_RSDT, 0);
	rsdp[0] = 'X';
	assert_int_equal(acpi_parse(&ai, 0, rsdp, 20, fm_map, &fm), -E_INVAL);
	make_rsdp(rsdp, 0, (u32)Q35_RSDT, 0);
	rsdp[16] ^= 1;
	assert_int_equal(acpi_parse(&ai, 0, rsdp, 20, fm_map, &fm), -E_INVAL);
	make_rsdp(rsdp, 0, 0x5000, 0);
	assert_true(acpi_parse(&ai, 0, rsdp, 20, fm_map, &fm) < 0);
	assert_true(has_warning(&ai, "no usable RSDT or XSDT"));
	assert_int_equal(acpi_parse(&ai, 0x5000, NULL, 0, fm_map, &fm), -E_INVAL);
	fm_free(&fm);
}

/* ------------------------------------------------------------- RSDP scan */

#define BDA_PA 0x400ULL
#define EBDA_PA 0x9fc00ULL
#define BIOS_PA 0xe0000ULL
#define BIOS_LEN 0x20000ULL

static void test_rsdp_scan(void **state)
{
	struct fakemem fm = { 0 };
	u8 bda[0x100] = { 0 };
	u8 *bios, *ebda, rsdp[36];
	size_t len;
	u8 *q35 = read_file("qemu-q35", "RSDP.bin", &len);
	u64 pa = 0;

	(void)state;
	bda[0x0e] = (u8)(EBDA_PA >> 4);
	bda[0x0f] = (u8)(EBDA_PA >> 12);
	fm_add(&fm, BDA_PA, bda, sizeof(bda));
	ebda = fm_add(&fm, EBDA_PA, NULL, 0x400);
	bios = fm_add(&fm, BIOS_PA, NULL, BIOS_LEN);
	/* decoys: off the 16-byte grid, and a bad checksum */
	memcpy(bios + 0x1008, q35, 20);
	memcpy(bios + 0x2000, q35, 20);
	bios[0x2000 + 16] ^= 1;
	/* the real one where SeaBIOS put it */
	memcpy(bios + (Q35_RSDP - BIOS_PA), q35, 20);
	assert_int_equal(acpi_find_rsdp(fm_map, &fm, &pa), 0);
	assert_int_equal(pa, Q35_RSDP);

	/* and the whole q35 set parses from there */
	fm_load_set(&fm, "qemu-q35");
	assert_int_equal(acpi_parse(&ai, pa, NULL, 0, fm_map, &fm), 0);
	check_q35(&ai);

	/* the EBDA is searched first */
	make_rsdp(rsdp, 2, (u32)Q35_RSDT, 0);
	memcpy(ebda + 0x40, rsdp, sizeof(rsdp));
	assert_int_equal(acpi_find_rsdp(fm_map, &fm, &pa), 0);
	assert_int_equal(pa, EBDA_PA + 0x40);
	assert_int_equal(acpi_parse(&ai, pa, NULL, 0, fm_map, &fm), 0);
	assert_int_equal(ai.revision, 2);
	check_q35(&ai);

	/* nothing anywhere */
	memset(ebda, 0, 0x400);
	memset(bios, 0, BIOS_LEN);
	assert_int_equal(acpi_find_rsdp(fm_map, &fm, &pa), -E_NOENT);
	free(q35);
	fm_free(&fm);
}

static void test_rsdp_scan_area(void **state)
{
	u8 area[256] = { 0 };
	u8 rsdp[36];
	u64 pa = 0;

	(void)state;
	/* an area starting off the grid: candidates at 0x...10 only */
	make_rsdp(rsdp, 0, 0x1000, 0);
	memcpy(area + 8, rsdp, 20); /* pa 0x1010: on the grid */
	assert_int_equal(acpi_find_rsdp_in(area, 0x1008, sizeof(area), &pa), 0);
	assert_int_equal(pa, 0x1010);
	assert_int_equal(acpi_find_rsdp_in(area, 0x1000, sizeof(area), &pa), -E_NOENT);

	/* a full revision 2 RSDP wins over one whose extended checksum fails */
	memset(area, 0, sizeof(area));
	make_rsdp(rsdp, 2, 0x1000, 0x2000);
	memcpy(area + 0x20, rsdp, 36);
	area[0x20 + 32] ^= 1;
	memcpy(area + 0x80, rsdp, 36);
	assert_int_equal(acpi_find_rsdp_in(area, 0x1000, sizeof(area), &pa), 0);
	assert_int_equal(pa, 0x1080);
	/* ... but the broken one is still better than none */
	memset(area + 0x80, 0, 36);
	assert_int_equal(acpi_find_rsdp_in(area, 0x1000, sizeof(area), &pa), 0);
	assert_int_equal(pa, 0x1020);
	/* a revision 2 RSDP cut by the end of the area */
	memset(area, 0, sizeof(area));
	make_rsdp(rsdp, 2, 0x1000, 0x2000);
	memcpy(area + 0xe0, rsdp, 32);
	assert_int_equal(acpi_find_rsdp_in(area, 0x1000, 0x100, &pa), 0);
	assert_int_equal(pa, 0x10e0);
	assert_int_equal(acpi_find_rsdp_in(area, 0x1000, 0xe0 + 19, &pa), -E_NOENT);
	assert_int_equal(acpi_find_rsdp_in(NULL, 0x1000, 0x100, &pa), -E_NOENT);
}

static void test_init_from_boot_info(void **state)
{
	static struct boot_info bi;
	struct fakemem fm = { 0 };
	size_t len;
	u8 *q35 = read_file("qemu-q35", "RSDP.bin", &len);
	u8 *bios;

	(void)state;
	fm_load_set(&fm, "qemu-q35");
	/* a copy from the loader */
	memcpy(bi.rsdp, q35, 20);
	bi.rsdp_len = 20;
	assert_int_equal(acpi_init(&ai, &bi, fm_map, &fm), 0);
	assert_int_equal(ai.rsdp_pa, 0);
	check_q35(&ai);
	/* no copy: scan (no BDA mapped, so straight to the BIOS area) */
	bi.rsdp_len = 0;
	assert_int_equal(acpi_init(&ai, &bi, fm_map, &fm), -E_NOENT);
	assert_true(has_warning(&ai, "no RSDP"));
	bios = fm_add(&fm, BIOS_PA, NULL, BIOS_LEN);
	memcpy(bios + (Q35_RSDP - BIOS_PA), q35, 20);
	assert_int_equal(acpi_init(&ai, &bi, fm_map, &fm), 0);
	assert_int_equal(ai.rsdp_pa, Q35_RSDP);
	check_q35(&ai);
	free(q35);
	fm_free(&fm);
}

/* -------------------------------------------------------------- \_S5 AML */

/* Runs acpi_aml_find_s5 on an exact-size heap copy (ASan guards its ends). */
static int find_s5(const u8 *aml, size_t len, u8 *a, u8 *b)
{
	u8 *copy = malloc(len ? len : 1);
	int rc;

	assert_non_null(copy);
	if (len)
		memcpy(copy, aml, len);
	*a = *b = 0xee;
	rc = acpi_aml_find_s5(copy, len, a, b);
	free(copy);
	return rc;
}

#define S5 0x5f, 0x53, 0x35, 0x5f

static void test_aml_s5_forms(void **state)
{
	/* Name (_S5, Package (4) {Zero, Zero, Zero, Zero}): QEMU, Bochs */
	static const u8 zeros[] = { 0x10, 0x08, S5, 0x12, 0x06, 0x04, 0, 0, 0, 0 };
	/* Name (\_S5, Package () {0x07, 0x07, Zero, Zero}) */
	static const u8 rooted[] = { 0x08, 0x5c, S5,   0x12, 0x08, 0x04,
				     0x0a, 0x07, 0x0a, 0x07, 0x00, 0x00 };
	/* Name (_S5, Package () {One, 0x0005 (WordPrefix)}) */
	static const u8 word[] = { 0x08, S5, 0x12, 0x06, 0x02, 0x01, 0x0b, 0x05, 0x00 };
	/* DWord and QWord prefixes */
	static const u8 dword[] = { 0x08, S5, 0x12, 0x10, 0x02, 0x0c, 6, 0, 0, 0,
				    0x0e, 3,  0,    0,	  0,	0,    0, 0, 0 };
	/* a two-byte PkgLength (0x4a 0x00 = 10) */
	static const u8 pkglen2[] = { 0x08, S5,	  0x12, 0x4a, 0x00, 0x04, 0x0a,
				      0x05, 0x0a, 0x06, 0x00, 0x00, 0x00 };
	/* one element: both registers take it */
	static const u8 single[] = { 0x08, S5, 0x12, 0x04, 0x01, 0x0a, 0x03 };
	/* Name (^_S5, ...) */
	static const u8 parent[] = { 0x08, 0x5e, 0x5e, S5, 0x12, 0x04, 0x02, 0x01, 0x00 };
	/* a first malformed candidate, then a good one */
	static const u8 second[] = { 0x08, S5, 0x0a, 0x05, 0x08, S5, 0x12, 0x04, 0x01, 0x0a, 0x02 };
	u8 a, b;

	(void)state;
	assert_int_equal(find_s5(zeros, sizeof(zeros), &a, &b), 0);
	assert_int_equal(a, 0);
	assert_int_equal(b, 0);
	assert_int_equal(find_s5(rooted, sizeof(rooted), &a, &b), 0);
	assert_int_equal(a, 7);
	assert_int_equal(b, 7);
	assert_int_equal(find_s5(word, sizeof(word), &a, &b), 0);
	assert_int_equal(a, 1);
	assert_int_equal(b, 5);
	assert_int_equal(find_s5(dword, sizeof(dword), &a, &b), 0);
	assert_int_equal(a, 6);
	assert_int_equal(b, 3);
	assert_int_equal(find_s5(pkglen2, sizeof(pkglen2), &a, &b), 0);
	assert_int_equal(a, 5);
	assert_int_equal(b, 6);
	assert_int_equal(find_s5(single, sizeof(single), &a, &b), 0);
	assert_int_equal(a, 3);
	assert_int_equal(b, 3);
	assert_int_equal(find_s5(parent, sizeof(parent), &a, &b), 0);
	assert_int_equal(a, 1);
	assert_int_equal(b, 0);
	assert_int_equal(find_s5(second, sizeof(second), &a, &b), 0);
	assert_int_equal(a, 2);
	assert_int_equal(b, 2);
}

static void test_aml_s5_malformed(void **state)
{
	static const u8 good[] = { 0x08, 0x5c, S5,   0x12, 0x08, 0x04,
				   0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	/* not a NameOp: a reference to _S5 in code */
	static const u8 ref[] = { 0x70, S5, 0x60 };
	/* Method (_S5) happens to have PkgLength 8 = NameOp's value */
	static const u8 method[] = { 0x14, 0x08, S5, 0x00, 0xa4, 0x00, 0x00 };
	/* an element that is a name, not an integer */
	static const u8 named[] = { 0x08, S5, 0x12, 0x07, 0x02, 0x41, 0x42, 0x43, 0x44 };
	/* SLP_TYP above 7 */
	static const u8 big[] = { 0x08, S5, 0x12, 0x05, 0x02, 0x0a, 0x08, 0x00 };
	/* Ones */
	static const u8 ones[] = { 0x08, S5, 0x12, 0x04, 0x02, 0xff, 0x00 };
	/* PkgLength longer than the data, zero elements, reserved bits */
	static const u8 longpkg[] = { 0x08, S5, 0x12, 0x30, 0x02, 0x00, 0x00 };
	static const u8 empty[] = { 0x08, S5, 0x12, 0x02, 0x00 };
	static const u8 reserved[] = { 0x08, S5, 0x12, 0x56, 0x00, 0x02, 0x00, 0x00 };
	/* the element list overruns the package */
	static const u8 overrun[] = { 0x08, S5, 0x12, 0x03, 0x02, 0x0b, 0x05, 0x00, 0x00 };
	u8 a, b;

	(void)state;
	/* every truncation of a good encoding fails without reading past it */
	for (size_t n = 0; n < sizeof(good); n++)
		assert_true(find_s5(good, n, &a, &b) < 0);
	assert_int_equal(find_s5(good, sizeof(good), &a, &b), 0);
	assert_int_equal(find_s5(ref, sizeof(ref), &a, &b), -E_NOENT);
	assert_true(find_s5(method, sizeof(method), &a, &b) < 0);
	assert_int_equal(find_s5(named, sizeof(named), &a, &b), -E_INVAL);
	assert_int_equal(find_s5(big, sizeof(big), &a, &b), -E_RANGE);
	assert_int_equal(find_s5(ones, sizeof(ones), &a, &b), -E_RANGE);
	assert_int_equal(find_s5(longpkg, sizeof(longpkg), &a, &b), -E_INVAL);
	assert_int_equal(find_s5(empty, sizeof(empty), &a, &b), -E_INVAL);
	assert_int_equal(find_s5(reserved, sizeof(reserved), &a, &b), -E_INVAL);
	assert_int_equal(find_s5(overrun, sizeof(overrun), &a, &b), -E_INVAL);
	assert_int_equal(a, 0xee); /* outputs untouched on failure */
	assert_int_equal(find_s5(NULL, 0, &a, &b), -E_NOENT);
}

/* \_S5 only in an SSDT (the DSDT here is the host's, which has none). */
static void test_s5_in_ssdt(void **state)
{
	static const u8 body[] = { 0x08, 0x5c, S5,   0x12, 0x08, 0x04,
				   0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00 };
	struct fakemem fm = { 0 };
	size_t len;
	u8 *fadt = read_file("qemu-q35", "FACP.bin", &len);
	u8 *dsdt;
	u64 entries[2] = { 0x10000, 0x20000 };
	struct buf b;

	(void)state;
	fm_add(&fm, entries[0], fadt, len);
	dsdt = read_file("host-epyc", "DSDT.bin", &len);
	fm_add(&fm, Q35_DSDT, dsdt, len);
	table_begin(&b, "SSDT", 2);
	put_bytes(&b, body, sizeof(body));
	table_end(&b);
	fm_add(&fm, entries[1], b.d, b.n);
	put_rsdp_xsdt(&fm, entries, 2);
	assert_int_equal(acpi_parse(&ai, SYN_RSDP, NULL, 0, fm_map, &fm), 0);
	print_warnings(&ai);
	assert_true(ai.have_s5);
	assert_int_equal(ai.s5_slp_typ_a, 5);
	assert_int_equal(ai.s5_slp_typ_b, 5);
	free(fadt);
	free(dsdt);
	fm_free(&fm);
}

/* ---------------------------------------------------- report, warnings */

struct lines {
	char text[64][160];
	int n;
};

static void collect(const char *line, void *arg)
{
	struct lines *l = arg;

	assert_true(l->n < 64);
	snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", line);
}

static bool has_line(const struct lines *l, const char *needle)
{
	for (int i = 0; i < l->n; i++)
		if (strstr(l->text[i], needle))
			return true;
	return false;
}

static void test_report(void **state)
{
	struct fakemem fm = { 0 };
	static struct lines l;

	(void)state;
	fm_load_set(&fm, "qemu-q35");
	fm_at(&fm, Q35_WAET)[10] ^= 1;
	assert_int_equal(acpi_parse(&ai, Q35_RSDP, NULL, 0, fm_map, &fm), 0);
	acpi_report(&ai, collect, &l);
	for (int i = 0; i < l.n; i++)
		print_message("  %s\n", l.text[i]);
	assert_true(has_line(&l, "acpi: RSDP rev 0 OEM 'BOCHS ', RSDT at 0x7ffe23f8"));
	assert_true(has_line(&l, "acpi: 4 CPUs, APIC IDs 0 1 2 3"));
	assert_true(has_line(&l, "acpi: I/O APIC 0 at 0xfec00000, GSI base 0"));
	assert_true(has_line(&l, "acpi: IRQ 0 -> GSI 2, flags 0"));
	assert_true(has_line(&l, "SCI 9, PM timer 0x608 (24-bit), PM1a_CNT io 0x604"));
	assert_true(has_line(&l, "acpi: reset register io 0xcf9 value 0xf"));
	assert_true(has_line(&l, "acpi: \\_S5 SLP_TYPa 0 SLP_TYPb 0"));
	assert_true(has_line(&l, "acpi: ECAM segment 0 buses 0-255 at 0xb0000000"));
	assert_true(has_line(&l, "acpi: WAET at 0x7ffe23d0, 40 bytes, rev 1 (invalid, skipped)"));
	assert_true(has_line(&l, "acpi: warning: WAET at 0x7ffe23d0: bad checksum"));
	fm_free(&fm);
}

static void test_warnings_bounded(void **state)
{
	struct fakemem fm = { 0 };
	u64 entries[ACPI_MAX_WARNINGS + 8];
	static struct lines l;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(entries); i++)
		entries[i] = 0x100000 + i * 0x1000; /* nothing mapped there */
	put_rsdp_xsdt(&fm, entries, ARRAY_SIZE(entries));
	assert_int_equal(acpi_parse(&ai, SYN_RSDP, NULL, 0, fm_map, &fm), 0);
	assert_int_equal(ai.warning_count, ARRAY_SIZE(entries) + 2);
	assert_true(ai.truncated & ACPI_TRUNC_WARNINGS);
	acpi_report(&ai, collect, &l);
	assert_true(has_line(&l, "... and 10 more warnings"));
	fm_free(&fm);
}

/* --------------------------------------------------------- robustness */

/* Random damage to the real tables, checksums repaired half the time so
 * the damage reaches the parsers; nothing may crash or read out of range
 * (ASan/UBSan), and every count stays within its array. */
static void test_fuzz_real_tables(void **state)
{
	static const u64 targets[] = { Q35_RSDT, Q35_FACP, Q35_APIC, Q35_MCFG, Q35_DSDT };
	static const u32 lens[] = { 56, 244, 144, 60, 8600 };

	(void)state;
	for (int iter = 0; iter < 3000; iter++) {
		struct fakemem fm = { 0 };
		int t = (int)(rnd() % ARRAY_SIZE(targets));
		u8 *p;
		int rc;

		fm_load_set(&fm, "qemu-q35");
		p = fm_at(&fm, targets[t]);
		for (u32 k = 0, n = 1 + rnd() % 4; k < n; k++) {
			/* favour the header and the start of the body */
			u32 off = (rnd() & 1) ? rnd() % 64 : rnd() % lens[t];

			p[off % lens[t]] = (u8)rnd();
		}
		if (rnd() & 1) {
			u32 len;

			memcpy(&len, p + 4, 4);
			if (len <= lens[t])
				fix_checksum(p);
		}
		rc = acpi_parse(&ai, Q35_RSDP, NULL, 0, fm_map, &fm);
		assert_true(rc == 0 || rc < 0);
		assert_true(ai.cpu_count <= ACPI_MAX_CPUS);
		assert_true(ai.ioapic_count <= ACPI_MAX_IOAPICS);
		assert_true(ai.iso_count <= ACPI_MAX_ISOS);
		assert_true(ai.mcfg_count <= ACPI_MAX_MCFG);
		assert_true(ai.table_count <= ACPI_MAX_TABLES);
		assert_true(ai.s5_slp_typ_a <= 7 && ai.s5_slp_typ_b <= 7);
		for (u32 i = 0; i < ai.warning_count && i < ACPI_MAX_WARNINGS; i++)
			assert_true(strlen(ai.warning[i]) < ACPI_WARNING_LEN);
		fm_free(&fm);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_q35_native),
		cmocka_unit_test(test_q35_xsdt_copy),
		cmocka_unit_test(test_host_epyc),
		cmocka_unit_test(test_bochs),
		cmocka_unit_test(test_bad_checksum_skipped),
		cmocka_unit_test(test_truncated_tables),
		cmocka_unit_test(test_short_fadt),
		cmocka_unit_test(test_fadt_x_fields),
		cmocka_unit_test(test_fadt_pm_timer_alone),
		cmocka_unit_test(test_madt_zero_length_entry),
		cmocka_unit_test(test_madt_cpus),
		cmocka_unit_test(test_madt_bounded),
		cmocka_unit_test(test_mcfg_entries),
		cmocka_unit_test(test_root_table_bounded),
		cmocka_unit_test(test_rsdp_and_root_fallbacks),
		cmocka_unit_test(test_rsdp_scan),
		cmocka_unit_test(test_rsdp_scan_area),
		cmocka_unit_test(test_init_from_boot_info),
		cmocka_unit_test(test_aml_s5_forms),
		cmocka_unit_test(test_aml_s5_malformed),
		cmocka_unit_test(test_s5_in_ssdt),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_warnings_bounded),
		cmocka_unit_test(test_fuzz_real_tables),
	};

	/* a parser stuck in a loop fails the run instead of hanging it */
	alarm(120);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
