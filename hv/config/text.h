/*
 * The text layer of hv.conf (the lexical rules are in hv/config/config.h):
 * spans into the caller's buffer, numbers, the UTF-8 check and comments;
 * and text built into a caller's buffer, snprintf-like.
 *
 * The text is never copied: lines and values are spans, so line length
 * costs no stack.
 */
#pragma once

#include "hv/lib/types.h"

struct span {
	const char *s;
	size_t n;
};

static inline bool text_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static inline bool text_is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* v without the spaces and tabs at both ends. */
struct span span_trim(struct span v);

bool span_eq(struct span v, const char *lit);

/* Index of the first ch in v, or v.n. */
size_t span_find(struct span v, char ch);

struct span span_sub(struct span v, size_t from, size_t to);

/* How much of v to echo in a message: at most QUOTE_MAX (48) bytes, whole
 * UTF-8 characters only. */
int span_qlen(struct span v);

/*
 * Splits off the next comma-separated item of *rest into *item (trimmed).
 * Returns false when *rest is used up.
 */
bool span_next_item(struct span *rest, struct span *item, bool *more);

/* A name of 1..max characters of a-z 0-9 - _ (partitions, switches,
 * shared-memory regions). */
bool span_is_name(struct span v, size_t max);

/* A decimal number, saturated at NUMBER_MAX (10^9); false unless all digits. */
bool span_parse_uint(struct span v, u32 *out);

/* 1..max_digits hex digits from *pos; advances *pos. */
bool span_parse_hex(struct span v, size_t *pos, size_t max_digits, u32 *out);

/*
 * RFC 3629 well-formed UTF-8 (no overlongs, no surrogates, at most
 * U+10FFFF) without control characters other than tab. Returns the 1-based
 * column where the first bad character starts (*control says whether it is
 * a control character), or 0.
 */
size_t text_check(struct span v, bool *control);

/* Cuts a comment: a '#' at the start or after a blank. */
struct span text_strip_comment(struct span v);

/* Output into a caller's buffer, snprintf-like (length even if truncated) */
struct text_out {
	char *buf;
	size_t size;
	size_t len;
};

void text_printf(struct text_out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Terminates an empty output; returns the length, as snprintf would. */
int text_done(struct text_out *o);
