/*
 * The MADT (see drivers/acpi_madt.h). Every entry's length is checked
 * against its type's layout and what is left of the table before it is read.
 */
#include "drivers/acpi_madt.h"
#include "hv/lib/lib.h"

static void madt_add_cpu(struct acpi_parser *p, u32 apic_id, u32 uid, u32 flags, bool x2apic)
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
			acpi_warn(ai, "MADT: APIC ID %u listed twice, second ignored", apic_id);
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

static void madt_lapic(struct acpi_parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_lapic *e = entry;

	/* 0xFF is the xAPIC broadcast ID, never a CPU's */
	if (e->apic_id == 0xff && (e->flags & ACPI_LAPIC_ENABLED)) {
		acpi_warn(p->ai, "MADT: entry at %#x: APIC ID 0xff, skipped", off);
		return;
	}
	madt_add_cpu(p, e->apic_id, e->uid, e->flags, false);
}

static void madt_x2apic(struct acpi_parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_x2apic *e = entry;

	if (e->x2apic_id == 0xffffffff && (e->flags & ACPI_LAPIC_ENABLED)) {
		acpi_warn(p->ai, "MADT: entry at %#x: x2APIC ID 0xffffffff, skipped", off);
		return;
	}
	madt_add_cpu(p, e->x2apic_id, e->uid, e->flags, true);
}

static void madt_ioapic(struct acpi_parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_ioapic *e = entry;
	struct acpi_info *ai = p->ai;

	if (!e->address) {
		acpi_warn(ai, "MADT: entry at %#x: I/O APIC %u at address 0, skipped", off, e->id);
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

static void madt_iso(struct acpi_parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_iso *e = entry;
	struct acpi_info *ai = p->ai;

	/* ACPI 6.4 5.2.12.5: the bus is always 0, ISA */
	if (e->bus != 0) {
		acpi_warn(ai, "MADT: entry at %#x: override on bus %u, skipped", off, e->bus);
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

static void madt_add_nmi(struct acpi_parser *p, u32 uid, u8 lint, u16 flags)
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

static void madt_lapic_nmi(struct acpi_parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_lapic_nmi *e = entry;

	(void)off;
	madt_add_nmi(p, e->uid == ACPI_UID_ALL_XAPIC ? ACPI_UID_ALL : e->uid, e->lint, e->flags);
}

static void madt_x2apic_nmi(struct acpi_parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_x2apic_nmi *e = entry;

	(void)off;
	madt_add_nmi(p, e->uid, e->lint, e->flags);
}

static void madt_lapic_override(struct acpi_parser *p, const void *entry, u32 off)
{
	const struct acpi_madt_lapic_override *e = entry;

	(void)off;
	/* ACPI 6.4 5.2.12.8: replaces the 32-bit address in the MADT header */
	p->ai->lapic_pa = e->address;
}

static const struct madt_handler {
	u8 type;
	u8 min_len;
	void (*fn)(struct acpi_parser *p, const void *entry, u32 off);
} madt_handlers[] = {
	{ ACPI_MADT_LAPIC, sizeof(struct acpi_madt_lapic), madt_lapic },
	{ ACPI_MADT_IOAPIC, sizeof(struct acpi_madt_ioapic), madt_ioapic },
	{ ACPI_MADT_ISO, sizeof(struct acpi_madt_iso), madt_iso },
	{ ACPI_MADT_LAPIC_NMI, sizeof(struct acpi_madt_lapic_nmi), madt_lapic_nmi },
	{ ACPI_MADT_LAPIC_OVERRIDE, sizeof(struct acpi_madt_lapic_override), madt_lapic_override },
	{ ACPI_MADT_X2APIC, sizeof(struct acpi_madt_x2apic), madt_x2apic },
	{ ACPI_MADT_X2APIC_NMI, sizeof(struct acpi_madt_x2apic_nmi), madt_x2apic_nmi },
};

void acpi_madt_parse(struct acpi_parser *p, const struct acpi_sdt_header *h)
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
