/* The devices of every partition: the virtual PC (hv/vdev/platform.h). */
#pragma once

#include "hv/vdev/vdev.h"

extern const struct vdev_type *const vdev_list[];
extern const u32 vdev_list_count;
