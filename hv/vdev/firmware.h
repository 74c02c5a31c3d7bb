/*
 * The firmware tables a partition's guest finds (SPEC 6): the ACPI tables
 * (hv/vdev/acpi_tables.h) at PLAT_ACPI_BASE in its RAM, describing its
 * vCPUs and what each of its devices says of itself (vdev_type.firmware).
 */
#pragma once

#include "hv/lib/types.h"

struct vdev_registry;

/* Writes them into the partition's RAM; 0 and the RSDP's guest-physical
 * address, or a negative error (acpi_build's, or -E_RANGE: no RAM there). */
int firmware_build(struct vdev_registry *reg, u64 *rsdp_gpa);
