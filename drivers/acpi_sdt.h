/*
 * What the ACPI table parsers (drivers/acpi*.c) share: the state of one
 * acpi_parse() run, warnings into acpi_info.warning[], and mapping and
 * checking a table (ACPI 6.4 5.2.6: signature, length, checksum) before
 * any of it is read.
 */
#pragma once

#include "drivers/acpi.h"

/* SSDTs remembered for the \_S5 search when the DSDT has none */
#define ACPI_MAX_SSDTS 16

struct acpi_parser {
	struct acpi_info *ai;
	acpi_map_fn map;
	void *ctx;
	bool have_mcfg;
	u32 ssdt_count;
	u64 ssdt_pa[ACPI_MAX_SSDTS];
};

/* Adds a warning to ai (the first ACPI_MAX_WARNINGS are kept, all counted). */
void acpi_warn(struct acpi_info *ai, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ACPI 6.4 5.2.6: a table's bytes, checksum included, sum to zero. */
u8 acpi_sum(const void *p, u64 len);

bool acpi_sig_is(const struct acpi_sdt_header *h, const char *sig);

/*
 * Maps and validates the table at pa: signature (expect, or any printable
 * one when expect is NULL), length, checksum. Records what it saw in ref
 * when ref is not NULL. Returns the whole table, or NULL (with a warning).
 */
const struct acpi_sdt_header *acpi_table_get(struct acpi_parser *p, u64 pa, const char *expect,
					     struct acpi_table_ref *ref);

/* The next free slot of ai->tables[], or NULL (ACPI_TRUNC_TABLES) when full. */
struct acpi_table_ref *acpi_table_ref_new(struct acpi_info *ai);
