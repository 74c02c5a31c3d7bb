/*
 * The MSR policy (hv/policy/msr.c): default deny (an MSR without a rule is
 * #GP, as on a CPU that lacks it), the MSRs the guest may touch and the
 * values it reads, the read-only and write-ignored ones, the local APIC's
 * (APIC base, TSC deadline, x2APIC) handed to it, and the intercepts a
 * partition starts with. MSR numbers and bits are written out here from the
 * manuals (SDM 4, APM 2 appendix A), not taken from the policy.
 */
#include "hv/policy/msr.h"
#include "tests/unit/fake_vcpu.h"

#define IA32_TSC 0x10
#define IA32_APIC_BASE 0x1b
#define IA32_FEATURE_CONTROL 0x3a
#define IA32_BIOS_SIGN_ID 0x8b
#define IA32_MTRRCAP 0xfe
#define IA32_MCG_CAP 0x179
#define IA32_MCG_STATUS 0x17a
#define IA32_MISC_ENABLE 0x1a0
#define IA32_PAT 0x277
#define IA32_TSC_DEADLINE 0x6e0
#define IA32_EFER 0xc0000080
#define AMD_HWCR 0xc0010015
#define AMD_PERF_CTL0 0xc0010000
#define AMD_PERF_CTR0 0xc0010004
#define AMD_NB_CFG 0xc001001f

#define APIC_BASE_REG 0xfee00000ULL
#define BSP (1ULL << 8)
#define EXTD (1ULL << 10)
#define EN (1ULL << 11)

#define SCE (1ULL << 0)
#define LME (1ULL << 8)
#define LMA (1ULL << 10)
#define NXE (1ULL << 11)
#define SVME (1ULL << 12)
#define PG (1ULL << 31)

#define UNTOUCHED 0x5a5a5a5a5a5a5a5aULL

static struct vcpu *v0, *v1;

/* An Intel host (leaf 0 "GenuineIntel", basic leaves to 0Dh), or AMD. */
static void host_vendor(u32 ebx, u32 ecx, u32 edx)
{
	memset(&fake_cpu, 0, sizeof(fake_cpu));
	fake_cpuid_set(0x0, FAKE_ANY_SUB, 0xd, ebx, ecx, edx);
}

#define INTEL 0x756e6547, 0x6c65746e, 0x49656e69 /* "GenuineIntel" */
#define AMD 0x68747541, 0x444d4163, 0x69746e65	 /* "AuthenticAMD" */
#define HYGON 0x6f677948, 0x656e6975, 0x6e65476e /* "HygonGenuine" */

/* A partition of two vCPUs as its start leaves them. */
static void start_part(void)
{
	v0 = fake_part_init(2);
	v1 = &fake_vcpus[1];
	cpuid_init_partition(&fake_part);
	msr_reset_vcpu(v0);
	msr_reset_vcpu(v1);
}

static int setup(void **state)
{
	(void)state;
	host_vendor(INTEL);
	start_part();
	return 0;
}

static void expect_read(struct vcpu *v, u32 msr, u64 want)
{
	u64 val = UNTOUCHED;

	fake_exit(v, VMEXIT_MSR_READ, 2);
	if (msr_read(v, msr, &val))
		fail_msg("rdmsr %#x: #GP", msr);
	if (val != want)
		fail_msg("rdmsr %#x = %#llx, want %#llx", msr, (unsigned long long)val,
			 (unsigned long long)want);
}

static void expect_read_gp(struct vcpu *v, u32 msr)
{
	u64 val = UNTOUCHED;

	fake_exit(v, VMEXIT_MSR_READ, 2);
	if (msr_read(v, msr, &val) != -E_INVAL)
		fail_msg("rdmsr %#x: no #GP", msr);
	assert_int_equal(val, UNTOUCHED);
}

static void expect_write(struct vcpu *v, u32 msr, u64 val)
{
	fake_exit(v, VMEXIT_MSR_WRITE, 2);
	if (msr_write(v, msr, val))
		fail_msg("wrmsr %#x <- %#llx: #GP", msr, (unsigned long long)val);
}

static void expect_write_gp(struct vcpu *v, u32 msr, u64 val)
{
	fake_exit(v, VMEXIT_MSR_WRITE, 2);
	if (msr_write(v, msr, val) != -E_INVAL)
		fail_msg("wrmsr %#x <- %#llx: no #GP", msr, (unsigned long long)val);
}

/* The MSRs with a rule, and the x2APIC range, are the only ones that do
 * not raise #GP. */
static bool has_rule(u32 msr)
{
	static const u32 known[] = { IA32_TSC,		IA32_APIC_BASE,	  IA32_FEATURE_CONTROL,
				     IA32_BIOS_SIGN_ID, IA32_MTRRCAP,	  IA32_MCG_CAP,
				     IA32_MCG_STATUS,	IA32_MISC_ENABLE, IA32_TSC_DEADLINE,
				     IA32_EFER,		AMD_HWCR,	  AMD_NB_CFG,
				     IA32_PAT };

	for (size_t i = 0; i < ARRAY_SIZE(known); i++)
		if (known[i] == msr)
			return true;
	return msr >= 0x800 && msr <= 0x8ff;
}

/* Default deny: MSRs a guest commonly probes, and random ones, #GP both
 * ways and leave the destination alone. The pass-through ones have no rule
 * either: were they ever intercepted, they would #GP too. */
static void test_default_deny(void **state)
{
	static const u32 denied[] = {
		0x0,
		0x1,
		0x3b /* TSC_ADJUST */,
		0x48 /* SPEC_CTRL */,
		0x49 /* PRED_CMD */,
		0x10a /* ARCH_CAPABILITIES */,
		0x1d9 /* DEBUGCTL */,
		0x2ff /* MTRR_DEF_TYPE */,
		0x200 /* MTRR_PHYSBASE0 */,
		0x480 /* VMX_BASIC */,
		0x491,
		0x6e1,
		0x7ff,
		0x900,
		0xda0 /* XSS */,
		0x40000000 /* Hyper-V */,
		0x4b564d00 /* KVM */,
		0xc0000081 /* STAR */,
		0xc0000100 /* FS_BASE */,
		0xc0000103 /* TSC_AUX */,
		0xc0010010 /* SYSCFG */,
		0xc0010114 /* VM_CR */,
		0xc0010117 /* VM_HSAVE_PA */,
		0xc0011029,
		0xffffffff,
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(denied); i++) {
		expect_read_gp(v0, denied[i]);
		expect_write_gp(v0, denied[i], 0);
		expect_write_gp(v1, denied[i], ~0ULL);
	}
	for (int i = 0; i < 2000; i++) {
		u32 msr = (u32)rnd();

		if (i & 1)
			msr &= 0xfff; /* the architectural range, densely */
		if (has_rule(msr))
			continue;
		expect_read_gp(v1, msr);
		expect_write_gp(v1, msr, rnd());
	}
	/* nothing reached the local APIC or the backend's state */
	assert_int_equal(fake_lapic.msr_reads + fake_lapic.msr_writes, 0);
	assert_int_equal(fake_lapic.set_mode_calls + fake_lapic.deadline_writes, 0);
	assert_int_equal(fake_be(v0)->stores + fake_be(v1)->stores, 0);
}

/* The fixed answers: what each reads, and that a write is ignored or #GP. */
static void test_fixed_msrs(void **state)
{
	static const struct {
		u32 msr;
		u64 value;
		bool writable; /* write ignored; else #GP */
	} fixed[] = {
		/* locked, VMX off inside and outside SMX */
		{ IA32_FEATURE_CONTROL, 0x1, false },
		{ IA32_BIOS_SIGN_ID, 0, true },
		/* no MTRRs, no machine-check banks */
		{ IA32_MTRRCAP, 0, false },
		{ IA32_MCG_CAP, 0, false },
		{ IA32_MCG_STATUS, 0, true },
		{ AMD_HWCR, 0, true },
		{ AMD_NB_CFG, 0, true },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
		expect_read(v0, fixed[i].msr, fixed[i].value);
		expect_read(v1, fixed[i].msr, fixed[i].value);
		if (fixed[i].writable) {
			expect_write(v1, fixed[i].msr, ~0ULL);
			expect_write(v1, fixed[i].msr, 0);
		} else {
			expect_write_gp(v1, fixed[i].msr, fixed[i].value);
			expect_write_gp(v1, fixed[i].msr, 0);
		}
		/* a write changes nothing */
		expect_read(v1, fixed[i].msr, fixed[i].value);
	}
	assert_int_equal(fake_be(v0)->stores + fake_be(v1)->stores, 0);
}

/* IA32_TSC reads the host's TSC (no offset); writes are ignored. */
static void test_tsc(void **state)
{
	u64 before, val = 0, after;

	(void)state;
	before = rdtsc();
	assert_int_equal(msr_read(v1, IA32_TSC, &val), 0);
	after = rdtsc();
	assert_true(val >= before && val <= after);
	expect_write(v1, IA32_TSC, 0);
	before = rdtsc();
	assert_int_equal(msr_read(v1, IA32_TSC, &val), 0);
	assert_true(val >= before);
}

/*
 * IA32_APIC_BASE (SDM 3A 11.4.4): the base stays at FEE00000h; BSP on vCPU 0
 * only; EN and EXTD follow the local APIC's mode. A write asks the local
 * APIC for the mode EN and EXTD name (it decides which transitions are
 * legal) and may carry either BSP; EN = 0 with EXTD = 1 (invalid, SDM 3A
 * 11.12.5), another base or reserved bits are #GP.
 */
static void test_apic_base(void **state)
{
	(void)state;
	expect_read(v0, IA32_APIC_BASE, APIC_BASE_REG | EN | BSP);
	expect_read(v1, IA32_APIC_BASE, APIC_BASE_REG | EN);
	assert_ptr_equal(fake_lapic.v, v1);
	fake_lapic.mode = VLAPIC_X2APIC;
	expect_read(v0, IA32_APIC_BASE, APIC_BASE_REG | EN | BSP | EXTD);
	expect_read(v1, IA32_APIC_BASE, APIC_BASE_REG | EN | EXTD);
	fake_lapic.mode = VLAPIC_OFF;
	expect_read(v0, IA32_APIC_BASE, APIC_BASE_REG | BSP);
	expect_read(v1, IA32_APIC_BASE, APIC_BASE_REG);

	/* each mode, with or without the BSP bit */
	fake_lapic.mode = VLAPIC_XAPIC;
	expect_write(v1, IA32_APIC_BASE, APIC_BASE_REG | EN | EXTD);
	assert_int_equal(fake_lapic.set_mode_calls, 1);
	assert_int_equal(fake_lapic.set_mode, VLAPIC_X2APIC);
	assert_ptr_equal(fake_lapic.v, v1);
	expect_write(v0, IA32_APIC_BASE, APIC_BASE_REG | EN | BSP);
	assert_int_equal(fake_lapic.set_mode_calls, 2);
	assert_int_equal(fake_lapic.set_mode, VLAPIC_XAPIC);
	expect_write(v1, IA32_APIC_BASE, APIC_BASE_REG | BSP);
	assert_int_equal(fake_lapic.set_mode_calls, 3);
	assert_int_equal(fake_lapic.set_mode, VLAPIC_OFF);
	expect_write(v0, IA32_APIC_BASE, APIC_BASE_REG);
	assert_int_equal(fake_lapic.set_mode, VLAPIC_OFF);
	expect_write(v1, IA32_APIC_BASE, APIC_BASE_REG | EN | BSP | EXTD);
	assert_int_equal(fake_lapic.set_mode_calls, 5);
	assert_int_equal(fake_lapic.set_mode, VLAPIC_X2APIC);

	/* moving, EXTD without EN, reserved bits: #GP, the mode untouched */
	expect_write_gp(v1, IA32_APIC_BASE, 0xfed00000ULL | EN);
	expect_write_gp(v1, IA32_APIC_BASE, 0xfed00000ULL);
	expect_write_gp(v1, IA32_APIC_BASE, APIC_BASE_REG | EXTD);
	expect_write_gp(v1, IA32_APIC_BASE, APIC_BASE_REG | EN | 1);
	expect_write_gp(v1, IA32_APIC_BASE, APIC_BASE_REG | EN | (1ULL << 9));
	expect_write_gp(v1, IA32_APIC_BASE, APIC_BASE_REG | (1ULL << 9));
	expect_write_gp(v1, IA32_APIC_BASE, APIC_BASE_REG | EN | (1ULL << 40));
	assert_int_equal(fake_lapic.set_mode_calls, 5);

	/* the local APIC refuses the transition (x2APIC to xAPIC) */
	fake_lapic.err = -E_INVAL;
	expect_write_gp(v1, IA32_APIC_BASE, APIC_BASE_REG | EN);
	assert_int_equal(fake_lapic.set_mode_calls, 6);
}

/* IA32_TSC_DEADLINE belongs to the local APIC, both ways, errors included. */
static void test_tsc_deadline(void **state)
{
	(void)state;
	fake_lapic.deadline = 0x123456789abcULL;
	expect_read(v1, IA32_TSC_DEADLINE, 0x123456789abcULL);
	assert_ptr_equal(fake_lapic.v, v1);
	expect_write(v0, IA32_TSC_DEADLINE, 0xfedcba9876543210ULL);
	assert_int_equal(fake_lapic.deadline_writes, 1);
	assert_int_equal(fake_lapic.deadline, 0xfedcba9876543210ULL);
	assert_ptr_equal(fake_lapic.v, v0);
	expect_write(v0, IA32_TSC_DEADLINE, 0);
	assert_int_equal(fake_lapic.deadline, 0);
	fake_lapic.err = -E_INVAL;
	expect_write_gp(v0, IA32_TSC_DEADLINE, 5);
	assert_int_equal(fake_lapic.deadline_writes, 3);
}

/* MSRs 800h-8FFh go to the local APIC, which decides (SDM 3A 11.12.1). */
static void test_x2apic_range(void **state)
{
	static const u32 msrs[] = { 0x800, 0x802, 0x808, 0x80b, 0x830, 0x83f, 0x8ff };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
		fake_lapic.err = 0;
		fake_lapic.msr_val = 0x1000 + i;
		expect_read(v1, msrs[i], 0x1000 + i);
		assert_int_equal(fake_lapic.msr, msrs[i]);
		assert_ptr_equal(fake_lapic.v, v1);
		expect_write(v0, msrs[i], 0xabcdef00ULL + i);
		assert_int_equal(fake_lapic.msr, msrs[i]);
		assert_int_equal(fake_lapic.msr_val, 0xabcdef00ULL + i);
		assert_ptr_equal(fake_lapic.v, v0);
		fake_lapic.err = -E_INVAL;
		expect_read_gp(v1, msrs[i]);
		expect_write_gp(v1, msrs[i], 0);
	}
	assert_int_equal(fake_lapic.msr_reads, 2 * ARRAY_SIZE(msrs));
	assert_int_equal(fake_lapic.msr_writes, 2 * ARRAY_SIZE(msrs));
	/* just outside: not the local APIC's */
	expect_read_gp(v1, 0x7ff);
	expect_read_gp(v1, 0x900);
	assert_int_equal(fake_lapic.msr_reads, 2 * ARRAY_SIZE(msrs));
}

/*
 * IA32_EFER (SDM 3A 2.2.1, APM 2 3.1.7): the guest's own, from the backend.
 * SCE, LME and NXE are writable; LMA is read-only (a written LMA is
 * ignored); every other bit, SVME included, is #GP; LME cannot change while
 * paging is on.
 */
static void test_efer(void **state)
{
	struct fake_backend *b = fake_be(v1);

	(void)state;
	b->hw.efer = SCE | LME | LMA | NXE;
	expect_read(v1, IA32_EFER, SCE | LME | LMA | NXE);
	assert_true(b->loaded & VS_CR);

	/* paging off: anything writable goes, LMA stays as it is */
	b->hw.cr0 = 0;
	b->hw.efer = 0;
	expect_write(v1, IA32_EFER, SCE | LME | NXE);
	assert_int_equal(b->hw.efer, SCE | LME | NXE);
	assert_true(b->stored & VS_CR);
	expect_write(v1, IA32_EFER, LMA);
	assert_int_equal(b->hw.efer, 0);
	b->hw.efer = LME | LMA;
	expect_write(v1, IA32_EFER, LME | NXE);
	assert_int_equal(b->hw.efer, LME | LMA | NXE);

	/* reserved bits */
	b->hw.efer = SCE;
	expect_write_gp(v1, IA32_EFER, SCE | SVME);
	expect_write_gp(v1, IA32_EFER, SCE | (1ULL << 1));
	expect_write_gp(v1, IA32_EFER, SCE | (1ULL << 9));
	expect_write_gp(v1, IA32_EFER, SCE | (1ULL << 13));
	expect_write_gp(v1, IA32_EFER, SCE | (1ULL << 14));
	expect_write_gp(v1, IA32_EFER, SCE | (1ULL << 15));
	expect_write_gp(v1, IA32_EFER, SCE | (1ULL << 63));
	assert_int_equal(b->stores, 0);
	assert_int_equal(b->hw.efer, SCE);

	/* paging on: LME is frozen, the others are not */
	b->hw.cr0 = PG | 1;
	b->hw.efer = LME | LMA;
	expect_write_gp(v1, IA32_EFER, 0);
	expect_write_gp(v1, IA32_EFER, SCE | NXE);
	assert_int_equal(b->hw.efer, LME | LMA);
	expect_write(v1, IA32_EFER, LME | SCE | NXE);
	assert_int_equal(b->hw.efer, LME | LMA | SCE | NXE);
	b->hw.efer = 0;
	expect_write_gp(v1, IA32_EFER, LME);
	expect_write(v1, IA32_EFER, NXE);
	assert_int_equal(b->hw.efer, NXE);
	/* the other vCPU's EFER was never touched */
	assert_int_equal(fake_be(v0)->stores, 0);
}

/*
 * IA32_MISC_ENABLE (SDM 4 table 2-2), per vCPU: at RESET fast strings (0)
 * on, BTS and PEBS unavailable (11, 12). Fast strings, the thermal control
 * circuit (3) and Limit CPUID Maxval (22) are the guest's; performance
 * monitoring available (7), 11, 12 and XD Bit Disable (34) are read-only
 * (writes ignored); EST (16), MONITOR FSM (18), xTPR disable (23) (their
 * CPUID flags are hidden) and reserved bits #GP. Limit CPUID Maxval makes
 * that vCPU's leaf 0 EAX at most 2.
 */
static void test_misc_enable(void **state)
{
	static const u64 gp_bits[] = { BIT(1),	BIT(2),	 BIT(16), BIT(18), BIT(23),
				       BIT(24), BIT(33), BIT(35), BIT(63) };
	struct cpuid_regs r;

	(void)state;
	expect_read(v0, IA32_MISC_ENABLE, 0x1801);
	expect_read(v1, IA32_MISC_ENABLE, 0x1801);
	expect_write(v1, IA32_MISC_ENABLE, 0x1808);
	expect_read(v1, IA32_MISC_ENABLE, 0x1808);
	expect_read(v0, IA32_MISC_ENABLE, 0x1801);
	/* read-only bits: what is written there changes nothing */
	expect_write(v1, IA32_MISC_ENABLE, 0x9 | BIT(7) | BIT(34));
	expect_read(v1, IA32_MISC_ENABLE, 0x1809);
	expect_write(v1, IA32_MISC_ENABLE, 0);
	expect_read(v1, IA32_MISC_ENABLE, 0x1800);
	for (size_t i = 0; i < ARRAY_SIZE(gp_bits); i++) {
		expect_write_gp(v1, IA32_MISC_ENABLE, 0x1801 | gp_bits[i]);
		expect_read(v1, IA32_MISC_ENABLE, 0x1800);
	}
	/* Limit CPUID Maxval: vCPU 1's leaf 0 says 2, vCPU 0's 0xd */
	assert_non_null(cpuid_plain(&fake_part, 0, 0));
	expect_write(v1, IA32_MISC_ENABLE, 0x1801 | BIT(22));
	expect_read(v1, IA32_MISC_ENABLE, 0x1801 | BIT(22));
	assert_null(cpuid_plain(&fake_part, 0, 0));
	cpuid_guest(v1, 0, 0, &r);
	assert_int_equal(r.eax, 2);
	assert_int_equal(r.ebx, 0x756e6547);
	cpuid_guest(v0, 0, 0, &r);
	assert_int_equal(r.eax, 0xd);
	expect_write(v1, IA32_MISC_ENABLE, 0x1801);
	cpuid_guest(v1, 0, 0, &r);
	assert_int_equal(r.eax, 0xd);
	/* the partition's start sets them back */
	expect_write(v0, IA32_MISC_ENABLE, 0x8);
	msr_reset_vcpu(v0);
	expect_read(v0, IA32_MISC_ENABLE, 0x1801);
	assert_int_equal(fake_be(v0)->stores + fake_be(v1)->stores, 0);
}

/*
 * The legacy performance counters of AMD64 (APM 2 13.2.1), PerfEvtSel0-3
 * and PerfCtr0-3, exist on an AMD (or Hygon) partition only: per vCPU,
 * 0 at RESET, keeping what is written (48 bits of a counter); reserved
 * event-select bits (19, 21, 39:36, 63:42) #GP. An Intel partition has
 * none.
 */
static void test_amd_perf(void **state)
{
	static const u64 reserved[] = { BIT(19), BIT(21), BIT(36), BIT(39), BIT(42), BIT(63) };

	(void)state;
	for (u32 i = 0; i < 8; i++) {
		expect_read_gp(v0, AMD_PERF_CTL0 + i);
		expect_write_gp(v0, AMD_PERF_CTL0 + i, 0);
	}
	for (int vendor = 0; vendor < 2; vendor++) {
		if (vendor)
			host_vendor(HYGON);
		else
			host_vendor(AMD);
		start_part();
		for (u32 i = 0; i < 4; i++) {
			u32 ctl = AMD_PERF_CTL0 + i, ctr = AMD_PERF_CTR0 + i;

			expect_read(v0, ctl, 0);
			expect_read(v0, ctr, 0);
			/* EN | INT | OS | USR, event 0x76, HostOnly, event 11:8 */
			expect_write(v0, ctl, 0x530076 | BIT(41) | (0xfULL << 32) | i);
			expect_write(v0, ctr, 0xffff800000000000ULL | i);
			expect_read(v0, ctl, 0x530076 | BIT(41) | (0xfULL << 32) | i);
			expect_read(v0, ctr, 0x0000800000000000ULL | i); /* 48 bits */
			expect_read(v1, ctl, 0); /* the other vCPU's are its own */
			expect_read(v1, ctr, 0);
			for (size_t b = 0; b < ARRAY_SIZE(reserved); b++)
				expect_write_gp(v0, ctl, 0x530076 | reserved[b]);
			expect_read(v0, ctl, 0x530076 | BIT(41) | (0xfULL << 32) | i);
		}
		msr_reset_vcpu(v0);
		expect_read(v0, AMD_PERF_CTR0 + 3, 0);
	}
}

/*
 * A partition starts with every MSR intercepted (the backend's default);
 * msr_setup_partition opens exactly the guest state the hardware switches
 * (SDM 3C 25.4, APM 2 15.5.1: FS/GS/KernelGS base, STAR, LSTAR, CSTAR,
 * SFMASK, SYSENTER_CS/ESP/EIP, TSC_AUX) both ways, and TSC reads. Not PAT:
 * VMRUN does not switch it (APM 2 15.25.8).
 */
static void test_intercepts(void **state)
{
	static const u32 open[] = { 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000081,
				    0xc0000082, 0xc0000083, 0xc0000084, 0x174,
				    0x175,	0x176,	    0xc0000103 };
	bool seen[ARRAY_SIZE(open)] = { false };
	bool tsc = false;

	(void)state;
	msr_setup_partition(&fake_part);
	assert_int_equal(fake_intercepts.msr_count, ARRAY_SIZE(open) + 1);
	assert_int_equal(fake_intercepts.io_count, 0);
	for (u32 i = 0; i < fake_intercepts.msr_count; i++) {
		const struct fake_intercept *c = &fake_intercepts.msr[i];
		bool found = false;

		if (c->index == IA32_TSC) {
			assert_false(tsc);
			assert_false(c->read);
			assert_true(c->write);
			tsc = true;
			continue;
		}
		for (size_t j = 0; j < ARRAY_SIZE(open); j++) {
			if (open[j] == c->index) {
				assert_false(seen[j]);
				seen[j] = found = true;
			}
		}
		if (!found)
			fail_msg("MSR %#x opened", c->index);
		assert_false(c->read);
		assert_false(c->write);
	}
	assert_true(tsc);
	/* nothing else of the backend was asked */
	assert_int_equal(fake_be(v0)->loads + fake_be(v0)->stores, 0);
}

/* IA32_PAT is the vCPU's VS_PAT (the VMCS's guest PAT, the VMCB's G_PAT,
 * never the host's register); a reserved type or bit is #GP and changes
 * nothing (SDM 3A 12.12.2). */
static void test_pat(void **state)
{
	static const u64 bad[] = {
		0x0007040600070402ULL, /* type 2 in entry 0 */
		0x0307040600070406ULL, /* type 3 in entry 7 */
		0x0007040600070416ULL, /* bit 4 of entry 0 */
		0x8007040600070406ULL, /* bit 63 */
		0x0007040600080406ULL, /* type 8 in entry 2 */
	};
	u64 val = 0;

	(void)state;
	fake_be(v0)->hw.pat = 0x0007040600070406ULL;
	assert_int_equal(msr_read(v0, IA32_PAT, &val), 0);
	assert_int_equal(val, 0x0007040600070406ULL);
	assert_true(fake_be(v0)->loaded & VS_PAT);
	/* every valid type in every entry: UC WC WT WP WB UC- */
	assert_int_equal(msr_write(v0, IA32_PAT, 0x0706050401000706ULL), 0);
	assert_int_equal(fake_be(v0)->hw.pat, 0x0706050401000706ULL);
	assert_true(fake_be(v0)->stored & VS_PAT);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(msr_write(v0, IA32_PAT, bad[i]), -E_INVAL);
		assert_int_equal(fake_be(v0)->hw.pat, 0x0706050401000706ULL);
	}
	/* each vCPU its own */
	assert_int_equal(msr_write(v1, IA32_PAT, 0), 0);
	assert_int_equal(fake_be(v0)->hw.pat, 0x0706050401000706ULL);
	assert_int_equal(fake_be(v1)->hw.pat, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_default_deny, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_fixed_msrs, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_tsc, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_apic_base, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_tsc_deadline, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_x2apic_range, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_efer, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_misc_enable, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_amd_perf, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_intercepts, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_pat, setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
