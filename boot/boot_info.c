/* Helpers shared by the boot front-ends; pure, unit-tested on the host. */
#include "boot/boot_info.h"
#include "hv/lib/lib.h"

void boot_module_name(const char *cmdline, char *out, size_t out_size)
{
	const char *end, *start, *word;

	if (!out_size)
		return;
	/* the last word: skip trailing blanks, then back up to a blank */
	end = cmdline + strlen(cmdline);
	while (end > cmdline && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	word = end;
	while (word > cmdline && word[-1] != ' ' && word[-1] != '\t')
		word--;
	/* remove any directory part */
	start = word;
	for (const char *p = word; p < end; p++)
		if (*p == '/')
			start = p + 1;
	size_t n = (size_t)(end - start);

	if (n >= out_size)
		n = out_size - 1;
	memcpy(out, start, n);
	out[n] = '\0';
}

bool boot_add_module(struct boot_info *bi, u64 base, u64 len, const char *cmdline)
{
	struct boot_module *m;

	if (bi->module_count >= BOOT_MODULES_MAX)
		return false;
	m = &bi->modules[bi->module_count++];
	m->base = base;
	m->len = len;
	boot_module_name(cmdline ? cmdline : "", m->name, sizeof(m->name));
	return true;
}

bool boot_add_mem(struct boot_info *bi, u64 base, u64 len, u32 type)
{
	struct boot_mem_range *r;

	if (bi->mmap_count >= BOOT_MMAP_MAX)
		return false;
	r = &bi->mmap[bi->mmap_count++];
	r->base = base;
	r->len = len;
	r->type = type;
	r->pad = 0;
	return true;
}
