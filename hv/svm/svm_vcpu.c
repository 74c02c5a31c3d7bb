/*
 * AMD-V vCPUs, the half that touches the machine: the VMCB and permission
 * maps are allocated here, VMRUN runs the guest (APM 2 15.5), and the exit
 * is decoded by the pure half (hv/svm/logic.h) with what only the machine
 * knows (the guest's instruction bytes without next-RIP save). Also the
 * backend's ops table.
 */
#include "hv/console/console.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/smp.h"
#include "hv/ept/npt.h"
#include "hv/hw/x86.h"
#include "hv/insn/prefix.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/partition/partition.h"
#include "hv/svm/svm.h"
#include "hv/vcpu/guest_code.h"

static struct svm_vcpu *sv(struct vcpu *v)
{
	return v->vendor;
}

static struct svm_part *sp(struct partition *p)
{
	return p->vendor;
}

/* --- partitions: the I/O and MSR permission maps ----------------------- */

static void svm_part_free(struct partition *p)
{
	struct svm_part *s = sp(p);

	if (!s)
		return;
	if (s->iopm)
		mm_free(s->iopm, SVM_IOPM_SIZE);
	if (s->msrpm)
		mm_free(s->msrpm, SVM_MSRPM_SIZE);
	mm_free(s, sizeof(*s));
	p->vendor = NULL;
}

static int svm_part_init(struct partition *p)
{
	struct svm_part *s = mm_alloc(sizeof(*s), 8, 0);

	if (!s)
		return -E_NOMEM;
	p->vendor = s;
	s->iopm = mm_alloc(SVM_IOPM_SIZE, PAGE_SIZE, 0);
	s->msrpm = mm_alloc(SVM_MSRPM_SIZE, PAGE_SIZE, 0);
	if (!s->iopm || !s->msrpm) {
		svm_part_free(p);
		return -E_NOMEM;
	}
	/* default deny: every port and every MSR intercepted */
	memset(s->iopm, 0xff, SVM_IOPM_SIZE);
	memset(s->msrpm, 0xff, SVM_MSRPM_SIZE);
	s->iopm_pa = virt_to_phys(s->iopm);
	s->msrpm_pa = virt_to_phys(s->msrpm);
	return 0;
}

static void svm_set_msr_intercept(struct partition *p, u32 msr, bool read, bool write)
{
	svm_msrpm_set(sp(p)->msrpm, msr, read, write);
}

static void svm_set_io_intercept(struct partition *p, u16 port, bool intercept)
{
	svm_iopm_set(sp(p)->iopm, port, intercept);
}

/* --- vCPUs ------------------------------------------------------------- */

/* svm_vcpu_init's failure paths: what it allocated goes back. */
static void vcpu_free(struct vcpu *v)
{
	struct svm_vcpu *s = sv(v);

	if (!s)
		return;
	if (s->vmcb)
		mm_free(s->vmcb, PAGE_SIZE);
	if (s->host_save)
		mm_free(s->host_save, PAGE_SIZE);
	mm_free(s, sizeof(*s));
	v->vendor = NULL;
}

static int svm_vcpu_init(struct vcpu *v)
{
	struct svm_vcpu *s = mm_alloc(sizeof(*s), 8, 0);

	if (!s)
		return -E_NOMEM;
	v->vendor = s;
	s->vmcb = mm_alloc_page();
	s->host_save = mm_alloc_page();
	if (!s->vmcb || !s->host_save) {
		vcpu_free(v);
		return -E_NOMEM;
	}
	s->vmcb_pa = virt_to_phys(s->vmcb);
	s->host_save_pa = virt_to_phys(s->host_save);
	/* ASID 0 is the host's */
	svm_vmcb_init(s->vmcb, sp(v->part), v->part->index + 1, v->part->slat.root_pa);
	return 0;
}

static void svm_flush_tlb(struct vcpu *v)
{
	svm_vmcb_flush_tlb(sv(v)->vmcb, svm_caps.flush_by_asid);
}

static inline void svm_vmsave(u64 pa)
{
	__asm__ volatile("vmsave %%rax" ::"a"(pa) : "memory");
}

/*
 * Runs on the vCPU's own CPU, at every (re)start, INIT and SIPI. The host
 * state VMSAVE takes (FS, GS, TR, LDTR, KernelGsBase, STAR family,
 * SYSENTER, APM 2 15.5.2) is set once when the CPU starts (hv/cpu/percpu.c)
 * and never changes: saved here, not before every VMRUN.
 */
static void svm_vcpu_reset(struct vcpu *v)
{
	svm_vcpu_state_reset(sv(v));
	svm_flush_tlb(v);
	svm_vmsave(sv(v)->host_save_pa);
}

u64 svm_tsc_aux_read(void)
{
	u64 val;

	return rdmsr_safe(MSR_IA32_TSC_AUX, &val) ? 0 : val;
}

void svm_tsc_aux_write(u64 val)
{
	wrmsr_safe(MSR_IA32_TSC_AUX, val);
}

/* --- running ----------------------------------------------------------- */

/*
 * The length of the exiting instruction without next-RIP save (QEMU's TCG):
 * decode the bytes at RIP, prefixes included. When they cannot be read or
 * do not match (another vCPU rewrote them), the plain encoding's length.
 * Out of line: svm_run's frame stays without the instruction buffer.
 */
__attribute__((noinline)) static u32 decoded_len(struct vcpu *v, const u8 *opcode, u32 oplen,
						 u32 fallback)
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

static inline void svm_clgi(void)
{
	__asm__ volatile("clgi" ::: "memory");
}

static inline void svm_stgi(void)
{
	__asm__ volatile("stgi" ::: "memory");
}

static inline void svm_vmload(u64 pa)
{
	__asm__ volatile("vmload %%rax" ::"a"(pa) : "memory");
}

/* An exit that is not an instruction's: it may have interrupted an
 * event's delivery (APM 2 15.7.2), or be about NMI blocking, or be the
 * host's interrupt or NMI. */
static void exit_not_insn(struct svm_vcpu *s, struct vm_exit *exit)
{
	struct vmcb *vmcb = s->vmcb;

	exit->vectoring.type = EVENT_NONE;
	if (vmcb->ctl.exitintinfo & SVM_EVT_VALID)
		svm_redeliver(vmcb, exit);
	if (s->nmi_blocked || s->nmi_step)
		svm_nmi_exit(s, exit);
	if (exit->reason == VMEXIT_EXT_INTR) {
		/* let the host take the interrupt now (its handler sends EOI) */
		irq_enable();
		__asm__ volatile("nop");
		irq_disable();
	}
	if (exit->reason == VMEXIT_NMI && smp_stopping)
		cpu_park();
}

static void svm_run(struct vcpu *v, struct vm_exit *exit)
{
	struct svm_vcpu *s = sv(v);
	struct vmcb *vmcb = s->vmcb;
	const struct svm_insn *insn;

	/* without clean bits, clean stays 0: the exit below writes 0 and the
	 * accessors only clear bits (hv/svm/logic.h) */
	vmcb->save.rax = v->gpr[GPR_RAX];
	vmcb->save.rsp = v->gpr[GPR_RSP];

	/* APM 2 15.5.2: the hidden state VMRUN leaves alone (FS, GS, TR, LDTR,
	 * KernelGsBase, STAR family, SYSENTER) moves with VMSAVE/VMLOAD; the
	 * host's was saved once (svm_vcpu_reset). */
	svm_clgi();
	/* APM 2 15.21.1: with V_INTR_MASKING, the host's IF at VMRUN decides
	 * whether physical interrupts reach us (as INTR exits) while the guest
	 * runs; GIF = 0 keeps them out of the host until STGI. */
	irq_enable();
	svm_vmload(s->vmcb_pa);
	svm_vmrun(v->gpr, s->vmcb_pa);
	svm_vmsave(s->vmcb_pa);
	svm_vmload(s->host_save_pa);
	irq_disable();
	svm_stgi();

	v->gpr[GPR_RAX] = vmcb->save.rax;
	v->gpr[GPR_RSP] = vmcb->save.rsp;
	vmcb->ctl.clean = svm_caps.vmcb_clean;
	vmcb->ctl.tlb_control = SVM_TLB_NONE;
	v->state_valid = 0;
	insn = svm_decode_exit(vmcb, v->gpr[GPR_RCX], svm_caps.nrip_save, exit);
	if (insn)
		exit->insn_len = decoded_len(v, insn->opcode, insn->len, insn->len);
	/* an instruction's own exit interrupts no event and is none of these */
	if (!exit->insn_len)
		exit_not_insn(s, exit);
}

static void dump_seg(const char *name, const struct vmcb_seg *s)
{
	pr_info("  %-4s sel %04x attr %03x limit %08x base %016lx\n", name, s->sel, s->attr,
		s->limit, s->base);
}

static void svm_dump(struct vcpu *v)
{
	const struct vmcb *vmcb = sv(v)->vmcb;
	const struct vmcb_save *vs = &vmcb->save;

	pr_info("  svm: exitcode %#lx exitinfo1 %#lx exitinfo2 %#lx exitintinfo %#lx\n",
		vmcb->ctl.exitcode, vmcb->ctl.exitinfo1, vmcb->ctl.exitinfo2,
		vmcb->ctl.exitintinfo);
	pr_info("  rip %016lx rsp %016lx rflags %016lx cpl %u\n", vs->rip, vs->rsp, vs->rflags,
		vs->cpl);
	pr_info("  cr0 %016lx cr2 %016lx cr3 %016lx cr4 %016lx efer %016lx\n", vs->cr0, vs->cr2,
		vs->cr3, vs->cr4, vs->efer);
	dump_seg("cs", &vs->cs);
	dump_seg("ss", &vs->ss);
	dump_seg("ds", &vs->ds);
	dump_seg("tr", &vs->tr);
	pr_info("  gdtr %016lx/%x idtr %016lx/%x eventinj %#lx\n", vs->gdtr.base, vs->gdtr.limit,
		vs->idtr.base, vs->idtr.limit, vmcb->ctl.eventinj);
}

const struct vcpu_ops svm_ops = {
	.name = "svm",
	.slat_fmt = &slat_fmt_npt,
	.probe = svm_probe,
	.cpu_enable = svm_cpu_enable,
	.part_init = svm_part_init,
	.part_free = svm_part_free,
	.set_msr_intercept = svm_set_msr_intercept,
	.set_io_intercept = svm_set_io_intercept,
	.vcpu_init = svm_vcpu_init,
	.vcpu_reset = svm_vcpu_reset,
	.run = svm_run,
	.apply = svm_apply,
	.skip = svm_skip,
	.load_state = svm_load_state,
	.store_state = svm_store_state,
	.irq_injectable = svm_irq_injectable,
	.nmi_injectable = svm_nmi_injectable,
	.flush_tlb = svm_flush_tlb,
	.dump = svm_dump,
};
