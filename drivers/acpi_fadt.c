/*
 * The FADT and the \_S5 search (see drivers/acpi_fadt.h). Older FADTs are
 * shorter: a field is read only when it lies within the table's length.
 */
#include "drivers/acpi_fadt.h"
#include "hv/hw/acpi.h"
#include "hv/lib/lib.h"

/* ACPI 6.4 5.2.9: an X_ GAS, when its address is non-zero, replaces the
 * 32-bit I/O port block of legacy_len bytes. */
static void fadt_pick_gas(struct acpi_parser *p, const char *name, struct acpi_gas *out,
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
		if (legacy_port && (x->space_id != ACPI_GAS_SYSTEM_IO || x->address != legacy_port))
			acpi_warn(p->ai, "FADT: %s %#x and X_%s %#lx differ, using X_%s", name,
				  legacy_port, name, out->address, name);
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

/* The FADT's other fixed register blocks (ACPI 6.4 5.2.9): the 32-bit
 * port and length fields of each, and its X_ address. */
#define FADT_OFF(field) ((u16)offsetof(struct acpi_fadt, field))
static const struct {
	u16 port, len, x;
} fadt_blocks[] = {
	{ FADT_OFF(pm1a_evt_blk), FADT_OFF(pm1_evt_len), FADT_OFF(x_pm1a_evt_blk) },
	{ FADT_OFF(pm1b_evt_blk), FADT_OFF(pm1_evt_len), FADT_OFF(x_pm1b_evt_blk) },
	{ FADT_OFF(pm1a_cnt_blk), FADT_OFF(pm1_cnt_len), FADT_OFF(x_pm1a_cnt_blk) },
	{ FADT_OFF(pm1b_cnt_blk), FADT_OFF(pm1_cnt_len), FADT_OFF(x_pm1b_cnt_blk) },
	{ FADT_OFF(pm2_cnt_blk), FADT_OFF(pm2_cnt_len), FADT_OFF(x_pm2_cnt_blk) },
	{ FADT_OFF(gpe0_blk), FADT_OFF(gpe0_blk_len), FADT_OFF(x_gpe0_blk) },
	{ FADT_OFF(gpe1_blk), FADT_OFF(gpe1_blk_len), FADT_OFF(x_gpe1_blk) },
};

static bool ports_overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	return alen && blen && a < b + blen && b < a + alen;
}

/* Whether an I/O GAS overlaps [port, port + n). */
static bool gas_overlaps(const struct acpi_gas_raw *g, u64 port, u64 n)
{
	return g->space_id == ACPI_GAS_SYSTEM_IO &&
	       ports_overlap(g->address, g->bit_width / 8, port, n);
}

/*
 * ACPI 6.4 4.8.3.3: the PM timer is read-only, and PM_TMR_BLK is its four
 * bytes and nothing else (PM_TMR_LEN = 4, 5.2.9): writing them changes
 * nothing, so a partition may own the machine's timer ports, writes
 * included (hv/vdev/vpmtimer.c). That holds unless the firmware laid
 * another fixed block over them: then, or with a shorter block, the timer
 * is not alone.
 */
static bool fadt_pm_timer_alone(const struct acpi_fadt *f, u32 len, u64 port, bool x)
{
	const u8 *raw = (const u8 *)f;

	if (x ? f->x_pm_tmr_blk.bit_width < 32 : f->pm_tmr_len < ACPI_PM_TIMER_LEN)
		return false;
	if (ports_overlap(f->smi_cmd, 1, port, ACPI_PM_TIMER_LEN))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(fadt_blocks); i++) {
		u32 blk;
		struct acpi_gas_raw g;

		if (fadt_blocks[i].len >= len)
			continue;
		memcpy(&blk, raw + fadt_blocks[i].port, sizeof(blk));
		if (ports_overlap(blk, raw[fadt_blocks[i].len], port, ACPI_PM_TIMER_LEN))
			return false;
		if (fadt_blocks[i].x + sizeof(g) > len)
			continue;
		memcpy(&g, raw + fadt_blocks[i].x, sizeof(g));
		if (gas_overlaps(&g, port, ACPI_PM_TIMER_LEN))
			return false;
	}
	return !(ACPI_FADT_HAS(len, reset_value) &&
		 gas_overlaps(&f->reset_reg, port, ACPI_PM_TIMER_LEN));
}

static void fadt_pm_timer(struct acpi_parser *p, const struct acpi_fadt *f, u32 len)
{
	struct acpi_info *ai = p->ai;
	bool x = false; /* from X_PM_TMR_BLK */
	u64 port = 0;

	/* ACPI 6.4 4.8.3.3 and 5.2.9: X_PM_TMR_BLK first, when in I/O space */
	if (ACPI_FADT_HAS(len, x_pm_tmr_blk) && f->x_pm_tmr_blk.address) {
		x = f->x_pm_tmr_blk.space_id == ACPI_GAS_SYSTEM_IO;
		if (x)
			port = f->x_pm_tmr_blk.address;
		else
			acpi_warn(ai, "FADT: X_PM_TMR_BLK in address space %u, not used",
				  f->x_pm_tmr_blk.space_id);
	}
	if (!port && ACPI_FADT_HAS(len, pm_tmr_len) && f->pm_tmr_blk) {
		port = f->pm_tmr_blk;
		if (f->pm_tmr_len != ACPI_PM_TIMER_LEN)
			acpi_warn(ai, "FADT: PM_TMR_LEN is %u, not 4", f->pm_tmr_len);
	}
	if (port > 0xffff) {
		acpi_warn(ai, "FADT: PM timer port %#lx out of range, not used", port);
		port = 0;
	}
	ai->pm_tmr_port = (u32)port;
	ai->pm_tmr_32bit = ai->fadt_flags & ACPI_FADT_TMR_VAL_EXT;
	ai->pm_tmr_alone = port && fadt_pm_timer_alone(f, len, port, x);
	if (port && !ai->pm_tmr_alone)
		acpi_warn(ai, "FADT: PM timer ports %#lx-%#lx hold other registers", port,
			  port + ACPI_PM_TIMER_LEN - 1);
}

static void fadt_reset(struct acpi_parser *p, const struct acpi_fadt *f, u32 len)
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
		acpi_warn(ai, "FADT: unusable reset register (space %u, address %#lx)", r->space_id,
			  (u64)r->address);
		return;
	}
	ai->reset_supported = true;
}

/* The fixed hardware of a non-HW-reduced platform (ACPI 6.4 4.8). */
static void fadt_fixed_hw(struct acpi_parser *p, const struct acpi_fadt *f, u32 len)
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

void acpi_fadt_parse(struct acpi_parser *p, const struct acpi_sdt_header *h)
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

/* \_S5 */

/* Searches one definition block (DSDT or SSDT) for \_S5. */
static int find_s5_in(struct acpi_parser *p, u64 pa, const char *sig)
{
	struct acpi_info *ai = p->ai;
	const struct acpi_sdt_header *h;
	struct acpi_table_ref *ref = NULL;
	int rc;

	/* the DSDT is not in the root table: list it too */
	if (strcmp(sig, "DSDT") == 0)
		ref = acpi_table_ref_new(ai);
	h = acpi_table_get(p, pa, sig, ref);
	if (!h)
		return -E_INVAL;
	rc = acpi_aml_find_s5((const u8 *)h + sizeof(*h), h->length - sizeof(*h), &ai->s5_slp_typ_a,
			      &ai->s5_slp_typ_b);
	if (rc == 0)
		ai->have_s5 = true;
	else if (rc != -E_NOENT)
		acpi_warn(ai, "%s at %#lx: malformed \\_S5 (%s)", sig, pa,
			  rc == -E_RANGE ? "SLP_TYP above 7" : "not a package of integers");
	return rc;
}

void acpi_find_s5(struct acpi_parser *p)
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
