/*
 * VT-x exit decoding, segment access rights and event encoding: the pure
 * half of the backend (no VMX instruction here; tests/unit/test_vmx.c).
 * Vendors decode, the core decides (STYLE.md): every basic exit reason of
 * SDM 3D appendix C maps to one neutral reason, VMEXIT_UNHANDLED when the
 * core has nothing to do with it.
 */
#include "hv/hw/x86.h"
#include "hv/vmx/logic.h"
#include "hv/vmx/vmcs.h"

#define EXIT(basic, neutral, flags, str) [basic] = { neutral, flags, str }

/* SDM 3D appendix C, table C-1. Absent numbers (35, 38, 42, 71) and the
 * ones after the table are unknown: VMEXIT_UNHANDLED. */
const struct vmx_exit_desc vmx_exit_table[VMX_EXIT_BASIC_COUNT] = {
	EXIT(VMX_EXIT_EXCEPTION_NMI, VMEXIT_EXCEPTION, EXIT_QUAL, "exception or NMI"),
	EXIT(VMX_EXIT_EXT_INTR, VMEXIT_EXT_INTR, EXIT_NO_RSP, "external interrupt"),
	EXIT(VMX_EXIT_TRIPLE_FAULT, VMEXIT_TRIPLE_FAULT, 0, "triple fault"),
	EXIT(VMX_EXIT_INIT, VMEXIT_INIT, 0, "INIT signal"),
	EXIT(VMX_EXIT_SIPI, VMEXIT_SIPI, EXIT_QUAL, "start-up IPI"),
	EXIT(VMX_EXIT_IO_SMI, VMEXIT_UNHANDLED, 0, "I/O SMI"),
	EXIT(VMX_EXIT_OTHER_SMI, VMEXIT_UNHANDLED, 0, "other SMI"),
	EXIT(VMX_EXIT_INTR_WINDOW, VMEXIT_INTR_WINDOW, EXIT_NO_RSP, "interrupt window"),
	EXIT(VMX_EXIT_NMI_WINDOW, VMEXIT_NMI_WINDOW, 0, "NMI window"),
	EXIT(VMX_EXIT_TASK_SWITCH, VMEXIT_UNHANDLED, 0, "task switch"),
	EXIT(VMX_EXIT_CPUID, VMEXIT_CPUID, EXIT_INSN | EXIT_NO_RSP, "CPUID"),
	/* GETSEC exits only with CR4.SMXE, which the guest never gets set
	 * without the core's consent (it is in the CR4 mask); no SMX: #UD */
	EXIT(VMX_EXIT_GETSEC, VMEXIT_UD_INSN, EXIT_INSN, "GETSEC"),
	EXIT(VMX_EXIT_HLT, VMEXIT_HLT, EXIT_INSN | EXIT_NO_RSP, "HLT"),
	EXIT(VMX_EXIT_INVD, VMEXIT_INVD, EXIT_INSN, "INVD"),
	EXIT(VMX_EXIT_INVLPG, VMEXIT_UNHANDLED, EXIT_INSN, "INVLPG"),
	EXIT(VMX_EXIT_RDPMC, VMEXIT_RDPMC, EXIT_INSN, "RDPMC"),
	EXIT(VMX_EXIT_RDTSC, VMEXIT_UNHANDLED, EXIT_INSN, "RDTSC"),
	EXIT(VMX_EXIT_RSM, VMEXIT_UD_INSN, EXIT_INSN, "RSM"),
	EXIT(VMX_EXIT_VMCALL, VMEXIT_HYPERCALL, EXIT_INSN, "VMCALL"),
	EXIT(VMX_EXIT_VMCLEAR, VMEXIT_VIRT_INSN, EXIT_INSN, "VMCLEAR"),
	EXIT(VMX_EXIT_VMLAUNCH, VMEXIT_VIRT_INSN, EXIT_INSN, "VMLAUNCH"),
	EXIT(VMX_EXIT_VMPTRLD, VMEXIT_VIRT_INSN, EXIT_INSN, "VMPTRLD"),
	EXIT(VMX_EXIT_VMPTRST, VMEXIT_VIRT_INSN, EXIT_INSN, "VMPTRST"),
	EXIT(VMX_EXIT_VMREAD, VMEXIT_VIRT_INSN, EXIT_INSN, "VMREAD"),
	EXIT(VMX_EXIT_VMRESUME, VMEXIT_VIRT_INSN, EXIT_INSN, "VMRESUME"),
	EXIT(VMX_EXIT_VMWRITE, VMEXIT_VIRT_INSN, EXIT_INSN, "VMWRITE"),
	EXIT(VMX_EXIT_VMXOFF, VMEXIT_VIRT_INSN, EXIT_INSN, "VMXOFF"),
	EXIT(VMX_EXIT_VMXON, VMEXIT_VIRT_INSN, EXIT_INSN, "VMXON"),
	EXIT(VMX_EXIT_CR_ACCESS, VMEXIT_CR_ACCESS, EXIT_INSN | EXIT_QUAL,
	     "control-register access"),
	EXIT(VMX_EXIT_MOV_DR, VMEXIT_UNHANDLED, EXIT_INSN, "MOV DR"),
	EXIT(VMX_EXIT_IO, VMEXIT_IO, EXIT_INSN | EXIT_QUAL | EXIT_NO_RSP, "I/O instruction"),
	EXIT(VMX_EXIT_RDMSR, VMEXIT_MSR_READ, EXIT_INSN | EXIT_NO_RSP, "RDMSR"),
	EXIT(VMX_EXIT_WRMSR, VMEXIT_MSR_WRITE, EXIT_INSN | EXIT_NO_RSP, "WRMSR"),
	EXIT(VMX_EXIT_INVALID_GUEST_STATE, VMEXIT_INVALID_STATE, 0,
	     "VM-entry failure: invalid guest state"),
	EXIT(VMX_EXIT_MSR_LOADING, VMEXIT_ENTRY_FAIL, 0, "VM-entry failure: MSR loading"),
	EXIT(VMX_EXIT_MWAIT, VMEXIT_UD_INSN, EXIT_INSN, "MWAIT"),
	EXIT(VMX_EXIT_MONITOR_TRAP_FLAG, VMEXIT_UNHANDLED, 0, "monitor trap flag"),
	EXIT(VMX_EXIT_MONITOR, VMEXIT_UD_INSN, EXIT_INSN, "MONITOR"),
	EXIT(VMX_EXIT_PAUSE, VMEXIT_PAUSE, EXIT_INSN, "PAUSE"),
	EXIT(VMX_EXIT_MACHINE_CHECK, VMEXIT_UNHANDLED, 0, "VM-entry failure: machine check"),
	EXIT(VMX_EXIT_TPR_BELOW_THRESHOLD, VMEXIT_UNHANDLED, 0, "TPR below threshold"),
	EXIT(VMX_EXIT_APIC_ACCESS, VMEXIT_UNHANDLED, 0, "APIC access"),
	EXIT(VMX_EXIT_VIRTUALIZED_EOI, VMEXIT_UNHANDLED, 0, "virtualized EOI"),
	EXIT(VMX_EXIT_GDTR_IDTR, VMEXIT_UNHANDLED, EXIT_INSN, "GDTR/IDTR access"),
	EXIT(VMX_EXIT_LDTR_TR, VMEXIT_UNHANDLED, EXIT_INSN, "LDTR/TR access"),
	EXIT(VMX_EXIT_EPT_VIOLATION, VMEXIT_SLAT_FAULT, EXIT_QUAL, "EPT violation"),
	EXIT(VMX_EXIT_EPT_MISCONFIG, VMEXIT_SLAT_MISCONFIG, 0, "EPT misconfiguration"),
	EXIT(VMX_EXIT_INVEPT, VMEXIT_VIRT_INSN, EXIT_INSN, "INVEPT"),
	EXIT(VMX_EXIT_RDTSCP, VMEXIT_RDTSCP, EXIT_INSN, "RDTSCP"),
	EXIT(VMX_EXIT_PREEMPTION_TIMER, VMEXIT_UNHANDLED, 0, "preemption timer"),
	EXIT(VMX_EXIT_INVVPID, VMEXIT_VIRT_INSN, EXIT_INSN, "INVVPID"),
	EXIT(VMX_EXIT_WBINVD, VMEXIT_INVD, EXIT_INSN, "WBINVD"),
	EXIT(VMX_EXIT_XSETBV, VMEXIT_XSETBV, EXIT_INSN, "XSETBV"),
	EXIT(VMX_EXIT_APIC_WRITE, VMEXIT_UNHANDLED, 0, "APIC write"),
	EXIT(VMX_EXIT_RDRAND, VMEXIT_UNHANDLED, EXIT_INSN, "RDRAND"),
	EXIT(VMX_EXIT_INVPCID, VMEXIT_UNHANDLED, EXIT_INSN, "INVPCID"),
	EXIT(VMX_EXIT_VMFUNC, VMEXIT_VIRT_INSN, EXIT_INSN, "VMFUNC"),
	EXIT(VMX_EXIT_ENCLS, VMEXIT_UNHANDLED, EXIT_INSN, "ENCLS"),
	EXIT(VMX_EXIT_RDSEED, VMEXIT_UNHANDLED, EXIT_INSN, "RDSEED"),
	EXIT(VMX_EXIT_PML_FULL, VMEXIT_UNHANDLED, 0, "page-modification log full"),
	EXIT(VMX_EXIT_XSAVES, VMEXIT_UNHANDLED, EXIT_INSN, "XSAVES"),
	EXIT(VMX_EXIT_XRSTORS, VMEXIT_UNHANDLED, EXIT_INSN, "XRSTORS"),
	EXIT(VMX_EXIT_PCONFIG, VMEXIT_UNHANDLED, EXIT_INSN, "PCONFIG"),
	EXIT(VMX_EXIT_SPP, VMEXIT_UNHANDLED, 0, "SPP-related event"),
	EXIT(VMX_EXIT_UMWAIT, VMEXIT_UNHANDLED, EXIT_INSN, "UMWAIT"),
	EXIT(VMX_EXIT_TPAUSE, VMEXIT_UNHANDLED, EXIT_INSN, "TPAUSE"),
	EXIT(VMX_EXIT_LOADIWKEY, VMEXIT_UNHANDLED, EXIT_INSN, "LOADIWKEY"),
	EXIT(VMX_EXIT_ENCLV, VMEXIT_UNHANDLED, EXIT_INSN, "ENCLV"),
	EXIT(VMX_EXIT_ENQCMD_PASID, VMEXIT_UNHANDLED, 0, "ENQCMD PASID failure"),
	EXIT(VMX_EXIT_ENQCMDS_PASID, VMEXIT_UNHANDLED, 0, "ENQCMDS PASID failure"),
	EXIT(VMX_EXIT_BUS_LOCK, VMEXIT_UNHANDLED, 0, "bus lock"),
	EXIT(VMX_EXIT_NOTIFY, VMEXIT_UNHANDLED, 0, "notify"),
	EXIT(VMX_EXIT_SEAMCALL, VMEXIT_UD_INSN, EXIT_INSN, "SEAMCALL"),
	EXIT(VMX_EXIT_TDCALL, VMEXIT_UD_INSN, EXIT_INSN, "TDCALL"),
	EXIT(VMX_EXIT_RDMSRLIST, VMEXIT_UNHANDLED, EXIT_INSN, "RDMSRLIST"),
	EXIT(VMX_EXIT_WRMSRLIST, VMEXIT_UNHANDLED, EXIT_INSN, "WRMSRLIST"),
};

const struct vmx_exit_desc vmx_exit_unknown = { VMEXIT_UNHANDLED, 0, "unknown" };

const char *vmx_exit_name(u32 basic)
{
	return vmx_exit_desc(basic)->name;
}

/* Table 28-3 names the register of a MOV CR by its x86 number, which the
 * core uses as an index into gpr[] */
_Static_assert(GPR_RAX == 0 && GPR_RCX == 1 && GPR_RDX == 2 && GPR_RBX == 3 && GPR_RSP == 4 &&
		       GPR_RBP == 5 && GPR_RSI == 6 && GPR_RDI == 7 && GPR_R8 == 8 && GPR_R15 == 15,
	       "enum gpr is not in x86 encoding order");

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

void vmx_decode_vectoring(u32 info, u32 error_code, struct vcpu_event *ev)
{
	static const u8 types[] = {
		[INTR_TYPE_EXT_INTR] = EVENT_EXTINT,	     [INTR_TYPE_NMI] = EVENT_NMI,
		[INTR_TYPE_HW_EXCEPTION] = EVENT_EXCEPTION,  [INTR_TYPE_SOFT_INTR] = EVENT_SOFT_INT,
		[INTR_TYPE_PRIV_SOFT_EXC] = EVENT_EXCEPTION, [INTR_TYPE_SOFT_EXC] = EVENT_EXCEPTION,
	};
	u32 type = (info & INTR_INFO_TYPE_MASK) >> INTR_INFO_TYPE_SHIFT;

	*ev = (struct vcpu_event){ 0 };
	if (!(info & INTR_INFO_VALID) || type >= ARRAY_SIZE(types))
		return;
	ev->type = types[type];
	ev->vector = (u8)(info & INTR_INFO_VECTOR_MASK);
	ev->has_error = info & INTR_INFO_ERROR_VALID;
	ev->error_code = ev->has_error ? error_code : 0;
}

u64 vmx_dr6_after_db(u64 dr6, u64 qual)
{
	dr6 = (dr6 & ~DR6_B0_B3) | DR6_RTM | (qual & (DR6_B0_B3 | DR6_BD | DR6_BS));
	if (qual & DR6_RTM)
		dr6 &= ~DR6_RTM;
	return dr6;
}

u32 vmx_ar_from_attr(u16 attr)
{
	u32 ar = (attr & VMX_AR_LOW_MASK) | (((u32)attr << VMX_AR_HIGH_SHIFT) & VMX_AR_HIGH_MASK);

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
