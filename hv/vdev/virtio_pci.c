/*
 * The virtio PCI transport (see virtio_pci.h): OASIS virtio v1.1 4.1.
 *
 * BAR 0 holds the structures the capabilities point at; BAR 1 the MSI-X
 * table and PBA. Registers are accessed with their natural width (4.1.3.1);
 * an access of another width or offset reads 0 and is not written.
 */
#include "hv/vdev/virtio_pci.h"
#include "hv/lib/lib.h"
#include "hv/vdev/vpci.h"

#define BAR_REGS 0
#define BAR_REGS_SIZE 0x4000
#define BAR_MSIX 1
#define REGION 0x1000 /* each structure in a page of its own */
#define AT_COMMON 0x0000
#define AT_ISR 0x1000
#define AT_DEVICE 0x2000
#define AT_NOTIFY 0x3000
#define NOTIFY_MULTIPLIER 4 /* queue q's notify register at 4 * q */
#define ISR_LEN 1
#define FEATURE_WORDS 2 /* 64 feature bits, selected 32 at a time */

_Static_assert(offsetof(struct virtio_pci, pci) == 0, "the transport casts");

static struct virtio_pci *vp_of(struct vpci_dev *d)
{
	return (struct virtio_pci *)d;
}

static struct virtq *selected(struct virtio_pci *vp)
{
	return vp->queue_select < vp->queue_count ? &vp->vq[vp->queue_select] : NULL;
}

static u64 offered(const struct virtio_pci *vp)
{
	return vp->features | BIT_ULL(VIRTIO_F_VERSION_1);
}

/* --- interrupts (4.1.5.3, 4.1.5.4) ---------------------------------------- */

static void interrupt(struct virtio_pci *vp, u16 vector, u8 isr_bit)
{
	if (vpci_msix_enabled(&vp->pci)) {
		if (vector != VIRTIO_MSI_NO_VECTOR)
			vpci_msix_notify(&vp->pci, vector);
		return;
	}
	spin_lock(&vp->isr_lock);
	vp->isr |= isr_bit;
	vpci_intx(&vp->pci, true);
	spin_unlock(&vp->isr_lock);
}

void virtio_queue_irq(struct virtio_pci *vp, u32 q)
{
	if (virtq_irq_wanted(&vp->vq[q]))
		interrupt(vp, vp->vq[q].msix, VIRTIO_ISR_QUEUE);
}

void virtio_broken(struct virtio_pci *vp)
{
	__atomic_fetch_or(&vp->status, VIRTIO_STATUS_NEEDS_RESET, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&vp->broken, 1, __ATOMIC_RELAXED);
	interrupt(vp, vp->config_msix, VIRTIO_ISR_CONFIG);
}

bool virtio_live(struct virtio_pci *vp)
{
	u8 st = __atomic_load_n(&vp->status, __ATOMIC_ACQUIRE);

	return (st & VIRTIO_STATUS_DRIVER_OK) && !(st & VIRTIO_STATUS_NEEDS_RESET) &&
	       vpci_bus_master(&vp->pci);
}

/* --- reset and status (2.1, 3.1.1) ---------------------------------------- */

/* lock held */
static void reset_locked(struct virtio_pci *vp)
{
	for (u32 q = 0; q < vp->queue_count; q++)
		spin_lock(&vp->qlock[q]);
	__atomic_store_n(&vp->status, 0, __ATOMIC_RELEASE);
	for (u32 q = 0; q < vp->queue_count; q++)
		virtq_reset(&vp->vq[q], VIRTIO_QUEUE_SIZE);
	vp->dfselect = vp->gfselect = 0;
	vp->driver_features = 0;
	vp->queue_select = 0;
	vp->config_msix = VIRTIO_MSI_NO_VECTOR;
	if (vp->ops->reset)
		vp->ops->reset(vp);
	for (u32 q = vp->queue_count; q-- > 0;)
		spin_unlock(&vp->qlock[q]);
	spin_lock(&vp->isr_lock);
	vp->isr = 0;
	vpci_intx(&vp->pci, false);
	spin_unlock(&vp->isr_lock);
}

void virtio_reset(struct virtio_pci *vp)
{
	spin_lock(&vp->lock);
	reset_locked(vp);
	spin_unlock(&vp->lock);
}

/* FEATURES_OK sticks only for a subset of what is offered, VERSION_1 in it
 * (3.1.1, 6.1); the device's own NEEDS_RESET stays until a reset. */
static void set_status(struct virtio_pci *vp, u8 val)
{
	u64 f = vp->driver_features;
	u8 old = vp->status;

	if (!val) {
		reset_locked(vp);
		return;
	}
	if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK) &&
	    ((f & ~offered(vp)) || !(f & BIT_ULL(VIRTIO_F_VERSION_1))))
		val &= (u8)~VIRTIO_STATUS_FEATURES_OK;
	val = (u8)((val & ~VIRTIO_STATUS_NEEDS_RESET) | (old & VIRTIO_STATUS_NEEDS_RESET));
	__atomic_store_n(&vp->status, val, __ATOMIC_RELEASE);
}

/* --- common configuration (4.1.4.3) ---------------------------------------- */

/* The width of the field at off, 0 for none (4.1.3.1: natural widths). */
static u32 field_width(u32 off)
{
	switch (off) {
	case VIRTIO_COMMON_STATUS:
	case VIRTIO_COMMON_CFGGENERATION:
		return 1;
	case VIRTIO_COMMON_MSIX:
	case VIRTIO_COMMON_NUMQ:
	case VIRTIO_COMMON_Q_SELECT:
	case VIRTIO_COMMON_Q_SIZE:
	case VIRTIO_COMMON_Q_MSIX:
	case VIRTIO_COMMON_Q_ENABLE:
	case VIRTIO_COMMON_Q_NOFF:
		return 2;
	case VIRTIO_COMMON_DFSELECT:
	case VIRTIO_COMMON_DF:
	case VIRTIO_COMMON_GFSELECT:
	case VIRTIO_COMMON_GF:
	case VIRTIO_COMMON_Q_DESCLO:
	case VIRTIO_COMMON_Q_DESCHI:
	case VIRTIO_COMMON_Q_AVAILLO:
	case VIRTIO_COMMON_Q_AVAILHI:
	case VIRTIO_COMMON_Q_USEDLO:
	case VIRTIO_COMMON_Q_USEDHI:
		return 4;
	default:
		return 0;
	}
}

/* The 64-bit queue address at an offset's LO/HI field pair. */
static u64 *queue_addr(struct virtq *q, u32 off)
{
	if (off < VIRTIO_COMMON_Q_AVAILLO)
		return &q->desc_gpa;
	return off < VIRTIO_COMMON_Q_USEDLO ? &q->avail_gpa : &q->used_gpa;
}

static u32 half(u64 v, u32 off)
{
	return (u32)(off & 4 ? v >> 32 : v);
}

static u64 common_read(struct virtio_pci *vp, u32 off)
{
	struct virtq *q = selected(vp);

	switch (off) {
	case VIRTIO_COMMON_DFSELECT:
		return vp->dfselect;
	case VIRTIO_COMMON_DF:
		return vp->dfselect < FEATURE_WORDS ? half(offered(vp), vp->dfselect * 4) : 0;
	case VIRTIO_COMMON_GFSELECT:
		return vp->gfselect;
	case VIRTIO_COMMON_GF:
		return vp->gfselect < FEATURE_WORDS ? half(vp->driver_features, vp->gfselect * 4) :
						      0;
	case VIRTIO_COMMON_MSIX:
		return vp->config_msix;
	case VIRTIO_COMMON_NUMQ:
		return vp->queue_count;
	case VIRTIO_COMMON_STATUS:
		return vp->status;
	case VIRTIO_COMMON_Q_SELECT:
		return vp->queue_select;
	case VIRTIO_COMMON_CFGGENERATION: /* the configuration never changes */
	default:
		break;
	}
	if (!q)
		return off == VIRTIO_COMMON_Q_MSIX ? VIRTIO_MSI_NO_VECTOR : 0;
	switch (off) {
	case VIRTIO_COMMON_Q_SIZE:
		return q->size;
	case VIRTIO_COMMON_Q_MSIX:
		return q->msix;
	case VIRTIO_COMMON_Q_ENABLE:
		return q->ready;
	case VIRTIO_COMMON_Q_NOFF:
		return vp->queue_select;
	case VIRTIO_COMMON_CFGGENERATION:
		return 0;
	default:
		return off >= VIRTIO_COMMON_Q_DESCLO ? half(*queue_addr(q, off), off) : 0;
	}
}

/* 4.1.5.1.2: a vector the function does not have reads back as none. */
static u16 vector(const struct virtio_pci *vp, u32 val)
{
	return val < vp->pci.msix_vectors ? (u16)val : VIRTIO_MSI_NO_VECTOR;
}

/* A queue's fields change only while it is not ready; enabling checks it. */
static void queue_write(struct virtio_pci *vp, struct virtq *q, u32 off, u32 val)
{
	u64 *addr;

	if (off == VIRTIO_COMMON_Q_MSIX) {
		q->msix = vector(vp, val);
		return;
	}
	if (q->ready)
		return;
	switch (off) {
	case VIRTIO_COMMON_Q_SIZE:
		q->size = (u16)val;
		return;
	case VIRTIO_COMMON_Q_ENABLE:
		if (val == 1 && virtq_enable(q, VIRTIO_QUEUE_SIZE, &vp->mem))
			virtio_broken(vp);
		return;
	case VIRTIO_COMMON_Q_NOFF:
		return;
	default:
		addr = queue_addr(q, off);
		*addr = off & 4 ? (*addr & 0xffffffffULL) | (u64)val << 32 :
				  (*addr & ~0xffffffffULL) | val;
	}
}

static void common_write(struct virtio_pci *vp, u32 off, u32 val)
{
	struct virtq *q = selected(vp);

	switch (off) {
	case VIRTIO_COMMON_DFSELECT:
		vp->dfselect = val;
		return;
	case VIRTIO_COMMON_GFSELECT:
		vp->gfselect = val;
		return;
	case VIRTIO_COMMON_GF:
		if (vp->gfselect < FEATURE_WORDS && !(vp->status & VIRTIO_STATUS_FEATURES_OK)) {
			u32 shift = 32 * vp->gfselect;

			vp->driver_features &= ~(0xffffffffULL << shift);
			vp->driver_features |= (u64)val << shift;
		}
		return;
	case VIRTIO_COMMON_MSIX:
		vp->config_msix = vector(vp, val);
		return;
	case VIRTIO_COMMON_STATUS:
		set_status(vp, (u8)val);
		return;
	case VIRTIO_COMMON_Q_SELECT:
		vp->queue_select = (u16)val;
		return;
	case VIRTIO_COMMON_DF:
	case VIRTIO_COMMON_NUMQ:
	case VIRTIO_COMMON_CFGGENERATION:
		return; /* read-only */
	default:
		break;
	}
	if (q) {
		spin_lock(&vp->qlock[vp->queue_select]);
		queue_write(vp, q, off, val);
		spin_unlock(&vp->qlock[vp->queue_select]);
	}
}

static void common_access(struct virtio_pci *vp, u32 off, struct vdev_access *a)
{
	bool natural = off < VIRTIO_COMMON_SIZE && field_width(off) == a->size;

	spin_lock(&vp->lock);
	if (!a->write)
		a->val = natural ? common_read(vp, off) : 0;
	else if (natural)
		common_write(vp, off, (u32)a->val);
	spin_unlock(&vp->lock);
}

/* --- the other structures -------------------------------------------------- */

/* 4.1.4.5: reading the ISR clears it and lowers INTx. */
static u8 isr_read(struct virtio_pci *vp)
{
	u8 isr;

	spin_lock(&vp->isr_lock);
	isr = vp->isr;
	vp->isr = 0;
	vpci_intx(&vp->pci, false);
	spin_unlock(&vp->isr_lock);
	return isr;
}

static void notify(struct virtio_pci *vp, u32 off)
{
	u32 q = off / NOTIFY_MULTIPLIER;

	if (q < vp->queue_count && virtio_live(vp))
		vp->ops->notify(vp, q);
}

/* BAR 0: reads of nothing give 0, writes to read-only places are dropped. */
static int regs_access(struct virtio_pci *vp, u64 off, struct vdev_access *a)
{
	u32 in = (u32)(off % REGION);

	if (off >= BAR_REGS_SIZE)
		return -E_INVAL;
	switch (off - in) {
	case AT_COMMON:
		common_access(vp, in, a);
		return 0;
	case AT_ISR:
		if (!a->write)
			a->val = in < ISR_LEN ? isr_read(vp) : 0;
		return 0;
	case AT_DEVICE:
		if (!a->write) {
			a->val = 0;
			if (in < vp->config_len)
				memcpy(&a->val, (const u8 *)vp->config + in,
				       MIN((u32)a->size, vp->config_len - in));
		}
		return 0;
	default: /* AT_NOTIFY */
		if (a->write)
			notify(vp, in);
		else
			a->val = 0;
		return 0;
	}
}

static int vp_bar_access(struct vpci_dev *d, u32 bar, u64 off, struct vdev_access *a)
{
	return bar == BAR_REGS ? regs_access(vp_of(d), off, a) : -E_INVAL;
}

/* 4.1.4.7: the PCI configuration access capability. bar, offset and length
 * are the driver's; pci_cfg_data reaches BAR 0 there, length bytes. */
static bool pci_cfg_access(struct vpci_dev *d, u32 reg, u32 size, bool write, u32 *val)
{
	struct virtio_pci *vp = vp_of(d);
	u32 at = vp->pci_cfg_cap, off = reg - at;
	u8 *cap = d->cfg + at;
	struct vdev_access a;

	if (reg < at || off >= VIRTIO_PCI_CFG_CAP_LEN)
		return false;
	if (off < VIRTIO_PCI_CFG_DATA) {
		for (u32 i = 0; write && i < size; i++, off++)
			if (off == VIRTIO_PCI_CAP_BAR || off >= VIRTIO_PCI_CAP_OFFSET)
				cap[off] = (u8)(*val >> (8 * i));
		return write; /* reads come from the bytes */
	}
	a = (struct vdev_access){ .size = cap[VIRTIO_PCI_CAP_LENGTH], .write = write, .val = *val };
	memcpy(&a.addr, cap + VIRTIO_PCI_CAP_OFFSET, sizeof(u32));
	*val = write ? *val : 0;
	if (off != VIRTIO_PCI_CFG_DATA || cap[VIRTIO_PCI_CAP_BAR] != BAR_REGS ||
	    (a.size != 1 && a.size != 2 && a.size != 4) || !IS_ALIGNED(a.addr, a.size) ||
	    memcmp(cap + VIRTIO_PCI_CAP_LENGTH + 1, "\0\0\0", 3))
		return true;
	if (!regs_access(vp, a.addr, &a) && !write)
		*val = (u32)a.val;
	return true;
}

static void vp_reset(struct vpci_dev *d)
{
	virtio_reset(vp_of(d));
}

static const struct vpci_dev_ops transport_ops = {
	.bar_access = vp_bar_access,
	.cfg_access = pci_cfg_access,
	.reset = vp_reset,
};

/* --- set-up ------------------------------------------------------------------ */

static u32 add_cap(struct virtio_pci *vp, u8 type, u32 offset, u32 length, u32 len, u32 extra)
{
	struct virtio_pci_cap_body body = {
		.cap_len = (u8)len,
		.cfg_type = type,
		.bar = type == VIRTIO_PCI_CAP_PCI_CFG ? 0 : BAR_REGS,
		.offset = offset,
		.length = length,
		.extra = extra,
	};

	return vpci_add_cap(&vp->pci, PCI_CAP_ID_VENDOR, &body.cap_len, len - 2);
}

int virtio_pci_add(struct virtio_pci *vp, struct vdev_registry *reg)
{
	struct vpci *bus = vdev_find(reg, &vpci_type);
	struct vpci_dev *d = &vp->pci;
	int err;

	if (!bus || vp->queue_count > VIRTIO_PCI_QUEUES || vp->config_len > REGION)
		return -E_INVAL;
	*d = (struct vpci_dev){
		.vendor = VIRTIO_PCI_VENDOR,
		.device = (u16)(VIRTIO_PCI_DEVICE_BASE + vp->type),
		.subsys_vendor = VIRTIO_PCI_VENDOR,
		.subsys_device = VIRTIO_PCI_SUBSYS_DEVICE,
		.class_code = vp->class_code,
		.revision = VIRTIO_PCI_REVISION,
		.intx = true,
		.bar[BAR_REGS] = { .size = BAR_REGS_SIZE, .type = VPCI_BAR_MEM32 },
		.bar[BAR_MSIX] = { .size = VPCI_MSIX_BAR_SIZE, .type = VPCI_BAR_MEM32 },
		.msix_vectors = (u16)(vp->queue_count + 1),
		.msix_bar = BAR_MSIX,
		.msix_table = VPCI_MSIX_TABLE,
		.msix_pba = VPCI_MSIX_PBA,
		.ops = &transport_ops,
	};
	vp->lock = vp->isr_lock = (struct spinlock)SPINLOCK_INIT;
	for (u32 q = 0; q < VIRTIO_PCI_QUEUES; q++)
		vp->qlock[q] = (struct spinlock)SPINLOCK_INIT;
	vp->mem = (struct virtq_mem){ reg->host->gpa_ptr, reg->owner.part };
	err = vpci_add_dev(bus, d);
	if (err)
		return err;
	vp->pci_cfg_cap = add_cap(vp, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, VIRTIO_PCI_CFG_CAP_LEN, 0);
	if (!add_cap(vp, VIRTIO_PCI_CAP_COMMON_CFG, AT_COMMON, VIRTIO_COMMON_SIZE,
		     VIRTIO_PCI_CAP_LEN, 0) ||
	    !add_cap(vp, VIRTIO_PCI_CAP_NOTIFY_CFG, AT_NOTIFY, NOTIFY_MULTIPLIER * vp->queue_count,
		     VIRTIO_PCI_NOTIFY_CAP_LEN, NOTIFY_MULTIPLIER) ||
	    !add_cap(vp, VIRTIO_PCI_CAP_ISR_CFG, AT_ISR, ISR_LEN, VIRTIO_PCI_CAP_LEN, 0) ||
	    !add_cap(vp, VIRTIO_PCI_CAP_DEVICE_CFG, AT_DEVICE, vp->config_len, VIRTIO_PCI_CAP_LEN,
		     0) ||
	    !vp->pci_cfg_cap)
		return -E_NOMEM;
	return 0;
}
