/* The names of the neutral exit reasons. */
#include "hv/vcpu/vm_exit.h"

static const char *const reason_names[VMEXIT_REASON_COUNT] = {
	[VMEXIT_NONE] = "none",
	[VMEXIT_EXT_INTR] = "external interrupt",
	[VMEXIT_NMI] = "NMI",
	[VMEXIT_INTR_WINDOW] = "interrupt window",
	[VMEXIT_NMI_WINDOW] = "NMI window",
	[VMEXIT_CPUID] = "CPUID",
	[VMEXIT_HLT] = "HLT",
	[VMEXIT_IO] = "I/O",
	[VMEXIT_MSR_READ] = "RDMSR",
	[VMEXIT_MSR_WRITE] = "WRMSR",
	[VMEXIT_CR_ACCESS] = "CR access",
	[VMEXIT_XSETBV] = "XSETBV",
	[VMEXIT_SLAT_FAULT] = "second-level fault",
	[VMEXIT_SLAT_MISCONFIG] = "second-level misconfiguration",
	[VMEXIT_EXCEPTION] = "exception",
	[VMEXIT_HYPERCALL] = "hypercall",
	[VMEXIT_VIRT_INSN] = "virtualization instruction",
	[VMEXIT_UD_INSN] = "unsupported instruction",
	[VMEXIT_INVD] = "INVD/WBINVD",
	[VMEXIT_PAUSE] = "PAUSE",
	[VMEXIT_RDTSCP] = "RDTSCP",
	[VMEXIT_RDPMC] = "RDPMC",
	[VMEXIT_INIT] = "INIT",
	[VMEXIT_SIPI] = "SIPI",
	[VMEXIT_TRIPLE_FAULT] = "triple fault",
	[VMEXIT_INVALID_STATE] = "invalid guest state",
	[VMEXIT_ENTRY_FAIL] = "VM entry failure",
	[VMEXIT_UNHANDLED] = "unhandled exit",
};

const char *vm_exit_name(u32 reason)
{
	return reason < VMEXIT_REASON_COUNT && reason_names[reason] ? reason_names[reason] :
								      "unknown";
}
