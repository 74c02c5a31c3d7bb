/* Strings, formatting and number parsing for the test guests. */
#include "lib.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	u8 *d = dst;

	while (n--)
		*d++ = (u8)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x < *y ? -1 : 1;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a < (u8)*b ? -1 : 1;
		if (!*a)
			break;
	}
	return 0;
}

u64 div_u64(u64 n, u32 d, u32 *rem)
{
	u32 hi = (u32)(n >> 32), lo = (u32)n;
	u32 qhi = hi / d, r = hi % d, qlo;

	/* r < d, so the quotient of r:lo fits in 32 bits (SDM 2A DIV) */
	__asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
	if (rem)
		*rem = r;
	return ((u64)qhi << 32) | qlo;
}

struct fmt_spec {
	bool left, zero;
	unsigned int width;
};

static void fmt_pad(fmt_out_fn out, void *ctx, char c, unsigned int n)
{
	while (n--)
		out(c, ctx);
}

static void fmt_str(fmt_out_fn out, void *ctx, const char *s, const struct fmt_spec *sp)
{
	unsigned int len = (unsigned int)strlen(s);
	unsigned int pad = sp->width > len ? sp->width - len : 0;

	if (!sp->left)
		fmt_pad(out, ctx, ' ', pad);
	while (*s)
		out(*s++, ctx);
	if (sp->left)
		fmt_pad(out, ctx, ' ', pad);
}

static void fmt_num(fmt_out_fn out, void *ctx, u64 v, bool neg, u32 base, bool upper,
		    const struct fmt_spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	unsigned int n = 0, len, pad;
	u32 r;

	do {
		v = div_u64(v, base, &r);
		buf[n++] = digits[r];
	} while (v);
	len = n + (neg ? 1 : 0);
	pad = sp->width > len ? sp->width - len : 0;
	if (!sp->left && !sp->zero)
		fmt_pad(out, ctx, ' ', pad);
	if (neg)
		out('-', ctx);
	if (!sp->left && sp->zero)
		fmt_pad(out, ctx, '0', pad);
	while (n)
		out(buf[--n], ctx);
	if (sp->left)
		fmt_pad(out, ctx, ' ', pad);
}

void fmt_vformat(fmt_out_fn out, void *ctx, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		struct fmt_spec sp = { 0 };
		unsigned int longs = 0;
		bool is_size = false;
		u64 v;
		s64 sv;

		if (*fmt != '%') {
			out(*fmt, ctx);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (unsigned int)(*fmt++ - '0');
		for (;; fmt++) {
			if (*fmt == 'l')
				longs++;
			else if (*fmt == 'z')
				is_size = true;
			else
				break;
		}
		switch (*fmt) {
		case 'c':
			out((char)va_arg(ap, int), ctx);
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);

			fmt_str(out, ctx, s ? s : "(null)", &sp);
			break;
		}
		case 'd':
		case 'i':
			if (longs >= 2)
				sv = va_arg(ap, s64);
			else if (longs == 1)
				sv = va_arg(ap, long);
			else
				sv = va_arg(ap, int);
			fmt_num(out, ctx, sv < 0 ? (u64)-sv : (u64)sv, sv < 0, 10, false, &sp);
			break;
		case 'u':
		case 'x':
		case 'X':
			if (longs >= 2)
				v = va_arg(ap, u64);
			else if (longs == 1)
				v = va_arg(ap, unsigned long);
			else if (is_size)
				v = va_arg(ap, size_t);
			else
				v = va_arg(ap, unsigned int);
			fmt_num(out, ctx, v, false, *fmt == 'u' ? 10 : 16, *fmt == 'X', &sp);
			break;
		case 'p':
			out('0', ctx);
			out('x', ctx);
			fmt_num(out, ctx, (uintptr_t)va_arg(ap, void *), false, 16, false, &sp);
			break;
		case '%':
			out('%', ctx);
			break;
		case '\0':
			return;
		default:
			out('%', ctx);
			out(*fmt, ctx);
			break;
		}
	}
}

struct fmt_buf {
	char *buf;
	size_t size, len;
};

static void fmt_buf_out(char c, void *ctx)
{
	struct fmt_buf *b = ctx;

	if (b->len + 1 < b->size)
		b->buf[b->len] = c;
	b->len++;
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_buf b = { .buf = buf, .size = size };

	fmt_vformat(fmt_buf_out, &b, fmt, ap);
	if (size)
		buf[b.len < size ? b.len : size - 1] = '\0';
	return (int)b.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

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
