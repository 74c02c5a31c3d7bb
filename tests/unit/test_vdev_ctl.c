/*
 * The control device (hv/vdev/vctl.c, docs/control.md): only in a
 * partition with manage = yes; its IDs, registers and mapped mailbox; a
 * doorbell hands the service a private copy of the request (the guest may
 * change the mailbox meanwhile) and puts the response in the mailbox.
 */
#include <stdlib.h>

#include "hv/control/proto.h"
#include "hv/hw/control.h"
#include "hv/vdev/vctl.h"
#include "tests/unit/test_vdev_fakes.h"
#include "tests/unit/test_virq_fakes.h"
#include "tests/unit/test_virtio_fakes.h"

static const struct vdev_type *const types[] = { &vctl_type };
static struct vdev_host host;
static struct tpart *t;
static struct drv d;
static u8 *mailbox;

static u32 calls, seen_len;
static struct ctl_request seen;
static struct partition *seen_from;

static void *shared[4]; /* alloc_shared never frees: the test does */
static u32 shared_count;

static void *aligned_shared(u64 bytes)
{
	void *p = aligned_alloc(PAGE_SIZE, bytes);

	assert_non_null(p);
	assert_true(shared_count < ARRAY_SIZE(shared));
	shared[shared_count++] = p;
	memset(p, 0, bytes);
	return p;
}

/* The service: records the request, scribbles on the mailbox's request
 * area (a guest's other vCPU could), answers 16 bytes. */
static u32 fake_control(struct partition *p, const void *req, u32 len, void *resp, u32 max)
{
	struct ctl_response *h = resp;

	calls++;
	seen_from = p;
	seen_len = len;
	memcpy(&seen, req, sizeof(seen));
	memset(mailbox, 0xee, sizeof(struct ctl_request));
	assert_int_equal(req == (void *)mailbox, false);
	assert_ptr_equal(resp, mailbox + CTL_RESP_OFFSET);
	assert_int_equal(max, CTL_RESP_MAX);
	*h = (struct ctl_response){ CTL_RESP_MAGIC, CTL_VERSION, 2, CTL_OK, sizeof(*h) };
	return sizeof(*h);
}

static bool find(struct drv *dv, struct tpart *tp)
{
	memset(dv, 0, sizeof(*dv));
	dv->t = tp;
	for (dv->slot = 1; dv->slot < 32; dv->slot++)
		if (drv_cfg_read(dv, PCI_CFG_VENDOR, 4) == (CTL_PCI_DEVICE << 16 | CTL_PCI_VENDOR))
			break;
	if (dv->slot == 32)
		return false;
	dv->bar0 = drv_cfg_read(dv, PCI_CFG_BAR0, 4) & ~0xfULL;
	return true;
}

static int setup(void **state)
{
	(void)state;
	host = tp_host;
	host.alloc_shared = aligned_shared;
	host.control = fake_control;
	calls = 0;
	t = tpart_init(0, "mgmt");
	t->cfg.manage = 1;
	t->part.vdevs.host = &host;
	tpart_create(t, types, ARRAY_SIZE(types));
	assert_true(find(&d, t));
	mailbox = t->map_mem;
	return 0;
}

static int teardown_ctl(void **state)
{
	tparts_free();
	while (shared_count)
		free(shared[--shared_count]);
	return teardown(state);
}

static u32 reg(u32 off)
{
	return (u32)tp_rw(t, d.bar0 + off, 4, false, 0);
}

static void test_only_with_manage(void **state)
{
	struct tpart *other = tpart_init(1, "plain");
	struct drv od;

	(void)state;
	other->part.vdevs.host = &host;
	tpart_create(other, types, ARRAY_SIZE(types));
	assert_false(find(&od, other));
	assert_int_equal(other->maps, 0);
}

static void test_device(void **state)
{
	(void)state;
	assert_int_equal(drv_cfg_read(&d, PCI_CFG_REVISION, 4),
			 CTL_PCI_CLASS << 8 | CTL_PCI_REVISION);
	assert_int_equal(reg(CTL_REG_MAGIC), CTL_DEV_MAGIC);
	assert_int_equal(reg(CTL_REG_VERSION), CTL_VERSION);
	assert_int_equal(reg(CTL_REG_RESULT), 0);
	assert_int_equal(reg(CTL_REG_DOORBELL), 0);
	assert_int_equal(reg(0x10), 0);
	/* other widths read nothing and ring nothing */
	assert_int_equal(tp_rw(t, d.bar0 + CTL_REG_MAGIC, 2, false, 0), 0);
	tp_rw(t, d.bar0 + CTL_REG_DOORBELL, 2, true, 48);
	tp_rw(t, d.bar0 + CTL_REG_DOORBELL + 1, 4, true, 48);
	assert_int_equal(calls, 0);
	/* the mailbox: 64 KiB of its own, mapped at BAR 2, zeroed */
	assert_int_equal(t->maps, 1);
	assert_int_equal(t->map_len, CTL_MAILBOX_SIZE);
	assert_int_equal(t->map_gpa, drv_cfg_read(&d, PCI_CFG_BAR0 + 8, 4) & ~0xfULL);
	for (u32 i = 0; i < CTL_MAILBOX_SIZE; i++)
		assert_int_equal(mailbox[i], 0);
}

static void test_doorbell(void **state)
{
	struct ctl_request r;

	(void)state;
	ctl_request_init(&r, CTL_OP_LIST, NULL, 0, 0);
	memcpy(mailbox, &r, sizeof(r));
	tp_rw(t, d.bar0 + CTL_REG_DOORBELL, 4, true, sizeof(r));
	assert_int_equal(calls, 1);
	assert_ptr_equal(seen_from, &t->part);
	assert_int_equal(seen_len, sizeof(r));
	assert_memory_equal(&seen, &r, sizeof(r)); /* the copy, before the scribble */
	assert_int_equal(reg(CTL_REG_RESULT), sizeof(struct ctl_response));
	assert_int_equal(((struct ctl_response *)(mailbox + CTL_RESP_OFFSET))->magic,
			 CTL_RESP_MAGIC);
	/* any length is passed on for the parser to refuse; at most one
	 * request is copied */
	tp_rw(t, d.bar0 + CTL_REG_DOORBELL, 4, true, 0xffffffff);
	assert_int_equal(calls, 2);
	assert_int_equal(seen_len, 0xffffffff);
	/* a restart empties the mailbox */
	vdev_reset_all(&t->part.vdevs);
	assert_int_equal(mailbox[CTL_RESP_OFFSET], 0);
	assert_int_equal(reg(CTL_REG_RESULT), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_only_with_manage, setup, teardown_ctl),
		cmocka_unit_test_setup_teardown(test_device, setup, teardown_ctl),
		cmocka_unit_test_setup_teardown(test_doorbell, setup, teardown_ctl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
