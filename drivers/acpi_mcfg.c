/*
 * The MCFG (see drivers/acpi_mcfg.h).
 */
#include "drivers/acpi_mcfg.h"
#include "hv/lib/lib.h"

void acpi_mcfg_parse(struct acpi_parser *p, const struct acpi_sdt_header *h)
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
			acpi_warn(ai, "MCFG: entry %u (base %#lx, buses %u-%u) invalid, skipped", i,
				  (u64)a->base, a->bus_start, a->bus_end);
			continue;
		}
		if (ai->mcfg_count >= ACPI_MAX_MCFG) {
			acpi_warn(ai, "MCFG: more than %u entries, rest ignored", ACPI_MAX_MCFG);
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
