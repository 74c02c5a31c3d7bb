/* VT-x: feature probe and VMX operation on each CPU (SDM 3C ch. 24-25, 3D A). */
#include "hv/console.h"
#include "hv/lib.h"
#include "hv/mm/mm.h"
#include "hv/percpu.h"
#include "hv/vcpu_ops.h"
#include "hv/x86.h"

/* IA32_VMX_BASIC (SDM 3D A.1) */
#define VMX_BASIC_REVISION_MASK 0x7fffffffULL
#define VMX_BASIC_TRUE_CTLS BIT(55)
/* Primary processor-based controls (SDM 3C 25.6.2) */
#define VMX_PROC_SECONDARY BIT(31)
/* Secondary processor-based controls (SDM 3C 25.6.2, table 25-7) */
#define VMX_PROC2_EPT BIT(1)
#define VMX_PROC2_VPID BIT(5)
#define VMX_PROC2_UNRESTRICTED BIT(7)
/* IA32_VMX_EPT_VPID_CAP (SDM 3D A.10) */
#define VMX_EPT_WALK_4 BIT(6)
#define VMX_EPT_WB BIT(14)
#define VMX_EPT_2M BIT(16)
#define VMX_EPT_1G BIT(17)
#define VMX_EPT_AD BIT(21)

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/* The allowed-1 settings are the high half of a capability MSR (SDM 3D A.3). */
static u32 allowed1(u32 msr)
{
	return (u32)(rdmsr(msr) >> 32);
}

static int vmx_probe(struct virt_caps *caps)
{
	u64 basic = rdmsr(MSR_IA32_VMX_BASIC);
	u32 proc, proc2 = 0;
	u64 ept_cap = 0;

	caps->vendor = "VT-x";
	caps->slat = "EPT";
	caps->vmcs_revision = (u32)(basic & VMX_BASIC_REVISION_MASK);
	caps->true_ctls = basic & VMX_BASIC_TRUE_CTLS;
	proc = allowed1(caps->true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS
					: MSR_IA32_VMX_PROCBASED_CTLS);
	if (proc & VMX_PROC_SECONDARY)
		proc2 = allowed1(MSR_IA32_VMX_PROCBASED_CTLS2);
	if (proc2 & (VMX_PROC2_EPT | VMX_PROC2_VPID))
		ept_cap = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	caps->ept = (proc2 & VMX_PROC2_EPT) && (ept_cap & VMX_EPT_WALK_4) &&
		    (ept_cap & VMX_EPT_WB);
	caps->vpid = proc2 & VMX_PROC2_VPID;
	caps->unrestricted = proc2 & VMX_PROC2_UNRESTRICTED;
	caps->ept_ad = ept_cap & VMX_EPT_AD;
	caps->ept_2m = ept_cap & VMX_EPT_2M;
	caps->ept_1g = ept_cap & VMX_EPT_1G;
	pr_info("vmx: VT-x, EPT %s, VPID %s, unrestricted guest %s, EPT A/D %s\n",
		yes_no(caps->ept), yes_no(caps->vpid), yes_no(caps->unrestricted),
		yes_no(caps->ept_ad));

	caps->usable = caps->ept && caps->unrestricted;
	if (!caps->ept)
		snprintf(caps->reason, sizeof(caps->reason), "VT-x without EPT");
	else if (!caps->unrestricted)
		snprintf(caps->reason, sizeof(caps->reason),
			 "VT-x without unrestricted guest");
	return caps->usable ? 0 : -E_NOSUPP;
}

/* SDM 3C 24.7 (enabling VMX operation) and 3D A.7/A.8 (fixed CR bits) */
static int vmx_cpu_enable(struct percpu *c, const struct virt_caps *caps)
{
	u64 fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	u32 *region;
	u8 fail;

	if (!(fc & FEATURE_CONTROL_LOCKED)) {
		/* firmware left it open: enable VMX outside SMX and lock */
		fc |= FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCKED;
		wrmsr(MSR_IA32_FEATURE_CONTROL, fc);
	} else if (!(fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX)) {
		return -E_NOSUPP; /* locked off by firmware */
	}
	write_cr0((read_cr0() | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) &
		  rdmsr(MSR_IA32_VMX_CR0_FIXED1));
	write_cr4(((read_cr4() | CR4_VMXE) | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) &
		  rdmsr(MSR_IA32_VMX_CR4_FIXED1));

	if (!c->vmxon_pa) {
		region = mm_alloc_page();
		if (!region)
			return -E_NOMEM;
		c->vmxon_pa = virt_to_phys(region);
	} else {
		region = phys_to_virt(c->vmxon_pa);
	}
	region[0] = caps->vmcs_revision;
	/* VMfailInvalid sets CF, VMfailValid ZF (SDM 3C 31.2) */
	__asm__ volatile("vmxon %1; setbe %0" : "=qm"(fail) : "m"(c->vmxon_pa)
			 : "cc", "memory");
	return fail ? -E_IO : 0;
}

static void vmx_cpu_disable(struct percpu *c)
{
	(void)c;
	__asm__ volatile("vmxoff" ::: "cc", "memory");
	write_cr4(read_cr4() & ~CR4_VMXE);
}

const struct vcpu_ops vmx_ops = {
	.name = "vmx",
	.probe = vmx_probe,
	.cpu_enable = vmx_cpu_enable,
	.cpu_disable = vmx_cpu_disable,
};
