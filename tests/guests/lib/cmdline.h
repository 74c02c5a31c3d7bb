/*
 * The guest's command line: space-separated words; a word KEY=VALUE sets
 * KEY (the last one wins), other words (the loader puts the kernel's path
 * first) are ignored.
 */
#pragma once

#include "types.h"

#define CMDLINE_VALUE_MAX 128

/* Copies KEY's value into buf (at most size - 1 characters); false if the
 * key is absent. */
bool cmdline_get(const char *key, char *buf, size_t size);
bool cmdline_has(const char *key);
/* Numbers (decimal or 0x hex; sizes take K, M, G). A value that does not
 * parse whole fails the guest with a message naming the key. */
u64 cmdline_u64(const char *key, u64 def);
u64 cmdline_size(const char *key, u64 def);
bool cmdline_flag(const char *key); /* KEY=1 (or yes/true) */
