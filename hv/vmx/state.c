/*
 * The neutral vCPU state (hv/vcpu/vcpu.h) <-> the VMCS guest-state area (SDM 3C
 * 25.4). CR0 and CR4 are kept as the guest sees them in struct vcpu_state;
 * the VMCS holds the value the CPU runs with (the VMX fixed bits applied)
 * and the read shadow (the guest's value). CR2, DR6 and the MSRs of
 * VS_MSR have no VMCS field: the guest's values stay in the registers,
 * which the hypervisor does not use.
 */
#include "hv/hw/paging.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/partition/partition.h"
#include "hv/vmx/vmx.h"

static struct vmx_vcpu *vx(struct vcpu *v)
{
	return v->vendor;
}

/* VS_MSR: the registers themselves. TSC_AUX exists only with RDTSCP. */
static void load_msrs(struct vcpu_state *st)
{
	st->kernel_gs_base = rdmsr(MSR_IA32_KERNEL_GS_BASE);
	st->star = rdmsr(MSR_IA32_STAR);
	st->lstar = rdmsr(MSR_IA32_LSTAR);
	st->cstar = rdmsr(MSR_IA32_CSTAR);
	st->sfmask = rdmsr(MSR_IA32_FMASK);
	if (rdmsr_safe(MSR_IA32_TSC_AUX, &st->tsc_aux))
		st->tsc_aux = 0;
}

static void store_msrs(const struct vcpu_state *st)
{
	wrmsr(MSR_IA32_KERNEL_GS_BASE, st->kernel_gs_base);
	wrmsr(MSR_IA32_STAR, st->star);
	wrmsr(MSR_IA32_LSTAR, st->lstar);
	wrmsr(MSR_IA32_CSTAR, st->cstar);
	wrmsr(MSR_IA32_FMASK, st->sfmask);
	wrmsr_safe(MSR_IA32_TSC_AUX, st->tsc_aux);
}

static struct seg *state_seg(struct vcpu_state *st, enum vmx_seg s)
{
	switch (s) {
	case VMX_SEG_ES:
		return &st->es;
	case VMX_SEG_CS:
		return &st->cs;
	case VMX_SEG_SS:
		return &st->ss;
	case VMX_SEG_DS:
		return &st->ds;
	case VMX_SEG_FS:
		return &st->fs;
	case VMX_SEG_GS:
		return &st->gs;
	case VMX_SEG_LDTR:
		return &st->ldtr;
	default:
		return &st->tr;
	}
}

static u32 seg_field(u32 es_field, enum vmx_seg s)
{
	return es_field + VMCS_SEG_STRIDE * (u32)s;
}

static void load_segment(struct vcpu_state *st, enum vmx_seg s)
{
	struct seg *g = state_seg(st, s);

	g->sel = (u16)vmcs_get(seg_field(VMCS_GUEST_ES_SEL, s));
	g->limit = (u32)vmcs_get(seg_field(VMCS_GUEST_ES_LIMIT, s));
	g->attr = vmx_attr_from_ar((u32)vmcs_get(seg_field(VMCS_GUEST_ES_AR, s)));
	g->base = vmcs_get(seg_field(VMCS_GUEST_ES_BASE, s));
}

static void load_segments(struct vcpu_state *st)
{
	for (enum vmx_seg s = VMX_SEG_ES; s < VMX_SEG_COUNT; s++)
		load_segment(st, s);
	st->gdtr.base = vmcs_get(VMCS_GUEST_GDTR_BASE);
	st->gdtr.limit = (u32)vmcs_get(VMCS_GUEST_GDTR_LIMIT);
	st->idtr.base = vmcs_get(VMCS_GUEST_IDTR_BASE);
	st->idtr.limit = (u32)vmcs_get(VMCS_GUEST_IDTR_LIMIT);
}

void vmx_load_state(struct vcpu *v, u32 mask)
{
	struct vcpu_state *st = &v->state;

	mask &= ~v->state_valid;
	if (mask & VS_RIP)
		st->rip = vmcs_get(VMCS_GUEST_RIP);
	if (mask & VS_RFLAGS)
		st->rflags = vmcs_get(VMCS_GUEST_RFLAGS);
	if (mask & VS_CR) {
		st->cr0 = vmx_cr_guest_view(vmcs_get(VMCS_GUEST_CR0), vmcs_get(VMCS_CR0_SHADOW),
					    vmx_cfg.cr0_mask);
		st->cr4 = vmx_cr_guest_view(vmcs_get(VMCS_GUEST_CR4), vmcs_get(VMCS_CR4_SHADOW),
					    vmx_cfg.cr4_mask);
		st->cr3 = vmcs_get(VMCS_GUEST_CR3);
		st->cr2 = read_cr2();
		st->efer = vmcs_get(VMCS_GUEST_EFER);
	}
	if (mask & VS_SEG) {
		load_segments(st);
		mask |= VS_SEG_CODE;
	} else if (mask & VS_SEG_CODE) { /* what fetching an instruction needs */
		load_segment(st, VMX_SEG_CS);
		load_segment(st, VMX_SEG_SS);
	}
	if (mask & VS_DR) {
		st->dr6 = read_dr6();
		st->dr7 = vmcs_get(VMCS_GUEST_DR7);
	}
	if (mask & VS_SYSENTER) {
		st->sysenter_cs = vmcs_get(VMCS_GUEST_SYSENTER_CS);
		st->sysenter_esp = vmcs_get(VMCS_GUEST_SYSENTER_ESP);
		st->sysenter_eip = vmcs_get(VMCS_GUEST_SYSENTER_EIP);
	}
	if (mask & VS_PAT)
		st->pat = vmcs_get(VMCS_GUEST_PAT);
	if (mask & VS_INTR) {
		u64 intr = vmcs_get(VMCS_GUEST_INTERRUPTIBILITY);

		st->intr_shadow = ((intr & INTR_BLOCK_STI) ? INTR_SHADOW_STI : 0) |
				  ((intr & INTR_BLOCK_MOV_SS) ? INTR_SHADOW_MOVSS : 0);
	}
	if (mask & VS_MSR)
		load_msrs(st);
	v->state_valid |= mask;
}

/* TR must stay usable and busy for VM entry (vmx_tr_ar_fixup). */
static void fix_tr(struct vcpu *v)
{
	u32 field = seg_field(VMCS_GUEST_ES_AR, VMX_SEG_TR);
	u32 ar = (u32)vmcs_get(field);
	u32 fixed = vmx_tr_ar_fixup(ar, vx(v)->entry & ENTRY_IA32E_MODE_GUEST);

	if (fixed != ar)
		vmcs_set(field, fixed);
}

static void store_segments(struct vcpu *v)
{
	struct vcpu_state *st = &v->state;

	for (enum vmx_seg s = VMX_SEG_ES; s < VMX_SEG_COUNT; s++) {
		const struct seg *g = state_seg(st, s);

		vmcs_set(seg_field(VMCS_GUEST_ES_SEL, s), g->sel);
		vmcs_set(seg_field(VMCS_GUEST_ES_LIMIT, s), g->limit);
		vmcs_set(seg_field(VMCS_GUEST_ES_AR, s), vmx_ar_from_attr(g->attr));
		vmcs_set(seg_field(VMCS_GUEST_ES_BASE, s), g->base);
	}
	vmcs_set(VMCS_GUEST_GDTR_BASE, st->gdtr.base);
	vmcs_set(VMCS_GUEST_GDTR_LIMIT, st->gdtr.limit);
	vmcs_set(VMCS_GUEST_IDTR_BASE, st->idtr.base);
	vmcs_set(VMCS_GUEST_IDTR_LIMIT, st->idtr.limit);
	fix_tr(v);
}

/*
 * With EPT and PAE paging (not IA-32e), VM entry loads the four PDPTEs from
 * the VMCS, not from memory (SDM 3C 27.3.2.4): when the core sets
 * CR0/CR3/CR4, the VMCS copies must be read from the guest's PDPT as MOV to
 * CR3 would.
 */
static void load_pdptes(struct vcpu *v)
{
	const struct vcpu_state *st = &v->state;
	const u64 *pdpt = NULL;

	if ((st->cr0 & CR0_PG) && (st->cr4 & CR4_PAE) && !(st->efer & EFER_LMA))
		pdpt = part_gpa_ptr(v->part, st->cr3 & PAE_CR3_MASK, PDPTE_COUNT * sizeof(u64));
	for (u32 i = 0; i < PDPTE_COUNT; i++)
		vmcs_set(VMCS_GUEST_PDPTE0 + 2 * i, pdpt ? pdpt[i] : 0);
}

/*
 * SDM 3A 9.8.5: the processor sets EFER.LMA when paging comes on with LME
 * set, and clears it when paging goes off. PG is in the CR0 mask, so under
 * VT-x that MOV to CR0 exits and nothing does it in hardware: the backend
 * does, as the CPU would have (AMD-V does it in hardware).
 */
static void update_lma(struct vcpu_state *st)
{
	if ((st->cr0 & CR0_PG) && (st->efer & EFER_LME))
		st->efer |= EFER_LMA;
	else
		st->efer &= ~EFER_LMA;
}

static void store_cr(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);
	struct vcpu_state *st = &v->state;
	u32 entry;

	update_lma(st);

	/* 25.6.6: the guest reads the shadow for the masked bits; the CPU runs
	 * with the fixed bits of SDM 3D A.7/A.8 applied (NE, VMXE) */
	vmcs_set(VMCS_GUEST_CR0, vmx_cr_real(st->cr0, vmx_cfg.cr0_must1, vmx_cfg.cr0_may1));
	vmcs_set(VMCS_CR0_SHADOW, st->cr0);
	vmcs_set(VMCS_GUEST_CR4, vmx_cr_real(st->cr4, vmx_cfg.cr4_must1, vmx_cfg.cr4_may1));
	vmcs_set(VMCS_CR4_SHADOW, st->cr4);
	vmcs_set(VMCS_GUEST_CR3, st->cr3);
	write_cr2(st->cr2);
	vmcs_set(VMCS_GUEST_EFER, st->efer);

	/* 27.3.1.1: with "load IA32_EFER", IA-32e mode guest equals EFER.LMA */
	entry = x->entry & ~(u32)ENTRY_IA32E_MODE_GUEST;
	if (st->efer & EFER_LMA)
		entry |= ENTRY_IA32E_MODE_GUEST;
	if (entry != x->entry) {
		x->entry = entry;
		vmcs_set(VMCS_ENTRY_CTLS, entry);
		fix_tr(v);
	}
	load_pdptes(v);
}

void vmx_store_state(struct vcpu *v, u32 mask)
{
	struct vcpu_state *st = &v->state;

	if (mask & VS_RIP)
		vmcs_set(VMCS_GUEST_RIP, st->rip);
	if (mask & VS_RFLAGS)
		vmcs_set(VMCS_GUEST_RFLAGS, st->rflags | RFLAGS_FIXED);
	if (mask & VS_SEG)
		store_segments(v);
	if (mask & VS_CR)
		store_cr(v);
	if (mask & VS_DR) {
		write_dr6(st->dr6);
		vmcs_set(VMCS_GUEST_DR7, st->dr7);
	}
	if (mask & VS_SYSENTER) {
		vmcs_set(VMCS_GUEST_SYSENTER_CS, st->sysenter_cs);
		vmcs_set(VMCS_GUEST_SYSENTER_ESP, st->sysenter_esp);
		vmcs_set(VMCS_GUEST_SYSENTER_EIP, st->sysenter_eip);
	}
	if (mask & VS_PAT)
		vmcs_set(VMCS_GUEST_PAT, st->pat);
	if (mask & VS_INTR) {
		u64 intr = vmcs_get(VMCS_GUEST_INTERRUPTIBILITY);

		intr &= ~(u64)(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS);
		if (st->intr_shadow & INTR_SHADOW_STI)
			intr |= INTR_BLOCK_STI;
		if (st->intr_shadow & INTR_SHADOW_MOVSS)
			intr |= INTR_BLOCK_MOV_SS;
		vmcs_set(VMCS_GUEST_INTERRUPTIBILITY, intr);
	}
	if (mask & VS_MSR)
		store_msrs(st);
	v->state_valid |= mask;
}
