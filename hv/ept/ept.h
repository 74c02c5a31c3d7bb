/*
 * Intel EPT: the entry format of the second-level walker (hv/ept/ept.c),
 * and what the VT-x backend needs beyond the walker.
 */
#pragma once

#include "hv/ept/slat.h"
#include "hv/lib/types.h"

extern const struct slat_format slat_fmt_ept; /* SDM 3C 29.3 */

/* EPTP fields (SDM 3C 25.6.11) */
#define EPTP_MEMTYPE_WB 6ULL  /* bits 2:0: memory type of the paging structures */
#define EPTP_WALK_LEN_SHIFT 3 /* bits 5:3: page-walk length minus 1 */
#define EPTP_WALK_LEN_4 (3ULL << EPTP_WALK_LEN_SHIFT)
#define EPTP_AD_ENABLE BIT(6) /* bit 6: accessed and dirty flags */
#define EPTP_ADDR_MASK 0x000ffffffffff000ULL

/* The EPT pointer for a 4-level table rooted at root_pa (struct slat's
 * root_pa), write-back; ad sets accessed/dirty flags on (only when
 * IA32_VMX_EPT_VPID_CAP bit 21 says the CPU has them). */
u64 ept_pointer(u64 root_pa, bool ad);
