/*
 * The hypervisor's virtual address layout. The image is linked at HV_VBASE
 * and may be loaded at any 2 MiB-aligned physical address below 4 GiB
 * (HV_PLOAD is only the Multiboot1 default); it is mapped, never relocated.
 * Shared by C and NASM (only #define lines of plain numbers here).
 */
#pragma once

#define HV_VBASE 0xffffffff80000000	  /* image: top 2 GiB, -mcmodel=kernel */
#define HV_PLOAD 0x200000		  /* default physical load address (2 MiB) */
#define HV_IMAGE_ALIGN 0x200000		  /* mapped with 2 MiB pages at boot */
#define HV_IMAGE_MAX_PHYS 0xc0000000	  /* Multiboot2 relocation window top */
#define HV_DIRECT_BASE 0xffff888000000000 /* all physical memory, WB, NX */
#define HV_IOMAP_BASE 0xffffc90000000000  /* device MMIO, UC, NX */
#define HV_IOMAP_SIZE 0x0000004000000000  /* 256 GiB of MMIO window */
#define HV_BOOT_STACK_SIZE 0x4000
#define HV_EARLY_IDENTITY_GIB 4 /* early tables identity-map 0-4 GiB */
