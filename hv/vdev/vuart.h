/* A 16550A UART at COM1 for each partition, joined to the console (SPEC 4). */
#pragma once

#include "hv/lib/types.h"
#include "hv/vdev/vdev.h"

struct vuart;

#define VUART_COM1_BASE 0x3f8
#define VUART_PORTS 8

/* The partition's, when its configuration says console = vuart (else the
 * type declines); vdev_find finds it. When the partition stops, a partial
 * output line goes out. */
extern const struct vdev_type vuart_type;

/* Console input for the partition with the focus. */
void vuart_input(struct vuart *u, u8 byte);
/* Shows the unfinished output line once nothing was sent for WAIT TSC
 * ticks (at NOW) and the vCPU that sent it waits (halted): the prompt of
 * the partition with the input focus. */
void vuart_show_open(struct vuart *u, u64 now, u64 wait);
/* Console input dropped since the partition started: its queue was full. */
u64 vuart_input_lost(const struct vuart *u);
/* Its output from offset from (counted since boot) on, at most max bytes
 * (hv/console/ring.h: ring_read); *total is what it wrote so far. The
 * ring survives restarts: a stopped partition's last words stay. */
u32 vuart_console_read(struct vuart *u, u64 from, u8 *out, u32 max, u64 *start, u64 *total);
