/*
 * Linux bzImage loader: the x86 boot protocol, 32-bit and 64-bit entries
 * (Documentation/arch/x86/boot.rst). What it builds below 1 MiB and the
 * entry state are in hv/loader/loader.h.
 */
#pragma once

#include "hv/loader/loader.h"

#define LINUX_PROTOCOL_MIN 0x020c /* 2.12: xloadflags, a 64-bit entry */

/* Whether image has a Linux setup header ("HdrS" at 0x202). */
bool linux_probe(const u8 *image, u64 len);
/*
 * Loads a bzImage (boot protocol 2.12 or later) at its pref_address, the
 * initrd (NULL or an empty one for none) as high as initrd_addr_max and
 * low RAM allow, builds the zero page with the partition's e820 map and
 * rsdp_gpa (0: the guest scans the BIOS area), and the entry state of
 * loader.h. A loader_load_fn: on failure returns a negative error and a
 * message in err.
 */
int linux_load(const u8 *image, u64 len, const char *cmdline, const struct loader_module *initrd,
	       u64 rsdp_gpa, const struct guest_mem *mem, struct loader_entry *entry, char *err,
	       size_t err_size);
