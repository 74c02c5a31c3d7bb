/* virtio-net interfaces on the virtual switches (docs/virtio.md, 4). */
#pragma once

#include "hv/vdev/vdev.h"

extern const struct vdev_type vnet_type;

/* The MAC address of partition's interface on switch (docs/virtio.md). */
void vnet_mac(const char *partition, const char *sw, u8 mac[6]);
