/*
 * The AML \_S5 search (see drivers/aml.h): only the few encodings a
 * "Name (_S5, Package () {...})" can use are decoded, every byte within
 * the caller's bounds.
 */
#include "drivers/aml.h"
#include "hv/lib/lib.h"

/* ACPI 6.4 4.8.3.2.1: SLP_TYPx is a 3-bit field */
#define ACPI_SLP_TYP_MAX 7

/* ACPI 6.4 20.2.3: an integer constant; advances *pos. */
static int aml_integer(const u8 *aml, u64 end, u64 *pos, u64 *val)
{
	u64 at = *pos;
	u32 size;

	if (at >= end)
		return -E_INVAL;
	switch (aml[at]) {
	case AML_ZERO_OP:
		*val = 0;
		*pos = at + 1;
		return 0;
	case AML_ONE_OP:
		*val = 1;
		*pos = at + 1;
		return 0;
	case AML_ONES_OP:
		*val = ~0ULL;
		*pos = at + 1;
		return 0;
	case AML_BYTE_PREFIX:
		size = 1;
		break;
	case AML_WORD_PREFIX:
		size = 2;
		break;
	case AML_DWORD_PREFIX:
		size = 4;
		break;
	case AML_QWORD_PREFIX:
		size = 8;
		break;
	default:
		return -E_INVAL; /* a reference, an expression: not decoded */
	}
	if (end - at - 1 < size)
		return -E_INVAL;
	*val = 0;
	for (u32 i = 0; i < size; i++)
		*val |= (u64)aml[at + 1 + i] << (8 * i);
	*pos = at + 1 + size;
	return 0;
}

/*
 * ACPI 6.4 20.2.5.4 DefPackage := PackageOp PkgLength NumElements
 * PackageElementList, at aml[pos] (just after PackageOp). PkgLength
 * (20.2.4) counts its own bytes.
 */
static int aml_s5_package(const u8 *aml, u64 len, u64 pos, u8 *a, u8 *b)
{
	u64 end, val_a, val_b;
	u32 pkglen, nbytes;
	u8 lead, count;

	if (pos >= len)
		return -E_INVAL;
	lead = aml[pos];
	nbytes = lead >> AML_PKGLEN_BYTES_SHIFT;
	if (nbytes) {
		if (lead & AML_PKGLEN_RESERVED || len - pos <= nbytes)
			return -E_INVAL;
		pkglen = lead & AML_PKGLEN_LONG_MASK;
		for (u32 i = 0; i < nbytes; i++)
			pkglen |= (u32)aml[pos + 1 + i] << (4 + 8 * i);
	} else {
		pkglen = lead & AML_PKGLEN_SHORT_MASK;
	}
	if (pkglen < nbytes + 2 || pkglen > len - pos)
		return -E_INVAL;
	end = pos + pkglen;
	pos += 1 + nbytes;
	count = aml[pos++];
	if (count == 0 || aml_integer(aml, end, &pos, &val_a))
		return -E_INVAL;
	/* ACPI 6.4 7.4.2: {SLP_TYPa, SLP_TYPb, ...}; a one-element package
	 * gives one value for both registers. */
	val_b = val_a;
	if (count >= 2 && aml_integer(aml, end, &pos, &val_b))
		return -E_INVAL;
	if (val_a > ACPI_SLP_TYP_MAX || val_b > ACPI_SLP_TYP_MAX)
		return -E_RANGE;
	*a = (u8)val_a;
	*b = (u8)val_b;
	return 0;
}

int acpi_aml_find_s5(const u8 *aml, u64 len, u8 *slp_typ_a, u8 *slp_typ_b)
{
	int rc = -E_NOENT;

	/* ACPI 6.4 20.2.5.1 DefName := NameOp NameString DataRefObject, the
	 * NameString being "_S5_" with an optional root or parent prefix. */
	for (u64 i = 0; len >= 4 && i <= len - 4; i++) {
		u64 j = i;
		int r;

		if (memcmp(aml + i, "_S5_", 4) != 0)
			continue;
		if (j > 0 && aml[j - 1] == AML_ROOT_CHAR)
			j--;
		else
			while (j > 0 && aml[j - 1] == AML_PARENT_PREFIX_CHAR)
				j--;
		if (j == 0 || aml[j - 1] != AML_NAME_OP)
			continue;
		if (i + 4 >= len || aml[i + 4] != AML_PACKAGE_OP) {
			rc = -E_INVAL;
			continue;
		}
		r = aml_s5_package(aml, len, i + 5, slp_typ_a, slp_typ_b);
		if (r == 0)
			return 0;
		rc = r;
	}
	return rc;
}
