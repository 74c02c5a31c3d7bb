/*
 * The MCFG (PCI Firmware Specification 3.2 4.1.2): the PCI Express ECAM
 * windows.
 */
#pragma once

#include "drivers/acpi_sdt.h"

/* Adds the valid ECAM windows of the checked table h (the first MCFG) to p->ai. */
void acpi_mcfg_parse(struct acpi_parser *p, const struct acpi_sdt_header *h);
