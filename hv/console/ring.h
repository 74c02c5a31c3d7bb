/*
 * A partition's recent console output (SPEC 7, hvctl console): a ring of
 * a power-of-two size in which each byte has its offset since boot, so
 * that a reader that keeps its offset gets every byte once, and learns
 * how many were overwritten before it came back. Pure; the caller locks.
 */
#pragma once

#include "hv/lib/types.h"

#define RING_CONSOLE_SIZE (64 * 1024) /* a partition's console ring */

struct ring {
	u8 *buf;
	u32 size;  /* a power of two */
	u64 total; /* bytes ever put: the next byte's offset */
};

void ring_init(struct ring *r, u8 *buf, u32 size);
void ring_put(struct ring *r, u8 byte);
/* The offset of the oldest byte still kept. */
u64 ring_oldest(const struct ring *r);
/*
 * Copies at most max bytes from offset from on (or from the oldest kept,
 * when from is older) into out; *start is the first one's offset (so
 * *start - from were overwritten). Returns how many; 0 also when from is
 * the end. from beyond the end is the caller's error: nothing copied.
 */
u32 ring_read(const struct ring *r, u64 from, u8 *out, u32 max, u64 *start);
