/*
 * The test guests' small C library: the hypervisor's strings and
 * formatting (hv/lib/lib.c, built into the guest library), and number
 * parsing for the command line.
 */
#pragma once

#include "hv/lib/lib.h"
#include "types.h"

/* Parses a number: decimal, or hex with 0x, and with parse_size() an
 * optional K, M or G suffix. Returns the characters used, 0 if none. */
size_t parse_u64(const char *s, u64 *out);
size_t parse_size(const char *s, u64 *out);
size_t parse_hex(const char *s, u64 *out);
