/* Tier 3 (STYLE.md): a hypervisor bug stops the machine with a dump. */
#pragma once

#include "hv/lib/types.h"

__noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Guards isolation: stays on in every build. */
#define BUG_ON(cond)                                                             \
	do {                                                                     \
		if (unlikely(cond))                                              \
			panic("BUG_ON(%s) at %s:%d", #cond, __FILE__, __LINE__); \
	} while (0)

/* The CPU that calls it, also before its GS base is set. */
u32 panic_cpu_index(void);
/* Prints a backtrace by walking the frame-pointer chain from rbp. */
void backtrace(u64 rbp);
/* Stops every other CPU (NMI) and halts this one. */
__noreturn void machine_halt(void);
