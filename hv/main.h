/* The hypervisor's start-up sequence. */
#pragma once

#include "boot/boot_info.h"

#define HV_NAME "Tessera"
#define HV_VERSION "0.1"

__noreturn void hv_main(struct boot_info *bi);
/* No partition is running any more: follow on_idle (SPEC 5). */
__noreturn void hv_idle(void);
