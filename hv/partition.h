/* Partitions: build, start, stop, restart (SPEC 5), each on its own CPUs. */
#pragma once

#include "boot/boot_info.h"
#include "hv/config.h"
#include "hv/ept/slat.h"
#include "hv/spinlock.h"
#include "hv/types.h"
#include "hv/vcpu.h"

#define PART_MAX_VCPUS CONFIG_MAX_PARTITION_CPUS
#define PART_MAX_REGIONS 2

/* Guest-physical layout (DESIGN.md): RAM from 0, a hole for devices below
 * 4 GiB, the rest of RAM from 4 GiB. */
#define GUEST_LOW_RAM_TOP 0xc0000000ULL	/* 3 GiB */
#define GUEST_HIGH_RAM_BASE 0x100000000ULL	/* 4 GiB */
#define GUEST_LAPIC_BASE 0xfee00000ULL
#define GUEST_IOAPIC_BASE 0xfec00000ULL
#define GUEST_BIOS_HOLE_START 0x9fc00ULL	/* e820: reserved up to 1 MiB */
#define GUEST_BIOS_HOLE_END 0x100000ULL

enum part_state {
	PART_STOPPED = 0,
	PART_RUNNING,
	PART_RESTARTING,
};

struct guest_region {
	u64 gpa, size, hpa;
};

struct partition {
	u32 index;		/* 0-based; VPID/ASID is index + 1 */
	const char *name;
	const struct config_partition *cfg;
	volatile u32 state;	/* enum part_state */
	struct spinlock lock;

	u64 ram_hpa, ram_size;	/* one contiguous host block */
	u32 region_count;
	struct guest_region regions[PART_MAX_REGIONS];
	struct slat slat;
	void *vendor;		/* I/O and MSR bitmaps: owned by the backend */

	u32 vcpu_count;
	struct vcpu *vcpus[PART_MAX_VCPUS];
	u32 cpu_of[PART_MAX_VCPUS]; /* physical logical CPU of each vCPU */

	/* the pristine images, kept reserved from boot (SPEC 5: restart) */
	const struct boot_module *kernel, *initrd;
	u64 entry_rip; /* where vCPU 0 starts */
	u32 restarts;
	volatile u32 vcpus_active; /* vCPUs still inside the run loop */
	void *vuart;		/* hv/vdev/vuart.c */
};

extern struct partition partitions[CONFIG_MAX_PARTITIONS];
extern u32 partition_count;

/* Guest-physical -> hypervisor pointer for len bytes of RAM; NULL when
 * [gpa, gpa+len) is not all RAM of the partition. */
void *part_gpa_ptr(const struct partition *p, u64 gpa, u64 len);
