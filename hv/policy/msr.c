/*
 * MSR policy. Every MSR is intercepted unless listed here as passed through;
 * an intercepted MSR without a rule raises #GP (as a real CPU does for an MSR
 * it lacks). The pass-through ones are guest state that the hardware switches
 * (VMCS/VMCB fields, VMLOAD/VMSAVE) or that the hypervisor never uses.
 * IA32_PAT is not one: VMRUN does not switch it (the guest's PAT under NPT
 * is the VMCB's G_PAT, APM 2 15.25.8), so it is the vCPU state VS_PAT on
 * both vendors, read and written here.
 */
#include "hv/policy/msr.h"
#include "hv/console/console.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/partition/partition.h"
#include "hv/policy/cpuid.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vdev/vlapic.h"
#include "hv/virt.h"

#define EFER_GUEST_WRITABLE (EFER_SCE | EFER_LME | EFER_NXE)

/* Guest state the hardware switches, or that the hypervisor never uses. */
static const u32 passthrough[] = {
	MSR_IA32_FS_BASE,      MSR_IA32_GS_BASE,      MSR_IA32_KERNEL_GS_BASE, MSR_IA32_STAR,
	MSR_IA32_LSTAR,	       MSR_IA32_CSTAR,	      MSR_IA32_FMASK,	       MSR_IA32_SYSENTER_CS,
	MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP, MSR_IA32_TSC_AUX,
};

typedef int (*msr_read_fn)(struct vcpu *v, u32 msr, u64 *val);
typedef int (*msr_write_fn)(struct vcpu *v, u32 msr, u64 val);

struct msr_rule {
	u32 msr;
	msr_read_fn read;   /* NULL: #GP */
	msr_write_fn write; /* NULL: #GP */
};

static int read_zero(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v;
	(void)msr;
	*val = 0;
	return 0;
}

static int write_ignore(struct vcpu *v, u32 msr, u64 val)
{
	(void)v;
	(void)msr;
	(void)val;
	return 0;
}

static int read_tsc(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v;
	(void)msr;
	*val = rdtsc();
	return 0;
}

static int read_apic_base(struct vcpu *v, u32 msr, u64 *val)
{
	enum vlapic_mode mode = vlapic_mode(v);

	(void)msr;
	*val = GUEST_LAPIC_BASE | (v->id == 0 ? APIC_BASE_BSP : 0) |
	       (mode != VLAPIC_OFF ? APIC_BASE_EN : 0) |
	       (mode == VLAPIC_X2APIC ? APIC_BASE_EXTD : 0);
	return 0;
}

/* The local APIC stays where the platform put it; the guest may switch it
 * between the modes of SDM 3A 11.12.5 (EN = 0 with EXTD = 1 is invalid),
 * which the local APIC allows or refuses. BSP is read-only. */
static int write_apic_base(struct vcpu *v, u32 msr, u64 val)
{
	const u64 mode_bits = APIC_BASE_BSP | APIC_BASE_EXTD | APIC_BASE_EN;
	u64 cur;

	read_apic_base(v, msr, &cur);
	if ((val & ~mode_bits) != (cur & ~mode_bits))
		return -E_INVAL;
	if (!(val & APIC_BASE_EN))
		return val & APIC_BASE_EXTD ? -E_INVAL : vlapic_set_mode(v, VLAPIC_OFF);
	return vlapic_set_mode(v, val & APIC_BASE_EXTD ? VLAPIC_X2APIC : VLAPIC_XAPIC);
}

static int read_tsc_deadline(struct vcpu *v, u32 msr, u64 *val)
{
	(void)msr;
	*val = vlapic_tsc_deadline_read(v);
	return 0;
}

static int write_tsc_deadline(struct vcpu *v, u32 msr, u64 val)
{
	(void)msr;
	return vlapic_tsc_deadline_write(v, val);
}

static int read_efer(struct vcpu *v, u32 msr, u64 *val)
{
	(void)msr;
	vcpu_ops->load_state(v, VS_CR);
	*val = v->state.efer;
	return 0;
}

/* SDM 3A 2.2.1 / APM 2 3.1.7: reserved bits #GP; LMA is read-only. */
static int write_efer(struct vcpu *v, u32 msr, u64 val)
{
	(void)msr;
	if (val & ~(EFER_GUEST_WRITABLE | EFER_LMA))
		return -E_INVAL;
	vcpu_ops->load_state(v, VS_CR);
	/* LME cannot change while paging is on */
	if ((v->state.cr0 & CR0_PG) && ((val ^ v->state.efer) & EFER_LME))
		return -E_INVAL;
	v->state.efer = (val & EFER_GUEST_WRITABLE) | (v->state.efer & EFER_LMA);
	vcpu_ops->store_state(v, VS_CR);
	return 0;
}

static int read_pat(struct vcpu *v, u32 msr, u64 *val)
{
	(void)msr;
	vcpu_ops->load_state(v, VS_PAT);
	*val = v->state.pat;
	return 0;
}

/* SDM 3A 12.12.2: a reserved memory type or bit in any entry is #GP */
static int write_pat(struct vcpu *v, u32 msr, u64 val)
{
	(void)msr;
	for (u32 i = 0; i < PAT_ENTRIES; i++) {
		u8 type = (u8)(val >> (8 * i));

		if ((type & ~PAT_ENTRY_TYPE_MASK) || type == PAT_TYPE_RESERVED_2 ||
		    type == PAT_TYPE_RESERVED_3)
			return -E_INVAL;
	}
	v->state.pat = val;
	vcpu_ops->store_state(v, VS_PAT);
	return 0;
}

/*
 * IA32_MISC_ENABLE (SDM 4 table 2-2), per vCPU. Fast strings (0), the
 * automatic thermal control circuit (3) and Limit CPUID Maxval (22) are
 * the guest's to set and clear. Performance monitoring available (7: none
 * is offered), BTS and PEBS unavailable (11, 12) are read-only, and so is
 * XD Bit Disable (34), kept 0 so that NX stays as CPUID shows it: writes
 * to them are ignored. Enhanced SpeedStep (16), MONITOR FSM (18) and the
 * xTPR disable (23) exist only with CPUID flags the partition does not
 * see: like the reserved bits, they raise #GP when set.
 */
#define MISC_ENABLE_GUEST (MISC_ENABLE_FAST_STRING | MISC_ENABLE_TCC | MISC_ENABLE_LIMIT_CPUID)
#define MISC_ENABLE_READ_ONLY                                                        \
	(MISC_ENABLE_PERF_MON | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL | \
	 MISC_ENABLE_XD_DISABLE)
#define MISC_ENABLE_RESET \
	(MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL)

static int read_misc_enable(struct vcpu *v, u32 msr, u64 *val)
{
	(void)msr;
	*val = v->msr.misc_enable;
	return 0;
}

static int write_misc_enable(struct vcpu *v, u32 msr, u64 val)
{
	(void)msr;
	if (val & ~(MISC_ENABLE_GUEST | MISC_ENABLE_READ_ONLY))
		return -E_INVAL;
	v->msr.misc_enable = (v->msr.misc_enable & ~MISC_ENABLE_GUEST) | (val & MISC_ENABLE_GUEST);
	if (val & MISC_ENABLE_LIMIT_CPUID)
		cpuid_leaf0_per_vcpu(v->part);
	return 0;
}

/*
 * The legacy performance counters every AMD64 CPU has (APM 2 13.2.1):
 * PerfEvtSel0-3 and PerfCtr0-3, per vCPU, for a partition whose CPUID
 * says AMD (Intel CPUs have none: #GP there). Present but inert: what the
 * guest writes is kept (a counter's 48 bits) and read back, and nothing is
 * ever counted, so no counter overflows or interrupts; an event select
 * with a reserved bit set raises #GP. Linux finds them working (it checks
 * that a counter keeps what it wrote) and its perf events never fire.
 */
static u64 *amd_perf(struct vcpu *v, u32 msr)
{
	return cpuid_vendor_amd(v->part) ? &v->msr.amd_perf[msr - MSR_AMD_PERF_CTL0] : NULL;
}

static int read_amd_perf(struct vcpu *v, u32 msr, u64 *val)
{
	u64 *reg = amd_perf(v, msr);

	if (!reg)
		return -E_INVAL;
	*val = *reg;
	return 0;
}

static int write_amd_perf(struct vcpu *v, u32 msr, u64 val)
{
	u64 *reg = amd_perf(v, msr);

	if (!reg || (msr < MSR_AMD_PERF_CTR0 && (val & AMD_PERF_CTL_RESERVED)))
		return -E_INVAL;
	*reg = msr < MSR_AMD_PERF_CTR0 ? val : val & AMD_PERF_CTR_MASK;
	return 0;
}

/*
 * RDPMC reads the same counters (APM 3 RDPMC: ECX 0-3 are PerfCtr0-3 on
 * every AMD64 CPU; 4 and 5 need PerfCtrExtCore, which CPUID does not show).
 * An Intel partition has no PMU (CPUID 0Ah reports version 0), so any
 * counter number is invalid there (SDM 2B RDPMC).
 */
int msr_read_pmc(struct vcpu *v, u32 counter, u64 *val)
{
	if (counter >= AMD_PERF_COUNTERS)
		return -E_INVAL;
	return read_amd_perf(v, MSR_AMD_PERF_CTR0 + counter, val);
}

void msr_reset_vcpu(struct vcpu *v)
{
	memset(&v->msr, 0, sizeof(v->msr));
	v->msr.misc_enable = MISC_ENABLE_RESET;
}

/* Locked with VMX off: the guest cannot turn VT-x on. */
static int read_feature_control(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v;
	(void)msr;
	*val = FEATURE_CONTROL_LOCKED;
	return 0;
}

static const struct msr_rule rules[] = {
	{ MSR_IA32_TSC, read_tsc, write_ignore },
	{ MSR_IA32_APIC_BASE, read_apic_base, write_apic_base },
	{ MSR_IA32_TSC_DEADLINE, read_tsc_deadline, write_tsc_deadline },
	{ MSR_IA32_EFER, read_efer, write_efer },
	{ MSR_IA32_PAT, read_pat, write_pat },
	{ MSR_IA32_MISC_ENABLE, read_misc_enable, write_misc_enable },
	{ MSR_IA32_FEATURE_CONTROL, read_feature_control, NULL },
	{ MSR_IA32_BIOS_SIGN_ID, read_zero, write_ignore },
	{ MSR_IA32_MTRRCAP, read_zero, NULL },
	{ MSR_IA32_MCG_CAP, read_zero, NULL },
	{ MSR_IA32_MCG_STATUS, read_zero, write_ignore },
	{ MSR_AMD_HWCR, read_zero, write_ignore },
	{ MSR_AMD_NB_CFG, read_zero, write_ignore },
	{ MSR_AMD_PERF_CTL0, read_amd_perf, write_amd_perf },
	{ MSR_AMD_PERF_CTL0 + 1, read_amd_perf, write_amd_perf },
	{ MSR_AMD_PERF_CTL0 + 2, read_amd_perf, write_amd_perf },
	{ MSR_AMD_PERF_CTL0 + 3, read_amd_perf, write_amd_perf },
	{ MSR_AMD_PERF_CTR0, read_amd_perf, write_amd_perf },
	{ MSR_AMD_PERF_CTR0 + 1, read_amd_perf, write_amd_perf },
	{ MSR_AMD_PERF_CTR0 + 2, read_amd_perf, write_amd_perf },
	{ MSR_AMD_PERF_CTR0 + 3, read_amd_perf, write_amd_perf },
};

static const struct msr_rule *find_rule(u32 msr)
{
	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		if (rules[i].msr == msr)
			return &rules[i];
	return NULL;
}

void msr_setup_partition(struct partition *p)
{
	for (size_t i = 0; i < ARRAY_SIZE(passthrough); i++)
		vcpu_ops->set_msr_intercept(p, passthrough[i], false, false);
	/* reading the TSC is harmless and frequent; writing it is not */
	vcpu_ops->set_msr_intercept(p, MSR_IA32_TSC, false, true);
}

/* The x2APIC's MSRs first: the frequent ones (EOI, ICR, the timer). */
int msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	const struct msr_rule *r;

	if (vlapic_is_x2apic_msr(msr))
		return vlapic_msr_read(v, msr, val);
	r = find_rule(msr);
	return r && r->read ? r->read(v, msr, val) : -E_INVAL;
}

int msr_write(struct vcpu *v, u32 msr, u64 val)
{
	const struct msr_rule *r;

	if (vlapic_is_x2apic_msr(msr))
		return vlapic_msr_write(v, msr, val);
	r = find_rule(msr);
	return r && r->write ? r->write(v, msr, val) : -E_INVAL;
}
