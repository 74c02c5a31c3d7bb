/*
 * What hv/vmx/vmx_entry.asm takes from C besides the register file
 * (hv/vcpu/asm_defs.h): the VMCS field it writes and its results.
 * Compiled to assembly only.
 */
#include "hv/vcpu/asm_defs.h"
#include "hv/vmx/vmcs.h"
#include "hv/vmx/vmx.h"

void asm_defs_vmx(void);

void asm_defs_vmx(void)
{
	ASM_DEFINE(VMCS_HOST_RSP, VMCS_HOST_RSP);
	ASM_DEFINE(VMX_ENTER_EXITED, VMX_ENTER_EXITED);
	ASM_DEFINE(VMX_ENTER_FAIL_INVALID, VMX_ENTER_FAIL_INVALID);
	ASM_DEFINE(VMX_ENTER_FAIL_VALID, VMX_ENTER_FAIL_VALID);
}
