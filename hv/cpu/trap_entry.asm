; Exception and interrupt entry stubs: push a uniform frame (hv/cpu/trap.h,
; struct trap_frame) and call trap_handler.

extern trap_handler
global trap_stubs

; Vectors for which the CPU pushes an error code (SDM 3A 6.3.1, table 6-1).
%define HAS_ERRCODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

section .text
bits 64

%macro TRAP_STUB 1
align 16
	%if !HAS_ERRCODE(%1)
	push 0
	%endif
	push %1
	jmp trap_common
%endmacro

align 16
trap_stubs:
%assign v 0
%rep 256
	TRAP_STUB v
%assign v v + 1
%endrep

trap_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	cld
	mov rdi, rsp
	; frame chain for the backtrace: the interrupted rbp is in the frame
	xor ebp, ebp
	call trap_handler
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16			; vector, error code
	iretq
