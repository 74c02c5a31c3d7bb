/*
 * The text layer of hv.conf (see hv/config/text.h).
 */
#include "hv/config/text.h"
#include "hv/lib/lib.h"

#define QUOTE_MAX 48 /* bytes of a user's text echoed in a message */
#define ASCII_DEL 0x7f
#define NUMBER_MAX 1000000000U /* saturation point of decimal numbers */

/* Spans */

struct span span_trim(struct span v)
{
	while (v.n && text_is_blank(v.s[0])) {
		v.s++;
		v.n--;
	}
	while (v.n && text_is_blank(v.s[v.n - 1]))
		v.n--;
	return v;
}

bool span_eq(struct span v, const char *lit)
{
	size_t n = strlen(lit);

	return v.n == n && memcmp(v.s, lit, n) == 0;
}

size_t span_find(struct span v, char ch)
{
	size_t i = 0;

	while (i < v.n && v.s[i] != ch)
		i++;
	return i;
}

struct span span_sub(struct span v, size_t from, size_t to)
{
	struct span r = { v.s + from, to - from };

	return r;
}

/* At most QUOTE_MAX bytes; UTF-8 continuation bytes are 10xxxxxx. */
int span_qlen(struct span v)
{
	size_t n = v.n;

	if (n <= QUOTE_MAX)
		return (int)n;
	n = QUOTE_MAX;
	while (n && ((u8)v.s[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

bool span_next_item(struct span *rest, struct span *item, bool *more)
{
	size_t comma;

	if (!*more)
		return false;
	comma = span_find(*rest, ',');
	*item = span_trim(span_sub(*rest, 0, comma));
	*more = comma < rest->n;
	if (*more)
		*rest = span_sub(*rest, comma + 1, rest->n);
	return true;
}

bool span_parse_uint(struct span v, u32 *out)
{
	u32 x = 0;

	if (!v.n)
		return false;
	for (size_t i = 0; i < v.n; i++) {
		if (!text_is_digit(v.s[i]))
			return false;
		x = x * 10 + (u32)(v.s[i] - '0');
		if (x > NUMBER_MAX)
			x = NUMBER_MAX;
	}
	*out = x;
	return true;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

bool span_parse_hex(struct span v, size_t *pos, size_t max_digits, u32 *out)
{
	size_t start = *pos;
	u32 x = 0;
	int d;

	while (*pos < v.n && *pos - start < max_digits && (d = hex_digit(v.s[*pos])) >= 0) {
		x = x * 16 + (u32)d;
		(*pos)++;
	}
	*out = x;
	return *pos > start && (*pos == v.n || hex_digit(v.s[*pos]) < 0);
}

/* Lines */

size_t text_check(struct span v, bool *control)
{
	size_t i = 0;

	while (i < v.n) {
		u8 b = (u8)v.s[i];
		u8 lo = 0x80, hi = 0xbf;
		size_t more;

		if (b < 0x80) {
			if ((b < ' ' && b != '\t') || b == ASCII_DEL) {
				*control = true;
				return i + 1;
			}
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			more = 1;
		} else if (b >= 0xe0 && b <= 0xef) {
			more = 2;
			if (b == 0xe0)
				lo = 0xa0; /* overlong */
			else if (b == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (b >= 0xf0 && b <= 0xf4) {
			more = 3;
			if (b == 0xf0)
				lo = 0x90; /* overlong */
			else if (b == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else {
			return i + 1;
		}
		for (size_t j = 1; j <= more; j++) {
			u8 c = i + j < v.n ? (u8)v.s[i + j] : 0;

			if (c < lo || c > hi)
				return i + 1; /* where the bad sequence starts */
			lo = 0x80;
			hi = 0xbf;
		}
		i += more + 1;
	}
	return 0;
}

struct span text_strip_comment(struct span v)
{
	for (size_t i = 0; i < v.n; i++)
		if (v.s[i] == '#' && (i == 0 || text_is_blank(v.s[i - 1])))
			return span_sub(v, 0, i);
	return v;
}

/* Output into a caller's buffer */

void text_printf(struct text_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (o->len < o->size)
		n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

int text_done(struct text_out *o)
{
	if (o->size && o->len == 0)
		o->buf[0] = '\0';
	return (int)o->len;
}

bool span_is_name(struct span v, size_t max)
{
	for (size_t i = 0; i < v.n; i++) {
		char ch = v.s[i];

		if (!((ch >= 'a' && ch <= 'z') || text_is_digit(ch) || ch == '-' || ch == '_'))
			return false;
	}
	return v.n && v.n <= max;
}
