/*
 * Guest ACPI tables (see acpi_tables.h), after ACPI 6.4 and, for the MCFG,
 * the PCI Firmware Specification 3.2. The layout in the guest area:
 *
 *   RSDP (5.2.5.3) at base_gpa, FACS (5.2.10, 64-byte aligned), DSDT
 *   (5.2.11.1), FADT (5.2.9), MADT (5.2.12), MCFG, XSDT (5.2.8), RSDT (5.2.7)
 *
 * Every table points only backwards, so each is finished (length, checksum)
 * before the next begins; the RSDP is filled in last, so an area whose
 * tables did not fit holds no RSDP at all.
 *
 * The DSDT is a few hundred bytes of AML (ACPI 6.4 chapter 20) assembled by
 * the small aml_* helpers below:
 *
 *   Name (\_S5, Package () { SLP_TYP_S5, SLP_TYP_S5, 0, 0 })
 *   Scope (\_SB) {
 *     Device (PCI0)  the host bridge: PNP0A08/PNP0A03, _SEG/_BBN/_UID 0,
 *                    _CRS: bus range, CF8-CFF, I/O and MMIO windows;
 *                    _PRT: INTx of every slot to I/O APIC inputs 16-23
 *     Device (MRES)  PNP0C02 motherboard resources: the ECAM range, which
 *                    the PCI Firmware Specification 4.1.2 requires firmware
 *                    to reserve so (Linux checks it before using the MCFG)
 *     Device (COM1)  PNP0501 at 0x3F8, IRQ 4: Linux binds ttyS0 to it
 *     Device (RTC)   PNP0B00 at 0x70, IRQ 8
 *   }
 */
#include "hv/vdev/acpi_tables.h"
#include "drivers/acpi.h"
#include "hv/hw/pci.h"
#include "hv/lib/lib.h"
#include "hv/vdev/platform.h"

/* ------------------------------------------------------------ constants */

#define RSDP_ALIGN 16	     /* ACPI 6.4 5.2.5.1 */
#define RSDP_REVISION 2	     /* 5.2.5.3: ACPI 2.0 and later, with an XSDT */
#define FACS_ALIGN 64	     /* 5.2.10: the FACS is 64-byte aligned */
#define FACS_VERSION 2	     /* 5.2.10 */
#define TABLE_ALIGN 16	     /* our choice: tables need no alignment */
#define XSDT_REVISION 1	     /* 5.2.8 */
#define RSDT_REVISION 1	     /* 5.2.7 */
#define FADT_REVISION 6	     /* 5.2.9: major version 6 ... */
#define FADT_MINOR_VERSION 4 /* ... minor version 4: ACPI 6.4 */
#define MADT_REVISION 5	     /* 5.2.12 */
#define DSDT_REVISION 2	     /* 5.2.11.1: 2 and up, AML integers are 64-bit */
#define MCFG_REVISION 1	     /* PCI Firmware Specification 3.2, 4.1.2 */

#define OEM_TABLE_ID "TESSERA "
#define OEM_REVISION 1
#define CREATOR_ID "TSRA"
#define CREATOR_REVISION 1
/* 5.2.9 HYPERVISOR_VENDOR_IDENTITY: the first eight bytes of our CPUID
 * hypervisor signature (SPEC 6) */
#define HYPERVISOR_VENDOR_ID "TesseraH"

/* ACPI 6.4 5.2.9: FADT fixed feature flags */
#define FADT_FLAG_WBINVD BIT(0)
#define FADT_FLAG_PROC_C1 BIT(2)
#define FADT_FLAG_PWR_BUTTON BIT(4) /* 1: no fixed-feature power button */
#define FADT_FLAG_SLP_BUTTON BIT(5) /* 1: no fixed-feature sleep button */
#define FADT_FLAG_FIX_RTC BIT(6)    /* 1: no RTC wake status in PM1 */

/* 5.2.9 */
#define FADT_PM_PROFILE_UNSPECIFIED 0
#define FADT_P_LVL2_LAT_NONE 101  /* above 100: no C2 */
#define FADT_P_LVL3_LAT_NONE 1001 /* above 1000: no C3 */
#define FADT_PM1_EVT_LEN 4	  /* PM1 status and enable, 16 bits each */
#define FADT_PM1_CNT_LEN 2
#define FADT_PM_TMR_LEN 4
/* 4.8.3.6: the reset register is 8 bits wide at bit offset 0 */
#define RESET_REG_BITS 8

/* 5.2.12.2 and 5.2.12.12: APIC ID 255 and up need Local x2APIC entries */
#define XAPIC_ID_LIMIT 0xff
#define LAPIC_NMI_LINT 1 /* NMI arrives on LINT1, as on a PC */
#define ISA_BUS 0	 /* 5.2.12.5 */
#define ISA_IRQ_TIMER 0
#define MADT_FLAGS_EDGE_HIGH (ACPI_MPS_POLARITY_HIGH | ACPI_MPS_TRIGGER_EDGE)
#define MADT_FLAGS_LEVEL_HIGH (ACPI_MPS_POLARITY_HIGH | ACPI_MPS_TRIGGER_LEVEL)

/* ACPI 6.4 20.2: AML encodings, beyond those drivers/acpi.h shares with
 * the \_S5 search */
#define AML_STRING_PREFIX 0x0d
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_EXT_OP_PREFIX 0x5b
#define AML_DEVICE_OP 0x82 /* after AML_EXT_OP_PREFIX */
#define AML_NAME_SEG_LEN 4
/* 20.2.4 PkgLength (see acpi_build_pkglen) */
#define AML_PKGLEN_LEAD_BITS 4
#define AML_PKGLEN_LEAD_MASK 0x0f

/* ACPI 6.4 6.4.2 small and 6.4.3 large resource descriptors */
#define RES_IRQ_TAG 0x22 /* 6.4.2.1, IRQ without information byte */
#define RES_IO_TAG 0x47	 /* 6.4.2.5 */
#define RES_IO_DECODE_16 0x01
#define RES_END_TAG 0x79	 /* 6.4.2.9 */
#define RES_MEM32_FIXED_TAG 0x86 /* 6.4.3.4 */
#define RES_MEM32_FIXED_LEN 9
#define RES_MEM_RW 0x01
#define RES_DWORD_ADDR_TAG 0x87 /* 6.4.3.5.2 */
#define RES_DWORD_ADDR_LEN 23
#define RES_WORD_ADDR_TAG 0x88 /* 6.4.3.5.3 */
#define RES_WORD_ADDR_LEN 13
#define RES_ADDR_TYPE_MEM 0 /* 6.4.3.5: resource type */
#define RES_ADDR_TYPE_IO 1
#define RES_ADDR_TYPE_BUS 2
/* general flags: a window the bridge produces, both ends fixed, positive
 * decode (_MAF | _MIF, consumer bit clear) */
#define RES_ADDR_FIXED_WINDOW 0x0c
#define RES_IO_RANGE_ENTIRE 0x03     /* I/O flags: _RNG, ISA and non-ISA */
#define RES_MEM_NONCACHEABLE_RW 0x01 /* memory flags: _MEM 0, _RW 1 */
#define RES_MAX 128		     /* the largest template below, rounded up */

/* The host bridge's I/O windows: everything but the configuration ports
 * CF8-CFF, which it consumes itself */
#define IO_SPACE_END 0xffff
#define PCI_CONF_PORTS 8

/* The tables reach each other through 32-bit fields (RSDT, DSDT, FACS) */
#define ACPI_AREA_LIMIT (4 * GiB)

_Static_assert(PLAT_IRQ_SCI < PLAT_IOAPIC_PINS && PLAT_GSI_TIMER < PLAT_IOAPIC_PINS,
	       "MADT overrides name pins the I/O APIC has");
_Static_assert(PLAT_PCI_MMIO_BASE + PLAT_PCI_MMIO_SIZE <= ACPI_AREA_LIMIT,
	       "the MMIO window is described by a DWordMemory descriptor");
_Static_assert(PLAT_ECAM_BASE + PLAT_ECAM_SIZE <= ACPI_AREA_LIMIT,
	       "the ECAM range is described by a Memory32Fixed descriptor");
_Static_assert(PLAT_ECAM_BUSES >= 1 && PLAT_ECAM_BUSES <= 256, "bus numbers are 8-bit");

/* ACPI 6.4 5.2.10: the Firmware ACPI Control Structure */
struct acpi_facs {
	char signature[4];
	u32 length;
	u32 hardware_signature;
	u32 firmware_waking_vector;
	u32 global_lock;
	u32 flags;
	u64 x_firmware_waking_vector;
	u8 version;
	u8 reserved[3];
	u32 ospm_flags;
	u8 reserved1[24];
} __packed;

_Static_assert(sizeof(struct acpi_facs) == 64, "FACS layout");
_Static_assert(offsetof(struct acpi_facs, version) == 32, "FACS layout");

/* -------------------------------------------------------------- writer */

/* Appends to the guest area; the first failure sticks and stops writing. */
struct acpi_writer {
	u8 *buf;
	u64 base_gpa;
	u32 size;
	u32 pos;
	int err;
};

/* Records the first error; nothing is written after it. */
static void w_fail(struct acpi_writer *w, int err)
{
	if (!w->err)
		w->err = err;
}

static void *w_reserve(struct acpi_writer *w, u32 len)
{
	void *p;

	if (w->err)
		return NULL;
	if (len > w->size - w->pos) {
		w_fail(w, -E_NOMEM);
		return NULL;
	}
	p = w->buf + w->pos;
	w->pos += len;
	return p;
}

static void w_put(struct acpi_writer *w, const void *src, u32 len)
{
	void *p = w_reserve(w, len);

	if (p)
		memcpy(p, src, len);
}

static void w_u8(struct acpi_writer *w, u8 v)
{
	w_put(w, &v, sizeof(v));
}

/* Pads (the area is zeroed) so that the next byte's GPA is aligned. */
static void w_align(struct acpi_writer *w, u32 align)
{
	u64 gpa = w->base_gpa + w->pos;

	w_reserve(w, (u32)(ALIGN_UP(gpa, (u64)align) - gpa));
}

static u64 w_gpa(const struct acpi_writer *w, u32 pos)
{
	return w->base_gpa + pos;
}

/* ACPI 6.4 5.2.6: the checksum byte makes the whole table sum to zero. */
static u8 acpi_checksum(const u8 *p, u32 len)
{
	u8 sum = 0;

	while (len--)
		sum += *p++;
	return (u8)-sum;
}

/* ---------------------------------------------------------- the tables */

struct builder {
	struct acpi_writer w;
	char oem_id[ACPI_BUILD_OEM_ID_LEN];
	const struct acpi_build_cfg *cfg;
	u64 facs, dsdt, fadt, madt, mcfg;
};

/* Starts a table with its 5.2.6 header; returns its offset. */
static u32 table_begin(struct builder *b, const char *sig, u8 revision)
{
	struct acpi_sdt_header h = { .revision = revision };
	u32 start;

	w_align(&b->w, TABLE_ALIGN);
	start = b->w.pos;
	memcpy(h.signature, sig, sizeof(h.signature));
	memcpy(h.oem_id, b->oem_id, sizeof(h.oem_id));
	memcpy(h.oem_table_id, OEM_TABLE_ID, sizeof(h.oem_table_id));
	h.oem_revision = OEM_REVISION;
	memcpy(&h.creator_id, CREATOR_ID, sizeof(h.creator_id));
	h.creator_revision = CREATOR_REVISION;
	w_put(&b->w, &h, sizeof(h));
	return start;
}

/* Sets the length and checksum of the table at start; returns its GPA. */
static u64 table_end(struct builder *b, u32 start)
{
	struct acpi_sdt_header *h = (struct acpi_sdt_header *)(b->w.buf + start);
	u32 len = b->w.pos - start;

	if (b->w.err)
		return 0;
	h->length = len;
	h->checksum = 0;
	h->checksum = acpi_checksum(b->w.buf + start, len);
	return w_gpa(&b->w, start);
}

/*
 * ACPI 6.4 5.2.10. Required unless the platform is HW-reduced (5.2.9,
 * FIRMWARE_CTRL). It holds the global lock, which ACPICA turns on whenever
 * PM1's GBL_EN sticks; Linux 6.1 boots silently without a FACS, but the lock
 * would then have no home. No S4BIOS, no waking vector: no sleep states.
 */
static void build_facs(struct builder *b)
{
	struct acpi_facs f = {
		.length = sizeof(f),
		.version = FACS_VERSION,
	};
	u32 start;

	memcpy(f.signature, "FACS", sizeof(f.signature));
	w_align(&b->w, FACS_ALIGN);
	start = b->w.pos;
	w_put(&b->w, &f, sizeof(f));
	b->facs = w_gpa(&b->w, start);
}

/* ------------------------------------------------------------------ AML */

/* Reserves the longest PkgLength; aml_pkg_close shrinks it to fit. */
static u32 aml_pkg_open(struct acpi_writer *w)
{
	u32 at = w->pos;

	w_reserve(w, ACPI_BUILD_PKGLEN_MAX);
	return at;
}

u32 acpi_build_pkglen(u32 body_len, u8 out[ACPI_BUILD_PKGLEN_MAX])
{
	u32 n, total;

	/* ACPI 6.4 20.2.4: PkgLength counts itself and what follows it; the
	 * one-byte form holds 6 bits, longer ones 4 in the lead byte and 8
	 * in each byte after it, whose count is in the lead byte's bits 7-6 */
	for (n = 1; n <= ACPI_BUILD_PKGLEN_MAX; n++) {
		u32 bits = n == 1 ? AML_PKGLEN_BYTES_SHIFT : AML_PKGLEN_LEAD_BITS + 8 * (n - 1);

		if (body_len < (1U << bits) - n)
			break;
	}
	if (n > ACPI_BUILD_PKGLEN_MAX)
		return 0;
	total = body_len + n;
	if (n == 1) {
		out[0] = (u8)total;
		return n;
	}
	out[0] = (u8)(((n - 1) << AML_PKGLEN_BYTES_SHIFT) | (total & AML_PKGLEN_LEAD_MASK));
	for (u32 i = 1; i < n; i++)
		out[i] = (u8)(total >> (AML_PKGLEN_LEAD_BITS + 8 * (i - 1)));
	return n;
}

/* Writes the PkgLength of what follows it, shrunk to its shortest form. */
static void aml_pkg_close(struct acpi_writer *w, u32 at)
{
	u8 enc[ACPI_BUILD_PKGLEN_MAX];
	u32 body, n;
	u8 *p;

	if (w->err)
		return;
	body = w->pos - at - ACPI_BUILD_PKGLEN_MAX;
	n = acpi_build_pkglen(body, enc);
	if (!n) {
		w_fail(w, -E_NOMEM);
		return;
	}
	p = w->buf + at;
	memmove(p + n, p + ACPI_BUILD_PKGLEN_MAX, body);
	memcpy(p, enc, n);
	w->pos = at + n + body;
	memset(w->buf + w->pos, 0, ACPI_BUILD_PKGLEN_MAX - n);
}

/* 20.2.2 NameString: one NameSeg ("PCI0"), or a root-relative one ("\_SB_"). */
static void aml_name(struct acpi_writer *w, const char *name)
{
	size_t len = strlen(name);

	if (len != AML_NAME_SEG_LEN && !(len == AML_NAME_SEG_LEN + 1 && name[0] == AML_ROOT_CHAR)) {
		w_fail(w, -E_INVAL);
		return;
	}
	w_put(w, name, (u32)len);
}

/* 20.2.3: the shortest encoding of an integer constant */
static void aml_int(struct acpi_writer *w, u64 v)
{
	u8 prefix;
	u32 len;

	if (v == 0 || v == 1) {
		w_u8(w, v ? AML_ONE_OP : AML_ZERO_OP);
		return;
	}
	if (v <= 0xff) {
		prefix = AML_BYTE_PREFIX;
		len = 1;
	} else if (v <= 0xffff) {
		prefix = AML_WORD_PREFIX;
		len = 2;
	} else if (v <= 0xffffffff) {
		prefix = AML_DWORD_PREFIX;
		len = 4;
	} else {
		prefix = AML_QWORD_PREFIX;
		len = 8;
	}
	w_u8(w, prefix);
	w_put(w, &v, len); /* little-endian, like the guest */
}

/* Name (name, value) */
static void aml_name_int(struct acpi_writer *w, const char *name, u64 v)
{
	w_u8(w, AML_NAME_OP);
	aml_name(w, name);
	aml_int(w, v);
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * ACPI 6.4 19.6, EISAID: "PNP0A08" -> a DWord whose bytes, in memory, are
 * the big-endian 32-bit value 0 | 3 x 5-bit letters ('A' = 1) | 16-bit
 * product number.
 */
#define EISAID_LEN 7
#define EISAID_LETTERS 3
#define EISAID_LETTER_BITS 5
#define EISAID_LETTER_BASE ('A' - 1)

static void aml_name_eisaid(struct acpi_writer *w, const char *name, const char *id)
{
	u32 v = 0;
	u8 be[4];

	if (strlen(id) != EISAID_LEN) {
		w_fail(w, -E_INVAL);
		return;
	}
	for (int i = 0; i < EISAID_LETTERS; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			w_fail(w, -E_INVAL);
			return;
		}
		v = (v << EISAID_LETTER_BITS) | (u32)(id[i] - EISAID_LETTER_BASE);
	}
	for (int i = EISAID_LETTERS; i < EISAID_LEN; i++) {
		int d = hex_digit(id[i]);

		if (d < 0) {
			w_fail(w, -E_INVAL);
			return;
		}
		v = (v << 4) | (u32)d;
	}
	for (int i = 0; i < 4; i++)
		be[i] = (u8)(v >> (24 - 8 * i));
	w_u8(w, AML_NAME_OP);
	aml_name(w, name);
	w_u8(w, AML_DWORD_PREFIX);
	w_put(w, be, sizeof(be));
}

/* Name (name, "string"), 20.2.3 String */
static void aml_name_string(struct acpi_writer *w, const char *name, const char *str)
{
	w_u8(w, AML_NAME_OP);
	aml_name(w, name);
	w_u8(w, AML_STRING_PREFIX);
	w_put(w, str, (u32)strlen(str) + 1);
}

/* Package () { vals... }, 20.2.5.4 DefPackage; and Name (name, it) */
static void aml_package(struct acpi_writer *w, const u64 *vals, u8 count)
{
	u32 pkg;

	w_u8(w, AML_PACKAGE_OP);
	pkg = aml_pkg_open(w);
	w_u8(w, count); /* NumElements */
	for (u8 i = 0; i < count; i++)
		aml_int(w, vals[i]);
	aml_pkg_close(w, pkg);
}

static void aml_name_package(struct acpi_writer *w, const char *name, const u64 *vals, u8 count)
{
	w_u8(w, AML_NAME_OP);
	aml_name(w, name);
	aml_package(w, vals, count);
}

/* Scope (name) { ... }, 20.2.5.1 DefScope; close with aml_pkg_close */
static u32 aml_scope_open(struct acpi_writer *w, const char *name)
{
	u32 pkg;

	w_u8(w, AML_SCOPE_OP);
	pkg = aml_pkg_open(w);
	aml_name(w, name);
	return pkg;
}

/* Device (name) { ... }, 20.2.5.2 DefDevice; close with aml_pkg_close */
static u32 aml_device_open(struct acpi_writer *w, const char *name)
{
	u32 pkg;

	w_u8(w, AML_EXT_OP_PREFIX);
	w_u8(w, AML_DEVICE_OP);
	pkg = aml_pkg_open(w);
	aml_name(w, name);
	return pkg;
}

/* ------------------------------------------------ resource templates */

/* A ResourceTemplate () under construction (ACPI 6.4 6.4) */
struct res {
	u8 b[RES_MAX];
	u32 len;
	bool overflow;
};

static void res_put(struct res *r, const void *p, u32 len)
{
	if (r->overflow || len > RES_MAX - r->len) {
		r->overflow = true;
		return;
	}
	memcpy(r->b + r->len, p, len);
	r->len += len;
}

/* 6.4.2.5 IO (Decode16, base, base, 1, len): a fixed range of ports */
static void res_io(struct res *r, u16 base, u8 len)
{
	u8 d[8] = { RES_IO_TAG, RES_IO_DECODE_16, (u8)base, (u8)(base >> 8),
		    (u8)base,	(u8)(base >> 8),  1,	    len };

	res_put(r, d, sizeof(d));
}

/* 6.4.2.1 IRQNoFlags () { irq }: edge-triggered, active high, exclusive */
static void res_irq(struct res *r, u8 irq)
{
	u16 mask = (u16)BIT(irq);
	u8 d[3] = { RES_IRQ_TAG, (u8)mask, (u8)(mask >> 8) };

	res_put(r, d, sizeof(d));
}

/* 6.4.3.4 Memory32Fixed (ReadWrite, base, len) */
static void res_mem32_fixed(struct res *r, u32 base, u32 len)
{
	u8 d[12] = { RES_MEM32_FIXED_TAG, RES_MEM32_FIXED_LEN, 0, RES_MEM_RW };

	memcpy(d + 4, &base, sizeof(base));
	memcpy(d + 8, &len, sizeof(len));
	res_put(r, d, sizeof(d));
}

/* 6.4.3.5.3 Word Address Space Descriptor: a fixed window [min, max] that
 * a bridge produces (WordBusNumber, WordIO) */
static void res_word_window(struct res *r, u8 type, u8 type_flags, u16 min, u16 max)
{
	u16 f[5] = { 0, min, max, 0, (u16)(max - min + 1) }; /* _GRA .. _LEN */
	u8 d[16] = { RES_WORD_ADDR_TAG,	    RES_WORD_ADDR_LEN, 0, type,
		     RES_ADDR_FIXED_WINDOW, type_flags };

	memcpy(d + 6, f, sizeof(f));
	res_put(r, d, sizeof(d));
}

/* 6.4.3.5.2 DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed,
 * NonCacheable, ReadWrite, 0, base, base + len - 1, 0, len) */
static void res_dword_mem_window(struct res *r, u32 base, u32 len)
{
	u32 f[5] = { 0, base, base + len - 1, 0, len };
	u8 d[26] = { RES_DWORD_ADDR_TAG, RES_DWORD_ADDR_LEN,	0,
		     RES_ADDR_TYPE_MEM,	 RES_ADDR_FIXED_WINDOW, RES_MEM_NONCACHEABLE_RW };

	memcpy(d + 6, f, sizeof(f));
	res_put(r, d, sizeof(d));
}

/* 6.4.2.9 End Tag, its checksum making the whole template sum to zero */
static void res_end(struct res *r)
{
	u8 d[2] = { RES_END_TAG, 0 };

	res_put(r, d, 1);
	if (!r->overflow)
		d[1] = acpi_checksum(r->b, r->len);
	res_put(r, d + 1, 1);
}

/* Name (name, ResourceTemplate () {...}): a Buffer, 20.2.5.4 DefBuffer */
static void aml_name_resources(struct acpi_writer *w, const char *name, const struct res *r)
{
	u32 pkg;

	if (r->overflow) {
		w_fail(w, -E_INVAL);
		return;
	}
	w_u8(w, AML_NAME_OP);
	aml_name(w, name);
	w_u8(w, AML_BUFFER_OP);
	pkg = aml_pkg_open(w);
	aml_int(w, r->len); /* BufferSize */
	w_put(w, r->b, r->len);
	aml_pkg_close(w, pkg);
}

/* ---------------------------------------------------------------- DSDT */

/* PCI interrupt routing (ACPI 6.4 6.2.13 _PRT): pin P of slot S to GSI BASE + (S + P) %
 * COUNT; each { Address 0xSSSSFFFF (any function), Pin, Source 0 (a GSI), GSI } */
#define PRT_ENTRIES (32 * PCI_INT_PINS)
#define PRT_ANY_FUNCTION 0xffff
#define PRT_SLOT_SHIFT 16

static void aml_name_prt(struct acpi_writer *w)
{
	u32 outer;

	w_u8(w, AML_NAME_OP);
	aml_name(w, "_PRT");
	w_u8(w, AML_PACKAGE_OP);
	outer = aml_pkg_open(w);
	w_u8(w, PRT_ENTRIES);
	for (u64 i = 0, s = 0, p = 0; i < PRT_ENTRIES;
	     i++, s = i / PCI_INT_PINS, p = i % PCI_INT_PINS)
		aml_package(w,
			    (const u64[]){ s << PRT_SLOT_SHIFT | PRT_ANY_FUNCTION, p, 0,
					   PLAT_PCI_GSI_BASE + (s + p) % PLAT_PCI_GSI_COUNT },
			    4);
	aml_pkg_close(w, outer);
}

/*
 * The host bridge (ACPI 6.4 6.5.5 _BBN, 6.5.6 _SEG): it decodes bus 0 .. PLAT_ECAM_BUSES - 1, consumes the
 * configuration ports, and forwards all other I/O ports and the MMIO window
 * where owned devices' BARs go. Linux drops the CF8-CFF entry itself.
 */
static void dsdt_pci0(struct acpi_writer *w)
{
	struct res r = { .len = 0 };
	u32 dev = aml_device_open(w, "PCI0");

	aml_name_eisaid(w, "_HID", "PNP0A08"); /* PCI Express root bridge */
	aml_name_eisaid(w, "_CID", "PNP0A03"); /* PCI root bridge */
	aml_name_int(w, "_UID", 0);
	aml_name_int(w, "_SEG", 0);
	aml_name_int(w, "_BBN", 0);
	res_word_window(&r, RES_ADDR_TYPE_BUS, 0, 0, PLAT_ECAM_BUSES - 1);
	res_io(&r, PLAT_PCI_CONF_ADDR, PCI_CONF_PORTS);
	res_word_window(&r, RES_ADDR_TYPE_IO, RES_IO_RANGE_ENTIRE, 0, PLAT_PCI_CONF_ADDR - 1);
	res_word_window(&r, RES_ADDR_TYPE_IO, RES_IO_RANGE_ENTIRE,
			PLAT_PCI_CONF_ADDR + PCI_CONF_PORTS, IO_SPACE_END);
	res_dword_mem_window(&r, (u32)PLAT_PCI_MMIO_BASE, (u32)PLAT_PCI_MMIO_SIZE);
	res_end(&r);
	aml_name_resources(w, "_CRS", &r);
	aml_name_prt(w);
	aml_pkg_close(w, dev);
}

/* Motherboard resources (PNP0C02): the ECAM range the MCFG names must be
 * reserved here (PCI Firmware Specification 3.2 4.1.2). */
static void dsdt_mres(struct acpi_writer *w)
{
	struct res r = { .len = 0 };
	u32 dev = aml_device_open(w, "MRES");

	aml_name_eisaid(w, "_HID", "PNP0C02");
	res_mem32_fixed(&r, (u32)PLAT_ECAM_BASE, (u32)PLAT_ECAM_SIZE);
	res_end(&r);
	aml_name_resources(w, "_CRS", &r);
	aml_pkg_close(w, dev);
}

#define COM_PORTS 8
#define STA_PRESENT_ENABLED_SHOWN_OK 0x0f /* ACPI 6.4 6.3.7 _STA bits 0-3 */

static void dsdt_com1(struct acpi_writer *w)
{
	struct res r = { .len = 0 };
	u32 dev = aml_device_open(w, "COM1");

	aml_name_eisaid(w, "_HID", "PNP0501"); /* 16550A-compatible UART */
	aml_name_int(w, "_UID", 1);
	aml_name_int(w, "_STA", STA_PRESENT_ENABLED_SHOWN_OK);
	res_io(&r, PLAT_COM1_PORT, COM_PORTS);
	res_irq(&r, PLAT_IRQ_COM1);
	res_end(&r);
	aml_name_resources(w, "_CRS", &r);
	aml_pkg_close(w, dev);
}

/* The panic-notification device QEMU defined and Linux's pvpanic driver
 * binds by this ACPI ID: one I/O port */
#define PVPANIC_HID "QEMU0001"

static void dsdt_pvpanic(struct acpi_writer *w)
{
	struct res r = { .len = 0 };
	u32 dev = aml_device_open(w, "PEVT");

	aml_name_string(w, "_HID", PVPANIC_HID);
	aml_name_int(w, "_STA", STA_PRESENT_ENABLED_SHOWN_OK);
	res_io(&r, PLAT_PVPANIC_PORT, 1);
	res_end(&r);
	aml_name_resources(w, "_CRS", &r);
	aml_pkg_close(w, dev);
}

#define RTC_PORTS 2 /* index and data */

static void dsdt_rtc(struct acpi_writer *w)
{
	struct res r = { .len = 0 };
	u32 dev = aml_device_open(w, "RTC_");

	aml_name_eisaid(w, "_HID", "PNP0B00"); /* AT real-time clock */
	res_io(&r, PLAT_RTC_PORT, RTC_PORTS);
	res_irq(&r, PLAT_IRQ_RTC);
	res_end(&r);
	aml_name_resources(w, "_CRS", &r);
	aml_pkg_close(w, dev);
}

/* ACPI 6.4 5.2.11.1 */
static void build_dsdt(struct builder *b)
{
	/* 7.4.2 \_S5: SLP_TYPa, SLP_TYPb, two reserved values */
	static const u64 s5[] = { PLAT_SLP_TYP_S5, PLAT_SLP_TYP_S5, 0, 0 };
	struct acpi_writer *w = &b->w;
	u32 start = table_begin(b, "DSDT", DSDT_REVISION);
	u32 sb;

	aml_name_package(w, "\\_S5_", s5, ARRAY_SIZE(s5));
	sb = aml_scope_open(w, "\\_SB_");
	dsdt_pci0(w);
	dsdt_mres(w);
	dsdt_com1(w);
	dsdt_rtc(w);
	dsdt_pvpanic(w);
	aml_pkg_close(w, sb);
	b->dsdt = table_end(b, start);
}

/* ---------------------------------------------------------------- FADT */

static struct acpi_gas_raw gas_io(u16 port, u8 bytes, u8 access)
{
	return (struct acpi_gas_raw){
		.space_id = ACPI_GAS_SYSTEM_IO,
		.bit_width = (u8)(bytes * 8),
		.access_size = access,
		.address = port,
	};
}

/*
 * ACPI 6.4 5.2.9. Fixed hardware, not HW-reduced: the PM1a event and
 * control blocks and the PM timer (4.8), with SMI_CMD 0, i.e. always in
 * ACPI mode (SCI_EN reads 1). No GPE blocks, no C2/C3, no sleep states but
 * S5; the reset register (4.8.3.6) and IA-PC boot flags (5.2.9.3) as
 * platform.h describes the machine.
 */
static void build_fadt(struct builder *b)
{
	const struct acpi_build_cfg *cfg = b->cfg;
	u16 pm_tmr = cfg->pm_tmr_port ? cfg->pm_tmr_port : PLAT_PM_TMR_PORT;
	struct acpi_fadt f = {
		.firmware_ctrl = (u32)b->facs,
		.dsdt = (u32)b->dsdt,
		.preferred_pm_profile = FADT_PM_PROFILE_UNSPECIFIED,
		.sci_int = PLAT_IRQ_SCI,
		.pm1a_evt_blk = PLAT_PM1A_EVT_PORT,
		.pm1a_cnt_blk = PLAT_PM1A_CNT_PORT,
		.pm_tmr_blk = pm_tmr,
		.pm1_evt_len = FADT_PM1_EVT_LEN,
		.pm1_cnt_len = FADT_PM1_CNT_LEN,
		.pm_tmr_len = FADT_PM_TMR_LEN,
		.p_lvl2_lat = FADT_P_LVL2_LAT_NONE,
		.p_lvl3_lat = FADT_P_LVL3_LAT_NONE,
		.century = cfg->rtc_century ? ACPI_BUILD_RTC_CENTURY_REG : 0,
		/* no ISA devices to probe but those the DSDT lists; no 8042
		 * (its port 0x64 takes only the reset command), no VGA; no
		 * MSI until a device could use it; the CMOS RTC is present */
		.iapc_boot_arch = ACPI_BOOT_VGA_NOT_PRESENT | ACPI_BOOT_MSI_NOT_SUPPORTED,
		.flags = FADT_FLAG_WBINVD | FADT_FLAG_PROC_C1 | FADT_FLAG_SLP_BUTTON |
			 FADT_FLAG_FIX_RTC | ACPI_FADT_RESET_REG_SUP |
			 (cfg->pm_tmr_32bit ? ACPI_FADT_TMR_VAL_EXT : 0) |
			 (cfg->power_button ? 0 : FADT_FLAG_PWR_BUTTON),
		.reset_reg = {
			.space_id = ACPI_GAS_SYSTEM_IO,
			.bit_width = RESET_REG_BITS,
			.access_size = ACPI_GAS_ACCESS_BYTE,
			.address = PLAT_RESET_PORT,
		},
		.reset_value = PLAT_RESET_VALUE,
		.fadt_minor_version = FADT_MINOR_VERSION,
		/* X_FIRMWARE_CTRL stays 0: FIRMWARE_CTRL is set (5.2.9) */
		.x_dsdt = b->dsdt,
		.x_pm1a_evt_blk = gas_io(PLAT_PM1A_EVT_PORT, FADT_PM1_EVT_LEN,
					 ACPI_GAS_ACCESS_WORD),
		.x_pm1a_cnt_blk = gas_io(PLAT_PM1A_CNT_PORT, FADT_PM1_CNT_LEN,
					 ACPI_GAS_ACCESS_WORD),
		.x_pm_tmr_blk = gas_io(pm_tmr, FADT_PM_TMR_LEN,
				       ACPI_GAS_ACCESS_DWORD),
	};
	u32 start = table_begin(b, "FACP", FADT_REVISION);

	memcpy(&f.hypervisor_vendor_id, HYPERVISOR_VENDOR_ID, sizeof(f.hypervisor_vendor_id));
	w_put(&b->w, (const u8 *)&f + sizeof(f.hdr), sizeof(f) - sizeof(f.hdr));
	b->fadt = table_end(b, start);
}

/* ---------------------------------------------------------------- MADT */

u8 acpi_build_ioapic_id(u32 cpu_count)
{
	return cpu_count < XAPIC_ID_LIMIT ? (u8)cpu_count : 0;
}

static void madt_cpus(struct builder *b)
{
	for (u32 i = 0; i < b->cfg->cpu_count && !b->w.err; i++) {
		if (i < XAPIC_ID_LIMIT) {
			struct acpi_madt_lapic e = {
				.e = { ACPI_MADT_LAPIC, sizeof(e) },
				.uid = (u8)i,
				.apic_id = (u8)i,
				.flags = ACPI_LAPIC_ENABLED,
			};

			w_put(&b->w, &e, sizeof(e));
		} else {
			struct acpi_madt_x2apic e = {
				.e = { ACPI_MADT_X2APIC, sizeof(e) },
				.x2apic_id = i,
				.flags = ACPI_LAPIC_ENABLED,
				.uid = i,
			};

			w_put(&b->w, &e, sizeof(e));
		}
	}
}

static void madt_iso(struct builder *b, u8 irq, u32 gsi, u16 flags)
{
	struct acpi_madt_iso e = {
		.e = { ACPI_MADT_ISO, sizeof(e) },
		.bus = ISA_BUS,
		.source = irq,
		.gsi = gsi,
		.flags = flags,
	};

	w_put(&b->w, &e, sizeof(e));
}

/*
 * ACPI 6.4 5.2.12: the local APICs (x2APIC entries from ID 255 on,
 * 5.2.12.12), one I/O APIC whose pins are the GSIs from 0, ISA IRQs
 * identity-mapped but for the timer on GSI 2 and the SCI, which is level
 * triggered (5.2.12.5), and NMI on every processor's LINT1 (5.2.12.7,
 * 5.2.12.13). PCAT_COMPAT: the 8259 pair is there (masked).
 */
static void build_madt(struct builder *b)
{
	u32 cpus = b->cfg->cpu_count;
	struct acpi_madt m = {
		.lapic_address = (u32)PLAT_LAPIC_BASE,
		.flags = ACPI_MADT_PCAT_COMPAT,
	};
	struct acpi_madt_ioapic io = {
		.e = { ACPI_MADT_IOAPIC, sizeof(io) },
		.id = acpi_build_ioapic_id(cpus),
		.address = (u32)PLAT_IOAPIC_BASE,
		.gsi_base = 0,
	};
	struct acpi_madt_lapic_nmi nmi = {
		.e = { ACPI_MADT_LAPIC_NMI, sizeof(nmi) },
		.uid = ACPI_UID_ALL_XAPIC,
		.flags = MADT_FLAGS_EDGE_HIGH,
		.lint = LAPIC_NMI_LINT,
	};
	struct acpi_madt_x2apic_nmi x2nmi = {
		.e = { ACPI_MADT_X2APIC_NMI, sizeof(x2nmi) },
		.flags = MADT_FLAGS_EDGE_HIGH,
		.uid = ACPI_UID_ALL,
		.lint = LAPIC_NMI_LINT,
	};
	u32 start = table_begin(b, "APIC", MADT_REVISION);

	w_put(&b->w, (const u8 *)&m + sizeof(m.hdr), sizeof(m) - sizeof(m.hdr));
	madt_cpus(b);
	w_put(&b->w, &io, sizeof(io));
	madt_iso(b, ISA_IRQ_TIMER, PLAT_GSI_TIMER, MADT_FLAGS_EDGE_HIGH);
	madt_iso(b, PLAT_IRQ_SCI, PLAT_IRQ_SCI, MADT_FLAGS_LEVEL_HIGH);
	w_put(&b->w, &nmi, sizeof(nmi));
	if (cpus > XAPIC_ID_LIMIT)
		w_put(&b->w, &x2nmi, sizeof(x2nmi));
	b->madt = table_end(b, start);
}

/* ---------------------------------------------------------------- MCFG */

/* PCI Firmware Specification 3.2 4.1.2: one ECAM window, segment 0 */
static void build_mcfg(struct builder *b)
{
	static const u8 reserved[8];
	struct acpi_mcfg_alloc a = {
		.base = PLAT_ECAM_BASE,
		.segment = 0,
		.bus_start = 0,
		.bus_end = PLAT_ECAM_BUSES - 1,
	};
	u32 start = table_begin(b, "MCFG", MCFG_REVISION);

	w_put(&b->w, reserved, sizeof(reserved));
	w_put(&b->w, &a, sizeof(a));
	b->mcfg = table_end(b, start);
}

/* ------------------------------------------------------ root tables */

/* ACPI 6.4 5.2.8 (XSDT, 64-bit entries) or 5.2.7 (RSDT, 32-bit entries).
 * The DSDT and FACS are reached through the FADT, not listed here. */
static u64 build_root(struct builder *b, bool xsdt)
{
	const u64 tables[] = { b->fadt, b->madt, b->mcfg };
	u32 start = table_begin(b, xsdt ? "XSDT" : "RSDT", xsdt ? XSDT_REVISION : RSDT_REVISION);

	for (size_t i = 0; i < ARRAY_SIZE(tables); i++)
		w_put(&b->w, &tables[i], xsdt ? sizeof(u64) : sizeof(u32));
	return table_end(b, start);
}

/* ACPI 6.4 5.2.5.3 */
static void fill_rsdp(struct builder *b, u64 xsdt, u64 rsdt)
{
	struct acpi_rsdp *r = (struct acpi_rsdp *)b->w.buf;

	memcpy(r->signature, ACPI_RSDP_SIG, sizeof(r->signature));
	memcpy(r->oem_id, b->oem_id, sizeof(r->oem_id));
	r->revision = RSDP_REVISION;
	r->rsdt_address = (u32)rsdt;
	r->length = sizeof(*r);
	r->xsdt_address = xsdt;
	r->checksum = 0;
	r->checksum = acpi_checksum(b->w.buf, ACPI_RSDP_V1_LEN);
	r->extended_checksum = 0;
	r->extended_checksum = acpi_checksum(b->w.buf, sizeof(*r));
}

/* ------------------------------------------------------------- build */

/* The OEM ID's length, or more than ACPI_BUILD_OEM_ID_LEN when it is not
 * terminated */
static size_t oem_id_len(const struct acpi_build_cfg *cfg)
{
	size_t n = 0;

	while (n < sizeof(cfg->oem_id) && cfg->oem_id[n])
		n++;
	return n;
}

static int cfg_check(const struct acpi_build_cfg *cfg)
{
	if (!cfg->cpu_count || cfg->cpu_count > ACPI_BUILD_MAX_CPUS)
		return -E_INVAL;
	if (oem_id_len(cfg) > ACPI_BUILD_OEM_ID_LEN)
		return -E_INVAL;
	/* the return value counts the bytes used */
	if (cfg->size > (u32)INT32_MAX)
		return -E_INVAL;
	if (!IS_ALIGNED(cfg->base_gpa, (u64)RSDP_ALIGN))
		return -E_INVAL;
	if (cfg->base_gpa >= ACPI_AREA_LIMIT || cfg->size > ACPI_AREA_LIMIT - cfg->base_gpa)
		return -E_RANGE;
	return 0;
}

int acpi_build(const struct acpi_build_cfg *cfg, u8 *buf, u64 *rsdp_gpa)
{
	struct builder b = {
		.w = { .buf = buf, .base_gpa = cfg->base_gpa, .size = cfg->size },
		.cfg = cfg,
	};
	u64 xsdt, rsdt;
	int rc;

	if (!buf)
		return -E_INVAL;
	rc = cfg_check(cfg);
	if (rc)
		return rc;
	memset(buf, 0, cfg->size);
	memset(b.oem_id, ' ', sizeof(b.oem_id));
	memcpy(b.oem_id, cfg->oem_id, oem_id_len(cfg));

	w_reserve(&b.w, sizeof(struct acpi_rsdp));
	build_facs(&b);
	build_dsdt(&b);
	build_fadt(&b);
	build_madt(&b);
	build_mcfg(&b);
	xsdt = build_root(&b, true);
	rsdt = build_root(&b, false);
	if (b.w.err) {
		memset(buf, 0, cfg->size);
		return b.w.err;
	}
	fill_rsdp(&b, xsdt, rsdt);
	*rsdp_gpa = cfg->base_gpa;
	return (int)b.w.pos;
}
