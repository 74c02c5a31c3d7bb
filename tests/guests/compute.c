/*
 * compute: a fixed amount of CPU and memory work for the benchmarks, which
 * compare its TSC count bare and inside a partition. iters=N (default 4M)
 * steps of a xorshift walk over a buf=SIZE buffer (default 16M, rounded
 * down to a power of two; it lives at 4 MiB, above the image), each a
 * dependent load, some integer arithmetic and a store at a pseudo-random
 * word: the walk defeats the caches and the TLB, so second-level paging
 * costs show. The checksum depends only on iters and buf, so a bare run and
 * a partition run must print the same one.
 *
 * PASS details: iterations=N tsc=T buf=BYTES checksum=0x...
 */
#include "cmdline.h"
#include "console.h"
#include "guest.h"
#include "hv/hw/x86.h"
#include "multiboot.h"

#define BUF_BASE 0x00400000U /* guest.ld keeps the image below 4 MiB */
#define BUF_DEFAULT (16U * 1024 * 1024)
#define ITERS_DEFAULT (4U * 1024 * 1024)
#define WALK_SEED 0x2545f491U
#define MIX_MUL 0x9e3779b1U
#define INIT_MUL 0x85ebca6bU

const char guest_name[] = "compute";

static u32 round_down_pow2(u64 v)
{
	u32 p = 1;

	while ((u64)p * 2 <= v && p < BIT(31))
		p *= 2;
	return p;
}

static bool buffer_in_ram(u32 base, u32 size)
{
	for (u32 i = 0; i < mb.nr_regions; i++) {
		const struct mb_region *r = &mb.regions[i];

		if (r->type == E820_RAM && r->base <= base && r->base + r->len >= (u64)base + size)
			return true;
	}
	return false;
}

/* The measured loop; noinline so that its code is the same in every build. */
static __attribute__((noinline)) u32 walk(volatile u32 *buf, u32 mask, u32 iters)
{
	u32 x = WALK_SEED, sum = 0;

	for (u32 i = 0; i < iters; i++) {
		u32 v;

		/* xorshift32 (Marsaglia 2003) picks the next word */
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		v = buf[x & mask];
		v = v * MIX_MUL + i;
		v ^= v >> 15;
		buf[(x >> 7) & mask] = v;
		sum = (sum ^ v) * MIX_MUL + (sum >> 11);
	}
	return sum;
}

void guest_main(void)
{
	u32 size = round_down_pow2(cmdline_size("buf", BUF_DEFAULT));
	u32 iters = (u32)cmdline_u64("iters", ITERS_DEFAULT), words = size / 4, sum;
	volatile u32 *buf = (volatile u32 *)BUF_BASE;
	u64 t0, t1;

	if (size < 4096 || !buffer_in_ram(BUF_BASE, size))
		guest_fail("buf=%u: [0x%x, 0x%x) is not all RAM", size, BUF_BASE, BUF_BASE + size);
	for (u32 i = 0; i < words; i++)
		buf[i] = i * INIT_MUL;
	con_printf("compute: %u iterations over %u bytes at 0x%x\n", iters, size, BUF_BASE);
	t0 = rdtsc();
	sum = walk(buf, words - 1, iters);
	t1 = rdtsc();
	guest_pass("iterations=%u tsc=%llu buf=%u checksum=0x%08x", iters, t1 - t0, size, sum);
}
