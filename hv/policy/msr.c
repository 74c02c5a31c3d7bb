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
#include "hv/partition/partition.h"
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
	(void)msr;
	*val = GUEST_LAPIC_BASE | APIC_BASE_EN | (v->id == 0 ? APIC_BASE_BSP : 0) |
	       (vlapic_x2apic_mode(v) ? APIC_BASE_EXTD : 0);
	return 0;
}

/* The local APIC stays where the platform put it, enabled; the guest may
 * switch it to x2APIC mode (SDM 3A 11.12.5). */
static int write_apic_base(struct vcpu *v, u32 msr, u64 val)
{
	u64 cur;

	read_apic_base(v, msr, &cur);
	if ((val & ~(APIC_BASE_BSP | APIC_BASE_EXTD)) != (cur & ~(APIC_BASE_BSP | APIC_BASE_EXTD)))
		return -E_INVAL;
	return vlapic_set_x2apic(v, val & APIC_BASE_EXTD);
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

static int read_misc_enable(struct vcpu *v, u32 msr, u64 *val)
{
	(void)v;
	(void)msr;
	*val = MISC_ENABLE_FAST_STRING | MISC_ENABLE_BTS_UNAVAIL | MISC_ENABLE_PEBS_UNAVAIL;
	return 0;
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
	{ MSR_IA32_MISC_ENABLE, read_misc_enable, write_ignore },
	{ MSR_IA32_FEATURE_CONTROL, read_feature_control, NULL },
	{ MSR_IA32_BIOS_SIGN_ID, read_zero, write_ignore },
	{ MSR_IA32_MTRRCAP, read_zero, NULL },
	{ MSR_IA32_MCG_CAP, read_zero, NULL },
	{ MSR_IA32_MCG_STATUS, read_zero, write_ignore },
	{ MSR_AMD_HWCR, read_zero, write_ignore },
	{ MSR_AMD_NB_CFG, read_zero, write_ignore },
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

int msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	const struct msr_rule *r = find_rule(msr);

	if (vlapic_is_x2apic_msr(msr))
		return vlapic_msr_read(v, msr, val);
	return r && r->read ? r->read(v, msr, val) : -E_INVAL;
}

int msr_write(struct vcpu *v, u32 msr, u64 val)
{
	const struct msr_rule *r = find_rule(msr);

	if (vlapic_is_x2apic_msr(msr))
		return vlapic_msr_write(v, msr, val);
	return r && r->write ? r->write(v, msr, val) : -E_INVAL;
}
