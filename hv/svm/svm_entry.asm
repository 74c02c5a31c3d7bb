; AMD-V world switch: load the guest's general-purpose registers, VMRUN, save
; them on #VMEXIT (APM 2 15.5). RAX and RSP live in the VMCB; the host's RSP,
; RIP and RAX are restored by the processor on #VMEXIT.
;
; void svm_vmrun(u64 *gpr /* rdi: struct vcpu.gpr */, u64 vmcb_pa /* rsi */)

; GPR_*_OFFSET: struct vcpu.gpr, from C (hv/vcpu/asm_defs.h)
%include "asm_defs.inc"

global svm_vmrun

section .text
bits 64

svm_vmrun:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	push rdi			; the gpr array, needed after the exit

	mov rax, rsi			; VMRUN takes the VMCB's physical address
	mov rcx, [rdi + GPR_RCX_OFFSET]
	mov rdx, [rdi + GPR_RDX_OFFSET]
	mov rbx, [rdi + GPR_RBX_OFFSET]
	mov rbp, [rdi + GPR_RBP_OFFSET]
	mov rsi, [rdi + GPR_RSI_OFFSET]
	mov r8, [rdi + GPR_R8_OFFSET]
	mov r9, [rdi + GPR_R9_OFFSET]
	mov r10, [rdi + GPR_R10_OFFSET]
	mov r11, [rdi + GPR_R11_OFFSET]
	mov r12, [rdi + GPR_R12_OFFSET]
	mov r13, [rdi + GPR_R13_OFFSET]
	mov r14, [rdi + GPR_R14_OFFSET]
	mov r15, [rdi + GPR_R15_OFFSET]
	mov rdi, [rdi + GPR_RDI_OFFSET]

	vmrun				; rax = the VMCB

	push rdi			; the guest's RDI
	mov rdi, [rsp + 8]		; the gpr array
	mov [rdi + GPR_RCX_OFFSET], rcx
	mov [rdi + GPR_RDX_OFFSET], rdx
	mov [rdi + GPR_RBX_OFFSET], rbx
	mov [rdi + GPR_RBP_OFFSET], rbp
	mov [rdi + GPR_RSI_OFFSET], rsi
	mov [rdi + GPR_R8_OFFSET], r8
	mov [rdi + GPR_R9_OFFSET], r9
	mov [rdi + GPR_R10_OFFSET], r10
	mov [rdi + GPR_R11_OFFSET], r11
	mov [rdi + GPR_R12_OFFSET], r12
	mov [rdi + GPR_R13_OFFSET], r13
	mov [rdi + GPR_R14_OFFSET], r14
	mov [rdi + GPR_R15_OFFSET], r15
	pop qword [rdi + GPR_RDI_OFFSET]

	add rsp, 8
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret
