/*
 * xsetbv: XCR0 as the manuals define it (SDM 1 13.3, SDM 2B XSETBV), tried
 * from ring 0 of a guest. The hostile half: every value below that the
 * processor refuses must raise #GP in the guest and leave XCR0 as it was,
 * and the guest must keep running; a hypervisor that executes the guest's
 * XSETBV itself unchecked takes the #GP instead (AVX-512 bits 7:5 not all
 * set, 0x27, stopped it under Bochs corei7_skylake_x).
 *
 * With CR4.OSXSAVE set, from CPUID 0Dh subleaf 0 EDX:EAX (the supported
 * components):
 *   - accepted, and read back by XGETBV: x87; x87|SSE; with AVX; with
 *     AVX-512 (all three); with PKRU; when supported;
 *   - #GP, XCR0 unchanged: no x87; AVX without SSE; each AVX-512 component
 *     alone or in pairs, and all three without AVX; each MPX component
 *     alone; each AMX component alone, and both without being supported; the supervisor component 8 (PT); with x87 and SSE, each
 *     bit of 63:2 the CPU does not support (AMX's apart); XCR1 and ECX =
 *     0xffffffff.
 * The refused values are invalid whatever the CPU supports, or not
 * supported by this one: the list holds bare and in a partition, on any
 * CPU with XSAVE (in a partition, CPUID hides MPX: its bits are refused).
 *
 * PASS details: supported=0xX accepted=N refused=M
 */
#include "console.h"
#include "guest.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "lib.h"
#include "trap.h"

#define XSAVE_LEAF 0xd
#define XCR0_PT BIT(8) /* a supervisor component: IA32_XSS only */
#define XCR_XCR0 0
#define XCR_INVALID 0xffffffffU

const char guest_name[] = "xsetbv";

static u64 supported;
static u32 accepted, refused;

static u64 xgetbv0(void)
{
	u32 lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(XCR_XCR0));
	return ((u64)hi << 32) | lo;
}

static void must_accept(u64 val)
{
	if ((val & supported) != val)
		return; /* not this CPU's */
	if (!xsetbv_safe_probe(XCR_XCR0, val))
		guest_fail("XSETBV 0x%llx raised #GP (supported 0x%llx)", val, supported);
	if (xgetbv0() != val)
		guest_fail("XSETBV 0x%llx: XGETBV reads 0x%llx", val, xgetbv0());
	con_printf("xsetbv: 0x%llx accepted\n", val);
	accepted++;
}

static void must_refuse(u32 xcr, u64 val)
{
	u64 before = xgetbv0();

	if (xsetbv_safe_probe(xcr, val))
		guest_fail("XSETBV ecx=0x%x 0x%llx did not raise #GP (supported 0x%llx)", xcr, val,
			   supported);
	if (xgetbv0() != before)
		guest_fail("XSETBV 0x%llx raised #GP but XCR0 changed: 0x%llx -> 0x%llx", val,
			   before, xgetbv0());
	refused++;
}

void guest_main(void)
{
	static const u64 bad[] = {
		0x0,	       0x2,	0x4,	 0x5,  /* no x87; AVX without SSE */
		0x27,	       0x47,	0x87,	 0x67, /* AVX-512 components alone, in pairs */
		0xa7,	       0xc7,	0xe3,	 0xe1, /* and all three without AVX */
		0xb,	       0x13,		       /* MPX components alone */
		0x20003,       0x40003, 0x60003,       /* AMX, alone or unsupported */
		XCR0_PT | 0x3,			       /* a supervisor component */
	};
	u64 full;

	if (!(cpuid(CPUID_FEATURES_LEAF).ecx & CPUID_1_ECX_XSAVE))
		guest_fail("CPUID.1:ECX.XSAVE is clear: nothing to test");
	write_cr4(read_cr4() | CR4_OSXSAVE | CR4_OSFXSR | CR4_OSXMMEXCPT);
	{
		struct cpuid_regs r;

		cpuid_count(XSAVE_LEAF, 0, &r);
		supported = ((u64)r.edx << 32) | r.eax;
	}
	con_printf("xsetbv: supported 0x%llx, XCR0 0x%llx\n", supported, xgetbv0());

	must_accept(XCR0_X87);
	must_accept(XCR0_X87 | XCR0_SSE);
	must_accept(XCR0_X87 | XCR0_SSE | XCR0_AVX);
	must_accept(XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512);
	must_accept(XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_PKRU);
	full = supported & (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512 | XCR0_PKRU);
	must_accept(full);

	for (u32 i = 0; i < ARRAY_SIZE(bad); i++)
		if ((bad[i] & XCR0_AMX) != XCR0_AMX || (supported & XCR0_AMX) != XCR0_AMX)
			must_refuse(XCR_XCR0, bad[i]);
	for (u32 bit = 2; bit < 64; bit++)
		if (!(supported & BIT(bit)) && bit != 17 && bit != 18)
			must_refuse(XCR_XCR0, XCR0_X87 | XCR0_SSE | BIT(bit));
	must_refuse(1, XCR0_X87);
	must_refuse(XCR_INVALID, XCR0_X87);
	if (xgetbv0() != full)
		guest_fail("XCR0 reads 0x%llx at the end, want 0x%llx", xgetbv0(), full);
	must_accept(XCR0_X87 | XCR0_SSE);
	guest_pass("supported=0x%llx accepted=%u refused=%u", supported, accepted, refused);
}
