/*
 * What the guest loaders share (see hv/loader/loader.h): the table of
 * formats, and the helpers for the e820 map, the boot GDT, the command line
 * and the initrd that the Linux bzImage and PVH loaders use.
 */
#include "hv/loader/loader.h"
#include "boot/multiboot.h"
#include "hv/lib/lib.h"
#include "hv/loader/linux.h"
#include "hv/loader/mb1.h"
#include "hv/loader/pvh.h"
#include "hv/vdev/platform.h"

/* SDM 3A 3.4.5: segment descriptor fields */
#define DESC_LIMIT_LOW 0xffffULL       /* limit 15:0 */
#define DESC_LIMIT_HIGH (0xfULL << 48) /* limit 19:16 */
#define DESC_TYPE_SHIFT 40
#define DESC_TYPE_CODE_RX 0xbULL /* execute/read, accessed */
#define DESC_TYPE_DATA_RW 0x3ULL /* read/write, accessed */
#define DESC_S BIT(44)		 /* code or data */
#define DESC_P BIT(47)
#define DESC_L BIT(53)	/* 64-bit code */
#define DESC_DB BIT(54) /* 32-bit segment */
#define DESC_G BIT(55)	/* limit in 4 KiB units */
#define DESC_FLAT (DESC_LIMIT_LOW | DESC_LIMIT_HIGH | DESC_S | DESC_P | DESC_G)
#define GDT_CODE64 (DESC_FLAT | DESC_TYPE_CODE_RX << DESC_TYPE_SHIFT | DESC_L)
#define GDT_CODE32 (DESC_FLAT | DESC_TYPE_CODE_RX << DESC_TYPE_SHIFT | DESC_DB)
#define GDT_DATA (DESC_FLAT | DESC_TYPE_DATA_RW << DESC_TYPE_SHIFT | DESC_DB)

_Static_assert(LINUX_LOW_END <= GUEST_BIOS_HOLE_START, "low structures are RAM");
_Static_assert(PLAT_ACPI_BASE >= GUEST_BIOS_HOLE_START &&
		       PLAT_ACPI_BASE + PLAT_ACPI_SIZE <= GUEST_BIOS_HOLE_END,
	       "ACPI is reserved");
_Static_assert(LINUX_LOAD_MIN == GUEST_BIOS_HOLE_END, "images start above the hole");

/* ---- formats ---- */

/* In probe order, which matters: a bzImage may carry a Multiboot header
 * too, and a Multiboot kernel may be an ELF64 file; an image goes to the
 * first format that accepts it. */
static const struct loader_format formats[] = {
	{ "Linux bzImage", linux_probe, linux_load },
	{ "Multiboot1 kernel", mb1_probe, mb1_load },
	{ "PVH vmlinux", pvh_probe, pvh_load },
};

int loader_load(const u8 *image, u64 len, const char *cmdline, const struct loader_module *initrd,
		u64 rsdp_gpa, const struct guest_mem *mem, struct loader_entry *entry, char *err,
		size_t err_size)
{
	int n;

	for (u32 i = 0; i < ARRAY_SIZE(formats); i++)
		if (formats[i].probe(image, len))
			return formats[i].load(image, len, cmdline, initrd, rsdp_gpa, mem, entry,
					       err, err_size);
	/* "not a A, a B or a C" */
	n = snprintf(err, err_size, "not");
	for (u32 i = 0; i < ARRAY_SIZE(formats) && n >= 0 && (size_t)n < err_size; i++)
		n += snprintf(err + n, err_size - (size_t)n, "%s a %s",
			      i == 0			  ? "" :
			      i + 1 < ARRAY_SIZE(formats) ? "," :
							    " or",
			      formats[i].name);
	return -E_INVAL;
}

/* ---- helpers ---- */

bool loader_copy(const struct guest_mem *mem, u64 gpa, const void *src, u64 len, u64 zero_len)
{
	u8 *dst;

	if (len + zero_len < len || gpa + len + zero_len < gpa)
		return false;
	dst = mem->ptr(mem->ctx, gpa, len + zero_len);
	if (!dst)
		return false;
	memcpy(dst, src, len);
	memset(dst + len, 0, zero_len);
	return true;
}

static void e820_add(struct loader_e820_entry *map, u32 *n, u64 addr, u64 size, u32 type)
{
	map[(*n)++] = (struct loader_e820_entry){ addr, size, type };
}

int loader_e820(const struct guest_mem *mem, struct loader_e820_entry *map, u32 max, char *err,
		size_t err_size)
{
	struct loader_e820_entry e[LOADER_E820_MAX];
	u32 n = 0;

	if (!mem->region_count || mem->region_count > LOADER_MAX_REGIONS ||
	    mem->regions[0].gpa != 0 || mem->regions[0].size <= GUEST_BIOS_HOLE_END)
		LOADER_FAIL("the partition's RAM must start at 0 and reach beyond 1 MiB");
	/* DESIGN.md guest layout: the PC hole below 1 MiB holds the BIOS area
	 * and the ACPI tables (PLAT_ACPI_BASE) */
	e820_add(e, &n, 0, GUEST_BIOS_HOLE_START, E820_RAM);
	e820_add(e, &n, GUEST_BIOS_HOLE_START, GUEST_BIOS_HOLE_END - GUEST_BIOS_HOLE_START,
		 E820_RESERVED);
	e820_add(e, &n, GUEST_BIOS_HOLE_END, mem->regions[0].size - GUEST_BIOS_HOLE_END, E820_RAM);
	/* Linux uses ECAM only if the firmware reserves it (arch/x86/pci/mmconfig-shared.c);
	 * the I/O APIC and local APIC pages stay out, as on PCs: Linux claims
	 * them from the MADT */
	e820_add(e, &n, PLAT_ECAM_BASE, PLAT_ECAM_SIZE, E820_RESERVED);
	for (u32 i = 1; i < mem->region_count; i++)
		e820_add(e, &n, mem->regions[i].gpa, mem->regions[i].size, E820_RAM);
	/* sorted by address, then no overlap and no wrap */
	for (u32 i = 1; i < n; i++)
		for (u32 j = i; j > 0 && e[j].addr < e[j - 1].addr; j--) {
			struct loader_e820_entry t = e[j];

			e[j] = e[j - 1];
			e[j - 1] = t;
		}
	for (u32 i = 0; i < n; i++)
		if (!e[i].size || e[i].addr + e[i].size < e[i].addr ||
		    (i + 1 < n && e[i].addr + e[i].size > e[i + 1].addr))
			LOADER_FAIL("the partition's RAM [%#lx, +%#lx) overlaps the ECAM window "
				    "or other RAM",
				    e[i].addr, e[i].size);
	if (n > max)
		LOADER_FAIL("the e820 map has %u entries, room for %u", n, max);
	memcpy(map, e, n * sizeof(e[0]));
	return (int)n;
}

bool loader_boot_gdt(const struct guest_mem *mem, bool long_mode, struct loader_entry *entry)
{
	/* boot.rst (32-bit and 64-bit boot protocols): flat __BOOT_CS
	 * execute/read and __BOOT_DS read/write, 4 GiB */
	const u64 gdt[LINUX_GDT_ENTRIES] = {
		[LINUX_BOOT_CS / 8] = long_mode ? GDT_CODE64 : GDT_CODE32,
		[LINUX_BOOT_DS / 8] = GDT_DATA,
	};

	if (!loader_copy(mem, LINUX_GDT_GPA, gdt, sizeof(gdt), 0))
		return false;
	entry->gdt_base = LINUX_GDT_GPA;
	entry->gdt_limit = sizeof(gdt) - 1;
	entry->code_sel = LINUX_BOOT_CS;
	entry->data_sel = LINUX_BOOT_DS;
	return true;
}

int loader_put_cmdline(const struct guest_mem *mem, const char *cmdline, u64 max_chars, char *err,
		       size_t err_size)
{
	u64 n = cmdline ? strlen(cmdline) : 0;

	if (n > max_chars || n >= LINUX_CMDLINE_AREA)
		LOADER_FAIL("its command line has %lu characters; the kernel takes at most %lu", n,
			    MIN(max_chars, (u64)LINUX_CMDLINE_AREA - 1));
	if (!loader_copy(mem, LINUX_CMDLINE_GPA, cmdline ? cmdline : "", n, 1))
		LOADER_FAIL("the partition's RAM does not hold the command line at %#llx",
			    LINUX_CMDLINE_GPA);
	return 0;
}

int loader_put_initrd(const struct guest_mem *mem, const struct loader_module *initrd, u64 bottom,
		      u64 top, u64 *gpa, char *err, size_t err_size)
{
	u64 at;

	if (top < bottom || initrd->len > top - bottom ||
	    ALIGN_DOWN(top - initrd->len, PAGE_SIZE) < bottom)
		LOADER_FAIL("initrd %s (%lu bytes) does not fit in [%#lx, %#lx) after the kernel",
			    initrd->name ? initrd->name : "", initrd->len, bottom, top);
	at = ALIGN_DOWN(top - initrd->len, PAGE_SIZE);
	if (!loader_copy(mem, at, initrd->data, initrd->len, 0))
		LOADER_FAIL("initrd %s at %#lx (%lu bytes) is outside the partition's RAM",
			    initrd->name ? initrd->name : "", at, initrd->len);
	*gpa = at;
	return 0;
}
