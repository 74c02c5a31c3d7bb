/* Number parsing for the test guests' command lines. */
#include "lib.h"

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

size_t parse_hex(const char *s, u64 *out)
{
	size_t n = 0;
	u64 v = 0;
	int d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && hex_digit(s[2]) >= 0)
		n = 2;
	for (; (d = hex_digit(s[n])) >= 0; n++)
		v = (v << 4) | (u64)d;
	*out = v;
	return n && hex_digit(s[n - 1]) >= 0 ? n : 0;
}

size_t parse_u64(const char *s, u64 *out)
{
	size_t n = 0;
	u64 v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return parse_hex(s, out);
	for (; s[n] >= '0' && s[n] <= '9'; n++)
		v = v * 10 + (u64)(s[n] - '0');
	*out = v;
	return n;
}

size_t parse_size(const char *s, u64 *out)
{
	size_t n = parse_u64(s, out);

	if (!n)
		return 0;
	switch (s[n]) {
	case 'K':
	case 'k':
		*out *= KiB;
		return n + 1;
	case 'M':
	case 'm':
		*out *= MiB;
		return n + 1;
	case 'G':
	case 'g':
		*out *= GiB;
		return n + 1;
	default:
		return n;
	}
}
