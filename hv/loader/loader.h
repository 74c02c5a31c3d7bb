/*
 * Guest image loaders: put a kernel into a partition's RAM and say how its
 * first vCPU starts. Pure code over a guest-memory view, so the rules are
 * unit-tested on the host with malformed images.
 */
#pragma once

#include "hv/lib/types.h"

#define LOADER_MAX_REGIONS 2
#define LOADER_ERR_MAX 128

/* The partition's guest-physical RAM, and how to reach it. */
struct guest_mem {
	u32 region_count;
	struct {
		u64 gpa, size;
	} regions[LOADER_MAX_REGIONS];
	/* a pointer to [gpa, gpa + len) if all of it is RAM, else NULL */
	void *(*ptr)(void *ctx, u64 gpa, u64 len);
	void *ctx;
};

struct loader_module {
	const u8 *data;
	u64 len;
	const char *name;
};

/* How vCPU 0 starts: mode and registers. */
enum loader_entry_mode {
	LOADER_ENTRY_PROTECTED32, /* flat 32-bit protected mode, paging off */
	LOADER_ENTRY_LONG64,	  /* 64-bit mode with identity page tables */
};

struct loader_entry {
	u32 mode; /* enum loader_entry_mode */
	u64 rip;
	u64 rax, rbx, rsi; /* boot protocol registers */
	u64 cr3;	   /* LONG64: the page tables the loader built */
	u64 gdt_base;	   /* LONG64: a GDT the loader built, 0 if none */
	/*
	 * Set by linux_load and pvh_load (mb1_load leaves them 0): the GDT at
	 * gdt_base is then valid in either mode, and these selectors name its
	 * flat descriptors. 0 means none: Multiboot's 0x08 / 0x10, no GDT.
	 */
	u32 gdt_limit;		/* GDTR.limit for gdt_base */
	u16 code_sel;		/* CS */
	u16 data_sel;		/* DS, ES, SS (and FS, GS) */
};

/* Multiboot1 (Multiboot 0.6.96): an ELF32 kernel or one with the a.out kludge. */
#define MB1_HEADER_MAGIC 0x1badb002
#define MB1_BOOT_MAGIC 0x2badb002
#define MB1_SEARCH_LEN 8192
#define MB1_INFO_GPA 0x90000ULL /* the information structure, below the BIOS hole */
#define MB1_INFO_LIMIT 0x9f000ULL

/* Whether image looks like a Multiboot1 kernel (a valid header). */
bool mb1_probe(const u8 *image, u64 len);
/* Loads it; on failure returns a negative error and a message in err. */
int mb1_load(const u8 *image, u64 len, const char *cmdline,
	     const struct loader_module *mods, u32 mod_count,
	     const struct guest_mem *mem, struct loader_entry *entry,
	     char *err, size_t err_size);

/*
 * ---- Linux: a bzImage through the x86 boot protocol, or an ELF vmlinux
 * through its PVH entry ----
 *
 * What the two loaders build below 1 MiB, all inside the first e820 RAM
 * range [0, GUEST_BIOS_HOLE_START); the kernel, its initrd and every ELF
 * segment go at or above LINUX_LOAD_MIN, in RAM.
 *
 * The vCPU state at entry, which the partition code sets from struct
 * loader_entry (all other registers 0, RFLAGS = 0x2 so IF = TF = VM = 0,
 * IDTR base 0 limit 0, LDTR as after INIT, TR a busy 32/64-bit TSS, type 11,
 * base 0, limit 0x67, as the PVH ABI asks and VT-x wants in IA-32e mode):
 *
 *  LOADER_ENTRY_LONG64 (bzImage with XLF_KERNEL_64; boot.rst "64-bit Boot
 *  Protocol"): CR0 = PE | ET | PG, CR4 = PAE, EFER = LME | LMA, CR3 =
 *  entry.cr3 (4-level tables identity-mapping [0, 4 GiB) with 2 MiB pages),
 *  GDTR = entry.gdt_base / entry.gdt_limit; CS = entry.code_sel (0x10,
 *  base 0, limit 4 GiB, code execute/read accessed, S, P, G, L = 1, D = 0);
 *  DS = ES = SS = FS = GS = entry.data_sel (0x18, base 0, limit 4 GiB, data
 *  read/write accessed, S, P, G, D/B = 1); RIP = entry.rip (load + 0x200);
 *  RSI = entry.rsi (the zero page).
 *
 *  LOADER_ENTRY_PROTECTED32 from linux_load (a kernel without
 *  XLF_KERNEL_64; boot.rst "32-bit Boot Protocol"): CR0 = PE | ET, CR4 = 0,
 *  EFER = 0, CR3 = 0, the same GDTR and selectors, but CS is a 32-bit
 *  segment (L = 0, D = 1); RIP = load address, ESI = the zero page, EBX =
 *  EBP = EDI = 0.
 *
 *  LOADER_ENTRY_PROTECTED32 from pvh_load (Xen docs/misc/pvh.pandoc): as
 *  the line above, with EBX = entry.rbx (struct hvm_start_info) and ESI 0.
 */
#define LINUX_GDT_GPA 0x1000ULL	   /* boot GDT, LINUX_GDT_ENTRIES descriptors */
#define LINUX_PML4_GPA 0x2000ULL   /* LONG64 identity tables: PML4, */
#define LINUX_PDPT_GPA 0x3000ULL   /* one PDPT, */
#define LINUX_PD_GPA 0x4000ULL	   /* and LINUX_PD_COUNT page directories */
#define LINUX_PD_COUNT 4	   /* 4 x 1 GiB of 2 MiB pages: [0, 4 GiB) */
#define LINUX_ZERO_PAGE_GPA 0x8000ULL /* struct boot_params / hvm_start_info */
#define LINUX_CMDLINE_GPA 0x9000ULL
#define LINUX_CMDLINE_AREA 0x7000ULL  /* bytes for the command line and its NUL */
#define LINUX_LOW_END 0x10000ULL      /* end of what the loaders build low */
#define LINUX_LOAD_MIN 0x100000ULL    /* nothing of the image goes below 1 MiB */

#define LINUX_BOOT_CS 0x10 /* boot.rst: __BOOT_CS */
#define LINUX_BOOT_DS 0x18 /* boot.rst: __BOOT_DS */
#define LINUX_GDT_ENTRIES 4 /* null, unused, __BOOT_CS, __BOOT_DS */

#define LINUX_PROTOCOL_MIN 0x020c /* 2.12: xloadflags, a 64-bit entry */
#define PVH_CMDLINE_MAX 2047	  /* x86 COMMAND_LINE_SIZE less its NUL */
#define XEN_ELFNOTE_PHYS32_ENTRY 18 /* Xen public/elfnote.h */
#define HVM_START_MAGIC 0x336ec578  /* Xen public/arch-x86/hvm/start_info.h */
#define HVM_START_VERSION 1	    /* with a memory map */

/* One e820 range, in the layout of the zero page's e820_table (boot.rst,
 * zero-page.rst: 20 bytes, packed). */
struct loader_e820_entry {
	u64 addr, size;
	u32 type; /* E820_RAM, E820_RESERVED (boot/multiboot.h) */
} __packed;

#define LOADER_E820_MAX 8

/* Whether image has a Linux setup header ("HdrS" at 0x202). */
bool linux_probe(const u8 *image, u64 len);
/*
 * Loads a bzImage (boot protocol 2.12 or later) at its pref_address, the
 * initrd (NULL or an empty one for none) as high as initrd_addr_max and
 * low RAM allow, builds the zero page with the partition's e820 map and
 * rsdp_gpa (0: the guest scans the BIOS area), and the entry state above.
 * On failure returns a negative error and a message in err.
 */
int linux_load(const u8 *image, u64 len, const char *cmdline,
	       const struct loader_module *initrd, u64 rsdp_gpa,
	       const struct guest_mem *mem, struct loader_entry *entry,
	       char *err, size_t err_size);

/* Whether image is an x86-64 ELF file (pvh_load says if it has a PVH entry). */
bool pvh_probe(const u8 *image, u64 len);
/*
 * Loads an ELF64 vmlinux at its segments' physical addresses and enters it
 * at its XEN_ELFNOTE_PHYS32_ENTRY with a struct hvm_start_info (version 1:
 * command line, the initrd as module 0, rsdp_gpa, the e820 map). Same
 * conventions as linux_load.
 */
int pvh_load(const u8 *image, u64 len, const char *cmdline,
	     const struct loader_module *initrd, u64 rsdp_gpa,
	     const struct guest_mem *mem, struct loader_entry *entry,
	     char *err, size_t err_size);

/* Helpers shared by the two (hv/loader/linux.c). */

/* The partition's e820 map, sorted: [0, GUEST_BIOS_HOLE_START) RAM, the
 * hole to 1 MiB (BIOS area, ACPI tables) reserved, the rest of low RAM, the
 * ECAM window reserved, RAM from 4 GiB. Returns the entry count, or a
 * negative error with a message in err. */
int loader_e820(const struct guest_mem *mem, struct loader_e820_entry *map, u32 max,
		char *err, size_t err_size);
/* Copies len bytes to guest gpa and zeroes zero_len more; false if any of
 * it is not RAM. */
bool loader_copy(const struct guest_mem *mem, u64 gpa, const void *src, u64 len,
		 u64 zero_len);
/* Writes the boot GDT at LINUX_GDT_GPA (a 64-bit or a 32-bit code segment
 * at LINUX_BOOT_CS) and sets entry's gdt_base, gdt_limit and selectors. */
bool loader_boot_gdt(const struct guest_mem *mem, bool long_mode,
		     struct loader_entry *entry);
/* Copies cmdline (NULL: empty) to LINUX_CMDLINE_GPA if it has at most
 * max_chars characters. */
int loader_put_cmdline(const struct guest_mem *mem, const char *cmdline, u64 max_chars,
		       char *err, size_t err_size);
/* Puts initrd page-aligned as high as possible inside [bottom, top);
 * *gpa = where. */
int loader_put_initrd(const struct guest_mem *mem, const struct loader_module *initrd,
		      u64 bottom, u64 top, u64 *gpa, char *err, size_t err_size);
