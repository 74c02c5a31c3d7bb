; VT-x world switch (SDM 3C ch. 27 VM entries, ch. 28 VM exits).
;
; u32 vmx_enter(u64 *gpr /* rdi: struct vcpu.gpr */, u32 launched /* esi */,
;               u64 *host_rsp /* rdx: the vCPU's cache of HOST_RSP */)
;
; Loads the guest's general-purpose registers (all but RSP, which lives in
; the VMCS) and enters with VMLAUNCH or VMRESUME. The VM exit lands in
; vmx_exit_stub (HOST_RIP) on the stack frame vmx_enter built (HOST_RSP), whose
; top holds the gpr array; the stub saves the guest's registers there and
; returns from vmx_enter with VMX_ENTER_EXITED. A failed VMLAUNCH/VMRESUME
; falls through and returns VMX_ENTER_FAIL_INVALID or _VALID (hv/vmx/vmx.h).
;
; After a VM exit RFLAGS is 2 (SDM 3C 28.5.3): interrupts off, DF clear.

; GPR_*_OFFSET (struct vcpu.gpr), VMCS_HOST_RSP and VMX_ENTER_* come from C
; (hv/vcpu/asm_defs.h, hv/vmx/asm_defs.c)
%include "asm_defs.inc"

global vmx_enter
global vmx_exit_stub
global vmx_unblock_nmi

section .text
bits 64

vmx_enter:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi			; the gpr array: the exit stub finds it at [rsp]

	; HOST_RSP is this frame; rewrite it only when the caller's stack
	; depth changed since the last entry
	cmp rsp, [rdx]
	je .load
	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp
	jbe .fail			; CF (VMfailInvalid) or ZF (VMfailValid)
	mov [rdx], rsp

.load:
	test esi, esi			; ZF set: never launched
	mov rax, [rdi + GPR_RAX_OFFSET]
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
	mov rdi, [rdi + GPR_RDI_OFFSET]	; MOV leaves the flags of the TEST
	jnz .resume
	vmlaunch
	jmp .fail
.resume:
	vmresume

	; Only a failed VMLAUNCH/VMRESUME gets here (SDM 3C 31.2):
	; CF = 1 VMfailInvalid, ZF = 1 VMfailValid.
.fail:
	mov eax, VMX_ENTER_FAIL_VALID
	jnc .out
	mov eax, VMX_ENTER_FAIL_INVALID
.out:
	add rsp, 8			; the gpr array
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

; HOST_RIP. rsp = HOST_RSP, [rsp] = the gpr array; every general-purpose
; register but RSP still holds the guest's value.
vmx_exit_stub:
	push rdi			; the guest's RDI
	mov rdi, [rsp + 8]
	mov [rdi + GPR_RAX_OFFSET], rax
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
	mov eax, VMX_ENTER_EXITED
	jmp vmx_enter.out		; the same frame as a failed entry

; void vmx_unblock_nmi(void)
; An NMI that caused a VM exit leaves NMIs blocked until the next IRET
; (SDM 3C 28.1). IRET to the next instruction ends the blocking.
vmx_unblock_nmi:
	mov rax, rsp
	mov ecx, ss
	push rcx			; SS
	push rax			; RSP as it was
	pushfq
	mov ecx, cs
	push rcx			; CS
	lea rcx, [rel .done]
	push rcx			; RIP
	iretq
.done:
	ret
