/*
 * Multiboot1 guest loader (Multiboot Specification 0.6.96, sections 3.1-3.3):
 * the kernel is entered as GRUB would, in flat 32-bit protected mode with
 * paging off, EAX = 0x2BADB002 and EBX = the information structure, which
 * describes exactly the partition's RAM.
 */
#include "hv/loader/mb1.h"
#include "boot/multiboot.h"
#include "hv/hw/elf.h"
#include "hv/lib/lib.h"

#define MB1_FLAG_AOUT_KLUDGE BIT(16)
#define MB1_REQUIRED_MASK 0xffffU	/* bits 0-15: the loader must honour them */
#define MB1_SUPPORTED (BIT(0) | BIT(1)) /* page-aligned modules, memory info */
#define MB1_VIDEO BIT(2)		/* optional for us: text console only */
#define GUEST_BIOS_HOLE 0x9fc00ULL
#define GUEST_1M 0x100000ULL
#define ENTRY_NONE (~0ULL) /* no segment holds e_entry (yet) */

/*
 * What the loader itself places, or the map it hands over reserves: an image
 * may go anywhere else in RAM, below 1 MiB too (low-linked kernels exist,
 * and GRUB and QEMU load them). The modules follow the image above 1 MiB.
 */
static const struct {
	u64 start, end;
	const char *what;
} taken[] = {
	{ MB1_INFO_GPA, MB1_INFO_LIMIT, "the Multiboot information area" },
	/* DESIGN.md guest layout: BIOS area and ACPI tables, e820-reserved */
	{ GUEST_BIOS_HOLE, GUEST_1M, "the reserved BIOS area and ACPI tables" },
};

/* [start, end) may hold the image; else a message in err. */
static int image_range_free(u64 start, u64 end, char *err, size_t err_size)
{
	for (size_t i = 0; i < ARRAY_SIZE(taken); i++)
		if (start < taken[i].end && end > taken[i].start)
			LOADER_FAIL("its image [%#lx, %#lx) overlaps %s [%#lx, %#lx)", start, end,
				    taken[i].what, taken[i].start, taken[i].end);
	return 0;
}

struct mb1_header {
	u32 magic, flags, checksum;
	u32 header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
} __packed;

static const struct mb1_header *find_header(const u8 *image, u64 len, u64 *off)
{
	for (u64 o = 0; o + sizeof(struct mb1_header) <= MIN(len, MB1_SEARCH_LEN); o += 4) {
		const struct mb1_header *h = (const void *)(image + o);

		if (h->magic == MB1_HEADER_MAGIC && (u32)(h->magic + h->flags + h->checksum) == 0) {
			*off = o;
			return h;
		}
	}
	return NULL;
}

bool mb1_probe(const u8 *image, u64 len)
{
	u64 off;

	return find_header(image, len, &off) != NULL;
}

static int load_elf(const u8 *image, u64 len, const struct guest_mem *mem, u64 *end, u64 *entry,
		    char *err, size_t err_size)
{
	const struct elf32_ehdr *eh = (const void *)image;

	if (len < sizeof(*eh) || eh->magic != ELF_MAGIC)
		LOADER_FAIL("not an ELF file and no a.out kludge in its Multiboot header");
	if (eh->cls != ELFCLASS32 || eh->data != ELFDATA2LSB || eh->machine != EM_386 ||
	    eh->type != ET_EXEC)
		LOADER_FAIL("not a 32-bit x86 executable ELF (Multiboot1 kernels are)");
	if (eh->phentsize != sizeof(struct elf32_phdr) ||
	    (u64)eh->phoff + (u64)eh->phnum * sizeof(struct elf32_phdr) > len)
		LOADER_FAIL("ELF program headers lie outside the file");
	*end = 0;
	*entry = ENTRY_NONE;
	for (u32 i = 0; i < eh->phnum; i++) {
		const struct elf32_phdr *ph = (const void *)(image + eh->phoff + i * sizeof(*ph));

		if (ph->type != PT_LOAD || !ph->memsz)
			continue;
		if (ph->filesz > ph->memsz)
			LOADER_FAIL("ELF segment %u is larger in the file than in memory", i);
		if ((u64)ph->offset + ph->filesz > len)
			LOADER_FAIL("ELF segment %u lies outside the file", i);
		if (image_range_free(ph->paddr, (u64)ph->paddr + ph->memsz, err, err_size))
			return -E_INVAL;
		if (!loader_copy(mem, ph->paddr, image + ph->offset, ph->filesz,
				 ph->memsz - ph->filesz))
			LOADER_FAIL("ELF segment %u at %#x (%u bytes) is outside the partition's "
				    "RAM",
				    i, ph->paddr, ph->memsz);
		*end = MAX(*end, (u64)ph->paddr + ph->memsz);
		/* e_entry is virtual: start at its physical address (as GRUB 2) */
		if (eh->entry >= ph->vaddr && eh->entry - ph->vaddr < ph->memsz)
			*entry = (u64)ph->paddr + (eh->entry - ph->vaddr);
	}
	if (!*end)
		LOADER_FAIL("ELF file has nothing to load");
	if (*entry == ENTRY_NONE)
		LOADER_FAIL("its entry point %#x is not in a loaded ELF segment", eh->entry);
	return 0;
}

static int load_aout(const u8 *image, u64 len, const struct mb1_header *h, u64 hoff,
		     const struct guest_mem *mem, u64 *end, u64 *entry, char *err, size_t err_size)
{
	/* Multiboot 3.1.3: header_addr corresponds to the header's file offset */
	u64 file_start, load_len, bss_end;

	if (h->header_addr < h->load_addr || h->header_addr - h->load_addr > hoff)
		LOADER_FAIL("Multiboot header addresses are inconsistent");
	file_start = hoff - (h->header_addr - h->load_addr);
	load_len = h->load_end_addr ? (u64)h->load_end_addr - h->load_addr : len - file_start;
	if (h->load_end_addr && h->load_end_addr < h->load_addr)
		LOADER_FAIL("Multiboot load_end_addr is below load_addr");
	if (file_start + load_len > len)
		LOADER_FAIL("the image is shorter than its Multiboot header says");
	bss_end = h->bss_end_addr ? h->bss_end_addr : h->load_addr + load_len;
	if (bss_end < h->load_addr + load_len)
		LOADER_FAIL("Multiboot bss_end_addr is below the loaded image");
	if (image_range_free(h->load_addr, bss_end, err, err_size))
		return -E_INVAL;
	if (h->entry_addr < h->load_addr || h->entry_addr >= bss_end)
		LOADER_FAIL("its entry point %#x is not in its loaded image", h->entry_addr);
	if (!loader_copy(mem, h->load_addr, image + file_start, load_len,
			 bss_end - h->load_addr - load_len))
		LOADER_FAIL("the image at %#x (%lu bytes) is outside the partition's RAM",
			    h->load_addr, bss_end - h->load_addr);
	*end = bss_end;
	*entry = h->entry_addr;
	return 0;
}

/* The information structure and what it points to, built at MB1_INFO_GPA. */
struct info_builder {
	u8 buf[MB1_INFO_LIMIT - MB1_INFO_GPA];
	u64 used;
};

static u32 info_add(struct info_builder *b, const void *data, u64 len)
{
	u64 at = ALIGN_UP(b->used, 8);

	if (at + len > sizeof(b->buf))
		return 0;
	memcpy(b->buf + at, data, len);
	b->used = at + len;
	return (u32)(MB1_INFO_GPA + at);
}

static u32 add_mmap(struct info_builder *b, const struct guest_mem *mem, u32 *length)
{
	struct mb1_mmap_entry e[2 * LOADER_MAX_REGIONS + 1];
	u32 n = 0;

	for (u32 i = 0; i < mem->region_count; i++) {
		u64 base = mem->regions[i].gpa, size = mem->regions[i].size;

		if (base == 0 && size > GUEST_1M) {
			/* the PC hole below 1 MiB (DESIGN.md, guest layout) */
			e[n++] = (struct mb1_mmap_entry){ 20, 0, GUEST_BIOS_HOLE, E820_RAM };
			e[n++] = (struct mb1_mmap_entry){ 20, GUEST_BIOS_HOLE,
							  GUEST_1M - GUEST_BIOS_HOLE,
							  E820_RESERVED };
			base = GUEST_1M;
			size -= GUEST_1M;
		}
		e[n++] = (struct mb1_mmap_entry){ 20, base, size, E820_RAM };
	}
	*length = n * sizeof(e[0]);
	return info_add(b, e, *length);
}

int mb1_load_modules(const u8 *image, u64 len, const char *cmdline,
		     const struct loader_module *mods, u32 mod_count, const struct guest_mem *mem,
		     struct loader_entry *entry, char *err, size_t err_size)
{
	static struct info_builder b; /* too big for the stack; loads are serialised */
	struct mb1_info info = { 0 };
	struct mb1_module modv[4];
	u64 hoff, end, rip;
	u32 mmap_length;
	bool fits = true;
	const struct mb1_header *h = find_header(image, len, &hoff);
	int rc;

	if (!h)
		LOADER_FAIL("no Multiboot1 header in its first 8 KiB");
	if (h->flags & MB1_REQUIRED_MASK & ~(MB1_SUPPORTED | MB1_VIDEO))
		LOADER_FAIL("it requires Multiboot features %#x that Tessera does not offer",
			    (u32)(h->flags & MB1_REQUIRED_MASK & ~(MB1_SUPPORTED | MB1_VIDEO)));
	if (mod_count > ARRAY_SIZE(modv))
		LOADER_FAIL("too many modules");
	if (h->flags & MB1_FLAG_AOUT_KLUDGE)
		rc = load_aout(image, len, h, hoff, mem, &end, &rip, err, err_size);
	else
		rc = load_elf(image, len, mem, &end, &rip, err, err_size);
	if (rc)
		return rc;
	if (!mem->ptr(mem->ctx, rip, 1))
		LOADER_FAIL("its entry point %#lx is not in its loaded image", rip);

	/* modules follow the image, page-aligned (flag bit 0), and the areas
	 * below 1 MiB */
	end = MAX(end, GUEST_1M);
	for (u32 i = 0; i < mod_count; i++) {
		u64 at = ALIGN_UP(end, PAGE_SIZE);

		if (!loader_copy(mem, at, mods[i].data, mods[i].len, 0))
			LOADER_FAIL("module %s (%lu bytes) does not fit in the partition's RAM",
				    mods[i].name, mods[i].len);
		modv[i] = (struct mb1_module){ (u32)at, (u32)(at + mods[i].len), 0, 0 };
		end = at + mods[i].len;
	}

	memset(&b, 0, sizeof(b));
	info.flags = MB1_INFO_MEMORY | MB1_INFO_CMDLINE | MB1_INFO_MMAP | MB1_INFO_MODS |
		     MB1_INFO_LOADER_NAME;
	info.mem_lower = (u32)(GUEST_BIOS_HOLE / KiB);
	info.mem_upper = (u32)((mem->regions[0].size - GUEST_1M) / KiB);
	info.cmdline = info_add(&b, cmdline, strlen(cmdline) + 1);
	info.boot_loader_name = info_add(&b, "Tessera", sizeof("Tessera"));
	for (u32 i = 0; i < mod_count; i++) {
		modv[i].cmdline = info_add(&b, mods[i].name, strlen(mods[i].name) + 1);
		fits &= modv[i].cmdline != 0;
	}
	info.mods_count = mod_count;
	if (mod_count) {
		info.mods_addr = info_add(&b, modv, mod_count * sizeof(modv[0]));
		fits &= info.mods_addr != 0;
	}
	info.mmap_addr = add_mmap(&b, mem, &mmap_length);
	info.mmap_length = mmap_length;
	entry->rbx = info_add(&b, &info, sizeof(info));
	if (!fits || !info.cmdline || !info.boot_loader_name || !info.mmap_addr || !entry->rbx)
		LOADER_FAIL("its command line and modules do not fit the information area");
	if (!loader_copy(mem, MB1_INFO_GPA, b.buf, b.used, 0))
		LOADER_FAIL("the partition's RAM does not reach the information area");

	entry->mode = LOADER_ENTRY_PROTECTED32;
	entry->rip = rip;
	entry->rax = MB1_BOOT_MAGIC;
	entry->rsi = 0;
	return 0;
}

int mb1_load(const u8 *image, u64 len, const char *cmdline, const struct loader_module *initrd,
	     u64 rsdp_gpa, const struct guest_mem *mem, struct loader_entry *entry, char *err,
	     size_t err_size)
{
	(void)rsdp_gpa;
	return mb1_load_modules(image, len, cmdline ? cmdline : "", initrd, initrd ? 1 : 0, mem,
				entry, err, err_size);
}
