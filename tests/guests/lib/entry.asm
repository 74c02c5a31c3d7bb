; Test-guest entry: the Multiboot1 header, the 32-bit entry from the loader,
; the exception stubs and the AP start-up trampoline.
;
; The loader enters _start as the Multiboot1 spec (3.2, "Machine state")
; says: 32-bit protected mode, paging off, EAX = 0x2BADB002, EBX = the
; information structure, interrupts off, GDTR and the stack not valid.

MB1_MAGIC		equ 0x1badb002
MB1_FLAG_PAGE_ALIGN	equ 1 << 0	; modules page-aligned
MB1_FLAG_MEMINFO	equ 1 << 1	; mem_* and mmap_* wanted
MB1_FLAGS		equ MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMINFO

SEL_CODE		equ 0x08	; gdt below; trap.c uses the same value
SEL_DATA		equ 0x10
CR0_PE			equ 1 << 0
CR0_NW			equ 1 << 29
CR0_CD			equ 1 << 30

BSP_STACK_SIZE		equ 16384
AP_STACK_SHIFT		equ 12		; 4 KiB per AP
AP_STACK_SIZE		equ 1 << AP_STACK_SHIFT
SMP_MAX_APS		equ 63		; smp.h: SMP_MAX_CPUS - 1
TRAP_VECTORS		equ 48		; trap.h: the exceptions and 16 interrupts

extern guest_start
extern smp_ap_entry
extern trap_dispatch
extern __bss_start
extern __bss_end

global _start
global trap_stubs
global gdt_desc
global smp_tramp_start
global smp_tramp_end
global smp_ap_ticket
global bsp_stack_top

; --- Multiboot1 header (Multiboot spec 3.1.1): first 8 KiB, 4-aligned ---
section .multiboot progbits alloc noexec nowrite align=4
	dd MB1_MAGIC
	dd MB1_FLAGS
	dd -(MB1_MAGIC + MB1_FLAGS)

section .text
bits 32

_start:
	cli
	cld
	lgdt [gdt_desc]
	jmp SEL_CODE:.reload
.reload:
	mov ecx, SEL_DATA
	mov ds, ecx
	mov es, ecx
	mov fs, ecx
	mov gs, ecx
	mov ss, ecx
	; clear .bss (the loader should have; a restart must not see old state)
	mov esi, eax
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd
	mov esp, bsp_stack_top
	xor ebp, ebp
	push ebx			; multiboot information
	push esi			; magic
	call guest_start
.halt:
	cli
	hlt
	jmp .halt

; --- exceptions: one stub per vector, a common frame for trap_dispatch ---
; Stack on entry to trap_common, low to high: vector, error code, EIP, CS,
; EFLAGS (SDM 3A 6.12.1: no privilege change, so no SS:ESP).
%macro TRAP_NOERR 1
trap_stub_%1:
	push 0
	push %1
	jmp trap_common
%endmacro
%macro TRAP_ERR 1
trap_stub_%1:
	push %1
	jmp trap_common
%endmacro

; vectors that push an error code (SDM 3A 6.13, table 6-1); the vectors
; after the exceptions are interrupts (trap.h TRAP_IRQ_BASE), which push none
%assign v 0
%rep TRAP_VECTORS
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
	TRAP_ERR v
%else
	TRAP_NOERR v
%endif
%assign v v + 1
%endrep

trap_common:
	pushad
	push esp			; struct trap_frame *
	call trap_dispatch
	add esp, 4
	popad
	add esp, 8			; vector, error code
	iretd

section .rodata
align 4
trap_stubs:
%assign v 0
%rep TRAP_VECTORS
	dd trap_stub_ %+ v
%assign v v + 1
%endrep

; --- the flat GDT: null, 32-bit code, 32-bit data (SDM 3A 3.4.5) ---
section .data
align 8
gdt:
	dq 0
	dq 0x00cf9a000000ffff		; SEL_CODE: base 0, 4 GiB, execute/read
	dq 0x00cf92000000ffff		; SEL_DATA: base 0, 4 GiB, read/write
gdt_end:
align 4
	dw 0
gdt_desc:
	dw gdt_end - gdt - 1
	dd gdt

; --- the AP trampoline, copied below 1 MiB by smp.c ---
; A start-up IPI with vector VV starts the AP in real mode at CS = VV00,
; IP = 0 (SDM 3A 8.4.4.1). The code is position-independent within its
; page: it addresses its own data CS-relative and leaves by a far jump to
; an absolute address in the image.
section .text
bits 16
smp_tramp_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	o32 lgdt [tramp_gdtr - smp_tramp_start]
	; INIT leaves CR0.CD and CR0.NW set (SDM 3A 9.1.1, table 9-1): caches on
	mov eax, cr0
	and eax, ~(CR0_CD | CR0_NW)
	or eax, CR0_PE
	mov cr0, eax
	; SDM 3A 9.9.1: a far jump right after setting CR0.PE
	jmp dword SEL_CODE:ap_entry32
align 4
	dw 0
tramp_gdtr:
	dw gdt_end - gdt - 1
	dd gdt
smp_tramp_end:

bits 32
ap_entry32:
	mov ecx, SEL_DATA
	mov ds, ecx
	mov es, ecx
	mov fs, ecx
	mov gs, ecx
	mov ss, ecx
	; every entry takes a ticket: its stack, and proof of how often APs came
	mov eax, 1
	lock xadd [smp_ap_ticket], eax
	cmp eax, SMP_MAX_APS
	jae .park
	lea esp, [eax + 1]
	shl esp, AP_STACK_SHIFT
	add esp, ap_stacks
	xor ebp, ebp
	push eax
	call smp_ap_entry
.park:
	cli
	hlt
	jmp .park

section .bss
alignb 16
smp_ap_ticket:
	resd 1
alignb 4096
bsp_stack:
	resb BSP_STACK_SIZE
bsp_stack_top:
ap_stacks:
	resb AP_STACK_SIZE * SMP_MAX_APS

section .note.GNU-stack noalloc noexec nowrite progbits
