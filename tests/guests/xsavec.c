/*
 * xsavec: the compacted form of the XSAVE area round-trips the state it
 * saved (SDM 1 13.8 XRSTOR, 13.10 XSAVEC). With CPUID.(EAX=0DH,ECX=1):EAX[1]
 * offered, the guest sets XCR0 to x87|SSE|AVX, loads a pattern into
 * YMM0-7 (its upper halves are the AVX component, 2), saves them with
 * XSAVEC, clears them with VZEROALL, restores them with XRSTOR from the same
 * area and reads them back. In the compacted format the first extended
 * component starts at byte 576, after the legacy area and the header (SDM 1
 * 13.4.3). Without XSAVEC it has nothing to check.
 *
 * Bochs 2.7 fails it bare: its XSAVEC lays the components out from byte 160
 * (its SSE area), so the upper halves land at 416, over the header, while
 * its XRSTOR reads them from 576 (Bochs fixed both in 2.8). Linux uses
 * XSAVEC and XRSTOR for its tasks' state when CPUID offers XSAVEC without
 * XSAVES: its user processes' vector registers then come back wrong after a
 * context switch.
 *
 * PASS details: xsavec=yes ymm=intact | xsavec=no | avx=no
 */
#include "console.h"
#include "guest.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "lib.h"
#include "trap.h"

#define XCR0_X87_SSE_AVX 0x7
#define XSAVE_SUB1_XSAVEC BIT(1)
#define YMM_COUNT 8 /* YMM0-7 in 32-bit code */
#define YMM_BYTES 32
#define YMM_HALF 16
#define XSAVE_AREA_SIZE 4096
#define COMPACTED_FIRST 576 /* SDM 1 13.4.3: legacy 512 + header 64 */
#define XSTATE_BV_OFF 512
#define XCOMP_BV_OFF 520
#define XRSTOR_LEN 3 /* 0f ae 29: xrstor (%ecx) */

const char guest_name[] = "xsavec";

static u8 area[XSAVE_AREA_SIZE] __aligned(64);
static u8 pattern[YMM_COUNT][YMM_BYTES] __aligned(32);
static u8 back[YMM_COUNT][YMM_BYTES] __aligned(32);

static void load_ymm(void)
{
	__asm__ volatile("vmovdqu 0(%0), %%ymm0\n\tvmovdqu 32(%0), %%ymm1\n\t"
			 "vmovdqu 64(%0), %%ymm2\n\tvmovdqu 96(%0), %%ymm3\n\t"
			 "vmovdqu 128(%0), %%ymm4\n\tvmovdqu 160(%0), %%ymm5\n\t"
			 "vmovdqu 192(%0), %%ymm6\n\tvmovdqu 224(%0), %%ymm7"
			 :
			 : "r"(pattern)
			 : "memory");
}

static void store_ymm(void)
{
	__asm__ volatile("vmovdqu %%ymm0, 0(%0)\n\tvmovdqu %%ymm1, 32(%0)\n\t"
			 "vmovdqu %%ymm2, 64(%0)\n\tvmovdqu %%ymm3, 96(%0)\n\t"
			 "vmovdqu %%ymm4, 128(%0)\n\tvmovdqu %%ymm5, 160(%0)\n\t"
			 "vmovdqu %%ymm6, 192(%0)\n\tvmovdqu %%ymm7, 224(%0)"
			 :
			 : "r"(back)
			 : "memory");
}

static volatile bool xrstor_gp;

/* XRSTOR raises #GP for a header with reserved bytes set (SDM 1 13.8.1):
 * noted, and the instruction skipped. */
static bool gp_hook(struct trap_frame *f)
{
	xrstor_gp = true;
	f->eip += XRSTOR_LEN;
	return true;
}

/* Where in the area the saved upper half of YMM0 is, or -1. */
static int find_upper(void)
{
	for (u32 off = 0; off + YMM_HALF <= sizeof(area); off += YMM_HALF)
		if (!memcmp(area + off, &pattern[0][YMM_HALF], YMM_HALF))
			return (int)off;
	return -1;
}

void guest_main(void)
{
	struct cpuid_regs r = cpuid(CPUID_FEATURES_LEAF);

	if (!(r.ecx & CPUID_1_ECX_XSAVE) || !(r.ecx & CPUID_1_ECX_AVX))
		guest_pass("avx=no");
	cpuid_count(CPUID_XSAVE_LEAF, 1, &r);
	if (!(r.eax & XSAVE_SUB1_XSAVEC))
		guest_pass("xsavec=no");
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_OSXSAVE);
	xsetbv(0, XCR0_X87_SSE_AVX);
	for (u32 i = 0; i < YMM_COUNT; i++)
		for (u32 b = 0; b < YMM_BYTES; b++)
			pattern[i][b] = (u8)(0x11 * (i + 1) + b);
	memset(area, 0, sizeof(area));
	load_ymm();
	__asm__ volatile("xsavec (%0)" : : "r"(area), "a"(XCR0_X87_SSE_AVX), "d"(0) : "memory");
	__asm__ volatile("vzeroall");
	trap_set_hook(X86_EXC_GP, gp_hook);
	__asm__ volatile("xrstor (%0)" : : "c"(area), "a"(XCR0_X87_SSE_AVX), "d"(0) : "memory");
	trap_set_hook(X86_EXC_GP, NULL);
	store_ymm();
	for (u32 i = 0; i < YMM_COUNT; i++)
		if (xrstor_gp || memcmp(back[i], pattern[i], YMM_BYTES))
			guest_fail(
				"YMM%u not restored: XRSTOR of the XSAVEC area %s (XSTATE_BV "
				"0x%x, XCOMP_BV 0x%08x_%08x; YMM0's upper half saved at byte %d, "
				"the compacted format's first component is at %u)",
				i, xrstor_gp ? "raised #GP" : "completed", area[XSTATE_BV_OFF],
				*(u32 *)(area + XCOMP_BV_OFF + 4), *(u32 *)(area + XCOMP_BV_OFF),
				find_upper(), COMPACTED_FIRST);
	guest_pass("xsavec=yes ymm=intact");
}
