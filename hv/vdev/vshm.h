/* ivshmem-compatible shared memory (docs/virtio.md, section 6). */
#pragma once

#include "hv/vdev/vdev.h"

extern const struct vdev_type vshm_type;
