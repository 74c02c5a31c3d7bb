/*
 * Virtual devices see accesses, not VMCBs (STYLE.md, after Bao's emul_access):
 * a device registers a port range or an MMIO range of its partition and gets
 * a neutral access record.
 */
#pragma once

#include "hv/lib/types.h"

struct vcpu;
struct partition;

struct vdev_access {
	u64 addr;  /* port number or guest-physical address */
	u8 size;   /* 1, 2, 4 or 8 bytes */
	bool write;
	u64 val;   /* written value, or where a read puts its result */
};

/* Returns 0, or a negative error that makes the access fail for the guest
 * as on hardware (reads all-ones, writes dropped). */
typedef int (*vdev_access_fn)(void *dev, struct vcpu *v, struct vdev_access *a);

#define VDEV_MAX_IO 16
#define VDEV_MAX_MMIO 8

struct vdev_range {
	u64 base, size;
	vdev_access_fn access;
	void *dev;
};

struct vdev_table {
	u32 io_count, mmio_count;
	struct vdev_range io[VDEV_MAX_IO];
	struct vdev_range mmio[VDEV_MAX_MMIO];
};

int vdev_add_io(struct vdev_table *t, u16 base, u16 count, vdev_access_fn fn, void *dev);
int vdev_add_mmio(struct vdev_table *t, u64 base, u64 size, vdev_access_fn fn, void *dev);
const struct vdev_range *vdev_find_io(const struct vdev_table *t, u16 port);
const struct vdev_range *vdev_find_mmio(const struct vdev_table *t, u64 gpa);
