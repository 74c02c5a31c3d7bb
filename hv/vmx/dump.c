/*
 * The VMCS as the backend sees it, for users and the containment messages:
 * guest registers, segments with their access rights, the event and exit
 * information fields (SDM 3C 25.4, 25.8.3, 25.9).
 */
#include "hv/console/console.h"
#include "hv/vmx/vmx.h"

static u64 rd(u32 field)
{
	u64 val = 0;

	/* a dump must not stop the machine: an unreadable field shows as 0 */
	vmcs_read(field, &val);
	return val;
}

static void dump_seg(const char *name, enum vmx_seg s)
{
	u32 i = (u32)s * VMCS_SEG_STRIDE;

	pr_info("  %-4s sel %04lx ar %05lx limit %08lx base %016lx\n", name,
		rd(VMCS_GUEST_ES_SEL + i), rd(VMCS_GUEST_ES_AR + i), rd(VMCS_GUEST_ES_LIMIT + i),
		rd(VMCS_GUEST_ES_BASE + i));
}

void vmx_dump(struct vcpu *v)
{
	static const char *const seg_names[VMX_SEG_COUNT] = {
		"es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr",
	};
	struct vmx_vcpu *x = v->vendor;
	u32 reason = (u32)rd(VMCS_EXIT_REASON);
	u32 err = vmcs_insn_error();

	if (x && x->exited)
		pr_info("  vmx: exit reason %#x (%s%s) qualification %#lx\n", reason,
			(reason & EXIT_REASON_ENTRY_FAIL) ? "entry failure: " : "",
			vmx_exit_name(reason & EXIT_REASON_BASIC_MASK), rd(VMCS_EXIT_QUAL));
	else
		pr_info("  vmx: no VM exit yet\n");
	pr_info("  rip %016lx rsp %016lx rflags %016lx\n", rd(VMCS_GUEST_RIP), rd(VMCS_GUEST_RSP),
		rd(VMCS_GUEST_RFLAGS));
	pr_info("  cr0 %016lx (shadow %lx) cr3 %016lx cr4 %016lx (shadow %lx)\n",
		rd(VMCS_GUEST_CR0), rd(VMCS_CR0_SHADOW), rd(VMCS_GUEST_CR3), rd(VMCS_GUEST_CR4),
		rd(VMCS_CR4_SHADOW));
	pr_info("  efer %016lx pat %016lx dr7 %016lx\n", rd(VMCS_GUEST_EFER), rd(VMCS_GUEST_PAT),
		rd(VMCS_GUEST_DR7));
	for (enum vmx_seg s = VMX_SEG_ES; s < VMX_SEG_COUNT; s++)
		dump_seg(seg_names[s], s);
	pr_info("  gdtr %016lx/%lx idtr %016lx/%lx\n", rd(VMCS_GUEST_GDTR_BASE),
		rd(VMCS_GUEST_GDTR_LIMIT), rd(VMCS_GUEST_IDTR_BASE), rd(VMCS_GUEST_IDTR_LIMIT));
	pr_info("  interruptibility %#lx activity %lu pending debug %#lx\n",
		rd(VMCS_GUEST_INTERRUPTIBILITY), rd(VMCS_GUEST_ACTIVITY),
		rd(VMCS_GUEST_PENDING_DBG));
	pr_info("  entry: intr info %#lx error %#lx length %lu controls %#lx\n",
		rd(VMCS_ENTRY_INTR_INFO), rd(VMCS_ENTRY_EXC_ERROR), rd(VMCS_ENTRY_INSN_LEN),
		rd(VMCS_ENTRY_CTLS));
	pr_info("  exit: intr info %#lx error %#lx idt-vectoring %#lx length %lu\n",
		rd(VMCS_EXIT_INTR_INFO), rd(VMCS_EXIT_INTR_ERROR), rd(VMCS_IDT_VECTORING_INFO),
		rd(VMCS_EXIT_INSN_LEN));
	pr_info("  controls: pin %#lx proc %#lx proc2 %#lx exit %#lx eptp %#lx vpid %u\n",
		rd(VMCS_PIN_CTLS), rd(VMCS_PROC_CTLS), rd(VMCS_PROC_CTLS2), rd(VMCS_EXIT_CTLS),
		rd(VMCS_EPT_POINTER), x ? x->vpid : 0);
	if (err)
		pr_info("  last VM-instruction error %u: %s\n", err, vmx_insn_error_name(err));
}
