/*
 * ACPI system description tables: map, check, record (see drivers/acpi_sdt.h).
 */
#include "drivers/acpi_sdt.h"
#include "hv/lib/lib.h"

/* Larger than any real table; a header claiming more is garbage. */
#define ACPI_TABLE_MAX_LEN (16 * MiB)

void acpi_warn(struct acpi_info *ai, const char *fmt, ...)
{
	va_list ap;

	if (ai->warning_count < ACPI_MAX_WARNINGS) {
		va_start(ap, fmt);
		vsnprintf(ai->warning[ai->warning_count], ACPI_WARNING_LEN, fmt, ap);
		va_end(ap);
	} else {
		ai->truncated |= ACPI_TRUNC_WARNINGS;
	}
	ai->warning_count++;
}

/* ACPI 6.4 5.2.6: a table's bytes, checksum included, sum to zero. */
u8 acpi_sum(const void *p, u64 len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

/* A printable copy of a 4-byte signature, for messages and tables[]. */
static void sig_copy(char out[5], const char *sig)
{
	for (int i = 0; i < 4; i++)
		out[i] = (sig[i] >= 0x20 && sig[i] < 0x7f) ? sig[i] : '?';
	out[4] = '\0';
}

static bool sig_printable(const char *sig)
{
	for (int i = 0; i < 4; i++)
		if (sig[i] < 0x20 || sig[i] >= 0x7f)
			return false;
	return true;
}

bool acpi_sig_is(const struct acpi_sdt_header *h, const char *sig)
{
	return memcmp(h->signature, sig, 4) == 0;
}

/*
 * Maps and validates the table at pa: signature (expect, or any printable
 * one when expect is NULL), length, checksum. Records what it saw in ref
 * when ref is not NULL. Returns the whole table, or NULL (with a warning).
 */
const struct acpi_sdt_header *acpi_table_get(struct acpi_parser *p, u64 pa, const char *expect,
					     struct acpi_table_ref *ref)
{
	struct acpi_info *ai = p->ai;
	const struct acpi_sdt_header *h;
	char sig[5];
	u32 len;

	if (ref) {
		memset(ref, 0, sizeof(*ref));
		ref->pa = pa;
		memcpy(ref->sig, "????", 5);
	}
	h = p->map(pa, sizeof(*h), p->ctx);
	if (!h) {
		acpi_warn(ai, "%s at %#lx: cannot map, skipped", expect ? expect : "table", pa);
		return NULL;
	}
	sig_copy(sig, h->signature);
	len = h->length;
	if (ref) {
		memcpy(ref->sig, sig, sizeof(sig));
		ref->revision = h->revision;
		ref->len = len;
	}
	if (expect ? !acpi_sig_is(h, expect) : !sig_printable(h->signature)) {
		acpi_warn(ai, "%s at %#lx: bad signature '%s', skipped", expect ? expect : "table",
			  pa, sig);
		return NULL;
	}
	if (len < sizeof(*h) || len > ACPI_TABLE_MAX_LEN || pa + len < pa) {
		acpi_warn(ai, "%s at %#lx: bad length %u, skipped", sig, pa, len);
		return NULL;
	}
	h = p->map(pa, len, p->ctx);
	if (!h) {
		acpi_warn(ai, "%s at %#lx: cannot map %u bytes, skipped", sig, pa, len);
		return NULL;
	}
	if (acpi_sum(h, len)) {
		acpi_warn(ai, "%s at %#lx: bad checksum, skipped", sig, pa);
		return NULL;
	}
	if (ref)
		ref->valid = true;
	return h;
}

struct acpi_table_ref *acpi_table_ref_new(struct acpi_info *ai)
{
	if (ai->table_count >= ACPI_MAX_TABLES) {
		ai->truncated |= ACPI_TRUNC_TABLES;
		return NULL;
	}
	return &ai->tables[ai->table_count++];
}
