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

/* hook on the device's instance, or on each of its vCPU instances. */
static void each(struct vdev_registry *reg, const struct vdev *d, void (*hook)(void *dev))
{
	for (u32 c = 0; hook && c < (per_vcpu(d->type) ? reg->owner.vcpu_count : 1); c++) {
		void *dev = per_vcpu(d->type) ? reg->owner.vcpus[c]->dev[d->type->vcpu_slot] :
						d->dev;

		if (dev)
			hook(dev);
	}
}

static void release(const struct vdev_registry *reg, const struct vdev_type *t, void *dev)
{
	if (t->free)
		t->free(dev);
	if (t->size)
		reg->host->free(dev, t->size);
}

void vdev_free_all(struct vdev_registry *reg)
{
	for (u32 i = reg->count; i-- > 0;) {
		const struct vdev *d = &reg->devs[i];

		for (u32 c = 0; per_vcpu(d->type) && c < reg->owner.vcpu_count; c++) {
			void **dev = &reg->owner.vcpus[c]->dev[d->type->vcpu_slot];

			if (*dev)
				release(reg, d->type, *dev);
			*dev = NULL;
		}
		if (d->dev)
			release(reg, d->type, d->dev);
	}
	reg->count = reg->vcpu_timer_count = reg->timer_count = 0;
	reg->io_count = reg->mmio_count = 0;
}

void vdev_reset_all(struct vdev_registry *reg)
{
	for (u32 i = reg->count; i-- > 0;)
		each(reg, &reg->devs[i], reg->devs[i].type->reset);
}

void vdev_stopped(struct vdev_registry *reg)
{
	for (u32 i = reg->count; i-- > 0;)
		each(reg, &reg->devs[i], reg->devs[i].type->stopped);
}

void vdev_stats(struct vdev_registry *reg)
{
	for (u32 i = reg->count; i-- > 0;)
		each(reg, &reg->devs[i], reg->devs[i].type->stats);
}

/* An instance of t made by create or, for vCPU v, vcpu_create (a per-vCPU
 * type's create keeps none): 0 and *dev, or an error with nothing kept. */
static int make(struct vdev_registry *reg, const struct vdev_type *t, struct vcpu *v, void **dev)
{
	u32 size = v || !per_vcpu(t) ? t->size : 0;
	int err;

	*dev = size ? reg->host->alloc(size) : NULL;
	if (size && !*dev)
		return -E_NOMEM;
	err = v ? t->vcpu_create(reg, v, *dev) : t->create ? t->create(reg, *dev) : 0;
	if (err && *dev)
		reg->host->free(*dev, size);
	return err;
}

/* The per-vCPU devices' timers go before the partition's. */
static void add_timer(struct vdev_registry *reg, const struct vdev_type *t, void *dev)
{
	u32 at = per_vcpu(t) ? reg->vcpu_timer_count++ : reg->timer_count;

	for (u32 i = reg->timer_count++; i > at; i--)
		reg->timers[i] = reg->timers[i - 1];
	reg->timers[at] = (struct vdev_timer){ t->timer, dev, t->vcpu_slot };
}

/* One type: 0 (created or declined), or an error. */
static int create_one(struct vdev_registry *reg, const struct vdev_type *t)
{
	struct vdev *d = &reg->devs[reg->count];
	u32 n = reg->owner.vcpu_count;
	void *dev;
	int err;

	if (reg->count == VDEV_MAX)
		return -E_NOMEM;
	/* a slot of its own, free in the vCPUs */
	if (per_vcpu(t) &&
	    (t->vcpu_slot >= VCPU_DEV_SLOTS || (n && reg->owner.vcpus[0]->dev[t->vcpu_slot])))
		return -E_INVAL;
	err = make(reg, t, NULL, &dev);
	if (err)
		return err == VDEV_DECLINED ? 0 : err;
	*d = (struct vdev){ t, dev };
	if (t->timer)
		add_timer(reg, t, dev);
	reg->count++;
	for (u32 i = 0; per_vcpu(t) && i < n; i++) {
		err = make(reg, t, reg->owner.vcpus[i], &dev);
		if (err)
			return err < 0 ? err : -E_INVAL;
		reg->owner.vcpus[i]->dev[t->vcpu_slot] = dev;
	}
	return 0;
}

int vdev_create_all(struct vdev_registry *reg, const struct vdev_type *const *types, u32 count)
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
	const struct vdev_timer *t = reg->timers;
	u32 i = 0;
	u64 next = 0;

	for (; i < reg->vcpu_timer_count; i++)
		next = earliest(next, t[i].fn(v->dev[t[i].vcpu_slot], now));
	if (v != reg->owner.vcpus[0])
		return next;
	for (; i < reg->timer_count; i++)
		next = earliest(next, t[i].fn(t[i].dev, now));
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

static int add(struct vdev_range *r, u32 *count, u32 max, u64 base, u64 size, vdev_access_fn fn,
	       void *dev)
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
