; Tessera image entry: the Multiboot1 and Multiboot2 headers, the header the
; UEFI front-end looks for, and the one 32-bit entry, which switches to long
; mode and calls boot_entry(info, magic, image_phys).
;
; The image is linked at HV_VBASE and runs from wherever the loader put it:
; 32-bit code finds its own physical base (call/pop) and addresses everything
; as base + (symbol - HV_VBASE).

%include "layout.inc"

MB1_MAGIC		equ 0x1badb002
MB1_FLAG_PAGE_ALIGN	equ 1 << 0	; modules page-aligned
MB1_FLAG_MEMINFO	equ 1 << 1	; memory map wanted
MB1_FLAG_AOUT_KLUDGE	equ 1 << 16	; load addresses in the header
MB1_FLAGS		equ MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMINFO | MB1_FLAG_AOUT_KLUDGE

MB2_MAGIC		equ 0xe85250d6
MB2_ARCH_I386		equ 0
MB2_TAG_END		equ 0
MB2_TAG_INFO_REQ	equ 1
MB2_TAG_ADDRESS		equ 2
MB2_TAG_ENTRY		equ 3
MB2_TAG_MODULE_ALIGN	equ 6
MB2_TAG_RELOCATABLE	equ 10
MB2_TAG_OPTIONAL	equ 1
MB2_RELOC_PREFER_LOW	equ 1
; information tags we ask for (Multiboot2 spec 3.6)
MB2_INFO_CMDLINE	equ 1
MB2_INFO_MODULE		equ 3
MB2_INFO_MMAP		equ 6
MB2_INFO_FRAMEBUFFER	equ 8
MB2_INFO_ACPI_OLD	equ 14
MB2_INFO_ACPI_NEW	equ 15

TESSERA_HDR_MAGIC	equ 0x3141524553534554	; "TESSERA1"

; page-table entry bits (SDM 3A 4.5)
PTE_P			equ 1 << 0
PTE_W			equ 1 << 1
PTE_PS			equ 1 << 7
CR0_PE			equ 1 << 0
CR0_PG			equ 1 << 31
CR4_PAE			equ 1 << 5
MSR_EFER		equ 0xc0000080
EFER_LME		equ 1 << 8

GDT_CODE64		equ 0x08
GDT_DATA		equ 0x10

%define PHYS(sym)	(sym - HV_VBASE)	; offset in the image

extern __data_end
extern __bss_end
extern boot_entry

global mb_entry32
global boot_stack_top
global early_pml4

section .text.boot
bits 32

; --- Multiboot2 header (Multiboot2 spec 3.1), 8-byte aligned, first 32 KiB ---
align 8
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
align 8
.info_req:
	dw MB2_TAG_INFO_REQ, 0
	dd .info_req_end - .info_req
	dd MB2_INFO_CMDLINE, MB2_INFO_MODULE, MB2_INFO_MMAP
.info_req_end:
align 8
.info_opt:
	dw MB2_TAG_INFO_REQ, MB2_TAG_OPTIONAL
	dd .info_opt_end - .info_opt
	dd MB2_INFO_ACPI_OLD, MB2_INFO_ACPI_NEW, MB2_INFO_FRAMEBUFFER
.info_opt_end:
align 8
	dw MB2_TAG_ADDRESS, 0
	dd 24
	dd PHYS(mb2_header) + HV_PLOAD		; header_addr
	dd HV_PLOAD				; load_addr
	dd PHYS(__data_end) + HV_PLOAD		; load_end_addr
	dd PHYS(__bss_end) + HV_PLOAD		; bss_end_addr
align 8
	dw MB2_TAG_ENTRY, 0
	dd 12
	dd PHYS(mb_entry32) + HV_PLOAD
align 8
	dw MB2_TAG_MODULE_ALIGN, 0
	dd 8
align 8
	; GRUB may place us anywhere 2 MiB-aligned: UEFI firmware need not
	; leave HV_PLOAD free.
	dw MB2_TAG_RELOCATABLE, 0
	dd 24
	dd HV_PLOAD				; min_addr
	dd HV_IMAGE_MAX_PHYS			; max_addr
	dd HV_IMAGE_ALIGN			; align
	dd MB2_RELOC_PREFER_LOW
align 8
	dw MB2_TAG_END, 0
	dd 8
mb2_header_end:

; --- Multiboot1 header (Multiboot 0.6.96 3.1.1) with the a.out kludge ---
align 4
mb1_header:
	dd MB1_MAGIC
	dd MB1_FLAGS
	dd -(MB1_MAGIC + MB1_FLAGS)
	dd PHYS(mb1_header) + HV_PLOAD		; header_addr
	dd HV_PLOAD				; load_addr
	dd PHYS(__data_end) + HV_PLOAD		; load_end_addr
	dd PHYS(__bss_end) + HV_PLOAD		; bss_end_addr
	dd PHYS(mb_entry32) + HV_PLOAD		; entry_addr

; --- header for the UEFI front-end (boot/efi/): it copies the image to a
; HV_IMAGE_ALIGN-aligned address below HV_IMAGE_MAX_PHYS, leaves long mode
; and enters mb_entry32 as a Multiboot loader would, with EAX = TESSERA_EFI
; magic and EBX = its struct boot_info.
align 8
tessera_header:
	dq TESSERA_HDR_MAGIC
	dq PHYS(mb_entry32)			; entry offset in the image
	dq PHYS(__data_end)			; bytes to copy from the file
	dq PHYS(__bss_end)			; bytes in memory, the rest zeroed

; --- 32-bit Multiboot entry: protected mode, paging off, EAX magic, EBX info ---
mb_entry32:
	cli
	cld
	mov esi, eax			; loader magic
	mov edi, ebx			; loader information (physical)
	call .here
.here:
	pop ebp
	sub ebp, .here - mb2_header	; ebp = physical base of the image
	lea esp, [ebp + PHYS(boot_stack_top)]

	; Zero the early tables: a loader need not have cleared .bss for us.
	push edi
	lea edi, [ebp + PHYS(early_tables)]
	mov ecx, EARLY_TABLES_SIZE / 4
	xor eax, eax
	rep stosd
	pop edi

	; PML4[0] -> identity PDPT; its first 4 entries -> 4 PDs of 2 MiB pages.
	lea eax, [ebp + PHYS(early_pdpt_low)]
	or eax, PTE_P | PTE_W
	mov [ebp + PHYS(early_pml4)], eax
	xor ecx, ecx
.pdpt_low:
	lea eax, [ebp + PHYS(early_pd_low)]
	mov edx, ecx
	shl edx, 12
	add eax, edx
	or eax, PTE_P | PTE_W
	mov [ebp + PHYS(early_pdpt_low) + ecx * 8], eax
	inc ecx
	cmp ecx, HV_EARLY_IDENTITY_GIB
	jne .pdpt_low
	xor ecx, ecx			; entry index over all 4 PDs
.pd_low:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P | PTE_W | PTE_PS
	mov [ebp + PHYS(early_pd_low) + ecx * 8], eax
	mov eax, ecx
	shr eax, 11			; bits 32+ of (index << 21)
	mov [ebp + PHYS(early_pd_low) + ecx * 8 + 4], eax
	inc ecx
	cmp ecx, HV_EARLY_IDENTITY_GIB * 512
	jne .pd_low

	; PML4[511] -> PDPT[510] -> PD: HV_VBASE maps the image in 2 MiB pages.
	lea eax, [ebp + PHYS(early_pdpt_high)]
	or eax, PTE_P | PTE_W
	mov [ebp + PHYS(early_pml4) + 511 * 8], eax
	lea eax, [ebp + PHYS(early_pd_high)]
	or eax, PTE_P | PTE_W
	mov [ebp + PHYS(early_pdpt_high) + 510 * 8], eax
	xor ecx, ecx
.pd_high:
	mov eax, ecx
	shl eax, 21
	add eax, ebp
	or eax, PTE_P | PTE_W | PTE_PS
	mov [ebp + PHYS(early_pd_high) + ecx * 8], eax
	inc ecx
	cmp ecx, EARLY_IMAGE_2M_PAGES
	jne .pd_high

	; Long mode (SDM 3A 10.8.5): PAE, CR3, EFER.LME, then paging.
	mov eax, CR4_PAE
	mov cr4, eax
	lea eax, [ebp + PHYS(early_pml4)]
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, CR0_PG | CR0_PE
	mov cr0, eax

	; A GDT with a 64-bit code segment, at its physical address.
	lea eax, [ebp + PHYS(boot_gdt)]
	push eax
	push word boot_gdt_end - boot_gdt - 1
	lgdt [esp]
	add esp, 6

	lea eax, [ebp + PHYS(.long64)]
	push GDT_CODE64
	push eax
	retf

bits 64
.long64:
	mov ax, GDT_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rax, .high
	jmp rax
.high:
	mov rsp, boot_stack_top
	mov edi, edi			; arg 1: info (zero-extended)
	mov eax, esi
	mov esi, eax			; arg 2: magic
	mov edx, ebp			; arg 3: image physical base
	xor ebp, ebp			; end of the backtrace chain
	call boot_entry
.hang:
	cli
	hlt
	jmp .hang

align 16
boot_gdt:
	dq 0
	dq 0x00af9a000000ffff		; 0x08: 64-bit code, DPL 0
	dq 0x00cf92000000ffff		; 0x10: data, DPL 0
boot_gdt_end:

section .boot_bss nobits alloc write align=4096
align 4096
EARLY_IMAGE_2M_PAGES	equ 16		; 32 MiB: the image and its .bss
early_tables:
early_pml4:	resb 4096
early_pdpt_low:	resb 4096
early_pd_low:	resb 4096 * HV_EARLY_IDENTITY_GIB
early_pdpt_high: resb 4096
early_pd_high:	resb 4096
EARLY_TABLES_SIZE equ $ - early_tables
align 16
boot_stack:	resb HV_BOOT_STACK_SIZE
boot_stack_top:
