/*
 * The CPUID a partition sees (hv/policy/cpuid.c, SPEC 6), on a fake host
 * CPU (tests/unit/fake_vcpu.h): the hypervisor bit and signature, the leaves
 * and feature bits it hides, the topology and APIC IDs of each vCPU, the
 * leaf limits, the frequency and XSAVE leaves, and the precomputed answers
 * of the exit's fast path. Expected values are written out here from the
 * manuals' bit numbers, not taken from the policy's tables.
 */
#include "hv/policy/cpuid.h"
#include "tests/unit/fake_vcpu.h"

#define ALL 0xffffffffU
#define EXT 0x80000000U

/* A partition of n vCPUs with its answers precomputed, as part_build_all
 * leaves it; after any change to the host CPU. Returns vCPU 0. */
static struct vcpu *part(u32 n)
{
	struct vcpu *v = fake_part_init(n);

	cpuid_init_partition(&fake_part);
	return v;
}

/* The guest's answer for leaf/sub on vCPU v, as the CPUID exit computes it. */
static struct cpuid_regs guest(struct vcpu *v, u32 leaf, u32 sub)
{
	struct cpuid_regs r;

	fake_exit(v, VMEXIT_CPUID, 2);
	memset(&r, 0x5a, sizeof(r));
	cpuid_guest(v, leaf, sub, &r);
	return r;
}

static void expect_regs(struct cpuid_regs r, u32 eax, u32 ebx, u32 ecx, u32 edx)
{
	assert_int_equal(r.eax, eax);
	assert_int_equal(r.ebx, ebx);
	assert_int_equal(r.ecx, ecx);
	assert_int_equal(r.edx, edx);
}

/*
 * A host with every feature bit set where the policy masks, so that what
 * survives is exactly what the policy keeps; the rest looks like a recent
 * Intel server (basic leaves to 0x1f, extended to 0x80000021).
 */
static void host_all_features(void)
{
	memset(&fake_cpu, 0, sizeof(fake_cpu));
	fake_cpuid_set(0x0, FAKE_ANY_SUB, 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69);
	fake_cpuid_set(0x1, FAKE_ANY_SUB, 0x000806f8, 0xaabb1234, ALL, ALL);
	fake_cpuid_set(0x2, FAKE_ANY_SUB, 0x00feff01, 0x000000f0, 0, 0);
	/* caches: L1d (level 1), L2 (level 2), L3 (level 3), then none */
	fake_cpuid_set(0x4, 0, 0xfc004121, 0x02c0003f, 0x3f, 0);
	fake_cpuid_set(0x4, 1, 0xfc004143, 0x03c0003f, 0x7ff, 0);
	fake_cpuid_set(0x4, 2, 0xfc1fc163, 0x0380003f, 0xdfff, 4);
	fake_cpuid_set(0x4, 3, 0, 0, 0, 0);
	fake_cpuid_set(0x5, FAKE_ANY_SUB, 0x40, 0x40, 3, 0x2020);
	fake_cpuid_set(0x6, FAKE_ANY_SUB, 0xdf7ff, 2, 9, 0);
	fake_cpuid_set(0x7, 0, 2, ALL, ALL, ALL);
	fake_cpuid_set(0x7, 1, ALL, ALL, ALL, ALL);
	fake_cpuid_set(0xa, FAKE_ANY_SUB, 0x07300805, 0, 0, 0x603);
	fake_cpuid_set(0xb, FAKE_ANY_SUB, 0x1, 0x2, 0x100, 0x11);
	/* XSAVE: x87, SSE, AVX supported; AVX state 256 bytes at 576 */
	fake_cpuid_set(0xd, 0, 0x7, 0x340, 0x340, 0);
	fake_cpuid_set(0xd, 1, 0xf, 0x3c0, 0x100, 0);
	fake_cpuid_set(0xd, 2, 0x100, 0x240, 0, 0);
	fake_cpuid_set(0x15, FAKE_ANY_SUB, 2, 0xa8, 0x16e3600, 0);
	fake_cpuid_set(0x16, FAKE_ANY_SUB, 0x834, 0xfa0, 0x64, 0);
	fake_cpuid_set(0x1f, FAKE_ANY_SUB, 0x1, 0x2, 0x100, 0x11);
	fake_cpuid_set(0x20, FAKE_ANY_SUB, 1, 2, 3, 4);
	/* what a host hypervisor would say: must not show through */
	fake_cpuid_set(0x40000000, FAKE_ANY_SUB, 0x40000001, 0x4b4d564b, 0x564b4d56, 0x4d);
	fake_cpuid_set(0x40000001, FAKE_ANY_SUB, ALL, ALL, ALL, ALL);
	fake_cpuid_set(EXT, FAKE_ANY_SUB, 0x80000021, 0x68747541, 0x444d4163, 0x69746e65);
	fake_cpuid_set(0x80000001, FAKE_ANY_SUB, 0x00a00f11, 0x40000000, ALL, ALL);
	fake_cpuid_set(0x80000002, FAKE_ANY_SUB, 0x20444d41, 0x43595045, 0x38372030, 0x20323336);
	fake_cpuid_set(0x80000005, FAKE_ANY_SUB, 0xff40ff40, 0xff40ff40, 0x20080140, 0x20080140);
	fake_cpuid_set(0x80000006, FAKE_ANY_SUB, 0x48002200, 0x68004200, 0x02006140, 0x01009140);
	fake_cpuid_set(0x80000007, FAKE_ANY_SUB, ALL, ALL, ALL, ALL);
	fake_cpuid_set(0x80000008, FAKE_ANY_SUB, 0x00003030, ALL, 0x0000703f, ALL);
	fake_cpuid_set(0x8000000a, FAKE_ANY_SUB, 1, 0x8000, 0, 0x1ebfbcff);
	fake_cpuid_set(0x80000021, FAKE_ANY_SUB, ALL, 0, 0, 0);
}

/* The same host with no feature bits at all. */
static void host_no_features(void)
{
	host_all_features();
	fake_cpuid_set(0x1, FAKE_ANY_SUB, 0x000806f8, 0xaabb1234, 0, 0);
	fake_cpuid_set(0x7, 0, 2, 0, 0, 0);
	fake_cpuid_set(0x80000001, FAKE_ANY_SUB, 0x00a00f11, 0x40000000, 0, 0);
	fake_cpuid_set(0x80000007, FAKE_ANY_SUB, 0, 0, 0, 0);
	fake_cpuid_set(0x80000008, FAKE_ANY_SUB, 0x00003030, 0, 0x0000703f, 0);
}

static int setup(void **state)
{
	(void)state;
	fake_tsc_hz = FAKE_TSC_HZ;
	host_all_features();
	part(4);
	return 0;
}

/* SPEC 6: leaf 1 ECX bit 31, and "TesseraHV" + three NULs at 0x40000000. */
static void test_hypervisor_leaves(void **state)
{
	struct vcpu *v = &fake_vcpus[1];
	struct cpuid_regs r;
	char sig[12];

	(void)state;
	r = guest(v, 0x40000000, 0);
	assert_int_equal(r.eax, 0x40000001);
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	assert_memory_equal(sig, "TesseraHV\0\0\0", 12);
	/* the rest of the range is Tessera's too, and empty */
	expect_regs(guest(v, 0x40000001, 0), 0, 0, 0, 0);
	expect_regs(guest(v, 0x40000100, 0), 0, 0, 0, 0);
	expect_regs(guest(v, 0x4fffffff, 7), 0, 0, 0, 0);
	expect_regs(guest(v, 0x7fffffff, 0), 0, 0, 0, 0);
	assert_true(guest(v, 0x1, 0).ecx & BIT(31));
	host_no_features();
	part(4);
	assert_true(guest(v, 0x1, 0).ecx & BIT(31));
}

/*
 * Leaf 1 (SDM 2A table 3-10/3-11): ECX loses DTES64(2) MONITOR(3) DS-CPL(4)
 * VMX(5) SMX(6) EST(7) TM2(8) SDBG(11) xTPR(14) PDCM(15) DCA(18)
 * TSC-deadline(24) OSXSAVE(27, set only from the guest's CR4) and gains
 * x2APIC(21) and the hypervisor bit(31); EDX loses MCE(7) MTRR(12) MCA(14)
 * DS(21) ACPI(22) TM(29) PBE(31) and gains HTT(28).
 */
static void test_leaf1_features(void **state)
{
	struct vcpu *v = &fake_vcpus[0];
	struct cpuid_regs r;

	(void)state;
	r = guest(v, 0x1, 0);
	assert_int_equal(r.eax, 0x000806f8);
	assert_int_equal(r.ecx, 0xf6fb3603);
	assert_int_equal(r.edx, 0x5f9faf7f);
	assert_false(r.ecx & BIT(5));  /* VMX */
	assert_false(r.ecx & BIT(3));  /* MONITOR/MWAIT */
	assert_true(r.ecx & BIT(21));  /* x2APIC: the virtual local APIC has it */
	assert_false(r.ecx & BIT(24)); /* TSC-deadline: offered to none */
	host_no_features();
	part(4);
	r = guest(v, 0x1, 0);
	assert_int_equal(r.ecx, BIT(31) | BIT(21));
	assert_int_equal(r.edx, BIT(28));
}

/* OSXSAVE mirrors the guest's own CR4.OSXSAVE (SDM 2A CPUID 1.ECX bit 27). */
static void test_leaf1_osxsave(void **state)
{
	struct vcpu *v = &fake_vcpus[2];
	struct cpuid_regs r;

	(void)state;
	fake_be(v)->hw.cr4 = CR4_PAE | CR4_OSXSAVE;
	r = guest(v, 0x1, 0);
	assert_int_equal(r.ecx, 0xf6fb3603 | BIT(27));
	assert_true(fake_be(v)->loaded & VS_CR);
	fake_be(v)->hw.cr4 = CR4_PAE;
	r = guest(v, 0x1, 0);
	assert_int_equal(r.ecx, 0xf6fb3603);
	/* vCPU 0's CR4 when the answers were precomputed counts for nobody */
	fake_be(&fake_vcpus[0])->hw.cr4 = CR4_OSXSAVE;
	cpuid_init_partition(&fake_part);
	assert_false(guest(v, 0x1, 0).ecx & BIT(27));
	/* the other vCPUs' CR4 are their own */
	fake_be(&fake_vcpus[3])->hw.cr4 = CR4_OSXSAVE;
	assert_false(guest(v, 0x1, 0).ecx & BIT(27));
	assert_true(guest(&fake_vcpus[3], 0x1, 0).ecx & BIT(27));
}

/* Leaf 1 EDX.APIC (bit 9) says the local APIC is there and enabled: clear
 * while IA32_APIC_BASE.EN is 0 (SDM 3A 11.4.3; APM 3 CPUID Fn0000_0001). */
static void test_leaf1_apic_enabled(void **state)
{
	struct vcpu *v = &fake_vcpus[1];

	(void)state;
	assert_true(guest(v, 0x1, 0).edx & BIT(9));
	fake_lapic.mode = VLAPIC_OFF;
	assert_int_equal(guest(v, 0x1, 0).edx, 0x5f9faf7f & ~BIT(9));
	assert_ptr_equal(fake_lapic.v, v);
	fake_lapic.mode = VLAPIC_X2APIC;
	assert_int_equal(guest(v, 0x1, 0).edx, 0x5f9faf7f);
	fake_lapic.mode = VLAPIC_XAPIC;
	assert_int_equal(guest(v, 0x1, 0).edx, 0x5f9faf7f);
}

/* Leaf 1 EBX: APIC ID (31:24) = vCPU index, logical count (23:16) = vCPUs;
 * the brand index and CLFLUSH size (15:0) are the host's. */
static void test_leaf1_apic_ids(void **state)
{
	(void)state;
	for (u32 n = 1; n <= 8; n++) {
		part(n);
		for (u32 id = 0; id < n; id++)
			assert_int_equal(guest(&fake_vcpus[id], 0x1, 0).ebx,
					 id << 24 | n << 16 | 0x1234);
	}
	part(64);
	assert_int_equal(guest(&fake_vcpus[63], 0x1, 0).ebx, 63U << 24 | 64U << 16 | 0x1234);
}

/*
 * Leaves 0Bh and 1Fh (SDM 2A): level 0 is SMT with one thread (shift 0),
 * level 1 is the core level with all vCPUs (shift = bits to number them),
 * then an invalid level; EDX is the x2APIC ID at every subleaf.
 */
static void test_topology_leaves(void **state)
{
	static const struct {
		u32 n, shift;
	} cases[] = { { 1, 0 }, { 2, 1 }, { 3, 2 }, { 4, 2 },
		      { 5, 3 }, { 8, 3 }, { 9, 4 }, { 64, 6 } };

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		u32 n = cases[c].n;

		part(n);
		for (u32 id = 0; id < n; id++) {
			struct vcpu *v = &fake_vcpus[id];
			u32 leaves[] = { 0xb, 0x1f };

			for (size_t l = 0; l < ARRAY_SIZE(leaves); l++) {
				expect_regs(guest(v, leaves[l], 0), 0, 1, 0x100, id);
				expect_regs(guest(v, leaves[l], 1), cases[c].shift, n, 0x201, id);
				expect_regs(guest(v, leaves[l], 2), 0, 0, 2, id);
				expect_regs(guest(v, leaves[l], 9), 0, 0, 9, id);
			}
		}
	}
}

/*
 * Leaf 4 (SDM 2A): cores per package - 1 in EAX 31:26 is vCPUs - 1; threads
 * sharing the cache (25:14) is 0 for levels 1 and 2 (one thread per core)
 * and vCPUs - 1 for the last level; the rest is the host's.
 */
static void test_cache_leaf(void **state)
{
	struct vcpu *v;

	(void)state;
	v = part(4);
	expect_regs(guest(v, 0x4, 0), 0x0c000121, 0x02c0003f, 0x3f, 0);
	expect_regs(guest(v, 0x4, 1), 0x0c000143, 0x03c0003f, 0x7ff, 0);
	expect_regs(guest(v, 0x4, 2), 0x0c00c163, 0x0380003f, 0xdfff, 4);
	expect_regs(guest(v, 0x4, 3), 0, 0, 0, 0);
	v = part(1);
	assert_int_equal(guest(v, 0x4, 0).eax, 0x00000121);
	assert_int_equal(guest(v, 0x4, 2).eax, 0x00000163);
}

/*
 * Leaf 7 subleaf 0 (SDM 2A table 3-8): EBX loses TSC_ADJUST(1) SGX(2) PQM(12)
 * MPX(14) PQE(15) PT(25); ECX loses WAITPKG(5) CET_SS(7) TME(13) KL(23)
 * SGX-LC(30) PKS(31); EDX loses UINTR(5) TSX_FORCE_ABORT(13) hybrid(15)
 * PCONFIG(18) ARCH_LBR(19) CET_IBT(20) IBRS/IBPB(26) STIBP(27) L1D_FLUSH(28)
 * ARCH_CAPABILITIES(29) CORE_CAPABILITIES(30) SSBD(31). Subleaf 1 is empty
 * and the last one offered (EAX of subleaf 0): subleaf 2 and beyond read 0
 * whatever the host has there.
 */
static void test_leaf7(void **state)
{
	struct vcpu *v = &fake_vcpus[0];

	(void)state;
	expect_regs(guest(v, 0x7, 0), 1, 0xfdff2ff9, 0x3f7fdf5f, 0x03e35fdf);
	expect_regs(guest(v, 0x7, 1), 0, 0, 0, 0);
	expect_regs(guest(&fake_vcpus[3], 0x7, 1), 0, 0, 0, 0);
	fake_cpuid_set(0x7, 2, 0, 0, 0, ALL); /* PSFD IPRED_CTRL RRSBA_CTRL ... */
	fake_cpuid_set(0x7, 3, ALL, ALL, ALL, ALL);
	part(2);
	expect_regs(guest(v, 0x7, 2), 0, 0, 0, 0);
	expect_regs(guest(v, 0x7, 3), 0, 0, 0, 0);
	expect_regs(guest(v, 0x7, 0xffffffff), 0, 0, 0, 0);
	/* a host with subleaf 0 only offers subleaf 0 only */
	fake_cpuid_set(0x7, 0, 0, ALL, ALL, ALL);
	part(2);
	assert_int_equal(guest(v, 0x7, 0).eax, 0);
}

/* Leaf 6: only ARAT (EAX bit 2), whatever the host has (no C-states, no
 * HWP, no energy bias). */
static void test_power_leaf(void **state)
{
	(void)state;
	expect_regs(guest(&fake_vcpus[0], 0x6, 0), BIT(2), 0, 0, 0);
	fake_cpuid_set(0x6, FAKE_ANY_SUB, 0, 0, 0, 0);
	part(2);
	expect_regs(guest(&fake_vcpus[1], 0x6, 0), BIT(2), 0, 0, 0);
}

/* Leaves outside the allow-list read as zero even when the host has them:
 * 3 (serial number), 5 (MONITOR/MWAIT), 8, 9 (DCA), 0Ah (PMU), 0Ch, 0Eh-14h,
 * 17h-1Eh, and basic leaves above 1Fh. */
static void test_hidden_leaves(void **state)
{
	static const u32 hidden[] = { 0x3,  0x5,  0x8,	0x9,  0xa,  0xc,    0xe,       0xf,  0x10,
				      0x11, 0x12, 0x13, 0x14, 0x17, 0x18,   0x19,      0x1a, 0x1b,
				      0x1c, 0x1d, 0x1e, 0x20, 0x21, 0x1000, 0x3fffffff };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(hidden); i++)
		fake_cpuid_set(hidden[i], FAKE_ANY_SUB, ALL, ALL, ALL, ALL);
	part(4);
	for (size_t i = 0; i < ARRAY_SIZE(hidden); i++)
		for (u32 sub = 0; sub < 3; sub++)
			expect_regs(guest(&fake_vcpus[1], hidden[i], sub), 0, 0, 0, 0);
}

/* Allowed leaves pass the host's values through where nothing is masked. */
static void test_passed_leaves(void **state)
{
	struct vcpu *v = &fake_vcpus[1];

	(void)state;
	expect_regs(guest(v, 0x0, 0), 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69);
	expect_regs(guest(v, 0x2, 0), 0x00feff01, 0x000000f0, 0, 0);
	expect_regs(guest(v, 0x80000002, 0), 0x20444d41, 0x43595045, 0x38372030, 0x20323336);
	expect_regs(guest(v, 0x80000005, 0), 0xff40ff40, 0xff40ff40, 0x20080140, 0x20080140);
	expect_regs(guest(v, 0x80000006, 0), 0x48002200, 0x68004200, 0x02006140, 0x01009140);
	/* leaves 3 and 4 of the brand string are not in the host table: zeros */
	expect_regs(guest(v, 0x80000003, 0), 0, 0, 0, 0);
}

/* A leaf above the host's maximum reads as zero, even an allowed one. */
static void test_basic_limit(void **state)
{
	struct vcpu *v;

	(void)state;
	fake_cpuid_set(0x0, FAKE_ANY_SUB, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69);
	v = part(2);
	assert_int_equal(guest(v, 0x0, 0).eax, 0xd);
	assert_int_not_equal(guest(v, 0xd, 0).eax, 0);
	expect_regs(guest(v, 0x15, 0), 0, 0, 0, 0);
	expect_regs(guest(v, 0x16, 0), 0, 0, 0, 0);
	expect_regs(guest(v, 0x1f, 0), 0, 0, 0, 0);
	expect_regs(guest(v, 0x1f, 1), 0, 0, 0, 0);
	/* 0Bh is below the maximum: still the vCPU topology */
	expect_regs(guest(&fake_vcpus[1], 0xb, 1), 1, 2, 0x201, 1);
	/* the maximum itself is there, the next leaf is not */
	fake_cpuid_set(0x0, FAKE_ANY_SUB, 0x15, 0x756e6547, 0x6c65746e, 0x49656e69);
	v = part(1);
	expect_regs(guest(v, 0x15, 0), 1, 1, 2100000000, 0);
	expect_regs(guest(v, 0x16, 0), 0, 0, 0, 0);
	fake_cpuid_set(0x0, FAKE_ANY_SUB, 0x1e, 0x756e6547, 0x6c65746e, 0x49656e69);
	v = part(1);
	expect_regs(guest(v, 0x16, 0), 2100, 2100, 0, 0);
	expect_regs(guest(v, 0x1f, 0), 0, 0, 0, 0);
}

/* The extended range stops at 80000008h (EAX of 80000000h says so) or at
 * the host's maximum when that is lower. */
static void test_extended_limit(void **state)
{
	struct vcpu *v = &fake_vcpus[0];

	(void)state;
	expect_regs(guest(v, EXT, 0), 0x80000008, 0x68747541, 0x444d4163, 0x69746e65);
	expect_regs(guest(v, 0x80000009, 0), 0, 0, 0, 0);
	expect_regs(guest(v, 0x8000000a, 0), 0, 0, 0, 0); /* SVM */
	expect_regs(guest(v, 0x80000021, 0), 0, 0, 0, 0);
	expect_regs(guest(v, 0xc0000000, 0), 0, 0, 0, 0);
	expect_regs(guest(v, ALL, 0), 0, 0, 0, 0);
	fake_cpuid_set(EXT, FAKE_ANY_SUB, 0x80000004, 0, 0, 0);
	v = part(2);
	assert_int_equal(guest(v, EXT, 0).eax, 0x80000004);
	expect_regs(guest(v, 0x80000002, 0), 0x20444d41, 0x43595045, 0x38372030, 0x20323336);
	expect_regs(guest(v, 0x80000005, 0), 0, 0, 0, 0);
	expect_regs(guest(v, 0x80000008, 0), 0, 0, 0, 0);
}

/*
 * 80000001h ECX (APM 3 E.4.2) loses SVM(2) ExtApicSpace(3) SKINIT(12) WDT(13)
 * LWP(15) TOPOEXT(22) PerfCtrExtCore(23) PerfCtrExtNB(24) DataBkptExt(26)
 * PerfTsc(27) PerfCtrExtLLC(28) MONITORX(29); CmpLegacy(1) is set exactly
 * when the partition has more than one vCPU. EDX is the host's.
 */
static void test_ext_features(void **state)
{
	struct vcpu *v;

	(void)state;
	v = part(2);
	expect_regs(guest(v, 0x80000001, 0), 0x00a00f11, 0x40000000, 0xc23f4ff3, ALL);
	v = part(1);
	assert_int_equal(guest(v, 0x80000001, 0).ecx, 0xc23f4ff1);
	host_no_features();
	v = part(1);
	expect_regs(guest(v, 0x80000001, 0), 0x00a00f11, 0x40000000, 0, 0);
	v = part(3);
	assert_int_equal(guest(v, 0x80000001, 0).ecx, BIT(1));
}

/* 80000007h: only the invariant TSC (EDX bit 8), and only when the host has it. */
static void test_power_management_leaf(void **state)
{
	(void)state;
	expect_regs(guest(&fake_vcpus[0], 0x80000007, 0), 0, 0, 0, BIT(8));
	fake_cpuid_set(0x80000007, FAKE_ANY_SUB, ALL, ALL, ALL, ALL & ~BIT(8));
	part(1);
	expect_regs(guest(&fake_vcpus[0], 0x80000007, 0), 0, 0, 0, 0);
}

/*
 * 80000008h (APM 3 E.4.7): the address sizes in EAX are the host's; EBX loses
 * IBPB(12) IBRS(14) STIBP(15) IBRS-always(16) STIBP-always(17)
 * IBRS-preferred(18) SSBD(24) VIRT_SSBD(25); ECX = ApicIdSize (15:12) and
 * NC = vCPUs - 1 (7:0); EDX is empty.
 */
static void test_address_size_leaf(void **state)
{
	static const struct {
		u32 n, ecx;
	} cases[] = { { 1, 0x0000 }, { 2, 0x1001 }, { 4, 0x2003 }, { 6, 0x3005 }, { 64, 0x603f } };

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct vcpu *v = part(cases[c].n);

		expect_regs(guest(v, 0x80000008, 0), 0x00003030, 0xfcf82fff, cases[c].ecx, 0);
		expect_regs(guest(&fake_vcpus[cases[c].n - 1], 0x80000008, 0), 0x00003030,
			    0xfcf82fff, cases[c].ecx, 0);
	}
}

/*
 * 15h/16h (SDM 2A) are stated from the TSC rate the hypervisor measured:
 * TSC = crystal * EBX / EAX with the crystal in ECX; 16h has the base and
 * maximum frequency in MHz. A rate over 32 bits halves the crystal.
 */
static void test_frequency_leaves(void **state)
{
	struct vcpu *v = &fake_vcpus[0];

	(void)state;
	expect_regs(guest(v, 0x15, 0), 1, 1, 2100000000, 0);
	expect_regs(guest(v, 0x16, 0), 2100, 2100, 0, 0);
	assert_int_equal(cpuid_crystal_hz(), 2100000000);
	fake_tsc_hz = 5000000000ULL;
	part(1);
	expect_regs(guest(v, 0x15, 0), 1, 2, 2500000000U, 0);
	expect_regs(guest(v, 0x16, 0), 5000, 5000, 0, 0);
	assert_int_equal(cpuid_crystal_hz(), 2500000000U);
	fake_tsc_hz = 0xffffffffULL;
	assert_int_equal(cpuid_crystal_hz(), 0xffffffffULL);
	fake_tsc_hz = FAKE_TSC_HZ;
}

/*
 * 0Dh (SDM 1 13.2-13.4, SDM 2A CPUID 0Dh), on a host like Bochs's Skylake-X
 * model: x87 SSE AVX MPX AVX-512 PKRU, and AMX here too, with XSAVES and a
 * supervisor component (PT); its subleaf 1 EBX is the standard size, which
 * the compacted layout contradicts (the kernel warned). The partition sees
 * the components of the features it is offered (no MPX), no supervisor
 * ones, no XSAVEC, XSAVES or XFD, and sizes computed from the components for the
 * XCR0 in force: standard in subleaf 0 EBX, compacted (a component with
 * ECX bit 1 at a 64-byte boundary) in subleaf 1 EBX, all offered in
 * subleaf 0 ECX. The subleaves of what is not offered read 0.
 */
static void host_skylake_x(void)
{
	static const struct {
		u32 i, size, offset, ecx;
	} comps[] = {
		{ 2, 256, 576, 0 },  { 3, 64, 960, 0 },	    { 4, 64, 1024, 0 }, { 5, 64, 1088, 0 },
		{ 6, 512, 1152, 0 }, { 7, 1024, 1664, 0 },  { 8, 128, 0, 1 },	{ 9, 8, 2688, 0 },
		{ 17, 64, 2752, 0 }, { 18, 8192, 2816, 2 },
	};

	fake_cpuid_set(0xd, 0, 0x602ff, 0x1000, 0x2b00, 0);
	fake_cpuid_set(0xd, 1, 0x1f, 2688, 0x100, 0);
	for (size_t c = 0; c < ARRAY_SIZE(comps); c++)
		fake_cpuid_set(0xd, comps[c].i, comps[c].size, comps[c].offset, comps[c].ecx, 0);
	fake_cpuid_set(0xd, 63, 1, 1, 1, 1);
}

static void test_xsave_leaf(void **state)
{
	static const struct {
		u64 xcr0;
		u32 standard, compacted;
	} sizes[] = {
		{ 0x1, 576, 576 },     { 0x3, 576, 576 },	  { 0x7, 832, 832 },
		{ 0xe7, 2688, 2432 }, /* Linux: "size 2432 != kernel_size 2688" */
		{ 0x2e7, 2696, 2440 }, { 0x602e7, 11008, 10752 }, /* XTILEDATA aligned: 2504 -> 2560 */
	};
	struct vcpu *v = &fake_vcpus[1];

	(void)state;
	host_skylake_x();
	part(2);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		fake_cpu.xcr0 = sizes[i].xcr0;
		expect_regs(guest(v, 0xd, 0), 0x602e7, sizes[i].standard, 11008, 0);
		/* XSAVEOPT and XGETBV_ECX1 only: no XSAVEC (nor XSAVES) */
		expect_regs(guest(v, 0xd, 1), 0x5, sizes[i].compacted, 0, 0);
	}
	expect_regs(guest(v, 0xd, 2), 256, 576, 0, 0);
	expect_regs(guest(v, 0xd, 18), 8192, 2816, 2, 0);
	for (u32 sub = 3; sub < 70; sub++)
		if (sub != 5 && sub != 6 && sub != 7 && sub != 9 && sub != 17 && sub != 18)
			expect_regs(guest(v, 0xd, sub), 0, 0, 0, 0);
	assert_int_equal(cpuid_xcr0_supported(&fake_part), 0x602e7);
	/* without AVX-512F, PKU and AMX-TILE their components go too */
	fake_cpuid_set(0x7, 0, 2, ALL & ~BIT(16), ALL & ~BIT(3), ALL & ~BIT(24));
	part(2);
	fake_cpu.xcr0 = 0x7;
	expect_regs(guest(v, 0xd, 0), 0x7, 832, 832, 0);
	expect_regs(guest(v, 0xd, 6), 0, 0, 0, 0);
	/* without AVX, only x87 and SSE */
	fake_cpuid_set(0x1, FAKE_ANY_SUB, 0x000806f8, 0xaabb1234, ALL & ~BIT(28), ALL);
	part(2);
	fake_cpu.xcr0 = 0x3;
	expect_regs(guest(v, 0xd, 0), 0x3, 576, 576, 0);
	expect_regs(guest(v, 0xd, 2), 0, 0, 0, 0);
	/* no XSAVE on the host: nothing to size */
	fake_cpuid_set(0xd, 0, 0, 0x1000, 0, 0);
	part(2);
	expect_regs(guest(v, 0xd, 0), 0, 0, 0, 0);
	expect_regs(guest(v, 0xd, 1), 0, 0, 0, 0);
	assert_int_equal(cpuid_xcr0_supported(&fake_part), 0);
	fake_cpu.xcr0 = 0;
}

/*
 * SDM 3A 2.5: a CR4 bit exists when the CPUID flag of its feature does
 * (PCE always); the others are reserved, bits 63:32 included. On the host
 * with everything, the partition still lacks MCE, VMX, SMX, Key Locker,
 * CET and PKS (their flags are hidden), and UINTR.
 */
static void test_cr4_reserved(void **state)
{
	u64 present = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_PGE | CR4_PCE |
		      CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_UMIP | CR4_LA57 | CR4_FSGSBASE | CR4_PCIDE |
		      CR4_OSXSAVE | CR4_SMEP | CR4_SMAP | CR4_PKE;

	(void)state;
	assert_int_equal(cpuid_cr4_reserved(&fake_part), ~present);
	host_no_features();
	part(1);
	assert_int_equal(cpuid_cr4_reserved(&fake_part), ~(u64)CR4_PCE);
	/* LA57 and PKE follow the host's flags */
	fake_cpuid_set(0x7, 0, 2, 0, BIT(16) | BIT(3), 0);
	part(1);
	assert_int_equal(cpuid_cr4_reserved(&fake_part), ~(u64)(CR4_PCE | CR4_LA57 | CR4_PKE));
}

/*
 * The exit's fast path: cpuid_plain answers subleaf 0 of basic leaves that
 * are the same for every vCPU (not 1, 0Bh, 0Dh, 1Fh) and, for leaves without
 * subleaves, any subleaf; the answers equal cpuid_guest's for every vCPU.
 */
static void test_precomputed(void **state)
{
	static const u32 with_subleaves[] = { 0x4, 0x7, 0xb, 0xd, 0x1f };
	struct partition *p = &fake_part;

	(void)state;
	for (u32 leaf = 0; leaf < 0x20; leaf++) {
		bool per_vcpu = leaf == 0x1 || leaf == 0xb || leaf == 0xd || leaf == 0x1f;
		bool subleaves = false;

		for (size_t i = 0; i < ARRAY_SIZE(with_subleaves); i++)
			subleaves |= with_subleaves[i] == leaf;
		for (u32 sub = 0; sub < 4; sub++) {
			const struct cpuid_regs *c = cpuid_plain(p, leaf, sub);

			if (per_vcpu || (subleaves && sub)) {
				assert_null(c);
				continue;
			}
			assert_non_null(c);
			for (u32 id = 0; id < p->vcpu_count; id++) {
				struct cpuid_regs r = guest(&fake_vcpus[id], leaf, sub);

				assert_memory_equal(c, &r, sizeof(r));
			}
		}
	}
	assert_null(cpuid_plain(p, 0x20, 0));
	assert_null(cpuid_plain(p, 0x40000000, 0));
	assert_null(cpuid_plain(p, EXT, 0));
	assert_null(cpuid_plain(p, 0x80000008, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hypervisor_leaves, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_leaf1_features, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_leaf1_apic_enabled, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_leaf1_osxsave, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_leaf1_apic_ids, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_topology_leaves, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_cache_leaf, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_leaf7, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_cr4_reserved, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_power_leaf, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_hidden_leaves, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_passed_leaves, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_basic_limit, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_extended_limit, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_ext_features, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_power_management_leaf, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_address_size_leaf, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_frequency_leaves, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_xsave_leaf, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_precomputed, setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
