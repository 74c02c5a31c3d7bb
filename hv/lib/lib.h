/*
 * The small C library the hypervisor carries; the 32-bit test guests
 * (tests/guests) link it too. Host builds (unit tests, the host tools) use
 * the system's libc for the same names instead.
 */
#pragma once

#include <stdarg.h>
#include "hv/lib/types.h"

#ifdef HV_HOST
#include <stdio.h>
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#endif

/* FNV-1a, 64-bit (Fowler, Noll, Vo), of len bytes on top of h (start
 * with FNV1A64_INIT): addresses in the switches' tables, MAC addresses. */
#define FNV1A64_INIT 0xcbf29ce484222325ULL
#define FNV1A64_PRIME 0x100000001b3ULL

static inline u64 fnv1a64(u64 h, const void *data, size_t len)
{
	const u8 *p = data;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * FNV1A64_PRIME;
	return h;
}

/* n / d, and the remainder in *rem when rem is not NULL. 32-bit code has
 * no 64-bit divide (and the guests no libgcc): two 32-bit DIVs there, the
 * second of rem:lo, whose quotient fits as rem < d (SDM 2A DIV). */
static inline u64 div_u64_rem(u64 n, u32 d, u32 *rem)
{
#ifdef __x86_64__
	if (rem)
		*rem = (u32)(n % d);
	return n / d;
#else
	u32 hi = (u32)(n >> 32), lo = (u32)n;
	u32 qhi = hi / d, r = hi % d, qlo;

	__asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
	if (rem)
		*rem = r;
	return ((u64)qhi << 32) | qlo;
#endif
}

#ifdef __x86_64__
/* a * b / c without overflow in the product (saturates at ~0 when the
 * quotient does not fit); for time conversions between clock rates. */
static inline u64 muldiv64(u64 a, u64 b, u64 c)
{
#ifdef HV_HOST
	unsigned __int128 p = (unsigned __int128)a * b / c;

	return p >> 64 ? ~0ULL : (u64)p;
#else
	u64 lo, hi, q;

	__asm__("mulq %3" : "=a"(lo), "=d"(hi) : "a"(a), "rm"(b) : "cc");
	if (hi >= c)
		return ~0ULL;
	__asm__("divq %4" : "=a"(q), "=d"(hi) : "a"(lo), "d"(hi), "rm"(c) : "cc");
	return q;
#endif
}
#endif
