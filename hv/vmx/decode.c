/*
 * VT-x exit decoding, segment access rights and event encoding: the pure
 * half of the backend (no VMX instruction here; tests/unit/test_vmx.c).
 * Vendors decode, the core decides (STYLE.md): every basic exit reason of
 * SDM 3D appendix C maps to one neutral reason, VMEXIT_UNHANDLED when the
 * core has nothing to do with it.
 */
#include "hv/vmx/logic.h"
#include "hv/vmx/vmcs.h"
#include "hv/x86.h"

struct exit_desc {
	u8 reason;    /* enum vm_exit_reason */
	bool insn;    /* the VM-exit instruction length is valid (28.2.5) */
	const char *name;
};

#define EXIT(basic, neutral, len, str) [basic] = { neutral, len, str }

/* SDM 3D appendix C, table C-1. Absent numbers (35, 38, 42, 71) and the
 * ones after the table are unknown: VMEXIT_UNHANDLED. */
static const struct exit_desc exit_table[VMX_EXIT_BASIC_COUNT] = {
	EXIT(VMX_EXIT_EXCEPTION_NMI, VMEXIT_EXCEPTION, false, "exception or NMI"),
	EXIT(VMX_EXIT_EXT_INTR, VMEXIT_EXT_INTR, false, "external interrupt"),
	EXIT(VMX_EXIT_TRIPLE_FAULT, VMEXIT_TRIPLE_FAULT, false, "triple fault"),
	EXIT(VMX_EXIT_INIT, VMEXIT_INIT, false, "INIT signal"),
	EXIT(VMX_EXIT_SIPI, VMEXIT_SIPI, false, "start-up IPI"),
	EXIT(VMX_EXIT_IO_SMI, VMEXIT_UNHANDLED, false, "I/O SMI"),
	EXIT(VMX_EXIT_OTHER_SMI, VMEXIT_UNHANDLED, false, "other SMI"),
	EXIT(VMX_EXIT_INTR_WINDOW, VMEXIT_INTR_WINDOW, false, "interrupt window"),
	EXIT(VMX_EXIT_NMI_WINDOW, VMEXIT_NMI_WINDOW, false, "NMI window"),
	EXIT(VMX_EXIT_TASK_SWITCH, VMEXIT_UNHANDLED, false, "task switch"),
	EXIT(VMX_EXIT_CPUID, VMEXIT_CPUID, true, "CPUID"),
	/* GETSEC exits only with CR4.SMXE, which the guest never gets set
	 * without the core's consent (it is in the CR4 mask); no SMX: #UD */
	EXIT(VMX_EXIT_GETSEC, VMEXIT_UD_INSN, true, "GETSEC"),
	EXIT(VMX_EXIT_HLT, VMEXIT_HLT, true, "HLT"),
	EXIT(VMX_EXIT_INVD, VMEXIT_INVD, true, "INVD"),
	EXIT(VMX_EXIT_INVLPG, VMEXIT_UNHANDLED, true, "INVLPG"),
	EXIT(VMX_EXIT_RDPMC, VMEXIT_UNHANDLED, true, "RDPMC"),
	EXIT(VMX_EXIT_RDTSC, VMEXIT_UNHANDLED, true, "RDTSC"),
	EXIT(VMX_EXIT_RSM, VMEXIT_UD_INSN, true, "RSM"),
	EXIT(VMX_EXIT_VMCALL, VMEXIT_HYPERCALL, true, "VMCALL"),
	EXIT(VMX_EXIT_VMCLEAR, VMEXIT_VIRT_INSN, true, "VMCLEAR"),
	EXIT(VMX_EXIT_VMLAUNCH, VMEXIT_VIRT_INSN, true, "VMLAUNCH"),
	EXIT(VMX_EXIT_VMPTRLD, VMEXIT_VIRT_INSN, true, "VMPTRLD"),
	EXIT(VMX_EXIT_VMPTRST, VMEXIT_VIRT_INSN, true, "VMPTRST"),
	EXIT(VMX_EXIT_VMREAD, VMEXIT_VIRT_INSN, true, "VMREAD"),
	EXIT(VMX_EXIT_VMRESUME, VMEXIT_VIRT_INSN, true, "VMRESUME"),
	EXIT(VMX_EXIT_VMWRITE, VMEXIT_VIRT_INSN, true, "VMWRITE"),
	EXIT(VMX_EXIT_VMXOFF, VMEXIT_VIRT_INSN, true, "VMXOFF"),
	EXIT(VMX_EXIT_VMXON, VMEXIT_VIRT_INSN, true, "VMXON"),
	EXIT(VMX_EXIT_CR_ACCESS, VMEXIT_CR_ACCESS, true, "control-register access"),
	EXIT(VMX_EXIT_MOV_DR, VMEXIT_UNHANDLED, true, "MOV DR"),
	EXIT(VMX_EXIT_IO, VMEXIT_IO, true, "I/O instruction"),
	EXIT(VMX_EXIT_RDMSR, VMEXIT_MSR_READ, true, "RDMSR"),
	EXIT(VMX_EXIT_WRMSR, VMEXIT_MSR_WRITE, true, "WRMSR"),
	EXIT(VMX_EXIT_INVALID_GUEST_STATE, VMEXIT_INVALID_STATE, false,
	     "VM-entry failure: invalid guest state"),
	EXIT(VMX_EXIT_MSR_LOADING, VMEXIT_ENTRY_FAIL, false,
	     "VM-entry failure: MSR loading"),
	EXIT(VMX_EXIT_MWAIT, VMEXIT_UD_INSN, true, "MWAIT"),
	EXIT(VMX_EXIT_MONITOR_TRAP_FLAG, VMEXIT_UNHANDLED, false, "monitor trap flag"),
	EXIT(VMX_EXIT_MONITOR, VMEXIT_UD_INSN, true, "MONITOR"),
	EXIT(VMX_EXIT_PAUSE, VMEXIT_PAUSE, true, "PAUSE"),
	EXIT(VMX_EXIT_MACHINE_CHECK, VMEXIT_UNHANDLED, false,
	     "VM-entry failure: machine check"),
	EXIT(VMX_EXIT_TPR_BELOW_THRESHOLD, VMEXIT_UNHANDLED, false, "TPR below threshold"),
	EXIT(VMX_EXIT_APIC_ACCESS, VMEXIT_UNHANDLED, false, "APIC access"),
	EXIT(VMX_EXIT_VIRTUALIZED_EOI, VMEXIT_UNHANDLED, false, "virtualized EOI"),
	EXIT(VMX_EXIT_GDTR_IDTR, VMEXIT_UNHANDLED, true, "GDTR/IDTR access"),
	EXIT(VMX_EXIT_LDTR_TR, VMEXIT_UNHANDLED, true, "LDTR/TR access"),
	EXIT(VMX_EXIT_EPT_VIOLATION, VMEXIT_SLAT_FAULT, false, "EPT violation"),
	EXIT(VMX_EXIT_EPT_MISCONFIG, VMEXIT_SLAT_MISCONFIG, false, "EPT misconfiguration"),
	EXIT(VMX_EXIT_INVEPT, VMEXIT_VIRT_INSN, true, "INVEPT"),
	EXIT(VMX_EXIT_RDTSCP, VMEXIT_RDTSCP, true, "RDTSCP"),
	EXIT(VMX_EXIT_PREEMPTION_TIMER, VMEXIT_UNHANDLED, false, "preemption timer"),
	EXIT(VMX_EXIT_INVVPID, VMEXIT_VIRT_INSN, true, "INVVPID"),
	EXIT(VMX_EXIT_WBINVD, VMEXIT_INVD, true, "WBINVD"),
	EXIT(VMX_EXIT_XSETBV, VMEXIT_XSETBV, true, "XSETBV"),
	EXIT(VMX_EXIT_APIC_WRITE, VMEXIT_UNHANDLED, false, "APIC write"),
	EXIT(VMX_EXIT_RDRAND, VMEXIT_UNHANDLED, true, "RDRAND"),
	EXIT(VMX_EXIT_INVPCID, VMEXIT_UNHANDLED, true, "INVPCID"),
	EXIT(VMX_EXIT_VMFUNC, VMEXIT_VIRT_INSN, true, "VMFUNC"),
	EXIT(VMX_EXIT_ENCLS, VMEXIT_UNHANDLED, true, "ENCLS"),
	EXIT(VMX_EXIT_RDSEED, VMEXIT_UNHANDLED, true, "RDSEED"),
	EXIT(VMX_EXIT_PML_FULL, VMEXIT_UNHANDLED, false, "page-modification log full"),
	EXIT(VMX_EXIT_XSAVES, VMEXIT_UNHANDLED, true, "XSAVES"),
	EXIT(VMX_EXIT_XRSTORS, VMEXIT_UNHANDLED, true, "XRSTORS"),
	EXIT(VMX_EXIT_PCONFIG, VMEXIT_UNHANDLED, true, "PCONFIG"),
	EXIT(VMX_EXIT_SPP, VMEXIT_UNHANDLED, false, "SPP-related event"),
	EXIT(VMX_EXIT_UMWAIT, VMEXIT_UNHANDLED, true, "UMWAIT"),
	EXIT(VMX_EXIT_TPAUSE, VMEXIT_UNHANDLED, true, "TPAUSE"),
	EXIT(VMX_EXIT_LOADIWKEY, VMEXIT_UNHANDLED, true, "LOADIWKEY"),
	EXIT(VMX_EXIT_ENCLV, VMEXIT_UNHANDLED, true, "ENCLV"),
	EXIT(VMX_EXIT_ENQCMD_PASID, VMEXIT_UNHANDLED, false, "ENQCMD PASID failure"),
	EXIT(VMX_EXIT_ENQCMDS_PASID, VMEXIT_UNHANDLED, false, "ENQCMDS PASID failure"),
	EXIT(VMX_EXIT_BUS_LOCK, VMEXIT_UNHANDLED, false, "bus lock"),
	EXIT(VMX_EXIT_NOTIFY, VMEXIT_UNHANDLED, false, "notify"),
	EXIT(VMX_EXIT_SEAMCALL, VMEXIT_UD_INSN, true, "SEAMCALL"),
	EXIT(VMX_EXIT_TDCALL, VMEXIT_UD_INSN, true, "TDCALL"),
	EXIT(VMX_EXIT_RDMSRLIST, VMEXIT_UNHANDLED, true, "RDMSRLIST"),
	EXIT(VMX_EXIT_WRMSRLIST, VMEXIT_UNHANDLED, true, "WRMSRLIST"),
};

u32 vmx_exit_neutral(u32 basic, bool *insn_len_valid)
{
	const struct exit_desc *d;

	*insn_len_valid = false;
	if (basic >= ARRAY_SIZE(exit_table) || !exit_table[basic].name)
		return VMEXIT_UNHANDLED;
	d = &exit_table[basic];
	*insn_len_valid = d->insn;
	return d->reason;
}

const char *vmx_exit_name(u32 basic)
{
	if (basic >= ARRAY_SIZE(exit_table) || !exit_table[basic].name)
		return "unknown";
	return exit_table[basic].name;
}

void vmx_decode_cr(u64 qual, struct vm_exit *e)
{
	e->cr.cr = (u8)(qual & CR_QUAL_CR_MASK);
	e->cr.type = (u8)((qual >> CR_QUAL_TYPE_SHIFT) & CR_QUAL_TYPE_MASK);
	e->cr.gpr = (u8)((qual >> CR_QUAL_GPR_SHIFT) & CR_QUAL_GPR_MASK);
	e->cr.lmsw_src = (u16)((qual >> CR_QUAL_LMSW_SRC_SHIFT) & CR_QUAL_LMSW_SRC_MASK);
}

void vmx_decode_io(u64 qual, struct vm_exit *e)
{
	/* 0, 1 and 3 encode 1, 2 and 4 bytes */
	e->io.size = (u8)((qual & IO_QUAL_SIZE_MASK) + 1);
	e->io.in = qual & IO_QUAL_IN;
	e->io.string = qual & IO_QUAL_STRING;
	e->io.rep = qual & IO_QUAL_REP;
	e->io.port = (u16)((qual >> IO_QUAL_PORT_SHIFT) & IO_QUAL_PORT_MASK);
}

void vmx_decode_ept(u64 qual, struct vm_exit *e)
{
	/* One kind, as on AMD-V: a read-modify-write reports the write. */
	if (qual & EPT_QUAL_WRITE)
		e->slat.access = EXIT_ACCESS_WRITE;
	else if (qual & EPT_QUAL_FETCH)
		e->slat.access = EXIT_ACCESS_EXEC;
	else
		e->slat.access = EXIT_ACCESS_READ;
	/* bits 5:3 are the rights the walk found: any set, the GPA is mapped */
	e->slat.present = qual & (EPT_QUAL_READABLE | EPT_QUAL_WRITABLE | EPT_QUAL_EXECUTABLE);
	e->slat.gla_valid = qual & EPT_QUAL_GLA_VALID;
}

void vmx_decode_intr_info(u32 info, u32 error_code, struct vm_exit *e)
{
	e->exc.vector = (u8)(info & INTR_INFO_VECTOR_MASK);
	e->exc.has_error = info & INTR_INFO_ERROR_VALID;
	e->exc.error_code = e->exc.has_error ? error_code : 0;
}

u32 vmx_ar_from_attr(u16 attr)
{
	u32 ar = (attr & VMX_AR_LOW_MASK) |
		 (((u32)attr << VMX_AR_HIGH_SHIFT) & VMX_AR_HIGH_MASK);

	if (!(attr & SEG_ATTR_P))
		ar |= VMX_AR_UNUSABLE;
	return ar;
}

u16 vmx_attr_from_ar(u32 ar)
{
	u16 attr = (u16)((ar & VMX_AR_LOW_MASK) | ((ar & VMX_AR_HIGH_MASK) >> VMX_AR_HIGH_SHIFT));

	if (ar & VMX_AR_UNUSABLE)
		attr &= (u16)~SEG_ATTR_P;
	return attr;
}

bool vmx_exc_has_error(u8 vector)
{
	switch (vector) {
	case X86_EXC_DF:
	case X86_EXC_TS:
	case X86_EXC_NP:
	case X86_EXC_SS:
	case X86_EXC_GP:
	case X86_EXC_PF:
	case X86_EXC_AC:
	case X86_EXC_CP:
		return true;
	default:
		return false;
	}
}

u32 vmx_event_info(const struct vcpu_event *ev, bool pe)
{
	u32 type;
	u8 vector = ev->vector;

	switch (ev->type) {
	case EVENT_EXTINT:
		type = INTR_TYPE_EXT_INTR;
		break;
	case EVENT_NMI:
		type = INTR_TYPE_NMI;
		vector = X86_EXC_NMI; /* 27.2.1.3: an NMI has vector 2 */
		break;
	case EVENT_EXCEPTION:
		type = INTR_TYPE_HW_EXCEPTION;
		break;
	case EVENT_SOFT_INT:
		type = INTR_TYPE_SOFT_INTR;
		break;
	default:
		return 0;
	}
	if (type == INTR_TYPE_HW_EXCEPTION && pe && vmx_exc_has_error(vector))
		return vector | (type << INTR_INFO_TYPE_SHIFT) | INTR_INFO_ERROR_VALID |
		       INTR_INFO_VALID;
	return vector | (type << INTR_INFO_TYPE_SHIFT) | INTR_INFO_VALID;
}

const char *vmx_insn_error_name(u32 err)
{
	static const char *const names[] = {
		[VMX_ERR_LAUNCH_NOT_CLEAR] = "VMLAUNCH with non-clear VMCS",
		[VMX_ERR_RESUME_NOT_LAUNCHED] = "VMRESUME with non-launched VMCS",
		[VMX_ERR_ENTRY_BAD_CTLS] = "VM entry with invalid control field(s)",
		[VMX_ERR_ENTRY_BAD_HOST] = "VM entry with invalid host-state field(s)",
		[VMX_ERR_UNSUPPORTED_FIELD] = "VMREAD/VMWRITE of an unsupported field",
		[VMX_ERR_READ_ONLY_FIELD] = "VMWRITE to a read-only field",
		[VMX_ERR_ENTRY_MOV_SS] = "VM entry with events blocked by MOV SS",
		[VMX_ERR_INVEPT_INVALID] = "invalid operand to INVEPT/INVVPID",
	};

	if (err < ARRAY_SIZE(names) && names[err])
		return names[err];
	return "see SDM 3C table 31-1";
}

u32 vmx_tr_ar_fixup(u32 ar, bool ia32e)
{
	u32 type = ar & SEG_TYPE_MASK;

	ar &= ~VMX_AR_UNUSABLE;
	ar |= SEG_ATTR_P;
	if (ia32e || (type != SEG_TYPE_TSS16_BUSY && type != SEG_TYPE_TSS_BUSY))
		ar = (ar & ~(u32)SEG_TYPE_MASK) | SEG_TYPE_TSS_BUSY;
	/* 27.3.1.2: TR is a system segment (S = 0) */
	return ar & ~(u32)SEG_ATTR_S;
}
