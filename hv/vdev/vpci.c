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

#define CF8_PORTS 1 /* 0xCF9 is the reset register (vpm.c): only CF8 dword accesses */
#define BYTE_MASK 0xffU

/* Type 0 header (PCI Local Bus 3.0 6.1) */
#define CFG_VENDOR 0x00
#define CFG_DEVICE 0x02
#define CFG_COMMAND 0x04
#define CFG_REVISION 0x08
#define CFG_CLASS_PROG 0x09
#define CFG_HEADER_TYPE 0x0e
#define CFG_HEADER_SIZE 256
#define CMD_IO BIT(0)
#define CMD_MEMORY BIT(1)
#define CMD_MASTER BIT(2)
#define CMD_PARITY BIT(6)
#define CMD_SERR BIT(8)
#define CMD_INTX_DISABLE BIT(10)
#define HB_CMD_WRITABLE \
	(CMD_IO | CMD_MEMORY | CMD_MASTER | CMD_PARITY | CMD_SERR | CMD_INTX_DISABLE)
#define HB_CMD_RESET (CMD_MEMORY | CMD_MASTER) /* as Intel host bridges come up */
#define HB_REVISION 0x00
#define HB_CLASS 0x060000U  /* bridge, host bridge, prog-if 0 */
#define HB_HEADER_TYPE 0x00 /* type 0, single function */

struct vpci_func {
	u32 devfn;
	const struct vpci_func_ops *ops;
	void *ctx;
};

struct host_bridge {
	u8 cfg[CFG_HEADER_SIZE];
};

struct vpci {
	struct spinlock lock;
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
	return reg < CFG_HEADER_SIZE ? get(hb->cfg, reg, size) : 0;
}

static void hb_write(void *ctx, u32 reg, u32 size, u32 val)
{
	struct host_bridge *hb = ctx;
	u32 cmd = get(hb->cfg, CFG_COMMAND, 2);

	/* only the bytes of the command register that the access covers */
	for (u32 i = 0; i < size; i++) {
		u32 r = reg + i;

		if (r == CFG_COMMAND || r == CFG_COMMAND + 1) {
			u32 shift = 8 * (r - CFG_COMMAND);

			cmd &= ~(BYTE_MASK << shift);
			cmd |= ((val >> (8 * i)) & BYTE_MASK) << shift;
		}
	}
	put(hb->cfg, CFG_COMMAND, 2, cmd & HB_CMD_WRITABLE);
}

static void hb_reset(void *ctx)
{
	struct host_bridge *hb = ctx;

	for (u32 i = 0; i < CFG_HEADER_SIZE; i++)
		hb->cfg[i] = 0;
	put(hb->cfg, CFG_VENDOR, 2, VPCI_HB_VENDOR);
	put(hb->cfg, CFG_DEVICE, 2, VPCI_HB_DEVICE);
	put(hb->cfg, CFG_COMMAND, 2, HB_CMD_RESET);
	put(hb->cfg, CFG_REVISION, 1, HB_REVISION);
	put(hb->cfg, CFG_CLASS_PROG, 3, HB_CLASS);
	put(hb->cfg, CFG_HEADER_TYPE, 1, HB_HEADER_TYPE);
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

int vpci_add_func(struct vpci *pci, u8 dev, u8 fn, const struct vpci_func_ops *ops, void *ctx)
{
	int err = 0;

	if (dev >= VPCI_DEVS || fn >= VPCI_FNS || !ops || !ops->read || !ops->write)
		return -E_INVAL;
	spin_lock(&pci->lock);
	if (find(pci, 0, DEVFN(dev, fn)))
		err = -E_EXIST;
	else if (pci->count == VPCI_MAX_FUNCS)
		err = -E_NOMEM;
	else
		pci->funcs[pci->count++] = (struct vpci_func){ DEVFN(dev, fn), ops, ctx };
	spin_unlock(&pci->lock);
	return err;
}

/* Host bridge to power-on state, every added function's reset, CF8 = 0. */
static void vpci_reset(void *dev)
{
	struct vpci *pci = dev;

	spin_lock(&pci->lock);
	pci->cf8 = 0;
	for (u32 i = 0; i < pci->count; i++)
		if (pci->funcs[i].ops->reset)
			pci->funcs[i].ops->reset(pci->funcs[i].ctx);
	spin_unlock(&pci->lock);
}

static int vpci_create(struct vdev_registry *reg, void *dev)
{
	struct vpci *pci = dev;

	if (vpci_add_func(pci, 0, 0, &hb_ops, &pci->hb) ||
	    vdev_add_io(reg, PLAT_PCI_CONF_ADDR, CF8_PORTS, cf8_access, pci) ||
	    vdev_add_io(reg, PLAT_PCI_CONF_DATA, CFC_PORTS, cfc_access, pci) ||
	    vdev_add_mmio(reg, PLAT_ECAM_BASE, PLAT_ECAM_SIZE, ecam_access, pci))
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
