/*
 * ACPI table discovery (see drivers/acpi.h). Pure: every physical range is
 * read through the caller's mapping callback, and every length, offset and
 * count that firmware supplies is checked before it is used.
 */
#include "drivers/acpi.h"
#include "hv/lib/lib.h"

/* Larger than any real table; a header claiming more is garbage. */
#define ACPI_TABLE_MAX_LEN (16 * MiB)
/* An RSDP longer than this is garbage (revision 2 defines 36 bytes). */
#define ACPI_RSDP_MAX_LEN 4096
/* SSDTs remembered for the \_S5 search when the DSDT has none */
#define ACPI_MAX_SSDTS 16

/* ACPI 6.4 5.2.5.1: where a PC BIOS may put the RSDP */
#define ACPI_RSDP_ALIGN 16
#define BDA_EBDA_SEGMENT_PA 0x40e
#define EBDA_SCAN_LEN 1024
#define EBDA_MIN_PA 0x500   /* above the IVT and the BIOS data area */
#define EBDA_LIMIT_PA 0xa0000 /* conventional memory ends here */
#define BIOS_AREA_PA 0xe0000
#define BIOS_AREA_LEN 0x20000

/* ACPI 6.4 20.2: the AML encodings the \_S5 search understands, beyond
 * those acpi.h shares with the DSDT builder */
#define AML_ONES_OP 0xff
#define AML_PARENT_PREFIX_CHAR '^'
#define AML_PKGLEN_SHORT_MASK 0x3f /* one-byte form: bits 5-0 */
#define AML_PKGLEN_LONG_MASK 0x0f  /* multi-byte form: bits 3-0 ... */
#define AML_PKGLEN_RESERVED 0x30   /* ... and bits 5-4 must be zero */
/* ACPI 6.4 4.8.3.2.1: SLP_TYPx is a 3-bit field */
#define ACPI_SLP_TYP_MAX 7

struct parser {
	struct acpi_info *ai;
	acpi_map_fn map;
	void *ctx;
	bool have_mcfg;
	u32 ssdt_count;
	u64 ssdt_pa[ACPI_MAX_SSDTS];
};

static void acpi_warn(struct acpi_info *ai, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void acpi_warn(struct acpi_info *ai, const char *fmt, ...)
{
	va_list ap;

	if (ai->warning_count < ACPI_MAX_WARNINGS) {
		va_start(ap, fmt);
		vsnprintf(ai->warning[ai->warning_count], ACPI_WARNING_LEN, fmt, ap);
		va_end(ap);
	} else {
		ai->truncated |= ACPI_TRUNC_WARNINGS;
	}
	ai->warning_count++;
}

/* ACPI 6.4 5.2.6: a table's bytes, checksum included, sum to zero. */
static u8 acpi_sum(const void *p, u64 len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

static u32 get_u32(const void *p)
{
	u32 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static u64 get_u64(const void *p)
{
	u64 v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* A printable copy of a 4-byte signature, for messages and tables[]. */
static void sig_copy(char out[5], const char *sig)
{
	for (int i = 0; i < 4; i++)
		out[i] = (sig[i] >= 0x20 && sig[i] < 0x7f) ? sig[i] : '?';
	out[4] = '\0';
}

static bool sig_printable(const char *sig)
{
	for (int i = 0; i < 4; i++)
		if (sig[i] < 0x20 || sig[i] >= 0x7f)
			return false;
	return true;
}

static bool sig_is(const struct acpi_sdt_header *h, const char *sig)
{
	return memcmp(h->signature, sig, 4) == 0;
}

/* ------------------------------------------------------------------ RSDP */

static bool rsdp_v1_ok(const u8 *p)
{
	return memcmp(p, ACPI_RSDP_SIG, 8) == 0 && acpi_sum(p, ACPI_RSDP_V1_LEN) == 0;
}

/*
 * ACPI 6.4 5.2.5.3: revision 2+ adds a length and an extended checksum over
 * that many bytes. avail: how many bytes at p may be read.
 */
static bool rsdp_v2_ok(const u8 *p, u64 avail)
{
	const struct acpi_rsdp *r = (const struct acpi_rsdp *)p;
	u32 len;

	if (avail < ACPI_RSDP_V2_LEN)
		return false;
	len = r->length;
	return len >= ACPI_RSDP_V2_LEN && len <= avail && acpi_sum(p, len) == 0;
}

int acpi_find_rsdp_in(const u8 *area, u64 area_pa, u64 len, u64 *rsdp_pa)
{
	u64 first = ALIGN_UP(area_pa, (u64)ACPI_RSDP_ALIGN) - area_pa;
	u64 v1_only = 0;
	bool have_v1_only = false;

	if (!area)
		return -E_NOENT;
	/* Prefer a candidate whose extended checksum holds too; else take a
	 * revision-2 RSDP whose first 20 bytes are good (its RSDT is usable). */
	for (u64 off = first; off < len && len - off >= ACPI_RSDP_V1_LEN;
	     off += ACPI_RSDP_ALIGN) {
		const u8 *p = area + off;

		if (!rsdp_v1_ok(p))
			continue;
		if (((const struct acpi_rsdp *)p)->revision < 2 ||
		    rsdp_v2_ok(p, len - off)) {
			*rsdp_pa = area_pa + off;
			return 0;
		}
		if (!have_v1_only) {
			have_v1_only = true;
			v1_only = area_pa + off;
		}
	}
	if (have_v1_only) {
		*rsdp_pa = v1_only;
		return 0;
	}
	return -E_NOENT;
}

int acpi_find_rsdp(acpi_map_fn map, void *ctx, u64 *rsdp_pa)
{
	const u8 *bda = map(BDA_EBDA_SEGMENT_PA, sizeof(u16), ctx);

	/* ACPI 6.4 5.2.5.1: the first KiB of the EBDA, whose segment is the
	 * word at 40:0Eh, then the BIOS read-only area 0xE0000-0xFFFFF. */
	if (bda) {
		u64 ebda = (u64)(bda[0] | (bda[1] << 8)) << 4;

		if (ebda >= EBDA_MIN_PA && ebda < EBDA_LIMIT_PA) {
			u64 len = MIN((u64)EBDA_SCAN_LEN, EBDA_LIMIT_PA - ebda);

			if (!acpi_find_rsdp_in(map(ebda, len, ctx), ebda, len, rsdp_pa))
				return 0;
		}
	}
	return acpi_find_rsdp_in(map(BIOS_AREA_PA, BIOS_AREA_LEN, ctx), BIOS_AREA_PA,
				 BIOS_AREA_LEN, rsdp_pa);
}

/* --------------------------------------------------------------- tables */

/*
 * Maps and validates the table at pa: signature (expect, or any printable
 * one when expect is NULL), length, checksum. Records what it saw in ref
 * when ref is not NULL. Returns the whole table, or NULL (with a warning).
 */
static const struct acpi_sdt_header *table_get(struct parser *p, u64 pa,
					       const char *expect,
					       struct acpi_table_ref *ref)
{
	struct acpi_info *ai = p->ai;
	const struct acpi_sdt_header *h;
	char sig[5];
	u32 len;

	if (ref) {
		memset(ref, 0, sizeof(*ref));
		ref->pa = pa;
		memcpy(ref->sig, "????", 5);
	}
	h = p->map(pa, sizeof(*h), p->ctx);
	if (!h) {
		acpi_warn(ai, "%s at %#lx: cannot map, skipped", expect ? expect : "table",
			  pa);
		return NULL;
	}
	sig_copy(sig, h->signature);
	len = h->length;
	if (ref) {
		memcpy(ref->sig, sig, sizeof(sig));
		ref->revision = h->revision;
		ref->len = len;
	}
	if (expect ? !sig_is(h, expect) : !sig_printable(h->signature)) {
		acpi_warn(ai, "%s at %#lx: bad signature '%s', skipped",
			  expect ? expect : "table", pa, sig);
		return NULL;
	}
	if (len < sizeof(*h) || len > ACPI_TABLE_MAX_LEN || pa + len < pa) {
		acpi_warn(ai, "%s at %#lx: bad length %u, skipped", sig, pa, len);
		return NULL;
	}
	h = p->map(pa, len, p->ctx);
	if (!h) {
		acpi_warn(ai, "%s at %#lx: cannot map %u bytes, skipped", sig, pa, len);
		return NULL;
	}
	if (acpi_sum(h, len)) {
		acpi_warn(ai, "%s at %#lx: bad checksum, skipped", sig, pa);
		return NULL;
	}
	if (ref)
		ref->valid = true;
	return h;
}

static struct acpi_table_ref *table_ref_new(struct acpi_info *ai)
{
	if (ai->table_count >= ACPI_MAX_TABLES) {
		ai->truncated |= ACPI_TRUNC_TABLES;
		return NULL;
	}
	return &ai->tables[ai->table_count++];
}

/* ---------------------------------------------------------------- MADT */

static void madt_add_cpu(struct parser *p, u32 apic_id, u32 uid, u32 flags,
			 bool x2apic)
{
	struct acpi_info *ai = p->ai;

	/* ACPI 6.4 5.2.12.2: a processor that is not enabled (even if online
	 * capable, i.e. hot-pluggable) is not ours to start. */
	if (!(flags & ACPI_LAPIC_ENABLED)) {
		ai->cpu_disabled_count++;
		return;
	}
	/* Firmware may describe one CPU by both an xAPIC and an x2APIC
	 * entry (ACPI 6.4 5.2.12.12): keep the first. */
	for (u32 i = 0; i < ai->cpu_count; i++) {
		if (ai->cpus[i].apic_id != apic_id)
			continue;
		if (ai->cpus[i].x2apic_entry == x2apic)
			acpi_warn(ai, "MADT: APIC ID %u listed twice, second ignored",
				  apic_id);
		return;
	}
	if (ai->cpu_count >= ACPI_MAX_CPUS) {
		if (!(ai->truncated & ACPI_TRUNC_CPUS))
			acpi_warn(ai, "MADT: more than %u CPUs, APIC ID %u and later ignored",
				  ACPI_MAX_CPUS, apic_id);
		ai->truncated |= ACPI_TRUNC_CPUS;
		return;
	}
	ai->cpus[ai->cpu_count++] = (struct acpi_cpu){
		.apic_id = apic_id,
		.uid = uid,
		.x2apic_entry = x2apic,
	};
}

static void madt_lapic(struct parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_lapic *e = entry;

	/* 0xFF is the xAPIC broadcast ID, never a CPU's */
	if (e->apic_id == 0xff && (e->flags & ACPI_LAPIC_ENABLED)) {
		acpi_warn(p->ai, "MADT: entry at %#x: APIC ID 0xff, skipped", off);
		return;
	}
	madt_add_cpu(p, e->apic_id, e->uid, e->flags, false);
}

static void madt_x2apic(struct parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_x2apic *e = entry;

	if (e->x2apic_id == 0xffffffff && (e->flags & ACPI_LAPIC_ENABLED)) {
		acpi_warn(p->ai, "MADT: entry at %#x: x2APIC ID 0xffffffff, skipped",
			  off);
		return;
	}
	madt_add_cpu(p, e->x2apic_id, e->uid, e->flags, true);
}

static void madt_ioapic(struct parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_ioapic *e = entry;
	struct acpi_info *ai = p->ai;

	if (!e->address) {
		acpi_warn(ai, "MADT: entry at %#x: I/O APIC %u at address 0, skipped",
			  off, e->id);
		return;
	}
	if (ai->ioapic_count >= ACPI_MAX_IOAPICS) {
		if (!(ai->truncated & ACPI_TRUNC_IOAPICS))
			acpi_warn(ai, "MADT: more than %u I/O APICs, rest ignored",
				  ACPI_MAX_IOAPICS);
		ai->truncated |= ACPI_TRUNC_IOAPICS;
		return;
	}
	ai->ioapics[ai->ioapic_count++] = (struct acpi_ioapic){
		.id = e->id,
		.pa = e->address,
		.gsi_base = e->gsi_base,
	};
}

static void madt_iso(struct parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_iso *e = entry;
	struct acpi_info *ai = p->ai;

	/* ACPI 6.4 5.2.12.5: the bus is always 0, ISA */
	if (e->bus != 0) {
		acpi_warn(ai, "MADT: entry at %#x: override on bus %u, skipped", off,
			  e->bus);
		return;
	}
	if (ai->iso_count >= ACPI_MAX_ISOS) {
		if (!(ai->truncated & ACPI_TRUNC_ISOS))
			acpi_warn(ai, "MADT: more than %u interrupt overrides, rest ignored",
				  ACPI_MAX_ISOS);
		ai->truncated |= ACPI_TRUNC_ISOS;
		return;
	}
	ai->isos[ai->iso_count++] = (struct acpi_iso){
		.bus = e->bus,
		.source = e->source,
		.gsi = e->gsi,
		.flags = e->flags,
	};
}

static void madt_add_nmi(struct parser *p, u32 uid, u8 lint, u16 flags)
{
	struct acpi_info *ai = p->ai;

	if (ai->lapic_nmi_count >= ACPI_MAX_LAPIC_NMIS) {
		if (!(ai->truncated & ACPI_TRUNC_LAPIC_NMIS))
			acpi_warn(ai, "MADT: more than %u local APIC NMI entries, rest ignored",
				  ACPI_MAX_LAPIC_NMIS);
		ai->truncated |= ACPI_TRUNC_LAPIC_NMIS;
		return;
	}
	ai->lapic_nmis[ai->lapic_nmi_count++] = (struct acpi_lapic_nmi){
		.uid = uid,
		.lint = lint,
		.flags = flags,
	};
}

static void madt_lapic_nmi(struct parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_lapic_nmi *e = entry;

	(void)off;
	madt_add_nmi(p, e->uid == ACPI_UID_ALL_XAPIC ? ACPI_UID_ALL : e->uid,
		     e->lint, e->flags);
}

static void madt_x2apic_nmi(struct parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_x2apic_nmi *e = entry;

	(void)off;
	madt_add_nmi(p, e->uid, e->lint, e->flags);
}

static void madt_lapic_override(struct parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_lapic_override *e = entry;

	(void)off;
	/* ACPI 6.4 5.2.12.8: replaces the 32-bit address in the MADT header */
	p->ai->lapic_pa = e->address;
}

static const struct madt_handler {
	u8 type;
	u8 min_len;
	void (*fn)(struct parser *p, const void *entry, u32 off);
} madt_handlers[] = {
	{ ACPI_MADT_LAPIC, sizeof(struct acpi_madt_lapic), madt_lapic },
	{ ACPI_MADT_IOAPIC, sizeof(struct acpi_madt_ioapic), madt_ioapic },
	{ ACPI_MADT_ISO, sizeof(struct acpi_madt_iso), madt_iso },
	{ ACPI_MADT_LAPIC_NMI, sizeof(struct acpi_madt_lapic_nmi), madt_lapic_nmi },
	{ ACPI_MADT_LAPIC_OVERRIDE, sizeof(struct acpi_madt_lapic_override),
	  madt_lapic_override },
	{ ACPI_MADT_X2APIC, sizeof(struct acpi_madt_x2apic), madt_x2apic },
	{ ACPI_MADT_X2APIC_NMI, sizeof(struct acpi_madt_x2apic_nmi), madt_x2apic_nmi },
};

static void parse_madt(struct parser *p, const struct acpi_sdt_header *h)
{
	const struct acpi_madt *m = (const struct acpi_madt *)h;
	const u8 *base = (const u8 *)h;
	struct acpi_info *ai = p->ai;
	u32 len = h->length;
	u32 off = sizeof(*m);

	if (ai->have_madt) {
		acpi_warn(ai, "second MADT ignored");
		return;
	}
	if (len < sizeof(*m)) {
		acpi_warn(ai, "MADT: %u bytes, too short, skipped", len);
		return;
	}
	ai->have_madt = true;
	ai->lapic_pa = m->lapic_address;
	ai->pcat_compat = m->flags & ACPI_MADT_PCAT_COMPAT;

	while (off < len) {
		const struct acpi_madt_entry *e = (const void *)(base + off);
		const struct madt_handler *hd = NULL;

		if (len - off < sizeof(*e)) {
			acpi_warn(ai, "MADT: %u stray bytes at the end", len - off);
			break;
		}
		/* an entry shorter than its own header would never advance */
		if (e->length < sizeof(*e) || e->length > len - off) {
			acpi_warn(ai, "MADT: entry at %#x has length %u, rest of the MADT ignored",
				  off, e->length);
			break;
		}
		for (size_t i = 0; i < ARRAY_SIZE(madt_handlers); i++)
			if (madt_handlers[i].type == e->type)
				hd = &madt_handlers[i];
		if (hd && e->length < hd->min_len)
			acpi_warn(ai, "MADT: type %u entry at %#x: length %u < %u, skipped",
				  e->type, off, e->length, hd->min_len);
		else if (hd)
			hd->fn(p, e, off);
		off += e->length;
	}
}

/* ---------------------------------------------------------------- FADT */

/* ACPI 6.4 5.2.9: an X_ GAS, when its address is non-zero, replaces the
 * 32-bit I/O port block of legacy_len bytes. */
static void fadt_pick_gas(struct parser *p, const char *name, struct acpi_gas *out,
			  const struct acpi_gas_raw *x, u32 legacy_port, u8 legacy_len)
{
	if (x && x->address) {
		*out = (struct acpi_gas){
			.space_id = x->space_id,
			.bit_width = x->bit_width,
			.bit_offset = x->bit_offset,
			.access_size = x->access_size,
			.address = x->address,
		};
		if (legacy_port && (x->space_id != ACPI_GAS_SYSTEM_IO ||
				    x->address != legacy_port))
			acpi_warn(p->ai, "FADT: %s %#x and X_%s %#lx differ, using X_%s",
				  name, legacy_port, name, out->address, name);
		return;
	}
	if (legacy_port)
		*out = (struct acpi_gas){
			.space_id = ACPI_GAS_SYSTEM_IO,
			.bit_width = (u8)(legacy_len * 8),
			.access_size = ACPI_GAS_ACCESS_LEGACY,
			.address = legacy_port,
		};
}

static void gas_copy(struct acpi_gas *out, const struct acpi_gas_raw *in)
{
	*out = (struct acpi_gas){
		.space_id = in->space_id,
		.bit_width = in->bit_width,
		.bit_offset = in->bit_offset,
		.access_size = in->access_size,
		.address = in->address,
	};
}

static void fadt_pm_timer(struct parser *p, const struct acpi_fadt *f, u32 len)
{
	struct acpi_info *ai = p->ai;
	u64 port = 0;

	/* ACPI 6.4 4.8.3.3 and 5.2.9: X_PM_TMR_BLK first, when in I/O space */
	if (ACPI_FADT_HAS(len, x_pm_tmr_blk) && f->x_pm_tmr_blk.address) {
		if (f->x_pm_tmr_blk.space_id == ACPI_GAS_SYSTEM_IO)
			port = f->x_pm_tmr_blk.address;
		else
			acpi_warn(ai, "FADT: X_PM_TMR_BLK in address space %u, not used",
				  f->x_pm_tmr_blk.space_id);
	}
	if (!port && ACPI_FADT_HAS(len, pm_tmr_len) && f->pm_tmr_blk) {
		port = f->pm_tmr_blk;
		if (f->pm_tmr_len != 4)
			acpi_warn(ai, "FADT: PM_TMR_LEN is %u, not 4", f->pm_tmr_len);
	}
	if (port > 0xffff) {
		acpi_warn(ai, "FADT: PM timer port %#lx out of range, not used", port);
		port = 0;
	}
	ai->pm_tmr_port = (u32)port;
	ai->pm_tmr_32bit = ai->fadt_flags & ACPI_FADT_TMR_VAL_EXT;
}

static void fadt_reset(struct parser *p, const struct acpi_fadt *f, u32 len)
{
	struct acpi_info *ai = p->ai;
	const struct acpi_gas_raw *r = &f->reset_reg;

	/* ACPI 6.4 4.8.3.6: the reset register exists from the revision 2
	 * FADT on, is 8 bits wide at offset 0, in memory, I/O or PCI
	 * configuration space (bus 0), and is valid only with RESET_REG_SUP. */
	if (!ACPI_FADT_HAS(len, reset_value))
		return;
	gas_copy(&ai->reset_reg, r);
	ai->reset_value = f->reset_value;
	if (!(ai->fadt_flags & ACPI_FADT_RESET_REG_SUP))
		return;
	if (!r->address || r->space_id > ACPI_GAS_PCI_CONFIG || r->bit_offset != 0) {
		acpi_warn(ai, "FADT: unusable reset register (space %u, address %#lx)",
			  r->space_id, (u64)r->address);
		return;
	}
	ai->reset_supported = true;
}

/* The fixed hardware of a non-HW-reduced platform (ACPI 6.4 4.8). */
static void fadt_fixed_hw(struct parser *p, const struct acpi_fadt *f, u32 len)
{
	struct acpi_info *ai = p->ai;

	if (ACPI_FADT_HAS(len, sci_int))
		ai->sci_irq = f->sci_int;
	if (ACPI_FADT_HAS(len, acpi_enable)) {
		ai->smi_cmd = f->smi_cmd;
		ai->acpi_enable = f->acpi_enable;
	}
	if (ACPI_FADT_HAS(len, century))
		ai->century = f->century;
	fadt_pm_timer(p, f, len);
	fadt_pick_gas(p, "PM1a_CNT_BLK", &ai->pm1a_cnt,
		      ACPI_FADT_HAS(len, x_pm1a_cnt_blk) ? &f->x_pm1a_cnt_blk : NULL,
		      ACPI_FADT_HAS(len, pm1_cnt_len) ? f->pm1a_cnt_blk : 0,
		      ACPI_FADT_HAS(len, pm1_cnt_len) ? f->pm1_cnt_len : 0);
	fadt_pick_gas(p, "PM1b_CNT_BLK", &ai->pm1b_cnt,
		      ACPI_FADT_HAS(len, x_pm1b_cnt_blk) ? &f->x_pm1b_cnt_blk : NULL,
		      ACPI_FADT_HAS(len, pm1_cnt_len) ? f->pm1b_cnt_blk : 0,
		      ACPI_FADT_HAS(len, pm1_cnt_len) ? f->pm1_cnt_len : 0);
}

static void parse_fadt(struct parser *p, const struct acpi_sdt_header *h)
{
	const struct acpi_fadt *f = (const struct acpi_fadt *)h;
	struct acpi_info *ai = p->ai;
	u32 len = h->length;
	u64 x_dsdt = 0;

	if (ai->have_fadt) {
		acpi_warn(ai, "second FADT ignored");
		return;
	}
	if (!ACPI_FADT_HAS(len, dsdt)) {
		acpi_warn(ai, "FADT: %u bytes, too short, skipped", len);
		return;
	}
	ai->have_fadt = true;
	ai->fadt_revision = h->revision;
	if (!ACPI_FADT_HAS(len, flags))
		acpi_warn(ai, "FADT: %u bytes, shorter than ACPI 1.0's", len);
	else
		ai->fadt_flags = f->flags;
	ai->hw_reduced = ai->fadt_flags & ACPI_FADT_HW_REDUCED_ACPI;
	/* IAPC_BOOT_ARCH is reserved in ACPI 1.0 FADTs, which end at the
	 * reset register; only the length can be trusted, not the revision. */
	if (ACPI_FADT_HAS(len, x_dsdt))
		ai->iapc_boot_arch = f->iapc_boot_arch;

	/* ACPI 6.4 5.2.9: X_DSDT, when non-zero, supersedes DSDT */
	if (ACPI_FADT_HAS(len, x_dsdt))
		x_dsdt = f->x_dsdt;
	ai->dsdt_pa = x_dsdt ? x_dsdt : f->dsdt;
	if (x_dsdt && f->dsdt && x_dsdt != f->dsdt)
		acpi_warn(ai, "FADT: DSDT %#x and X_DSDT %#lx differ, using X_DSDT", f->dsdt,
			  x_dsdt);

	/* ACPI 6.4 5.2.9: a HW-reduced platform has no fixed hardware: OSPM
	 * ignores offsets 46-108 and 148-232 (SCI to century, the X_ blocks)
	 * and uses the sleep control and status registers instead. */
	if (!ai->hw_reduced)
		fadt_fixed_hw(p, f, len);
	if (ACPI_FADT_HAS(len, sleep_status_reg)) {
		gas_copy(&ai->sleep_control, &f->sleep_control_reg);
		gas_copy(&ai->sleep_status, &f->sleep_status_reg);
	}
	fadt_reset(p, f, len);
}

/* ---------------------------------------------------------------- MCFG */

static void parse_mcfg(struct parser *p, const struct acpi_sdt_header *h)
{
	const u8 *base = (const u8 *)h;
	struct acpi_info *ai = p->ai;
	u32 len = h->length;
	u32 body, n;

	if (p->have_mcfg) {
		acpi_warn(ai, "second MCFG ignored");
		return;
	}
	p->have_mcfg = true;
	if (len < sizeof(struct acpi_mcfg_table)) {
		acpi_warn(ai, "MCFG: %u bytes, too short, skipped", len);
		return;
	}
	body = len - sizeof(struct acpi_mcfg_table);
	n = body / sizeof(struct acpi_mcfg_alloc);
	if (body % sizeof(struct acpi_mcfg_alloc))
		acpi_warn(ai, "MCFG: %u stray bytes at the end",
			  (u32)(body % sizeof(struct acpi_mcfg_alloc)));
	for (u32 i = 0; i < n; i++) {
		const struct acpi_mcfg_alloc *a =
			(const void *)(base + sizeof(struct acpi_mcfg_table) +
				       i * sizeof(struct acpi_mcfg_alloc));

		if (!a->base || a->bus_start > a->bus_end) {
			acpi_warn(ai, "MCFG: entry %u (base %#lx, buses %u-%u) invalid, skipped",
				  i, (u64)a->base, a->bus_start, a->bus_end);
			continue;
		}
		if (ai->mcfg_count >= ACPI_MAX_MCFG) {
			acpi_warn(ai, "MCFG: more than %u entries, rest ignored",
				  ACPI_MAX_MCFG);
			ai->truncated |= ACPI_TRUNC_MCFG;
			break;
		}
		ai->mcfg[ai->mcfg_count++] = (struct acpi_mcfg){
			.base = a->base,
			.segment = a->segment,
			.bus_start = a->bus_start,
			.bus_end = a->bus_end,
		};
	}
}

/* ------------------------------------------------- tables only noted */

static void note_pa(struct parser *p, u64 *slot, const char *sig, u64 pa)
{
	if (*slot)
		acpi_warn(p->ai, "second %s at %#lx ignored", sig, pa);
	else
		*slot = pa;
}

static void table_dispatch(struct parser *p, const struct acpi_sdt_header *h, u64 pa)
{
	struct acpi_info *ai = p->ai;

	if (sig_is(h, "FACP")) {
		parse_fadt(p, h);
	} else if (sig_is(h, "APIC")) {
		parse_madt(p, h);
	} else if (sig_is(h, "MCFG")) {
		parse_mcfg(p, h);
	} else if (sig_is(h, "SSDT")) {
		if (p->ssdt_count < ACPI_MAX_SSDTS)
			p->ssdt_pa[p->ssdt_count++] = pa;
	} else if (sig_is(h, "HPET")) {
		note_pa(p, &ai->hpet_pa, "HPET", pa);
	} else if (sig_is(h, "DMAR")) {
		note_pa(p, &ai->dmar_pa, "DMAR", pa);
	} else if (sig_is(h, "IVRS")) {
		note_pa(p, &ai->ivrs_pa, "IVRS", pa);
	}
}

/* ------------------------------------------------------------ AML \_S5 */

/* ACPI 6.4 20.2.3: an integer constant; advances *pos. */
static int aml_integer(const u8 *aml, u64 end, u64 *pos, u64 *val)
{
	u64 at = *pos;
	u32 size;

	if (at >= end)
		return -E_INVAL;
	switch (aml[at]) {
	case AML_ZERO_OP:
		*val = 0;
		*pos = at + 1;
		return 0;
	case AML_ONE_OP:
		*val = 1;
		*pos = at + 1;
		return 0;
	case AML_ONES_OP:
		*val = ~0ULL;
		*pos = at + 1;
		return 0;
	case AML_BYTE_PREFIX:
		size = 1;
		break;
	case AML_WORD_PREFIX:
		size = 2;
		break;
	case AML_DWORD_PREFIX:
		size = 4;
		break;
	case AML_QWORD_PREFIX:
		size = 8;
		break;
	default:
		return -E_INVAL; /* a reference, an expression: not decoded */
	}
	if (end - at - 1 < size)
		return -E_INVAL;
	*val = 0;
	for (u32 i = 0; i < size; i++)
		*val |= (u64)aml[at + 1 + i] << (8 * i);
	*pos = at + 1 + size;
	return 0;
}

/*
 * ACPI 6.4 20.2.5.4 DefPackage := PackageOp PkgLength NumElements
 * PackageElementList, at aml[pos] (just after PackageOp). PkgLength
 * (20.2.4) counts its own bytes.
 */
static int aml_s5_package(const u8 *aml, u64 len, u64 pos, u8 *a, u8 *b)
{
	u64 end, val_a, val_b;
	u32 pkglen, nbytes;
	u8 lead, count;

	if (pos >= len)
		return -E_INVAL;
	lead = aml[pos];
	nbytes = lead >> AML_PKGLEN_BYTES_SHIFT;
	if (nbytes) {
		if (lead & AML_PKGLEN_RESERVED || len - pos <= nbytes)
			return -E_INVAL;
		pkglen = lead & AML_PKGLEN_LONG_MASK;
		for (u32 i = 0; i < nbytes; i++)
			pkglen |= (u32)aml[pos + 1 + i] << (4 + 8 * i);
	} else {
		pkglen = lead & AML_PKGLEN_SHORT_MASK;
	}
	if (pkglen < nbytes + 2 || pkglen > len - pos)
		return -E_INVAL;
	end = pos + pkglen;
	pos += 1 + nbytes;
	count = aml[pos++];
	if (count == 0 || aml_integer(aml, end, &pos, &val_a))
		return -E_INVAL;
	/* ACPI 6.4 7.4.2: {SLP_TYPa, SLP_TYPb, ...}; a one-element package
	 * gives one value for both registers. */
	val_b = val_a;
	if (count >= 2 && aml_integer(aml, end, &pos, &val_b))
		return -E_INVAL;
	if (val_a > ACPI_SLP_TYP_MAX || val_b > ACPI_SLP_TYP_MAX)
		return -E_RANGE;
	*a = (u8)val_a;
	*b = (u8)val_b;
	return 0;
}

int acpi_aml_find_s5(const u8 *aml, u64 len, u8 *slp_typ_a, u8 *slp_typ_b)
{
	int rc = -E_NOENT;

	/* ACPI 6.4 20.2.5.1 DefName := NameOp NameString DataRefObject, the
	 * NameString being "_S5_" with an optional root or parent prefix. */
	for (u64 i = 0; len >= 4 && i <= len - 4; i++) {
		u64 j = i;
		int r;

		if (memcmp(aml + i, "_S5_", 4) != 0)
			continue;
		if (j > 0 && aml[j - 1] == AML_ROOT_CHAR)
			j--;
		else
			while (j > 0 && aml[j - 1] == AML_PARENT_PREFIX_CHAR)
				j--;
		if (j == 0 || aml[j - 1] != AML_NAME_OP)
			continue;
		if (i + 4 >= len || aml[i + 4] != AML_PACKAGE_OP) {
			rc = -E_INVAL;
			continue;
		}
		r = aml_s5_package(aml, len, i + 5, slp_typ_a, slp_typ_b);
		if (r == 0)
			return 0;
		rc = r;
	}
	return rc;
}

/* Searches one definition block (DSDT or SSDT) for \_S5. */
static int find_s5_in(struct parser *p, u64 pa, const char *sig)
{
	struct acpi_info *ai = p->ai;
	const struct acpi_sdt_header *h;
	struct acpi_table_ref *ref = NULL;
	int rc;

	/* the DSDT is not in the root table: list it too */
	if (strcmp(sig, "DSDT") == 0)
		ref = table_ref_new(ai);
	h = table_get(p, pa, sig, ref);
	if (!h)
		return -E_INVAL;
	rc = acpi_aml_find_s5((const u8 *)h + sizeof(*h), h->length - sizeof(*h),
			      &ai->s5_slp_typ_a, &ai->s5_slp_typ_b);
	if (rc == 0)
		ai->have_s5 = true;
	else if (rc != -E_NOENT)
		acpi_warn(ai, "%s at %#lx: malformed \\_S5 (%s)", sig, pa,
			  rc == -E_RANGE ? "SLP_TYP above 7" : "not a package of integers");
	return rc;
}

static void find_s5(struct parser *p)
{
	struct acpi_info *ai = p->ai;

	if (!ai->dsdt_pa) {
		acpi_warn(ai, "FADT gives no DSDT: no \\_S5");
		return;
	}
	if (find_s5_in(p, ai->dsdt_pa, "DSDT") == 0)
		return;
	for (u32 i = 0; i < p->ssdt_count; i++)
		if (find_s5_in(p, p->ssdt_pa[i], "SSDT") == 0)
			return;
	acpi_warn(ai, "no \\_S5 in the DSDT or SSDTs: no ACPI soft-off");
}

/* ------------------------------------------------------------ root table */

/* ACPI 6.4 5.2.7 (RSDT, 32-bit entries), 5.2.8 (XSDT, 64-bit entries) */
static int walk_root(struct parser *p, u64 pa, bool xsdt)
{
	struct acpi_info *ai = p->ai;
	const struct acpi_sdt_header *h;
	const u8 *entries;
	u32 esize = xsdt ? sizeof(u64) : sizeof(u32);
	u32 body, n;

	h = table_get(p, pa, xsdt ? "XSDT" : "RSDT", NULL);
	if (!h)
		return -E_INVAL;
	ai->used_xsdt = xsdt;
	entries = (const u8 *)h + sizeof(*h);
	body = h->length - sizeof(*h);
	n = body / esize;
	if (body % esize)
		acpi_warn(ai, "%s: %u stray bytes at the end", xsdt ? "XSDT" : "RSDT",
			  body % esize);
	for (u32 i = 0; i < n; i++) {
		u64 tpa = xsdt ? get_u64(entries + i * esize) : get_u32(entries + i * esize);
		struct acpi_table_ref *ref;
		const struct acpi_sdt_header *t;

		if (!tpa) {
			acpi_warn(ai, "%s entry %u is null, skipped", xsdt ? "XSDT" : "RSDT",
				  i);
			continue;
		}
		ref = table_ref_new(ai);
		t = table_get(p, tpa, NULL, ref);
		if (t)
			table_dispatch(p, t, tpa);
	}
	return 0;
}

/* Reads the RSDP (a copy or from memory); returns it and its usable size. */
static const u8 *rsdp_get(struct parser *p, u64 rsdp_pa, const void *copy,
			  u32 copy_len, u64 *avail)
{
	const u8 *r, *v2;
	u32 len;

	if (copy) {
		*avail = copy_len;
		return copy;
	}
	r = p->map(rsdp_pa, ACPI_RSDP_V1_LEN, p->ctx);
	*avail = ACPI_RSDP_V1_LEN;
	if (!r || ((const struct acpi_rsdp *)r)->revision < 2)
		return r;
	/* the length field lies beyond the first 20 bytes */
	v2 = p->map(rsdp_pa, ACPI_RSDP_V2_LEN, p->ctx);
	if (!v2)
		return r;
	*avail = ACPI_RSDP_V2_LEN;
	len = ((const struct acpi_rsdp *)v2)->length;
	if (len > ACPI_RSDP_V2_LEN && len <= ACPI_RSDP_MAX_LEN) {
		const u8 *full = p->map(rsdp_pa, len, p->ctx);

		if (full) {
			*avail = len;
			return full;
		}
	}
	return v2;
}

int acpi_parse(struct acpi_info *ai, u64 rsdp_pa, const void *rsdp_copy,
	       u32 rsdp_copy_len, acpi_map_fn map, void *ctx)
{
	struct parser p = { .ai = ai, .map = map, .ctx = ctx };
	const struct acpi_rsdp *r;
	const u8 *raw;
	u64 avail;
	bool v2;
	int rc = -E_NOENT;

	memset(ai, 0, sizeof(*ai));
	ai->rsdp_pa = rsdp_pa;
	if (!map)
		return -E_INVAL;
	raw = rsdp_get(&p, rsdp_pa, rsdp_copy, rsdp_copy_len, &avail);
	if (!raw || avail < ACPI_RSDP_V1_LEN || !rsdp_v1_ok(raw)) {
		acpi_warn(ai, "RSDP at %#lx: missing or bad checksum", rsdp_pa);
		return -E_INVAL;
	}
	r = (const struct acpi_rsdp *)raw;
	ai->revision = r->revision;
	for (int i = 0; i < 6; i++)
		ai->oem_id[i] = (r->oem_id[i] >= 0x20 && r->oem_id[i] < 0x7f) ?
					r->oem_id[i] : '?';
	ai->rsdt_pa = r->rsdt_address;
	v2 = r->revision >= 2 && rsdp_v2_ok(raw, avail);
	if (r->revision >= 2 && !v2)
		acpi_warn(ai, "RSDP revision %u: bad length or extended checksum, XSDT not used",
			  r->revision);
	if (v2)
		ai->xsdt_pa = r->xsdt_address;

	/* ACPI 6.4 5.2.5.3: an OS uses the XSDT when there is one */
	if (ai->xsdt_pa) {
		rc = walk_root(&p, ai->xsdt_pa, true);
		if (rc && ai->rsdt_pa)
			acpi_warn(ai, "falling back to the RSDT");
	}
	if (rc && ai->rsdt_pa)
		rc = walk_root(&p, ai->rsdt_pa, false);
	if (rc) {
		acpi_warn(ai, "no usable RSDT or XSDT");
		return rc;
	}

	if (!ai->have_madt)
		acpi_warn(ai, "no MADT: CPUs and interrupt controllers unknown");
	if (ai->have_fadt)
		find_s5(&p);
	else
		acpi_warn(ai, "no FADT: no PM timer, soft-off or reset register");
	return 0;
}

int acpi_init(struct acpi_info *ai, const struct boot_info *bi, acpi_map_fn map,
	      void *ctx)
{
	u64 rsdp_pa;
	int rc;

	if (bi->rsdp_len)
		return acpi_parse(ai, 0, bi->rsdp, MIN(bi->rsdp_len, (u32)BOOT_RSDP_MAX),
				  map, ctx);
	rc = acpi_find_rsdp(map, ctx, &rsdp_pa);
	if (rc) {
		memset(ai, 0, sizeof(*ai));
		acpi_warn(ai, "no RSDP from the loader nor in the BIOS areas");
		return rc;
	}
	return acpi_parse(ai, rsdp_pa, NULL, 0, map, ctx);
}

/* -------------------------------------------------------------- report */

static const char *gas_space_name(u8 space)
{
	switch (space) {
	case ACPI_GAS_SYSTEM_MEMORY:
		return "mem";
	case ACPI_GAS_SYSTEM_IO:
		return "io";
	case ACPI_GAS_PCI_CONFIG:
		return "pci";
	default:
		return "other";
	}
}

void acpi_report(const struct acpi_info *ai,
		 void (*emit)(const char *line, void *arg), void *arg)
{
	char line[160];
	u32 stored = MIN(ai->warning_count, (u32)ACPI_MAX_WARNINGS);
	size_t n;

	snprintf(line, sizeof(line), "acpi: RSDP rev %u OEM '%s', %s at %#lx",
		 ai->revision, ai->oem_id, ai->used_xsdt ? "XSDT" : "RSDT",
		 ai->used_xsdt ? ai->xsdt_pa : ai->rsdt_pa);
	emit(line, arg);
	for (u32 i = 0; i < ai->table_count; i++) {
		const struct acpi_table_ref *t = &ai->tables[i];

		snprintf(line, sizeof(line), "acpi: %s at %#lx, %u bytes, rev %u%s", t->sig,
			 t->pa, t->len, t->revision, t->valid ? "" : " (invalid, skipped)");
		emit(line, arg);
	}
	if (ai->have_madt) {
		n = (size_t)snprintf(line, sizeof(line), "acpi: %u CPUs, APIC IDs",
				     ai->cpu_count);
		for (u32 i = 0; i < ai->cpu_count && n < sizeof(line); i++) {
			if (n + 16 >= sizeof(line)) {
				snprintf(line + n, sizeof(line) - n, " ...");
				break;
			}
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %u",
					      ai->cpus[i].apic_id);
		}
		emit(line, arg);
		snprintf(line, sizeof(line), "acpi: local APIC at %#lx%s", ai->lapic_pa,
			 ai->pcat_compat ? ", 8259 PICs present" : "");
		emit(line, arg);
		for (u32 i = 0; i < ai->ioapic_count; i++) {
			snprintf(line, sizeof(line), "acpi: I/O APIC %u at %#x, GSI base %u",
				 ai->ioapics[i].id, ai->ioapics[i].pa, ai->ioapics[i].gsi_base);
			emit(line, arg);
		}
		for (u32 i = 0; i < ai->iso_count; i++) {
			snprintf(line, sizeof(line), "acpi: IRQ %u -> GSI %u, flags %#x",
				 ai->isos[i].source, ai->isos[i].gsi, ai->isos[i].flags);
			emit(line, arg);
		}
	}
	if (ai->have_fadt) {
		snprintf(line, sizeof(line),
			 "acpi: FADT rev %u: SCI %u, PM timer %#x (%u-bit), PM1a_CNT %s %#lx%s",
			 ai->fadt_revision, ai->sci_irq, ai->pm_tmr_port,
			 ai->pm_tmr_32bit ? 32u : 24u, gas_space_name(ai->pm1a_cnt.space_id),
			 ai->pm1a_cnt.address, ai->hw_reduced ? ", HW-reduced" : "");
		emit(line, arg);
		if (ai->reset_supported)
			snprintf(line, sizeof(line), "acpi: reset register %s %#lx value %#x",
				 gas_space_name(ai->reset_reg.space_id), ai->reset_reg.address,
				 ai->reset_value);
		else
			snprintf(line, sizeof(line), "acpi: no reset register");
		emit(line, arg);
		if (ai->have_s5)
			snprintf(line, sizeof(line), "acpi: \\_S5 SLP_TYPa %u SLP_TYPb %u",
				 ai->s5_slp_typ_a, ai->s5_slp_typ_b);
		else
			snprintf(line, sizeof(line), "acpi: no \\_S5");
		emit(line, arg);
	}
	for (u32 i = 0; i < ai->mcfg_count; i++) {
		snprintf(line, sizeof(line), "acpi: ECAM segment %u buses %u-%u at %#lx",
			 ai->mcfg[i].segment, ai->mcfg[i].bus_start, ai->mcfg[i].bus_end,
			 ai->mcfg[i].base);
		emit(line, arg);
	}
	for (u32 i = 0; i < stored; i++) {
		snprintf(line, sizeof(line), "acpi: warning: %s", ai->warning[i]);
		emit(line, arg);
	}
	if (ai->warning_count > stored) {
		snprintf(line, sizeof(line), "acpi: ... and %u more warnings",
			 ai->warning_count - stored);
		emit(line, arg);
	}
}
