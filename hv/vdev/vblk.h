/* virtio-blk disks backed by boot modules (docs/virtio.md, section 5). */
#pragma once

#include "hv/vdev/vdev.h"

extern const struct vdev_type vblk_type;
