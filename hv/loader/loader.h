/*
 * Guest image loaders: put a kernel into a partition's RAM and say how its
 * first vCPU starts. Pure code over a guest-memory view, so the rules are
 * unit-tested on the host with malformed images.
 *
 * One file per format, each with a probe and a load function (linux.c: a
 * Linux bzImage, mb1.c: a Multiboot1 kernel, pvh.c: a PVH vmlinux);
 * loader.c has the table of formats loader_load() goes through and the
 * helpers the formats share. A new format is one new file and one line in
 * that table.
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
	u32 gdt_limit; /* GDTR.limit for gdt_base */
	u16 code_sel;  /* CS */
	u16 data_sel;  /* DS, ES, SS (and FS, GS) */
};

/*
 * Every loader reports a failure the same way: a message in err (err_size
 * bytes, the caller's names for them) and -E_INVAL, from the function that
 * found it. Needs hv/lib/lib.h (snprintf, E_INVAL).
 */
#define LOADER_FAIL(...)                              \
	do {                                          \
		snprintf(err, err_size, __VA_ARGS__); \
		return -E_INVAL;                      \
	} while (0)

/*
 * A guest format: whether an image is one (a cheap look at its header),
 * and loading it: the kernel at the address it asks for, its command line
 * (NULL: empty), the initrd (NULL or an empty one for none), the
 * partition's RSDP (rsdp_gpa, 0: the guest scans the BIOS area) where the
 * format has a place for it; then *entry says how vCPU 0 starts. On
 * failure returns a negative error and a message in err.
 */
typedef bool (*loader_probe_fn)(const u8 *image, u64 len);
typedef int (*loader_load_fn)(const u8 *image, u64 len, const char *cmdline,
			      const struct loader_module *initrd, u64 rsdp_gpa,
			      const struct guest_mem *mem, struct loader_entry *entry, char *err,
			      size_t err_size);

struct loader_format {
	const char *name; /* "Linux bzImage", for messages */
	loader_probe_fn probe;
	loader_load_fn load;
};

/*
 * Loads image with the first format whose probe accepts it, in the order of
 * loader.c's table: a Linux bzImage, then a Multiboot1 kernel, then a PVH
 * vmlinux. An image none of them accepts fails with "not a Linux bzImage,
 * a Multiboot1 kernel or a PVH vmlinux".
 */
int loader_load(const u8 *image, u64 len, const char *cmdline, const struct loader_module *initrd,
		u64 rsdp_gpa, const struct guest_mem *mem, struct loader_entry *entry, char *err,
		size_t err_size);

/*
 * ---- Linux: a bzImage through the x86 boot protocol (linux.h), or an ELF
 * vmlinux through its PVH entry (pvh.h) ----
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
#define LINUX_GDT_GPA 0x1000ULL	      /* boot GDT, LINUX_GDT_ENTRIES descriptors */
#define LINUX_PML4_GPA 0x2000ULL      /* LONG64 identity tables: PML4, */
#define LINUX_PDPT_GPA 0x3000ULL      /* one PDPT, */
#define LINUX_PD_GPA 0x4000ULL	      /* and LINUX_PD_COUNT page directories */
#define LINUX_PD_COUNT 4	      /* 4 x 1 GiB of 2 MiB pages: [0, 4 GiB) */
#define LINUX_ZERO_PAGE_GPA 0x8000ULL /* struct boot_params / hvm_start_info */
#define LINUX_CMDLINE_GPA 0x9000ULL
#define LINUX_CMDLINE_AREA 0x7000ULL /* bytes for the command line and its NUL */
#define LINUX_LOW_END 0x10000ULL     /* end of what the loaders build low */
#define LINUX_LOAD_MIN 0x100000ULL   /* nothing of the image goes below 1 MiB */

#define LINUX_BOOT_CS 0x10  /* boot.rst: __BOOT_CS */
#define LINUX_BOOT_DS 0x18  /* boot.rst: __BOOT_DS */
#define LINUX_GDT_ENTRIES 4 /* null, unused, __BOOT_CS, __BOOT_DS */

/* One e820 range, in the layout of the zero page's e820_table (boot.rst,
 * zero-page.rst: 20 bytes, packed). */
struct loader_e820_entry {
	u64 addr, size;
	u32 type; /* E820_RAM, E820_RESERVED (boot/multiboot.h) */
} __packed;

#define LOADER_E820_MAX 8

/* Helpers the formats share (hv/loader/loader.c). */

/* The partition's e820 map, sorted: [0, GUEST_BIOS_HOLE_START) RAM, the
 * hole to 1 MiB (BIOS area, ACPI tables) reserved, the rest of low RAM, the
 * ECAM window reserved, RAM from 4 GiB. Returns the entry count, or a
 * negative error with a message in err. */
int loader_e820(const struct guest_mem *mem, struct loader_e820_entry *map, u32 max, char *err,
		size_t err_size);
/* Copies len bytes to guest gpa and zeroes zero_len more; false if any of
 * it is not RAM. */
bool loader_copy(const struct guest_mem *mem, u64 gpa, const void *src, u64 len, u64 zero_len);
/* Writes the boot GDT at LINUX_GDT_GPA (a 64-bit or a 32-bit code segment
 * at LINUX_BOOT_CS) and sets entry's gdt_base, gdt_limit and selectors. */
bool loader_boot_gdt(const struct guest_mem *mem, bool long_mode, struct loader_entry *entry);
/* Copies cmdline (NULL: empty) to LINUX_CMDLINE_GPA if it has at most
 * max_chars characters. */
int loader_put_cmdline(const struct guest_mem *mem, const char *cmdline, u64 max_chars, char *err,
		       size_t err_size);
/* Puts initrd page-aligned as high as possible inside [bottom, top);
 * *gpa = where. */
int loader_put_initrd(const struct guest_mem *mem, const struct loader_module *initrd, u64 bottom,
		      u64 top, u64 *gpa, char *err, size_t err_size);
