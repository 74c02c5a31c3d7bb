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

/*
 * Takes the machine for a dump from this CPU: stops the other CPUs (NMI,
 * a bounded wait), takes the console whatever state it is in
 * (console_panic), then prints "hv: HEADER" and which CPUs stopped. A CPU
 * that faults while another one dumps parks; a fault on the dumping CPU
 * itself (during the dump) prints a fixed line and halts: the machine
 * stops either way.
 */
void panic_begin(const char *header);
/* The CPU that calls it, also before its GS base is set. */
u32 panic_cpu_index(void);
/* Prints a backtrace by walking the frame-pointer chain from rbp. */
void backtrace(u64 rbp);
/* Halts this CPU for good, once panic_begin has stopped the others. */
__noreturn void machine_halt(void);

/*
 * A test aid (docs/boot.md): "hv_test_panic=MS[,again]" on the
 * hypervisor's command line, which only the boot loader sets, makes the
 * hypervisor fault (#UD) MS ms after panic_test_init, at the next
 * panic_test_point (a CPU that finds another one in the middle of
 * sending a partition's line);
 * ",again" faults once more during the dump.
 */
void panic_test_init(const char *cmdline);
void panic_test_point(void);
void panic_test_again(void);
