; AMD-V world switch: load the guest's general-purpose registers, VMRUN, save
; them on #VMEXIT (APM 2 15.5). RAX and RSP live in the VMCB; the host's RSP,
; RIP and RAX are restored by the processor on #VMEXIT.
;
; void svm_vmrun(u64 *gpr /* rdi: struct vcpu.gpr */, u64 vmcb_pa /* rsi */)

%define GPR(n) (n * 8)
GPR_RCX equ 1
GPR_RDX equ 2
GPR_RBX equ 3
GPR_RBP equ 5
GPR_RSI equ 6
GPR_RDI equ 7

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
	mov rdi, [rdi + GPR(GPR_RDI)]

	vmrun				; rax = the VMCB

	push rdi			; the guest's RDI
	mov rdi, [rsp + 8]		; the gpr array
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

	add rsp, 8
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret
