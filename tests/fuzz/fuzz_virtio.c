/*
 * libFuzzer target for the virtual PCI devices (hv/vdev/vpci*.c,
 * virtio_pci.c, virtq.c, vnet.c, vswitch.c, vblk.c, vshm.c): two
 * partitions, each with a virtio-net port on one switch, a virtio-blk disk
 * (a's writable, b's read-only) and a shared region, and a fake RAM each.
 * The input is a program of guest actions: register reads and writes in
 * the PCI windows and in configuration space, bytes written anywhere into
 * a partition's RAM (rings, descriptors, requests), notifies, the driver's
 * usual set-up (so that deep states come quickly), timer ticks, doorbells,
 * a partition's stop and reset.
 *
 * Besides the sanitizers (every RAM and disk buffer is a heap block of its
 * exact size), it checks what the hypervisor promises: the read-only disk
 * never changes; a partition that stopped is not written into by anyone
 * until its reset; interrupts reach only the two partitions' registries
 * and mappings only their tables, at page-aligned addresses in the PCI
 * window; unmaps match maps.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/config/config.h"
#include "hv/hw/pci.h"
#include "hv/hw/virtio.h"
#include "hv/partition/partition.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vblk.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/virq.h"
#include "hv/vdev/vnet.h"
#include "hv/vdev/vpci.h"
#include "hv/vdev/vshm.h"

#define RAM (1u << 20)
#define DISK (64u * 1024)
#define SHM (64u * 1024)
#define RINGS 0x10000u /* where the set-up action puts queue q: + q * 0x1000 */
#define STEPS 512

#define CHECK(cond)                                                                             \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz_virtio: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			__builtin_trap();                                                       \
		}                                                                               \
	} while (0)

struct fpart {
	struct partition part;
	struct config_partition cfg;
	struct vcpu vcpu;
	struct vcpu *vcpus[1];
	u8 *ram;
	u64 mapped_gpa, mapped_len;
};

static struct fpart fp[2];
static u8 *disk_a, *disk_ro, *disk_ro_copy;
static bool quiet_b; /* b stopped: nobody may write into its RAM */
static u8 *ram_b_copy;

/* --- what the devices ask of the hypervisor ----------------------------- */

void printk(const char *fmt, ...)
{
	(void)fmt;
}

static struct fpart *of(const struct partition *p)
{
	CHECK(p == &fp[0].part || p == &fp[1].part);
	return p == &fp[0].part ? &fp[0] : &fp[1];
}

static bool is_reg(const struct vdev_registry *reg)
{
	return reg == &fp[0].part.vdevs || reg == &fp[1].part.vdevs;
}

void virq_deliver(struct vdev_registry *reg, u32 dest, bool logical, u32 mode, u8 vector,
		  bool level)
{
	(void)dest;
	(void)logical;
	(void)vector;
	CHECK(is_reg(reg) && mode <= MSI_DATA_MODE_MASK && !level);
}

void virq_set_level(struct vdev_registry *reg, u32 gsi, bool asserted)
{
	(void)asserted;
	CHECK(is_reg(reg) && gsi >= PLAT_PCI_GSI_BASE &&
	      gsi < PLAT_PCI_GSI_BASE + PLAT_PCI_GSI_COUNT);
}

static void *f_alloc(u64 bytes)
{
	return calloc(1, bytes);
}

static void f_free(void *mem, u64 bytes)
{
	(void)bytes;
	free(mem);
}

static void *f_alloc_shared(u64 bytes)
{
	void *p = aligned_alloc(PAGE_SIZE, bytes);

	if (p)
		memset(p, 0, bytes);
	return p;
}

static void f_kick(struct vcpu *v, u32 req)
{
	(void)req;
	CHECK(v == &fp[0].vcpu || v == &fp[1].vcpu);
}

static void f_stop(struct partition *p, enum vdev_stop how, const char *reason)
{
	(void)p;
	(void)how;
	(void)reason;
	CHECK(!"a device stopped its partition");
}

static void *f_gpa_ptr(const struct partition *p, u64 gpa, u64 len)
{
	struct fpart *f = of(p);

	if (gpa > RAM || len > RAM - gpa)
		return NULL;
	return f->ram + gpa;
}

static void *f_module(const char *name, u64 *len)
{
	*len = DISK;
	if (!strcmp(name, "a.img"))
		return disk_a;
	return !strcmp(name, "ro.img") ? disk_ro : NULL;
}

static int f_map(struct partition *p, u64 gpa, void *mem, u64 len)
{
	struct fpart *f = of(p);

	CHECK(mem && len >= PAGE_SIZE && !(gpa % PAGE_SIZE) && !(len % PAGE_SIZE));
	CHECK(gpa >= PLAT_PCI_MMIO_BASE && gpa + len <= PLAT_PCI_MMIO_BASE + PLAT_PCI_MMIO_SIZE);
	CHECK(!f->mapped_len); /* one region each here */
	f->mapped_gpa = gpa;
	f->mapped_len = len;
	return 0;
}

static void f_unmap(struct partition *p, u64 gpa, u64 len)
{
	struct fpart *f = of(p);

	CHECK(gpa == f->mapped_gpa && len == f->mapped_len);
	f->mapped_len = 0;
}

static const struct vdev_host host = {
	.alloc = f_alloc,
	.free = f_free,
	.kick = f_kick,
	.stop = f_stop,
	.gpa_ptr = f_gpa_ptr,
	.alloc_shared = f_alloc_shared,
	.module = f_module,
	.map = f_map,
	.unmap = f_unmap,
};

static const struct vdev_type *const types[] = { &vpci_type, &vnet_type, &vblk_type, &vshm_type };

static void part_make(struct fpart *f, const char *name, const char *disk, bool ro)
{
	struct vdev_owner owner;

	memset(f, 0, sizeof(*f));
	f->part.name = name;
	f->part.cfg = &f->cfg;
	f->part.vcpu_count = 1;
	strcpy(f->cfg.name, name);
	f->cfg.net_count = 1;
	strcpy(f->cfg.net[0], "lan");
	f->cfg.disk_count = 1;
	strcpy(f->cfg.disk[0].name, disk);
	f->cfg.disk[0].ro = ro;
	f->cfg.shm_count = 1;
	f->cfg.shm[0] = (struct config_shm){ "ring", SHM };
	f->vcpu.part = &f->part;
	f->vcpus[0] = &f->vcpu;
	f->ram = calloc(1, RAM);
	owner = (struct vdev_owner){ &f->part, name, &f->cfg, f->vcpus, 1 };
	vdev_init(&f->part.vdevs, &owner, &host);
	CHECK(vdev_create_all(&f->part.vdevs, types, ARRAY_SIZE(types)) == 0);
	vdev_reset_all(&f->part.vdevs);
}

/* --- guest actions ---------------------------------------------------------- */

struct input {
	const u8 *p;
	size_t n;
};

static u64 take(struct input *in, u32 bytes)
{
	u64 v = 0;

	for (u32 i = 0; i < bytes && in->n; i++, in->n--)
		v |= (u64)*in->p++ << (8 * i);
	return v;
}

static u64 rw(struct fpart *f, u64 addr, u8 size, bool write, u64 val)
{
	const struct vdev_range *r = vdev_find_mmio(&f->part.vdevs, addr);
	struct vdev_access a = { addr, size, write, write ? val : 0 };

	if (r)
		r->access(r->dev, &f->vcpu, &a);
	return a.val;
}

static u64 ecam(u32 slot, u32 reg)
{
	return PLAT_ECAM_BASE + ((u64)slot << 15) + (reg & 0xfff);
}

/* BAR bar of the function in slot, as the guest would find it. */
static u64 bar(struct fpart *f, u32 slot, u32 b)
{
	u64 lo = rw(f, ecam(slot, PCI_CFG_BAR0 + 4 * b), 4, false, 0);

	return lo & ~(u64)PCI_BAR_MEM_FLAGS;
}

static void common(struct fpart *f, u64 base, u32 off, u8 size, u64 val)
{
	rw(f, base + off, size, true, val);
}

/* What Linux's virtio_pci does before DRIVER_OK, with the rings at RINGS. */
static void set_up(struct fpart *f, u32 slot, u64 features)
{
	u64 b0 = bar(f, slot, 0);

	rw(f, ecam(slot, PCI_CFG_COMMAND), 2, true, PCI_CMD_MEMORY | PCI_CMD_MASTER);
	common(f, b0, VIRTIO_COMMON_STATUS, 1, 0);
	common(f, b0, VIRTIO_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
	common(f, b0, VIRTIO_COMMON_GFSELECT, 4, 1);
	common(f, b0, VIRTIO_COMMON_GF, 4, 1 | features >> 32);
	common(f, b0, VIRTIO_COMMON_GFSELECT, 4, 0);
	common(f, b0, VIRTIO_COMMON_GF, 4, (u32)features);
	common(f, b0, VIRTIO_COMMON_STATUS, 1, 0xb);
	for (u32 q = 0; q < 2; q++) {
		u64 at = RINGS + q * 0x1000;

		common(f, b0, VIRTIO_COMMON_Q_SELECT, 2, q);
		common(f, b0, VIRTIO_COMMON_Q_SIZE, 2, 16);
		common(f, b0, VIRTIO_COMMON_Q_DESCLO, 4, at);
		common(f, b0, VIRTIO_COMMON_Q_AVAILLO, 4, at + 0x100);
		common(f, b0, VIRTIO_COMMON_Q_USEDLO, 4, at + 0x200);
		common(f, b0, VIRTIO_COMMON_Q_MSIX, 2, q + 1);
		common(f, b0, VIRTIO_COMMON_Q_ENABLE, 2, 1);
	}
	common(f, b0, VIRTIO_COMMON_STATUS, 1, 0xf);
}

static void step(struct input *in)
{
	u8 op = (u8)take(in, 1);
	struct fpart *f = &fp[op & 1];
	u32 slot = 1 + (u32)take(in, 1) % 4;
	static const u8 sizes[] = { 1, 2, 4, 8 };
	u8 size = sizes[take(in, 1) % 4];

	if (quiet_b && f == &fp[1] && (op >> 1) % 10 != 9)
		return; /* b is stopped: it runs nothing */
	switch ((op >> 1) % 10) {
	case 0: /* a register of one of the function's BARs */
		rw(f, bar(f, slot, (u32)take(in, 1) % 3) + take(in, 2) % 0x4000, size, true,
		   take(in, 8));
		break;
	case 1:
		rw(f, bar(f, slot, (u32)take(in, 1) % 3) + take(in, 2) % 0x4000, size, false, 0);
		break;
	case 2: /* configuration space, any of it */
		rw(f, ecam(slot, (u32)take(in, 2)), size, true, take(in, 4));
		break;
	case 3: /* anywhere in the window */
		rw(f, PLAT_PCI_MMIO_BASE + take(in, 4) % PLAT_PCI_MMIO_SIZE, size, take(in, 1) & 1,
		   take(in, 8));
		break;
	case 4: { /* guest RAM: near the rings, or anywhere */
		u32 at = (u32)(take(in, 1) & 1 ? RINGS + take(in, 2) % 0x2000 : take(in, 3) % RAM);
		u32 len = (u32)take(in, 1) % 64;

		for (u32 i = 0; i < len && at + i < RAM; i++)
			f->ram[at + i] = (u8)take(in, 1);
		break;
	}
	case 5:
		set_up(f, slot, take(in, 8));
		break;
	case 6: /* notify queue q */
		rw(f, bar(f, slot, 0) + 0x3000 + 4 * (take(in, 1) % 3), 2, true, 0);
		break;
	case 7:
		vdev_timers(&f->part.vdevs, &f->vcpu, take(in, 8));
		break;
	case 8: /* b stops: from now on nobody writes into its RAM */
		if (!quiet_b) {
			vdev_stopped(&fp[1].part.vdevs);
			memcpy(ram_b_copy, fp[1].ram, RAM);
			quiet_b = true;
		}
		break;
	default: /* b starts again, after its reset */
		if (quiet_b) {
			CHECK(!memcmp(ram_b_copy, fp[1].ram, RAM));
			vdev_reset_all(&fp[1].part.vdevs);
			quiet_b = false;
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct input in = { data, size };

	if (!ready) {
		disk_a = calloc(1, DISK);
		disk_ro = malloc(DISK);
		disk_ro_copy = malloc(DISK);
		ram_b_copy = malloc(RAM);
		for (u32 i = 0; i < DISK; i++)
			disk_ro[i] = (u8)(i * 13);
		memcpy(disk_ro_copy, disk_ro, DISK);
		part_make(&fp[0], "a", "a.img", false);
		part_make(&fp[1], "b", "ro.img", true);
		ready = true;
	}
	/* each input starts from power-on (the partitions' restart) */
	for (u32 i = 0; i < 2; i++) {
		memset(fp[i].ram, 0, RAM);
		vdev_reset_all(&fp[i].part.vdevs);
	}
	quiet_b = false;
	for (u32 n = 0; n < STEPS && in.n; n++)
		step(&in);
	if (quiet_b)
		CHECK(!memcmp(ram_b_copy, fp[1].ram, RAM));
	CHECK(!memcmp(disk_ro, disk_ro_copy, DISK));
	return 0;
}
