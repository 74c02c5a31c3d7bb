/* Partitions: build, start, stop, restart (SPEC 5), each on its own CPUs. */
#pragma once

#include "boot/boot_info.h"
#include "hv/config/config.h"
#include "hv/ept/slat.h"
#include "hv/hw/x86.h"
#include "hv/lib/spinlock.h"
#include "hv/lib/types.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vdev.h"

#define PART_MAX_VCPUS CONFIG_MAX_PARTITION_CPUS
#define CPUID_CACHE_BASIC 0x20 /* leaves 0-0x1f */
#define CPUID_CACHE_EXT 9      /* leaves 0x80000000-0x80000008 */
#define PART_MAX_REGIONS 2

enum part_state {
	PART_STOPPED = 0,
	PART_RUNNING,
	PART_STOPPING, /* its vCPUs are leaving; the last one out finishes */
	PART_STARTING, /* asked to start: vCPU 0's CPU loads it (part_enter) */
};

struct guest_region {
	u64 gpa, size, hpa;
};

struct partition {
	u32 index; /* 0-based; VPID/ASID is index + 1 */
	const char *name;
	const struct config_partition *cfg;
	volatile u32 state; /* enum part_state */
	struct spinlock lock;

	u64 ram_hpa, ram_size; /* one contiguous host block */
	u32 region_count;
	struct guest_region regions[PART_MAX_REGIONS];
	struct slat slat;
	void *slat_pool; /* table pages its unmaps freed (partition.c) */
	void *vendor;	 /* I/O and MSR bitmaps: owned by the backend */

	u32 vcpu_count;
	struct vcpu *vcpus[PART_MAX_VCPUS];
	u32 cpu_of[PART_MAX_VCPUS]; /* physical logical CPU of each vCPU */

	/* the pristine images, kept reserved from boot (SPEC 5: restart) */
	const struct boot_module *kernel, *initrd;
	u64 entry_rip; /* where vCPU 0 starts */
	u32 restarts;
	u64 started_tsc;	   /* when it last started (uptime) */
	bool start_after_stop;	   /* a restart was asked: start again once stopped */
	volatile u32 vcpus_active; /* vCPUs still inside the run loop */
	u32 cpuid_plain;	   /* bit n: basic leaf n's subleaf 0 is the same for every vCPU */
	struct cpuid_regs cpuid_basic[CPUID_CACHE_BASIC]; /* hv/policy/cpuid.c */
	struct cpuid_regs cpuid_ext[CPUID_CACHE_EXT];
	u64 open_bus_accesses; /* to guest-physical addresses nobody owns */
	const char *stop_reason;
	u32 stop_action;	    /* enum exit_action that stopped it */
	struct vdev_registry vdevs; /* its devices and their ports and MMIO ranges */
};

extern struct partition partitions[CONFIG_MAX_PARTITIONS];
extern u32 partition_count;

/* What the partitions need of the hypervisor above them: the machine's
 * ACPI tables (for their devices), and what follows once none runs any
 * more (on_idle, SPEC 5). */
struct part_machine {
	const struct acpi_info *acpi;
	__noreturn void (*idle)(void);
	/* the largest page of the second-level tables: PAGE_SIZE,
	 * LARGE_PAGE_SIZE or HUGE_PAGE_SIZE (slat_max_page= on the boot
	 * command line, a benchmarking aid: docs/performance.md) */
	u64 slat_max_page;
	/* the management service, for the control device (vdev_host.control) */
	u32 (*control)(struct partition *from, const void *req, u32 len, void *resp, u32 max);
};

/* Builds every partition of the plan (RAM, tables, vCPUs, devices). */
int part_build_all(const struct config *c, const struct boot_info *bi,
		   const struct part_machine *m);
/* Loads and starts every partition. */
void part_start_all(void);
/* Stops p for why (an enum exit_action: STOP, CRASH, REBOOT); its
 * on_crash / on_reboot decide whether it restarts. Any CPU may call it. */
void part_stop(struct partition *p, u32 why, const char *reason);
/*
 * Management (SPEC 7), from any CPU. part_request_start: a stopped
 * partition starts fresh (RAM zeroed, image reloaded, devices reset) on
 * its own first CPU, not the caller's; -E_EXIST when it runs, -E_BUSY
 * while it starts or stops. part_request_restart: a running partition
 * starts again once it has stopped, however it stops (1: the caller
 * stops it); else part_request_start.
 */
int part_request_start(struct partition *p);
int part_request_restart(struct partition *p);
/* Milliseconds since it last started; 0 when it is stopped. */
u64 part_uptime_ms(const struct partition *p);
/* A vCPU's CPU enters / leaves its partition's run loop. */
bool part_enter(struct partition *p);
void part_leave(struct partition *p);

/* Guest-physical -> hypervisor pointer for len bytes of RAM; NULL when
 * [gpa, gpa+len) is not all RAM of the partition. */
void *part_gpa_ptr(const struct partition *p, u64 gpa, u64 len);
