/* The control device of a `manage = yes` partition (SPEC 7, docs/control.md). */
#pragma once

#include "hv/vdev/vdev.h"

/* Declines in a partition without manage = yes: it has no such device. */
extern const struct vdev_type vctl_type;
