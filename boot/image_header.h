/* The header the UEFI front-end finds in the hypervisor image (boot/entry.asm). */
#pragma once

#include "hv/lib/types.h"

#define TESSERA_HDR_MAGIC 0x3141524553534554ULL /* "TESSERA1" */
/* EAX at mb_entry32 when the UEFI front-end enters the image */
#define TESSERA_EFI_LOADER_MAGIC 0x54455353 /* "TESS" */

struct tessera_image_header {
	u64 magic;
	u64 entry_offset; /* mb_entry32, from the start of the image */
	u64 file_size;	  /* bytes to copy from the start of the image */
	u64 mem_size;	  /* bytes of memory, the part past file_size zeroed */
};
