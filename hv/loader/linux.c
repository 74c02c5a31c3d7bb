/*
 * Linux bzImage loader: the x86 boot protocol, 32-bit and 64-bit entries
 * (Documentation/arch/x86/boot.rst and zero-page.rst in the kernel tree).
 * The setup code is never run: the protected-mode kernel is loaded at its
 * pref_address, and the zero page it would have built is built here, with
 * the partition's exact e820 map, command line, initrd and RSDP, with the
 * helpers of hv/loader/loader.c that the PVH loader shares.
 *
 * Load address: always pref_address (LOAD_PHYSICAL_ADDR, 16 MiB for
 * Debian). A 64-bit kernel runs at the higher of its aligned load address
 * and LOAD_PHYSICAL_ADDR anyway (arch/x86/boot/compressed/head_64.S), so
 * loading lower saves no RAM; a non-relocatable kernel must be there. The
 * kernel then needs [runtime start, + init_size) of RAM (boot.rst,
 * init_size), which must fit in low RAM, else the load fails.
 */
#include "hv/loader/linux.h"
#include "hv/hw/paging.h"
#include "hv/lib/lib.h"

/* boot.rst, "The Real-Mode Kernel Header" */
#define SETUP_HDR_OFFSET 0x1f1
#define SETUP_JUMP_OFFSET 0x200 /* 0xEB, then the header's length - 2 */
#define SETUP_MAGIC_OFFSET 0x202
#define SETUP_MAGIC 0x53726448 /* "HdrS" */
#define JMP_SHORT_OPCODE 0xeb
#define SETUP_HDR_ROOM_END 0x290 /* the zero page's room for it */
#define SECTOR_SIZE 512
#define SETUP_SECTS_DEFAULT 4 /* boot.rst: setup_sects 0 means 4 */
#define SYSSIZE_UNIT 16	      /* syssize counts 16-byte paragraphs */
#define LOADED_HIGH BIT(0)    /* loadflags */
#define CAN_USE_HEAP BIT(7)
#define XLF_KERNEL_64 BIT(0) /* xloadflags: 64-bit entry at +0x200 */
#define ENTRY64_OFFSET 0x200
#define BZIMAGE_LOAD_DEFAULT 0x100000ULL /* LOADED_HIGH without pref_address */
#define LOADER_TYPE_UNDEFINED 0xff	 /* type_of_loader: no assigned id */
#define VID_MODE_NORMAL 0xffff		 /* vid_mode "normal" (80x25 text) */
#define E820_MAX_ZEROPAGE 128
#define ZERO_PAGE_SIZE 0x1000

/* SDM 3A 4.5: 4-level paging entries */
#define PTE_RW BIT(1)

/* boot.rst: the setup header, 0x1f1 to 0x26c (protocol 2.15) */
struct setup_header {
	u8 setup_sects;
	u16 root_flags;
	u32 syssize;
	u16 ram_size;
	u16 vid_mode;
	u16 root_dev;
	u16 boot_flag;
	u16 jump;
	u32 header;
	u16 version;
	u32 realmode_swtch;
	u16 start_sys_seg;
	u16 kernel_version;
	u8 type_of_loader;
	u8 loadflags;
	u16 setup_move_size;
	u32 code32_start;
	u32 ramdisk_image;
	u32 ramdisk_size;
	u32 bootsect_kludge;
	u16 heap_end_ptr;
	u8 ext_loader_ver;
	u8 ext_loader_type;
	u32 cmd_line_ptr;
	u32 initrd_addr_max;
	u32 kernel_alignment;
	u8 relocatable_kernel;
	u8 min_alignment;
	u16 xloadflags;
	u32 cmdline_size;
	u32 hardware_subarch;
	u64 hardware_subarch_data;
	u32 payload_offset;
	u32 payload_length;
	u64 setup_data;
	u64 pref_address;
	u32 init_size;
	u32 handover_offset;
	u32 kernel_info_offset;
} __packed;

#define HDR_OFF(f) (SETUP_HDR_OFFSET + offsetof(struct setup_header, f))
_Static_assert(HDR_OFF(syssize) == 0x1f4, "syssize");
_Static_assert(HDR_OFF(jump) == 0x200, "jump");
_Static_assert(HDR_OFF(header) == 0x202, "header");
_Static_assert(HDR_OFF(type_of_loader) == 0x210, "type_of_loader");
_Static_assert(HDR_OFF(code32_start) == 0x214, "code32_start");
_Static_assert(HDR_OFF(heap_end_ptr) == 0x224, "heap_end_ptr");
_Static_assert(HDR_OFF(cmd_line_ptr) == 0x228, "cmd_line_ptr");
_Static_assert(HDR_OFF(kernel_alignment) == 0x230, "kernel_alignment");
_Static_assert(HDR_OFF(xloadflags) == 0x236, "xloadflags");
_Static_assert(HDR_OFF(cmdline_size) == 0x238, "cmdline_size");
_Static_assert(HDR_OFF(payload_offset) == 0x248, "payload_offset");
_Static_assert(HDR_OFF(setup_data) == 0x250, "setup_data");
_Static_assert(HDR_OFF(pref_address) == 0x258, "pref_address");
_Static_assert(HDR_OFF(init_size) == 0x260, "init_size");
_Static_assert(sizeof(struct setup_header) == 0x26c - SETUP_HDR_OFFSET, "setup header");
/* the header must reach init_size, the last field the loader reads */
#define SETUP_HDR_MIN_END (HDR_OFF(init_size) + sizeof(u32))

/* zero-page.rst: struct boot_params, with only the fields we set named */
struct boot_params {
	u8 screen_info[0x40];
	u8 apm_bios_info[0x14];
	u8 pad_054[4];
	u64 tboot_addr;
	u8 ist_info[0x10];
	u64 acpi_rsdp_addr;
	u8 pad_078[0x48];
	u32 ext_ramdisk_image;
	u32 ext_ramdisk_size;
	u32 ext_cmd_line_ptr;
	u8 pad_0cc[0x1e8 - 0xcc];
	u8 e820_entries;
	u8 pad_1e9[6];
	u8 sentinel;
	u8 pad_1f0;
	struct setup_header hdr;
	u8 pad_26c[0x2d0 - 0x26c];
	struct loader_e820_entry e820_table[E820_MAX_ZEROPAGE];
	u8 pad_cd0[ZERO_PAGE_SIZE - 0xcd0];
} __packed;

_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x070, "acpi_rsdp_addr");
_Static_assert(offsetof(struct boot_params, ext_ramdisk_image) == 0x0c0, "ext_ramdisk_image");
_Static_assert(offsetof(struct boot_params, ext_cmd_line_ptr) == 0x0c8, "ext_cmd_line_ptr");
_Static_assert(offsetof(struct boot_params, e820_entries) == 0x1e8, "e820_entries");
_Static_assert(offsetof(struct boot_params, sentinel) == 0x1ef, "sentinel");
_Static_assert(offsetof(struct boot_params, hdr) == SETUP_HDR_OFFSET, "hdr");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0, "e820_table");
_Static_assert(sizeof(struct loader_e820_entry) == 20, "boot_e820_entry");
_Static_assert(sizeof(struct boot_params) == ZERO_PAGE_SIZE, "zero page");

/* the low structures fit where loader.h puts them */
_Static_assert(LINUX_PD_GPA + LINUX_PD_COUNT * PAGE_SIZE <= LINUX_ZERO_PAGE_GPA, "tables");
_Static_assert(LINUX_ZERO_PAGE_GPA + ZERO_PAGE_SIZE <= LINUX_CMDLINE_GPA, "zero page");
_Static_assert(LINUX_CMDLINE_GPA + LINUX_CMDLINE_AREA <= LINUX_LOW_END, "cmdline");

bool linux_probe(const u8 *image, u64 len)
{
	u32 magic;

	if (len < SETUP_MAGIC_OFFSET + sizeof(magic))
		return false;
	memcpy(&magic, image + SETUP_MAGIC_OFFSET, sizeof(magic));
	return magic == SETUP_MAGIC;
}

/* Checks the setup header and copies its first bytes to *h (the rest 0). */
static int read_header(const u8 *image, u64 len, struct setup_header *h, u64 *hdr_end, char *err,
		       size_t err_size)
{
	u16 version;

	if (!linux_probe(image, len))
		LOADER_FAIL("no Linux setup header (\"HdrS\" at 0x202): not a bzImage");
	if (image[SETUP_JUMP_OFFSET] != JMP_SHORT_OPCODE)
		LOADER_FAIL("its setup header does not start with a short jump");
	*hdr_end = SETUP_MAGIC_OFFSET + image[SETUP_JUMP_OFFSET + 1];
	if (*hdr_end < HDR_OFF(version) + sizeof(version) || *hdr_end > len)
		LOADER_FAIL("its setup header (to %#lx) is truncated", *hdr_end);
	memcpy(&version, image + HDR_OFF(version), sizeof(version));
	if (version < LINUX_PROTOCOL_MIN)
		LOADER_FAIL("its boot protocol %u.%02u is too old: 2.12 or later is needed",
			    version >> 8, version & 0xff);
	if (*hdr_end < SETUP_HDR_MIN_END || *hdr_end > SETUP_HDR_ROOM_END)
		LOADER_FAIL("its setup header ends at %#lx, outside [%#lx, %#x] for protocol "
			    "%u.%02u",
			    *hdr_end, SETUP_HDR_MIN_END, SETUP_HDR_ROOM_END, version >> 8,
			    version & 0xff);
	memset(h, 0, sizeof(*h));
	memcpy(h, image + SETUP_HDR_OFFSET, MIN(*hdr_end - SETUP_HDR_OFFSET, sizeof(*h)));
	return 0;
}

/* Where the kernel goes and what it needs, from a checked header. */
struct bz_layout {
	u64 setup_size;	 /* file offset of the protected-mode kernel */
	u64 kernel_size; /* its bytes in the file (syssize) */
	u64 load;	 /* guest address it is copied to */
	u64 kernel_end;	 /* runtime start + init_size */
};

static int check_kernel(const struct setup_header *h, u64 len, u64 low_end, struct bz_layout *l,
			char *err, size_t err_size)
{
	u32 sects = h->setup_sects ? h->setup_sects : SETUP_SECTS_DEFAULT;
	u64 runtime;

	l->setup_size = (u64)(sects + 1) * SECTOR_SIZE;
	if (l->setup_size > len)
		LOADER_FAIL("its setup code (%u sectors) runs past the end of the file (%lu bytes)",
			    sects, len);
	if (!(h->loadflags & LOADED_HIGH))
		LOADER_FAIL("it is a zImage (LOADED_HIGH clear), not a bzImage");
	l->kernel_size = (u64)h->syssize * SYSSIZE_UNIT;
	if (!l->kernel_size)
		LOADER_FAIL("its setup header gives no kernel size (syssize 0)");
	if (l->kernel_size > len - l->setup_size)
		LOADER_FAIL("the file is truncated: its kernel needs %lu bytes after the setup "
			    "code, the file has %lu",
			    l->kernel_size, len - l->setup_size);
	if (!h->payload_length || (u64)h->payload_offset + h->payload_length > l->kernel_size)
		LOADER_FAIL("its payload [%#x, +%#x) lies outside its kernel (%#lx bytes)",
			    h->payload_offset, h->payload_length, l->kernel_size);
	/* boot.rst, 64-bit boot protocol: its entry is 0x200 into the kernel */
	if ((h->xloadflags & XLF_KERNEL_64) && l->kernel_size <= ENTRY64_OFFSET)
		LOADER_FAIL("its 64-bit entry point (+%#x) lies past its kernel (%#lx bytes)",
			    ENTRY64_OFFSET, l->kernel_size);
	if (h->init_size < l->kernel_size)
		LOADER_FAIL("its init_size %#x is smaller than its kernel (%#lx bytes)",
			    h->init_size, l->kernel_size);
	if (h->relocatable_kernel &&
	    (!h->kernel_alignment || (h->kernel_alignment & (h->kernel_alignment - 1))))
		LOADER_FAIL("its kernel_alignment %#x is not a power of two", h->kernel_alignment);

	l->load = h->pref_address ? h->pref_address : BZIMAGE_LOAD_DEFAULT;
	if (l->load < LINUX_LOAD_MIN || l->load >= low_end)
		LOADER_FAIL("its load address %#lx is not in the partition's low RAM [1 MiB, %#lx)",
			    l->load, low_end);
	/* boot.rst, init_size: the kernel runtime start address */
	runtime = h->relocatable_kernel ? ALIGN_UP(l->load, (u64)h->kernel_alignment) : l->load;
	if (runtime >= low_end || h->init_size > low_end - runtime)
		LOADER_FAIL("it needs RAM up to %#lx (load address %#lx, init_size %#x) but the "
			    "partition's low RAM ends at %#lx",
			    runtime + h->init_size, l->load, h->init_size, low_end);
	l->kernel_end = runtime + h->init_size;
	return 0;
}

/* [0, 4 GiB) identity-mapped with 2 MiB pages (SDM 3A 4.5, figure 4-9). */
static bool build_page_tables(const struct guest_mem *mem)
{
	u64 *pml4 = mem->ptr(mem->ctx, LINUX_PML4_GPA, PAGE_SIZE);
	u64 *pdpt = mem->ptr(mem->ctx, LINUX_PDPT_GPA, PAGE_SIZE);
	u64 *pd = mem->ptr(mem->ctx, LINUX_PD_GPA, LINUX_PD_COUNT * PAGE_SIZE);

	if (!pml4 || !pdpt || !pd)
		return false;
	memset(pml4, 0, PAGE_SIZE);
	memset(pdpt, 0, PAGE_SIZE);
	pml4[0] = LINUX_PDPT_GPA | PTE_P | PTE_RW;
	for (u64 i = 0; i < LINUX_PD_COUNT; i++)
		pdpt[i] = (LINUX_PD_GPA + i * PAGE_SIZE) | PTE_P | PTE_RW;
	for (u64 i = 0; i < LINUX_PD_COUNT * PT_ENTRIES; i++)
		pd[i] = i * LARGE_PAGE_SIZE | PTE_P | PTE_RW | PTE_PS;
	return true;
}

static void fill_zero_page(struct boot_params *zp, const u8 *image, u64 hdr_end,
			   const struct bz_layout *l, u64 initrd_gpa, u64 initrd_len, u64 rsdp_gpa,
			   const struct loader_e820_entry *map, u32 entries)
{
	/* boot.rst, 32/64-bit boot protocol: zeroed, then the setup header from
	 * the image, then the fields a boot loader writes */
	memset(zp, 0, sizeof(*zp));
	memcpy((u8 *)zp + SETUP_HDR_OFFSET, image + SETUP_HDR_OFFSET, hdr_end - SETUP_HDR_OFFSET);
	zp->hdr.vid_mode = VID_MODE_NORMAL;
	zp->hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
	/* no setup code runs, so no heap for it */
	zp->hdr.loadflags = (u8)((zp->hdr.loadflags | LOADED_HIGH) & ~CAN_USE_HEAP);
	zp->hdr.heap_end_ptr = 0;
	zp->hdr.code32_start = (u32)l->load;
	zp->hdr.cmd_line_ptr = (u32)LINUX_CMDLINE_GPA;
	zp->ext_cmd_line_ptr = (u32)(LINUX_CMDLINE_GPA >> 32);
	zp->hdr.ramdisk_image = (u32)initrd_gpa;
	zp->ext_ramdisk_image = (u32)(initrd_gpa >> 32);
	zp->hdr.ramdisk_size = (u32)initrd_len;
	zp->ext_ramdisk_size = (u32)(initrd_len >> 32);
	zp->hdr.setup_data = 0;
	zp->acpi_rsdp_addr = rsdp_gpa; /* protocol 2.14+; older kernels scan the BIOS area */
	zp->e820_entries = (u8)entries;
	memcpy(zp->e820_table, map, entries * sizeof(map[0]));
}

int linux_load(const u8 *image, u64 len, const char *cmdline, const struct loader_module *initrd,
	       u64 rsdp_gpa, const struct guest_mem *mem, struct loader_entry *entry, char *err,
	       size_t err_size)
{
	struct loader_e820_entry map[LOADER_E820_MAX];
	struct setup_header h;
	struct bz_layout l;
	struct boot_params *zp;
	u64 hdr_end, initrd_gpa = 0, initrd_len = 0;
	bool long_mode;
	int n, rc;

	rc = read_header(image, len, &h, &hdr_end, err, err_size);
	if (rc)
		return rc;
	n = loader_e820(mem, map, ARRAY_SIZE(map), err, err_size);
	if (n < 0)
		return n;
	rc = check_kernel(&h, len, mem->regions[0].size, &l, err, err_size);
	if (rc)
		return rc;
	rc = loader_put_cmdline(mem, cmdline, h.cmdline_size, err, err_size);
	if (rc)
		return rc;
	if (initrd && initrd->len) {
		/* boot.rst, initrd_addr_max: the address of the highest safe byte */
		u64 top = MIN((u64)h.initrd_addr_max + 1, mem->regions[0].size);

		rc = loader_put_initrd(mem, initrd, l.kernel_end, top, &initrd_gpa, err, err_size);
		if (rc)
			return rc;
		initrd_len = initrd->len;
	}
	if (!loader_copy(mem, l.load, image + l.setup_size, l.kernel_size, 0))
		LOADER_FAIL("its kernel at %#lx (%lu bytes) is outside the partition's RAM", l.load,
			    l.kernel_size);
	zp = mem->ptr(mem->ctx, LINUX_ZERO_PAGE_GPA, sizeof(*zp));
	long_mode = h.xloadflags & XLF_KERNEL_64;
	if (!zp || !loader_boot_gdt(mem, long_mode, entry) ||
	    (long_mode && !build_page_tables(mem)))
		LOADER_FAIL("the partition's RAM does not hold the boot structures below %#llx",
			    LINUX_LOW_END);
	fill_zero_page(zp, image, hdr_end, &l, initrd_gpa, initrd_len, rsdp_gpa, map, (u32)n);

	entry->rsi = LINUX_ZERO_PAGE_GPA;
	entry->rax = entry->rbx = 0;
	if (long_mode) {
		entry->mode = LOADER_ENTRY_LONG64;
		entry->rip = l.load + ENTRY64_OFFSET;
		entry->cr3 = LINUX_PML4_GPA;
	} else {
		entry->mode = LOADER_ENTRY_PROTECTED32;
		entry->rip = l.load;
		entry->cr3 = 0;
	}
	return 0;
}
