/*
 * The FADT (ACPI 6.4 5.2.9): fixed hardware (SCI, PM timer, PM1 control
 * blocks), the reset register, the DSDT; then the \_S5 object (7.4.2) that
 * soft-off needs, searched in the DSDT and the SSDTs.
 */
#pragma once

#include "drivers/acpi_sdt.h"

/* Fills the FADT fields of p->ai from the checked table h (the first FADT). */
void acpi_fadt_parse(struct acpi_parser *p, const struct acpi_sdt_header *h);

/* Looks for \_S5 in the FADT's DSDT, then in the SSDTs the root table listed. */
void acpi_find_s5(struct acpi_parser *p);
