/*
 * The register file for the world-switch stubs (hv/vcpu/asm_defs.h): the
 * byte offset of each general-purpose register in struct vcpu.gpr, which
 * the stubs receive as a pointer. Compiled to assembly only.
 */
#include "hv/vcpu/asm_defs.h"
#include "hv/vcpu/vcpu.h"

#define GPR_OFFSET(reg) \
	ASM_DEFINE(reg##_OFFSET, offsetof(struct vcpu, gpr[reg]) - offsetof(struct vcpu, gpr))

void asm_defs_vcpu(void);

void asm_defs_vcpu(void)
{
	GPR_OFFSET(GPR_RAX);
	GPR_OFFSET(GPR_RCX);
	GPR_OFFSET(GPR_RDX);
	GPR_OFFSET(GPR_RBX);
	GPR_OFFSET(GPR_RSP);
	GPR_OFFSET(GPR_RBP);
	GPR_OFFSET(GPR_RSI);
	GPR_OFFSET(GPR_RDI);
	GPR_OFFSET(GPR_R8);
	GPR_OFFSET(GPR_R9);
	GPR_OFFSET(GPR_R10);
	GPR_OFFSET(GPR_R11);
	GPR_OFFSET(GPR_R12);
	GPR_OFFSET(GPR_R13);
	GPR_OFFSET(GPR_R14);
	GPR_OFFSET(GPR_R15);
}
