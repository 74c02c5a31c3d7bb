/*
 * The virtual switches (docs/virtio.md, section 4): one per switch name a
 * partition's `net` gives, each a learning bridge between the ports of the
 * partitions on it. This is the forwarding decision only; the ports
 * (hv/vdev/vnet.c) copy the frames.
 *
 * The address table is lock-free: 64-bit words (valid, port, MAC) written
 * and read with atomics, so any sender may learn and look up at once; a
 * torn or lost entry costs a flood, never a wrong partition (a port that
 * is not on the switch is never a destination). Switches and ports are
 * made while partitions are built (one CPU); detach is for a failed build.
 */
#pragma once

#include "hv/config/config.h"
#include "hv/lib/types.h"

#define VSWITCH_PORTS CONFIG_MAX_PARTITIONS /* one port per partition at most */
#define VSWITCH_MAX (CONFIG_MAX_PARTITIONS * CONFIG_MAX_NET)
#define VSWITCH_FDB 256 /* address table entries, a power of two */
#define ETH_ALEN 6
#define ETH_HLEN 14 /* destination, source, type */

struct vswitch {
	char name[CONFIG_NAME_MAX + 1];
	void *port[VSWITCH_PORTS]; /* the ports' devices, NULL: free */
	u64 fdb[VSWITCH_FDB];
};

/* The switch called name, made on first use; NULL when there are too many. */
struct vswitch *vswitch_get(const char *name);
/* A port for dev: its number, or -E_NOMEM. */
int vswitch_attach(struct vswitch *sw, void *dev);
void vswitch_detach(struct vswitch *sw, u32 port);
/* Where a frame (ETH_HLEN bytes at least) from port from goes: a mask of
 * ports, never from. Learns its source address. */
u32 vswitch_route(struct vswitch *sw, u32 from, const u8 *frame);
