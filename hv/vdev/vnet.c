/*
 * virtio-net (OASIS virtio v1.1, 5.1): one function per `net` of the
 * partition's configuration, a port on that switch (hv/vdev/vswitch.c).
 * Queues: receiveq 0 and transmitq 0; no offloads, no control queue, no
 * mergeable receive buffers: a frame is at most VNET_FRAME_MAX bytes after
 * the 12-byte header, in one receive chain.
 *
 * A transmit runs on the sender's CPU (docs/virtio.md, sections 4 and 7):
 * under its transmit queue's lock, each frame is copied once into the
 * port's frame buffer, routed, and copied into each receiver's next
 * receive chain under that queue's lock (held for one copy); a receiver
 * without a buffer loses the frame and counts it. At most VNET_TX_BUDGET
 * frames per exit; the rest on vCPU 0's next entry (the device timer).
 */
#include "hv/vdev/vnet.h"
#include "hv/config/config.h"
#include "hv/hw/pci.h"
#include "hv/lib/lib.h"
#include "hv/lib/log.h"
#include "hv/vdev/virtio_pci.h"
#include "hv/vdev/vswitch.h"

#define VNET_FRAME_MAX 1518 /* 1500 bytes of payload, a VLAN tag */
#define VNET_TX_BUDGET 64   /* frames per exit */
#define MAC_LOCAL 0x02	    /* locally administered, unicast */
#define MAC_HASH_SHIFT 24   /* the top five bytes of the hash */
#define RX VIRTIO_NET_Q_RX
#define TX VIRTIO_NET_Q_TX

struct vnet_port {
	struct virtio_pci vp; /* first: the transport's callbacks get it */
	struct vnet *owner;
	struct vswitch *sw;
	u32 index; /* on the switch */
	struct virtio_net_config config;
	/* the transmit side: its partition's CPUs, under qlock[TX] */
	struct virtq_chain tx_chain;
	u8 frame[VNET_FRAME_MAX];
	bool more;
	u64 tx_frames, tx_bytes, tx_bad;
	/* the receive side: any sender on the switch, under qlock[RX] */
	struct virtq_chain rx_chain;
	u64 rx_frames, rx_bytes, rx_dropped;
};

struct vnet {
	struct vdev_registry *reg;
	u32 count;
	struct vnet_port port[CONFIG_MAX_NET];
};

void vnet_mac(const char *partition, const char *sw, u8 mac[ETH_ALEN])
{
	u64 h = fnv1a64(FNV1A64_INIT, partition, strlen(partition));

	h = fnv1a64(fnv1a64(h, "/", 1), sw, strlen(sw));
	mac[0] = MAC_LOCAL;
	for (u32 i = 1; i < ETH_ALEN; i++)
		mac[i] = (u8)(h >> (MAC_HASH_SHIFT + 8 * (ETH_ALEN - 1 - i)));
}

/* One frame into to's next receive chain (5.1.6.3, 5.1.6.4); false when
 * it is lost there. */
static bool deliver(struct vnet_port *to, const u8 *frame, u32 len)
{
	struct virtio_pci *vp = &to->vp;
	u8 hdr[VIRTIO_NET_HDR_LEN] = { 0 };
	bool ok = false;
	int rc;

	hdr[VIRTIO_NET_HDR_NUM_BUFFERS] = 1;
	spin_lock(&vp->qlock[RX]);
	rc = virtio_live(vp) ? virtq_pop(&vp->vq[RX], &vp->mem, &to->rx_chain) : 0;
	if (rc < 0) {
		virtio_broken(vp);
	} else if (rc && to->rx_chain.in_len < sizeof(hdr) + len) {
		virtq_unpop(&vp->vq[RX]); /* too small for it: the next may fit */
	} else if (rc) {
		virtq_write(&to->rx_chain, 0, hdr, sizeof(hdr));
		virtq_write(&to->rx_chain, sizeof(hdr), frame, len);
		virtq_push(&vp->vq[RX], to->rx_chain.head, (u32)sizeof(hdr) + len);
		to->rx_frames++;
		to->rx_bytes += len;
		ok = true;
	}
	if (!ok)
		to->rx_dropped++;
	spin_unlock(&vp->qlock[RX]);
	return ok;
}

/* The port's frame to wherever the switch sends it: the ports it reached. */
static u32 forward(struct vnet_port *p, u32 len)
{
	u32 mask = vswitch_route(p->sw, p->index, p->frame), got = 0;

	for (u32 i = 0; mask; i++, mask >>= 1) {
		struct vnet_port *to = __atomic_load_n(&p->sw->port[i], __ATOMIC_ACQUIRE);

		if ((mask & 1) && to && deliver(to, p->frame, len))
			got |= BIT(i);
	}
	return got;
}

/* Up to VNET_TX_BUDGET frames; the ports that received any. qlock[TX] held. */
static u32 transmit(struct vnet_port *p)
{
	struct virtio_pci *vp = &p->vp;
	struct virtq *q = &vp->vq[TX];
	u32 done = 0, got = 0;
	int rc = 0;

	while (done < VNET_TX_BUDGET && (rc = virtq_pop(q, &vp->mem, &p->tx_chain)) == 1) {
		u64 len = p->tx_chain.out_len - VIRTIO_NET_HDR_LEN;

		/* 5.1.6.2: the header, then the frame; no offloads were offered */
		if (p->tx_chain.out_len < VIRTIO_NET_HDR_LEN + ETH_HLEN || len > VNET_FRAME_MAX) {
			p->tx_bad++;
		} else {
			virtq_read(&p->tx_chain, VIRTIO_NET_HDR_LEN, p->frame, len);
			got |= forward(p, (u32)len);
			p->tx_frames++;
			p->tx_bytes += len;
		}
		virtq_push(q, p->tx_chain.head, 0);
		done++;
	}
	if (rc < 0)
		virtio_broken(vp);
	p->more = rc == 1 && done == VNET_TX_BUDGET;
	if (done)
		virtio_queue_irq(vp, TX);
	return got;
}

/* One interrupt per receiver for a batch of frames. */
static void signal_receivers(struct vswitch *sw, u32 got)
{
	for (u32 i = 0; got; i++, got >>= 1) {
		struct vnet_port *to = __atomic_load_n(&sw->port[i], __ATOMIC_ACQUIRE);

		if (!(got & 1) || !to)
			continue;
		spin_lock(&to->vp.qlock[RX]);
		virtio_queue_irq(&to->vp, RX);
		spin_unlock(&to->vp.qlock[RX]);
	}
}

static void run_tx(struct vnet_port *p)
{
	u32 got = 0;

	spin_lock(&p->vp.qlock[TX]);
	if (virtio_live(&p->vp))
		got = transmit(p);
	else
		p->more = false;
	spin_unlock(&p->vp.qlock[TX]);
	signal_receivers(p->sw, got);
}

static void vnet_notify(struct virtio_pci *vp, u32 q)
{
	struct vnet_port *p = (struct vnet_port *)vp;

	if (q == RX) {
		/* 2.6.7.2: receive buffers need no notification, frames come
		 * when senders send */
		spin_lock(&vp->qlock[RX]);
		if (vp->vq[RX].ready)
			vp->vq[RX].used->flags = VIRTQ_USED_F_NO_NOTIFY;
		spin_unlock(&vp->qlock[RX]);
		return;
	}
	run_tx(p);
	if (p->more)
		vdev_timer_changed(p->owner->reg);
}

static void vnet_port_reset(struct virtio_pci *vp)
{
	((struct vnet_port *)vp)->more = false;
}

static const struct virtio_dev_ops port_ops = {
	.notify = vnet_notify,
	.reset = vnet_port_reset,
};

/* Frames left over from a notify: due at once while there are. */
static u64 vnet_timer(void *dev, u64 now)
{
	struct vnet *n = dev;
	bool more = false;

	for (u32 i = 0; i < n->count; i++) {
		if (n->port[i].more)
			run_tx(&n->port[i]);
		more |= n->port[i].more;
	}
	return more ? now : 0;
}

static int add_port(struct vnet *n, struct vnet_port *p, const char *sw_name)
{
	struct vswitch *sw = vswitch_get(sw_name);
	int index = sw ? vswitch_attach(sw, p) : -E_NOMEM;

	if (index < 0)
		return -E_NOMEM;
	p->owner = n;
	p->sw = sw; /* attached: vnet_free detaches it */
	p->index = (u32)index;
	vnet_mac(n->reg->owner.name, sw_name, p->config.mac);
	p->config.status = VIRTIO_NET_S_LINK_UP;
	p->vp.type = VIRTIO_ID_NET;
	p->vp.class_code = PCI_CLASS_ETHERNET;
	p->vp.features = BIT_ULL(VIRTIO_NET_F_MAC) | BIT_ULL(VIRTIO_NET_F_STATUS);
	p->vp.config = &p->config;
	p->vp.config_len = sizeof(p->config);
	p->vp.queue_count = 2;
	p->vp.ops = &port_ops;
	return virtio_pci_add(&p->vp, n->reg);
}

/* Leaves the switches (a failed build): no sender may find the port. */
static void vnet_free(void *dev)
{
	struct vnet *n = dev;

	for (u32 i = 0; i < n->count; i++)
		if (n->port[i].sw)
			vswitch_detach(n->port[i].sw, n->port[i].index);
}

static int vnet_create(struct vdev_registry *reg, void *dev)
{
	const struct config_partition *cfg = reg->owner.cfg;
	struct vnet *n = dev;

	if (!cfg->net_count)
		return VDEV_DECLINED;
	n->reg = reg;
	while (n->count < cfg->net_count && n->count < CONFIG_MAX_NET) {
		int err = add_port(n, &n->port[n->count], cfg->net[n->count]);

		n->count++;
		if (err) {
			vnet_free(n);
			return err;
		}
	}
	return 0;
}

/* The partition stopped: its receive queues go before its RAM is zeroed
 * and reloaded, so that no sender writes into it meanwhile. */
static void vnet_stopped(void *dev)
{
	struct vnet *n = dev;

	for (u32 i = 0; i < n->count; i++)
		virtio_reset(&n->port[i].vp);
}

static void vnet_stats(void *dev)
{
	struct vnet *n = dev;

	for (u32 i = 0; i < n->count; i++) {
		const struct vnet_port *p = &n->port[i];
		const u8 *m = p->config.mac;

		pr_info("partition %s: net %s (%02x:%02x:%02x:%02x:%02x:%02x): sent %lu frames "
			"(%lu KiB), %lu bad; received %lu (%lu KiB); lost %lu (no receive "
			"buffer); %lu times broken\n",
			n->reg->owner.name, p->sw->name, m[0], m[1], m[2], m[3], m[4], m[5],
			p->tx_frames, p->tx_bytes / KiB, p->tx_bad, p->rx_frames, p->rx_bytes / KiB,
			p->rx_dropped, p->vp.broken);
	}
}

/* The functions reset with the bus (hv/vdev/vpci.c). */
const struct vdev_type vnet_type = {
	.name = "virtio-net",
	.size = sizeof(struct vnet),
	.create = vnet_create,
	.free = vnet_free,
	.timer = vnet_timer,
	.stopped = vnet_stopped,
	.stats = vnet_stats,
};
