/*
 * ACPI discovery: the RSDP, the root table (XSDT or RSDT), and what the
 * hypervisor needs from the FADT, MADT, MCFG and the DSDT's \_S5 object.
 *
 * Pure parsing: the parser never dereferences a physical address itself. It
 * asks a mapping callback for every range it reads, so the hypervisor passes
 * its direct map and the unit tests pass a fake physical memory. Every table
 * is validated (signature, length, checksum) and every count is bounded by
 * the fixed arrays below; what is skipped or truncated is reported in
 * acpi_info.warning[] rather than silently dropped.
 *
 * References: ACPI 6.4 (RSDP 5.2.5, header 5.2.6, RSDT/XSDT 5.2.7/5.2.8,
 * FADT 5.2.9, MADT 5.2.12, GAS 5.2.3.2, \_Sx 7.4.2, AML 20.2) and the PCI
 * Firmware Specification 3.2 4.1.2 (MCFG).
 *
 * The code: drivers/acpi.c the RSDP, the root table walk and this API;
 * acpi_sdt.c mapping and checking a table; acpi_madt.c, acpi_fadt.c (with
 * the \_S5 search) and acpi_mcfg.c one table each; aml.c the AML decoding
 * (drivers/aml.h, included here, with the AML encodings the partitions'
 * DSDT builder shares).
 */
#pragma once

#include "boot/boot_info.h"
#include "drivers/aml.h"
#include "hv/lib/types.h"

#define ACPI_MAX_CPUS 256
#define ACPI_MAX_IOAPICS 16
#define ACPI_MAX_ISOS 32
#define ACPI_MAX_LAPIC_NMIS 16
#define ACPI_MAX_MCFG 8
#define ACPI_MAX_TABLES 32
#define ACPI_MAX_WARNINGS 16
#define ACPI_WARNING_LEN 96

/* ACPI 6.4 5.2.3.2: Generic Address Structure address spaces */
#define ACPI_GAS_SYSTEM_MEMORY 0
#define ACPI_GAS_SYSTEM_IO 1
#define ACPI_GAS_PCI_CONFIG 2

/* ACPI 6.4 5.2.3.2: access size encoding (0 = legacy, by bit width) */
#define ACPI_GAS_ACCESS_LEGACY 0
#define ACPI_GAS_ACCESS_BYTE 1
#define ACPI_GAS_ACCESS_WORD 2
#define ACPI_GAS_ACCESS_DWORD 3
#define ACPI_GAS_ACCESS_QWORD 4

/* ACPI 6.4 5.2.9: FADT fixed feature flags (fadt_flags) */
#define ACPI_FADT_TMR_VAL_EXT BIT(8)
#define ACPI_FADT_RESET_REG_SUP BIT(10)
#define ACPI_FADT_HW_REDUCED_ACPI BIT(20)

/* ACPI 6.4 5.2.9.3: IA-PC boot architecture flags */
#define ACPI_BOOT_LEGACY_DEVICES BIT(0)
#define ACPI_BOOT_8042 BIT(1)
#define ACPI_BOOT_VGA_NOT_PRESENT BIT(2)
#define ACPI_BOOT_MSI_NOT_SUPPORTED BIT(3)
#define ACPI_BOOT_PCIE_ASPM_CONTROLS BIT(4)
#define ACPI_BOOT_CMOS_RTC_NOT_PRESENT BIT(5)

/* ACPI 6.4 5.2.12.5: MPS INTI flags of an interrupt override */
#define ACPI_MPS_POLARITY_MASK 0x3
#define ACPI_MPS_POLARITY_HIGH 0x1
#define ACPI_MPS_POLARITY_LOW 0x3
#define ACPI_MPS_TRIGGER_MASK 0xc
#define ACPI_MPS_TRIGGER_EDGE 0x4
#define ACPI_MPS_TRIGGER_LEVEL 0xc

/* acpi_info.truncated: a fixed array was full and entries were dropped */
#define ACPI_TRUNC_CPUS BIT(0)
#define ACPI_TRUNC_IOAPICS BIT(1)
#define ACPI_TRUNC_ISOS BIT(2)
#define ACPI_TRUNC_MCFG BIT(3)
#define ACPI_TRUNC_TABLES BIT(4)
#define ACPI_TRUNC_WARNINGS BIT(5)
#define ACPI_TRUNC_LAPIC_NMIS BIT(6)

/* The processor UID that stands for "all processors" in a Local APIC NMI
 * entry (0xff) and a Local x2APIC NMI entry (0xffffffff); acpi_lapic_nmi
 * always holds the latter. */
#define ACPI_UID_ALL_XAPIC 0xff
#define ACPI_UID_ALL 0xffffffff

/*
 * Table layouts, as firmware lays them out (little-endian, unaligned).
 * Compile-time checked against the offsets in the specifications below.
 */

/* ACPI 6.4 5.2.5.3 */
struct acpi_rsdp {
	char signature[8]; /* "RSD PTR " */
	u8 checksum;	   /* over the first 20 bytes */
	char oem_id[6];
	u8 revision;
	u32 rsdt_address;
	/* revision 2+ */
	u32 length;
	u64 xsdt_address;
	u8 extended_checksum; /* over length bytes */
	u8 reserved[3];
} __packed;

#define ACPI_RSDP_SIG "RSD PTR "
#define ACPI_RSDP_V1_LEN 20
#define ACPI_RSDP_V2_LEN 36

/* ACPI 6.4 5.2.6: every table but the RSDP and FACS */
struct acpi_sdt_header {
	char signature[4];
	u32 length; /* of the whole table, header included */
	u8 revision;
	u8 checksum; /* all length bytes sum to zero */
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __packed;

/* ACPI 6.4 5.2.3.2 */
struct acpi_gas_raw {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
} __packed;

/* ACPI 6.4 5.2.9. Older revisions are shorter: read a field only
 * when it lies within the table's length (ACPI_FADT_HAS). */
struct acpi_fadt {
	struct acpi_sdt_header hdr;
	u32 firmware_ctrl;
	u32 dsdt;
	u8 reserved0; /* INT_MODEL in ACPI 1.0 */
	u8 preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable;
	u8 acpi_disable;
	u8 s4bios_req;
	u8 pstate_cnt;
	u32 pm1a_evt_blk;
	u32 pm1b_evt_blk;
	u32 pm1a_cnt_blk;
	u32 pm1b_cnt_blk;
	u32 pm2_cnt_blk;
	u32 pm_tmr_blk;
	u32 gpe0_blk;
	u32 gpe1_blk;
	u8 pm1_evt_len;
	u8 pm1_cnt_len;
	u8 pm2_cnt_len;
	u8 pm_tmr_len;
	u8 gpe0_blk_len;
	u8 gpe1_blk_len;
	u8 gpe1_base;
	u8 cst_cnt;
	u16 p_lvl2_lat;
	u16 p_lvl3_lat;
	u16 flush_size;
	u16 flush_stride;
	u8 duty_offset;
	u8 duty_width;
	u8 day_alrm;
	u8 mon_alrm;
	u8 century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	/* ACPI 2.0 (and the 1.0b revision 2 FADT) from here */
	struct acpi_gas_raw reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 fadt_minor_version;
	u64 x_firmware_ctrl;
	u64 x_dsdt;
	struct acpi_gas_raw x_pm1a_evt_blk;
	struct acpi_gas_raw x_pm1b_evt_blk;
	struct acpi_gas_raw x_pm1a_cnt_blk;
	struct acpi_gas_raw x_pm1b_cnt_blk;
	struct acpi_gas_raw x_pm2_cnt_blk;
	struct acpi_gas_raw x_pm_tmr_blk;
	struct acpi_gas_raw x_gpe0_blk;
	struct acpi_gas_raw x_gpe1_blk;
	/* ACPI 5.0 from here */
	struct acpi_gas_raw sleep_control_reg;
	struct acpi_gas_raw sleep_status_reg;
	/* ACPI 6.0 */
	u64 hypervisor_vendor_id;
} __packed;

/* true when field lies within a FADT of table_len bytes */
#define ACPI_FADT_HAS(table_len, field)                                                      \
	(offsetof(struct acpi_fadt, field) + sizeof(((const struct acpi_fadt *)0)->field) <= \
	 (table_len))

/* ACPI 6.4 5.2.12 */
struct acpi_madt {
	struct acpi_sdt_header hdr;
	u32 lapic_address;
	u32 flags;
	/* then interrupt controller structures, each starting type, length */
} __packed;

#define ACPI_MADT_PCAT_COMPAT BIT(0)

/* ACPI 6.4 5.2.12: interrupt controller structure types */
enum acpi_madt_type {
	ACPI_MADT_LAPIC = 0,
	ACPI_MADT_IOAPIC = 1,
	ACPI_MADT_ISO = 2,
	ACPI_MADT_NMI_SOURCE = 3,
	ACPI_MADT_LAPIC_NMI = 4,
	ACPI_MADT_LAPIC_OVERRIDE = 5,
	ACPI_MADT_X2APIC = 9,
	ACPI_MADT_X2APIC_NMI = 10,
};

struct acpi_madt_entry {
	u8 type;
	u8 length;
} __packed;

/* ACPI 6.4 5.2.12.2 */
struct acpi_madt_lapic {
	struct acpi_madt_entry e;
	u8 uid;
	u8 apic_id;
	u32 flags;
} __packed;

/* ACPI 6.4 5.2.12.2: Local APIC flags (also x2APIC) */
#define ACPI_LAPIC_ENABLED BIT(0)
#define ACPI_LAPIC_ONLINE_CAPABLE BIT(1)

/* ACPI 6.4 5.2.12.3 */
struct acpi_madt_ioapic {
	struct acpi_madt_entry e;
	u8 id;
	u8 reserved;
	u32 address;
	u32 gsi_base;
} __packed;

/* ACPI 6.4 5.2.12.5 */
struct acpi_madt_iso {
	struct acpi_madt_entry e;
	u8 bus; /* 0: ISA */
	u8 source;
	u32 gsi;
	u16 flags;
} __packed;

/* ACPI 6.4 5.2.12.7 */
struct acpi_madt_lapic_nmi {
	struct acpi_madt_entry e;
	u8 uid;
	u16 flags;
	u8 lint;
} __packed;

/* ACPI 6.4 5.2.12.8 */
struct acpi_madt_lapic_override {
	struct acpi_madt_entry e;
	u16 reserved;
	u64 address;
} __packed;

/* ACPI 6.4 5.2.12.12 */
struct acpi_madt_x2apic {
	struct acpi_madt_entry e;
	u16 reserved;
	u32 x2apic_id;
	u32 flags;
	u32 uid;
} __packed;

/* ACPI 6.4 5.2.12.13 */
struct acpi_madt_x2apic_nmi {
	struct acpi_madt_entry e;
	u16 flags;
	u32 uid;
	u8 lint;
	u8 reserved[3];
} __packed;

/* PCI Firmware Specification 3.2 4.1.2 */
struct acpi_mcfg_table {
	struct acpi_sdt_header hdr;
	u8 reserved[8];
	/* then allocation structures */
} __packed;

struct acpi_mcfg_alloc {
	u64 base;
	u16 segment;
	u8 bus_start;
	u8 bus_end;
	u32 reserved;
} __packed;

_Static_assert(sizeof(struct acpi_rsdp) == ACPI_RSDP_V2_LEN, "RSDP layout");
_Static_assert(offsetof(struct acpi_rsdp, length) == ACPI_RSDP_V1_LEN, "RSDP layout");
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "header layout");
_Static_assert(sizeof(struct acpi_gas_raw) == 12, "GAS layout");
_Static_assert(offsetof(struct acpi_fadt, sci_int) == 46, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, pm_tmr_blk) == 76, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, century) == 108, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, x_pm1a_cnt_blk) == 172, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT layout");
_Static_assert(offsetof(struct acpi_fadt, sleep_control_reg) == 244, "FADT layout");
_Static_assert(sizeof(struct acpi_fadt) == 276, "FADT layout");
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout");
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT layout");
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT layout");
_Static_assert(sizeof(struct acpi_madt_iso) == 10, "MADT layout");
_Static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "MADT layout");
_Static_assert(sizeof(struct acpi_madt_lapic_override) == 12, "MADT layout");
_Static_assert(sizeof(struct acpi_madt_x2apic) == 16, "MADT layout");
_Static_assert(sizeof(struct acpi_madt_x2apic_nmi) == 12, "MADT layout");
_Static_assert(sizeof(struct acpi_mcfg_table) == 44, "MCFG layout");
_Static_assert(sizeof(struct acpi_mcfg_alloc) == 16, "MCFG layout");

/*
 * Returns a pointer through which [pa, pa + len) can be read, or NULL when
 * that range cannot be mapped. The pointer must stay valid until
 * acpi_parse() returns.
 */
typedef const void *(*acpi_map_fn)(u64 pa, u64 len, void *ctx);

/* ACPI 6.4 5.2.3.2 Generic Address Structure, unpacked. */
struct acpi_gas {
	u8 space_id; /* ACPI_GAS_* */
	u8 bit_width;
	u8 bit_offset;
	u8 access_size; /* ACPI_GAS_ACCESS_* */
	u64 address;	/* 0: not present */
};

struct acpi_cpu {
	u32 apic_id;
	u32 uid;	   /* ACPI processor UID */
	bool x2apic_entry; /* listed by a Processor Local x2APIC entry */
};

struct acpi_ioapic {
	u8 id;
	u32 pa;
	u32 gsi_base;
};

/* ISA IRQ source -> GSI, with MPS INTI flags (ACPI_MPS_*) */
struct acpi_iso {
	u8 bus;
	u8 source;
	u32 gsi;
	u16 flags;
};

/* The LINT pin a processor's NMI is wired to (MADT types 4 and 10) */
struct acpi_lapic_nmi {
	u32 uid; /* ACPI_UID_ALL for every processor */
	u8 lint;
	u16 flags;
};

/* PCI Firmware Spec 3.2 4.1.2: one ECAM window */
struct acpi_mcfg {
	u64 base;
	u16 segment;
	u8 bus_start;
	u8 bus_end;
};

/* A table listed by the root table, valid or not */
struct acpi_table_ref {
	char sig[5];
	u8 revision;
	bool valid; /* signature, length and checksum were good */
	u64 pa;
	u32 len;
};

struct acpi_info {
	/* RSDP (5.2.5.3) and root table */
	u64 rsdp_pa;	      /* 0 when only a copy was given */
	u8 revision;	      /* RSDP revision: 0 for ACPI 1.0, 2 for 2.0+ */
	u64 xsdt_pa, rsdt_pa; /* as given by the RSDP */
	bool used_xsdt;	      /* the root table actually walked */
	char oem_id[7];

	/* every table the root table listed, in order */
	u32 table_count;
	struct acpi_table_ref tables[ACPI_MAX_TABLES];

	/* MADT (5.2.12) */
	bool have_madt;
	u64 lapic_pa;
	bool pcat_compat; /* dual 8259s present: mask them */
	/* enabled CPUs in MADT order; a CPU listed by both an xAPIC and an
	 * x2APIC entry (same APIC ID) appears once */
	u32 cpu_count;
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	u32 cpu_disabled_count; /* present but not enabled (not in cpus[]) */
	u32 ioapic_count;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	u32 iso_count;
	struct acpi_iso isos[ACPI_MAX_ISOS];
	u32 lapic_nmi_count;
	struct acpi_lapic_nmi lapic_nmis[ACPI_MAX_LAPIC_NMIS];

	/* FADT (5.2.9) */
	bool have_fadt;
	u8 fadt_revision;
	u32 fadt_flags;	    /* ACPI_FADT_* */
	bool hw_reduced;    /* HW_REDUCED_ACPI: no fixed hardware below */
	u16 iapc_boot_arch; /* ACPI_BOOT_*; 0 in an ACPI 1.0-sized FADT */
	u64 dsdt_pa;	    /* X_DSDT, else DSDT */
	struct acpi_gas reset_reg;
	u8 reset_value;
	bool reset_supported;			     /* RESET_REG_SUP and a usable register */
	struct acpi_gas sleep_control, sleep_status; /* HW-reduced only */
	/* fixed hardware (ACPI 6.4 4.8): all 0 when hw_reduced */
	u16 sci_irq;
	u32 smi_cmd;	 /* port to write acpi_enable to; 0: no legacy mode */
	u8 acpi_enable;	 /* value that hands the PM registers to the OS */
	u32 pm_tmr_port; /* 0: no PM timer */
	bool pm_tmr_32bit;
	bool pm_tmr_alone;		    /* its ports hold no other fixed register */
	struct acpi_gas pm1a_cnt, pm1b_cnt; /* X_ blocks, else the 32-bit ones */
	u8 century;			    /* RTC CMOS index of the century, 0: none */

	/* \_S5 from the DSDT (or an SSDT): the SLP_TYP values for soft-off */
	bool have_s5;
	u8 s5_slp_typ_a, s5_slp_typ_b;

	/* MCFG */
	u32 mcfg_count;
	struct acpi_mcfg mcfg[ACPI_MAX_MCFG];

	/* noted for later (IOMMU, HPET): 0 when absent */
	u64 dmar_pa, ivrs_pa, hpet_pa;

	/* ACPI_TRUNC_*: a fixed array above overflowed */
	u32 truncated;
	/* what was skipped and why; warning_count counts all of them, the
	 * first ACPI_MAX_WARNINGS are kept */
	u32 warning_count;
	char warning[ACPI_MAX_WARNINGS][ACPI_WARNING_LEN];
};

/*
 * Scans [area, area + len), which is physical [area_pa, area_pa + len), for
 * an RSDP on 16-byte boundaries (ACPI 6.4 5.2.5.1) with a valid checksum
 * (and extended checksum for revision 2+). Returns 0 and its physical
 * address, or -E_NOENT.
 */
int acpi_find_rsdp_in(const u8 *area, u64 area_pa, u64 len, u64 *rsdp_pa);

/*
 * Looks for the RSDP where a PC BIOS puts it (ACPI 6.4 5.2.5.1): the first
 * KiB of the EBDA (segment at 40:0Eh), then 0xE0000-0xFFFFF.
 */
int acpi_find_rsdp(acpi_map_fn map, void *ctx, u64 *rsdp_pa);

/*
 * Parses the ACPI tables into ai (zeroed first). The RSDP is read from
 * rsdp_copy (rsdp_copy_len bytes, e.g. struct boot_info's copy) when it is
 * not NULL, else from physical rsdp_pa through map. Returns 0 when a root
 * table was found and walked (individual tables may still have been
 * skipped: see ai->warning), or a negative E_* code when there is no usable
 * RSDP or root table.
 */
int acpi_parse(struct acpi_info *ai, u64 rsdp_pa, const void *rsdp_copy, u32 rsdp_copy_len,
	       acpi_map_fn map, void *ctx);

/*
 * The boot path: use the loader's RSDP copy when there is one, else scan
 * the BIOS areas, then acpi_parse().
 */
int acpi_init(struct acpi_info *ai, const struct boot_info *bi, acpi_map_fn map, void *ctx);

/*
 * Formats a summary of ai (one line per call of emit, no newline) followed
 * by its warnings, for the console.
 */
void acpi_report(const struct acpi_info *ai, void (*emit)(const char *line, void *arg), void *arg);
