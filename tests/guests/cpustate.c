/*
 * cpustate: the state a CPU holds after RESET that a Multiboot loader does
 * not set (SDM 3A 9.1.1, table 9-1): DR0-DR3 0, DR6 FFFF0FF0H, DR7 400H;
 * x87 control word 0040H, status 0, the eight registers +0.0 (tag word
 * 5555H), MXCSR 1F80H, XMM0-7 and the upper halves of YMM0-7 zero; the SYSCALL and
 * SWAPGS MSRs (STAR, LSTAR, CSTAR, SFMASK, KERNEL_GS_BASE) and TSC_AUX 0.
 * It checks all of it, then fills every one of them with a pattern; with
 * reboot=1 it resets the machine (port 0xCF9): inside a partition with
 * on_reboot = restart, the next run must find the reset state again.
 *
 * Keys: reboot=1
 * PASS details: dr=reset x87=reset sse=reset avx=reset|absent msrs=reset
 */
#include "cmdline.h"
#include "console.h"
#include "guest.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/msr.h"
#include "hv/hw/x86.h"
#include "lib.h"
#include "trap.h"

#define XCR0_X87_SSE_AVX 0x7
#define XSAVE_AVX BIT(2)
#define XSAVE_AREA_MAX 4096
#define AVX_UPPER_BYTES (8 * 16) /* YMM0-7 bits 255:128 in 32-bit code */
#define DR7_DIRTY 0x00ff0400	 /* R/W and LEN fields set, no breakpoint enabled */
#define DR6_DIRTY 0xffff0ff3	 /* B0 and B1 */
#define FCW_DIRTY 0x027f
#define MXCSR_DIRTY 0x1f00

const char guest_name[] = "cpustate";

static const u32 msrs[] = { MSR_IA32_STAR, MSR_IA32_LSTAR, MSR_IA32_CSTAR, MSR_IA32_FMASK,
			    MSR_IA32_KERNEL_GS_BASE };
static const u64 msr_dirty[] = { 0x0023001000000000ULL, 0xffffffff81000000ULL,
				 0xffffffff81000100ULL, 0x47700, 0xffff888000000000ULL };
#define TSC_AUX_DIRTY 5

static u8 area[XSAVE_AREA_MAX] __aligned(64);
static bool have_avx, have_lm, have_rdtscp;

static unsigned long dr(u32 n)
{
	switch (n) {
	case 0:
		return read_dr0();
	case 1:
		return read_dr1();
	case 2:
		return read_dr2();
	case 3:
		return read_dr3();
	case 6:
		return read_dr6();
	default:
		return read_dr7();
	}
}

static void check_debug(void)
{
	for (u32 n = 0; n < 4; n++)
		if (dr(n))
			guest_fail("DR%u is 0x%lx at start, not 0", n, dr(n));
	if (dr(6) != DR6_INIT)
		guest_fail("DR6 is 0x%lx at start, not 0x%llx", dr(6), DR6_INIT);
	if (dr(7) != DR7_INIT)
		guest_fail("DR7 is 0x%lx at start, not 0x%llx", dr(7), DR7_INIT);
}

static void enable_sse_avx(void)
{
	struct cpuid_regs r = cpuid(CPUID_FEATURES_LEAF);

	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	have_avx = (r.ecx & CPUID_1_ECX_XSAVE) && (r.ecx & CPUID_1_ECX_AVX);
	if (have_avx) {
		write_cr4(read_cr4() | CR4_OSXSAVE);
		xsetbv(0, XCR0_X87_SSE_AVX);
	}
}

static bool all_zero(const u8 *p, u32 len)
{
	for (u32 i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void check_fpu(void)
{
	struct xsave_image *img = (struct xsave_image *)area;
	struct cpuid_regs r;

	memset(area, 0, sizeof(area));
	__asm__ volatile("fxsave %0" : "=m"(*img) : : "memory");
	if (img->fcw != X87_FCW_RESET || img->fsw || img->ftw != X87_FTW_RESET_ABRIDGED ||
	    !all_zero(img->st[0], sizeof(img->st)))
		guest_fail("x87 at start: FCW 0x%x FSW 0x%x tags 0x%x, not 0x%x 0 0x%x, or a "
			   "register not +0.0",
			   img->fcw, img->fsw, img->ftw, X87_FCW_RESET, X87_FTW_RESET_ABRIDGED);
	if (img->mxcsr != MXCSR_INIT)
		guest_fail("MXCSR is 0x%x at start, not 0x%x", img->mxcsr, MXCSR_INIT);
	for (u32 i = 0; i < 8; i++)
		if (!all_zero(img->xmm[i], sizeof(img->xmm[i])))
			guest_fail("XMM%u is not 0 at start", i);
	if (!have_avx)
		return;
	/* XSAVE writes a component that is not in its initial state */
	cpuid_count(CPUID_XSAVE_LEAF, 2, &r);
	memset(area, 0, sizeof(area));
	__asm__ volatile("xsave %0" : "=m"(*img) : "a"(XSAVE_AVX), "d"(0) : "memory");
	if (r.ebx + AVX_UPPER_BYTES > sizeof(area) || !all_zero(area + r.ebx, AVX_UPPER_BYTES))
		guest_fail("the upper halves of YMM0-7 are not 0 at start");
}

static void check_msrs(void)
{
	u64 val;

	for (u32 i = 0; have_lm && i < ARRAY_SIZE(msrs); i++) {
		if (!msr_read_safe(msrs[i], &val))
			guest_fail("RDMSR 0x%x raised #GP", msrs[i]);
		if (val)
			guest_fail("MSR 0x%x is 0x%llx at start, not 0", msrs[i], val);
	}
	if (have_rdtscp && (!msr_read_safe(MSR_IA32_TSC_AUX, &val) || val))
		guest_fail("IA32_TSC_AUX is 0x%llx at start, not 0", val);
}

/* Everything checked, with a pattern the next run must not see. */
static void dirty(void)
{
	struct xsave_image *img = (struct xsave_image *)area;

	write_dr0(0x1000);
	write_dr1(0x2000);
	write_dr2(0x3000);
	write_dr3(0x4000);
	write_dr6(DR6_DIRTY);
	write_dr7(DR7_DIRTY);
	memset(area, 0x5a, sizeof(area));
	img->fcw = FCW_DIRTY;
	img->fsw = 0;
	img->ftw = 0x0f; /* four of eight registers in use */
	img->mxcsr = MXCSR_DIRTY;
	memset(area + offsetof(struct xsave_image, xstate_bv), 0, 64);
	if (have_avx) {
		img->xstate_bv = XCR0_X87_SSE_AVX;
		__asm__ volatile("xrstor %0"
				 :
				 : "m"(*img), "a"(XCR0_X87_SSE_AVX), "d"(0)
				 : "memory");
	} else {
		__asm__ volatile("fxrstor %0" : : "m"(*img) : "memory");
	}
	for (u32 i = 0; have_lm && i < ARRAY_SIZE(msrs); i++)
		if (!msr_write_safe(msrs[i], msr_dirty[i]))
			guest_fail("WRMSR 0x%x raised #GP", msrs[i]);
	if (have_rdtscp)
		msr_write_safe(MSR_IA32_TSC_AUX, TSC_AUX_DIRTY);
}

void guest_main(void)
{
	struct cpuid_regs ext = cpuid(CPUID_EXT_LEAF);

	if (ext.eax >= CPUID_EXT_FEATURES) {
		ext = cpuid(CPUID_EXT_FEATURES);
		have_lm = ext.edx & CPUID_EXT_EDX_LM;
		have_rdtscp = ext.edx & CPUID_EXT_EDX_RDTSCP;
	}
	check_debug();
	enable_sse_avx();
	check_fpu();
	check_msrs();
	dirty();
	if (!cmdline_flag("reboot"))
		guest_pass("dr=reset x87=reset sse=reset avx=%s msrs=reset",
			   have_avx ? "reset" : "absent");
	guest_pass_continue("dr=reset x87=reset sse=reset avx=%s msrs=reset",
			    have_avx ? "reset" : "absent");
	con_printf("cpustate: all of it dirtied, resetting\n");
	guest_reboot();
}
