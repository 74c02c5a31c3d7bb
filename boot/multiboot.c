/* Multiboot1 and Multiboot2 front-ends: loader information -> boot_info. */
#include "boot/multiboot.h"
#include "boot/boot_info.h"
#include "hv/lib/lib.h"
#include "hv/lib/strlcpy.h"

u32 boot_e820_type(u32 e820)
{
	switch (e820) {
	case E820_RAM:
		return BOOT_MEM_RAM;
	case E820_ACPI:
		return BOOT_MEM_ACPI;
	case E820_NVS:
		return BOOT_MEM_NVS;
	case E820_UNUSABLE:
		return BOOT_MEM_UNUSABLE;
	default:
		return BOOT_MEM_RESERVED;
	}
}

static void copy_string(char *dst, size_t size, const char *src)
{
	hv_strlcpy(dst, src ? src : "", size);
}

int mb1_parse(struct boot_info *bi, const struct mb1_info *info, const void *(*phys_to_ptr)(u64 pa))
{
	bi->loader = BOOT_LOADER_MULTIBOOT1;
	bi->firmware = BOOT_FW_BIOS;
	if (info->flags & MB1_INFO_CMDLINE)
		copy_string(bi->cmdline, sizeof(bi->cmdline), phys_to_ptr(info->cmdline));
	if (info->flags & MB1_INFO_LOADER_NAME)
		copy_string(bi->loader_name, sizeof(bi->loader_name),
			    phys_to_ptr(info->boot_loader_name));
	if (!(info->flags & MB1_INFO_MMAP))
		return -E_INVAL; /* we asked for it (MB1_FLAG_MEMINFO) */
	for (u32 off = 0; off + sizeof(struct mb1_mmap_entry) <= info->mmap_length;) {
		const struct mb1_mmap_entry *e = phys_to_ptr(info->mmap_addr + off);

		if (!boot_add_mem(bi, e->addr, e->len, boot_e820_type(e->type)))
			return -E_TOOBIG;
		off += e->size + sizeof(e->size);
	}
	if (info->flags & MB1_INFO_MODS) {
		const struct mb1_module *mods = phys_to_ptr(info->mods_addr);

		for (u32 i = 0; i < info->mods_count; i++) {
			const char *cmd = mods[i].cmdline ? phys_to_ptr(mods[i].cmdline) : "";

			if (mods[i].mod_end < mods[i].mod_start)
				return -E_INVAL;
			if (!boot_add_module(bi, mods[i].mod_start,
					     mods[i].mod_end - mods[i].mod_start, cmd))
				return -E_TOOBIG;
		}
	}
	if ((info->flags & MB1_INFO_FRAMEBUFFER) && info->framebuffer_addr) {
		bi->fb.addr = info->framebuffer_addr;
		bi->fb.width = info->framebuffer_width;
		bi->fb.height = info->framebuffer_height;
		bi->fb.pitch = info->framebuffer_pitch;
		bi->fb.bpp = info->framebuffer_bpp;
	}
	return 0;
}

static int mb2_mmap(struct boot_info *bi, const struct mb2_tag_mmap *t)
{
	if (t->entry_size < sizeof(struct mb2_mmap_entry))
		return -E_INVAL;
	/* u64: off + entry_size must not wrap */
	for (u64 off = sizeof(*t); off + t->entry_size <= t->size; off += t->entry_size) {
		const struct mb2_mmap_entry *e = (const void *)((const u8 *)t + off);

		if (!boot_add_mem(bi, e->addr, e->len, boot_e820_type(e->type)))
			return -E_TOOBIG;
	}
	return 0;
}

/* The smallest size of each tag we read: its fixed fields, and a string's
 * NUL (Multiboot2 spec 3.6). */
static u32 mb2_min_size(u32 type)
{
	switch (type) {
	case MB2_TAG_CMDLINE:
	case MB2_TAG_LOADER_NAME:
		return sizeof(struct mb2_tag) + 1;
	case MB2_TAG_MODULE:
		return sizeof(struct mb2_tag_module) + 1;
	case MB2_TAG_MMAP:
		return sizeof(struct mb2_tag_mmap);
	case MB2_TAG_FRAMEBUFFER:
		return sizeof(struct mb2_tag_framebuffer);
	default:
		return sizeof(struct mb2_tag);
	}
}

/* True when the string at s ends (with a NUL) within len bytes. */
static bool mb2_string_ok(const char *s, u32 len)
{
	for (u32 i = 0; i < len; i++)
		if (!s[i])
			return true;
	return false;
}

int mb2_parse(struct boot_info *bi, const void *info, const void *(*phys_to_ptr)(u64 pa))
{
	const u8 *p = info;
	u32 total = *(const u32 *)p;
	bool have_mmap = false;
	int err;

	(void)phys_to_ptr; /* Multiboot2 carries everything inline */
	bi->loader = BOOT_LOADER_MULTIBOOT2;
	bi->firmware = BOOT_FW_BIOS;
	/* u64: off + size must not wrap */
	for (u64 off = 8; off + sizeof(struct mb2_tag) <= total;) {
		const struct mb2_tag *t = (const void *)(p + off);

		if (t->type == MB2_TAG_END)
			break;
		if (t->size < mb2_min_size(t->type) || t->size > total - off)
			return -E_INVAL;
		switch (t->type) {
		case MB2_TAG_CMDLINE:
			if (!mb2_string_ok((const char *)(t + 1), t->size - sizeof(*t)))
				return -E_INVAL;
			copy_string(bi->cmdline, sizeof(bi->cmdline), (const char *)(t + 1));
			break;
		case MB2_TAG_LOADER_NAME:
			if (!mb2_string_ok((const char *)(t + 1), t->size - sizeof(*t)))
				return -E_INVAL;
			copy_string(bi->loader_name, sizeof(bi->loader_name),
				    (const char *)(t + 1));
			break;
		case MB2_TAG_MODULE: {
			const struct mb2_tag_module *m = (const void *)t;

			if (m->mod_end < m->mod_start ||
			    !mb2_string_ok(m->cmdline, t->size - sizeof(*m)))
				return -E_INVAL;
			if (!boot_add_module(bi, m->mod_start, m->mod_end - m->mod_start,
					     m->cmdline))
				return -E_TOOBIG;
			break;
		}
		case MB2_TAG_MMAP:
			err = mb2_mmap(bi, (const void *)t);
			if (err)
				return err;
			have_mmap = true;
			break;
		case MB2_TAG_ACPI_NEW:
		case MB2_TAG_ACPI_OLD: {
			u32 len = t->size - sizeof(*t);

			/* prefer the ACPI 2.0+ copy when both are given */
			if (bi->rsdp_len && t->type == MB2_TAG_ACPI_OLD)
				break;
			if (len > BOOT_RSDP_MAX)
				len = BOOT_RSDP_MAX;
			memcpy(bi->rsdp, t + 1, len);
			bi->rsdp_len = len;
			break;
		}
		case MB2_TAG_FRAMEBUFFER: {
			const struct mb2_tag_framebuffer *f = (const void *)t;

			bi->fb.addr = f->addr;
			bi->fb.width = f->width;
			bi->fb.height = f->height;
			bi->fb.pitch = f->pitch;
			bi->fb.bpp = f->bpp;
			break;
		}
		case MB2_TAG_EFI64:
		case MB2_TAG_EFI_MMAP:
		case MB2_TAG_EFI64_IH:
			bi->firmware = BOOT_FW_UEFI;
			break;
		default:
			break;
		}
		off += ALIGN_UP((u64)t->size, 8);
	}
	return have_mmap ? 0 : -E_INVAL;
}
