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

; struct vcpu.gpr is in x86 encoding order (hv/vcpu/vcpu.h, enum gpr)
%define GPR(n) ((n) * 8)
GPR_RAX equ 0
GPR_RCX equ 1
GPR_RDX equ 2
GPR_RBX equ 3
GPR_RBP equ 5
GPR_RSI equ 6
GPR_RDI equ 7

VMCS_HOST_RSP equ 0x6c14		; SDM 3D B.4.4

VMX_ENTER_EXITED equ 0
VMX_ENTER_FAIL_INVALID equ 1
VMX_ENTER_FAIL_VALID equ 2

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
	mov rax, [rdi + GPR(GPR_RAX)]
	mov rcx, [rdi + GPR(GPR_RCX)]
	mov rdx, [rdi + GPR(GPR_RDX)]
	mov rbx, [rdi + GPR(GPR_RBX)]
	mov rbp, [rdi + GPR(GPR_RBP)]
	mov rsi, [rdi + GPR(GPR_RSI)]
	mov r8, [rdi + GPR(8)]
	mov r9, [rdi + GPR(9)]
	mov r10, [rdi + GPR(10)]
	mov r11, [rdi + GPR(11)]
	mov r12, [rdi + GPR(12)]
	mov r13, [rdi + GPR(13)]
	mov r14, [rdi + GPR(14)]
	mov r15, [rdi + GPR(15)]
	mov rdi, [rdi + GPR(GPR_RDI)]	; MOV leaves the flags of the TEST
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
	mov [rdi + GPR(GPR_RAX)], rax
	mov [rdi + GPR(GPR_RCX)], rcx
	mov [rdi + GPR(GPR_RDX)], rdx
	mov [rdi + GPR(GPR_RBX)], rbx
	mov [rdi + GPR(GPR_RBP)], rbp
	mov [rdi + GPR(GPR_RSI)], rsi
	mov [rdi + GPR(8)], r8
	mov [rdi + GPR(9)], r9
	mov [rdi + GPR(10)], r10
	mov [rdi + GPR(11)], r11
	mov [rdi + GPR(12)], r12
	mov [rdi + GPR(13)], r13
	mov [rdi + GPR(14)], r14
	mov [rdi + GPR(15)], r15
	pop qword [rdi + GPR(GPR_RDI)]
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
