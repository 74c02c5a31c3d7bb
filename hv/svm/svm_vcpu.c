/*
 * AMD-V vCPUs: the VMCB (APM 2 15.5, appendix B), VMRUN, and the decode of
 * #VMEXIT codes into the neutral struct vm_exit (appendix C).
 *
 * Every VMCB write goes through an accessor that clears the matching clean
 * bit (APM 2 15.15). QEMU's TCG does not implement clean bits, and there we
 * always pass 0 (nothing cached), which is always correct.
 */
#include "drivers/lapic.h"
#include "hv/console/console.h"
#include "hv/ept/slat.h"
#include "hv/insn/prefix.h"
#include "hv/vcpu/guest_code.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/cpu/panic.h"
#include "hv/partition/partition.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/smp.h"
#include "hv/svm/svm.h"
#include "hv/hw/x86.h"

/* VMCB clean bits (APM 2 15.15.3, table 15-9) */
#define CLEAN_INTERCEPTS BIT(0)
#define CLEAN_IOPM BIT(1)
#define CLEAN_ASID BIT(2)
#define CLEAN_TPR BIT(3)
#define CLEAN_NP BIT(4)
#define CLEAN_CRX BIT(5)
#define CLEAN_DRX BIT(6)
#define CLEAN_DT BIT(7)
#define CLEAN_SEG BIT(8)
#define CLEAN_CR2 BIT(9)
#define CLEAN_ALL 0x3ffU

#define IOPM_SIZE (12 * KiB)	/* APM 2 15.10.1 */
#define MSRPM_SIZE (8 * KiB)	/* APM 2 15.11 */
#define PAT_DEFAULT 0x0007040600070406ULL /* SDM 3A 12.12.4 power-up PAT */
#define VINTR_PRIO_ANY 0xf

/* Instruction lengths when the CPU has no next-RIP save (QEMU TCG). */
#define LEN_CPUID 2
#define LEN_HLT 1
#define LEN_MSR 2
#define LEN_VMMCALL 3
#define LEN_XSETBV 3
#define LEN_INVD 2
#define LEN_PAUSE 2

#define SVM_EXIT_CR_COUNT 16

static struct svm_vcpu *sv(struct vcpu *v)
{
	return v->vendor;
}

static struct svm_part *sp(struct partition *p)
{
	return p->vendor;
}

/* --- VMCB accessors: each write marks its state not cached ------------ */

static void vmcb_dirty(struct vmcb *vmcb, u32 bits)
{
	vmcb->ctl.clean &= ~bits;
}

#define VMCB_SET(vmcb, field, val, bits)        \
	do {                                    \
		(vmcb)->field = (val);          \
		vmcb_dirty((vmcb), (bits));     \
	} while (0)

/* --- partitions: the I/O and MSR permission maps ----------------------- */

static int svm_part_init(struct partition *p)
{
	struct svm_part *s = mm_alloc(sizeof(*s), 8, 0);

	if (!s)
		return -E_NOMEM;
	s->iopm = mm_alloc(IOPM_SIZE, PAGE_SIZE, 0);
	s->msrpm = mm_alloc(MSRPM_SIZE, PAGE_SIZE, 0);
	if (!s->iopm || !s->msrpm)
		return -E_NOMEM;
	/* default deny: every port and every MSR intercepted */
	memset(s->iopm, 0xff, IOPM_SIZE);
	memset(s->msrpm, 0xff, MSRPM_SIZE);
	s->iopm_pa = virt_to_phys(s->iopm);
	s->msrpm_pa = virt_to_phys(s->msrpm);
	p->vendor = s;
	return 0;
}

static void svm_part_free(struct partition *p)
{
	struct svm_part *s = sp(p);

	if (!s)
		return;
	mm_free(s->iopm, IOPM_SIZE);
	mm_free(s->msrpm, MSRPM_SIZE);
	mm_free(s, sizeof(*s));
	p->vendor = NULL;
}

/* APM 2 15.11: three 2 KiB ranges, two bits (read, write) per MSR */
static long msrpm_bit(u32 msr)
{
	static const struct {
		u32 first;
		u32 offset; /* in bytes */
	} ranges[] = {
		{ 0x00000000, 0x0000 },
		{ 0xc0000000, 0x0800 },
		{ 0xc0010000, 0x1000 },
	};
	const u32 per_range = 0x2000;

	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++)
		if (msr >= ranges[i].first && msr - ranges[i].first < per_range)
			return (long)ranges[i].offset * 8 + (msr - ranges[i].first) * 2;
	return -1; /* outside the map: always intercepted */
}

static void set_bit_to(u8 *map, long bit, bool on)
{
	if (on)
		map[bit / 8] |= (u8)BIT(bit % 8);
	else
		map[bit / 8] &= (u8)~BIT(bit % 8);
}

static void svm_set_msr_intercept(struct partition *p, u32 msr, bool read, bool write)
{
	long bit = msrpm_bit(msr);

	if (bit < 0)
		return;
	set_bit_to(sp(p)->msrpm, bit, read);
	set_bit_to(sp(p)->msrpm, bit + 1, write);
}

static void svm_set_io_intercept(struct partition *p, u16 port, bool intercept)
{
	set_bit_to(sp(p)->iopm, port, intercept);
}

/* --- vCPUs ------------------------------------------------------------- */

static void setup_controls(struct vcpu *v)
{
	struct vmcb *vmcb = sv(v)->vmcb;
	struct partition *p = v->part;

	vmcb->ctl.intercept_exc = 0;
	vmcb->ctl.intercept_misc1 = SVM_INTERCEPT_INTR | SVM_INTERCEPT_NMI |
				    SVM_INTERCEPT_INIT | SVM_INTERCEPT_CPUID |
				    SVM_INTERCEPT_INVD | SVM_INTERCEPT_HLT |
				    SVM_INTERCEPT_INVLPGA | SVM_INTERCEPT_IOIO |
				    SVM_INTERCEPT_MSR | SVM_INTERCEPT_TASK_SWITCH |
				    SVM_INTERCEPT_SHUTDOWN | SVM_INTERCEPT_RSM;
	/* APM 2 15.5.1: VMRUN must be intercepted */
	vmcb->ctl.intercept_misc2 = SVM_INTERCEPT_VMRUN | SVM_INTERCEPT_VMMCALL |
				    SVM_INTERCEPT_VMLOAD | SVM_INTERCEPT_VMSAVE |
				    SVM_INTERCEPT_STGI | SVM_INTERCEPT_CLGI |
				    SVM_INTERCEPT_SKINIT | SVM_INTERCEPT_WBINVD |
				    SVM_INTERCEPT_MONITOR | SVM_INTERCEPT_MWAIT |
				    SVM_INTERCEPT_MWAIT_COND | SVM_INTERCEPT_XSETBV |
				    SVM_INTERCEPT_RDPRU;
	vmcb->ctl.iopm_base_pa = sp(p)->iopm_pa;
	vmcb->ctl.msrpm_base_pa = sp(p)->msrpm_pa;
	vmcb->ctl.tsc_offset = 0; /* the TSC is passed through */
	vmcb->ctl.asid = p->index + 1; /* 0 is the host's */
	/* host interrupts stay with the host whatever the guest's IF */
	vmcb->ctl.vintr = SVM_VINTR_MASKING;
	vmcb->ctl.np_control = SVM_NP_ENABLE;
	vmcb->ctl.ncr3 = p->slat.root_pa;
	vmcb->save.g_pat = PAT_DEFAULT;
	vmcb->ctl.tlb_control = SVM_TLB_FLUSH_ALL;
	vmcb->ctl.clean = 0;
}

static int svm_vcpu_init(struct vcpu *v)
{
	struct svm_vcpu *s = mm_alloc(sizeof(*s), 8, 0);

	if (!s)
		return -E_NOMEM;
	s->vmcb = mm_alloc_page();
	s->host_save = mm_alloc_page();
	if (!s->vmcb || !s->host_save)
		return -E_NOMEM;
	s->vmcb_pa = virt_to_phys(s->vmcb);
	s->host_save_pa = virt_to_phys(s->host_save);
	v->vendor = s;
	setup_controls(v);
	return 0;
}

static void svm_vcpu_free(struct vcpu *v)
{
	struct svm_vcpu *s = sv(v);

	if (!s)
		return;
	mm_free(s->vmcb, PAGE_SIZE);
	mm_free(s->host_save, PAGE_SIZE);
	mm_free(s, sizeof(*s));
	v->vendor = NULL;
}

static void svm_flush_tlb(struct vcpu *v)
{
	VMCB_SET(sv(v)->vmcb, ctl.tlb_control,
		 virt_caps.flush_by_asid ? SVM_TLB_FLUSH_ASID : SVM_TLB_FLUSH_ALL,
		 0);
}

static void svm_vcpu_reset(struct vcpu *v)
{
	struct vmcb *vmcb = sv(v)->vmcb;

	vmcb->ctl.eventinj = 0;
	vmcb->ctl.int_state = 0;
	VMCB_SET(vmcb, ctl.vintr, SVM_VINTR_MASKING, CLEAN_TPR);
	vmcb->ctl.intercept_misc1 &= ~SVM_INTERCEPT_VINTR;
	vmcb_dirty(vmcb, CLEAN_INTERCEPTS);
	svm_flush_tlb(v);
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

static void svm_load_state(struct vcpu *v, u32 mask)
{
	const struct vmcb_save *vs = &sv(v)->vmcb->save;
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
	if (mask & VS_DR7)
		st->dr7 = vs->dr7;
	if (mask & VS_SYSENTER) {
		st->sysenter_cs = vs->sysenter_cs;
		st->sysenter_esp = vs->sysenter_esp;
		st->sysenter_eip = vs->sysenter_eip;
	}
	if (mask & VS_PAT)
		st->pat = vs->g_pat;
	if (mask & VS_INTR)
		st->intr_shadow = (sv(v)->vmcb->ctl.int_state & SVM_INT_STATE_SHADOW) ?
					  INTR_SHADOW_STI : 0;
	v->state_valid |= mask;
}

static void svm_store_state(struct vcpu *v, u32 mask)
{
	struct vmcb *vmcb = sv(v)->vmcb;
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
		vmcb_dirty(vmcb, CLEAN_CRX | CLEAN_CR2);
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
		vs->cpl = (st->cr0 & CR0_PE) ?
				  (u8)((st->ss.attr >> SEG_ATTR_DPL_SHIFT) & 3) : 0;
		vmcb_dirty(vmcb, CLEAN_SEG | CLEAN_DT);
	}
	if (mask & VS_DR7) {
		vs->dr7 = st->dr7;
		vmcb_dirty(vmcb, CLEAN_DRX);
	}
	if (mask & VS_SYSENTER) {
		vs->sysenter_cs = st->sysenter_cs;
		vs->sysenter_esp = st->sysenter_esp;
		vs->sysenter_eip = st->sysenter_eip;
	}
	if (mask & VS_PAT)
		VMCB_SET(vmcb, save.g_pat, st->pat, CLEAN_NP);
	if (mask & VS_INTR)
		vmcb->ctl.int_state = (st->intr_shadow) ? SVM_INT_STATE_SHADOW : 0;
	v->state_valid |= mask;
}

/* --- exits ------------------------------------------------------------- */

static void decode_ioio(struct vm_exit *e, const struct vmcb *vmcb)
{
	u64 info = vmcb->ctl.exitinfo1;

	e->reason = VMEXIT_IO;
	e->io.port = (u16)(info >> SVM_IOIO_PORT_SHIFT);
	e->io.in = info & SVM_IOIO_IN;
	e->io.string = info & SVM_IOIO_STR;
	e->io.rep = info & SVM_IOIO_REP;
	e->io.size = (info & SVM_IOIO_SZ32) ? 4 : (info & SVM_IOIO_SZ16) ? 2 : 1;
	/* APM 2 15.10.2: EXITINFO2 holds the next RIP, with or without nRIP save */
	e->insn_len = (u32)(vmcb->ctl.exitinfo2 - vmcb->save.rip);
}

static void decode_npf(struct vm_exit *e, const struct vmcb *vmcb)
{
	u64 err = vmcb->ctl.exitinfo1;

	e->reason = VMEXIT_SLAT_FAULT;
	e->slat.gpa = vmcb->ctl.exitinfo2;
	e->slat.access = (err & SVM_NPF_W) ? EXIT_ACCESS_WRITE :
			 (err & SVM_NPF_ID) ? EXIT_ACCESS_EXEC : EXIT_ACCESS_READ;
	e->slat.present = err & SVM_NPF_P;
	e->slat.gla_valid = false;
}

/* Exit codes with a fixed neutral reason, and for the instructions the
 * guest continues after, their opcode (SDM 2 appendix A). */
static const struct {
	u32 code;
	u8 reason;
	u8 len;
	u8 opcode[3];
} simple_exits[] = {
	/* the frequent ones first: the lookup is linear */
	{ SVM_EXIT_CPUID, VMEXIT_CPUID, LEN_CPUID, { 0x0f, 0xa2 } },
	{ SVM_EXIT_INTR, VMEXIT_EXT_INTR, 0, { 0 } },
	{ SVM_EXIT_VINTR, VMEXIT_INTR_WINDOW, 0, { 0 } },
	{ SVM_EXIT_HLT, VMEXIT_HLT, LEN_HLT, { 0xf4 } },
	{ SVM_EXIT_VMMCALL, VMEXIT_HYPERCALL, LEN_VMMCALL, { 0x0f, 0x01, 0xd9 } },
	{ SVM_EXIT_XSETBV, VMEXIT_XSETBV, LEN_XSETBV, { 0x0f, 0x01, 0xd1 } },
	{ SVM_EXIT_INVD, VMEXIT_INVD, LEN_INVD, { 0x0f, 0x08 } },
	{ SVM_EXIT_WBINVD, VMEXIT_INVD, LEN_INVD, { 0x0f, 0x09 } },
	{ SVM_EXIT_PAUSE, VMEXIT_PAUSE, LEN_PAUSE, { 0xf3, 0x90 } },
	{ SVM_EXIT_VMRUN, VMEXIT_VIRT_INSN, 0, { 0 } },
	{ SVM_EXIT_VMLOAD, VMEXIT_VIRT_INSN, 0, { 0 } },
	{ SVM_EXIT_VMSAVE, VMEXIT_VIRT_INSN, 0, { 0 } },
	{ SVM_EXIT_STGI, VMEXIT_VIRT_INSN, 0, { 0 } },
	{ SVM_EXIT_CLGI, VMEXIT_VIRT_INSN, 0, { 0 } },
	{ SVM_EXIT_SKINIT, VMEXIT_VIRT_INSN, 0, { 0 } },
	{ SVM_EXIT_INVLPGA, VMEXIT_VIRT_INSN, 0, { 0 } },
	{ SVM_EXIT_MONITOR, VMEXIT_UD_INSN, 0, { 0 } },
	{ SVM_EXIT_MWAIT, VMEXIT_UD_INSN, 0, { 0 } },
	{ SVM_EXIT_MWAIT_COND, VMEXIT_UD_INSN, 0, { 0 } },
	{ SVM_EXIT_RDPRU, VMEXIT_UD_INSN, 0, { 0 } },
	{ SVM_EXIT_RSM, VMEXIT_UD_INSN, 0, { 0 } },
	{ SVM_EXIT_SHUTDOWN, VMEXIT_TRIPLE_FAULT, 0, { 0 } },
	{ SVM_EXIT_INIT, VMEXIT_INIT, 0, { 0 } },
	{ SVM_EXIT_NMI, VMEXIT_NMI, 0, { 0 } },
};

static const u8 opcode_rdmsr[] = { 0x0f, 0x32 };
static const u8 opcode_wrmsr[] = { 0x0f, 0x30 };

/*
 * The length of the exiting instruction without next-RIP save (QEMU's TCG):
 * decode the bytes at RIP, prefixes included. When they cannot be read or
 * do not match (another vCPU rewrote them), the plain encoding's length.
 */
static u32 decoded_len(struct vcpu *v, const u8 *opcode, u32 oplen, u32 fallback)
{
	u8 bytes[INSN_MAX_LEN];
	u32 got, pf_err;
	u64 fault_gla;
	int len;

	if (guest_fetch_insn(v, bytes, &got, &pf_err, &fault_gla) < 0 || !got)
		return fallback;
	len = insn_match(bytes, got, guest_insn_mode(&v->state), opcode, oplen);
	return len > 0 ? (u32)len : fallback;
}

static void decode_exit(struct vcpu *v, struct vm_exit *e)
{
	const struct vmcb *vmcb = sv(v)->vmcb;
	u64 code = vmcb->ctl.exitcode;

	e->raw = code;
	e->qual = vmcb->ctl.exitinfo1;
	e->insn_len = 0;
	switch (code) {
	case SVM_EXIT_IOIO:
		decode_ioio(e, vmcb);
		return;
	case SVM_EXIT_MSR:
		e->reason = vmcb->ctl.exitinfo1 ? VMEXIT_MSR_WRITE : VMEXIT_MSR_READ;
		e->msr.index = (u32)v->gpr[GPR_RCX];
		e->insn_len = LEN_MSR;
		if (!virt_caps.nrip_save)
			e->insn_len = decoded_len(v, e->reason == VMEXIT_MSR_WRITE ?
						     opcode_wrmsr : opcode_rdmsr,
						  LEN_MSR, LEN_MSR);
		goto nrip;
	case SVM_EXIT_NPF:
		decode_npf(e, vmcb);
		return;
	default:
		break;
	}
	if ((u32)code == SVM_EXIT_INVALID) {
		e->reason = VMEXIT_INVALID_STATE;
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(simple_exits); i++) {
		if (simple_exits[i].code == code) {
			e->reason = simple_exits[i].reason;
			e->insn_len = simple_exits[i].len;
			if (e->insn_len && !virt_caps.nrip_save)
				e->insn_len = decoded_len(v, simple_exits[i].opcode,
							  simple_exits[i].len, e->insn_len);
			goto nrip;
		}
	}
	e->reason = VMEXIT_UNHANDLED;
	if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + X86_EXC_COUNT) {
		e->reason = VMEXIT_EXCEPTION;
		e->exc.vector = (u8)(code - SVM_EXIT_EXCP_BASE);
		e->exc.error_code = (u32)vmcb->ctl.exitinfo1;
		e->exc.cr2 = vmcb->ctl.exitinfo2;
	}
	return;
nrip:
	/* with next-RIP save the CPU tells the length (APM 2 15.7.1) */
	if (virt_caps.nrip_save && vmcb->ctl.nrip > vmcb->save.rip && e->insn_len)
		e->insn_len = (u32)(vmcb->ctl.nrip - vmcb->save.rip);
}

static inline void svm_clgi(void)
{
	__asm__ volatile("clgi" ::: "memory");
}

static inline void svm_stgi(void)
{
	__asm__ volatile("stgi" ::: "memory");
}

static inline void svm_vmsave(u64 pa)
{
	__asm__ volatile("vmsave %%rax" ::"a"(pa) : "memory");
}

static inline void svm_vmload(u64 pa)
{
	__asm__ volatile("vmload %%rax" ::"a"(pa) : "memory");
}

static void svm_run(struct vcpu *v, struct vm_exit *exit)
{
	struct svm_vcpu *s = sv(v);
	struct vmcb *vmcb = s->vmcb;

	vmcb->save.rax = v->gpr[GPR_RAX];
	vmcb->save.rsp = v->gpr[GPR_RSP];
	if (!virt_caps.vmcb_clean)
		vmcb->ctl.clean = 0;

	/* APM 2 15.5.2: the hidden state VMRUN leaves alone (FS, GS, TR, LDTR,
	 * KernelGsBase, STAR family, SYSENTER) moves with VMSAVE/VMLOAD. */
	svm_clgi();
	/* APM 2 15.21.1: with V_INTR_MASKING, the host's IF at VMRUN decides
	 * whether physical interrupts reach us (as INTR exits) while the guest
	 * runs; GIF = 0 keeps them out of the host until STGI. */
	irq_enable();
	svm_vmsave(s->host_save_pa);
	svm_vmload(s->vmcb_pa);
	svm_vmrun(v->gpr, s->vmcb_pa);
	svm_vmsave(s->vmcb_pa);
	svm_vmload(s->host_save_pa);
	irq_disable();
	svm_stgi();

	v->gpr[GPR_RAX] = vmcb->save.rax;
	v->gpr[GPR_RSP] = vmcb->save.rsp;
	vmcb->ctl.clean = virt_caps.vmcb_clean ? CLEAN_ALL : 0;
	vmcb->ctl.tlb_control = SVM_TLB_NONE;
	v->state_valid = 0;
	decode_exit(v, exit);
	if (exit->reason == VMEXIT_EXT_INTR) {
		/* let the host take the interrupt now (its handler sends EOI) */
		irq_enable();
		__asm__ volatile("nop");
		irq_disable();
	}
	if (exit->reason == VMEXIT_NMI && smp_stopping)
		cpu_park();
}

static void skip_insn(struct vmcb *vmcb, u32 len)
{
	vmcb->save.rip += len;
	vmcb->ctl.int_state &= ~SVM_INT_STATE_SHADOW;
}

/* APM 2 15.21.4: a virtual interrupt request with VINTR intercepted exits
 * as soon as the guest can take an interrupt */
static void open_irq_window(struct vmcb *vmcb)
{
	VMCB_SET(vmcb, ctl.vintr,
		 SVM_VINTR_MASKING | SVM_VINTR_V_IRQ | SVM_VINTR_V_IGN_TPR |
			 ((u64)VINTR_PRIO_ANY << SVM_VINTR_PRIO_SHIFT),
		 CLEAN_TPR);
	VMCB_SET(vmcb, ctl.intercept_misc1, vmcb->ctl.intercept_misc1 | SVM_INTERCEPT_VINTR,
		 CLEAN_INTERCEPTS);
}

static void close_irq_window(struct vmcb *vmcb)
{
	if (vmcb->ctl.intercept_misc1 & SVM_INTERCEPT_VINTR) {
		VMCB_SET(vmcb, ctl.vintr, SVM_VINTR_MASKING, CLEAN_TPR);
		VMCB_SET(vmcb, ctl.intercept_misc1,
			 vmcb->ctl.intercept_misc1 & ~SVM_INTERCEPT_VINTR, CLEAN_INTERCEPTS);
	}
}

static void svm_apply(struct vcpu *v, const struct vm_exit *exit, const struct vm_apply *a)
{
	struct vmcb *vmcb = sv(v)->vmcb;

	if (a->skip_insn)
		skip_insn(vmcb, exit->insn_len);
	if (a->event.type != EVENT_NONE) {
		static const u8 types[] = {
			[EVENT_EXTINT] = SVM_EVT_TYPE_INTR,
			[EVENT_NMI] = SVM_EVT_TYPE_NMI,
			[EVENT_EXCEPTION] = SVM_EVT_TYPE_EXC,
			[EVENT_SOFT_INT] = SVM_EVT_TYPE_SOFT,
		};
		u64 ev = a->event.vector | ((u64)types[a->event.type] << SVM_EVT_TYPE_SHIFT) |
			 SVM_EVT_VALID;

		if (a->event.has_error)
			ev |= SVM_EVT_ERR_VALID | ((u64)a->event.error_code << SVM_EVT_ERR_SHIFT);
		vmcb->ctl.eventinj = ev;
	}
	if (a->irq_window)
		open_irq_window(vmcb);
	else
		close_irq_window(vmcb);
}

static void svm_skip(struct vcpu *v, u32 len)
{
	struct vmcb *vmcb = sv(v)->vmcb;

	skip_insn(vmcb, len);
	close_irq_window(vmcb);
}

static bool svm_irq_injectable(struct vcpu *v)
{
	const struct vmcb *vmcb = sv(v)->vmcb;

	return (vmcb->save.rflags & RFLAGS_IF) &&
	       !(vmcb->ctl.int_state & SVM_INT_STATE_SHADOW) &&
	       !(vmcb->ctl.eventinj & SVM_EVT_VALID);
}

static void dump_seg(const char *name, const struct vmcb_seg *s)
{
	pr_info("  %-4s sel %04x attr %03x limit %08x base %016lx\n", name, s->sel,
		s->attr, s->limit, s->base);
}

static void svm_dump(struct vcpu *v)
{
	const struct vmcb *vmcb = sv(v)->vmcb;
	const struct vmcb_save *vs = &vmcb->save;

	pr_info("  svm: exitcode %#lx exitinfo1 %#lx exitinfo2 %#lx exitintinfo %#lx\n",
		vmcb->ctl.exitcode, vmcb->ctl.exitinfo1, vmcb->ctl.exitinfo2,
		vmcb->ctl.exitintinfo);
	pr_info("  rip %016lx rsp %016lx rflags %016lx cpl %u\n", vs->rip, vs->rsp,
		vs->rflags, vs->cpl);
	pr_info("  cr0 %016lx cr2 %016lx cr3 %016lx cr4 %016lx efer %016lx\n", vs->cr0,
		vs->cr2, vs->cr3, vs->cr4, vs->efer);
	dump_seg("cs", &vs->cs);
	dump_seg("ss", &vs->ss);
	dump_seg("ds", &vs->ds);
	dump_seg("tr", &vs->tr);
	pr_info("  gdtr %016lx/%x idtr %016lx/%x eventinj %#lx\n", vs->gdtr.base,
		vs->gdtr.limit, vs->idtr.base, vs->idtr.limit, vmcb->ctl.eventinj);
}

const struct vcpu_ops svm_ops = {
	.name = "svm",
	.slat_fmt = &slat_fmt_npt,
	.probe = svm_probe,
	.cpu_enable = svm_cpu_enable,
	.cpu_disable = svm_cpu_disable,
	.part_init = svm_part_init,
	.part_free = svm_part_free,
	.set_msr_intercept = svm_set_msr_intercept,
	.set_io_intercept = svm_set_io_intercept,
	.vcpu_init = svm_vcpu_init,
	.vcpu_free = svm_vcpu_free,
	.vcpu_reset = svm_vcpu_reset,
	.run = svm_run,
	.apply = svm_apply,
	.skip = svm_skip,
	.load_state = svm_load_state,
	.store_state = svm_store_state,
	.irq_injectable = svm_irq_injectable,
	.flush_tlb = svm_flush_tlb,
	.dump = svm_dump,
};
