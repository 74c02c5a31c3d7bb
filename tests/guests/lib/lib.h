/* The test guests' small C library: strings, formatting, 64-bit division. */
#pragma once

#include "types.h"

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* Division of a 64-bit value by a 32-bit one without libgcc. */
u64 div_u64(u64 n, u32 d, u32 *rem);

/* A printf subset: %c %s %d %i %u %x %X %p %%, flags '-' '0', a width,
 * and the length modifiers l, ll, z. */
typedef void (*fmt_out_fn)(char c, void *ctx);
void fmt_vformat(fmt_out_fn out, void *ctx, const char *fmt, va_list ap);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/* Parses a number: decimal, or hex with 0x, and with parse_size() an
 * optional K, M or G suffix. Returns the characters used, 0 if none. */
size_t parse_u64(const char *s, u64 *out);
size_t parse_size(const char *s, u64 *out);
size_t parse_hex(const char *s, u64 *out);
