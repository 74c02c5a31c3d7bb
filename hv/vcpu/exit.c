/*
 * The total dispatch over neutral exits (STYLE.md: vendors decode, the core
 * decides). Every enum vm_exit_reason has a handler; a guest can reach only
 * "inject an exception", "emulate" or "contain its partition", never a
 * hypervisor stop.
 */
#include "hv/vcpu/exit.h"
#include "hv/console/console.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/partition/partition.h"
#include "hv/policy/cpuid.h"
#include "hv/policy/io.h"
#include "hv/policy/mmio.h"
#include "hv/policy/msr.h"
#include "hv/vcpu/guest_code.h"
#include "hv/virt.h"

#define LOW32 0xffffffffULL

enum exit_action exit_skip(struct vcpu *v, struct vm_exit *e)
{
	vcpu_ops->skip(v, e->insn_len);
	return EXIT_RESUME;
}

/* SDM 3A 6.15, interrupt 8 (APM 2 8.2.9): the classes of exceptions */
enum exc_class { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE_FAULT, EXC_DOUBLE_FAULT };

static enum exc_class exc_class(u8 vector)
{
	switch (vector) {
	case X86_EXC_DE:
	case X86_EXC_TS:
	case X86_EXC_NP:
	case X86_EXC_SS:
	case X86_EXC_GP:
	case X86_EXC_CP:
		return EXC_CONTRIBUTORY;
	case X86_EXC_PF:
	case X86_EXC_VE:
		return EXC_PAGE_FAULT;
	case X86_EXC_DF:
		return EXC_DOUBLE_FAULT;
	default:
		return EXC_BENIGN;
	}
}

/*
 * An exception raised while the CPU delivered another (SDM 3A 6.15, table
 * 6-5): a contributory one during a contributory one, or a contributory
 * one or a page fault during a page fault, is a double fault; either during
 * a double fault is a shutdown (-1). Otherwise the second is delivered and
 * the first is lost, as on hardware: a fault recurs when its instruction
 * runs again, and an interrupt or NMI that was being delivered stays
 * acknowledged (and NMIs blocked until an IRET).
 */
static int exception_during(u8 first, u8 second)
{
	enum exc_class a = exc_class(first), b = exc_class(second);

	if (a == EXC_DOUBLE_FAULT && (b == EXC_CONTRIBUTORY || b == EXC_PAGE_FAULT))
		return -1;
	if ((a == EXC_CONTRIBUTORY && b == EXC_CONTRIBUTORY) ||
	    (a == EXC_PAGE_FAULT && (b == EXC_CONTRIBUTORY || b == EXC_PAGE_FAULT)))
		return X86_EXC_DF;
	return second;
}

enum exit_action exit_inject(struct vcpu *v, struct vm_exit *e, u8 vector, bool has_error,
			     u32 error_code)
{
	struct vm_apply a = {
		.event = { .type = EVENT_EXCEPTION,
			   .vector = vector,
			   .has_error = has_error,
			   .error_code = error_code },
	};

	/* the event replaces the one the exit interrupted, if any */
	if (!e->insn_len && e->vectoring.type == EVENT_EXCEPTION) {
		int become = exception_during(e->vectoring.vector, vector);

		if (become < 0)
			return exit_fatal(v, EXIT_CRASH, "triple fault");
		if (become != vector)
			a.event = (struct vcpu_event){ .type = EVENT_EXCEPTION,
						       .vector = X86_EXC_DF,
						       .has_error = true };
	}
	vcpu_ops->apply(v, e, &a);
	v->stats.exceptions_injected++;
	return EXIT_RESUME;
}

enum exit_action exit_fatal(struct vcpu *v, enum exit_action action, const char *reason)
{
	struct partition *p = v->part;

	if (!p->stop_reason)
		p->stop_reason = reason;
	return action;
}

static enum exit_action handle_resume(struct vcpu *v, struct vm_exit *e)
{
	(void)v;
	(void)e;
	return EXIT_RESUME;
}

/* A host interrupt ended the run: if it was the CPU's timer, the loop arms
 * it again (hv/vcpu/loop.c, timers_due). */
static enum exit_action handle_ext_intr(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	v->timer_woken = 1;
	v->timer_dirty = 1;
	return EXIT_RESUME;
}

static enum exit_action handle_ud(struct vcpu *v, struct vm_exit *e)
{
	return exit_inject(v, e, X86_EXC_UD, false, 0);
}

static enum exit_action cpuid_answer(struct vcpu *v, struct vm_exit *e, const struct cpuid_regs *c)
{
	v->gpr[GPR_RAX] = c->eax;
	v->gpr[GPR_RBX] = c->ebx;
	v->gpr[GPR_RCX] = c->ecx;
	v->gpr[GPR_RDX] = c->edx;
	return exit_skip(v, e);
}

/* Out of line: the common case below stays without a stack frame. */
__attribute__((noinline)) static enum exit_action cpuid_computed(struct vcpu *v, struct vm_exit *e)
{
	struct cpuid_regs r;

	cpuid_guest(v, (u32)v->gpr[GPR_RAX], (u32)v->gpr[GPR_RCX], &r);
	return cpuid_answer(v, e, &r);
}

static enum exit_action handle_cpuid(struct vcpu *v, struct vm_exit *e)
{
	const struct cpuid_regs *c =
		cpuid_plain(v->part, (u32)v->gpr[GPR_RAX], (u32)v->gpr[GPR_RCX]);

	return c ? cpuid_answer(v, e, c) : cpuid_computed(v, e);
}

static enum exit_action handle_hlt(struct vcpu *v, struct vm_exit *e)
{
	exit_skip(v, e);
	return EXIT_HALT;
}

static enum exit_action handle_rdmsr(struct vcpu *v, struct vm_exit *e)
{
	u64 val;

	if (msr_read(v, e->msr.index, &val))
		return exit_inject(v, e, X86_EXC_GP, true, 0);
	v->gpr[GPR_RAX] = val & LOW32;
	v->gpr[GPR_RDX] = val >> 32;
	return exit_skip(v, e);
}

static enum exit_action handle_wrmsr(struct vcpu *v, struct vm_exit *e)
{
	u64 val = (v->gpr[GPR_RAX] & LOW32) | (v->gpr[GPR_RDX] << 32);

	if (msr_write(v, e->msr.index, val))
		return exit_inject(v, e, X86_EXC_GP, true, 0);
	return exit_skip(v, e);
}

/* SDM 1 13.3 and SDM 2B XSETBV: what XCR0 may hold, within what the
 * partition's CPUID 0Dh offers. */
static bool xcr0_valid(const struct partition *p, u64 xcr0)
{
	u64 avx512 = xcr0 & XCR0_AVX512;

	return (xcr0 & XCR0_X87) && !(xcr0 & ~cpuid_xcr0_supported(p)) &&
	       (!(xcr0 & XCR0_AVX) || (xcr0 & XCR0_SSE)) &&
	       (!avx512 || (avx512 == XCR0_AVX512 && (xcr0 & XCR0_AVX))) &&
	       ((xcr0 & XCR0_MPX) == 0 || (xcr0 & XCR0_MPX) == XCR0_MPX) &&
	       ((xcr0 & XCR0_AMX) == 0 || (xcr0 & XCR0_AMX) == XCR0_AMX);
}

/* SDM 3A 5.5: the CPL is SS.DPL in protected mode, 3 in virtual-8086
 * mode, 0 in real mode. */
static u32 guest_cpl(const struct vcpu_state *st)
{
	if (!(st->cr0 & CR0_PE))
		return 0;
	return (st->rflags & RFLAGS_VM) ? 3 : (st->ss.attr >> SEG_ATTR_DPL_SHIFT) & 3;
}

/*
 * The host never uses extended state, so the guest's XCR0 can stay loaded
 * on its CPU (one vCPU per CPU). The checks come first; the CPU may still
 * refuse a value they let through (a rule of a later processor), and its
 * #GP then goes to the guest, never to the hypervisor.
 */
static enum exit_action handle_xsetbv(struct vcpu *v, struct vm_exit *e)
{
	u64 val = (v->gpr[GPR_RAX] & LOW32) | (v->gpr[GPR_RDX] << 32);

	vcpu_ops->load_state(v, VS_CR | VS_RFLAGS | VS_SEG_CODE);
	if ((u32)v->gpr[GPR_RCX] != 0 || guest_cpl(&v->state) != 0 || !xcr0_valid(v->part, val) ||
	    cpuid_host_set_xcr0(val))
		return exit_inject(v, e, X86_EXC_GP, true, 0);
	return exit_skip(v, e);
}

/*
 * RDPMC (SDM 2B, APM 3): #GP outside ring 0 unless CR4.PCE, and for a
 * counter the partition does not have. Intercepted on both vendors, so that
 * no guest reads the machine's own counters (hv/policy/msr.c keeps the
 * partition's, which count nothing).
 */
static enum exit_action handle_rdpmc(struct vcpu *v, struct vm_exit *e)
{
	u64 val;

	vcpu_ops->load_state(v, VS_CR | VS_RFLAGS | VS_SEG_CODE);
	if ((guest_cpl(&v->state) != 0 && !(v->state.cr4 & CR4_PCE)) ||
	    msr_read_pmc(v, (u32)v->gpr[GPR_RCX], &val))
		return exit_inject(v, e, X86_EXC_GP, true, 0);
	v->gpr[GPR_RAX] = val & LOW32;
	v->gpr[GPR_RDX] = val >> 32;
	return exit_skip(v, e);
}

/*
 * Whether MOV to CR0/CR4, CLTS or LMSW may take CR0 and CR4 from the state
 * st to cr0 and cr4, or raises #GP (SDM 2B MOV to CR, SDM 3A 2.5, 4.1,
 * 4.10.1). Stored unchecked, a value the CPU would refuse fails the next
 * VM entry and stops the partition instead.
 */
static bool cr_valid(const struct vcpu *v, const struct vcpu_state *st, u64 cr0, u64 cr4)
{
	bool lma = st->efer & EFER_LMA;
	u64 cr4_set = cr4 & ~st->cr4;

	/* 2.5: bits 63:32, and CR4 bits of features CPUID does not show */
	if ((cr0 >> 32) || (cr4_set & cpuid_cr4_reserved(v->part)))
		return false;
	/* 2.5: PG needs PE; NW without CD is invalid */
	if (((cr0 & CR0_PG) && !(cr0 & CR0_PE)) || ((cr0 & CR0_NW) && !(cr0 & CR0_CD)))
		return false;
	/* 4.1.2: IA-32e paging needs PAE, which it keeps while active */
	if ((cr0 & CR0_PG) && (st->efer & EFER_LME) && !(cr4 & CR4_PAE))
		return false;
	/* MOV to CR0: 64-bit mode cannot turn paging off (10.8.5.4: IA-32e
	 * mode is left from compatibility mode) */
	if (!(cr0 & CR0_PG) && guest_long_mode(st))
		return false;
	/* 4.10.1: PCIDE comes on only in IA-32e mode with CR3[11:0] = 0, and
	 * paging stays on while it is set */
	if ((cr4_set & CR4_PCIDE) && (!lma || (st->cr3 & CR3_PCID_MASK)))
		return false;
	if ((cr4 & CR4_PCIDE) && !(cr0 & CR0_PG))
		return false;
	/* 4.1.1: LA57 does not change in IA-32e mode */
	return !(lma && ((cr4 ^ st->cr4) & CR4_LA57));
}

/*
 * MOV to CR0/CR4 through the VT-x guest/host masks: apply the guest's value.
 * AMD-V does not intercept CR writes: the CPU checks them itself, and takes
 * the CR4 bits of features it has that CPUID hides (MCE, CET), harmless
 * there: MCE sends a machine check to the guest's own handler rather than
 * shutting it down, and CET without its MSRs (#GP) turns nothing on.
 */
static enum exit_action handle_cr(struct vcpu *v, struct vm_exit *e)
{
	struct vcpu_state *st = &v->state;
	u64 cr0, cr4, val;

	vcpu_ops->load_state(v, VS_CR | VS_SEG_CODE);
	cr0 = st->cr0;
	cr4 = st->cr4;
	switch (e->cr.type) {
	case CR_ACCESS_MOV_TO:
		val = v->gpr[e->cr.gpr];
		if (e->cr.cr == 0)
			cr0 = val & (CR0_DEFINED | ~LOW32); /* reserved bits 31:0 ignored */
		else if (e->cr.cr == 4)
			cr4 = val;
		else if (e->cr.cr == 3)
			st->cr3 = val;
		else
			return exit_fatal(v, EXIT_CRASH, "unexpected control-register write");
		break;
	case CR_ACCESS_MOV_FROM:
		v->gpr[e->cr.gpr] = e->cr.cr == 0 ? st->cr0 : e->cr.cr == 4 ? st->cr4 : st->cr3;
		return exit_skip(v, e);
	case CR_ACCESS_CLTS:
		cr0 &= ~CR0_TS;
		break;
	case CR_ACCESS_LMSW:
		/* SDM 2A LMSW: loads PE, MP, EM, TS; cannot clear PE */
		cr0 = (cr0 & ~0xeULL) | (e->cr.lmsw_src & 0xf) | (cr0 & CR0_PE);
		break;
	default:
		return exit_fatal(v, EXIT_CRASH, "unexpected control-register access");
	}
	if (!cr_valid(v, st, cr0, cr4))
		return exit_inject(v, e, X86_EXC_GP, true, 0);
	st->cr0 = cr0;
	st->cr4 = cr4;
	vcpu_ops->store_state(v, VS_CR);
	return exit_skip(v, e);
}

/*
 * An intercepted exception goes back to the guest as it was: #AC and #DB
 * are intercepted so that a guest looping on their delivery (CVE-2015-5307,
 * CVE-2015-8104) exits at each round and stays stoppable. The backend has
 * left the debug registers as the exception would have (DR6, DR7.GD). One
 * raised by an instruction that completes (INT1 on VT-x, where the #DB
 * intercept catches it) returns past it.
 */
static enum exit_action handle_exception(struct vcpu *v, struct vm_exit *e)
{
	bool has_error = e->exc.vector == X86_EXC_DF || e->exc.vector == X86_EXC_GP ||
			 e->exc.vector == X86_EXC_PF || e->exc.vector == X86_EXC_TS ||
			 e->exc.vector == X86_EXC_NP || e->exc.vector == X86_EXC_SS ||
			 e->exc.vector == X86_EXC_AC || e->exc.vector == X86_EXC_CP;
	struct vm_apply a = { .skip_insn = true,
			      .event = { .type = EVENT_EXCEPTION, .vector = e->exc.vector } };

	if (!e->insn_len)
		return exit_inject(v, e, e->exc.vector, has_error, e->exc.error_code);
	vcpu_ops->apply(v, e, &a);
	v->stats.exceptions_injected++;
	return EXIT_RESUME;
}

/* No hypercalls are offered yet: VMCALL/VMMCALL raise #UD, as on bare metal. */
static enum exit_action handle_hypercall(struct vcpu *v, struct vm_exit *e)
{
	return handle_ud(v, e);
}

static enum exit_action handle_triple_fault(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	return exit_fatal(v, EXIT_CRASH, "triple fault");
}

static enum exit_action handle_invalid_state(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	return exit_fatal(v, EXIT_CRASH, "invalid guest state");
}

static enum exit_action handle_entry_fail(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	return exit_fatal(v, EXIT_CRASH, "VM entry failed");
}

static enum exit_action handle_misconfig(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	return exit_fatal(v, EXIT_CRASH, "second-level table misconfiguration");
}

static enum exit_action handle_unhandled(struct vcpu *v, struct vm_exit *e)
{
	(void)e;
	return exit_fatal(v, EXIT_CRASH, "unhandled VM exit");
}

const exit_handler_fn exit_handlers[VMEXIT_REASON_COUNT] = {
	[VMEXIT_NONE] = handle_resume,
	[VMEXIT_EXT_INTR] = handle_ext_intr,
	[VMEXIT_NMI] = handle_resume,
	[VMEXIT_INTR_WINDOW] = handle_resume,
	[VMEXIT_NMI_WINDOW] = handle_resume,
	[VMEXIT_CPUID] = handle_cpuid,
	[VMEXIT_HLT] = handle_hlt,
	[VMEXIT_IO] = io_handle,
	[VMEXIT_MSR_READ] = handle_rdmsr,
	[VMEXIT_MSR_WRITE] = handle_wrmsr,
	[VMEXIT_CR_ACCESS] = handle_cr,
	[VMEXIT_XSETBV] = handle_xsetbv,
	[VMEXIT_SLAT_FAULT] = mmio_handle,
	[VMEXIT_SLAT_MISCONFIG] = handle_misconfig,
	[VMEXIT_EXCEPTION] = handle_exception,
	[VMEXIT_HYPERCALL] = handle_hypercall,
	[VMEXIT_VIRT_INSN] = handle_ud,
	[VMEXIT_UD_INSN] = handle_ud,
	[VMEXIT_INVD] = exit_skip,
	[VMEXIT_PAUSE] = exit_skip,
	[VMEXIT_RDTSCP] = handle_unhandled, /* RDTSCP is never intercepted */
	[VMEXIT_RDPMC] = handle_rdpmc,
	[VMEXIT_INIT] = handle_resume, /* physical INIT: none is ever sent */
	[VMEXIT_SIPI] = handle_resume,
	[VMEXIT_TRIPLE_FAULT] = handle_triple_fault,
	[VMEXIT_INVALID_STATE] = handle_invalid_state,
	[VMEXIT_ENTRY_FAIL] = handle_entry_fail,
	[VMEXIT_UNHANDLED] = handle_unhandled,
};
