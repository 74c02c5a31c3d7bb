/*
 * Paging-structure entries (SDM 3A chapter 4): the bits of 4-level and PAE
 * entries (tables 4-11 to 4-20; bits 0-7 mean the same in 32-bit paging),
 * and the shape of the tables.
 */
#pragma once

#include "hv/lib/types.h"

#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_U BIT(2)
#define PTE_PWT BIT(3)
#define PTE_PCD BIT(4)
#define PTE_A BIT(5)
#define PTE_D BIT(6)
#define PTE_PS BIT(7) /* in a PDPTE or PDE: maps a 1 GiB or 2 MiB page */
#define PTE_G BIT(8)
#define PTE_NX BIT_ULL(63)
#define PTE_ADDR_MASK 0x000ffffffffff000ULL /* bits 51:12 */

#define PT_ENTRIES 512	    /* 8-byte entries in a 4 KiB table */
#define LARGE_PAGE_SHIFT 21 /* a PDE with PS maps 2 MiB */

/* PAE paging (SDM 3A 4.4.1): CR3 holds the 32-byte-aligned address of
 * four PDPTEs */
#define PDPTE_COUNT 4
#define PAE_CR3_MASK 0xffffffe0ULL
