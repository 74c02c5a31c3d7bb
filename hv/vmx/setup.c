/*
 * VMCS set-up for a vCPU, on the physical CPU it is pinned to: the controls
 * (SDM 3C 25.6-25.8), the host state (25.5, checked by 27.2.2-27.2.4), and
 * the guest fields the neutral state does not carry (25.4.2). The guest's
 * registers come afterwards from the core, with store_state(VS_ALL).
 */
#include "hv/console/console.h"
#include "hv/cpu/percpu.h"
#include "hv/ept/ept.h"
#include "hv/hw/paging.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/partition/partition.h"
#include "hv/vmx/vmx.h"

#define VAPIC_VTPR 0x80 /* SDM 3C 30.1.1: the virtual TPR in the virtual-APIC page */

static u64 idt_base(void)
{
	struct desc_ptr idtr;

	__asm__ volatile("sidt %0" : "=m"(idtr));
	return idtr.base;
}

static struct vmx_vcpu *vx(struct vcpu *v)
{
	return v->vendor;
}

/* VPID 0 is the host's (SDM 3C 27.2.1.1: the VPID must not be 0) */
static u16 part_vpid(const struct partition *p)
{
	return vmx_cfg.vpid ? (u16)(p->index + 1) : 0;
}

static bool setup_controls(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);
	const struct vmx_part *vp = v->part->vendor;
	bool ok = true;

	x->proc = vmx_cfg.proc;
	x->entry = vmx_cfg.entry;
	x->eptp = ept_pointer(v->part->slat.root_pa, vmx_cfg.ept_ad);
	x->vpid = part_vpid(v->part);

	ok &= vmcs_write(VMCS_PIN_CTLS, vmx_cfg.pin);
	ok &= vmcs_write(VMCS_PROC_CTLS, x->proc);
	ok &= vmcs_write(VMCS_PROC_CTLS2, vmx_cfg.proc2);
	ok &= vmcs_write(VMCS_EXIT_CTLS, vmx_cfg.exit);
	ok &= vmcs_write(VMCS_ENTRY_CTLS, x->entry);

	/* the exceptions every backend intercepts (25.6.3, hv/vcpu/vcpu_ops.h),
	 * no CR3-target values (25.6.7), no MSR lists (25.7.2, 25.8.2),
	 * nothing to inject yet */
	ok &= vmcs_write(VMCS_EXCEPTION_BITMAP, VCPU_EXC_INTERCEPTED);
	ok &= vmcs_write(VMCS_PF_ERROR_MASK, 0);
	ok &= vmcs_write(VMCS_PF_ERROR_MATCH, 0);
	ok &= vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	ok &= vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	ok &= vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	ok &= vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	ok &= vmcs_write(VMCS_ENTRY_INTR_INFO, 0);

	ok &= vmcs_write(VMCS_IO_BITMAP_A, vp->io_bitmap_a_pa);
	ok &= vmcs_write(VMCS_IO_BITMAP_B, vp->io_bitmap_b_pa);
	ok &= vmcs_write(VMCS_MSR_BITMAP, vp->msr_bitmap_pa);
	/* 25.6.8: CR8 lives in the virtual-APIC page; threshold 0 never exits */
	ok &= vmcs_write(VMCS_VIRTUAL_APIC_ADDR, x->vapic_pa);
	ok &= vmcs_write(VMCS_TPR_THRESHOLD, 0);
	ok &= vmcs_write(VMCS_EPT_POINTER, x->eptp);
	if (x->vpid)
		ok &= vmcs_write(VMCS_VPID, x->vpid);
	/* 25.6 (XSS-exiting bitmap): with XSAVES enabled, a clear bitmap lets
	 * them run */
	if (vmx_cfg.proc2 & PROC2_XSAVES)
		ok &= vmcs_write(VMCS_XSS_EXIT_BITMAP, 0);

	ok &= vmcs_write(VMCS_CR0_MASK, vmx_cfg.cr0_mask);
	ok &= vmcs_write(VMCS_CR4_MASK, vmx_cfg.cr4_mask);
	return ok;
}

/* 25.5 host-state area; a VM exit loads it (28.5) */
static bool setup_host(void)
{
	struct percpu *c = this_cpu();
	bool ok = true;

	ok &= vmcs_write(VMCS_HOST_CR0, read_cr0());
	ok &= vmcs_write(VMCS_HOST_CR3, mm_root());
	ok &= vmcs_write(VMCS_HOST_CR4, read_cr4());

	/* the selectors cpu_load() gives this CPU (27.2.3: RPL and TI 0) */
	ok &= vmcs_write(VMCS_HOST_CS_SEL, GDT_SEL_CODE);
	ok &= vmcs_write(VMCS_HOST_SS_SEL, GDT_SEL_DATA);
	ok &= vmcs_write(VMCS_HOST_DS_SEL, GDT_SEL_DATA);
	ok &= vmcs_write(VMCS_HOST_ES_SEL, GDT_SEL_DATA);
	ok &= vmcs_write(VMCS_HOST_FS_SEL, 0);
	ok &= vmcs_write(VMCS_HOST_GS_SEL, 0);
	ok &= vmcs_write(VMCS_HOST_TR_SEL, GDT_SEL_TSS);

	ok &= vmcs_write(VMCS_HOST_FS_BASE, 0);
	ok &= vmcs_write(VMCS_HOST_GS_BASE, (u64)(uintptr_t)c); /* this_cpu() */
	ok &= vmcs_write(VMCS_HOST_TR_BASE, (u64)(uintptr_t)&c->tss);
	ok &= vmcs_write(VMCS_HOST_GDTR_BASE, (u64)(uintptr_t)c->gdt);
	ok &= vmcs_write(VMCS_HOST_IDTR_BASE, idt_base());

	/* the hypervisor never uses SYSENTER */
	ok &= vmcs_write(VMCS_HOST_SYSENTER_CS, 0);
	ok &= vmcs_write(VMCS_HOST_SYSENTER_ESP, 0);
	ok &= vmcs_write(VMCS_HOST_SYSENTER_EIP, 0);
	ok &= vmcs_write(VMCS_HOST_EFER, rdmsr(MSR_IA32_EFER));
	ok &= vmcs_write(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));

	/* HOST_RSP is the entry stub's frame, written by the stub itself */
	ok &= vmcs_write(VMCS_HOST_RSP, 0);
	ok &= vmcs_write(VMCS_HOST_RIP, (u64)(uintptr_t)vmx_exit_stub);
	return ok;
}

/* 25.4.2: guest non-register state, and what stays fixed */
static bool setup_guest(void)
{
	bool ok = true;

	ok &= vmcs_write(VMCS_LINK_POINTER, VMCS_LINK_NONE);
	/* RSP is not in the neutral state: start where vmx_vcpu.guest_rsp says */
	ok &= vmcs_write(VMCS_GUEST_RSP, 0);
	ok &= vmcs_write(VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
	ok &= vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	ok &= vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
	ok &= vmcs_write(VMCS_GUEST_DEBUGCTL, 0);
	for (u32 i = 0; i < PDPTE_COUNT; i++)
		ok &= vmcs_write(VMCS_GUEST_PDPTE0 + 2 * i, 0);
	return ok;
}

/* vmx_vcpu_init's failure paths: what it allocated goes back. */
static void vcpu_free(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);

	if (!x)
		return;
	if (x->vmcs) {
		/* flushes the processor's copy and makes it not current */
		if (x->vmcs_pa && !vmx_vmclear(x->vmcs_pa))
			pr_err("vmx: vcpu %u: VMCLEAR failed\n", v->id);
		mm_free(x->vmcs, PAGE_SIZE);
	}
	if (x->vapic)
		mm_free(x->vapic, PAGE_SIZE);
	mm_free(x, sizeof(*x));
	v->vendor = NULL;
}

int vmx_vcpu_init(struct vcpu *v)
{
	struct vmx_vcpu *x;
	u32 *revision;

	/* VMCLEAR outside VMX operation would #UD in the hypervisor */
	if (!this_cpu()->virt_on)
		return -E_NOSUPP;
	x = mm_alloc(sizeof(*x), sizeof(u64), 0);
	if (!x)
		return -E_NOMEM;
	v->vendor = x;
	x->vmcs = mm_alloc_page();
	x->vapic = mm_alloc_page();
	if (!x->vmcs || !x->vapic) {
		vcpu_free(v);
		return -E_NOMEM;
	}
	x->vmcs_pa = virt_to_phys(x->vmcs);
	x->vapic_pa = virt_to_phys(x->vapic);
	/* SDM 3C 25.2: the revision identifier, shadow-VMCS indicator clear */
	revision = x->vmcs;
	*revision = vmx_cfg.revision;

	/* 25.11.3: VMCLEAR initialises the region (launch state clear), then
	 * VMPTRLD makes it current on this CPU, where it stays */
	if (!vmx_vmclear(x->vmcs_pa) || !vmx_vmptrld(x->vmcs_pa)) {
		pr_err("vmx: vcpu %u: VMCLEAR/VMPTRLD failed (VM-instruction error %u)\n", v->id,
		       vmcs_insn_error());
		vcpu_free(v);
		return -E_IO;
	}
	if (!setup_controls(v) || !setup_host() || !setup_guest()) {
		pr_err("vmx: vcpu %u: VMCS set-up failed\n", v->id);
		vcpu_free(v);
		return -E_IO;
	}
	vmx_flush_tlb(v);
	return 0;
}

/* SDM 3C 29.4.3: INVEPT drops guest-physical and combined mappings of the
 * EPT; INVVPID the linear mappings the guest's VPID tags. */
void vmx_flush_tlb(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);

	if (vmx_cfg.invept_single)
		vmx_invept(INVEPT_SINGLE_CONTEXT, x->eptp);
	else
		vmx_invept(INVEPT_GLOBAL, 0);
	if (!x->vpid)
		return;
	if (vmx_cfg.invvpid_single)
		vmx_invvpid(INVVPID_SINGLE_CONTEXT, x->vpid);
	else
		vmx_invvpid(INVVPID_ALL_CONTEXT, 0);
}

void vmx_vcpu_reset(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);

	/* nothing injected or re-injected, no window open */
	x->reinject_info = 0;
	/* the new RSP in gpr[] goes into the VMCS whatever was last read */
	vmcs_set(VMCS_GUEST_RSP, v->gpr[GPR_RSP]);
	x->guest_rsp = v->gpr[GPR_RSP];
	x->proc &= ~(u32)(PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING);
	vmcs_set(VMCS_PROC_CTLS, x->proc);
	vmcs_set(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_set(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_set(VMCS_GUEST_PENDING_DBG, 0);
	vmcs_set(VMCS_GUEST_ACTIVITY, ACTIVITY_ACTIVE);
	/* SDM 3A 11.4.7.1: INIT clears the TPR (here: CR8's shadow) */
	*(volatile u32 *)((u8 *)x->vapic + VAPIC_VTPR) = 0;
	/* a restarted partition may have a new second-level table */
	x->eptp = ept_pointer(v->part->slat.root_pa, vmx_cfg.ept_ad);
	vmcs_set(VMCS_EPT_POINTER, x->eptp);
	vmx_flush_tlb(v);
}
