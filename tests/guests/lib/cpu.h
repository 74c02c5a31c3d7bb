/*
 * What the test guests need beyond the hypervisor's hv/hw/x86.h: MMIO
 * accesses in their plainest form, and stopping for good.
 */
#pragma once

#include "types.h"

/* One plain 32-bit load or store, so that a hypervisor's MMIO decoder sees
 * the simplest instruction form. */
static inline u32 mmio_read32(uintptr_t addr)
{
	u32 v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write32(uintptr_t addr, u32 v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

static inline __noreturn void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" : : : "memory");
}
