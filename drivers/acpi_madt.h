/*
 * The MADT (ACPI 6.4 5.2.12): CPUs, I/O APICs, interrupt source overrides,
 * local APIC NMI wiring and address.
 */
#pragma once

#include "drivers/acpi_sdt.h"

/* Fills the MADT fields of p->ai from the checked table h (the first MADT). */
void acpi_madt_parse(struct acpi_parser *p, const struct acpi_sdt_header *h);
