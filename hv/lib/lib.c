/* Freestanding string and formatting routines for the hypervisor image (and
 * for the 32-bit test guests, tests/guests/guests.mk). */
#include "hv/lib/lib.h"

/* REP MOVSB/STOSB: fast-string operation on every CPU we run on (SDM 1 7.3.9.3) */
void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	u8 *d = dst;
	const u8 *s = src;

	if (d < s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	__asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (u8)*a - (u8)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (u8)*a - (u8)*b;
		if (!*a)
			break;
	}
	return 0;
}

char *strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

struct fmt_out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_char(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_number(struct fmt_out *o, u64 v, unsigned int base, bool neg, int width, bool zero,
		       bool left, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0, pad;

	do {
		u32 digit;

		v = div_u64_rem(v, base, &digit);
		tmp[n++] = digits[digit];
	} while (v);
	if (neg)
		tmp[n++] = '-';
	pad = width - n;
	if (!left && zero && neg) {
		/* the sign goes before zero padding */
		out_char(o, '-');
		n--;
	}
	while (!left && pad-- > 0)
		out_char(o, zero ? '0' : ' ');
	while (n--)
		out_char(o, tmp[n]);
	while (left && pad-- > 0)
		out_char(o, ' ');
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { buf, size, 0 };

	for (; *fmt; fmt++) {
		bool zero = false, left = false, alt = false, zmod = false;
		int width = 0, lng = 0, prec = -1;

		if (*fmt != '%') {
			out_char(&o, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '0')
				zero = true;
			else if (*fmt == '-')
				left = true;
			else if (*fmt == '#')
				alt = true;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				prec = prec * 10 + (*fmt++ - '0');
		}
		/* l, ll and z are all 64 bits on x86-64, not in 32-bit code */
		for (;; fmt++) {
			if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z')
				zmod = true;
			else
				break;
		}
		switch (*fmt) {
		case 'd':
		case 'i': {
			s64 v;

			if (lng > 1)
				v = va_arg(ap, long long);
			else if (lng)
				v = va_arg(ap, long);
			else if (zmod)
				v = (intptr_t)va_arg(ap, size_t);
			else
				v = va_arg(ap, int);

			out_number(&o, v < 0 ? -(u64)v : (u64)v, 10, v < 0, width, zero, left,
				   false);
			break;
		}
		case 'u':
		case 'x':
		case 'X': {
			u64 v;

			if (lng > 1)
				v = va_arg(ap, unsigned long long);
			else if (lng)
				v = va_arg(ap, unsigned long);
			else if (zmod)
				v = va_arg(ap, size_t);
			else
				v = va_arg(ap, unsigned int);

			if (alt && *fmt != 'u') {
				out_char(&o, '0');
				out_char(&o, 'x');
				width -= 2;
			}
			out_number(&o, v, *fmt == 'u' ? 10 : 16, false, width, zero, left,
				   *fmt == 'X');
			break;
		}
		case 'p':
			out_char(&o, '0');
			out_char(&o, 'x');
			out_number(&o, (u64)(uintptr_t)va_arg(ap, void *), 16, false, 16, true,
				   false, false);
			break;
		case 'c':
			out_char(&o, (char)va_arg(ap, int));
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			int n;

			if (!s)
				s = "(null)";
			n = (int)strnlen(s, prec >= 0 ? (size_t)prec : (size_t)-1);
			for (int pad = width - n; !left && pad > 0; pad--)
				out_char(&o, ' ');
			for (int i = 0; i < n; i++)
				out_char(&o, s[i]);
			for (int pad = width - n; left && pad > 0; pad--)
				out_char(&o, ' ');
			break;
		}
		case '%':
			out_char(&o, '%');
			break;
		default:
			out_char(&o, '%');
			if (*fmt)
				out_char(&o, *fmt);
			else
				fmt--;
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
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
