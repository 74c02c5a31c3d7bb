/*
 * What the host unit tests share: a reproducible random generator and a fake
 * guest RAM. Each test binary is one translation unit, so the state here is
 * its own.
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/lib/types.h"

/* ---- random numbers: xorshift64*, a fixed seed, the same every run ---- */

#define RND_SEED 0x9e3779b97f4a7c15ULL

static u64 rnd_state = RND_SEED;

/* Restarts the sequence (a zero state would stay zero: use the default). */
static inline void rnd_seed(u64 seed)
{
	rnd_state = seed ? seed : RND_SEED;
}

static inline u64 rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 0x2545f4914f6cdd1dULL;
}

/* Uniform enough in [0, n); 0 when n is 0. */
static inline u64 rnd_below(u64 n)
{
	return n ? rnd() % n : 0;
}

/* ---- a fake guest RAM: a few regions of heap memory at guest addresses ---- */

#define FAKE_RAM_REGIONS 4

struct fake_ram {
	u32 count;
	struct {
		u64 gpa, size;
		u8 *buf;
	} region[FAKE_RAM_REGIONS];
};

/*
 * A pointer to [gpa, gpa + len) when all of it is in one region, else NULL.
 * Takes the struct fake_ram as ctx, so it fits the loaders' struct guest_mem
 * callback as it is.
 */
static inline void *fake_ram_ptr(void *ctx, u64 gpa, u64 len)
{
	struct fake_ram *r = ctx;

	for (u32 i = 0; i < r->count; i++) {
		u64 base = r->region[i].gpa, size = r->region[i].size;

		if (gpa >= base && gpa - base <= size && len <= size - (gpa - base))
			return r->region[i].buf + (gpa - base);
	}
	return NULL;
}

/* Adds size bytes of RAM at gpa, every byte set to fill; returns them. */
static inline u8 *fake_ram_add(struct fake_ram *r, u64 gpa, u64 size, u8 fill)
{
	u8 *buf;

	assert_true(r->count < FAKE_RAM_REGIONS);
	buf = malloc(size ? size : 1);
	assert_non_null(buf);
	memset(buf, fill, size);
	r->region[r->count].gpa = gpa;
	r->region[r->count].size = size;
	r->region[r->count].buf = buf;
	r->count++;
	return buf;
}

static inline void fake_ram_free(struct fake_ram *r)
{
	for (u32 i = 0; i < r->count; i++)
		free(r->region[i].buf);
	memset(r, 0, sizeof(*r));
}
