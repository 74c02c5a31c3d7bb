/*
 * The ACPI tables a partition's guest finds (SPEC 6): RSDP, XSDT and RSDT,
 * FADT with its FACS, a DSDT with \_S5 and the platform's devices, MADT and
 * MCFG, all describing the virtual PC of hv/vdev/platform.h. Pure: the
 * builder writes into a buffer (the guest's memory at base_gpa) and is
 * unit-tested on the host.
 */
#pragma once

#include "hv/lib/types.h"

#define ACPI_BUILD_OEM_ID_LEN 6 /* ACPI 6.4 5.2.6: OEM ID, padded with spaces */
/* CMOS index of the RTC's century byte, named by FADT.CENTURY (5.2.9) */
#define ACPI_BUILD_RTC_CENTURY_REG 0x32
/* A sanity bound on cpu_count, far above any partition */
#define ACPI_BUILD_MAX_CPUS 4096
/* ACPI 6.4 20.2.4: an AML PkgLength takes 1 to 4 bytes */
#define ACPI_BUILD_PKGLEN_MAX 4

struct acpi_build_cfg {
	u32 cpu_count; /* APIC IDs and processor UIDs 0..cpu_count-1, all enabled */
	u64 base_gpa;  /* PLAT_ACPI_BASE: the RSDP here (16-byte aligned), */
	u32 size;      /* the tables after it; the area lies below 4 GiB */
	char oem_id[ACPI_BUILD_OEM_ID_LEN + 1]; /* NUL-terminated, e.g. "TESSRA" */
	bool rtc_century;  /* the RTC keeps the century at ACPI_BUILD_RTC_CENTURY_REG */
	bool power_button; /* PM1 has the fixed-feature power button (PWRBTN_STS/EN) */
	u16 pm_tmr_port;   /* the PM timer's ports; 0: PLAT_PM_TMR_PORT */
	bool pm_tmr_32bit; /* it counts 32 bits (TMR_VAL_EXT), not 24 */
};

/*
 * The I/O APIC's ID in the MADT: cpu_count, above every local APIC ID, while
 * that fits an xAPIC ID; 0 beyond (I/O APIC IDs are a namespace of their own
 * on x2APIC platforms). The virtual I/O APIC reports the same in its ID
 * register (8 bits wide: the ID may exceed 15).
 */
u8 acpi_build_ioapic_id(u32 cpu_count);

/*
 * Encodes into out the shortest AML PkgLength (ACPI 6.4 20.2.4) for a
 * package whose body, after the PkgLength, is body_len bytes long. Returns
 * its size in bytes (1-4), or 0 when no PkgLength can express it (2^28
 * bytes or more). Used by the DSDT builder; exported for its unit test.
 */
u32 acpi_build_pkglen(u32 body_len, u8 out[ACPI_BUILD_PKGLEN_MAX]);

/*
 * Writes the tables into buf (cfg->size bytes: the guest memory at
 * cfg->base_gpa), zeroing what it does not use. Returns the number of bytes
 * used and sets *rsdp_gpa = cfg->base_gpa; or returns -E_INVAL for a bad
 * cfg, -E_RANGE when the area does not lie below 4 GiB, -E_NOMEM when the
 * tables do not fit, and then leaves buf zeroed (no RSDP). Never writes
 * outside [buf, buf + cfg->size).
 */
int acpi_build(const struct acpi_build_cfg *cfg, u8 *buf, u64 *rsdp_gpa);
