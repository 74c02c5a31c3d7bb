/*
 * virtio-blk (OASIS virtio v1.1, 5.2): one function per `disk` of the
 * partition's configuration, one request queue, backed by the boot module
 * of that name in place (docs/virtio.md, section 5): the disk is the
 * hypervisor's memory, never mapped into a partition, and what a guest
 * writes stays across its restarts.
 *
 * Requests run on the CPU that notified, under the queue's lock, up to
 * VBLK_BUDGET bytes per exit; the rest on vCPU 0's next entry (the timer).
 */
#include "hv/vdev/vblk.h"
#include "hv/config/config.h"
#include "hv/hw/pci.h"
#include "hv/lib/lib.h"
#include "hv/lib/log.h"
#include "hv/vdev/virtio_pci.h"

#define VBLK_SEG_MAX (VIRTIO_QUEUE_SIZE - 2) /* a request's header and status */
#define VBLK_REQ_MAX (4 * MiB)		     /* data in one request */
#define VBLK_BUDGET (8 * MiB)		     /* data moved in one exit */
#define VBLK_Q 0

struct vblk_disk {
	struct virtio_pci vp; /* first: the transport's callbacks get it */
	struct vblk *owner;
	const char *name;
	u8 *data;
	u64 size;
	struct virtio_blk_config config;
	struct virtq_chain chain; /* the request at hand, under qlock */
	bool more;		  /* requests left for the timer */
	u64 reads, writes, read_bytes, write_bytes, flushes, errors;
};

struct vblk {
	struct vdev_registry *reg;
	u32 count;
	struct vblk_disk disk[CONFIG_MAX_DISK];
};

/* The data of an IN or OUT request: whole sectors inside the disk. */
static bool in_disk(const struct vblk_disk *k, u64 sector, u64 len)
{
	return !(len % VIRTIO_BLK_SECTOR_SIZE) && len <= VBLK_REQ_MAX &&
	       sector <= k->size / VIRTIO_BLK_SECTOR_SIZE &&
	       len <= k->size - sector * VIRTIO_BLK_SECTOR_SIZE;
}

/* One request (5.2.6): its status, and the data bytes it wrote. */
static u8 request(struct vblk_disk *k, const struct virtq_chain *c, u64 *written)
{
	struct virtio_blk_req_hdr h;
	u64 len, at;

	*written = 0;
	if (virtq_read(c, 0, &h, sizeof(h)) != sizeof(h))
		return VIRTIO_BLK_S_IOERR;
	at = h.sector * VIRTIO_BLK_SECTOR_SIZE;
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		len = c->in_len - 1;
		if (!in_disk(k, h.sector, len))
			return VIRTIO_BLK_S_IOERR;
		*written = virtq_write(c, 0, k->data + at, len);
		k->reads++;
		k->read_bytes += len;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		len = c->out_len - sizeof(h);
		if (k->vp.features & BIT_ULL(VIRTIO_BLK_F_RO) || !in_disk(k, h.sector, len))
			return VIRTIO_BLK_S_IOERR;
		virtq_read(c, sizeof(h), k->data + at, len);
		k->writes++;
		k->write_bytes += len;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH: /* RAM: nothing is cached on the way */
		k->flushes++;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID: {
		char id[VIRTIO_BLK_ID_BYTES] = { 0 };

		/* the name, NUL-terminated if shorter than 20 bytes */
		memcpy(id, k->name, MIN(strlen(k->name), sizeof(id)));
		*written = virtq_write(c, 0, id, MIN(sizeof(id), c->in_len - 1));
		return VIRTIO_BLK_S_OK;
	}
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* Requests until the queue is empty or the budget spent. qlock held. */
static void process(struct vblk_disk *k)
{
	struct virtio_pci *vp = &k->vp;
	struct virtq *q = &vp->vq[VBLK_Q];
	u64 moved = 0;
	bool used = false;
	int rc = 0;

	while (moved < VBLK_BUDGET && (rc = virtq_pop(q, &vp->mem, &k->chain)) == 1) {
		const struct virtq_chain *c = &k->chain;
		u64 written;
		u8 status;

		/* 5.2.6: the status is the last byte the device may write */
		if (!c->in_len || c->out_len < sizeof(struct virtio_blk_req_hdr)) {
			rc = -E_INVAL;
			break;
		}
		status = request(k, c, &written);
		if (status != VIRTIO_BLK_S_OK)
			k->errors++;
		virtq_write(c, c->in_len - 1, &status, 1);
		virtq_push(q, c->head, (u32)(written + 1));
		moved += written + c->out_len;
		used = true;
	}
	if (rc < 0)
		virtio_broken(vp);
	k->more = rc == 1;
	if (used)
		virtio_queue_irq(vp, VBLK_Q);
}

static void run_queue(struct vblk_disk *k)
{
	spin_lock(&k->vp.qlock[VBLK_Q]);
	if (virtio_live(&k->vp))
		process(k);
	else
		k->more = false;
	spin_unlock(&k->vp.qlock[VBLK_Q]);
}

static void vblk_notify(struct virtio_pci *vp, u32 q)
{
	struct vblk_disk *k = (struct vblk_disk *)vp;

	(void)q;
	run_queue(k);
	if (k->more)
		vdev_timer_changed(k->owner->reg);
}

static void vblk_disk_reset(struct virtio_pci *vp)
{
	((struct vblk_disk *)vp)->more = false;
}

static const struct virtio_dev_ops disk_ops = {
	.notify = vblk_notify,
	.reset = vblk_disk_reset,
};

/* Requests left over from a notify: due at once while there are. */
static u64 vblk_timer(void *dev, u64 now)
{
	struct vblk *b = dev;
	bool more = false;

	for (u32 i = 0; i < b->count; i++) {
		if (b->disk[i].more)
			run_queue(&b->disk[i]);
		more |= b->disk[i].more;
	}
	return more ? now : 0;
}

static int add_disk(struct vblk *b, struct vblk_disk *k, const struct config_disk *cfg)
{
	const struct vdev_host *host = b->reg->host;

	k->owner = b;
	k->name = cfg->name;
	k->data = host->module(cfg->name, &k->size);
	if (!k->data || !k->size || k->size % VIRTIO_BLK_SECTOR_SIZE) {
		pr_err("partition %s: disk %s: no module of whole sectors by that name\n",
		       b->reg->owner.name, cfg->name);
		return -E_NOENT;
	}
	k->config = (struct virtio_blk_config){ .capacity = k->size / VIRTIO_BLK_SECTOR_SIZE,
						.seg_max = VBLK_SEG_MAX };
	k->vp.type = VIRTIO_ID_BLOCK;
	k->vp.class_code = PCI_CLASS_STORAGE_OTHER;
	k->vp.features = BIT_ULL(VIRTIO_BLK_F_SEG_MAX) | BIT_ULL(VIRTIO_BLK_F_FLUSH) |
			 (cfg->ro ? BIT_ULL(VIRTIO_BLK_F_RO) : 0);
	k->vp.config = &k->config;
	k->vp.config_len = sizeof(k->config);
	k->vp.queue_count = 1;
	k->vp.ops = &disk_ops;
	return virtio_pci_add(&k->vp, b->reg);
}

static int vblk_create(struct vdev_registry *reg, void *dev)
{
	const struct config_partition *cfg = reg->owner.cfg;
	struct vblk *b = dev;

	if (!cfg->disk_count)
		return VDEV_DECLINED;
	b->reg = reg;
	for (; b->count < cfg->disk_count && b->count < CONFIG_MAX_DISK; b->count++) {
		int err = add_disk(b, &b->disk[b->count], &cfg->disk[b->count]);

		if (err)
			return err;
	}
	return 0;
}

static void vblk_stats(void *dev)
{
	struct vblk *b = dev;

	for (u32 i = 0; i < b->count; i++) {
		const struct vblk_disk *k = &b->disk[i];

		pr_info("partition %s: disk %s: %lu reads (%lu KiB), %lu writes (%lu KiB), "
			"%lu flushes, %lu failed, %lu times broken\n",
			b->reg->owner.name, k->name, k->reads, k->read_bytes / KiB, k->writes,
			k->write_bytes / KiB, k->flushes, k->errors, k->vp.broken);
	}
}

/* The functions reset with the bus (hv/vdev/vpci.c). */
const struct vdev_type vblk_type = {
	.name = "virtio-blk",
	.size = sizeof(struct vblk),
	.create = vblk_create,
	.timer = vblk_timer,
	.stats = vblk_stats,
};
