; hv.efi's assembly: the hypervisor image it carries, and the stub that leaves
; long mode and enters that image as a 32-bit Multiboot loader would.
;
; efi_main copies the stub, [efi_leave_start, efi_leave_end), to a page it
; allocated below 4 GiB and calls the copy after ExitBootServices. The stub
; only uses addresses relative to itself, so the copy runs anywhere; UEFI
; maps memory 1:1 (UEFI 2.10, 2.3.4), so the copy is identity-mapped, as the
; instructions after CR0.PG is cleared must be.

%ifndef HV_BIN
%error "define HV_BIN: the path of the flat hypervisor image (build/hv.bin)"
%endif

CR0_PG		equ 1 << 31
CR4_PCIDE	equ 1 << 17
MSR_EFER	equ 0xc0000080
EFER_LME	equ 1 << 8

; GDT descriptors (SDM 3A 3.4.5): base 0, limit 4 GiB (G=1), present, DPL 0,
; accessed already set, so that loading them never writes to the GDT.
DESC_CODE64	equ 0x00af9b000000ffff	; L=1: 64-bit code
DESC_DATA	equ 0x00cf93000000ffff	; D/B=1: 32-bit read/write data
DESC_CODE32	equ 0x00cf9b000000ffff	; L=0, D=1: 32-bit code
SEL_CODE64	equ 0x08
SEL_DATA	equ 0x10
SEL_CODE32	equ 0x18

section .note.GNU-stack noalloc noexec nowrite progbits

; --- the flat hypervisor image (objcopy -O binary of build/hv.elf) ---
section .rodata.hv_image progbits alloc noexec nowrite align=4096
global efi_hv_image:data hidden
global efi_hv_image_end:data hidden
efi_hv_image:
	incbin HV_BIN
efi_hv_image_end:

; --- efi_leave(entry, magic, info, stack_top): System V arguments in RDI,
; RSI, RDX, RCX, all physical addresses below 4 GiB (magic: 32 bits) ---
section .text
bits 64
global efi_leave_start:function hidden
global efi_leave_end:data hidden
align 16
efi_leave_start:
	cli				; boot services are gone: nobody owns the IDT
	mov rsp, rcx			; a stack below 4 GiB, in the stub's pages
	mov rbx, rdx			; EBX = boot_info, as the image expects

	; MOV to CR0 may not clear PG while CR4.PCIDE = 1 (SDM 3A 4.10.1, #GP);
	; clearing PCIDE is allowed, and flushes the TLB (SDM 3A 4.10.4.1).
	mov rax, cr4
	and rax, ~CR4_PCIDE
	mov cr4, rax

	; Our own GDT: the firmware's need not have a 32-bit code segment.
	lea rax, [rel gdt]
	sub rsp, 16
	mov word [rsp], gdt_end - gdt - 1
	mov [rsp + 2], rax
	lgdt [rsp]
	add rsp, 16

	; Leaving IA-32e mode (SDM 3A 10.8.5.4):
	; 1. switch to compatibility mode: a far return to a 32-bit code segment
	lea rax, [rel .compat]
	push SEL_CODE32
	push rax
	o64 retf

bits 32
.compat:
	; 2. clear CR0.PG: the processor clears EFER.LMA; this code and the
	;    image's entry are identity-mapped, so execution carries on here
	mov eax, cr0
	and eax, ~CR0_PG
	mov cr0, eax
	; 3. (load CR3 for legacy paging: not wanted, paging stays off)
	; 4. clear EFER.LME: the image decides itself whether to go back to
	;    long mode (5., enabling legacy paging, is skipped too)
	mov ecx, MSR_EFER
	rdmsr
	and eax, ~EFER_LME
	wrmsr

	; Flat 32-bit protected mode now; a Multiboot loader's segments.
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	mov eax, esi			; EAX = TESSERA_EFI_LOADER_MAGIC
	jmp edi				; the image's mb_entry32

; The image's boot_gdt (boot/entry.asm) uses the same selectors for 64-bit
; code and data, so the selectors loaded here stay meaningful after the image
; switches to its own GDT.
align 8
gdt:
	dq 0
	dq DESC_CODE64			; SEL_CODE64
	dq DESC_DATA			; SEL_DATA
	dq DESC_CODE32			; SEL_CODE32
gdt_end:
efi_leave_end:
