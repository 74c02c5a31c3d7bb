/*
 * Entering the guest, decoding the VM exit into the neutral struct vm_exit,
 * and applying the core's decision before the next entry (SDM 3C ch. 27
 * VM entries, ch. 28 VM exits).
 */
#include "drivers/lapic.h"
#include "hv/console/console.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/smp.h"
#include "hv/cpu/trap.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/vmx/vmx.h"

static struct vmx_vcpu *vx(struct vcpu *v)
{
	return v->vendor;
}

/* --- exits ------------------------------------------------------------- */

/*
 * A host NMI arrived in the guest. NMIs are how the machine is stopped
 * (hv/cpu/smp.h); otherwise end the NMI blocking the exit left (SDM 3C 28.1)
 * and let the core see VMEXIT_NMI.
 */
static void host_nmi(void)
{
	if (smp_stopping)
		cpu_park();
	vmx_unblock_nmi();
}

/*
 * With "acknowledge interrupt on exit" the host's interrupt controller has
 * already delivered the vector into the exit information (SDM 3C 28.2.2):
 * end it at the local APIC (a spurious vector takes no EOI, SDM 3A 11.9).
 */
static void host_interrupt(struct vm_exit *e)
{
	u32 info = (u32)vmcs_get(VMCS_EXIT_INTR_INFO);

	e->qual = info; /* the host vector, for logs */
	if ((info & INTR_INFO_VALID) && (info & INTR_INFO_VECTOR_MASK) != VECTOR_SPURIOUS)
		lapic_eoi();
}

/*
 * With virtual NMIs, a fault during an IRET that unblocked NMIs leaves them
 * unblocked; re-entering at that IRET must block them again (SDM 3C 28.2.3).
 */
static void restore_nmi_blocking(struct vcpu *v)
{
	if (!(vmx_cfg.pin & PIN_VIRTUAL_NMIS) || vx(v)->reinject_info)
		return;
	vmcs_set(VMCS_GUEST_INTERRUPTIBILITY,
		 vmcs_get(VMCS_GUEST_INTERRUPTIBILITY) | INTR_BLOCK_NMI);
}

/*
 * A #DB that causes a VM exit changes neither DR6 nor DR7 (SDM 3C 28.1):
 * make them what its delivery would have made them before the core
 * reflects it. DR6 is the guest's in the register (VT-x does not switch
 * it, the host does not use it); DR7.GD clears on entry to the #DB handler
 * (SDM 3A 17.2.4). INT1 (ICEBP) sets no DR6 bit: its qualification is 0.
 */
static void debug_exit(u64 qual, u32 type)
{
	u64 dr7 = vmcs_get(VMCS_GUEST_DR7);

	if (type == INTR_TYPE_HW_EXCEPTION)
		write_dr6(vmx_dr6_after_db(read_dr6(), qual));
	if (dr7 & DR7_GD)
		vmcs_set(VMCS_GUEST_DR7, dr7 & ~DR7_GD);
}

static void decode_exception(struct vcpu *v, struct vm_exit *e)
{
	u32 info = (u32)vmcs_get(VMCS_EXIT_INTR_INFO);
	u32 type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;

	if (type == INTR_TYPE_NMI) {
		e->reason = VMEXIT_NMI;
		host_nmi();
		return;
	}
	vmx_decode_intr_info(info, (u32)vmcs_get(VMCS_EXIT_INTR_ERROR), e);
	if (e->exc.vector == X86_EXC_PF)
		e->exc.cr2 = e->qual; /* 28.2.1: the faulting linear address */
	if (e->exc.vector == X86_EXC_DB)
		debug_exit(e->qual, type);
	/* 28.2.5: the length is valid for INT3, INTO and INT1 */
	if (type == INTR_TYPE_SOFT_EXC || type == INTR_TYPE_PRIV_SOFT_EXC)
		e->insn_len = (u32)vmcs_get(VMCS_EXIT_INSN_LEN);
	/* 28.2.3: bit 12 is undefined for a double fault */
	if ((info & INTR_INFO_NMI_UNBLOCK) && e->exc.vector != X86_EXC_DF)
		restore_nmi_blocking(v);
}

static void decode_ept_violation(struct vcpu *v, struct vm_exit *e)
{
	vmx_decode_ept(e->qual, e);
	e->slat.gpa = vmcs_get(VMCS_GUEST_PHYS_ADDR);
	if (e->slat.gla_valid)
		e->slat.gla = vmcs_get(VMCS_GUEST_LINEAR_ADDR);
	if (e->qual & EPT_QUAL_NMI_UNBLOCK)
		restore_nmi_blocking(v);
}

/* 28.2.4: an event the exit interrupted is lost unless injected again;
 * the core learns of it in e->vectoring */
static void save_vectoring(struct vmx_vcpu *x, struct vm_exit *e)
{
	u32 info = (u32)vmcs_get(VMCS_IDT_VECTORING_INFO);
	u32 type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;

	x->reinject_info = 0;
	x->reinject_len = 0;
	e->vectoring.type = EVENT_NONE;
	if (!(info & INTR_INFO_VALID))
		return;
	x->reinject_info = info & ~(u32)INTR_INFO_NMI_UNBLOCK; /* bit 12 undefined */
	if (info & INTR_INFO_ERROR_VALID)
		x->reinject_error = (u32)vmcs_get(VMCS_IDT_VECTORING_ERROR);
	if (type == INTR_TYPE_SOFT_INTR || type == INTR_TYPE_SOFT_EXC ||
	    type == INTR_TYPE_PRIV_SOFT_EXC)
		x->reinject_len = (u32)vmcs_get(VMCS_EXIT_INSN_LEN);
	vmx_decode_vectoring(x->reinject_info, x->reinject_error, &e->vectoring);
}

/* A VM exit with bit 31 set: the entry failed after the VMLAUNCH/VMRESUME
 * instruction itself succeeded (27.8); the qualification says what. */
static void decode_entry_failure(u32 basic, struct vm_exit *e)
{
	e->fail.code = (u32)e->qual;
	if (basic != VMX_EXIT_INVALID_GUEST_STATE && basic != VMX_EXIT_MACHINE_CHECK)
		e->reason = VMEXIT_ENTRY_FAIL;
	e->insn_len = 0;
	e->vectoring.type = EVENT_NONE;
}

static void decode_exit(struct vcpu *v, u32 reason, const struct vmx_exit_desc *d,
			struct vm_exit *e)
{
	struct vmx_vcpu *x = vx(v);
	u32 basic = reason & EXIT_REASON_BASIC_MASK;
	bool len_valid = d->flags & EXIT_INSN;

	e->raw = basic;
	e->reason = d->reason;
	/* the qualification only where it means something (SDM 3C 28.2.1) */
	if ((reason & EXIT_REASON_ENTRY_FAIL) || (d->flags & EXIT_QUAL))
		e->qual = vmcs_get(VMCS_EXIT_QUAL);
	if (len_valid)
		e->insn_len = (u32)vmcs_get(VMCS_EXIT_INSN_LEN);
	if (reason & EXIT_REASON_ENTRY_FAIL) {
		decode_entry_failure(basic, e);
		return;
	}
	/* an instruction's own exit never interrupts an event's delivery
	 * (28.2.4): no IDT-vectoring information to read */
	if (len_valid)
		x->reinject_info = 0;
	else
		save_vectoring(x, e);

	switch (basic) {
	case VMX_EXIT_EXCEPTION_NMI:
		decode_exception(v, e);
		break;
	case VMX_EXIT_EXT_INTR:
		host_interrupt(e);
		break;
	case VMX_EXIT_SIPI:
		e->sipi.vector = (u8)(e->qual & SIPI_QUAL_VECTOR_MASK);
		break;
	case VMX_EXIT_CR_ACCESS:
		vmx_decode_cr(e->qual, e);
		break;
	case VMX_EXIT_IO:
		vmx_decode_io(e->qual, e);
		break;
	case VMX_EXIT_RDMSR:
	case VMX_EXIT_WRMSR:
		e->msr.index = (u32)v->gpr[GPR_RCX];
		break;
	case VMX_EXIT_EPT_VIOLATION:
		decode_ept_violation(v, e);
		break;
	case VMX_EXIT_EPT_MISCONFIG:
		e->slat.gpa = vmcs_get(VMCS_GUEST_PHYS_ADDR);
		break;
	default:
		break;
	}
}

/* VMLAUNCH/VMRESUME did not even start the entry (27.1, 27.2): the
 * controls or the host state are wrong, a hypervisor bug. */
static void entry_vmfail(struct vcpu *v, u32 result, struct vm_exit *e)
{
	u32 err = result == VMX_ENTER_FAIL_VALID ? vmcs_insn_error() : 0;

	e->reason = VMEXIT_ENTRY_FAIL;
	e->raw = VMX_RAW_VMFAIL;
	e->fail.code = err;
	e->vectoring.type = EVENT_NONE;
	pr_err("vmx: vcpu %u: %s failed: %s (VM-instruction error %u: %s)\n", v->id,
	       vx(v)->launched ? "VMRESUME" : "VMLAUNCH",
	       result == VMX_ENTER_FAIL_VALID ? "VMfailValid" : "VMfailInvalid", err,
	       err ? vmx_insn_error_name(err) : "no current VMCS");
}

/*
 * Re-delivers an event the last exit interrupted, which apply() did not
 * replace (27.6; an exit leaves the entry's interruption information
 * invalid, 28.2). An NMI whose delivery was interrupted may have left
 * virtual-NMI blocking set, which VM entry refuses with an NMI to inject
 * (27.3.1.5): the NMI sets it again.
 */
static void reinject(struct vmx_vcpu *x)
{
	u32 type = (x->reinject_info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;
	u64 intr;

	if (x->reinject_info & INTR_INFO_ERROR_VALID)
		vmcs_set(VMCS_ENTRY_EXC_ERROR, x->reinject_error);
	if (type == INTR_TYPE_NMI) {
		intr = vmcs_get(VMCS_GUEST_INTERRUPTIBILITY);
		if (intr & INTR_BLOCK_NMI)
			vmcs_set(VMCS_GUEST_INTERRUPTIBILITY, intr & ~(u64)INTR_BLOCK_NMI);
	}
	vmcs_set(VMCS_ENTRY_INSN_LEN, x->reinject_len);
	vmcs_set(VMCS_ENTRY_INTR_INFO, x->reinject_info);
	x->reinject_info = 0;
}

void vmx_run(struct vcpu *v, struct vm_exit *exit)
{
	struct vmx_vcpu *x = vx(v);
	const struct vmx_exit_desc *d;
	u32 result, reason;

	if (x->reinject_info)
		reinject(x);
	/* RSP lives in the VMCS (25.4.1); write it back when the core moved it */
	if (v->gpr[GPR_RSP] != x->guest_rsp) {
		vmcs_set(VMCS_GUEST_RSP, v->gpr[GPR_RSP]);
		x->guest_rsp = v->gpr[GPR_RSP];
	}

	/* the vCPU loop runs with interrupts off (hv/vcpu/loop.c): host interrupts
	 * arrive as exits ("acknowledge interrupt on exit") */
	result = vmx_enter(v->gpr, x->launched, &x->host_rsp);
	v->state_valid = 0;
	/* the decoders fill the union members of their own reason */
	exit->qual = 0;
	exit->insn_len = 0;
	if (result != VMX_ENTER_EXITED) {
		entry_vmfail(v, result, exit);
	} else {
		reason = (u32)vmcs_get(VMCS_EXIT_REASON);
		if (!x->launched) {
			x->exited = true;
			/* a failed entry leaves the VMCS unlaunched (27.8) */
			if (!(reason & EXIT_REASON_ENTRY_FAIL))
				x->launched = true;
		}
		d = vmx_exit_desc(reason & EXIT_REASON_BASIC_MASK);
		/* RSP lives in the VMCS (25.4.1), not in gpr[] with the others:
		 * read it for the exits whose handling may look at it. For the
		 * others gpr[RSP] keeps the value last read, equal to guest_rsp,
		 * and nothing is written back. */
		if (!(d->flags & EXIT_NO_RSP)) {
			x->guest_rsp = vmcs_get(VMCS_GUEST_RSP);
			v->gpr[GPR_RSP] = x->guest_rsp;
		}
		decode_exit(v, reason, d, exit);
	}
}

/* --- before the next entry -------------------------------------------- */

static inline void skip_insn(struct vcpu *v, u32 len)
{
	u64 rip = vmcs_get(VMCS_GUEST_RIP) + len;
	u64 intr = vmcs_get(VMCS_GUEST_INTERRUPTIBILITY);

	vmcs_set(VMCS_GUEST_RIP, rip);
	if (v->state_valid & VS_RIP)
		v->state.rip = rip;
	/* the instruction completed: its STI / MOV SS shadow is over */
	if (intr & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS)) {
		vmcs_set(VMCS_GUEST_INTERRUPTIBILITY,
			 intr & ~(u64)(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS));
		v->state.intr_shadow = 0;
	}
	/* and with RFLAGS.TF it owes the guest a single-step trap (SDM 3C
	 * 27.3.1.5, 27.7.3: pending debug exceptions, BS) */
	if (vmcs_get(VMCS_GUEST_RFLAGS) & RFLAGS_TF)
		vmcs_set(VMCS_GUEST_PENDING_DBG, vmcs_get(VMCS_GUEST_PENDING_DBG) | PENDING_DBG_BS);
}

/*
 * 27.6: the VM-entry interruption-information field, with the error code
 * (27.2.1.3) and, for a software interrupt, the instruction length. The
 * event takes the place of one the last exit interrupted: the core decided
 * what became of that one (hv/vcpu/exit.c). An exception's delivery ends an
 * STI or MOV SS shadow, which would otherwise make VM entry demand a
 * pending single step when RFLAGS.TF is set (27.3.1.5).
 */
static void inject(struct vcpu *v, const struct vcpu_event *ev, u32 len)
{
	struct vmx_vcpu *x = vx(v);
	bool pe = vmcs_get(VMCS_GUEST_CR0) & CR0_PE;
	u32 info = vmx_event_info(ev, pe);
	u64 intr;

	x->reinject_info = 0;
	if (info & INTR_INFO_ERROR_VALID)
		vmcs_set(VMCS_ENTRY_EXC_ERROR, ev->error_code);
	if (ev->type == EVENT_SOFT_INT)
		vmcs_set(VMCS_ENTRY_INSN_LEN, len);
	if (ev->type == EVENT_EXCEPTION) {
		intr = vmcs_get(VMCS_GUEST_INTERRUPTIBILITY);
		if (intr & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS)) {
			vmcs_set(VMCS_GUEST_INTERRUPTIBILITY,
				 intr & ~(u64)(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS));
			v->state.intr_shadow = 0;
		}
	}
	vmcs_set(VMCS_ENTRY_INTR_INFO, info);
}

static void set_windows(struct vmx_vcpu *x, const struct vm_apply *a)
{
	u32 proc = x->proc & ~(u32)(PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING);

	if (a->irq_window)
		proc |= PROC_INTR_WINDOW_EXITING;
	if (a->nmi_window)
		proc |= PROC_NMI_WINDOW_EXITING;
	if (proc != x->proc) {
		x->proc = proc;
		vmcs_set(VMCS_PROC_CTLS, proc);
	}
}

void vmx_apply(struct vcpu *v, const struct vm_exit *exit, const struct vm_apply *a)
{
	/*
	 * A software interrupt is injected with RIP at the INT instruction and
	 * its length (27.6.1.1), so that it returns past it: skipping it as
	 * well would skip it twice.
	 */
	bool soft = a->event.type == EVENT_SOFT_INT;

	if (a->skip_insn && !soft)
		skip_insn(v, exit->insn_len);
	if (a->event.type != EVENT_NONE)
		inject(v, &a->event, soft ? exit->insn_len : 0);
	set_windows(vx(v), a);
}

void vmx_skip(struct vcpu *v, u32 len)
{
	static const struct vm_apply no_window;

	skip_insn(v, len);
	set_windows(vx(v), &no_window);
}

bool vmx_irq_injectable(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);

	return (vmcs_get(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(vmcs_get(VMCS_GUEST_INTERRUPTIBILITY) & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS)) &&
	       !(vmcs_get(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) && !x->reinject_info;
}

/*
 * With virtual NMIs, injecting an NMI sets "blocking by NMI" and the
 * guest's IRET clears it (26.6.1, 27.7.1.2); VM entry refuses to inject
 * one while it is set or in a MOV SS shadow, and an STI shadow may block
 * NMIs too (27.3.1.5, SDM 3A 6.8.3). The NMI window opens when all end.
 */
bool vmx_nmi_injectable(struct vcpu *v)
{
	struct vmx_vcpu *x = vx(v);

	return !(vmcs_get(VMCS_GUEST_INTERRUPTIBILITY) &
		 (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS | INTR_BLOCK_NMI)) &&
	       !(vmcs_get(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID) && !x->reinject_info;
}
