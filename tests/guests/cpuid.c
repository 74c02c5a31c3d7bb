/*
 * cpuid: what CPUID tells the guest.
 *
 *   cpus=N       the CPU count (CPUID.1:EBX[23:16] with HTT, else 1) must be
 *                N, and so must AMD's 0x80000008 ECX[7:0] + 1 and Intel's
 *                leaf 0xB core level, when the CPU has them
 *   expect_hv=1  the hypervisor bit (CPUID.1:ECX[31]) is set, leaf
 *                0x40000000 says "TesseraHV\0\0\0", and VMX, SVM and
 *                MONITOR/MWAIT are hidden (SPEC.md 6; PLATFORMS.md: no
 *                MONITOR/MWAIT for guests)
 *
 * PASS details: vendor=... cpus=N hv=SIGNATURE|none
 */
#include "hv/hw/cpuid.h"
#include "cmdline.h"
#include "console.h"
#include "guest.h"
#include "hv/hw/x86.h"
#include "hv/svm/vmcb.h"
#include "hv/vmx/vmcs.h"
#include "lib.h"
#include "smp.h"

#define HV_SIGNATURE "TesseraHV\0\0\0"
#define SIGNATURE_LEN 12
#define TOPO_MAX_LEVELS 8

const char guest_name[] = "cpuid";

static void regs_to_chars(char *out, u32 a, u32 b, u32 c)
{
	memcpy(out, &a, 4);
	memcpy(out + 4, &b, 4);
	memcpy(out + 8, &c, 4);
	out[SIGNATURE_LEN] = '\0';
}

/* Intel leaf 0xB: logical processors at the core level (SDM 2A CPUID). */
static u32 leaf_b_count(void)
{
	for (u32 sub = 0; sub < TOPO_MAX_LEVELS; sub++) {
		struct cpuid_regs r;
		u32 type;

		cpuid_count(CPUID_TOPO_LEAF, sub, &r);
		type = (r.ecx >> CPUID_TOPO_ECX_TYPE_SHIFT) & CPUID_TOPO_ECX_TYPE_MASK;

		if (!type)
			break;
		if (type == CPUID_TOPO_TYPE_CORE)
			return r.ebx & CPUID_TOPO_EBX_COUNT_MASK;
	}
	return 0;
}

void guest_main(void)
{
	struct cpuid_regs r0 = cpuid(CPUID_VENDOR_LEAF), r1 = cpuid(CPUID_FEATURES_LEAF);
	u32 ext_max = cpuid(CPUID_EXT_LEAF).eax;
	u32 ext_ecx = ext_max >= CPUID_EXT_FEATURES ? cpuid(CPUID_EXT_FEATURES).ecx : 0;
	bool expect_hv = cmdline_flag("expect_hv");
	u32 want = (u32)cmdline_u64("cpus", 0), cpus = smp_cpu_count();
	bool is_amd, is_intel;
	char vendor[SIGNATURE_LEN + 1], hv[SIGNATURE_LEN + 1] = "none";
	struct cpuid_regs rh = { 0 };

	regs_to_chars(vendor, r0.ebx, r0.edx, r0.ecx);
	is_amd = !strncmp(vendor, "AuthenticAMD", SIGNATURE_LEN);
	is_intel = !strncmp(vendor, "GenuineIntel", SIGNATURE_LEN);
	if (r1.ecx & CPUID_1_ECX_HYPERVISOR) {
		rh = cpuid(CPUID_HV_BASE_LEAF);
		regs_to_chars(hv, rh.ebx, rh.ecx, rh.edx);
	}
	con_printf("cpuid: vendor=%s max=0x%x ext_max=0x%x 1:ebx=0x%08x ecx=0x%08x "
		   "edx=0x%08x 80000001:ecx=0x%08x hv_max=0x%x\n",
		   vendor, r0.eax, ext_max, r1.ebx, r1.ecx, r1.edx, ext_ecx, rh.eax);

	if (expect_hv) {
		if (!(r1.ecx & CPUID_1_ECX_HYPERVISOR))
			guest_fail("hypervisor bit (CPUID.1:ECX[31]) clear");
		if (memcmp(hv, HV_SIGNATURE, SIGNATURE_LEN))
			guest_fail("leaf 0x40000000 signature \"%s\", want \"TesseraHV\"", hv);
		if (r1.ecx & CPUID_1_ECX_VMX)
			guest_fail("VMX visible (CPUID.1:ECX[5])");
		if (ext_ecx & CPUID_EXT_ECX_SVM)
			guest_fail("SVM visible (CPUID.80000001:ECX[2])");
		if (r1.ecx & CPUID_1_ECX_MONITOR)
			guest_fail("MONITOR/MWAIT visible (CPUID.1:ECX[3])");
	}

	if (want && cpus != want)
		guest_fail("CPUID.1 says %u CPUs (EBX=0x%08x HTT=%u), cmdline cpus=%u", cpus,
			   r1.ebx, !!(r1.edx & CPUID_1_EDX_HTT), want);
	if (want && is_amd && ext_max >= CPUID_ADDR_SIZES) {
		u32 nc = (cpuid(CPUID_ADDR_SIZES).ecx & CPUID_ADDR_SIZES_ECX_NC_MASK) + 1;

		if (nc != want)
			guest_fail("CPUID.80000008:ECX says %u CPUs, cmdline cpus=%u", nc, want);
	}
	if (want && is_intel && r0.eax >= CPUID_TOPO_LEAF) {
		u32 nb = leaf_b_count();

		if (nb && nb != want)
			guest_fail("CPUID.B core level says %u CPUs, cmdline cpus=%u", nb, want);
	}
	guest_pass("vendor=%s cpus=%u hv=%s%s", vendor, cpus, hv,
		   expect_hv ? " (hypervisor checks done)" : "");
}
