/*
 * What the virtio device tests share: partitions with a fake RAM each and
 * their device registries (several, for the switch), a fake host (boot
 * modules, second-level mappings, kicks), and a guest driver that does
 * what Linux's virtio_pci does through configuration space and BAR 0:
 * find the capabilities, negotiate, set up queues, post chains, notify,
 * read the used ring. Include after test_vdev_fakes.h and
 * test_virq_fakes.h.
 */
#pragma once

#include "hv/hw/virtio.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/virtio_pci.h"
#include "hv/vdev/vpci.h"
#include "tests/unit/test_support.h"

#define TP_RAM (32 * MiB)
#define TP_MAX 4
#define TP_MODULES 4
#define DRV_QUEUE_SIZE 64
#define DRV_QUEUES 2
#define DRV_RINGS 0x100000ULL /* queue q's rings at DRV_RINGS + q * 0x10000 */
#define DRV_RING_STRIDE 0x10000ULL

/* --- partitions -------------------------------------------------------- */

struct tpart {
	struct partition part;
	struct config_partition cfg;
	struct vcpu vcpu;
	struct vcpu *vcpus[1];
	struct fake_ram ram;
	u8 *mem;
	u32 kicks, maps, unmaps;
	u64 map_gpa, map_len;
	void *map_mem;
};

static struct tpart tparts[TP_MAX];

static struct {
	const char *name;
	u8 *data;
	u64 len;
} tmodules[TP_MODULES];

static inline struct tpart *tpart_of(const struct partition *p)
{
	for (u32 i = 0; i < TP_MAX; i++)
		if (&tparts[i].part == p)
			return &tparts[i];
	fail_msg("no such partition");
	return NULL;
}

static inline void *tp_gpa_ptr(const struct partition *p, u64 gpa, u64 len)
{
	return fake_ram_ptr(&tpart_of(p)->ram, gpa, len);
}

static inline void tp_kick(struct vcpu *v, u32 req)
{
	(void)req;
	tpart_of(v->part)->kicks++;
}

static inline void *tp_module(const char *name, u64 *len)
{
	for (u32 i = 0; i < TP_MODULES; i++) {
		if (tmodules[i].name && !strcmp(tmodules[i].name, name)) {
			*len = tmodules[i].len;
			return tmodules[i].data;
		}
	}
	return NULL;
}

static inline int tp_map(struct partition *p, u64 gpa, void *mem, u64 len)
{
	struct tpart *t = tpart_of(p);

	t->maps++;
	t->map_gpa = gpa;
	t->map_len = len;
	t->map_mem = mem;
	return 0;
}

static inline void tp_unmap(struct partition *p, u64 gpa, u64 len)
{
	struct tpart *t = tpart_of(p);

	assert_int_equal(gpa, t->map_gpa);
	assert_int_equal(len, t->map_len);
	t->unmaps++;
	t->map_len = 0;
}

static const struct vdev_host tp_host = {
	.alloc = fake_alloc,
	.free = fake_free,
	.kick = tp_kick,
	.stop = unexpected_stop,
	.gpa_ptr = tp_gpa_ptr,
	.pass_io = unexpected_pass_io,
	.clock = unexpected_clock,
	.wall_clock = unexpected_wall_clock,
	.crystal_hz = unexpected_crystal_hz,
	.acpi = no_acpi,
	.alloc_shared = fake_alloc,
	.module = tp_module,
	.map = tp_map,
	.unmap = tp_unmap,
};

/* Partition i, named name, with an empty registry and zeroed RAM at 0. */
static inline struct tpart *tpart_init(u32 i, const char *name)
{
	struct tpart *t = &tparts[i];
	struct vdev_owner owner;

	fake_ram_free(&t->ram);
	memset(t, 0, sizeof(*t));
	t->part.name = name;
	t->part.cfg = &t->cfg;
	t->part.vcpu_count = 1;
	strcpy(t->cfg.name, name);
	t->vcpu.part = &t->part;
	t->vcpus[0] = &t->vcpu;
	t->mem = fake_ram_add(&t->ram, 0, TP_RAM, 0);
	owner = (struct vdev_owner){ &t->part, name, &t->cfg, t->vcpus, 1 };
	vdev_init(&t->part.vdevs, &owner, &tp_host);
	return t;
}

/* The bus and the devices of types, then the partition's reset (load). */
static inline void tpart_create(struct tpart *t, const struct vdev_type *const *types, u32 n)
{
	const struct vdev_type *all[8] = { &vpci_type };

	assert_true(n < ARRAY_SIZE(all));
	memcpy(all + 1, types, n * sizeof(*types));
	assert_int_equal(vdev_create_all(&t->part.vdevs, all, n + 1), 0);
	vdev_reset_all(&t->part.vdevs);
}

static inline void tparts_free(void)
{
	for (u32 i = 0; i < TP_MAX; i++) {
		if (tparts[i].part.vdevs.count)
			vdev_free_all(&tparts[i].part.vdevs);
		fake_ram_free(&tparts[i].ram);
	}
	memset(tmodules, 0, sizeof(tmodules));
	fake_virq_clear();
}

static inline u64 tp_rw(struct tpart *t, u64 gpa, u8 size, bool write, u64 val)
{
	const struct vdev_range *r = vdev_find_mmio(&t->part.vdevs, gpa);
	struct vdev_access a = { gpa, size, write, write ? val : 0 };

	if (!r || r->access(r->dev, &t->vcpu, &a))
		return size_mask(size);
	return write ? 0 : a.val & size_mask(size);
}

/* --- the guest's driver -------------------------------------------------- */

struct drv_queue {
	u16 size, next_desc, avail_idx, used_seen;
	u64 desc, avail, used;
};

struct drv {
	struct tpart *t;
	u32 slot;
	u64 bar0, bar1;
	u32 common, notify, isr, device, mult, pci_cfg;
	struct drv_queue q[DRV_QUEUES];
};

static inline u32 drv_cfg_read(struct drv *d, u32 reg, u8 size)
{
	return (u32)tp_rw(d->t, PLAT_ECAM_BASE + ((u64)d->slot << 15) + reg, size, false, 0);
}

static inline void drv_cfg_write(struct drv *d, u32 reg, u8 size, u32 val)
{
	tp_rw(d->t, PLAT_ECAM_BASE + ((u64)d->slot << 15) + reg, size, true, val);
}

static inline u64 drv_read(struct drv *d, u32 off, u8 size)
{
	return tp_rw(d->t, d->bar0 + off, size, false, 0);
}

static inline void drv_write(struct drv *d, u32 off, u8 size, u64 val)
{
	tp_rw(d->t, d->bar0 + off, size, true, val);
}

/* Finds the function with device ID device (the n-th of them) and its
 * capabilities, as virtio_pci_modern_probe does. */
static inline void drv_probe(struct drv *d, struct tpart *t, u16 device, u32 n)
{
	memset(d, 0, sizeof(*d));
	d->t = t;
	for (d->slot = 1; d->slot < 32; d->slot++)
		if (drv_cfg_read(d, PCI_CFG_DEVICE, 2) == device && !n--)
			break;
	assert_true(d->slot < 32);
	assert_int_equal(drv_cfg_read(d, PCI_CFG_VENDOR, 2), VIRTIO_PCI_VENDOR);
	assert_int_equal(drv_cfg_read(d, PCI_CFG_REVISION, 1), VIRTIO_PCI_REVISION);
	d->bar0 = drv_cfg_read(d, PCI_CFG_BAR0, 4) & ~0xfULL;
	d->bar1 = drv_cfg_read(d, PCI_CFG_BAR0 + 4, 4) & ~0xfULL;
	for (u32 at = drv_cfg_read(d, PCI_CFG_CAP_PTR, 1); at; at = drv_cfg_read(d, at + 1, 1)) {
		u32 off = drv_cfg_read(d, at + VIRTIO_PCI_CAP_OFFSET, 4);

		if (drv_cfg_read(d, at, 1) != PCI_CAP_ID_VENDOR)
			continue;
		assert_int_equal(drv_cfg_read(d, at + VIRTIO_PCI_CAP_BAR, 1), 0);
		switch (drv_cfg_read(d, at + 3, 1)) {
		case VIRTIO_PCI_CAP_COMMON_CFG:
			d->common = off;
			break;
		case VIRTIO_PCI_CAP_NOTIFY_CFG:
			d->notify = off;
			d->mult = drv_cfg_read(d, at + VIRTIO_PCI_CFG_DATA, 4);
			break;
		case VIRTIO_PCI_CAP_ISR_CFG:
			d->isr = off;
			break;
		case VIRTIO_PCI_CAP_DEVICE_CFG:
			d->device = off;
			break;
		case VIRTIO_PCI_CAP_PCI_CFG:
			d->pci_cfg = at;
			break;
		default:
			fail_msg("unknown virtio capability");
		}
	}
	assert_true(d->notify && d->isr && d->device && d->pci_cfg);
}

static inline u8 drv_status(struct drv *d)
{
	return (u8)drv_read(d, d->common + VIRTIO_COMMON_STATUS, 1);
}

static inline void drv_set_status(struct drv *d, u8 status)
{
	drv_write(d, d->common + VIRTIO_COMMON_STATUS, 1, status);
}

static inline u64 drv_device_features(struct drv *d)
{
	u64 f;

	drv_write(d, d->common + VIRTIO_COMMON_DFSELECT, 4, 0);
	f = drv_read(d, d->common + VIRTIO_COMMON_DF, 4);
	drv_write(d, d->common + VIRTIO_COMMON_DFSELECT, 4, 1);
	return f | drv_read(d, d->common + VIRTIO_COMMON_DF, 4) << 32;
}

/* Reset, ACKNOWLEDGE, DRIVER, features; true if FEATURES_OK stuck (3.1.1). */
static inline bool drv_negotiate(struct drv *d, u64 features)
{
	drv_set_status(d, 0);
	assert_int_equal(drv_status(d), 0);
	drv_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	drv_write(d, d->common + VIRTIO_COMMON_GFSELECT, 4, 0);
	drv_write(d, d->common + VIRTIO_COMMON_GF, 4, (u32)features);
	drv_write(d, d->common + VIRTIO_COMMON_GFSELECT, 4, 1);
	drv_write(d, d->common + VIRTIO_COMMON_GF, 4, (u32)(features >> 32));
	drv_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				  VIRTIO_STATUS_FEATURES_OK);
	return drv_status(d) & VIRTIO_STATUS_FEATURES_OK;
}

static inline void drv_queue_setup(struct drv *d, u32 qi, u16 size, u16 vector)
{
	struct drv_queue *q = &d->q[qi];
	u64 base = DRV_RINGS + qi * DRV_RING_STRIDE;

	*q = (struct drv_queue){ size, 0, 0, 0, base, base + 0x1000, base + 0x2000 };
	drv_write(d, d->common + VIRTIO_COMMON_Q_SELECT, 2, qi);
	assert_int_equal(drv_read(d, d->common + VIRTIO_COMMON_Q_SIZE, 2), VIRTIO_QUEUE_SIZE);
	drv_write(d, d->common + VIRTIO_COMMON_Q_SIZE, 2, size);
	drv_write(d, d->common + VIRTIO_COMMON_Q_DESCLO, 4, (u32)q->desc);
	drv_write(d, d->common + VIRTIO_COMMON_Q_DESCHI, 4, 0);
	drv_write(d, d->common + VIRTIO_COMMON_Q_AVAILLO, 4, (u32)q->avail);
	drv_write(d, d->common + VIRTIO_COMMON_Q_AVAILHI, 4, 0);
	drv_write(d, d->common + VIRTIO_COMMON_Q_USEDLO, 4, (u32)q->used);
	drv_write(d, d->common + VIRTIO_COMMON_Q_USEDHI, 4, 0);
	drv_write(d, d->common + VIRTIO_COMMON_Q_MSIX, 2, vector);
	drv_write(d, d->common + VIRTIO_COMMON_Q_ENABLE, 2, 1);
}

/* Everything up to DRIVER_OK, bus mastering on; queues of size each. */
static inline void drv_init(struct drv *d, u64 features, u32 queues, u16 size)
{
	assert_true(drv_negotiate(d, features | BIT_ULL(VIRTIO_F_VERSION_1)));
	for (u32 q = 0; q < queues; q++)
		drv_queue_setup(d, q, size, (u16)(q + 1));
	drv_write(d, d->common + VIRTIO_COMMON_MSIX, 2, 0);
	drv_set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				  VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	drv_cfg_write(d, PCI_CFG_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_MASTER);
}

/* MSI-X on, vector v to APIC 0 with vector 0x40 + v. */
static inline void drv_msix(struct drv *d, u32 vectors)
{
	u32 cap = drv_cfg_read(d, PCI_CFG_CAP_PTR, 1);

	assert_int_equal(drv_cfg_read(d, cap, 1), PCI_CAP_ID_MSIX);
	for (u32 v = 0; v < vectors; v++) {
		tp_rw(d->t, d->bar1 + v * 16, 4, true, MSI_ADDR_BASE);
		tp_rw(d->t, d->bar1 + v * 16 + 8, 4, true, 0x40 + v);
		tp_rw(d->t, d->bar1 + v * 16 + 12, 4, true, 0);
	}
	drv_cfg_write(d, cap + PCI_MSIX_CTRL, 2, PCI_MSIX_CTRL_ENABLE);
}

static inline u8 *gmem(struct drv *d, u64 gpa)
{
	return d->t->mem + gpa;
}

struct drv_buf {
	u64 gpa;
	u32 len;
	bool write;
};

/* Posts a chain of n buffers on queue qi; its head. */
static inline u16 drv_post(struct drv *d, u32 qi, const struct drv_buf *b, u32 n)
{
	struct drv_queue *q = &d->q[qi];
	struct virtq_desc *desc = (struct virtq_desc *)gmem(d, q->desc);
	struct virtq_avail *avail = (struct virtq_avail *)gmem(d, q->avail);
	u16 head = q->next_desc;

	for (u32 i = 0; i < n; i++) {
		u16 at = (u16)((head + i) % q->size);

		desc[at] = (struct virtq_desc){ b[i].gpa, b[i].len,
						(u16)((b[i].write ? VIRTQ_DESC_F_WRITE : 0) |
						      (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
						(u16)((at + 1) % q->size) };
	}
	q->next_desc = (u16)((head + n) % q->size);
	avail->ring[q->avail_idx % q->size] = head;
	avail->idx = ++q->avail_idx;
	return head;
}

static inline void drv_kick(struct drv *d, u32 qi)
{
	drv_write(d, d->notify + qi * d->mult, 2, qi);
}

/* The next used element of queue qi; false when there is none. */
static inline bool drv_used(struct drv *d, u32 qi, u32 *id, u32 *len)
{
	struct drv_queue *q = &d->q[qi];
	struct virtq_used *used = (struct virtq_used *)gmem(d, q->used);

	if (used->idx == q->used_seen)
		return false;
	*id = used->ring[q->used_seen % q->size].id;
	*len = used->ring[q->used_seen % q->size].len;
	q->used_seen++;
	return true;
}
