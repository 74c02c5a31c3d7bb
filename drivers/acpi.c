/*
 * ACPI table discovery (see drivers/acpi.h). Pure: every physical range is
 * read through the caller's mapping callback, and every length, offset and
 * count that firmware supplies is checked before it is used.
 */
#include "drivers/acpi.h"
#include "drivers/acpi_fadt.h"
#include "drivers/acpi_madt.h"
#include "drivers/acpi_mcfg.h"
#include "drivers/acpi_sdt.h"
#include "hv/lib/lib.h"

/* An RSDP longer than this is garbage (revision 2 defines 36 bytes). */
#define ACPI_RSDP_MAX_LEN 4096

/* ACPI 6.4 5.2.5.1: where a PC BIOS may put the RSDP */
#define ACPI_RSDP_ALIGN 16
#define BDA_EBDA_SEGMENT_PA 0x40e
#define EBDA_SCAN_LEN 1024
#define EBDA_MIN_PA 0x500     /* above the IVT and the BIOS data area */
#define EBDA_LIMIT_PA 0xa0000 /* conventional memory ends here */
#define BIOS_AREA_PA 0xe0000
#define BIOS_AREA_LEN 0x20000

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
	for (u64 off = first; off < len && len - off >= ACPI_RSDP_V1_LEN; off += ACPI_RSDP_ALIGN) {
		const u8 *p = area + off;

		if (!rsdp_v1_ok(p))
			continue;
		if (((const struct acpi_rsdp *)p)->revision < 2 || rsdp_v2_ok(p, len - off)) {
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
	return acpi_find_rsdp_in(map(BIOS_AREA_PA, BIOS_AREA_LEN, ctx), BIOS_AREA_PA, BIOS_AREA_LEN,
				 rsdp_pa);
}

/* ------------------------------------------------- tables only noted */

static void note_pa(struct acpi_parser *p, u64 *slot, const char *sig, u64 pa)
{
	if (*slot)
		acpi_warn(p->ai, "second %s at %#lx ignored", sig, pa);
	else
		*slot = pa;
}

static void table_dispatch(struct acpi_parser *p, const struct acpi_sdt_header *h, u64 pa)
{
	struct acpi_info *ai = p->ai;

	if (acpi_sig_is(h, "FACP")) {
		acpi_fadt_parse(p, h);
	} else if (acpi_sig_is(h, "APIC")) {
		acpi_madt_parse(p, h);
	} else if (acpi_sig_is(h, "MCFG")) {
		acpi_mcfg_parse(p, h);
	} else if (acpi_sig_is(h, "SSDT")) {
		if (p->ssdt_count < ACPI_MAX_SSDTS)
			p->ssdt_pa[p->ssdt_count++] = pa;
	} else if (acpi_sig_is(h, "HPET")) {
		note_pa(p, &ai->hpet_pa, "HPET", pa);
	} else if (acpi_sig_is(h, "DMAR")) {
		note_pa(p, &ai->dmar_pa, "DMAR", pa);
	} else if (acpi_sig_is(h, "IVRS")) {
		note_pa(p, &ai->ivrs_pa, "IVRS", pa);
	}
}

/* ------------------------------------------------------------ root table */

/* ACPI 6.4 5.2.7 (RSDT, 32-bit entries), 5.2.8 (XSDT, 64-bit entries) */
static int walk_root(struct acpi_parser *p, u64 pa, bool xsdt)
{
	struct acpi_info *ai = p->ai;
	const struct acpi_sdt_header *h;
	const u8 *entries;
	u32 esize = xsdt ? sizeof(u64) : sizeof(u32);
	u32 body, n;

	h = acpi_table_get(p, pa, xsdt ? "XSDT" : "RSDT", NULL);
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
			acpi_warn(ai, "%s entry %u is null, skipped", xsdt ? "XSDT" : "RSDT", i);
			continue;
		}
		ref = acpi_table_ref_new(ai);
		t = acpi_table_get(p, tpa, NULL, ref);
		if (t)
			table_dispatch(p, t, tpa);
	}
	return 0;
}

/* Reads the RSDP (a copy or from memory); returns it and its usable size. */
static const u8 *rsdp_get(struct acpi_parser *p, u64 rsdp_pa, const void *copy, u32 copy_len,
			  u64 *avail)
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

int acpi_parse(struct acpi_info *ai, u64 rsdp_pa, const void *rsdp_copy, u32 rsdp_copy_len,
	       acpi_map_fn map, void *ctx)
{
	struct acpi_parser p = { .ai = ai, .map = map, .ctx = ctx };
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
		ai->oem_id[i] = (r->oem_id[i] >= 0x20 && r->oem_id[i] < 0x7f) ? r->oem_id[i] : '?';
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
		acpi_find_s5(&p);
	else
		acpi_warn(ai, "no FADT: no PM timer, soft-off or reset register");
	return 0;
}

int acpi_init(struct acpi_info *ai, const struct boot_info *bi, acpi_map_fn map, void *ctx)
{
	u64 rsdp_pa;
	int rc;

	if (bi->rsdp_len)
		return acpi_parse(ai, 0, bi->rsdp, MIN(bi->rsdp_len, (u32)BOOT_RSDP_MAX), map, ctx);
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

void acpi_report(const struct acpi_info *ai, void (*emit)(const char *line, void *arg), void *arg)
{
	char line[160];
	u32 stored = MIN(ai->warning_count, (u32)ACPI_MAX_WARNINGS);
	size_t n;

	snprintf(line, sizeof(line), "acpi: RSDP rev %u OEM '%s', %s at %#lx", ai->revision,
		 ai->oem_id, ai->used_xsdt ? "XSDT" : "RSDT",
		 ai->used_xsdt ? ai->xsdt_pa : ai->rsdt_pa);
	emit(line, arg);
	for (u32 i = 0; i < ai->table_count; i++) {
		const struct acpi_table_ref *t = &ai->tables[i];

		snprintf(line, sizeof(line), "acpi: %s at %#lx, %u bytes, rev %u%s", t->sig, t->pa,
			 t->len, t->revision, t->valid ? "" : " (invalid, skipped)");
		emit(line, arg);
	}
	if (ai->have_madt) {
		n = (size_t)snprintf(line, sizeof(line), "acpi: %u CPUs, APIC IDs", ai->cpu_count);
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
