/*
 * The files hv.conf names, found without parsing the configuration: the
 * UEFI front-end loads them before the hypervisor (which validates the
 * configuration) runs. Pure; unit-tested on the host.
 */
#pragma once

#include "boot/boot_info.h"
#include "hv/lib/types.h"

/* hv.conf itself is a module too, so the rest share what remains. */
#define CONF_FILES_MAX (BOOT_MODULES_MAX - 1)

struct conf_file_list {
	u32 count;
	u32 dropped; /* names too long for BOOT_NAME_MAX, or past CONF_FILES_MAX */
	char names[CONF_FILES_MAX][BOOT_NAME_MAX];
};

/*
 * Collects the values of every `kernel` and `initrd` key in text (len bytes,
 * need not be NUL-terminated), in order of appearance, each name once,
 * whatever the section. Lines are `key = value`; `#` starts a comment;
 * blanks (including CR) around keys and values are ignored. Everything else
 * (sections, other keys, malformed lines) is left to the hypervisor's parser.
 */
void conf_files_scan(const char *text, size_t len, struct conf_file_list *out);
