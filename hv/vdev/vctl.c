/*
 * The control device (hv/hw/control.h, docs/control.md): a PCI function
 * only a `manage = yes` partition has. BAR 0 holds four 32-bit registers
 * (emulated); BAR 2 is the mailbox, pages of its own mapped into the
 * partition (nothing else of the hypervisor's memory). A write of the
 * request's length to the doorbell copies the request out of the mailbox
 * (the guest may change the mailbox at any time: only the copy is read),
 * has the management service (vdev_host.control) run it, and returns once
 * the response is in the mailbox: the guest's next instruction sees it.
 * Requests are short (nothing in them waits), one at a time per device.
 */
#include "hv/vdev/vctl.h"
#include "hv/config/config.h"
#include "hv/hw/control.h"
#include "hv/lib/lib.h"
#include "hv/lib/log.h"
#include "hv/lib/spinlock.h"
#include "hv/vdev/vpci.h"
#include "hv/vdev/vpci_dev.h"

struct vctl {
	struct vpci_dev pci; /* first: the transport's callbacks get it */
	struct vdev_registry *reg;
	struct spinlock lock; /* one request at a time: req, result */
	u8 *mailbox;	      /* CTL_MAILBOX_SIZE, BAR 2 */
	struct ctl_request req;
	u32 result;
	u64 requests;
};

static void doorbell(struct vctl *c, u32 len)
{
	spin_lock(&c->lock);
	memset(&c->req, 0, sizeof(c->req));
	memcpy(&c->req, c->mailbox, MIN(len, (u32)sizeof(c->req)));
	c->result = c->reg->host->control(c->reg->owner.part, &c->req, len,
					  c->mailbox + CTL_RESP_OFFSET, CTL_RESP_MAX);
	c->requests++;
	spin_unlock(&c->lock);
}

/* BAR 0: aligned 32-bit registers; other widths and offsets read 0. */
static int regs_access(struct vpci_dev *d, u32 bar, u64 off, struct vdev_access *a)
{
	struct vctl *c = (struct vctl *)d;

	if (bar != CTL_REGS_BAR)
		return -E_INVAL;
	if (!a->write)
		a->val = 0;
	if (a->size != sizeof(u32) || !IS_ALIGNED(off, sizeof(u32)))
		return 0;
	if (a->write) {
		if (off == CTL_REG_DOORBELL)
			doorbell(c, (u32)a->val);
		return 0;
	}
	switch (off) {
	case CTL_REG_MAGIC:
		a->val = CTL_DEV_MAGIC;
		break;
	case CTL_REG_VERSION:
		a->val = CTL_VERSION;
		break;
	case CTL_REG_RESULT:
		a->val = __atomic_load_n(&c->result, __ATOMIC_RELAXED);
		break;
	default:
		break;
	}
	return 0;
}

/* A fresh start: an empty mailbox. */
static void fn_reset(struct vpci_dev *d)
{
	struct vctl *c = (struct vctl *)d;

	spin_lock(&c->lock);
	memset(c->mailbox, 0, CTL_MAILBOX_SIZE);
	c->result = 0;
	spin_unlock(&c->lock);
}

static const struct vpci_dev_ops fn_ops = {
	.bar_access = regs_access,
	.reset = fn_reset,
};

static int vctl_create(struct vdev_registry *reg, void *dev)
{
	struct vpci *bus = vdev_find(reg, &vpci_type);
	struct vctl *c = dev;

	if (!reg->owner.cfg->manage)
		return VDEV_DECLINED;
	c->reg = reg;
	c->lock = (struct spinlock)SPINLOCK_INIT;
	c->mailbox = reg->host->alloc_shared(CTL_MAILBOX_SIZE);
	if (!c->mailbox || !bus)
		return -E_NOMEM;
	c->pci = (struct vpci_dev){
		.vendor = CTL_PCI_VENDOR,
		.device = CTL_PCI_DEVICE,
		.subsys_vendor = CTL_PCI_VENDOR,
		.subsys_device = CTL_PCI_DEVICE,
		.class_code = CTL_PCI_CLASS,
		.revision = CTL_PCI_REVISION,
		.bar[CTL_REGS_BAR] = { .size = CTL_REGS_SIZE, .type = VPCI_BAR_MEM32 },
		.bar[CTL_MAILBOX_BAR] = { CTL_MAILBOX_SIZE, VPCI_BAR_MEM32, false, c->mailbox },
		.ops = &fn_ops,
	};
	return vpci_add_dev(bus, &c->pci);
}

static void vctl_stats(void *dev)
{
	struct vctl *c = dev;

	pr_info("partition %s: control device: %lu requests\n", c->reg->owner.name, c->requests);
}

/* The function resets with the bus (hv/vdev/vpci.c). */
const struct vdev_type vctl_type = {
	.name = "control",
	.size = sizeof(struct vctl),
	.create = vctl_create,
	.stats = vctl_stats,
};
