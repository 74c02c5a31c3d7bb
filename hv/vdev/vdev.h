/*
 * Virtual devices and the registry through which a partition owns them.
 *
 * A device type is one descriptor (struct vdev_type, in the device's own
 * file) that declares its lifecycle; the partition's devices are the types
 * of a list (hv/vdev/vdev_list.c), created in its order, and everything
 * else the partition does with them goes through the registry below:
 * neither hv/partition/ nor the vCPU loop names a device (STYLE.md, after
 * Jailhouse's units and Bao's emulation handlers).
 *
 * Devices see accesses, not VMCBs (after Bao's emul_access): a device
 * registers port and MMIO ranges and gets a neutral access record.
 *
 * Devices sit below the partition and the vCPU loop and never include
 * their headers: what they need of the partition is in the registry
 * (struct vdev_owner), what they ask of it goes through struct vdev_host,
 * and what they need of each other through hv/vdev/virq.h or a typed
 * lookup (vdev_find).
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/vcpu/vcpu.h"

struct acpi_build_cfg;
struct acpi_info;
struct config_partition;
struct partition;
struct vclock;

struct vdev_access {
	u64 addr; /* port number or guest-physical address */
	u8 size;  /* 1, 2, 4 or 8 bytes */
	bool write;
	u64 val; /* written value, or where a read puts its result */
};

/* The bits of an access of size bytes: what open bus reads as (all ones). */
static inline u64 vdev_size_mask(u32 size)
{
	return size >= 8 ? ~0ULL : BIT(size * 8) - 1;
}

/* Returns 0, or a negative error that makes the access fail for the guest
 * as on hardware (reads all-ones, writes dropped). */
typedef int (*vdev_access_fn)(void *dev, struct vcpu *v, struct vdev_access *a);

#define VDEV_MAX 16
#define VDEV_MAX_IO 16
#define VDEV_MAX_MMIO 8

struct vdev_range {
	u64 base, size;
	vdev_access_fn access;
	void *dev;
};

struct vdev_registry;

/* create: the partition has no such device (its configuration says so). */
#define VDEV_DECLINED 1

/*
 * A device type. A partition device has one instance (create); a per-vCPU
 * device has one in each vCPU (vcpu_create), at vcpu->dev[vcpu_slot], which
 * its vCPU reaches in O(1) (the local APIC: every entry asks it). The
 * registry allocates each instance, size bytes zeroed, and frees it; the
 * hooks act on the instances; any but name may be NULL.
 *
 * Order: the registry creates the types in list order, and undoes in the
 * reverse order (stopped, stats, reset, free): a device goes down before
 * those it was created after, so the interrupt controllers, first in the
 * list, are reset last and every line is low again.
 */
struct vdev_type {
	const char *name;
	u32 size; /* of an instance; 0: it keeps nothing (dev NULL) */
	/*
	 * Sets up the instance dev and registers its ranges: 0, or
	 * VDEV_DECLINED, or a negative error. A per-vCPU type's create
	 * (optional, dev NULL) registers the ranges its instances share.
	 */
	int (*create)(struct vdev_registry *reg, void *dev);
	int (*vcpu_create)(struct vdev_registry *reg, struct vcpu *v, void *dev);
	u32 vcpu_slot; /* enum vcpu_dev_slot, with vcpu_create */
	/* Power-on state again (partition restart; INIT for a per-vCPU one). */
	void (*reset)(void *dev);
	/* Gives back what it holds besides its memory and ranges (a failed
	 * build). */
	void (*free)(void *dev);
	/* Raises its due interrupts at TSC now; the TSC of the next, 0: none.
	 * A per-vCPU instance runs on its vCPU's CPU, a partition's on the
	 * CPU of the partition's first vCPU. */
	u64 (*timer)(void *dev, u64 now);
	/* The partition stopped: what the device holds goes out (a partial
	 * console line). */
	void (*stopped)(void *dev);
	/* Its lines of the partition's statistics, printed when it stops. */
	void (*stats)(void *dev);
	/* What the guest's firmware tables say of it (ACPI, SPEC 6; a
	 * partition device's). */
	void (*firmware)(void *dev, struct acpi_build_cfg *cfg);
};

/* How a device stops its partition; its on_crash / on_reboot decide what
 * follows, as for any stop (SPEC 5). */
enum vdev_stop {
	VDEV_STOP_POWER_OFF,
	VDEV_STOP_REBOOT,
	VDEV_STOP_CRASH,
};

/*
 * What devices may ask of the hypervisor: their only way up. The partition
 * fills one (hv/partition/partition.c); the unit tests fill their fakes.
 */
struct vdev_host {
	/* Zeroed memory for an instance (NULL: none left), and back. */
	void *(*alloc)(u64 bytes);
	void (*free)(void *mem, u64 bytes);
	/* Posts VCPU_REQ_* bits to v and makes its CPU notice (0: just look). */
	void (*kick)(struct vcpu *v, u32 req);
	void (*stop)(struct partition *p, enum vdev_stop how, const char *reason);
	/* Hypervisor pointer to [gpa, gpa + len) of the partition's RAM, NULL
	 * when that is not all RAM. */
	void *(*gpa_ptr)(const struct partition *p, u64 gpa, u64 len);
	/* The guest reaches the host's port directly (pass), or exits again. */
	void (*pass_io)(struct partition *p, u16 port, bool pass);
	/* The devices' time base (the TSC), and the wall-clock time (seconds
	 * since 1970) at its value ticks (drivers/rtc.h). */
	void (*clock)(struct vclock *clk);
	void (*wall_clock)(u64 *epoch, u64 *ticks);
	/* The core crystal clock the partition's CPUID 15h states. */
	u64 (*crystal_hz)(void);
	/* What the machine's firmware told the hypervisor (drivers/acpi.h). */
	const struct acpi_info *(*acpi)(void);
	/* Zeroed page-aligned memory shared by partitions, never freed (a
	 * shared-memory region); NULL: none left. */
	void *(*alloc_shared)(u64 bytes);
	/* The boot module (or UEFI file) called name, in place and writable;
	 * NULL when there is none. */
	void *(*module)(const char *name, u64 *len);
	/* Maps len bytes of hypervisor memory mem (page-aligned) at gpa in the
	 * partition's second-level tables, or unmaps them, and makes its vCPUs
	 * flush their TLBs; map returns 0 or -E_NOMEM (nothing mapped). */
	int (*map)(struct partition *p, u64 gpa, void *mem, u64 len);
	void (*unmap)(struct partition *p, u64 gpa, u64 len);
	/* A management request of the partition (its control device,
	 * hv/vdev/vctl.c): hv/control/control.h, ctl_handle. */
	u32 (*control)(struct partition *p, const void *req, u32 len, void *resp, u32 max);
};

/* The partition as its devices see it. */
struct vdev_owner {
	struct partition *part; /* for the host's calls only */
	const char *name;	/* for log lines */
	const struct config_partition *cfg;
	struct vcpu *const *vcpus;
	u32 vcpu_count;
};

struct vdev {
	const struct vdev_type *type;
	void *dev; /* NULL for a per-vCPU type or one of size 0 */
};

/* A device timer as vdev_timers runs it, without looking at the type: a
 * per-vCPU device's instance is v->dev[vcpu_slot], a partition device's
 * is dev. */
struct vdev_timer {
	u64 (*fn)(void *dev, u64 now);
	void *dev;
	u32 vcpu_slot;
};

struct vdev_registry {
	struct vdev_owner owner;
	const struct vdev_host *host;
	u32 count;
	struct vdev devs[VDEV_MAX]; /* in creation order */
	/* the timers: [0, vcpu_timer_count) the per-vCPU devices', then the
	 * partition's, up to timer_count */
	u32 vcpu_timer_count, timer_count;
	struct vdev_timer timers[VDEV_MAX];
	u32 io_count, mmio_count;
	struct vdev_range io[VDEV_MAX_IO];
	struct vdev_range mmio[VDEV_MAX_MMIO];
};

/* An empty registry for owner's devices. */
void vdev_init(struct vdev_registry *reg, const struct vdev_owner *owner,
	       const struct vdev_host *host);
/*
 * Creates count types in order, each for the partition or each of its
 * vCPUs. On an error every device created is freed and the registry is
 * empty again; -E_NOMEM (no memory, a full registry), -E_INVAL (a bad
 * slot) or the device's error.
 */
int vdev_create_all(struct vdev_registry *reg, const struct vdev_type *const *types, u32 count);
/* Frees every device, last created first, and forgets their ranges. */
void vdev_free_all(struct vdev_registry *reg);
/* Every device to its power-on state, last created first (restart). */
void vdev_reset_all(struct vdev_registry *reg);
/* v's own devices to their power-on state (an INIT). */
void vdev_vcpu_reset(struct vdev_registry *reg, struct vcpu *v);
/*
 * The device timers v's CPU keeps: v's own devices', and on the
 * partition's first vCPU the partition's. Raises what is due at TSC now;
 * returns the earliest next deadline, 0 for none.
 */
u64 vdev_timers(struct vdev_registry *reg, struct vcpu *v, u64 now);
/* A partition device's timer changed: the CPU that keeps it looks again. */
void vdev_timer_changed(struct vdev_registry *reg);
/* The partition stopped; then its devices' statistics. */
void vdev_stopped(struct vdev_registry *reg);
void vdev_stats(struct vdev_registry *reg);
/* Each device's part of the firmware tables, into cfg. */
void vdev_firmware(struct vdev_registry *reg, struct acpi_build_cfg *cfg);
/* The partition device of that type, NULL when there is none. */
void *vdev_find(const struct vdev_registry *reg, const struct vdev_type *type);

int vdev_add_io(struct vdev_registry *reg, u16 base, u16 count, vdev_access_fn fn, void *dev);
int vdev_add_mmio(struct vdev_registry *reg, u64 base, u64 size, vdev_access_fn fn, void *dev);
const struct vdev_range *vdev_find_io(const struct vdev_registry *reg, u16 port);
const struct vdev_range *vdev_find_mmio(const struct vdev_registry *reg, u64 gpa);

static inline void vdev_kick(const struct vdev_registry *reg, struct vcpu *v, u32 req)
{
	reg->host->kick(v, req);
}

static inline void vdev_stop(const struct vdev_registry *reg, enum vdev_stop how,
			     const char *reason)
{
	reg->host->stop(reg->owner.part, how, reason);
}
