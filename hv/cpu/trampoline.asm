; AP trampoline: copied to a page below 1 MiB, entered by the startup IPI in
; real mode at CS = page >> 4, IP = 0 (SDM 3A 9.4.4). It goes to protected
; mode, then long mode with the hypervisor's CR3 (SDM 3A 10.8.5), and jumps to
; the C entry named in its parameter block (struct trampoline_params, hv/cpu/smp.c).

%define TOFF(x)		((x) - trampoline_start)
CR0_PE		equ 1 << 0
CR0_PG		equ 1 << 31
CR4_PAE		equ 1 << 5
MSR_EFER	equ 0xc0000080
SEL_CODE64	equ 0x08
SEL_DATA	equ 0x10
SEL_CODE32	equ 0x18

global trampoline_start
global trampoline_params

section .trampoline progbits alloc exec write align=16

bits 16
trampoline_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	movzx ebx, ax
	shl ebx, 4			; ebx = linear address of this page

	; patch the GDT base and the two far-jump targets with our address
	lea eax, [ebx + TOFF(tramp_gdt)]
	mov [TOFF(tramp_gdtr) + 2], eax
	lea eax, [ebx + TOFF(prot32)]
	mov [TOFF(far32)], eax
	lea eax, [ebx + TOFF(long64)]
	mov [TOFF(far64)], eax

	lgdt [TOFF(tramp_gdtr)]
	mov eax, CR0_PE
	mov cr0, eax
	jmp dword far [TOFF(far32)]

bits 32
prot32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, CR4_PAE
	mov cr4, eax
	mov eax, [ebx + TOFF(trampoline_params.cr3)]
	mov cr3, eax
	mov ecx, MSR_EFER
	mov eax, [ebx + TOFF(trampoline_params.efer)]
	xor edx, edx
	wrmsr
	mov eax, [ebx + TOFF(trampoline_params.cr0)]
	or eax, CR0_PG | CR0_PE
	mov cr0, eax
	jmp far [ebx + TOFF(far64)]

bits 64
long64:
	mov ebx, ebx			; zero-extend the page address
	mov rsp, [rbx + TOFF(trampoline_params.stack)]
	mov rdi, [rbx + TOFF(trampoline_params.cpu)]
	xor ebp, ebp
	jmp [rbx + TOFF(trampoline_params.entry)]

align 8
far32:	dd 0
	dw SEL_CODE32
align 8
far64:	dd 0
	dw SEL_CODE64

align 16
tramp_gdt:
	dq 0
	dq 0x00af9a000000ffff		; 0x08: 64-bit code
	dq 0x00cf92000000ffff		; 0x10: data
	dq 0x00cf9a000000ffff		; 0x18: 32-bit code
tramp_gdt_end:
align 4
tramp_gdtr:
	dw tramp_gdt_end - tramp_gdt - 1
	dd 0

; filled by smp.c before each startup IPI (layout: struct trampoline_params)
align 8
trampoline_params:
.cr3:	dq 0
.efer:	dq 0
.cr0:	dq 0
.stack:	dq 0
.cpu:	dq 0
.entry:	dq 0
