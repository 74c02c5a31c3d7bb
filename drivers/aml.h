/*
 * ACPI Machine Language (ACPI 6.4 20.2): the encodings that both the \_S5
 * search below (drivers/aml.c) and the partitions' DSDT builder
 * (hv/vdev/acpi_tables.c) use, and that search. Part of the API of
 * drivers/acpi.h, which includes this header.
 */
#pragma once

#include "hv/lib/types.h"

#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_QWORD_PREFIX 0x0e
#define AML_PACKAGE_OP 0x12
#define AML_ONES_OP 0xff
#define AML_ROOT_CHAR '\\'
#define AML_PARENT_PREFIX_CHAR '^'
#define AML_PKGLEN_BYTES_SHIFT 6   /* 20.2.4: PkgLength lead byte, bits 7-6 */
#define AML_PKGLEN_SHORT_MASK 0x3f /* one-byte form: bits 5-0 */
#define AML_PKGLEN_LONG_MASK 0x0f  /* multi-byte form: bits 3-0 ... */
#define AML_PKGLEN_RESERVED 0x30   /* ... and bits 5-4 must be zero */

/*
 * Finds "Name (_S5, Package () {a, b, ...})" in an AML byte stream (a DSDT
 * or SSDT body) and decodes its first two integers. Returns 0, -E_NOENT when
 * there is none, or -E_INVAL when it is malformed. Never reads outside
 * [aml, aml + len).
 */
int acpi_aml_find_s5(const u8 *aml, u64 len, u8 *slp_typ_a, u8 *slp_typ_b);
