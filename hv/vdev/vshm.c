/*
 * Shared memory between partitions, as an ivshmem device (QEMU's
 * docs/specs/ivshmem-spec.rst; hv/hw/ivshmem.h): one function per `shm`
 * of the partition's configuration. A region exists once, made by the
 * first partition that names it (hypervisor memory, zeroed, never freed),
 * and is mapped into each naming partition's second-level tables at its
 * BAR 2 (hv/vdev/vpci_dev.c); nothing else of any partition is shared.
 *
 * Peers: the partitions naming a region, numbered in hv.conf order from 0
 * (IVPosition). A doorbell runs on the ringing CPU: it raises the named
 * MSI-X vector in the peer (without MSI-X: IntrStatus bit 0, and INTx
 * while IntrMask allows), taking only the peer's register lock, a leaf.
 */
#include "hv/vdev/vshm.h"
#include "hv/config/config.h"
#include "hv/hw/ivshmem.h"
#include "hv/lib/lib.h"
#include "hv/lib/log.h"
#include "hv/lib/spinlock.h"
#include "hv/vdev/vpci.h"
#include "hv/vdev/vpci_dev.h"

#define VSHM_VECTORS 4
#define VSHM_REGIONS (CONFIG_MAX_PARTITIONS * CONFIG_MAX_SHM)
#define INTR_DOORBELL BIT(0)

struct vshm_fn;

struct vshm_region {
	char name[CONFIG_NAME_MAX + 1];
	u64 size;
	void *mem;
	u32 peers;
	struct vshm_fn *peer[CONFIG_MAX_PARTITIONS]; /* by ID */
};

struct vshm_fn {
	struct vpci_dev pci; /* first: the transport's callbacks get it */
	struct vshm_region *region;
	u32 id;
	struct spinlock lock; /* intr_mask, intr_status */
	u32 intr_mask, intr_status;
	u64 rung, bad_doorbells;
};

struct vshm {
	struct vdev_registry *reg;
	u32 count;
	struct vshm_fn fn[CONFIG_MAX_SHM];
};

static struct vshm_region regions[VSHM_REGIONS];
static struct spinlock regions_lock = SPINLOCK_INIT;

/* The region, made (and its memory allocated) on first use. */
static struct vshm_region *region_get(const struct vdev_host *host, const struct config_shm *c)
{
	struct vshm_region *r = NULL;

	spin_lock(&regions_lock);
	for (u32 i = 0; i < VSHM_REGIONS && !r; i++)
		if (!regions[i].name[0] || !strcmp(regions[i].name, c->name))
			r = &regions[i];
	if (r && !r->name[0]) {
		r->mem = host->alloc_shared(c->size);
		r->size = r->mem ? c->size : 0;
		if (r->mem)
			memcpy(r->name, c->name, sizeof(r->name));
	}
	spin_unlock(&regions_lock);
	return r && r->mem && r->size == c->size ? r : NULL;
}

/* INTx follows status and mask (without MSI-X). lock held. */
static void update_intx(struct vshm_fn *f)
{
	vpci_intx(&f->pci, f->intr_status & f->intr_mask);
}

/* A doorbell from f: peer << 16 | vector. */
static void ring(struct vshm_fn *f, u32 val)
{
	u32 peer = val >> IVSHMEM_DOORBELL_PEER_SHIFT, vec = val & IVSHMEM_DOORBELL_VECTOR_MASK;
	struct vshm_fn *to = peer < CONFIG_MAX_PARTITIONS ?
				     __atomic_load_n(&f->region->peer[peer], __ATOMIC_ACQUIRE) :
				     NULL;

	if (!to) {
		f->bad_doorbells++;
		return;
	}
	f->rung++;
	if (vpci_msix_enabled(&to->pci)) {
		vpci_msix_notify(&to->pci, vec);
		return;
	}
	spin_lock(&to->lock);
	to->intr_status |= INTR_DOORBELL;
	update_intx(to);
	spin_unlock(&to->lock);
}

/* BAR 0: 32-bit registers; other widths and the rest read 0 (reserved). */
static int regs_access(struct vpci_dev *d, u32 bar, u64 off, struct vdev_access *a)
{
	struct vshm_fn *f = (struct vshm_fn *)d;
	u32 val = (u32)a->val;

	if (bar != IVSHMEM_REGS_BAR)
		return -E_INVAL;
	if (!a->write)
		a->val = 0;
	if (a->size != sizeof(u32) || !IS_ALIGNED(off, sizeof(u32)))
		return 0;
	if (off == IVSHMEM_DOORBELL) {
		if (a->write)
			ring(f, val);
		return 0;
	}
	spin_lock(&f->lock);
	switch (off) {
	case IVSHMEM_INTR_MASK:
		if (a->write)
			f->intr_mask = val;
		else
			a->val = f->intr_mask;
		break;
	case IVSHMEM_INTR_STATUS: /* a read clears it, as QEMU's does */
		if (a->write) {
			f->intr_status = val;
		} else {
			a->val = f->intr_status;
			f->intr_status = 0;
		}
		break;
	case IVSHMEM_IV_POSITION:
		if (!a->write)
			a->val = f->id;
		break;
	default:
		break;
	}
	update_intx(f);
	spin_unlock(&f->lock);
	return 0;
}

static void fn_reset(struct vpci_dev *d)
{
	struct vshm_fn *f = (struct vshm_fn *)d;

	spin_lock(&f->lock);
	f->intr_mask = f->intr_status = 0;
	spin_unlock(&f->lock);
}

static const struct vpci_dev_ops fn_ops = {
	.bar_access = regs_access,
	.reset = fn_reset,
};

static int add_fn(struct vshm *s, struct vshm_fn *f, const struct config_shm *c)
{
	struct vpci *bus = vdev_find(s->reg, &vpci_type);
	struct vshm_region *r = region_get(s->reg->host, c);

	if (!r || !bus || r->peers == CONFIG_MAX_PARTITIONS) {
		pr_err("partition %s: shm %s: no memory for it\n", s->reg->owner.name, c->name);
		return -E_NOMEM;
	}
	f->region = r;
	f->id = r->peers;
	f->lock = (struct spinlock)SPINLOCK_INIT;
	f->pci = (struct vpci_dev){
		.vendor = IVSHMEM_VENDOR,
		.device = IVSHMEM_DEVICE,
		.subsys_vendor = IVSHMEM_VENDOR,
		.subsys_device = IVSHMEM_DEVICE,
		.class_code = PCI_CLASS_MEMORY_RAM,
		.revision = IVSHMEM_REVISION,
		.intx = true,
		.bar[IVSHMEM_REGS_BAR] = { .size = IVSHMEM_REGS_SIZE, .type = VPCI_BAR_MEM32 },
		.bar[IVSHMEM_MSIX_BAR] = { .size = VPCI_MSIX_BAR_SIZE, .type = VPCI_BAR_MEM32 },
		.bar[IVSHMEM_SHM_BAR] = { r->size, VPCI_BAR_MEM64, true, r->mem },
		.msix_vectors = VSHM_VECTORS,
		.msix_bar = IVSHMEM_MSIX_BAR,
		.msix_table = VPCI_MSIX_TABLE,
		.msix_pba = VPCI_MSIX_PBA,
		.ops = &fn_ops,
	};
	if (vpci_add_dev(bus, &f->pci))
		return -E_NOMEM;
	__atomic_store_n(&r->peer[r->peers++], f, __ATOMIC_RELEASE);
	return 0;
}

/* Leaves its regions (a failed build): no doorbell finds it. The regions
 * stay, others may use them. */
static void vshm_free(void *dev)
{
	struct vshm *s = dev;

	for (u32 i = 0; i < s->count; i++)
		if (s->fn[i].region)
			__atomic_store_n(&s->fn[i].region->peer[s->fn[i].id], NULL,
					 __ATOMIC_RELEASE);
}

static int vshm_create(struct vdev_registry *reg, void *dev)
{
	const struct config_partition *cfg = reg->owner.cfg;
	struct vshm *s = dev;

	if (!cfg->shm_count)
		return VDEV_DECLINED;
	s->reg = reg;
	while (s->count < cfg->shm_count && s->count < CONFIG_MAX_SHM) {
		int err = add_fn(s, &s->fn[s->count], &cfg->shm[s->count]);

		s->count++;
		if (err) {
			vshm_free(s);
			return err;
		}
	}
	return 0;
}

static void vshm_stats(void *dev)
{
	struct vshm *s = dev;

	for (u32 i = 0; i < s->count; i++)
		pr_info("partition %s: shm %s (peer %u): %lu doorbells rung, %lu to no peer\n",
			s->reg->owner.name, s->fn[i].region->name, s->fn[i].id, s->fn[i].rung,
			s->fn[i].bad_doorbells);
}

/* The functions reset with the bus (hv/vdev/vpci.c). */
const struct vdev_type vshm_type = {
	.name = "ivshmem",
	.size = sizeof(struct vshm),
	.create = vshm_create,
	.free = vshm_free,
	.stats = vshm_stats,
};
