/* The pvpanic device: how a guest kernel says it panicked (SPEC 5: on_crash). */
#pragma once

#include "hv/vdev/vdev.h"

extern const struct vdev_type vpvpanic_type;
