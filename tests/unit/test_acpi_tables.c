/*
 * hv/vdev/acpi_tables.c: the guest's ACPI tables, built into an exactly
 * sized heap buffer (AddressSanitizer catches any write outside it), checked
 * byte by byte where the layout matters, and read back through the
 * hypervisor's own parser (drivers/acpi.c), which validates every
 * signature, length and checksum and decodes the MADT, FADT, \_S5 and MCFG.
 */
#define _DEFAULT_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "drivers/acpi.h"
#include "hv/vdev/acpi_tables.h"
#include "hv/vdev/platform.h"

#define FILL 0xa5

/* ------------------------------------------------------------- helpers */

/* Guest memory: size bytes at base */
struct gmem {
	u8 *buf;
	u64 base;
	u64 size;
};

static const void *gm_map(u64 pa, u64 len, void *ctx)
{
	struct gmem *g = ctx;

	if (pa < g->base || len > g->size || pa - g->base > g->size - len)
		return NULL;
	return g->buf + (pa - g->base);
}

static void *gm_at(const struct gmem *g, u64 pa)
{
	assert_true(pa >= g->base && pa < g->base + g->size);
	return g->buf + (pa - g->base);
}

static struct acpi_build_cfg cfg_for(u32 cpus)
{
	struct acpi_build_cfg c = {
		.cpu_count = cpus,
		.base_gpa = PLAT_ACPI_BASE,
		.size = PLAT_ACPI_SIZE,
		.oem_id = "TESSRA",
		.rtc_century = true,
	};

	return c;
}

static u8 sum8(const void *p, u64 len)
{
	const u8 *b = p;
	u8 s = 0;

	while (len--)
		s += *b++;
	return s;
}

static u16 get16(const u8 *p)
{
	return (u16)(p[0] | p[1] << 8);
}

static u32 get32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Builds into a fresh exactly-sized buffer (FILL elsewhere); returns rc. */
static int build(const struct acpi_build_cfg *c, struct gmem *g)
{
	u64 rsdp = 0;
	int rc;

	g->base = c->base_gpa;
	g->size = c->size;
	g->buf = malloc(c->size ? c->size : 1);
	assert_non_null(g->buf);
	memset(g->buf, FILL, c->size);
	rc = acpi_build(c, g->buf, &rsdp);
	if (rc >= 0)
		assert_int_equal(rsdp, c->base_gpa);
	return rc;
}

static void print_warnings(const struct acpi_info *ai)
{
	for (u32 i = 0; i < ai->warning_count && i < ACPI_MAX_WARNINGS; i++)
		print_message("warning: %s\n", ai->warning[i]);
}

/* A table reached from the XSDT by signature */
static const struct acpi_sdt_header *find_table(const struct gmem *g, const char *sig)
{
	const struct acpi_rsdp *r = gm_at(g, g->base);
	const struct acpi_sdt_header *x = gm_at(g, r->xsdt_address);

	for (u32 off = sizeof(*x); off < x->length; off += 8) {
		u64 pa;
		const struct acpi_sdt_header *t;

		memcpy(&pa, (const u8 *)x + off, sizeof(pa));
		t = gm_at(g, pa);
		if (!memcmp(t->signature, sig, 4))
			return t;
	}
	return NULL;
}

static void get_fadt(const struct gmem *g, struct acpi_fadt *f)
{
	const struct acpi_sdt_header *h = find_table(g, "FACP");

	assert_non_null(h);
	assert_int_equal(h->length, sizeof(*f));
	memcpy(f, h, sizeof(*f));
}

/* ------------------------------------------------------ whole-table checks */

static void check_table(const struct gmem *g, u64 pa, const char *sig, u32 used)
{
	const struct acpi_sdt_header *h = gm_at(g, pa);

	assert_memory_equal(h->signature, sig, 4);
	assert_true(h->length >= sizeof(*h));
	assert_true(pa - g->base + h->length <= used);
	assert_int_equal(sum8(h, h->length), 0);
	assert_memory_equal(h->oem_id, "TESSRA", 6);
	assert_memory_equal(h->oem_table_id, "TESSERA ", 8);
	assert_int_not_equal(h->oem_revision, 0);
	assert_int_not_equal(h->creator_id, 0);
	assert_int_not_equal(h->creator_revision, 0);
}

static void cover(u8 *covered, const struct gmem *g, u64 pa, u32 len)
{
	for (u32 i = 0; i < len; i++) {
		assert_int_equal(covered[pa - g->base + i], 0); /* no overlap */
		covered[pa - g->base + i] = 1;
	}
}

/* Every checksum, every pointer, by hand (independently of the parser);
 * the tables do not overlap and the bytes between them are zero. */
static void check_layout(const struct gmem *g, u32 used)
{
	u8 *covered = calloc(1, used);
	static const char *const sigs[] = { "FACP", "APIC", "MCFG" };
	const struct acpi_rsdp *r = gm_at(g, g->base);
	const struct acpi_sdt_header *x, *rs;
	struct acpi_fadt f;
	const u8 *facs;

	assert_memory_equal(r->signature, "RSD PTR ", 8);
	assert_int_equal(sum8(r, ACPI_RSDP_V1_LEN), 0);
	assert_int_equal(r->revision, 2);
	assert_int_equal(r->length, ACPI_RSDP_V2_LEN);
	assert_int_equal(sum8(r, ACPI_RSDP_V2_LEN), 0);
	assert_memory_equal(r->oem_id, "TESSRA", 6);

	check_table(g, r->xsdt_address, "XSDT", used);
	check_table(g, r->rsdt_address, "RSDT", used);
	x = gm_at(g, r->xsdt_address);
	rs = gm_at(g, r->rsdt_address);
	assert_int_equal(x->length, sizeof(*x) + 3 * 8);
	assert_int_equal(rs->length, sizeof(*rs) + 3 * 4);
	for (u32 i = 0; i < 3; i++) {
		u64 pa;

		memcpy(&pa, (const u8 *)x + sizeof(*x) + 8 * i, 8);
		assert_int_equal(get32((const u8 *)rs + sizeof(*rs) + 4 * i), pa);
		check_table(g, pa, sigs[i], used);
	}

	get_fadt(g, &f);
	assert_int_equal(f.dsdt, f.x_dsdt);
	check_table(g, f.x_dsdt, "DSDT", used);
	/* ACPI 6.4 5.2.9: FIRMWARE_CTRL set, so X_FIRMWARE_CTRL must be 0 */
	assert_int_not_equal(f.firmware_ctrl, 0);
	assert_int_equal(f.x_firmware_ctrl, 0);
	assert_int_equal(f.firmware_ctrl % 64, 0);
	facs = gm_at(g, f.firmware_ctrl);
	assert_memory_equal(facs, "FACS", 4);
	assert_int_equal(get32(facs + 4), 64);
	assert_int_equal(facs[32], 2); /* version */

	assert_non_null(covered);
	cover(covered, g, g->base, ACPI_RSDP_V2_LEN);
	cover(covered, g, f.firmware_ctrl, 64);
	cover(covered, g, f.x_dsdt, ((const struct acpi_sdt_header *)gm_at(g, f.x_dsdt))->length);
	cover(covered, g, r->xsdt_address, x->length);
	cover(covered, g, r->rsdt_address, rs->length);
	for (u32 i = 0; i < 3; i++) {
		u64 pa;

		memcpy(&pa, (const u8 *)x + sizeof(*x) + 8 * i, 8);
		cover(covered, g, pa, ((const struct acpi_sdt_header *)gm_at(g, pa))->length);
	}
	for (u32 i = 0; i < used; i++)
		if (!covered[i])
			assert_int_equal(g->buf[i], 0);
	free(covered);
}

/* Round trip through drivers/acpi.c, then every value the guest relies on. */
static void check_parsed(const struct acpi_info *ai, const struct gmem *g, u32 cpus)
{
	if (ai->warning_count)
		print_warnings(ai);
	assert_int_equal(ai->warning_count, 0);
	assert_int_equal(ai->truncated, 0);
	assert_string_equal(ai->oem_id, "TESSRA");
	assert_int_equal(ai->table_count, 4); /* FACP APIC MCFG, then the DSDT */
	for (u32 i = 0; i < ai->table_count; i++)
		assert_true(ai->tables[i].valid);

	/* MADT */
	assert_true(ai->have_madt);
	assert_int_equal(ai->lapic_pa, PLAT_LAPIC_BASE);
	assert_true(ai->pcat_compat);
	assert_int_equal(ai->cpu_count, cpus);
	assert_int_equal(ai->cpu_disabled_count, 0);
	for (u32 i = 0; i < cpus; i++) {
		assert_int_equal(ai->cpus[i].apic_id, i);
		assert_int_equal(ai->cpus[i].uid, i);
		assert_false(ai->cpus[i].x2apic_entry);
	}
	assert_int_equal(ai->ioapic_count, 1);
	assert_int_equal(ai->ioapics[0].id, cpus);
	assert_int_equal(ai->ioapics[0].id, acpi_build_ioapic_id(cpus));
	assert_int_equal(ai->ioapics[0].pa, PLAT_IOAPIC_BASE);
	assert_int_equal(ai->ioapics[0].gsi_base, 0);
	assert_int_equal(ai->iso_count, 2);
	assert_int_equal(ai->isos[0].source, 0);
	assert_int_equal(ai->isos[0].gsi, PLAT_GSI_TIMER);
	assert_int_equal(ai->isos[0].flags, ACPI_MPS_POLARITY_HIGH | ACPI_MPS_TRIGGER_EDGE);
	assert_int_equal(ai->isos[1].source, PLAT_IRQ_SCI);
	assert_int_equal(ai->isos[1].gsi, PLAT_IRQ_SCI);
	assert_int_equal(ai->isos[1].flags, ACPI_MPS_POLARITY_HIGH | ACPI_MPS_TRIGGER_LEVEL);
	assert_int_equal(ai->lapic_nmi_count, 1);
	assert_int_equal(ai->lapic_nmis[0].uid, ACPI_UID_ALL);
	assert_int_equal(ai->lapic_nmis[0].lint, 1);

	/* FADT */
	assert_true(ai->have_fadt);
	assert_int_equal(ai->fadt_revision, 6);
	assert_false(ai->hw_reduced);
	assert_true(ai->fadt_flags & ACPI_FADT_RESET_REG_SUP);
	assert_false(ai->fadt_flags & ACPI_FADT_TMR_VAL_EXT);
	assert_int_equal(ai->iapc_boot_arch,
			 ACPI_BOOT_VGA_NOT_PRESENT | ACPI_BOOT_MSI_NOT_SUPPORTED);
	assert_int_equal(ai->sci_irq, PLAT_IRQ_SCI);
	assert_int_equal(ai->smi_cmd, 0);
	assert_int_equal(ai->pm_tmr_port, PLAT_PM_TMR_PORT);
	assert_false(ai->pm_tmr_32bit);
	assert_int_equal(ai->pm1a_cnt.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(ai->pm1a_cnt.address, PLAT_PM1A_CNT_PORT);
	assert_int_equal(ai->pm1a_cnt.bit_width, 16);
	assert_int_equal(ai->pm1b_cnt.address, 0);
	assert_true(ai->reset_supported);
	assert_int_equal(ai->reset_reg.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(ai->reset_reg.address, PLAT_RESET_PORT);
	assert_int_equal(ai->reset_reg.bit_width, 8);
	assert_int_equal(ai->reset_reg.bit_offset, 0);
	assert_int_equal(ai->reset_value, PLAT_RESET_VALUE);
	assert_int_equal(ai->century, ACPI_BUILD_RTC_CENTURY_REG);
	assert_true(ai->dsdt_pa > g->base && ai->dsdt_pa < g->base + g->size);

	/* \_S5 */
	assert_true(ai->have_s5);
	assert_int_equal(ai->s5_slp_typ_a, PLAT_SLP_TYP_S5);
	assert_int_equal(ai->s5_slp_typ_b, PLAT_SLP_TYP_S5);

	/* MCFG */
	assert_int_equal(ai->mcfg_count, 1);
	assert_int_equal(ai->mcfg[0].base, PLAT_ECAM_BASE);
	assert_int_equal(ai->mcfg[0].segment, 0);
	assert_int_equal(ai->mcfg[0].bus_start, 0);
	assert_int_equal(ai->mcfg[0].bus_end, PLAT_ECAM_BUSES - 1);
}

/* The FADT fields drivers/acpi.c does not decode. */
static void check_fadt_raw(const struct gmem *g)
{
	struct acpi_fadt f;

	get_fadt(g, &f);
	assert_int_equal(f.fadt_minor_version, 4);
	assert_int_equal(f.acpi_enable, 0);
	assert_int_equal(f.acpi_disable, 0);
	assert_int_equal(f.pm1a_evt_blk, PLAT_PM1A_EVT_PORT);
	assert_int_equal(f.pm1_evt_len, 4);
	assert_int_equal(f.pm1a_cnt_blk, PLAT_PM1A_CNT_PORT);
	assert_int_equal(f.pm1_cnt_len, 2);
	assert_int_equal(f.pm_tmr_blk, PLAT_PM_TMR_PORT);
	assert_int_equal(f.pm_tmr_len, 4);
	assert_int_equal(f.gpe0_blk_len, 0);
	assert_true(f.p_lvl2_lat > 100);
	assert_true(f.p_lvl3_lat > 1000);
	/* the X_ blocks agree with the legacy ones, bit widths included
	 * (ACPICA warns of a 32/64X length mismatch otherwise) */
	assert_int_equal(f.x_pm1a_evt_blk.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(f.x_pm1a_evt_blk.address, PLAT_PM1A_EVT_PORT);
	assert_int_equal(f.x_pm1a_evt_blk.bit_width, 32);
	assert_int_equal(f.x_pm1a_cnt_blk.bit_width, 16);
	assert_int_equal(f.x_pm_tmr_blk.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(f.x_pm_tmr_blk.address, PLAT_PM_TMR_PORT);
	assert_int_equal(f.x_pm_tmr_blk.bit_width, 32);
	assert_int_equal(f.x_pm1b_evt_blk.address, 0);
	assert_int_equal(f.x_gpe0_blk.address, 0);
	/* WBINVD, PROC_C1, PWR_BUTTON, SLP_BUTTON, FIX_RTC, RESET_REG_SUP */
	assert_int_equal(f.flags, BIT(0) | BIT(2) | BIT(4) | BIT(5) | BIT(6) | BIT(10));
	assert_memory_equal(&f.hypervisor_vendor_id, "TesseraH", 8);
}

static void check_build(u32 cpus)
{
	struct acpi_build_cfg c = cfg_for(cpus);
	struct acpi_info *ai = calloc(1, sizeof(*ai));
	struct gmem g;
	u8 copy[ACPI_RSDP_V1_LEN];
	u64 pa = 0;
	int rc;

	assert_non_null(ai);
	rc = build(&c, &g);
	assert_true(rc > 0 && (u32)rc <= c.size);
	for (u32 i = (u32)rc; i < c.size; i++)
		assert_int_equal(g.buf[i], 0);
	check_layout(&g, (u32)rc);
	check_fadt_raw(&g);

	/* found where a guest (or our own boot path) scans for it */
	assert_int_equal(acpi_find_rsdp_in(g.buf, g.base, g.size, &pa), 0);
	assert_int_equal(pa, PLAT_ACPI_BASE);
	pa = 0;
	assert_int_equal(acpi_find_rsdp(gm_map, &g, &pa), 0);
	assert_int_equal(pa, PLAT_ACPI_BASE);

	/* through the XSDT */
	assert_int_equal(acpi_parse(ai, pa, NULL, 0, gm_map, &g), 0);
	assert_int_equal(ai->revision, 2);
	assert_true(ai->used_xsdt);
	check_parsed(ai, &g, cpus);

	/* through the RSDT, as an ACPI 1.0 reader sees it */
	memcpy(copy, g.buf, sizeof(copy));
	copy[offsetof(struct acpi_rsdp, revision)] = 0;
	copy[offsetof(struct acpi_rsdp, checksum)] = 0;
	copy[offsetof(struct acpi_rsdp, checksum)] = (u8)-sum8(copy, sizeof(copy));
	assert_int_equal(acpi_parse(ai, 0, copy, sizeof(copy), gm_map, &g), 0);
	assert_false(ai->used_xsdt);
	check_parsed(ai, &g, cpus);

	free(ai);
	free(g.buf);
}

static void test_build_1_cpu(void **state)
{
	(void)state;
	check_build(1);
}

static void test_build_2_cpus(void **state)
{
	(void)state;
	check_build(2);
}

static void test_build_4_cpus(void **state)
{
	(void)state;
	check_build(4);
}

static void test_build_64_cpus(void **state)
{
	(void)state;
	check_build(64);
}

/* ---------------------------------------------------------------- MADT */

struct madt_counts {
	u32 lapic, x2apic, ioapic, iso, nmi, x2nmi, other;
};

static struct madt_counts madt_walk(const struct gmem *g, u32 cpus)
{
	const struct acpi_sdt_header *h = find_table(g, "APIC");
	const u8 *m = (const u8 *)h;
	struct madt_counts n = { 0 };

	assert_non_null(h);
	for (u32 off = sizeof(struct acpi_madt); off < h->length; off += m[off + 1]) {
		const u8 *e = m + off;

		assert_true(e[1] >= 2 && off + e[1] <= h->length);
		switch (e[0]) {
		case ACPI_MADT_LAPIC:
			assert_int_equal(e[1], 8);
			assert_int_equal(e[2], n.lapic); /* UID */
			assert_int_equal(e[3], n.lapic); /* APIC ID */
			assert_int_equal(get32(e + 4), ACPI_LAPIC_ENABLED);
			assert_int_equal(n.x2apic, 0); /* in APIC ID order */
			n.lapic++;
			break;
		case ACPI_MADT_X2APIC:
			assert_int_equal(e[1], 16);
			assert_int_equal(get32(e + 4), 255 + n.x2apic); /* x2APIC ID */
			assert_int_equal(get32(e + 8), ACPI_LAPIC_ENABLED);
			assert_int_equal(get32(e + 12), 255 + n.x2apic); /* UID */
			n.x2apic++;
			break;
		case ACPI_MADT_IOAPIC:
			assert_int_equal(e[2], acpi_build_ioapic_id(cpus));
			n.ioapic++;
			break;
		case ACPI_MADT_ISO:
			n.iso++;
			break;
		case ACPI_MADT_LAPIC_NMI:
			assert_int_equal(e[2], 0xff);
			assert_int_equal(e[5], 1);
			n.nmi++;
			break;
		case ACPI_MADT_X2APIC_NMI:
			assert_int_equal(get32(e + 4), 0xffffffff);
			assert_int_equal(e[8], 1);
			n.x2nmi++;
			break;
		default:
			n.other++;
		}
	}
	return n;
}

/* ACPI 6.4 5.2.12.12: APIC IDs from 255 on take Local x2APIC entries, and
 * those processors their NMI from a Local x2APIC NMI entry. */
static void test_x2apic_entries(void **state)
{
	static const u32 counts[] = { 254, 255, 256, 300 };
	struct acpi_info *ai = calloc(1, sizeof(*ai));

	(void)state;
	assert_non_null(ai);
	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		u32 cpus = counts[k];
		struct acpi_build_cfg c = cfg_for(cpus);
		struct madt_counts n;
		struct gmem g;
		int rc = build(&c, &g);

		assert_true(rc > 0);
		check_layout(&g, (u32)rc);
		n = madt_walk(&g, cpus);
		assert_int_equal(n.lapic, MIN(cpus, 255u));
		assert_int_equal(n.x2apic, cpus > 255 ? cpus - 255 : 0);
		assert_int_equal(n.ioapic, 1);
		assert_int_equal(n.iso, 2);
		assert_int_equal(n.nmi, 1);
		assert_int_equal(n.x2nmi, cpus > 255 ? 1 : 0);
		assert_int_equal(n.other, 0);

		assert_int_equal(acpi_parse(ai, c.base_gpa, NULL, 0, gm_map, &g), 0);
		assert_int_equal(ai->cpu_count, MIN(cpus, (u32)ACPI_MAX_CPUS));
		if (cpus > 255) {
			assert_int_equal(ai->cpus[255].apic_id, 255);
			assert_true(ai->cpus[255].x2apic_entry);
			assert_int_equal(ai->lapic_nmi_count, 2);
		}
		assert_int_equal(ai->ioapics[0].id, acpi_build_ioapic_id(cpus));
		free(g.buf);
	}
	free(ai);
}

static void test_ioapic_id(void **state)
{
	(void)state;
	assert_int_equal(acpi_build_ioapic_id(1), 1);
	assert_int_equal(acpi_build_ioapic_id(64), 64);
	assert_int_equal(acpi_build_ioapic_id(254), 254);
	assert_int_equal(acpi_build_ioapic_id(255), 0); /* 0xff: broadcast */
	assert_int_equal(acpi_build_ioapic_id(ACPI_BUILD_MAX_CPUS), 0);
}

/* ---------------------------------------------------------------- DSDT */

/* ACPI 6.4 20.2.4; returns the PkgLength and sets *n to its size. */
static u32 pkglen(const u8 *p, u32 *n)
{
	u32 follow = p[0] >> 6, v;

	if (!follow) {
		*n = 1;
		return p[0] & 0x3f;
	}
	assert_int_equal(p[0] & 0x30, 0);
	v = p[0] & 0x0f;
	for (u32 i = 0; i < follow; i++)
		v |= (u32)p[1 + i] << (4 + 8 * i);
	*n = 1 + follow;
	return v;
}

/* The bytes of Name (name, <DWord>) in [p, end), or NULL */
static const u8 *find_name(const u8 *p, const u8 *end, const char *name)
{
	for (; p + 5 <= end; p++)
		if (p[0] == 0x08 && !memcmp(p + 1, name, 4))
			return p + 5;
	return NULL;
}

/* A resource descriptor seen in a _CRS */
struct rdesc {
	u8 tag; /* small: the type and length byte; large: the type byte */
	const u8 *d;
	u32 len; /* total, header included */
};

/* Walks the ResourceTemplate of the device at [dev, end); returns the count. */
static u32 crs_walk(const u8 *dev, const u8 *end, struct rdesc *out, u32 max)
{
	const u8 *p = find_name(dev, end, "_CRS");
	const u8 *buf, *bend;
	u32 n, plen, size, count = 0;

	assert_non_null(p);
	assert_int_equal(p[0], 0x11); /* BufferOp */
	plen = pkglen(p + 1, &n);
	bend = p + 1 + plen;
	assert_true(bend <= end);
	buf = p + 1 + n;
	if (buf[0] == 0x0a) { /* BytePrefix */
		size = buf[1];
		buf += 2;
	} else {
		assert_int_equal(buf[0], 0x0b); /* WordPrefix */
		size = get16(buf + 1);
		buf += 3;
	}
	assert_ptr_equal(buf + size, bend);
	/* ACPI 6.4 6.4.2.9: the end tag's checksum zeroes the template */
	assert_int_equal(sum8(buf, size), 0);
	for (const u8 *d = buf; d < bend;) {
		u32 len = (d[0] & 0x80) ? 3u + get16(d + 1) : 1u + (d[0] & 7);

		assert_true(d + len <= bend);
		assert_true(count < max);
		out[count++] = (struct rdesc){ .tag = d[0], .d = d, .len = len };
		if (d[0] == 0x79) {
			assert_ptr_equal(d + len, bend); /* the end tag is last */
			return count;
		}
		d += len;
	}
	fail_msg("no end tag");
	return 0;
}

static void check_io(const struct rdesc *r, u16 base, u8 len)
{
	assert_int_equal(r->tag, 0x47);
	assert_int_equal(r->d[1], 1); /* Decode16 */
	assert_int_equal(get16(r->d + 2), base);
	assert_int_equal(get16(r->d + 4), base);
	assert_int_equal(r->d[7], len);
}

static void check_irq(const struct rdesc *r, u8 irq)
{
	assert_int_equal(r->tag, 0x22);
	assert_int_equal(get16(r->d + 1), 1u << irq);
}

/* WordBusNumber/WordIO: a producer window [min, max], both ends fixed */
static void check_word_window(const struct rdesc *r, u8 type, u16 min, u16 max)
{
	assert_int_equal(r->tag, 0x88);
	assert_int_equal(r->len, 16);
	assert_int_equal(r->d[3], type);
	assert_int_equal(r->d[4], 0x0c);
	assert_int_equal(get16(r->d + 8), min);
	assert_int_equal(get16(r->d + 10), max);
	assert_int_equal(get16(r->d + 14), (u16)(max - min + 1));
}

/* Every encoding is the shortest, decodes to body + its own size, and keeps
 * bits 5-4 of a multi-byte lead clear; bodies of 2^28 - 4 bytes and more
 * cannot be expressed. */
static void test_pkglen(void **state)
{
	static const u32 limits[] = { 1u << 6, 1u << 12, 1u << 20, 1u << 28 };
	u8 out[ACPI_BUILD_PKGLEN_MAX + 4];

	(void)state;
	for (u32 body = 0; body < (1u << 21); body++) {
		u32 n = acpi_build_pkglen(body, out), m;
		u32 expect_n = 1;

		while (body + expect_n >= limits[expect_n - 1])
			expect_n++;
		assert_int_equal(n, expect_n);
		assert_int_equal(pkglen(out, &m), body + n);
		assert_int_equal(m, n);
	}
	for (u32 body = (1u << 28) - 16; body < (1u << 28) + 16; body++) {
		u32 n = acpi_build_pkglen(body, out), m;

		if (body + 4 < (1u << 28)) {
			assert_int_equal(n, 4);
			assert_int_equal(pkglen(out, &m), body + 4);
		} else {
			assert_int_equal(n, 0);
		}
	}
	assert_int_equal(acpi_build_pkglen(0xffffffff, out), 0);
}

struct device {
	const char *name;
	const char *hid; /* as the four bytes of its EISA ID */
	const u8 *start, *end;
};

static void test_dsdt_aml(void **state)
{
	static const struct device expect[] = {
		{ .name = "PCI0", .hid = "\x41\xd0\x0a\x08" }, /* PNP0A08 */
		{ .name = "MRES", .hid = "\x41\xd0\x0c\x02" }, /* PNP0C02 */
		{ .name = "COM1", .hid = "\x41\xd0\x05\x01" }, /* PNP0501 */
		{ .name = "RTC_", .hid = "\x41\xd0\x0b\x00" }, /* PNP0B00 */
	};
	struct acpi_build_cfg c = cfg_for(4);
	struct device dev[5];
	struct rdesc r[16];
	struct acpi_fadt f;
	struct gmem g;
	const struct acpi_sdt_header *h;
	const u8 *p, *end, *scope_end;
	u32 n, len, count;
	u8 a, b;

	(void)state;
	assert_true(build(&c, &g) > 0);
	get_fadt(&g, &f);
	h = gm_at(&g, f.x_dsdt);
	assert_int_equal(h->revision, 2); /* 64-bit integers */
	p = (const u8 *)h + sizeof(*h);
	end = (const u8 *)h + h->length;
	assert_int_equal(acpi_aml_find_s5(p, (u64)(end - p), &a, &b), 0);
	assert_int_equal(a, PLAT_SLP_TYP_S5);

	/* Name (\_S5_, Package (4) { 5, 5, Zero, Zero }) */
	/* clang-format off */
	static const u8 s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04,
				 0x0a, PLAT_SLP_TYP_S5, 0x0a, PLAT_SLP_TYP_S5, 0x00, 0x00 };
	/* clang-format on */
	assert_memory_equal(p, s5, sizeof(s5));
	p += sizeof(s5);

	/* Scope (\_SB_) spans the rest of the table: a two-byte PkgLength */
	assert_int_equal(p[0], 0x10);
	len = pkglen(p + 1, &n);
	assert_int_equal(n, 2);
	scope_end = p + 1 + len;
	assert_ptr_equal(scope_end, end);
	p += 1 + n;
	assert_memory_equal(p, "\\_SB_", 5);
	p += 5;

	/* five devices, back to back, filling the scope: four with EISA IDs,
	 * then the pvpanic device with its string ID */
	for (u32 i = 0; i < 5; i++) {
		assert_int_equal(p[0], 0x5b);
		assert_int_equal(p[1], 0x82);
		len = pkglen(p + 2, &n);
		dev[i].start = p + 2 + n;
		dev[i].end = p + 2 + len;
		assert_true(dev[i].end <= scope_end);
		p = dev[i].end;
		if (i == 4)
			break;
		assert_memory_equal(dev[i].start, expect[i].name, 4);
		p = find_name(dev[i].start, dev[i].end, "_HID");
		assert_non_null(p);
		assert_int_equal(p[0], 0x0c); /* DWordPrefix */
		assert_memory_equal(p + 1, expect[i].hid, 4);
		p = dev[i].end;
	}
	assert_ptr_equal(p, scope_end);

	/* PEVT: _HID "QEMU0001" (StringPrefix), _STA, one I/O port */
	assert_memory_equal(dev[4].start, "PEVT", 4);
	p = find_name(dev[4].start, dev[4].end, "_HID");
	assert_non_null(p);
	assert_memory_equal(p, "\x0dQEMU0001", 10);
	count = crs_walk(dev[4].start, dev[4].end, r, 16);
	assert_int_equal(count, 2); /* the port, then the end tag */
	check_io(&r[0], PLAT_PVPANIC_PORT, 1);

	/* PCI0: _CID PNP0A03, _UID/_SEG/_BBN Zero, its windows */
	p = find_name(dev[0].start, dev[0].end, "_CID");
	assert_non_null(p);
	assert_memory_equal(p, "\x0c\x41\xd0\x0a\x03", 5);
	assert_int_equal(*find_name(dev[0].start, dev[0].end, "_UID"), 0x00);
	assert_int_equal(*find_name(dev[0].start, dev[0].end, "_SEG"), 0x00);
	assert_int_equal(*find_name(dev[0].start, dev[0].end, "_BBN"), 0x00);
	count = crs_walk(dev[0].start, dev[0].end, r, 16);
	assert_int_equal(count, 6);
	check_word_window(&r[0], 2, 0, PLAT_ECAM_BUSES - 1);
	check_io(&r[1], PLAT_PCI_CONF_ADDR, 8);
	check_word_window(&r[2], 1, 0, PLAT_PCI_CONF_ADDR - 1);
	check_word_window(&r[3], 1, PLAT_PCI_CONF_ADDR + 8, 0xffff);
	assert_int_equal(r[4].tag, 0x87);
	assert_int_equal(r[4].len, 26);
	assert_int_equal(r[4].d[3], 0);	   /* memory */
	assert_int_equal(r[4].d[4], 0x0c); /* producer, fixed window */
	assert_int_equal(get32(r[4].d + 10), PLAT_PCI_MMIO_BASE);
	assert_int_equal(get32(r[4].d + 14), PLAT_PCI_MMIO_BASE + PLAT_PCI_MMIO_SIZE - 1);
	assert_int_equal(get32(r[4].d + 22), PLAT_PCI_MMIO_SIZE);

	/* MRES: the ECAM range, which Linux wants reserved before it uses MCFG */
	count = crs_walk(dev[1].start, dev[1].end, r, 16);
	assert_int_equal(count, 2);
	assert_int_equal(r[0].tag, 0x86);
	assert_int_equal(r[0].len, 12);
	assert_int_equal(get32(r[0].d + 4), PLAT_ECAM_BASE);
	assert_int_equal(get32(r[0].d + 8), PLAT_ECAM_SIZE);

	/* COM1: _UID 1, _STA 0x0F, 0x3F8-0x3FF and IRQ 4 */
	assert_int_equal(*find_name(dev[2].start, dev[2].end, "_UID"), 0x01);
	assert_memory_equal(find_name(dev[2].start, dev[2].end, "_STA"), "\x0a\x0f", 2);
	count = crs_walk(dev[2].start, dev[2].end, r, 16);
	assert_int_equal(count, 3);
	check_io(&r[0], PLAT_COM1_PORT, 8);
	check_irq(&r[1], PLAT_IRQ_COM1);

	/* RTC: 0x70-0x71 and IRQ 8 */
	count = crs_walk(dev[3].start, dev[3].end, r, 16);
	assert_int_equal(count, 3);
	check_io(&r[0], PLAT_RTC_PORT, 2);
	check_irq(&r[1], PLAT_IRQ_RTC);

	free(g.buf);
}

/* ------------------------------------------------------- configuration */

static void test_options(void **state)
{
	struct acpi_build_cfg c = cfg_for(2);
	struct acpi_fadt f;
	struct gmem g;

	(void)state;
	c.rtc_century = false;
	c.power_button = true;
	strcpy(c.oem_id, "AB");
	assert_true(build(&c, &g) > 0);
	get_fadt(&g, &f);
	assert_int_equal(f.century, 0);
	assert_false(f.flags & BIT(4)); /* PWR_BUTTON clear: a fixed button */
	assert_memory_equal(f.hdr.oem_id, "AB    ", 6);
	assert_memory_equal(((const struct acpi_rsdp *)g.buf)->oem_id, "AB    ", 6);
	free(g.buf);
}

static void test_deterministic(void **state)
{
	struct acpi_build_cfg c = cfg_for(4);
	struct gmem g1, g2;
	int rc1, rc2;

	(void)state;
	rc1 = build(&c, &g1);
	rc2 = build(&c, &g2);
	assert_true(rc1 > 0);
	assert_int_equal(rc1, rc2);
	assert_memory_equal(g1.buf, g2.buf, c.size);
	free(g1.buf);
	free(g2.buf);
}

/* Anywhere 16-byte aligned below 4 GiB: every pointer follows the base. */
static void test_other_base(void **state)
{
	struct acpi_build_cfg c = cfg_for(2);
	struct acpi_info *ai = calloc(1, sizeof(*ai));
	struct gmem g;
	int rc;

	(void)state;
	assert_non_null(ai);
	c.base_gpa = 0xfff00010;
	c.size = 0x2000;
	rc = build(&c, &g);
	assert_true(rc > 0);
	check_layout(&g, (u32)rc);
	assert_int_equal(acpi_parse(ai, c.base_gpa, NULL, 0, gm_map, &g), 0);
	check_parsed(ai, &g, 2);
	free(ai);
	free(g.buf);

	/* the last byte of the area may be the 4 GiB boundary's */
	c.base_gpa = 0x100000000ULL - 0x2000;
	assert_true(build(&c, &g) > 0);
	free(g.buf);
}

static void expect_untouched(const struct gmem *g)
{
	for (u64 i = 0; i < g->size; i++)
		assert_int_equal(g->buf[i], FILL);
}

static void test_bad_cfg(void **state)
{
	struct acpi_build_cfg c;
	struct gmem g;
	u64 rsdp;

	(void)state;
	c = cfg_for(0);
	assert_int_equal(build(&c, &g), -E_INVAL);
	expect_untouched(&g);
	free(g.buf);

	c = cfg_for(ACPI_BUILD_MAX_CPUS + 1);
	assert_int_equal(build(&c, &g), -E_INVAL);
	expect_untouched(&g);
	free(g.buf);

	c = cfg_for(1);
	c.base_gpa += 8; /* ACPI 6.4 5.2.5.1: the RSDP is 16-byte aligned */
	assert_int_equal(build(&c, &g), -E_INVAL);
	expect_untouched(&g);
	free(g.buf);

	c = cfg_for(1);
	memcpy(c.oem_id, "TOOLONG", sizeof(c.oem_id)); /* no terminator */
	assert_int_equal(build(&c, &g), -E_INVAL);
	expect_untouched(&g);
	free(g.buf);

	/* the RSDT, DSDT and FACS pointers are 32 bits wide */
	c = cfg_for(1);
	c.base_gpa = 0x100000000ULL;
	c.size = 0x1000;
	assert_int_equal(build(&c, &g), -E_RANGE);
	expect_untouched(&g);
	free(g.buf);

	c = cfg_for(1);
	c.base_gpa = 0xfffff000;
	c.size = 0x2000;
	assert_int_equal(build(&c, &g), -E_RANGE);
	expect_untouched(&g);
	free(g.buf);

	c = cfg_for(1);
	assert_int_equal(acpi_build(&c, NULL, &rsdp), -E_INVAL);
}

/*
 * Every size short of what the tables need fails with -E_NOMEM, leaves the
 * buffer zeroed (no RSDP a guest could find) and, the buffer being exactly
 * that size, never writes past it; the exact size succeeds.
 */
static void check_sizes(u32 cpus)
{
	struct acpi_build_cfg c = cfg_for(cpus);
	struct acpi_info *ai = calloc(1, sizeof(*ai));
	struct gmem g;
	u64 pa;
	int need;

	assert_non_null(ai);
	need = build(&c, &g);
	assert_true(need > 0);
	free(g.buf);

	for (u32 size = 0; size < (u32)need; size++) {
		c.size = size;
		assert_int_equal(build(&c, &g), -E_NOMEM);
		for (u32 i = 0; i < size; i++)
			assert_int_equal(g.buf[i], 0);
		assert_int_equal(acpi_find_rsdp_in(g.buf, g.base, size, &pa), -E_NOENT);
		free(g.buf);
	}

	c.size = (u32)need;
	assert_int_equal(build(&c, &g), need);
	check_layout(&g, (u32)need);
	assert_int_equal(acpi_parse(ai, c.base_gpa, NULL, 0, gm_map, &g), 0);
	check_parsed(ai, &g, cpus);
	free(g.buf);
	free(ai);
}

static void test_too_small(void **state)
{
	(void)state;
	check_sizes(1);
	check_sizes(64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_1_cpu),    cmocka_unit_test(test_build_2_cpus),
		cmocka_unit_test(test_build_4_cpus),   cmocka_unit_test(test_build_64_cpus),
		cmocka_unit_test(test_x2apic_entries), cmocka_unit_test(test_ioapic_id),
		cmocka_unit_test(test_pkglen),	       cmocka_unit_test(test_dsdt_aml),
		cmocka_unit_test(test_options),	       cmocka_unit_test(test_deterministic),
		cmocka_unit_test(test_other_base),     cmocka_unit_test(test_bad_cfg),
		cmocka_unit_test(test_too_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
