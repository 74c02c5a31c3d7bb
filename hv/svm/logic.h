/*
 * The AMD-V backend's pure logic: no SVM instruction, no MSR access, no
 * allocation. Exit decoding from VMCB fields, the VMCB accessors that clear
 * clean bits, neutral state <-> VMCB, event injection, the interrupt window,
 * and the intercept maps. Unit-tested on the host (tests/unit/test_svm.c).
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/svm/vmcb.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vcpu/vm_exit.h"

/* Per vCPU (vcpu->vendor). */
struct svm_vcpu {
	struct vmcb *vmcb;
	u64 vmcb_pa;
	u64 host_save_pa; /* VMSAVE/VMLOAD area for the host's hidden state */
	u8 *host_save;
	/* NMI blocking, which the VMCB does not hold: from an NMI injected
	 * until the guest's IRET has completed (SDM 3A 6.7.1). The IRET
	 * intercept says when it starts (APM 2 15.9); a single step of ours
	 * (RFLAGS.TF and the #DB intercept) that one instruction completed:
	 * the IRET (step_iret), or one in an interrupt shadow that keeps an
	 * NMI out. step_tf, step_bs: the guest's RFLAGS.TF and DR6.BS then. */
	bool nmi_blocked, nmi_step, step_iret, step_tf;
	u64 step_bs, step_rip;
};

/* Per partition (partition->vendor): the default-deny permission maps. */
struct svm_part {
	u8 *iopm, *msrpm;
	u64 iopm_pa, msrpm_pa;
};

/* --- VMCB accessors (APM 2 15.15) ---------------------------------------- */

/*
 * VMCB clean bits (APM 2 15.15.3, table 15-9): a set bit lets the CPU keep
 * its cached copy of that group of fields across VMRUN. Every write to a
 * field of a group clears the group's bit; fields outside every group
 * (RIP, RSP, RAX, RFLAGS, EVENTINJ, the interrupt shadow, TLB_CONTROL, and
 * what VMLOAD loads) are read at every VMRUN.
 */
#define VMCB_CLEAN_INTERCEPTS BIT(0) /* intercept vectors, TSC offset, pause filter */
#define VMCB_CLEAN_IOPM BIT(1)	     /* IOPM_BASE_PA, MSRPM_BASE_PA */
#define VMCB_CLEAN_ASID BIT(2)
#define VMCB_CLEAN_TPR BIT(3) /* V_TPR, V_IRQ, V_INTR_*: the vintr field */
#define VMCB_CLEAN_NP BIT(4)  /* NP_ENABLE, N_CR3, G_PAT */
#define VMCB_CLEAN_CRX BIT(5) /* CR0, CR3, CR4, EFER */
#define VMCB_CLEAN_DRX BIT(6) /* DR6, DR7 */
#define VMCB_CLEAN_DT BIT(7)  /* GDTR, IDTR */
#define VMCB_CLEAN_SEG BIT(8) /* CS, DS, SS, ES, CPL */
#define VMCB_CLEAN_CR2 BIT(9)
#define VMCB_CLEAN_ALL 0x3ffU

static inline void vmcb_dirty(struct vmcb *vmcb, u32 bits)
{
	vmcb->ctl.clean &= ~bits;
}

/* Writes a VMCB field of clean-bit group(s) `bits`. */
#define VMCB_SET(vmcb, field, val, bits)    \
	do {                                \
		(vmcb)->field = (val);      \
		vmcb_dirty((vmcb), (bits)); \
	} while (0)

/* --- set-up ------------------------------------------------------------- */

/*
 * The controls every vCPU starts with: default-deny intercepts (VMRUN
 * among them, APM 2 15.5.1), the partition's permission maps and ASID,
 * nested paging over ncr3, V_INTR_MASKING, the power-up PAT, a full TLB
 * flush at the first VMRUN and nothing cached (clean 0).
 */
void svm_vmcb_init(struct vmcb *vmcb, const struct svm_part *part, u32 asid, u64 ncr3);
/* INIT or restart: nothing injected, no interrupt shadow, no window, NMIs
 * not blocked. */
void svm_vcpu_state_reset(struct svm_vcpu *s);
/* Asks the next VMRUN to flush the guest's TLB entries: its ASID's only
 * when the CPU has flush-by-ASID (APM 2 15.16.1), else everything. */
void svm_vmcb_flush_tlb(struct vmcb *vmcb, bool by_asid);

/* --- neutral state <-> VMCB (ops slots load_state / store_state) -------- */

/* IA32_TSC_AUX, which neither VMRUN nor VMLOAD switches: the register
 * (hv/svm/svm_vcpu.c; 0 and ignored without RDTSCP). */
u64 svm_tsc_aux_read(void);
void svm_tsc_aux_write(u64 val);

void svm_load_state(struct vcpu *v, u32 mask);
void svm_store_state(struct vcpu *v, u32 mask);

/* --- exits (APM 2 15.6, 15.7, appendix C) --------------------------------- */

/* An instruction the guest continues after: its plain encoding. */
struct svm_insn {
	u8 len;
	u8 opcode[3];
};

/* An exit code with a fixed neutral reason (hv/svm/decode.c). */
struct svm_exit_simple {
	u32 code;
	u8 reason;	      /* enum vm_exit_reason */
	struct svm_insn insn; /* len 0: not an instruction the guest continues after */
};

#define SVM_SIMPLE_EXIT_COUNT 25
extern const struct svm_exit_simple svm_simple_exits[SVM_SIMPLE_EXIT_COUNT];
extern const struct svm_insn svm_insn_rdmsr, svm_insn_wrmsr;

/*
 * The decode is inline: it runs on every exit, and svm_run (the only
 * caller) then compiles to what a decode written in place would.
 */

static inline void svm_decode_ioio(const struct vmcb *vmcb, struct vm_exit *e)
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

static inline void svm_decode_npf(const struct vmcb *vmcb, struct vm_exit *e)
{
	u64 err = vmcb->ctl.exitinfo1;

	e->reason = VMEXIT_SLAT_FAULT;
	e->slat.gpa = vmcb->ctl.exitinfo2;
	e->slat.access = (err & SVM_NPF_W)  ? EXIT_ACCESS_WRITE :
			 (err & SVM_NPF_ID) ? EXIT_ACCESS_EXEC :
					      EXIT_ACCESS_READ;
	e->slat.present = err & SVM_NPF_P;
	e->slat.gla_valid = false;
}

/* An instruction's exit: with next-RIP save the CPU tells the length
 * (APM 2 15.7.1); without it the caller matches insn at RIP. */
static inline const struct svm_insn *svm_insn_exit(const struct vmcb *vmcb, bool nrip,
						   const struct svm_insn *insn, struct vm_exit *e)
{
	e->insn_len = insn->len;
	if (!insn->len)
		return NULL;
	if (!nrip)
		return insn;
	if (vmcb->ctl.nrip > vmcb->save.rip)
		e->insn_len = (u32)(vmcb->ctl.nrip - vmcb->save.rip);
	return NULL;
}

/*
 * Decodes the #VMEXIT in vmcb into e (but e->vectoring: svm_redeliver);
 * rcx is the guest's RCX (the MSR
 * index of RDMSR/WRMSR). e->insn_len is that of the exiting instruction
 * where the core skips it: with next-RIP save (nrip) nRIP - RIP (15.7.1),
 * for IOIO EXITINFO2 - RIP (15.10.2) in any case, else the length of the
 * plain encoding. In that last case, the return value is the instruction
 * whose real length (prefixes included) the caller finds by matching the
 * bytes at RIP; NULL when there is nothing to match. A code the core has
 * no use for is VMEXIT_UNHANDLED.
 */
static inline const struct svm_insn *svm_decode_exit(const struct vmcb *vmcb, u64 rcx, bool nrip,
						     struct vm_exit *e)
{
	u64 code = vmcb->ctl.exitcode;

	e->raw = code;
	e->qual = vmcb->ctl.exitinfo1;
	e->insn_len = 0;
	switch (code) {
	case SVM_EXIT_IOIO:
		svm_decode_ioio(vmcb, e);
		return NULL;
	case SVM_EXIT_MSR:
		/* APM 2 15.11: EXITINFO1 is 0 for RDMSR, 1 for WRMSR */
		e->reason = vmcb->ctl.exitinfo1 ? VMEXIT_MSR_WRITE : VMEXIT_MSR_READ;
		e->msr.index = (u32)rcx;
		return svm_insn_exit(vmcb, nrip,
				     vmcb->ctl.exitinfo1 ? &svm_insn_wrmsr : &svm_insn_rdmsr, e);
	case SVM_EXIT_NPF:
		svm_decode_npf(vmcb, e);
		return NULL;
	default:
		break;
	}
	/* PLATFORMS.md: QEMU gives 0x00000000ffffffff, not -1 */
	if ((u32)code == SVM_EXIT_INVALID) {
		e->reason = VMEXIT_INVALID_STATE;
		return NULL;
	}
	for (size_t i = 0; i < SVM_SIMPLE_EXIT_COUNT; i++) {
		if (svm_simple_exits[i].code == code) {
			e->reason = svm_simple_exits[i].reason;
			return svm_insn_exit(vmcb, nrip, &svm_simple_exits[i].insn, e);
		}
	}
	e->reason = VMEXIT_UNHANDLED;
	if (code >= SVM_EXIT_EXCP_BASE && code < SVM_EXIT_EXCP_BASE + SVM_EXIT_EXCP_COUNT) {
		/* APM 2 15.12: EXITINFO1 is the error code, EXITINFO2 CR2 for #PF */
		e->reason = VMEXIT_EXCEPTION;
		e->exc.vector = (u8)(code - SVM_EXIT_EXCP_BASE);
		e->exc.error_code = (u32)vmcb->ctl.exitinfo1;
		e->exc.cr2 = vmcb->ctl.exitinfo2;
	}
	return NULL;
}

/* --- before the next entry (ops slots apply / skip / irq_injectable) ---- */

/* EVENTINJ for ev (APM 2 15.20); 0 for EVENT_NONE. */
u64 svm_event_inj(const struct vcpu_event *ev);
/* The exit interrupted the delivery of the event in EXITINTINFO (APM 2
 * 15.7.2): into e->vectoring, and back into EVENTINJ to be delivered at
 * the next VMRUN. */
void svm_redeliver(struct vmcb *vmcb, struct vm_exit *e);
/* An exit while NMIs are blocked or a step of ours is under way: follows
 * the IRET and the step; an exit that only served them becomes
 * VMEXIT_NONE or VMEXIT_NMI_WINDOW. */
void svm_nmi_exit(struct svm_vcpu *s, struct vm_exit *e);
void svm_apply(struct vcpu *v, const struct vm_exit *exit, const struct vm_apply *a);
void svm_skip(struct vcpu *v, u32 len);
bool svm_irq_injectable(struct vcpu *v);
bool svm_nmi_injectable(struct vcpu *v);

/* --- intercept maps (APM 2 15.10.1, 15.11) ----------------------------- */

#define SVM_IOPM_SIZE (12 * KiB)
#define SVM_MSRPM_SIZE (8 * KiB)

/* The read-intercept bit of msr in the MSR permission map (the write bit
 * follows it), or -1 for an MSR outside the map (always intercepted). */
long svm_msrpm_bit(u32 msr);
/* Sets or clears the read and write intercepts of msr (nothing outside
 * the map) and of I/O port `port`. */
void svm_msrpm_set(u8 *msrpm, u32 msr, bool read, bool write);
void svm_iopm_set(u8 *iopm, u16 port, bool intercept);
