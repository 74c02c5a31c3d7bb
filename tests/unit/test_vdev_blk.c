/*
 * virtio-blk (hv/vdev/vblk.c) over the virtio PCI transport
 * (hv/vdev/virtio_pci.c), driven the way Linux's virtio_pci and virtio_blk
 * drive them: discovery, feature negotiation, queue set-up, reads and
 * writes that reach the module's memory, read-only disks, FLUSH, GET_ID,
 * requests that fail, drivers that break the device (NEEDS_RESET), INTx,
 * the PCI configuration access capability, the work bound per exit, and
 * contents kept across a partition reset.
 */
#include "hv/vdev/vblk.h"
#include "hv/vdev/virtio_pci.h"
#include "tests/unit/test_vdev_fakes.h"
#include "tests/unit/test_virq_fakes.h"
#include "tests/unit/test_virtio_fakes.h"

#define DISK_SIZE (16 * MiB)
#define SECTOR 512
#define HDR 0x200000ULL	 /* request header in guest RAM */
#define DATA 0x400000ULL /* data buffers */
#define STATUS 0x300000ULL

static u8 *disk, *disk_ro;
static struct tpart *t;
static struct drv d;

static const struct vdev_type *const types[] = { &vblk_type };

static int setup(void **state)
{
	(void)state;
	disk = calloc(1, DISK_SIZE);
	disk_ro = calloc(1, 4096);
	for (u32 i = 0; i < DISK_SIZE; i++)
		disk[i] = (u8)(i * 7 + i / SECTOR);
	memset(disk_ro, 0x5a, 4096);
	tmodules[0].name = "root.img";
	tmodules[0].data = disk;
	tmodules[0].len = DISK_SIZE;
	tmodules[1].name = "a-very-long-disk-image-name.img";
	tmodules[1].data = disk_ro;
	tmodules[1].len = 4096;
	t = tpart_init(0, "blk");
	t->cfg.disk_count = 2;
	strcpy(t->cfg.disk[0].name, "root.img");
	strcpy(t->cfg.disk[1].name, "a-very-long-disk-image-name.img");
	t->cfg.disk[1].ro = true;
	tpart_create(t, types, ARRAY_SIZE(types));
	drv_probe(&d, t, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_BLOCK, 0);
	return 0;
}

static int teardown_blk(void **state)
{
	tparts_free();
	free(disk);
	free(disk_ro);
	return teardown(state);
}

/* A request: header, data buffer (len bytes at DATA), status; its status. */
static u8 rq(struct drv *k, u32 type, u64 sector, u32 len, u32 *used_len)
{
	struct virtio_blk_req_hdr h = { type, 0, sector };
	bool in = type != VIRTIO_BLK_T_OUT;
	struct drv_buf b[3] = { { HDR, sizeof(h), false }, { DATA, len, in }, { STATUS, 1, true } };
	u32 id, n = len ? 3 : 2;
	u16 head;

	if (!len)
		b[1] = b[2];
	memcpy(gmem(k, HDR), &h, sizeof(h));
	*gmem(k, STATUS) = 0xee;
	head = drv_post(k, 0, b, n);
	drv_kick(k, 0);
	assert_true(drv_used(k, 0, &id, used_len));
	assert_int_equal(id, head);
	return *gmem(k, STATUS);
}

static void test_discovery(void **state)
{
	struct virtio_blk_config cfg;

	(void)state;
	assert_int_equal(drv_cfg_read(&d, PCI_CFG_REVISION, 4),
			 PCI_CLASS_STORAGE_OTHER << 8 | VIRTIO_PCI_REVISION);
	assert_int_equal(drv_cfg_read(&d, PCI_CFG_SUBSYS_VENDOR, 4),
			 VIRTIO_PCI_SUBSYS_DEVICE << 16 | VIRTIO_PCI_VENDOR);
	assert_int_equal(drv_device_features(&d), BIT_ULL(VIRTIO_F_VERSION_1) |
							  BIT_ULL(VIRTIO_BLK_F_SEG_MAX) |
							  BIT_ULL(VIRTIO_BLK_F_FLUSH));
	for (u32 i = 0; i < sizeof(cfg); i++)
		((u8 *)&cfg)[i] = (u8)drv_read(&d, d.device + i, 1);
	assert_int_equal(cfg.capacity, DISK_SIZE / SECTOR);
	assert_int_equal(cfg.seg_max, VIRTIO_QUEUE_SIZE - 2);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_NUMQ, 2), 1);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_Q_NOFF, 2), 0);
	assert_int_equal(d.mult, 4);
	/* a queue that is not there */
	drv_write(&d, d.common + VIRTIO_COMMON_Q_SELECT, 2, 1);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_Q_SIZE, 2), 0);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	/* the second disk is read-only */
	drv_probe(&d, t, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_BLOCK, 1);
	assert_true(drv_device_features(&d) & BIT_ULL(VIRTIO_BLK_F_RO));
	/* odd widths and offsets read 0 and change nothing */
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_DF, 2), 0);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_STATUS, 4), 0);
	assert_int_equal(drv_read(&d, d.common + 0x3e, 2), 0);
	assert_int_equal(drv_read(&d, 0x3ff0, 4), 0);
}

static void test_negotiation(void **state)
{
	(void)state;
	/* 6.1: without VERSION_1, or with a bit not offered, no FEATURES_OK */
	assert_false(drv_negotiate(&d, BIT_ULL(VIRTIO_BLK_F_FLUSH)));
	assert_false(drv_negotiate(&d, BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_BLK_F_RO)));
	assert_false(drv_negotiate(&d, BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(40)));
	assert_true(drv_negotiate(&d, BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_BLK_F_FLUSH)));
	/* after FEATURES_OK the features stay */
	drv_write(&d, d.common + VIRTIO_COMMON_GFSELECT, 4, 0);
	drv_write(&d, d.common + VIRTIO_COMMON_GF, 4, 0);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_GF, 4), BIT(VIRTIO_BLK_F_FLUSH));
	/* a vector the function does not have reads back as none (4.1.5.1.2) */
	drv_write(&d, d.common + VIRTIO_COMMON_MSIX, 2, 2);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	drv_write(&d, d.common + VIRTIO_COMMON_MSIX, 2, 1);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_MSIX, 2), 1);
	/* reset: status 0, everything back */
	drv_set_status(&d, 0);
	assert_int_equal(drv_status(&d), 0);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	drv_write(&d, d.common + VIRTIO_COMMON_GFSELECT, 4, 0);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_GF, 4), 0);
}

static void test_read_write(void **state)
{
	u32 len;

	(void)state;
	drv_msix(&d, 2);
	drv_init(&d, BIT_ULL(VIRTIO_BLK_F_FLUSH), 1, DRV_QUEUE_SIZE);
	/* read 8 sectors from sector 100 */
	assert_int_equal(rq(&d, VIRTIO_BLK_T_IN, 100, 8 * SECTOR, &len), VIRTIO_BLK_S_OK);
	assert_int_equal(len, 8 * SECTOR + 1);
	assert_memory_equal(gmem(&d, DATA), disk + 100 * SECTOR, 8 * SECTOR);
	/* the queue's vector (1: 0x41) went to APIC 0 */
	assert_int_equal(fake_msg_count, 1);
	assert_int_equal(fake_msgs[0].vector, 0x41);
	/* write 3 sectors at the end of the disk */
	memset(gmem(&d, DATA), 0xab, 3 * SECTOR);
	assert_int_equal(rq(&d, VIRTIO_BLK_T_OUT, DISK_SIZE / SECTOR - 3, 3 * SECTOR, &len),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(len, 1);
	for (u32 i = 0; i < 3 * SECTOR; i++)
		assert_int_equal(disk[DISK_SIZE - 3 * SECTOR + i], 0xab);
	/* FLUSH, GET_ID (the module's name) */
	assert_int_equal(rq(&d, VIRTIO_BLK_T_FLUSH, 0, 0, &len), VIRTIO_BLK_S_OK);
	memset(gmem(&d, DATA), 0xff, 32);
	assert_int_equal(rq(&d, VIRTIO_BLK_T_GET_ID, 0, VIRTIO_BLK_ID_BYTES, &len),
			 VIRTIO_BLK_S_OK);
	assert_int_equal(len, VIRTIO_BLK_ID_BYTES + 1);
	assert_memory_equal(gmem(&d, DATA), "root.img\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	/* the contents stay across a partition reset, as across a restart */
	vdev_reset_all(&t->part.vdevs);
	assert_int_equal(disk[DISK_SIZE - 1], 0xab);
	assert_int_equal(drv_status(&d), 0);
}

static void test_failed_requests(void **state)
{
	u32 len;

	(void)state;
	drv_init(&d, 0, 1, DRV_QUEUE_SIZE);
	/* past the end, across it, not whole sectors, too long: IOERR */
	assert_int_equal(rq(&d, VIRTIO_BLK_T_IN, DISK_SIZE / SECTOR, SECTOR, &len),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(len, 1);
	assert_int_equal(rq(&d, VIRTIO_BLK_T_OUT, DISK_SIZE / SECTOR - 1, 2 * SECTOR, &len),
			 VIRTIO_BLK_S_IOERR);
	assert_int_equal(rq(&d, VIRTIO_BLK_T_IN, 0, 100, &len), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rq(&d, VIRTIO_BLK_T_IN, ~0ULL / 256, SECTOR, &len), VIRTIO_BLK_S_IOERR);
	assert_int_equal(rq(&d, VIRTIO_BLK_T_IN, 0, 8 * MiB, &len), VIRTIO_BLK_S_IOERR);
	/* a type it does not know */
	assert_int_equal(rq(&d, 11, 0, SECTOR, &len), VIRTIO_BLK_S_UNSUPP);
	/* the device works on */
	assert_int_equal(rq(&d, VIRTIO_BLK_T_IN, 0, SECTOR, &len), VIRTIO_BLK_S_OK);
	assert_int_equal(drv_status(&d) & VIRTIO_STATUS_NEEDS_RESET, 0);
}

static void test_read_only(void **state)
{
	u32 len;

	(void)state;
	drv_probe(&d, t, VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_BLOCK, 1);
	drv_init(&d, BIT_ULL(VIRTIO_BLK_F_RO), 1, DRV_QUEUE_SIZE);
	memset(gmem(&d, DATA), 0, SECTOR);
	assert_int_equal(rq(&d, VIRTIO_BLK_T_OUT, 0, SECTOR, &len), VIRTIO_BLK_S_IOERR);
	assert_int_equal(disk_ro[0], 0x5a);
	assert_int_equal(rq(&d, VIRTIO_BLK_T_IN, 7, SECTOR, &len), VIRTIO_BLK_S_OK);
	assert_int_equal(*gmem(&d, DATA), 0x5a);
	/* GET_ID: the first 20 bytes of a longer name, no NUL */
	assert_int_equal(rq(&d, VIRTIO_BLK_T_GET_ID, 0, 32, &len), VIRTIO_BLK_S_OK);
	assert_int_equal(len, VIRTIO_BLK_ID_BYTES + 1);
	assert_memory_equal(gmem(&d, DATA), "a-very-long-disk-ima", 20);
}

/* The driver breaks the device: NEEDS_RESET, the configuration interrupt,
 * and nothing more until it resets the device. */
static void test_broken_driver(void **state)
{
	struct drv_buf only_out[1] = { { HDR, 16, false } };
	u32 id, len;

	(void)state;
	drv_msix(&d, 2);
	drv_init(&d, 0, 1, DRV_QUEUE_SIZE);
	/* no byte for the status */
	drv_post(&d, 0, only_out, 1);
	drv_kick(&d, 0);
	assert_true(drv_status(&d) & VIRTIO_STATUS_NEEDS_RESET);
	assert_int_equal(fake_msg_count, 1);
	assert_int_equal(fake_msgs[0].vector, 0x40); /* the configuration's vector 0 */
	assert_false(drv_used(&d, 0, &id, &len));
	/* the driver's status writes keep NEEDS_RESET; requests are ignored */
	drv_set_status(&d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	assert_true(drv_status(&d) & VIRTIO_STATUS_NEEDS_RESET);
	/* reset, set up again: it works */
	drv_init(&d, 0, 1, DRV_QUEUE_SIZE);
	assert_int_equal(drv_status(&d) & VIRTIO_STATUS_NEEDS_RESET, 0);
	assert_int_equal(rq(&d, VIRTIO_BLK_T_IN, 0, SECTOR, &len), VIRTIO_BLK_S_OK);
	/* a descriptor loop */
	{
		struct virtq_desc *desc = (struct virtq_desc *)gmem(&d, d.q[0].desc);
		struct virtq_avail *avail = (struct virtq_avail *)gmem(&d, d.q[0].avail);

		desc[9] = (struct virtq_desc){ HDR, 16, VIRTQ_DESC_F_NEXT, 9 };
		avail->ring[avail->idx % DRV_QUEUE_SIZE] = 9;
		avail->idx++;
		drv_kick(&d, 0);
		assert_true(drv_status(&d) & VIRTIO_STATUS_NEEDS_RESET);
	}
	/* a queue the driver sets up wrong: size, rings outside RAM */
	assert_true(drv_negotiate(&d, BIT_ULL(VIRTIO_F_VERSION_1)));
	drv_write(&d, d.common + VIRTIO_COMMON_Q_SELECT, 2, 0);
	drv_write(&d, d.common + VIRTIO_COMMON_Q_SIZE, 2, 100);
	drv_write(&d, d.common + VIRTIO_COMMON_Q_ENABLE, 2, 1);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_Q_ENABLE, 2), 0);
	assert_true(drv_status(&d) & VIRTIO_STATUS_NEEDS_RESET);
	assert_true(drv_negotiate(&d, BIT_ULL(VIRTIO_F_VERSION_1)));
	drv_write(&d, d.common + VIRTIO_COMMON_Q_DESCLO, 4, 0);
	drv_write(&d, d.common + VIRTIO_COMMON_Q_DESCHI, 4, 0x100);
	drv_write(&d, d.common + VIRTIO_COMMON_Q_ENABLE, 2, 1);
	assert_true(drv_status(&d) & VIRTIO_STATUS_NEEDS_RESET);
}

static void test_queue_fields_locked_once_enabled(void **state)
{
	(void)state;
	drv_init(&d, 0, 1, DRV_QUEUE_SIZE);
	drv_write(&d, d.common + VIRTIO_COMMON_Q_SELECT, 2, 0);
	drv_write(&d, d.common + VIRTIO_COMMON_Q_SIZE, 2, 8);
	drv_write(&d, d.common + VIRTIO_COMMON_Q_DESCLO, 4, 0x12340);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_Q_SIZE, 2), DRV_QUEUE_SIZE);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_Q_DESCLO, 4), DRV_RINGS);
	assert_int_equal(drv_read(&d, d.common + VIRTIO_COMMON_Q_ENABLE, 2), 1);
}

static void test_intx(void **state)
{
	u32 gsi = PLAT_PCI_GSI_BASE + d.slot % PLAT_PCI_GSI_COUNT, len;

	(void)state;
	drv_init(&d, 0, 1, DRV_QUEUE_SIZE);
	assert_int_equal(rq(&d, VIRTIO_BLK_T_IN, 0, SECTOR, &len), VIRTIO_BLK_S_OK);
	assert_true(fake_gsi[gsi]);
	assert_int_equal(fake_msg_count, 0);
	/* reading the ISR says why and lowers the line (4.1.4.5) */
	assert_int_equal(drv_read(&d, d.isr, 1), VIRTIO_ISR_QUEUE);
	assert_false(fake_gsi[gsi]);
	assert_int_equal(drv_read(&d, d.isr, 1), 0);
	/* the driver asks for no interrupt (2.6.7) */
	((struct virtq_avail *)gmem(&d, d.q[0].avail))->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	assert_int_equal(rq(&d, VIRTIO_BLK_T_IN, 0, SECTOR, &len), VIRTIO_BLK_S_OK);
	assert_false(fake_gsi[gsi]);
}

static void test_bus_master_off(void **state)
{
	struct virtio_blk_req_hdr h = { VIRTIO_BLK_T_IN, 0, 0 };
	struct drv_buf b[2] = { { HDR, sizeof(h), false }, { STATUS, 1, true } };
	u32 id, len;

	(void)state;
	drv_init(&d, 0, 1, DRV_QUEUE_SIZE);
	drv_cfg_write(&d, PCI_CFG_COMMAND, 2, PCI_CMD_MEMORY);
	memcpy(gmem(&d, HDR), &h, sizeof(h));
	drv_post(&d, 0, b, 2);
	drv_kick(&d, 0);
	assert_false(drv_used(&d, 0, &id, &len));
	drv_cfg_write(&d, PCI_CFG_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_MASTER);
	drv_kick(&d, 0);
	assert_true(drv_used(&d, 0, &id, &len));
}

/* 4.1.4.7: BAR 0 through configuration space. */
static void test_pci_cfg_window(void **state)
{
	u32 at = d.pci_cfg;

	(void)state;
	drv_cfg_write(&d, at + VIRTIO_PCI_CAP_BAR, 1, 0);
	drv_cfg_write(&d, at + VIRTIO_PCI_CAP_OFFSET, 4, d.common + VIRTIO_COMMON_NUMQ);
	drv_cfg_write(&d, at + VIRTIO_PCI_CAP_LENGTH, 4, 2);
	assert_int_equal(drv_cfg_read(&d, at + VIRTIO_PCI_CFG_DATA, 4), 1);
	drv_cfg_write(&d, at + VIRTIO_PCI_CAP_OFFSET, 4, d.common + VIRTIO_COMMON_STATUS);
	drv_cfg_write(&d, at + VIRTIO_PCI_CAP_LENGTH, 4, 1);
	drv_cfg_write(&d, at + VIRTIO_PCI_CFG_DATA, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(drv_status(&d), VIRTIO_STATUS_ACKNOWLEDGE);
	assert_int_equal(drv_cfg_read(&d, at + VIRTIO_PCI_CAP_OFFSET, 4),
			 d.common + VIRTIO_COMMON_STATUS);
	/* another BAR, a bad length, misaligned: nothing */
	drv_cfg_write(&d, at + VIRTIO_PCI_CAP_LENGTH, 4, 3);
	assert_int_equal(drv_cfg_read(&d, at + VIRTIO_PCI_CFG_DATA, 4), 0);
	drv_cfg_write(&d, at + VIRTIO_PCI_CAP_LENGTH, 4, 2);
	assert_int_equal(drv_cfg_read(&d, at + VIRTIO_PCI_CFG_DATA, 4), 0);
	drv_cfg_write(&d, at + VIRTIO_PCI_CAP_BAR, 1, 1);
	drv_cfg_write(&d, at + VIRTIO_PCI_CAP_LENGTH, 4, 1);
	assert_int_equal(drv_cfg_read(&d, at + VIRTIO_PCI_CFG_DATA, 4), 0);
	/* the capability's own header is read-only */
	drv_cfg_write(&d, at + 2, 2, 0);
	assert_int_equal(drv_cfg_read(&d, at + 3, 1), VIRTIO_PCI_CAP_PCI_CFG);
}

/* Requests beyond VBLK_BUDGET in one notify: the rest waits for the
 * timer on vCPU 0, which the notify kicked. */
static void test_budget_per_exit(void **state)
{
	u32 id, len, n = 0;

	(void)state;
	drv_init(&d, 0, 1, DRV_QUEUE_SIZE);
	for (u32 i = 0; i < 4; i++) {
		struct virtio_blk_req_hdr h = { VIRTIO_BLK_T_IN, 0, i * 8192 };
		struct drv_buf b[3] = { { HDR + 16 * i, sizeof(h), false },
					{ DATA + i * 4 * MiB, 4 * MiB, true },
					{ STATUS + i, 1, true } };

		memcpy(gmem(&d, HDR + 16 * i), &h, sizeof(h));
		drv_post(&d, 0, b, 3);
	}
	t->kicks = 0;
	drv_kick(&d, 0);
	while (drv_used(&d, 0, &id, &len))
		n++;
	assert_int_equal(n, 2);
	assert_int_equal(t->kicks, 1); /* vdev_timer_changed */
	assert_int_equal(vdev_timers(&t->part.vdevs, &t->vcpu, 1000), 1000);
	assert_int_equal(vdev_timers(&t->part.vdevs, &t->vcpu, 1001), 0);
	while (drv_used(&d, 0, &id, &len))
		n++;
	assert_int_equal(n, 4);
	assert_memory_equal(gmem(&d, DATA + 12 * MiB), disk + 12 * MiB, 4 * MiB);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_discovery, setup, teardown_blk),
		cmocka_unit_test_setup_teardown(test_negotiation, setup, teardown_blk),
		cmocka_unit_test_setup_teardown(test_read_write, setup, teardown_blk),
		cmocka_unit_test_setup_teardown(test_failed_requests, setup, teardown_blk),
		cmocka_unit_test_setup_teardown(test_read_only, setup, teardown_blk),
		cmocka_unit_test_setup_teardown(test_broken_driver, setup, teardown_blk),
		cmocka_unit_test_setup_teardown(test_queue_fields_locked_once_enabled, setup,
						teardown_blk),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown_blk),
		cmocka_unit_test_setup_teardown(test_bus_master_off, setup, teardown_blk),
		cmocka_unit_test_setup_teardown(test_pci_cfg_window, setup, teardown_blk),
		cmocka_unit_test_setup_teardown(test_budget_per_exit, setup, teardown_blk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
