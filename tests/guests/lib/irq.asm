; Interrupt stubs for vectors 32-255 (irq.h): each pushes its vector and
; joins irq_common, which calls irq_dispatch(vector) with the registers
; saved. No interrupt pushes an error code (SDM 3A 6.13).

IRQ_FIRST	equ 32
IRQ_VECTORS	equ 256

extern irq_dispatch
global irq_stubs

section .text
bits 32

%assign v IRQ_FIRST
%rep IRQ_VECTORS - IRQ_FIRST
irq_stub_ %+ v:
	push dword v
	jmp irq_common
%assign v v + 1
%endrep

irq_common:
	pushad
	push dword [esp + 32]		; the vector, above the eight registers
	cld
	call irq_dispatch
	add esp, 4
	popad
	add esp, 4			; the vector
	iretd

section .rodata
align 4
irq_stubs:
%assign v IRQ_FIRST
%rep IRQ_VECTORS - IRQ_FIRST
	dd irq_stub_ %+ v
%assign v v + 1
%endrep
