/*
 * The frame every test guest shares: the entry calls guest_main() with the
 * console, the exception handlers and the Multiboot information ready; the
 * guest ends with exactly one verdict line,
 *
 *     VERDICT <name>: PASS <details>
 *     VERDICT <name>: FAIL <why>
 *
 * then writes the isa-debug-exit port (QEMU exits with status (code<<1)|1;
 * inside a partition the port is not given and the write is dropped) and
 * halts for good. An unexpected exception on any CPU is a FAIL.
 */
#pragma once

#include "types.h"

#define DEBUG_EXIT_PORT 0xf4 /* QEMU -device isa-debug-exit,iobase=0xf4 */
#define GUEST_EXIT_PASS 0    /* QEMU exit status 1 */
#define GUEST_EXIT_FAIL 1    /* QEMU exit status 3 */

/* Each guest defines these two. */
extern const char guest_name[];
void guest_main(void);

__noreturn void guest_pass(const char *fmt, ...) __printf(1, 2);
__noreturn void guest_fail(const char *fmt, ...) __printf(1, 2);
/* Prints a PASS verdict and returns, for a guest that keeps running after
 * it (the marker guest's heartbeats). */
void guest_pass_continue(const char *fmt, ...) __printf(1, 2);
/* Leaves without a verdict (after printing what the caller wanted). */
__noreturn void guest_exit(u32 code);
/* Resets the machine through the reset control register (0xCF9): inside a
 * partition a reboot, which its on_reboot key turns into a restart or a
 * stop. Halts if nothing happens. */
__noreturn void guest_reboot(void);

/* The image as loaded, .bss and stacks included: [start, end). */
uintptr_t guest_image_start(void);
uintptr_t guest_image_end(void);

/* Called by entry.asm. */
__noreturn void guest_start(u32 magic, u32 info_addr);
