/* The isolation marker block. */
#include "marker.h"
#include "cmdline.h"
#include "guest.h"
#include "lib.h"

#define MARKER_PREFIX "TESSERA-MARKER:"
#define FNV32_OFFSET 0x811c9dc5U
#define FNV32_PRIME 0x01000193U

static int marker_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c;
	if (c >= 'a' && c <= 'f')
		return c;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 'a';
	return -1;
}

void marker_from_cmdline(u8 block[MARKER_SIZE], char hex[MARKER_HEX_MAX + 1])
{
	char v[CMDLINE_VALUE_MAX];
	const char *s = v;
	size_t n = 0, pos;
	u32 h = FNV32_OFFSET;

	if (!cmdline_get("marker", v, sizeof(v)))
		guest_fail("no marker=HEX on the command line");
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; *s; s++) {
		int d = marker_hex_digit(*s);

		if (d < 0 || n == MARKER_HEX_MAX)
			guest_fail("marker=%s: want 1-%u hex digits", v, MARKER_HEX_MAX);
		hex[n++] = (char)d;
		h = (h ^ (u8)d) * FNV32_PRIME;
	}
	hex[n] = '\0';
	if (!n)
		guest_fail("marker=%s: want 1-%u hex digits", v, MARKER_HEX_MAX);

	/* "TESSERA-MARKER:<hex>:" then letters that depend on the value */
	pos = (size_t)snprintf((char *)block, MARKER_SIZE, MARKER_PREFIX "%s:", hex);
	for (; pos < MARKER_SIZE; pos++) {
		h = (h ^ (u32)pos) * FNV32_PRIME;
		block[pos] = (u8)('A' + (h >> 8) % 26);
	}
}
