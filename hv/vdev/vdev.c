/* The registry of a partition's devices: their lifecycle and their ranges. */
#include "hv/vdev/vdev.h"
#include "hv/lib/lib.h"

static bool per_vcpu(const struct vdev_type *t)
{
	return t->vcpu_create;
}

static u64 earliest(u64 a, u64 b)
{
	return !a || (b && b < a) ? b : a;
}

void vdev_init(struct vdev_registry *reg, const struct vdev_owner *owner,
	       const struct vdev_host *host)
{
	memset(reg, 0, sizeof(*reg));
	reg->owner = *owner;
	reg->host = host;
}

typedef void (*vdev_hook)(void *dev);

enum hook { HOOK_FREE, HOOK_RESET, HOOK_STOPPED, HOOK_STATS };

static vdev_hook hook_of(const struct vdev_type *t, enum hook h)
{
	switch (h) {
	case HOOK_FREE:
		return t->free;
	case HOOK_RESET:
		return t->reset;
	case HOOK_STOPPED:
		return t->stopped;
	case HOOK_STATS:
		return t->stats;
	}
	return NULL;
}

/* The hook of every instance, last created first (a per-vCPU type's, in
 * the order of its vCPUs). */
static void each_backwards(struct vdev_registry *reg, enum hook h)
{
	u32 n = reg->owner.vcpu_count;

	for (u32 i = reg->count; i-- > 0;) {
		const struct vdev *d = &reg->devs[i];
		vdev_hook hook = hook_of(d->type, h);

		if (!hook)
			continue;
		if (!per_vcpu(d->type)) {
			if (d->dev)
				hook(d->dev);
			continue;
		}
		for (u32 c = 0; c < n; c++) {
			void *dev = reg->owner.vcpus[c]->dev[d->type->vcpu_slot];

			if (dev)
				hook(dev);
		}
	}
}

void vdev_free_all(struct vdev_registry *reg)
{
	each_backwards(reg, HOOK_FREE);
	for (u32 i = 0; i < reg->count; i++) {
		const struct vdev_type *t = reg->devs[i].type;

		for (u32 c = 0; per_vcpu(t) && c < reg->owner.vcpu_count; c++)
			reg->owner.vcpus[c]->dev[t->vcpu_slot] = NULL;
	}
	reg->count = reg->io_count = reg->mmio_count = 0;
}

void vdev_reset_all(struct vdev_registry *reg)
{
	each_backwards(reg, HOOK_RESET);
}

void vdev_stopped(struct vdev_registry *reg)
{
	each_backwards(reg, HOOK_STOPPED);
}

void vdev_stats(struct vdev_registry *reg)
{
	each_backwards(reg, HOOK_STATS);
}

static bool slot_taken(const struct vdev_registry *reg, u32 slot)
{
	for (u32 i = 0; i < reg->count; i++)
		if (per_vcpu(reg->devs[i].type) && reg->devs[i].type->vcpu_slot == slot)
			return true;
	return false;
}

/* One type: 0 (created or declined), or an error with what it made freed. */
static int create_one(struct vdev_registry *reg, const struct vdev_type *t)
{
	struct vdev *d = &reg->devs[reg->count];
	void *dev = NULL;
	int err;

	if (reg->count == VDEV_MAX)
		return -E_NOMEM;
	if (per_vcpu(t) && (t->vcpu_slot >= VCPU_DEV_SLOTS || slot_taken(reg, t->vcpu_slot)))
		return -E_INVAL;
	err = t->create ? t->create(reg, &dev) : 0;
	if (err == VDEV_DECLINED)
		return 0;
	if (err)
		return err;
	*d = (struct vdev){ t, per_vcpu(t) ? NULL : dev };
	reg->count++;
	for (u32 i = 0; per_vcpu(t) && i < reg->owner.vcpu_count; i++) {
		struct vcpu *v = reg->owner.vcpus[i];

		dev = NULL;
		err = t->vcpu_create(reg, v, &dev);
		if (err)
			return err < 0 ? err : -E_INVAL;
		v->dev[t->vcpu_slot] = dev;
	}
	return 0;
}

int vdev_create_all(struct vdev_registry *reg, const struct vdev_type *const *types,
		    u32 count)
{
	for (u32 i = 0; i < count; i++) {
		int err = create_one(reg, types[i]);

		if (err) {
			vdev_free_all(reg);
			return err;
		}
	}
	return 0;
}

void vdev_vcpu_reset(struct vdev_registry *reg, struct vcpu *v)
{
	for (u32 i = reg->count; i-- > 0;) {
		const struct vdev_type *t = reg->devs[i].type;
		void *dev;

		if (!per_vcpu(t) || !t->reset)
			continue;
		dev = v->dev[t->vcpu_slot];
		if (dev)
			t->reset(dev);
	}
}

u64 vdev_timers(struct vdev_registry *reg, struct vcpu *v, u64 now)
{
	bool keeper = reg->owner.vcpu_count && v == reg->owner.vcpus[0];
	u64 next = 0;

	for (u32 i = 0; i < reg->count; i++) {
		const struct vdev *d = &reg->devs[i];
		void *dev = per_vcpu(d->type) ? v->dev[d->type->vcpu_slot] : keeper ? d->dev : NULL;

		if (dev && d->type->timer)
			next = earliest(next, d->type->timer(dev, now));
	}
	return next;
}

void vdev_timer_changed(struct vdev_registry *reg)
{
	struct vcpu *keeper;

	if (!reg->owner.vcpu_count)
		return;
	keeper = reg->owner.vcpus[0];
	keeper->timer_dirty = 1;
	vdev_kick(reg, keeper, 0);
}

void vdev_firmware(struct vdev_registry *reg, struct acpi_build_cfg *cfg)
{
	for (u32 i = 0; i < reg->count; i++) {
		const struct vdev *d = &reg->devs[i];

		if (d->type->firmware && d->dev)
			d->type->firmware(d->dev, cfg);
	}
}

void *vdev_find(const struct vdev_registry *reg, const struct vdev_type *type)
{
	for (u32 i = 0; i < reg->count; i++)
		if (reg->devs[i].type == type)
			return reg->devs[i].dev;
	return NULL;
}

/* --- ranges ------------------------------------------------------------- */

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

int vdev_add_io(struct vdev_registry *reg, u16 base, u16 count, vdev_access_fn fn, void *dev)
{
	return add(reg->io, &reg->io_count, VDEV_MAX_IO, base, count, fn, dev);
}

int vdev_add_mmio(struct vdev_registry *reg, u64 base, u64 size, vdev_access_fn fn, void *dev)
{
	return add(reg->mmio, &reg->mmio_count, VDEV_MAX_MMIO, base, size, fn, dev);
}

const struct vdev_range *vdev_find_io(const struct vdev_registry *reg, u16 port)
{
	return find(reg->io, reg->io_count, port);
}

const struct vdev_range *vdev_find_mmio(const struct vdev_registry *reg, u64 gpa)
{
	return find(reg->mmio, reg->mmio_count, gpa);
}
