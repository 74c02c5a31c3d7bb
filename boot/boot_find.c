/* Finding a module by name: the hypervisor's side only (hv.efi needs none). */
#include "boot/boot_info.h"
#include "hv/lib/lib.h"

const struct boot_module *boot_find_module(const struct boot_info *bi, const char *name)
{
	for (u32 i = 0; name[0] && i < bi->module_count; i++)
		if (!strcmp(bi->modules[i].name, name))
			return &bi->modules[i];
	return NULL;
}
