/*
 * PCI configuration space: mechanism #1 and ECAM onto one bus of
 * functions (vpci.h). Both paths end in cfg_rw, which splits an access
 * into naturally aligned pieces within a dword, so a function sees the
 * same accesses whichever way the guest came.
 */
#include "hv/vdev/vpci.h"
#include "hv/hw/pci.h"
#include "hv/lib/spinlock.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/vpci_dev.h"

#define CF8_PORTS 1 /* 0xCF9 is the reset register (vpm.c): only CF8 dword accesses */
#define BYTE_MASK 0xffU
#define FIRST_SLOT 1 /* 0 is the host bridge's */

#define HB_CMD_WRITABLE                                                                 \
	(PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER | PCI_CMD_PARITY | PCI_CMD_SERR | \
	 PCI_CMD_INTX_DISABLE)
#define HB_CMD_RESET (PCI_CMD_MEMORY | PCI_CMD_MASTER) /* as Intel host bridges come up */
#define HB_REVISION 0x00
/* Firmware placement: BAR sizes from the largest a window holds down */
#define PLACE_SHIFT_MAX 31
#define PLACE_SHIFT_MIN 2

struct vpci_func {
	u32 devfn;
	const struct vpci_func_ops *ops;
	void *ctx;
	struct vpci_dev *dev; /* a declared function (vpci_dev.h), or NULL */
};

struct host_bridge {
	u8 cfg[PCI_CFG_SPACE_SIZE];
};

struct vpci {
	struct spinlock lock;
	struct vdev_registry *reg;
	bool io_window; /* registered, for the first function with an I/O BAR */
	u32 cf8;
	u32 count;
	struct vpci_func funcs[VPCI_MAX_FUNCS];
	struct host_bridge hb;
};

/* --- the host bridge ---------------------------------------------------- */

static void put(u8 *cfg, u32 reg, u32 size, u32 val)
{
	for (u32 i = 0; i < size; i++)
		cfg[reg + i] = (u8)(val >> (8 * i));
}

static u32 get(const u8 *cfg, u32 reg, u32 size)
{
	u32 val = 0;

	for (u32 i = 0; i < size; i++)
		val |= (u32)cfg[reg + i] << (8 * i);
	return val;
}

static u32 hb_read(void *ctx, u32 reg, u32 size)
{
	struct host_bridge *hb = ctx;

	/* no extended capabilities: the extended space reads 0 */
	return reg < PCI_CFG_SPACE_SIZE ? get(hb->cfg, reg, size) : 0;
}

static void hb_write(void *ctx, u32 reg, u32 size, u32 val)
{
	struct host_bridge *hb = ctx;
	u32 cmd = get(hb->cfg, PCI_CFG_COMMAND, 2);

	/* only the bytes of the command register that the access covers */
	for (u32 i = 0; i < size; i++) {
		u32 r = reg + i;

		if (r == PCI_CFG_COMMAND || r == PCI_CFG_COMMAND + 1) {
			u32 shift = 8 * (r - PCI_CFG_COMMAND);

			cmd &= ~(BYTE_MASK << shift);
			cmd |= ((val >> (8 * i)) & BYTE_MASK) << shift;
		}
	}
	put(hb->cfg, PCI_CFG_COMMAND, 2, cmd & HB_CMD_WRITABLE);
}

static void hb_reset(void *ctx)
{
	struct host_bridge *hb = ctx;

	for (u32 i = 0; i < PCI_CFG_SPACE_SIZE; i++)
		hb->cfg[i] = 0;
	put(hb->cfg, PCI_CFG_VENDOR, 2, VPCI_HB_VENDOR);
	put(hb->cfg, PCI_CFG_DEVICE, 2, VPCI_HB_DEVICE);
	put(hb->cfg, PCI_CFG_COMMAND, 2, HB_CMD_RESET);
	put(hb->cfg, PCI_CFG_REVISION, 1, HB_REVISION);
	put(hb->cfg, PCI_CFG_CLASS_PROG, 3, PCI_CLASS_HOST_BRIDGE);
	put(hb->cfg, PCI_CFG_HEADER_TYPE, 1, PCI_HEADER_TYPE_NORMAL);
}

static const struct vpci_func_ops hb_ops = {
	.read = hb_read,
	.write = hb_write,
	.reset = hb_reset,
};

/* --- the bus ------------------------------------------------------------ */

static struct vpci_func *find(struct vpci *pci, u32 bus, u32 devfn)
{
	if (bus >= PLAT_ECAM_BUSES)
		return NULL;
	for (u32 i = 0; i < pci->count; i++)
		if (pci->funcs[i].devfn == devfn)
			return &pci->funcs[i];
	return NULL;
}

/* The largest naturally aligned piece at reg that fits in left bytes. */
static u32 piece(u32 reg, u32 left)
{
	if (!(reg & 3) && left >= 4)
		return 4;
	if (!(reg & 1) && left >= 2)
		return 2;
	return 1;
}

/* size bytes at reg (reg + size <= VPCI_CFG_SIZE) of bus:devfn; an absent
 * function reads all-ones and ignores writes. Lock held. */
static u64 cfg_rw(struct vpci *pci, u32 bus, u32 devfn, u32 reg, u32 size, bool write, u64 val)
{
	struct vpci_func *f = find(pci, bus, devfn);
	u64 out = 0;

	for (u32 done = 0, n; done < size; done += n) {
		u32 at = reg + done, mask, part;

		n = piece(at, size - done);
		mask = n == 4 ? ~0U : (u32)BIT(8 * n) - 1;
		if (write) {
			if (f)
				f->ops->write(f->ctx, at, n, (u32)(val >> (8 * done)) & mask);
			continue;
		}
		part = f ? f->ops->read(f->ctx, at, n) & mask : mask;
		out |= (u64)part << (8 * done);
	}
	return out;
}

/* Bytes of a read beyond what reached a function: all-ones, as open bus. */
static u64 fill_ones(u64 val, u32 got, u32 size)
{
	for (u32 i = got; i < size; i++)
		val |= (u64)BYTE_MASK << (8 * i);
	return val;
}

static int cf8_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	struct vpci *pci = dev;

	(void)v;
	if (a->size != sizeof(u32))
		return -E_INVAL; /* byte and word cycles at CF8 are not for us */
	spin_lock(&pci->lock);
	if (a->write)
		pci->cf8 = (u32)a->val & CF8_MASK;
	else
		a->val = pci->cf8;
	spin_unlock(&pci->lock);
	return 0;
}

static int cfc_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	struct vpci *pci = dev;
	u32 k = (u32)(a->addr - PLAT_PCI_CONF_DATA);
	u32 size = MIN((u32)a->size, CFC_PORTS - k);
	u32 cf8;
	u64 val = 0;

	(void)v;
	spin_lock(&pci->lock);
	cf8 = pci->cf8;
	if (cf8 & CF8_ENABLE)
		val = cfg_rw(pci, (cf8 >> CF8_BUS_SHIFT) & BYTE_MASK,
			     (cf8 >> CF8_DEVFN_SHIFT) & BYTE_MASK, (cf8 & CF8_REG_MASK) + k, size,
			     a->write, a->val);
	else
		val = ~0ULL; /* configuration cycles disabled */
	spin_unlock(&pci->lock);
	if (!a->write)
		a->val = fill_ones(val, size, a->size);
	return 0;
}

static int ecam_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	struct vpci *pci = dev;
	u64 off = a->addr - PLAT_ECAM_BASE;
	u32 reg = (u32)(off & ECAM_REG_MASK);
	u32 size = MIN((u32)a->size, VPCI_CFG_SIZE - reg);
	u64 val;

	(void)v;
	spin_lock(&pci->lock);
	val = cfg_rw(pci, (u32)(off >> ECAM_BUS_SHIFT), (u32)(off >> ECAM_DEVFN_SHIFT) & BYTE_MASK,
		     reg, size, a->write, a->val);
	spin_unlock(&pci->lock);
	if (!a->write)
		a->val = fill_ones(val, size, a->size);
	return 0;
}

static int add_func(struct vpci *pci, u32 devfn, const struct vpci_func_ops *ops, void *ctx,
		    struct vpci_dev *dev)
{
	if (find(pci, 0, devfn))
		return -E_EXIST;
	if (pci->count == VPCI_MAX_FUNCS)
		return -E_NOMEM;
	pci->funcs[pci->count++] = (struct vpci_func){ devfn, ops, ctx, dev };
	return 0;
}

int vpci_add_func(struct vpci *pci, u8 dev, u8 fn, const struct vpci_func_ops *ops, void *ctx)
{
	int err;

	if (dev >= VPCI_DEVS || fn >= VPCI_FNS || !ops || !ops->read || !ops->write)
		return -E_INVAL;
	spin_lock(&pci->lock);
	err = add_func(pci, DEVFN(dev, fn), ops, ctx, NULL);
	spin_unlock(&pci->lock);
	return err;
}

/* --- declared functions: their BARs ----------------------------------------- */

static const struct vpci_func_ops dev_ops = {
	.read = vpci_dev_cfg_read,
	.write = vpci_dev_cfg_write,
	.reset = vpci_dev_reset,
};

/* An access in a window: the decoded BAR that holds it, found under the
 * lock, then the function without it. Nothing there: open bus. */
static int bar_dispatch(struct vpci *pci, bool io, struct vdev_access *a)
{
	struct vpci_dev *d = NULL;
	u32 bar = 0;
	u64 off = 0;

	spin_lock(&pci->lock);
	for (u32 i = 0; i < pci->count && !d; i++)
		if (pci->funcs[i].dev &&
		    vpci_dev_claims(pci->funcs[i].dev, io, a->addr, &bar, &off))
			d = pci->funcs[i].dev;
	spin_unlock(&pci->lock);
	return d ? vpci_dev_bar_access(d, bar, off, a) : -E_NODEV;
}

static int mmio_window_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	(void)v;
	return bar_dispatch(dev, false, a);
}

static int io_window_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	(void)v;
	return bar_dispatch(dev, true, a);
}

int vpci_add_dev(struct vpci *pci, struct vpci_dev *d)
{
	bool io = false;
	u32 slot = FIRST_SLOT;
	int err;

	for (u32 i = 0; i < PCI_BARS; i++)
		io |= d->bar[i].type == VPCI_BAR_IO;
	if (io && !pci->io_window) {
		if (vdev_add_io(pci->reg, PLAT_PCI_IO_BASE, PLAT_PCI_IO_SIZE, io_window_access,
				pci))
			return -E_NOMEM;
		pci->io_window = true;
	}
	spin_lock(&pci->lock);
	while (slot < VPCI_DEVS && find(pci, 0, DEVFN(slot, 0)))
		slot++;
	err = slot == VPCI_DEVS ? -E_NOMEM : vpci_dev_init(d, pci->reg, (u8)DEVFN(slot, 0));
	if (!err)
		err = add_func(pci, DEVFN(slot, 0), &dev_ops, d, d);
	spin_unlock(&pci->lock);
	return err;
}

/*
 * Where firmware would put the BARs: each window filled from its bottom,
 * largest BAR first, so that every BAR is naturally aligned with no gap.
 * A BAR that does not fit stays at 0 (not decoded).
 */
static void place_bars(struct vpci *pci)
{
	const u64 base[2] = { PLAT_PCI_MMIO_BASE, PLAT_PCI_IO_BASE };
	const u64 size[2] = { PLAT_PCI_MMIO_SIZE, PLAT_PCI_IO_SIZE };
	u64 used[2] = { 0, 0 };

	for (u32 shift = PLACE_SHIFT_MAX; shift >= PLACE_SHIFT_MIN; shift--) {
		for (u32 f = 0; f < pci->count; f++) {
			struct vpci_dev *d = pci->funcs[f].dev;

			for (u32 i = 0; d && i < PCI_BARS; i++) {
				const struct vpci_bar *b = &d->bar[i];
				u32 w = b->type == VPCI_BAR_IO;

				if (b->type == VPCI_BAR_NONE || b->size != BIT_ULL(shift))
					continue;
				d->addr[i] = used[w] + b->size <= size[w] ? base[w] + used[w] : 0;
				used[w] += d->addr[i] ? b->size : 0;
			}
		}
	}
}

/* Host bridge to power-on state, BARs where firmware puts them, every
 * added function's reset, CF8 = 0. */
static void vpci_reset(void *dev)
{
	struct vpci *pci = dev;

	spin_lock(&pci->lock);
	pci->cf8 = 0;
	place_bars(pci);
	for (u32 i = 0; i < pci->count; i++)
		if (pci->funcs[i].ops->reset)
			pci->funcs[i].ops->reset(pci->funcs[i].ctx);
	spin_unlock(&pci->lock);
}

static int vpci_create(struct vdev_registry *reg, void *dev)
{
	struct vpci *pci = dev;

	pci->reg = reg;
	if (vpci_add_func(pci, 0, 0, &hb_ops, &pci->hb) ||
	    vdev_add_io(reg, PLAT_PCI_CONF_ADDR, CF8_PORTS, cf8_access, pci) ||
	    vdev_add_io(reg, PLAT_PCI_CONF_DATA, CFC_PORTS, cfc_access, pci) ||
	    vdev_add_mmio(reg, PLAT_ECAM_BASE, PLAT_ECAM_SIZE, ecam_access, pci) ||
	    vdev_add_mmio(reg, PLAT_PCI_MMIO_BASE, PLAT_PCI_MMIO_SIZE, mmio_window_access, pci))
		return -E_NOMEM;
	vpci_reset(pci);
	return 0;
}

const struct vdev_type vpci_type = {
	.name = "PCI host bridge",
	.size = sizeof(struct vpci),
	.create = vpci_create,
	.reset = vpci_reset,
};
