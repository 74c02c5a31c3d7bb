/*
 * virtio-net and the switches (hv/vdev/vnet.c, hv/vdev/vswitch.c), with
 * three partitions driven as Linux's virtio_net drives them: discovery,
 * the MAC address, learning and forwarding, frames copied whole with their
 * header, nothing across switches, a receiver without buffers losing
 * frames (counted) without holding the sender, bounded work per exit,
 * broken receivers and senders, a stopped partition quiesced, and one
 * interrupt per receiver for a batch.
 */
#include "hv/vdev/virtio_pci.h"
#include "hv/vdev/vnet.h"
#include "hv/vdev/vswitch.h"
#include "tests/unit/test_vdev_fakes.h"
#include "tests/unit/test_virq_fakes.h"
#include "tests/unit/test_virtio_fakes.h"

#define TX_BUF 0x400000ULL /* frames to send */
#define RX_BUF 0x800000ULL /* receive buffers, RX_STRIDE apart */
#define RX_STRIDE 0x800
#define FRAME_MAX 1518
#define HDR VIRTIO_NET_HDR_LEN

static struct tpart *a, *b, *c;
static struct drv da, db, dc;
static char sw1[16], sw2[16];
static const struct vdev_type *const types[] = { &vnet_type };

static void net_part(struct tpart *t, const char *sw)
{
	t->cfg.net_count = 1;
	strcpy(t->cfg.net[0], sw);
	tpart_create(t, types, ARRAY_SIZE(types));
}

/* Partitions a and b on one switch, c on another, drivers ready. */
static int setup(void **state)
{
	static u32 n;

	(void)state;
	/* switches live as long as the hypervisor: new names each test */
	snprintf(sw1, sizeof(sw1), "lan%u", n++);
	snprintf(sw2, sizeof(sw2), "lan%u", n++);
	a = tpart_init(0, "a");
	b = tpart_init(1, "b");
	c = tpart_init(2, "c");
	net_part(a, sw1);
	net_part(b, sw1);
	net_part(c, sw2);
	drv_probe(&da, a, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET, 0);
	drv_probe(&db, b, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET, 0);
	drv_probe(&dc, c, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_NET, 0);
	return 0;
}

static int teardown_net(void **state)
{
	tparts_free();
	return teardown(state);
}

static void up_size(struct drv *d, u16 size)
{
	drv_msix(d, 3);
	drv_init(d, BIT_ULL(VIRTIO_NET_F_MAC) | BIT_ULL(VIRTIO_NET_F_STATUS), 2, size);
}

static void up(struct drv *d)
{
	up_size(d, DRV_QUEUE_SIZE);
}

/* n receive buffers of len bytes each. */
static void rx_buffers(struct drv *d, u32 n, u32 len)
{
	for (u32 i = 0; i < n; i++) {
		struct drv_buf buf = { RX_BUF + (u64)(d->q[0].avail_idx % d->q[0].size) * RX_STRIDE,
				       len, true };

		drv_post(d, VIRTIO_NET_Q_RX, &buf, 1);
	}
}

static void mac_of(struct drv *d, u8 mac[6])
{
	for (u32 i = 0; i < 6; i++)
		mac[i] = (u8)drv_read(d, d->device + i, 1);
}

/* Queues a frame dst <- src with payload byte fill, len bytes in all,
 * header and frame in one buffer (as VERSION_1 lets Linux do). */
static void queue_frame(struct drv *d, const u8 dst[6], const u8 src[6], u8 fill, u32 len)
{
	static u32 slot;
	u64 at = TX_BUF + (slot++ % DRV_QUEUE_SIZE) * 0x1000;
	u8 *p = gmem(d, at);
	struct drv_buf buf = { at, HDR + len, false };

	memset(p, 0, HDR);
	memset(p + HDR, fill, len);
	memcpy(p + HDR, dst, 6);
	memcpy(p + HDR + 6, src, 6);
	drv_post(d, VIRTIO_NET_Q_TX, &buf, 1);
}

static void send(struct drv *d, const u8 dst[6], const u8 src[6], u8 fill, u32 len)
{
	queue_frame(d, dst, src, fill, len);
	drv_kick(d, VIRTIO_NET_Q_TX);
}

/* The next frame d received: its length (0 for none) and first bytes. */
static u32 received(struct drv *d, u8 *first, u32 n)
{
	u32 id, len;
	u8 *buf;

	if (!drv_used(d, VIRTIO_NET_Q_RX, &id, &len))
		return 0;
	buf = gmem(d, ((struct virtq_desc *)gmem(d, d->q[0].desc))[id].addr);
	assert_true(len >= HDR);
	assert_int_equal(buf[VIRTIO_NET_HDR_NUM_BUFFERS], 1);
	for (u32 i = 0; i < HDR; i++)
		if (i != VIRTIO_NET_HDR_NUM_BUFFERS)
			assert_int_equal(buf[i], 0);
	memcpy(first, buf + HDR, MIN(n, len - HDR));
	return len - HDR;
}

static u32 tx_done(struct drv *d)
{
	u32 id, len, n = 0;

	while (drv_used(d, VIRTIO_NET_Q_TX, &id, &len)) {
		assert_int_equal(len, 0);
		n++;
	}
	return n;
}

static u32 msgs_to(struct tpart *t, u8 vector)
{
	u32 n = 0;

	for (u32 i = 0; i < fake_msg_count; i++)
		n += fake_msgs[i].reg == &t->part.vdevs && fake_msgs[i].vector == vector;
	return n;
}

static const u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void test_discovery(void **state)
{
	u8 m[6], want[6];
	u64 h = 0xcbf29ce484222325ULL;

	(void)state;
	assert_int_equal(drv_cfg_read(&da, PCI_CFG_REVISION, 4),
			 PCI_CLASS_ETHERNET << 8 | VIRTIO_PCI_REVISION);
	assert_int_equal(drv_device_features(&da), BIT_ULL(VIRTIO_F_VERSION_1) |
							   BIT_ULL(VIRTIO_NET_F_MAC) |
							   BIT_ULL(VIRTIO_NET_F_STATUS));
	assert_int_equal(drv_read(&da, da.common + VIRTIO_COMMON_NUMQ, 2), 2);
	assert_int_equal(drv_read(&da, da.device + 6, 2), VIRTIO_NET_S_LINK_UP);
	/* docs/virtio.md: 02, then the top five bytes of FNV-1a-64("a/lanN") */
	mac_of(&da, m);
	for (const char *s = "a/"; *s; s++)
		h = (h ^ (u8)*s) * 0x100000001b3ULL;
	for (const char *s = sw1; *s; s++)
		h = (h ^ (u8)*s) * 0x100000001b3ULL;
	want[0] = 0x02;
	for (u32 i = 1; i < 6; i++)
		want[i] = (u8)(h >> (64 - 8 * i));
	assert_memory_equal(m, want, 6);
	vnet_mac("a", sw1, want);
	assert_memory_equal(m, want, 6);
	/* another partition, another switch: another address */
	mac_of(&db, want);
	assert_memory_not_equal(m, want, 6);
	vnet_mac("a", sw2, want);
	assert_memory_not_equal(m, want, 6);
}

static void test_forwarding(void **state)
{
	u8 ma[6], mb[6], got[64];

	(void)state;
	up(&da);
	up(&db);
	up(&dc);
	rx_buffers(&da, 8, 2048);
	rx_buffers(&db, 8, 2048);
	rx_buffers(&dc, 8, 2048);
	mac_of(&da, ma);
	mac_of(&db, mb);
	/* a broadcast from a reaches b, not c on the other switch */
	send(&da, bcast, ma, 0x11, 60);
	assert_int_equal(tx_done(&da), 1);
	assert_int_equal(received(&db, got, 60), 60);
	assert_memory_equal(got, bcast, 6);
	assert_memory_equal(got + 6, ma, 6);
	assert_int_equal(got[20], 0x11);
	assert_int_equal(received(&dc, got, 60), 0);
	assert_int_equal(received(&da, got, 60), 0); /* never back to the sender */
	/* one interrupt to b for its receive queue (vector 1: 0x41), one to a
	 * for its transmit queue (vector 2: 0x42) */
	assert_int_equal(msgs_to(b, 0x41), 1);
	assert_int_equal(msgs_to(a, 0x42), 1);
	assert_int_equal(msgs_to(c, 0x41), 0);
	/* b answers a by unicast; a, learnt, gets it */
	send(&db, ma, mb, 0x22, 1514);
	assert_int_equal(received(&da, got, 64), 1514);
	assert_int_equal(got[30], 0x22);
	/* a to b, learnt too; the largest frame with a VLAN tag */
	send(&da, mb, ma, 0x33, FRAME_MAX);
	assert_int_equal(received(&db, got, 64), FRAME_MAX);
	assert_int_equal(received(&dc, got, 64), 0);
	/* unknown unicast floods (to b only: c is elsewhere) */
	send(&da, (const u8[6]){ 0x02, 1, 2, 3, 4, 5 }, ma, 0x44, 100);
	assert_int_equal(received(&db, got, 64), 100);
	/* c, alone on its switch, sends into the void */
	send(&dc, bcast, (const u8[6]){ 0x02, 9, 9, 9, 9, 9 }, 0x55, 100);
	assert_int_equal(tx_done(&dc), 1);
	assert_int_equal(received(&da, got, 64), 0);
	assert_int_equal(received(&db, got, 64), 0);
}

static void test_frames_split_over_buffers(void **state)
{
	u8 ma[6], got[64];
	struct drv_buf tx[3] = { { TX_BUF, 5, false },
				 { TX_BUF + 0x100, 20, false },
				 { TX_BUF + 0x200, 57, false } };
	struct drv_buf rx[3] = { { RX_BUF, 7, true },
				 { RX_BUF + 0x100, 30, true },
				 { RX_BUF + 0x200, 100, true } };
	u32 id, len;

	(void)state;
	up(&da);
	up(&db);
	mac_of(&da, ma);
	drv_post(&db, VIRTIO_NET_Q_RX, rx, 3);
	/* header in pieces, the frame across the rest */
	memset(gmem(&da, TX_BUF), 0, 0x300);
	memcpy(gmem(&da, TX_BUF + 0x100) + 7, bcast, 6);
	memcpy(gmem(&da, TX_BUF + 0x100) + 13, ma, 6);
	memset(gmem(&da, TX_BUF + 0x200), 0x66, 57);
	drv_post(&da, VIRTIO_NET_Q_TX, tx, 3);
	drv_kick(&da, VIRTIO_NET_Q_TX);
	assert_true(drv_used(&db, VIRTIO_NET_Q_RX, &id, &len));
	assert_int_equal(len, 82);
	assert_int_equal(gmem(&db, RX_BUF)[6], 0);
	assert_int_equal(gmem(&db, RX_BUF + 0x100)[VIRTIO_NET_HDR_NUM_BUFFERS - 7], 1);
	memcpy(got, gmem(&db, RX_BUF + 0x100) + 5, 6);
	assert_memory_equal(got, bcast, 6);
	assert_int_equal(gmem(&db, RX_BUF + 0x200)[30], 0x66);
}

/* A receiver with no buffers loses the frames, counted; the sender is not
 * held; once it posts buffers it receives again. */
static void test_receiver_not_reading(void **state)
{
	u8 ma[6], got[64];
	(void)state;
	up(&da);
	up(&db);
	mac_of(&da, ma);
	for (u32 i = 0; i < 40; i++)
		send(&da, bcast, ma, (u8)i, 200);
	assert_int_equal(tx_done(&da), 40);
	assert_int_equal(received(&db, got, 64), 0);
	printk_count = 0;
	vdev_stats(&b->part.vdevs);
	assert_int_equal(printk_count, 1);
	assert_non_null(strstr(printk_last, "lost 40 (no receive buffer)"));
	/* a buffer too small for the frame is not used; the frame is lost */
	rx_buffers(&db, 1, 100);
	send(&da, bcast, ma, 1, 200);
	assert_int_equal(received(&db, got, 64), 0);
	rx_buffers(&db, 1, 2048);
	send(&da, bcast, ma, 2, 50);
	assert_int_equal(received(&db, got, 64), 50); /* the small one took it */
	send(&da, bcast, ma, 3, 300);
	assert_int_equal(received(&db, got, 64), 300);
}

static void test_bad_frames(void **state)
{
	u8 ma[6], got[64];
	struct drv_buf tiny = { TX_BUF, HDR + 10, false };

	(void)state;
	up(&da);
	up(&db);
	rx_buffers(&db, 8, 4096);
	mac_of(&da, ma);
	/* shorter than an Ethernet header, longer than the largest frame */
	drv_post(&da, VIRTIO_NET_Q_TX, &tiny, 1);
	queue_frame(&da, bcast, ma, 0, FRAME_MAX + 1);
	drv_kick(&da, VIRTIO_NET_Q_TX);
	assert_int_equal(tx_done(&da), 2);
	assert_int_equal(received(&db, got, 64), 0);
	printk_count = 0;
	vdev_stats(&a->part.vdevs);
	assert_non_null(strstr(printk_last, "sent 0 frames (0 KiB), 2 bad"));
	assert_int_equal(drv_status(&da) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void test_budget_per_exit(void **state)
{
	u8 ma[6], got[64];
	u32 n = 0;

	(void)state;
	up_size(&da, 2 * DRV_QUEUE_SIZE);
	up_size(&db, 2 * DRV_QUEUE_SIZE);
	rx_buffers(&db, 2 * DRV_QUEUE_SIZE, 2048);
	mac_of(&da, ma);
	for (u32 i = 0; i < 90; i++)
		queue_frame(&da, bcast, ma, (u8)i, 100);
	a->kicks = 0;
	drv_kick(&da, VIRTIO_NET_Q_TX);
	/* 64 frames at the notify, the rest at the timer's turn */
	assert_int_equal(tx_done(&da), 64);
	assert_int_equal(a->kicks, 1);
	assert_int_equal(vdev_timers(&a->part.vdevs, &a->vcpu, 500), 0);
	assert_int_equal(tx_done(&da), 26);
	while (received(&db, got, 64))
		n++;
	assert_int_equal(n, 90);
}

/* A receiver whose driver broke its queue needs a reset; the sender and
 * the others go on. */
static void test_broken_receiver(void **state)
{
	u8 ma[6], got[64];
	struct virtq_desc *desc;
	struct virtq_avail *avail;

	(void)state;
	up(&da);
	up(&db);
	mac_of(&da, ma);
	desc = (struct virtq_desc *)gmem(&db, db.q[0].desc);
	avail = (struct virtq_avail *)gmem(&db, db.q[0].avail);
	desc[3] = (struct virtq_desc){ RX_BUF, 2048, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3 };
	avail->ring[0] = 3;
	avail->idx = 1;
	send(&da, bcast, ma, 1, 100);
	assert_int_equal(tx_done(&da), 1);
	assert_true(drv_status(&db) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(drv_status(&da) & VIRTIO_STATUS_NEEDS_RESET, 0);
	assert_int_equal(msgs_to(b, 0x40), 1); /* b's configuration interrupt */
	/* reset and set up again: it receives */
	up(&db);
	rx_buffers(&db, 2, 2048);
	send(&da, bcast, ma, 2, 100);
	assert_int_equal(received(&db, got, 64), 100);
}

/* A partition that stops: its receive queues go at once (vnet_stopped),
 * before its RAM is zeroed and reloaded; senders then drop. */
static void test_stopped_receiver(void **state)
{
	u8 ma[6], got[64];

	(void)state;
	up(&da);
	up(&db);
	rx_buffers(&db, 8, 2048);
	mac_of(&da, ma);
	vdev_stopped(&b->part.vdevs);
	assert_int_equal(drv_status(&db), 0);
	memset(gmem(&db, RX_BUF), 0xcc, 8 * RX_STRIDE);
	send(&da, bcast, ma, 1, 100);
	assert_int_equal(tx_done(&da), 1);
	for (u32 i = 0; i < 8 * RX_STRIDE; i++)
		assert_int_equal(gmem(&db, RX_BUF)[i], 0xcc);
	/* and the bus reset of its restart leaves it quiet too */
	vdev_reset_all(&b->part.vdevs);
	send(&da, bcast, ma, 2, 100);
	assert_int_equal(received(&db, got, 64), 0);
}

/* The driver's receive buffers need no notification (2.6.7.2). */
static void test_rx_needs_no_notify(void **state)
{
	(void)state;
	up(&db);
	rx_buffers(&db, 4, 2048);
	drv_kick(&db, VIRTIO_NET_Q_RX);
	assert_int_equal(((struct virtq_used *)gmem(&db, db.q[0].used))->flags,
			 VIRTQ_USED_F_NO_NOTIFY);
}

/* The switch alone: learning, group addresses, flooding, own port. */
static void test_switch_route(void **state)
{
	struct vswitch *sw = vswitch_get("route-test");
	u8 f[14] = { 0 };
	const u8 x[6] = { 0x02, 0, 0, 0, 0, 1 }, y[6] = { 0x02, 0, 0, 0, 0, 2 };
	int p0, p1, p2;

	(void)state;
	assert_ptr_equal(vswitch_get("route-test"), sw);
	p0 = vswitch_attach(sw, &f);
	p1 = vswitch_attach(sw, &f);
	p2 = vswitch_attach(sw, &f);
	assert_true(p0 >= 0 && p1 >= 0 && p2 >= 0);
	/* unknown destination: everyone else */
	memcpy(f, y, 6);
	memcpy(f + 6, x, 6);
	assert_int_equal(vswitch_route(sw, (u32)p0, f), BIT(p1) | BIT(p2));
	/* x learnt at p0: to x from p2 goes to p0 only */
	memcpy(f, x, 6);
	memcpy(f + 6, y, 6);
	assert_int_equal(vswitch_route(sw, (u32)p2, f), BIT(p0));
	/* y learnt at p2; from p2 to y itself: nowhere */
	memcpy(f, y, 6);
	assert_int_equal(vswitch_route(sw, (u32)p2, f), 0);
	/* multicast: everyone else; a group source address is not learnt */
	memcpy(f, (const u8[6]){ 0x01, 0, 0x5e, 0, 0, 1 }, 6);
	memcpy(f + 6, (const u8[6]){ 0x02, 0, 0, 0, 0, 3 }, 6);
	assert_int_equal(vswitch_route(sw, (u32)p1, f), BIT(p0) | BIT(p2));
	memcpy(f + 6, (const u8[6]){ 0x03, 0, 0, 0, 0, 1 }, 6);
	vswitch_route(sw, (u32)p1, f);
	memcpy(f, (const u8[6]){ 0x03, 0, 0, 0, 0, 1 }, 6);
	memcpy(f + 6, x, 6);
	assert_int_equal(vswitch_route(sw, (u32)p0, f), BIT(p1) | BIT(p2));
	/* a port that left is never a destination */
	vswitch_detach(sw, (u32)p2);
	memcpy(f, y, 6);
	assert_int_equal(vswitch_route(sw, (u32)p0, f), 0);
	f[0] = 0xff;
	assert_int_equal(vswitch_route(sw, (u32)p0, f), BIT(p1));
	/* a full switch */
	for (u32 i = 0; i < VSWITCH_PORTS - 2; i++)
		assert_true(vswitch_attach(sw, &f) >= 0);
	assert_int_equal(vswitch_attach(sw, &f), -E_NOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_discovery, setup, teardown_net),
		cmocka_unit_test_setup_teardown(test_forwarding, setup, teardown_net),
		cmocka_unit_test_setup_teardown(test_frames_split_over_buffers, setup,
						teardown_net),
		cmocka_unit_test_setup_teardown(test_receiver_not_reading, setup, teardown_net),
		cmocka_unit_test_setup_teardown(test_bad_frames, setup, teardown_net),
		cmocka_unit_test_setup_teardown(test_budget_per_exit, setup, teardown_net),
		cmocka_unit_test_setup_teardown(test_broken_receiver, setup, teardown_net),
		cmocka_unit_test_setup_teardown(test_stopped_receiver, setup, teardown_net),
		cmocka_unit_test_setup_teardown(test_rx_needs_no_notify, setup, teardown_net),
		cmocka_unit_test(test_switch_route),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
