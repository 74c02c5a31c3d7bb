/*
 * Shared memory (hv/vdev/vshm.c): one region for every partition naming
 * it, mapped at each one's BAR 2, peer IDs in configuration order, the
 * registers, doorbells by MSI-X and by INTx (IntrStatus, IntrMask), a
 * doorbell to no peer, and a region of another size or name apart.
 */
#include <stdlib.h>

#include "hv/hw/ivshmem.h"
#include "hv/vdev/vshm.h"
#include "tests/unit/test_vdev_fakes.h"
#include "tests/unit/test_virq_fakes.h"
#include "tests/unit/test_virtio_fakes.h"

#define REGION (64 * KiB)

static struct tpart *a, *b, *c;
static struct drv da, db, dc;
static char ring[16];
static const struct vdev_type *const types[] = { &vshm_type };

static void *aligned_shared(u64 bytes)
{
	void *p = aligned_alloc(PAGE_SIZE, bytes);

	assert_non_null(p);
	memset(p, 0, bytes);
	return p;
}

static struct vdev_host host;

static void shm_part(struct tpart *t, const char *name, u64 size)
{
	t->cfg.shm_count = 1;
	strcpy(t->cfg.shm[0].name, name);
	t->cfg.shm[0].size = size;
	t->part.vdevs.host = &host;
	tpart_create(t, types, ARRAY_SIZE(types));
}

static void find(struct drv *d, struct tpart *t)
{
	memset(d, 0, sizeof(*d));
	d->t = t;
	for (d->slot = 1; d->slot < 32; d->slot++)
		if (drv_cfg_read(d, PCI_CFG_VENDOR, 4) == (IVSHMEM_DEVICE << 16 | IVSHMEM_VENDOR))
			break;
	assert_true(d->slot < 32);
	d->bar0 = drv_cfg_read(d, PCI_CFG_BAR0, 4) & ~0xfULL;
	d->bar1 = drv_cfg_read(d, PCI_CFG_BAR0 + 4, 4) & ~0xfULL;
}

/* a and b name the region, c another one of the same name's neighbour */
static int setup(void **state)
{
	static u32 n;

	(void)state;
	snprintf(ring, sizeof(ring), "ring%u", n++); /* regions live for ever */
	host = tp_host;
	host.alloc_shared = aligned_shared;
	a = tpart_init(0, "a");
	b = tpart_init(1, "b");
	c = tpart_init(2, "c");
	shm_part(a, ring, REGION);
	shm_part(b, ring, REGION);
	shm_part(c, "other", REGION);
	find(&da, a);
	find(&db, b);
	find(&dc, c);
	return 0;
}

static int teardown_shm(void **state)
{
	tparts_free();
	return teardown(state);
}

static u32 reg(struct drv *d, u32 off)
{
	return (u32)tp_rw(d->t, d->bar0 + off, 4, false, 0);
}

static void set_reg(struct drv *d, u32 off, u32 val)
{
	tp_rw(d->t, d->bar0 + off, 4, true, val);
}

static void test_device(void **state)
{
	(void)state;
	assert_int_equal(drv_cfg_read(&da, PCI_CFG_REVISION, 4),
			 PCI_CLASS_MEMORY_RAM << 8 | IVSHMEM_REVISION);
	assert_int_equal(drv_cfg_read(&da, PCI_CFG_BAR0 + 8, 4) & PCI_BAR_MEM_FLAGS,
			 PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
	/* one region, mapped in both at their BAR 2; c's is another */
	assert_int_equal(a->maps, 1);
	assert_int_equal(a->map_gpa, drv_cfg_read(&da, PCI_CFG_BAR0 + 8, 4) & ~0xfULL);
	assert_int_equal(a->map_len, REGION);
	assert_ptr_equal(a->map_mem, b->map_mem);
	assert_ptr_not_equal(a->map_mem, c->map_mem);
	/* peer IDs in configuration order; IVPosition is read-only */
	assert_int_equal(reg(&da, IVSHMEM_IV_POSITION), 0);
	assert_int_equal(reg(&db, IVSHMEM_IV_POSITION), 1);
	assert_int_equal(reg(&dc, IVSHMEM_IV_POSITION), 0);
	set_reg(&db, IVSHMEM_IV_POSITION, 7);
	assert_int_equal(reg(&db, IVSHMEM_IV_POSITION), 1);
	/* the rest of BAR 0 is reserved; other widths read nothing */
	assert_int_equal(reg(&da, 0x10), 0);
	assert_int_equal(tp_rw(a, da.bar0 + IVSHMEM_IV_POSITION, 2, false, 0), 0);
	assert_int_equal(reg(&da, IVSHMEM_DOORBELL), 0);
}

static void test_doorbell_msix(void **state)
{
	(void)state;
	drv_msix(&db, 4);
	/* a rings b, vector 2: b's MSI-X vector 2 (0x42) */
	set_reg(&da, IVSHMEM_DOORBELL, 1 << 16 | 2);
	assert_int_equal(fake_msg_count, 1);
	assert_ptr_equal(fake_msgs[0].reg, &b->part.vdevs);
	assert_int_equal(fake_msgs[0].vector, 0x42);
	/* a vector b does not have, a peer that is not there, c's own region:
	 * nothing */
	set_reg(&da, IVSHMEM_DOORBELL, 1 << 16 | 9);
	set_reg(&da, IVSHMEM_DOORBELL, 2 << 16 | 0);
	set_reg(&da, IVSHMEM_DOORBELL, 0xffffU << 16);
	set_reg(&dc, IVSHMEM_DOORBELL, 1 << 16);
	assert_int_equal(fake_msg_count, 1);
	/* to itself is allowed */
	set_reg(&db, IVSHMEM_DOORBELL, 1 << 16 | 1);
	assert_int_equal(fake_msg_count, 2);
	assert_int_equal(fake_msgs[1].vector, 0x41);
	printk_count = 0;
	vdev_stats(&a->part.vdevs);
	assert_non_null(strstr(printk_last, "2 doorbells rung, 2 to no peer"));
}

static void test_doorbell_intx(void **state)
{
	u32 gsi = PLAT_PCI_GSI_BASE + db.slot % PLAT_PCI_GSI_COUNT;

	(void)state;
	/* no MSI-X: IntrStatus, and INTx while the mask lets it */
	set_reg(&da, IVSHMEM_DOORBELL, 1 << 16);
	assert_false(fake_gsi[gsi]);
	assert_int_equal(reg(&db, IVSHMEM_INTR_MASK), 0);
	set_reg(&db, IVSHMEM_INTR_MASK, 1);
	assert_true(fake_gsi[gsi]);
	/* reading the status clears it and lowers the line */
	assert_int_equal(reg(&db, IVSHMEM_INTR_STATUS), 1);
	assert_false(fake_gsi[gsi]);
	assert_int_equal(reg(&db, IVSHMEM_INTR_STATUS), 0);
	set_reg(&da, IVSHMEM_DOORBELL, 1 << 16);
	assert_true(fake_gsi[gsi]);
	assert_int_equal(fake_msg_count, 0);
	/* reset: mask and status 0 */
	vdev_reset_all(&b->part.vdevs);
	assert_int_equal(reg(&db, IVSHMEM_INTR_MASK), 0);
	assert_false(fake_gsi[gsi]);
}

/* The region is the same memory for both, whichever way it is reached. */
static void test_shared_bytes(void **state)
{
	u64 bar2 = drv_cfg_read(&da, PCI_CFG_BAR0 + 8, 4) & ~0xfULL;

	(void)state;
	((u8 *)a->map_mem)[100] = 0x77;
	assert_int_equal(tp_rw(b, bar2 + 100, 1, false, 0), 0x77);
	/* a mapping a guest undid (decoding off, on again) comes back */
	drv_cfg_write(&db, PCI_CFG_COMMAND, 2, 0);
	assert_int_equal(b->map_len, 0);
	drv_cfg_write(&db, PCI_CFG_COMMAND, 2, PCI_CMD_MEMORY);
	assert_int_equal(b->map_len, REGION);
	assert_ptr_equal(b->map_mem, a->map_mem);
}

/* The same name with another size is refused (hv.conf says so first). */
static void test_size_mismatch(void **state)
{
	struct tpart *d = tpart_init(3, "d");

	(void)state;
	d->cfg.shm_count = 1;
	strcpy(d->cfg.shm[0].name, ring);
	d->cfg.shm[0].size = 2 * REGION;
	d->part.vdevs.host = &host;
	{
		const struct vdev_type *all[] = { &vpci_type, &vshm_type };

		assert_int_equal(vdev_create_all(&d->part.vdevs, all, 2), -E_NOMEM);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_device, setup, teardown_shm),
		cmocka_unit_test_setup_teardown(test_doorbell_msix, setup, teardown_shm),
		cmocka_unit_test_setup_teardown(test_doorbell_intx, setup, teardown_shm),
		cmocka_unit_test_setup_teardown(test_shared_bytes, setup, teardown_shm),
		cmocka_unit_test_setup_teardown(test_size_mismatch, setup, teardown_shm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
