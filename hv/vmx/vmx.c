/*
 * VT-x: feature probe, VMX operation on each CPU (SDM 3C ch. 24-25, 3D A),
 * and the backend's ops table. The other files of hv/vmx/ hold the VMCS
 * field encodings (vmcs.h), the checked VMX instructions (vmcs_access.c), the
 * VMCS set-up (setup.c), the partition bitmaps (part.c), the state transfer
 * (state.c), entry and exit (run.c, vmx_entry.asm), the pure decoding and
 * control policy (logic.h: decode.c, ctls.c, bitmap.c) and the dump
 * (dump.c).
 */
#include "hv/vmx/vmx.h"
#include "hv/console/console.h"
#include "hv/cpu/percpu.h"
#include "hv/ept/ept.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"

struct vmx_config vmx_cfg;
/* Each CPU's VMXON region (SDM 3C 25.11.5), by logical CPU index. */
static u64 vmxon_pa[HV_MAX_CPUS];

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/* SDM 3D A.2: with IA32_VMX_BASIC bit 55, the TRUE MSRs say which of the
 * default-1 controls may be 0. */
static void read_msrs(struct vmx_msrs *m)
{
	bool true_ctls;

	memset(m, 0, sizeof(*m));
	m->basic = rdmsr(MSR_IA32_VMX_BASIC);
	true_ctls = m->basic & VMX_BASIC_TRUE_CTLS;
	m->pin = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	m->proc = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	m->exit = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	m->entry = rdmsr(true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	m->misc = rdmsr(MSR_IA32_VMX_MISC);
	m->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	m->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	m->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	m->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);
	/* A.3.3: the secondary controls exist when the primary may enable them */
	if (vmx_ctl_allowed(m->proc, PROC_SECONDARY_CTLS))
		m->proc2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	/* A.10: only when EPT or VPID may be enabled */
	if (vmx_ctl_allowed(m->proc2, PROC2_EPT) || vmx_ctl_allowed(m->proc2, PROC2_VPID))
		m->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
}

static int vmx_probe(struct virt_caps *caps)
{
	struct vmx_msrs m;
	bool ept, vpid, unrestricted;
	int err;

	read_msrs(&m);
	caps->vendor = "VT-x";
	caps->slat = "EPT";
	ept = vmx_ctl_allowed(m.proc2, PROC2_EPT) && (m.ept_vpid & VMX_EPT_WALK_4) &&
	      (m.ept_vpid & VMX_EPT_WB);
	vpid = vmx_ctl_allowed(m.proc2, PROC2_VPID);
	unrestricted = vmx_ctl_allowed(m.proc2, PROC2_UNRESTRICTED_GUEST);
	pr_info("vmx: VT-x, EPT %s, VPID %s, unrestricted guest %s, EPT A/D %s\n", yes_no(ept),
		yes_no(vpid), yes_no(unrestricted), yes_no(m.ept_vpid & VMX_EPT_AD));

	err = vmx_config_compute(&m, &vmx_cfg, caps->reason, sizeof(caps->reason));
	caps->usable = !err;
	if (err)
		return err;
	caps->slat_1g = vmx_cfg.ept_1g;
	pr_info("vmx controls: pin %#x proc %#x proc2 %#x exit %#x entry %#x%s\n", vmx_cfg.pin,
		vmx_cfg.proc, vmx_cfg.proc2, vmx_cfg.exit, vmx_cfg.entry,
		(m.basic & VMX_BASIC_TRUE_CTLS) ? " (true)" : "");
	return 0;
}

/* SDM 3C 24.7 (enabling VMX operation) and 3D A.7/A.8 (fixed CR bits) */
static int vmx_cpu_enable(struct percpu *c)
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
	write_cr0((read_cr0() | rdmsr(MSR_IA32_VMX_CR0_FIXED0)) & rdmsr(MSR_IA32_VMX_CR0_FIXED1));
	write_cr4(((read_cr4() | CR4_VMXE) | rdmsr(MSR_IA32_VMX_CR4_FIXED0)) &
		  rdmsr(MSR_IA32_VMX_CR4_FIXED1));

	if (!vmxon_pa[c->index]) {
		region = mm_alloc_page();
		if (!region)
			return -E_NOMEM;
		vmxon_pa[c->index] = virt_to_phys(region);
	} else {
		region = phys_to_virt(vmxon_pa[c->index]);
	}
	region[0] = vmx_cfg.revision;
	/* VMfailInvalid sets CF, VMfailValid ZF (SDM 3C 31.2) */
	__asm__ volatile("vmxon %1; setbe %0"
			 : "=qm"(fail)
			 : "m"(vmxon_pa[c->index])
			 : "cc", "memory");
	return fail ? -E_IO : 0;
}

const struct vcpu_ops vmx_ops = {
	.name = "vmx",
	.slat_fmt = &slat_fmt_ept,
	.probe = vmx_probe,
	.cpu_enable = vmx_cpu_enable,
	.part_init = vmx_part_init,
	.part_free = vmx_part_free,
	.set_msr_intercept = vmx_set_msr_intercept,
	.set_io_intercept = vmx_set_io_intercept,
	.vcpu_init = vmx_vcpu_init,
	.vcpu_reset = vmx_vcpu_reset,
	.run = vmx_run,
	.apply = vmx_apply,
	.skip = vmx_skip,
	.load_state = vmx_load_state,
	.store_state = vmx_store_state,
	.irq_injectable = vmx_irq_injectable,
	.nmi_injectable = vmx_nmi_injectable,
	.flush_tlb = vmx_flush_tlb,
	.dump = vmx_dump,
};
