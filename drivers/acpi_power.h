/*
 * Turning the machine off and resetting it, with what drivers/acpi.c found:
 * ACPI S5 soft-off through the PM1 control (or HW-reduced sleep control)
 * registers, and reset through the FADT reset register, port 0xCF9 or the
 * keyboard controller. Hardware access: not host-tested. ioremap maps a
 * register in system memory space; it may be NULL when the caller cannot
 * map, and such registers are then reported as unsupported.
 */
#pragma once

#include "drivers/acpi.h"
#include "drivers/hv_env.h"

/*
 * Enters S5 (soft-off): writes \_S5's SLP_TYPa with SLP_EN to PM1a_CNT (and
 * SLP_TYPb to PM1b_CNT when present), or to the sleep control register on a
 * HW-reduced platform. Returns -E_NODEV without a FADT, -E_NOENT without
 * \_S5, -E_NOSUPP when the register cannot be reached, and -E_IO when the
 * machine is still running afterwards: the caller then halts.
 */
int acpi_poweroff(const struct acpi_info *ai, hv_ioremap_fn ioremap);

/*
 * Resets the machine: the FADT reset register when RESET_REG_SUP, then the
 * reset control register at port 0xCF9, then the keyboard controller.
 * ai may be NULL (no ACPI tables): the last two are tried. Returns (-E_IO)
 * only when all of them failed.
 */
int acpi_reset(const struct acpi_info *ai, hv_ioremap_fn ioremap);
