/* The per-partition tables of emulated port and MMIO ranges. */
#include "hv/vdev/vdev.h"

static int add(struct vdev_range *r, u32 *count, u32 max, u64 base, u64 size,
	       vdev_access_fn fn, void *dev)
{
	if (*count >= max)
		return -E_NOMEM;
	r[*count] = (struct vdev_range){ base, size, fn, dev };
	(*count)++;
	return 0;
}

static const struct vdev_range *find(const struct vdev_range *r, u32 count, u64 addr)
{
	for (u32 i = 0; i < count; i++)
		if (addr >= r[i].base && addr - r[i].base < r[i].size)
			return &r[i];
	return NULL;
}

int vdev_add_io(struct vdev_table *t, u16 base, u16 count, vdev_access_fn fn, void *dev)
{
	return add(t->io, &t->io_count, VDEV_MAX_IO, base, count, fn, dev);
}

int vdev_add_mmio(struct vdev_table *t, u64 base, u64 size, vdev_access_fn fn, void *dev)
{
	return add(t->mmio, &t->mmio_count, VDEV_MAX_MMIO, base, size, fn, dev);
}

const struct vdev_range *vdev_find_io(const struct vdev_table *t, u16 port)
{
	return find(t->io, t->io_count, port);
}

const struct vdev_range *vdev_find_mmio(const struct vdev_table *t, u64 gpa)
{
	return find(t->mmio, t->mmio_count, gpa);
}
