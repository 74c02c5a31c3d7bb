/*
 * PVH loader: an uncompressed ELF64 vmlinux entered at its
 * XEN_ELFNOTE_PHYS32_ENTRY, the x86/HVM direct boot ABI of Xen's
 * docs/misc/pvh.pandoc that Firecracker and cloud-hypervisor also use.
 * Nothing is decompressed in the guest, which is why it boots much faster
 * under emulation than the bzImage of the same kernel.
 *
 * The segments go at their physical addresses (p_paddr; Linux 6.1 does not
 * relocate itself on this path), the start info structure (Xen
 * public/arch-x86/hvm/start_info.h, version 1) at LINUX_ZERO_PAGE_GPA with
 * the module list and memory map after it, the command line at
 * LINUX_CMDLINE_GPA, the initrd (module 0, which Linux takes as its
 * ramdisk: arch/x86/platform/pvh/enlighten.c) as high in low RAM as fits.
 * The entry state is flat 32-bit protected mode, paging off, EBX = the
 * start info (loader.h).
 */
#include "hv/loader/pvh.h"
#include "hv/hw/elf.h"
#include "hv/lib/lib.h"

/* ELF-64 Object File Format 1.5, and the System V gABI for notes */
#define NOTE_ALIGN 4
#define XEN_NOTE_NAME "Xen" /* with its NUL: namesz 4 */
#define PHYS32_LIMIT 0x100000000ULL

/* Xen public/arch-x86/hvm/start_info.h, version 1 */
struct hvm_start_info {
	u32 magic, version, flags, nr_modules;
	u64 modlist_paddr, cmdline_paddr, rsdp_paddr;
	u64 memmap_paddr;
	u32 memmap_entries, reserved;
} __packed;

struct hvm_modlist_entry {
	u64 paddr, size, cmdline_paddr, reserved;
} __packed;

struct hvm_memmap_entry {
	u64 addr, size;
	u32 type, reserved; /* XEN_HVM_MEMMAP_TYPE_* = the e820 types */
} __packed;

_Static_assert(offsetof(struct hvm_start_info, modlist_paddr) == 16, "modlist_paddr");
_Static_assert(offsetof(struct hvm_start_info, rsdp_paddr) == 32, "rsdp_paddr");
_Static_assert(offsetof(struct hvm_start_info, memmap_paddr) == 40, "memmap_paddr");
_Static_assert(offsetof(struct hvm_start_info, memmap_entries) == 48, "memmap_entries");
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry");
_Static_assert(sizeof(struct hvm_memmap_entry) == 24, "hvm_memmap_table_entry");

/* the start info page: the structure, module 0, the memory map */
#define PVH_START_INFO_GPA LINUX_ZERO_PAGE_GPA
#define PVH_MODLIST_GPA (PVH_START_INFO_GPA + 0x40)
#define PVH_MEMMAP_GPA (PVH_MODLIST_GPA + 0x40)
_Static_assert(PVH_START_INFO_GPA + sizeof(struct hvm_start_info) <= PVH_MODLIST_GPA, "");
_Static_assert(PVH_MODLIST_GPA + sizeof(struct hvm_modlist_entry) <= PVH_MEMMAP_GPA, "");
_Static_assert(PVH_MEMMAP_GPA + LOADER_E820_MAX * sizeof(struct hvm_memmap_entry) <=
		       LINUX_CMDLINE_GPA,
	       "the memory map fits before the command line");

static bool is_elf64_x86(const u8 *image, u64 len)
{
	const struct elf64_ehdr *eh = (const void *)image;

	return len >= sizeof(*eh) && eh->magic == ELF_MAGIC && eh->cls == ELFCLASS64 &&
	       eh->data == ELFDATA2LSB && eh->machine == EM_X86_64;
}

bool pvh_probe(const u8 *image, u64 len)
{
	return is_elf64_x86(image, len);
}

static const struct elf64_phdr *phdr(const u8 *image, u32 i)
{
	const struct elf64_ehdr *eh = (const void *)image;

	return (const void *)(image + eh->phoff + (u64)i * sizeof(struct elf64_phdr));
}

static int check_ehdr(const u8 *image, u64 len, char *err, size_t err_size)
{
	const struct elf64_ehdr *eh = (const void *)image;

	if (len < sizeof(*eh) || eh->magic != ELF_MAGIC)
		LOADER_FAIL("not an ELF file");
	if (!is_elf64_x86(image, len))
		LOADER_FAIL("not a 64-bit little-endian x86-64 ELF file (class %u, machine %u)",
			    eh->cls, eh->machine);
	if (eh->type != ET_EXEC)
		LOADER_FAIL("not an executable ELF file (type %u)", eh->type);
	if (!eh->phnum || eh->phentsize != sizeof(struct elf64_phdr) || eh->phoff > len ||
	    (u64)eh->phnum * sizeof(struct elf64_phdr) > len - eh->phoff)
		LOADER_FAIL("its ELF program headers lie outside the file");
	return 0;
}

/* Looks through one PT_NOTE segment for the Xen PHYS32_ENTRY note. */
static int scan_notes(const u8 *image, u64 len, const struct elf64_phdr *ph, u32 i, bool *found,
		      u64 *entry, char *err, size_t err_size)
{
	u64 at, end;

	if (ph->offset > len || ph->filesz > len - ph->offset)
		LOADER_FAIL("its ELF note segment %u lies outside the file", i);
	at = ph->offset;
	end = ph->offset + ph->filesz;
	while (end - at >= sizeof(struct elf_note)) {
		struct elf_note n;
		u64 name, desc, next;

		memcpy(&n, image + at, sizeof(n));
		name = at + sizeof(n);
		desc = name + ALIGN_UP((u64)n.namesz, NOTE_ALIGN);
		next = desc + ALIGN_UP((u64)n.descsz, NOTE_ALIGN);
		if (desc > end || next > end)
			LOADER_FAIL("an ELF note in segment %u runs past its end", i);
		if (n.type == XEN_ELFNOTE_PHYS32_ENTRY && n.namesz == sizeof(XEN_NOTE_NAME) &&
		    !memcmp(image + name, XEN_NOTE_NAME, sizeof(XEN_NOTE_NAME))) {
			/* a 32-bit value; Linux 6.1 stores it pointer-sized */
			u64 v = 0;

			if (n.descsz != sizeof(u32) && n.descsz != sizeof(u64))
				LOADER_FAIL("its PVH entry note holds %u bytes, not 4 or 8",
					    n.descsz);
			memcpy(&v, image + desc, n.descsz);
			if (v >= PHYS32_LIMIT)
				LOADER_FAIL("its PVH entry %#lx is not a 32-bit address", v);
			*found = true;
			*entry = v;
			return 0;
		}
		at = next;
	}
	return 0;
}

static int find_entry(const u8 *image, u64 len, u64 *entry, char *err, size_t err_size)
{
	const struct elf64_ehdr *eh = (const void *)image;
	bool found = false;

	for (u32 i = 0; i < eh->phnum && !found; i++) {
		const struct elf64_phdr *ph = phdr(image, i);
		int rc;

		if (ph->type != PT_NOTE)
			continue;
		rc = scan_notes(image, len, ph, i, &found, entry, err, err_size);
		if (rc)
			return rc;
	}
	if (!found)
		LOADER_FAIL("no PVH entry (Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY): a vmlinux built "
			    "without CONFIG_PVH?");
	return 0;
}

/* Checks every PT_LOAD segment before anything is written; *kernel_end is
 * the end of the highest one in low RAM. */
static int check_segments(const u8 *image, u64 len, const struct guest_mem *mem, u64 entry,
			  u64 *kernel_end, char *err, size_t err_size)
{
	const struct elf64_ehdr *eh = (const void *)image;
	bool entry_loaded = false;
	u32 loaded = 0;

	*kernel_end = LINUX_LOAD_MIN;
	for (u32 i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr *ph = phdr(image, i);

		if (ph->type != PT_LOAD || !ph->memsz)
			continue;
		if (ph->offset > len || ph->filesz > len - ph->offset)
			LOADER_FAIL("its ELF segment %u lies outside the file", i);
		if (ph->filesz > ph->memsz)
			LOADER_FAIL("its ELF segment %u has more bytes in the file than in memory",
				    i);
		if (ph->paddr < LINUX_LOAD_MIN || ph->paddr + ph->memsz < ph->paddr ||
		    !mem->ptr(mem->ctx, ph->paddr, ph->memsz))
			LOADER_FAIL("its ELF segment %u [%#lx, +%#lx) is outside the partition's "
				    "RAM above 1 MiB",
				    i, ph->paddr, ph->memsz);
		if (ph->paddr < mem->regions[0].size)
			*kernel_end = MAX(*kernel_end, ph->paddr + ph->memsz);
		if (entry >= ph->paddr && entry - ph->paddr < ph->memsz)
			entry_loaded = true;
		loaded++;
	}
	if (!loaded)
		LOADER_FAIL("its ELF file has nothing to load");
	if (!entry_loaded)
		LOADER_FAIL("its PVH entry %#lx is not inside a loaded segment", entry);
	return 0;
}

static void load_segments(const u8 *image, const struct guest_mem *mem)
{
	const struct elf64_ehdr *eh = (const void *)image;

	for (u32 i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr *ph = phdr(image, i);

		/* check_segments found every one in RAM */
		if (ph->type == PT_LOAD && ph->memsz)
			loader_copy(mem, ph->paddr, image + ph->offset, ph->filesz,
				    ph->memsz - ph->filesz);
	}
}

static bool put_start_info(const struct guest_mem *mem, u64 initrd_gpa, u64 initrd_len,
			   u64 rsdp_gpa, const struct loader_e820_entry *map, u32 entries)
{
	struct hvm_start_info si = {
		.magic = HVM_START_MAGIC,
		.version = HVM_START_VERSION,
		.cmdline_paddr = LINUX_CMDLINE_GPA,
		.rsdp_paddr = rsdp_gpa,
		.memmap_paddr = PVH_MEMMAP_GPA,
		.memmap_entries = entries,
	};
	struct hvm_memmap_entry mm[LOADER_E820_MAX];

	for (u32 i = 0; i < entries; i++)
		mm[i] = (struct hvm_memmap_entry){ map[i].addr, map[i].size, map[i].type, 0 };
	if (initrd_len) {
		/* no module command line: 0 means none (start_info.h) */
		const struct hvm_modlist_entry mod = { initrd_gpa, initrd_len, 0, 0 };

		si.nr_modules = 1;
		si.modlist_paddr = PVH_MODLIST_GPA;
		if (!loader_copy(mem, PVH_MODLIST_GPA, &mod, sizeof(mod), 0))
			return false;
	}
	return loader_copy(mem, PVH_MEMMAP_GPA, mm, entries * sizeof(mm[0]), 0) &&
	       loader_copy(mem, PVH_START_INFO_GPA, &si, sizeof(si), 0);
}

int pvh_load(const u8 *image, u64 len, const char *cmdline, const struct loader_module *initrd,
	     u64 rsdp_gpa, const struct guest_mem *mem, struct loader_entry *entry, char *err,
	     size_t err_size)
{
	struct loader_e820_entry map[LOADER_E820_MAX];
	u64 phys_entry = 0, kernel_end, initrd_gpa = 0, initrd_len = 0;
	int n, rc;

	rc = check_ehdr(image, len, err, err_size);
	if (rc)
		return rc;
	rc = find_entry(image, len, &phys_entry, err, err_size);
	if (rc)
		return rc;
	n = loader_e820(mem, map, ARRAY_SIZE(map), err, err_size);
	if (n < 0)
		return n;
	rc = check_segments(image, len, mem, phys_entry, &kernel_end, err, err_size);
	if (rc)
		return rc;
	rc = loader_put_cmdline(mem, cmdline, PVH_CMDLINE_MAX, err, err_size);
	if (rc)
		return rc;
	if (initrd && initrd->len) {
		/* Linux 6.1 keeps the ramdisk address in 32 bits; low RAM is below 4 GiB */
		rc = loader_put_initrd(mem, initrd, kernel_end, mem->regions[0].size, &initrd_gpa,
				       err, err_size);
		if (rc)
			return rc;
		initrd_len = initrd->len;
	}
	load_segments(image, mem);
	if (!put_start_info(mem, initrd_gpa, initrd_len, rsdp_gpa, map, (u32)n) ||
	    !loader_boot_gdt(mem, false, entry))
		LOADER_FAIL("the partition's RAM does not hold the boot structures below %#llx",
			    LINUX_LOW_END);

	entry->mode = LOADER_ENTRY_PROTECTED32;
	entry->rip = phys_entry;
	entry->rbx = PVH_START_INFO_GPA;
	entry->rax = entry->rsi = entry->cr3 = 0;
	return 0;
}
