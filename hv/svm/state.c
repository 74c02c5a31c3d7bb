/*
 * The VMCB as the AMD-V backend fills and reads it: the controls a vCPU
 * starts with, the neutral state <-> the save area, event injection and the
 * interrupt window (APM 2 15.5, 15.20, 15.21, appendix B). Pure: the VMCB
 * is plain memory here, and every write of a cached field goes through an
 * accessor that clears its clean bit (APM 2 15.15.3). QEMU's TCG does not
 * implement clean bits; hv/svm/svm_vcpu.c then passes 0 (nothing cached),
 * which is always correct.
 */
#include "hv/hw/x86.h"
#include "hv/svm/logic.h"
#include "hv/vcpu/vcpu_ops.h"

#define PAT_DEFAULT 0x0007040600070406ULL /* SDM 3A 12.12.4 power-up PAT */
#define VINTR_PRIO_ANY 0xf

static struct svm_vcpu *sv(struct vcpu *v)
{
	return v->vendor;
}

static struct vmcb *vmcb_of(struct vcpu *v)
{
	return sv(v)->vmcb;
}

/* --- set-up ------------------------------------------------------------- */

void svm_vmcb_init(struct vmcb *vmcb, const struct svm_part *part, u32 asid, u64 ncr3)
{
	vmcb->ctl.intercept_exc = VCPU_EXC_INTERCEPTED;
	vmcb->ctl.intercept_misc1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI | SVM_INTERCEPT_INIT |
				    SVM_INTERCEPT_CPUID | SVM_INTERCEPT_INVD | SVM_INTERCEPT_HLT |
				    SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO | SVM_INTERCEPT_MSR |
				    SVM_INTERCEPT_TASK_SWITCH | SVM_INTERCEPT_SHUTDOWN |
				    SVM_INTERCEPT_RSM | SVM_INTERCEPT_RDPMC;
	/* APM 2 15.5.1: VMRUN must be intercepted */
	vmcb->ctl.intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL |
				    SVM_INTERCEPT_VMLOAD | SVM_INTERCEPT_VMSAVE |
				    SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI | SVM_INTERCEPT_SKINIT |
				    SVM_INTERCEPT_WBINVD | SVM_INTERCEPT_MONITOR |
				    SVM_INTERCEPT_MWAIT | SVM_INTERCEPT_MWAIT_COND |
				    SVM_INTERCEPT_XSETBV | SVM_INTERCEPT_RDPRU;
	vmcb->ctl.iopm_base_pa = part->iopm_pa;
	vmcb->ctl.msrpm_base_pa = part->msrpm_pa;
	vmcb->ctl.tsc_offset = 0; /* the TSC is passed through */
	vmcb->ctl.asid = asid;
	/* host interrupts stay with the host whatever the guest's IF */
	vmcb->ctl.vintr = SVM_VINTR_MASKING;
	vmcb->ctl.np_control = SVM_NP_ENABLE;
	vmcb->ctl.ncr3 = ncr3;
	vmcb->save.g_pat = PAT_DEFAULT;
	vmcb->ctl.tlb_control = SVM_TLB_FLUSH_ALL;
	vmcb->ctl.clean = 0;
}

void svm_vmcb_flush_tlb(struct vmcb *vmcb, bool by_asid)
{
	VMCB_SET(vmcb, ctl.tlb_control, by_asid ? SVM_TLB_FLUSH_ASID : SVM_TLB_FLUSH_ALL, 0);
}

void svm_vcpu_state_reset(struct svm_vcpu *s)
{
	struct vmcb *vmcb = s->vmcb;

	vmcb->ctl.eventinj = 0;
	vmcb->ctl.int_state = 0;
	VMCB_SET(vmcb, ctl.vintr, SVM_VINTR_MASKING, VMCB_CLEAN_TPR);
	VMCB_SET(vmcb, ctl.intercept_misc1,
		 vmcb->ctl.intercept_misc1 & ~(SVM_INTERCEPT_VINTR | SVM_INTERCEPT_IRET),
		 VMCB_CLEAN_INTERCEPTS);
	s->nmi_blocked = false;
	s->nmi_step = false;
}

/* --- neutral state <-> VMCB ------------------------------------------- */

static void seg_from_vmcb(struct seg *s, const struct vmcb_seg *vs)
{
	s->sel = vs->sel;
	s->attr = vs->attr;
	s->limit = vs->limit;
	s->base = vs->base;
}

static void seg_to_vmcb(struct vmcb_seg *vs, const struct seg *s)
{
	vs->sel = s->sel;
	vs->attr = s->attr;
	vs->limit = s->limit;
	vs->base = s->base;
}

void svm_load_state(struct vcpu *v, u32 mask)
{
	const struct vmcb *vmcb = vmcb_of(v);
	const struct vmcb_save *vs = &vmcb->save;
	struct vcpu_state *st = &v->state;

	mask &= ~v->state_valid;
	if (mask & VS_RIP)
		st->rip = vs->rip;
	if (mask & VS_RFLAGS)
		st->rflags = vs->rflags;
	if (mask & VS_CR) {
		st->cr0 = vs->cr0;
		st->cr2 = vs->cr2;
		st->cr3 = vs->cr3;
		st->cr4 = vs->cr4;
		st->efer = vs->efer & ~EFER_SVME; /* the guest never sees SVME */
	}
	if (mask & (VS_SEG | VS_SEG_CODE)) { /* all of them: a copy from memory */
		mask |= VS_SEG | VS_SEG_CODE;
		seg_from_vmcb(&st->cs, &vs->cs);
		seg_from_vmcb(&st->ds, &vs->ds);
		seg_from_vmcb(&st->es, &vs->es);
		seg_from_vmcb(&st->fs, &vs->fs);
		seg_from_vmcb(&st->gs, &vs->gs);
		seg_from_vmcb(&st->ss, &vs->ss);
		seg_from_vmcb(&st->tr, &vs->tr);
		seg_from_vmcb(&st->ldtr, &vs->ldtr);
		st->gdtr.base = vs->gdtr.base;
		st->gdtr.limit = vs->gdtr.limit;
		st->idtr.base = vs->idtr.base;
		st->idtr.limit = vs->idtr.limit;
	}
	if (mask & VS_DR) {
		st->dr6 = vs->dr6;
		st->dr7 = vs->dr7;
	}
	if (mask & VS_SYSENTER) {
		st->sysenter_cs = vs->sysenter_cs;
		st->sysenter_esp = vs->sysenter_esp;
		st->sysenter_eip = vs->sysenter_eip;
	}
	if (mask & VS_PAT)
		st->pat = vs->g_pat;
	if (mask & VS_INTR)
		st->intr_shadow = (vmcb->ctl.int_state & SVM_INT_STATE_SHADOW) ? INTR_SHADOW_STI :
										 0;
	if (mask & VS_MSR) {
		st->kernel_gs_base = vs->kernel_gs_base;
		st->star = vs->star;
		st->lstar = vs->lstar;
		st->cstar = vs->cstar;
		st->sfmask = vs->sfmask;
		st->tsc_aux = svm_tsc_aux_read();
	}
	v->state_valid |= mask;
}

void svm_store_state(struct vcpu *v, u32 mask)
{
	struct vmcb *vmcb = vmcb_of(v);
	struct vmcb_save *vs = &vmcb->save;
	const struct vcpu_state *st = &v->state;

	if (mask & VS_RIP)
		vs->rip = st->rip;
	if (mask & VS_RFLAGS)
		vs->rflags = st->rflags | RFLAGS_FIXED;
	if (mask & VS_CR) {
		vs->cr0 = st->cr0;
		vs->cr2 = st->cr2;
		vs->cr3 = st->cr3;
		vs->cr4 = st->cr4;
		/* APM 2 15.5.1: VMRUN requires EFER.SVME in the guest too */
		vs->efer = st->efer | EFER_SVME;
		vmcb_dirty(vmcb, VMCB_CLEAN_CRX | VMCB_CLEAN_CR2);
	}
	if (mask & VS_SEG) {
		seg_to_vmcb(&vs->cs, &st->cs);
		seg_to_vmcb(&vs->ds, &st->ds);
		seg_to_vmcb(&vs->es, &st->es);
		seg_to_vmcb(&vs->fs, &st->fs);
		seg_to_vmcb(&vs->gs, &st->gs);
		seg_to_vmcb(&vs->ss, &st->ss);
		seg_to_vmcb(&vs->tr, &st->tr);
		seg_to_vmcb(&vs->ldtr, &st->ldtr);
		vs->gdtr.base = st->gdtr.base;
		vs->gdtr.limit = st->gdtr.limit;
		vs->idtr.base = st->idtr.base;
		vs->idtr.limit = st->idtr.limit;
		/* APM 2 15.5.1: the CPL is SS.DPL (0 in real mode) */
		vs->cpl = (st->cr0 & CR0_PE) ? (u8)((st->ss.attr >> SEG_ATTR_DPL_SHIFT) & 3) : 0;
		vmcb_dirty(vmcb, VMCB_CLEAN_SEG | VMCB_CLEAN_DT);
	}
	if (mask & VS_DR) {
		vs->dr6 = st->dr6;
		vs->dr7 = st->dr7;
		vmcb_dirty(vmcb, VMCB_CLEAN_DRX);
	}
	if (mask & VS_SYSENTER) {
		vs->sysenter_cs = st->sysenter_cs;
		vs->sysenter_esp = st->sysenter_esp;
		vs->sysenter_eip = st->sysenter_eip;
	}
	if (mask & VS_PAT)
		VMCB_SET(vmcb, save.g_pat, st->pat, VMCB_CLEAN_NP);
	if (mask & VS_INTR)
		vmcb->ctl.int_state = (st->intr_shadow) ? SVM_INT_STATE_SHADOW : 0;
	/* VMLOAD loads these (APM 2 15.5.2); TSC_AUX stays in the register */
	if (mask & VS_MSR) {
		vs->kernel_gs_base = st->kernel_gs_base;
		vs->star = st->star;
		vs->lstar = st->lstar;
		vs->cstar = st->cstar;
		vs->sfmask = st->sfmask;
		svm_tsc_aux_write(st->tsc_aux);
	}
	v->state_valid |= mask;
}

/* --- events the exit interrupted, NMI blocking --------------------------- */

void svm_redeliver(struct vmcb *vmcb, struct vm_exit *e)
{
	static const u8 types[] = {
		[SVM_EVT_TYPE_INTR] = EVENT_EXTINT,
		[SVM_EVT_TYPE_NMI] = EVENT_NMI,
		[SVM_EVT_TYPE_EXC] = EVENT_EXCEPTION,
		[SVM_EVT_TYPE_SOFT] = EVENT_SOFT_INT,
	};
	u64 info = vmcb->ctl.exitintinfo;
	u32 type = (info >> SVM_EVT_TYPE_SHIFT) & SVM_EVT_TYPE_MASK;

	e->vectoring = (struct vcpu_event){
		.type = type < ARRAY_SIZE(types) ? types[type] : EVENT_NONE,
		.vector = (u8)(info & SVM_EVT_VECTOR_MASK),
		.has_error = info & SVM_EVT_ERR_VALID,
		.error_code = (u32)(info >> SVM_EVT_ERR_SHIFT),
	};
	/* INTn is not injected again: RIP is still at the instruction, which
	 * runs again and raises it anew */
	if (e->vectoring.type != EVENT_NONE && e->vectoring.type != EVENT_SOFT_INT)
		vmcb->ctl.eventinj = info;
}

/* Steps the guest over one instruction to see it complete: an exit on the
 * #DB after it (SDM 3A 17.3.1.4), with DR6.BS cleared to tell ours. */
static void nmi_step_begin(struct svm_vcpu *s, bool iret)
{
	struct vmcb *vmcb = s->vmcb;

	s->nmi_step = true;
	s->step_iret = iret;
	s->step_tf = vmcb->save.rflags & RFLAGS_TF;
	s->step_bs = vmcb->save.dr6 & DR6_BS;
	s->step_rip = vmcb->save.rip;
	vmcb->save.rflags |= RFLAGS_TF;
	VMCB_SET(vmcb, save.dr6, vmcb->save.dr6 & ~DR6_BS, VMCB_CLEAN_DRX);
}

/*
 * The step is over: an IRET completed ends NMI blocking (and loaded
 * RFLAGS); after another instruction RFLAGS.TF is the guest's again. DR6.BS
 * is as before unless the guest stepped too, when it is set. Returns
 * whether it did: the single-step #DB is then the guest's as well.
 */
static bool nmi_step_end(struct svm_vcpu *s)
{
	struct vmcb *vmcb = s->vmcb;
	u64 dr6 = vmcb->save.dr6 & ~DR6_BS;

	s->nmi_step = false;
	if (s->step_iret)
		s->nmi_blocked = false;
	else if (!s->step_tf)
		vmcb->save.rflags &= ~RFLAGS_TF;
	VMCB_SET(vmcb, save.dr6, dr6 | (s->step_tf ? DR6_BS : s->step_bs), VMCB_CLEAN_DRX);
	return s->step_tf;
}

void svm_nmi_exit(struct svm_vcpu *s, struct vm_exit *e)
{
	struct vmcb *vmcb = s->vmcb;

	if (e->raw == SVM_EXIT_IRET) {
		/* before the IRET runs (APM 2 15.9): step over it */
		VMCB_SET(vmcb, ctl.intercept_misc1, vmcb->ctl.intercept_misc1 & ~SVM_INTERCEPT_IRET,
			 VMCB_CLEAN_INTERCEPTS);
		nmi_step_begin(s, true);
		e->reason = VMEXIT_NONE;
		return;
	}
	if (!s->nmi_step)
		return;
	/* the single-step trap: DR6.BS says so (the CPU sets it before the
	 * intercept, APM 2 15.12; Bochs 2.7 does not), as does a RIP past the
	 * instruction (a #DB that faults before it leaves RIP at it) */
	if (e->reason == VMEXIT_EXCEPTION && e->exc.vector == X86_EXC_DB &&
	    ((vmcb->save.dr6 & DR6_BS) || vmcb->save.rip != s->step_rip)) {
		if (!nmi_step_end(s))
			e->reason = VMEXIT_NMI_WINDOW;
		return;
	}
	/* the guest moved on without the trap (an exception or interrupt was
	 * delivered instead): the instruction is behind it */
	if (vmcb->save.rip != s->step_rip)
		nmi_step_end(s);
}

/* APM 2 15.20: injecting an NMI does not block NMIs in the guest; the
 * backend does, until the IRET, which it intercepts for that */
static void nmi_injected(struct svm_vcpu *s)
{
	if (s->nmi_step)
		nmi_step_end(s);
	s->nmi_blocked = true;
	VMCB_SET(s->vmcb, ctl.intercept_misc1, s->vmcb->ctl.intercept_misc1 | SVM_INTERCEPT_IRET,
		 VMCB_CLEAN_INTERCEPTS);
}

/* Blocked NMIs wait for the IRET intercept. Otherwise only an interrupt
 * shadow or an event on its way keeps an NMI out: one instruction later. */
static void open_nmi_window(struct svm_vcpu *s)
{
	if (!s->nmi_blocked && !s->nmi_step)
		nmi_step_begin(s, false);
}

bool svm_nmi_injectable(struct vcpu *v)
{
	const struct svm_vcpu *s = sv(v);

	return !s->nmi_blocked && !s->nmi_step &&
	       !(s->vmcb->ctl.int_state & SVM_INT_STATE_SHADOW) &&
	       !(s->vmcb->ctl.eventinj & SVM_EVT_VALID);
}

/* --- before the next entry -------------------------------------------- */

/*
 * A single-step trap the skipped instruction owes the guest: with RFLAGS.TF
 * set when it began, it would have raised #DB with DR6.BS once done (SDM 3A
 * 17.3.1.4; AMD-V exits before the instruction runs, APM 2 15.9). A step of
 * ours ends there too.
 */
static void owed_single_step(struct svm_vcpu *s)
{
	static const struct vcpu_event db = { .type = EVENT_EXCEPTION, .vector = X86_EXC_DB };
	struct vmcb *vmcb = s->vmcb;

	if (s->nmi_step && !nmi_step_end(s))
		return;
	VMCB_SET(vmcb, save.dr6, vmcb->save.dr6 | DR6_BS, VMCB_CLEAN_DRX);
	vmcb->ctl.eventinj = svm_event_inj(&db);
}

static void skip_insn(struct svm_vcpu *s, u32 len)
{
	struct vmcb *vmcb = s->vmcb;

	vmcb->save.rip += len;
	vmcb->ctl.int_state &= ~SVM_INT_STATE_SHADOW;
	if (vmcb->save.rflags & RFLAGS_TF)
		owed_single_step(s);
}

/* APM 2 15.21.4: a virtual interrupt request with VINTR intercepted exits
 * as soon as the guest can take an interrupt */
static void open_irq_window(struct vmcb *vmcb)
{
	VMCB_SET(vmcb, ctl.vintr,
		 SVM_VINTR_MASKING | SVM_VINTR_V_IRQ | SVM_VINTR_V_IGN_TPR |
			 ((u64)VINTR_PRIO_ANY << SVM_VINTR_PRIO_SHIFT),
		 VMCB_CLEAN_TPR);
	VMCB_SET(vmcb, ctl.intercept_misc1, vmcb->ctl.intercept_misc1 | SVM_INTERCEPT_VINTR,
		 VMCB_CLEAN_INTERCEPTS);
}

static void close_irq_window(struct vmcb *vmcb)
{
	if (vmcb->ctl.intercept_misc1 & SVM_INTERCEPT_VINTR) {
		VMCB_SET(vmcb, ctl.vintr, SVM_VINTR_MASKING, VMCB_CLEAN_TPR);
		VMCB_SET(vmcb, ctl.intercept_misc1,
			 vmcb->ctl.intercept_misc1 & ~SVM_INTERCEPT_VINTR, VMCB_CLEAN_INTERCEPTS);
	}
}

u64 svm_event_inj(const struct vcpu_event *ev)
{
	static const u8 types[] = {
		[EVENT_EXTINT] = SVM_EVT_TYPE_INTR,
		[EVENT_NMI] = SVM_EVT_TYPE_NMI,
		[EVENT_EXCEPTION] = SVM_EVT_TYPE_EXC,
		[EVENT_SOFT_INT] = SVM_EVT_TYPE_SOFT,
	};
	u64 inj;

	if (ev->type == EVENT_NONE || ev->type >= ARRAY_SIZE(types))
		return 0;
	inj = ev->vector | ((u64)types[ev->type] << SVM_EVT_TYPE_SHIFT) | SVM_EVT_VALID;
	if (ev->has_error)
		inj |= SVM_EVT_ERR_VALID | ((u64)ev->error_code << SVM_EVT_ERR_SHIFT);
	return inj;
}

void svm_apply(struct vcpu *v, const struct vm_exit *exit, const struct vm_apply *a)
{
	struct svm_vcpu *s = sv(v);
	struct vmcb *vmcb = s->vmcb;

	if (a->skip_insn)
		skip_insn(s, exit->insn_len);
	/* it takes the place of an event the exit interrupted (the core
	 * decided, hv/vcpu/exit.c) */
	if (a->event.type != EVENT_NONE)
		vmcb->ctl.eventinj = svm_event_inj(&a->event);
	if (a->event.type == EVENT_NMI)
		nmi_injected(s);
	if (a->irq_window)
		open_irq_window(vmcb);
	else
		close_irq_window(vmcb);
	if (a->nmi_window)
		open_nmi_window(s);
}

void svm_skip(struct vcpu *v, u32 len)
{
	struct svm_vcpu *s = sv(v);

	skip_insn(s, len);
	close_irq_window(s->vmcb);
}

bool svm_irq_injectable(struct vcpu *v)
{
	const struct vmcb *vmcb = vmcb_of(v);

	return (vmcb->save.rflags & RFLAGS_IF) && !(vmcb->ctl.int_state & SVM_INT_STATE_SHADOW) &&
	       !(vmcb->ctl.eventinj & SVM_EVT_VALID);
}
