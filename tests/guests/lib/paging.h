/*
 * Reaching guest-physical addresses at and above 4 GiB from 32-bit code: PAE
 * paging (SDM 3A 4.4) with the low 4 GiB identity-mapped in 2 MiB pages,
 * except one 2 MiB window at PHYS_WINDOW_VA that can be pointed anywhere.
 * Use it only for addresses >= 4 GiB, and touch nothing in the window's own
 * identity range meanwhile; phys_window_off() returns to paging off.
 */
#pragma once

#include "types.h"

#define PHYS_WINDOW_VA 0x00400000U /* just above the guest image (< 4 MiB) */
#define PHYS_WINDOW_SIZE (2U * 1024 * 1024)

/* The top of the physical address space (CPUID 0x80000008 EAX[7:0]). */
u64 phys_addr_limit(void);
/* Maps the 2 MiB page holding pa and returns pa's virtual address, or 0 if
 * pa is beyond phys_addr_limit(). */
uintptr_t phys_window(u64 pa);
void phys_window_off(void);
