/*
 * pvpanic (QEMU's docs/specs/pvpanic.txt, the ABI Linux's pvpanic driver
 * speaks): one I/O port; reading it lists the events the device accepts,
 * writing bit 0 says the guest panicked. A panicked kernel otherwise spins
 * with no way for the hypervisor to tell, so this is what lets on_crash
 * apply to a kernel panic.
 */
#include "hv/vdev/vpvpanic.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vdev.h"

#define PVPANIC_PANICKED BIT(0)
#define PVPANIC_CRASH_LOADED BIT(1) /* a crash kernel takes over: nothing to do */

static int pvpanic_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	(void)v;
	if (!a->write) {
		a->val = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
		return 0;
	}
	if (a->val & PVPANIC_PANICKED)
		vdev_stop(dev, VDEV_STOP_CRASH, "guest panicked");
	return 0;
}

/* Nothing to keep but its port. */
static int vpvpanic_create(struct vdev_registry *reg, void *dev)
{
	(void)dev;
	return vdev_add_io(reg, PLAT_PVPANIC_PORT, 1, pvpanic_access, reg);
}

const struct vdev_type vpvpanic_type = {
	.name = "pvpanic",
	.create = vpvpanic_create,
};
