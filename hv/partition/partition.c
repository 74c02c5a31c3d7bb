/*
 * Partitions (DESIGN.md, data flow 4; SPEC 5): carve RAM from free host
 * memory, map it 0-based in the second-level tables, create the vCPUs pinned
 * to their CPUs and the virtual devices, load the guest image from the
 * pristine module, and start vCPU 0; the guest starts the others with
 * INIT/SIPI. Stop and restart touch only the partition concerned.
 */
#include "hv/partition/partition.h"
#include "drivers/rtc.h"
#include "drivers/tsc.h"
#include "hv/console/console.h"
#include "hv/cpu/percpu.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/loader/loader.h"
#include "hv/mm/mm.h"
#include "hv/policy/cpuid.h"
#include "hv/policy/msr.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vcpu/vm_exit.h"
#include "hv/vdev/firmware.h"
#include "hv/vdev/vclock.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/vdev_list.h"
#include "hv/virt.h"

#define FLAT_LIMIT 0xffffffffU
#define MB_CODE_SEL 0x08
#define MB_DATA_SEL 0x10
#define ATTR_CODE32 (SEG_ATTR_P | SEG_ATTR_S | SEG_TYPE_CODE_RX | SEG_ATTR_DB | SEG_ATTR_G)
#define ATTR_DATA32 (SEG_ATTR_P | SEG_ATTR_S | SEG_TYPE_DATA_RW | SEG_ATTR_DB | SEG_ATTR_G)
#define ATTR_CODE64 (SEG_ATTR_P | SEG_ATTR_S | SEG_TYPE_CODE_RX | SEG_ATTR_L | SEG_ATTR_G)
#define TSS_LIMIT 0x67
#define ERR_MAX 160

struct partition partitions[CONFIG_MAX_PARTITIONS];
u32 partition_count;
static const struct part_machine *machine;
static const struct boot_info *boot; /* its modules: disks */

/* --- guest memory ------------------------------------------------------ */

void *part_gpa_ptr(const struct partition *p, u64 gpa, u64 len)
{
	for (u32 i = 0; i < p->region_count; i++) {
		const struct guest_region *r = &p->regions[i];

		if (gpa >= r->gpa && len <= r->size && gpa - r->gpa <= r->size - len)
			return phys_to_virt(r->hpa + (gpa - r->gpa));
	}
	return NULL;
}

static void *loader_ptr(void *ctx, u64 gpa, u64 len)
{
	return part_gpa_ptr(ctx, gpa, len);
}

/*
 * Second-level table pages. A running partition's tables change when a
 * mapped BAR moves (hv/vdev/vpci_dev.c); a page an unmap frees may still
 * be in another vCPU's paging-structure cache until its flush, so it goes
 * to the partition's own pool and serves only this partition's tables:
 * a stale walk can then reach nothing the partition may not use.
 */
static u64 slat_alloc(void *ctx)
{
	struct partition *p = ctx;
	void *page;

	if (p->slat_pool) {
		page = p->slat_pool;
		p->slat_pool = *(void **)page;
		memset(page, 0, PAGE_SIZE);
	} else {
		page = mm_alloc_page();
	}
	return page ? virt_to_phys(page) : 0;
}

static void slat_free(u64 pa, void *ctx)
{
	struct partition *p = ctx;
	void **page = phys_to_virt(pa);

	*page = p->slat_pool;
	p->slat_pool = page;
}

static u64 *slat_table(u64 pa, void *ctx)
{
	(void)ctx;
	return phys_to_virt(pa);
}

static int carve_ram(struct partition *p)
{
	u64 size = p->cfg->memory, low = MIN(size, GUEST_LOW_RAM_TOP);

	/* 1 GiB alignment lets the second-level tables use 1 GiB pages */
	p->ram_hpa = IS_ALIGNED(size, HUGE_PAGE_SIZE) ? mm_alloc_guest(size, HUGE_PAGE_SIZE) : 0;
	if (!p->ram_hpa)
		p->ram_hpa = mm_alloc_guest(size, LARGE_PAGE_SIZE);
	if (!p->ram_hpa)
		return -E_NOMEM;
	p->ram_size = size;
	p->regions[0] = (struct guest_region){ 0, low, p->ram_hpa };
	p->region_count = 1;
	if (size > low)
		p->regions[p->region_count++] =
			(struct guest_region){ GUEST_HIGH_RAM_BASE, size - low, p->ram_hpa + low };
	return 0;
}

static int build_slat(struct partition *p)
{
	const struct slat_env env = { slat_alloc, slat_free, slat_table, p };
	int err = slat_init(&p->slat, vcpu_ops->slat_fmt, &env,
			    machine->slat_max_page >= LARGE_PAGE_SIZE,
			    virt_caps.slat_1g && machine->slat_max_page >= HUGE_PAGE_SIZE);

	for (u32 i = 0; !err && i < p->region_count; i++)
		err = slat_map(&p->slat, p->regions[i].gpa, p->regions[i].hpa, p->regions[i].size,
			       SLAT_RWX, SLAT_MEM_WB);
	return err;
}

/* --- building ---------------------------------------------------------- */

static int build_vcpus(struct partition *p)
{
	for (u32 cpu = 0; cpu < cpu_count; cpu++) {
		struct vcpu *v;

		if (!config_cpu_isset(p->cfg, cpu))
			continue;
		v = mm_alloc(sizeof(*v), 64, 0);
		if (!v)
			return -E_NOMEM;
		v->part = p;
		v->id = p->vcpu_count;
		v->cpu = cpus[cpu];
		p->cpu_of[p->vcpu_count] = cpu;
		p->vcpus[p->vcpu_count++] = v;
		cpus[cpu]->vcpu = v;
	}
	return 0;
}

/* --- its devices (hv/vdev/vdev.h) ---------------------------------------- */

static void *dev_alloc(u64 bytes)
{
	return mm_alloc(bytes, 8, 0);
}

static void dev_stop(struct partition *p, enum vdev_stop how, const char *reason)
{
	static const u32 action[] = {
		[VDEV_STOP_POWER_OFF] = EXIT_STOP,
		[VDEV_STOP_REBOOT] = EXIT_REBOOT,
		[VDEV_STOP_CRASH] = EXIT_CRASH,
	};

	part_stop(p, action[how], reason);
}

static void dev_pass_io(struct partition *p, u16 port, bool pass)
{
	vcpu_ops->set_io_intercept(p, port, !pass);
}

static u64 host_tsc(void)
{
	return rdtsc();
}

static void dev_clock(struct vclock *clk)
{
	*clk = (struct vclock){ host_tsc, tsc_hz() };
}

static const struct acpi_info *dev_acpi(void)
{
	return machine->acpi;
}

/* Shared regions: large ones 2 MiB-aligned, for large second-level pages. */
static void *dev_alloc_shared(u64 bytes)
{
	return mm_alloc(bytes, bytes >= LARGE_PAGE_SIZE ? LARGE_PAGE_SIZE : PAGE_SIZE, 0);
}

static void *dev_module(const char *name, u64 *len)
{
	const struct boot_module *m = boot_find_module(boot, name);

	if (!m)
		return NULL;
	*len = m->len;
	return phys_to_virt(m->base);
}

static void flush_vcpus(struct partition *p)
{
	for (u32 i = 0; i < p->vcpu_count; i++)
		vcpu_kick(p->vcpus[i], VCPU_REQ_FLUSH_TLB);
}

/* Callers serialise (the partition's PCI bus lock, or its build). */
static int dev_map(struct partition *p, u64 gpa, void *mem, u64 len)
{
	int err = slat_map(&p->slat, gpa, virt_to_phys(mem), len, SLAT_R | SLAT_W, SLAT_MEM_WB);

	if (!err)
		flush_vcpus(p);
	return err;
}

static void dev_unmap(struct partition *p, u64 gpa, u64 len)
{
	if (!slat_unmap(&p->slat, gpa, len))
		flush_vcpus(p);
}

static u32 dev_control(struct partition *p, const void *req, u32 len, void *resp, u32 max)
{
	return machine->control(p, req, len, resp, max);
}

/* What its devices may ask of the hypervisor. */
static const struct vdev_host dev_host = {
	.alloc = dev_alloc,
	.free = mm_free,
	.kick = vcpu_kick,
	.stop = dev_stop,
	.gpa_ptr = part_gpa_ptr,
	.pass_io = dev_pass_io,
	.clock = dev_clock,
	.wall_clock = rtc_boot_time,
	.crystal_hz = cpuid_crystal_hz,
	.acpi = dev_acpi,
	.alloc_shared = dev_alloc_shared,
	.module = dev_module,
	.map = dev_map,
	.unmap = dev_unmap,
	.control = dev_control,
};

/* Once its vCPUs exist: the devices of the list, in its order. */
static int build_devices(struct partition *p)
{
	const struct vdev_owner owner = { p, p->name, p->cfg, p->vcpus, p->vcpu_count };

	vdev_init(&p->vdevs, &owner, &dev_host);
	return vdev_create_all(&p->vdevs, vdev_list, vdev_list_count);
}

static int build_one(struct partition *p, const struct boot_info *bi)
{
	int err;

	p->kernel = boot_find_module(bi, p->cfg->kernel);
	p->initrd = boot_find_module(bi, p->cfg->initrd);
	if (!p->kernel || (p->cfg->initrd[0] && !p->initrd))
		return -E_NOENT;
	err = carve_ram(p);
	err = err ? err : build_slat(p);
	err = err ? err : vcpu_ops->part_init(p);
	if (err)
		return err;
	msr_setup_partition(p);
	err = build_vcpus(p);
	err = err ? err : build_devices(p);
	if (!err)
		cpuid_init_partition(p);
	return err;
}

/*
 * After a failed build_one: the backend's part, the second-level tables and
 * the RAM go back (a failed vdev_create_all has freed its devices). The
 * vCPUs stay: their CPUs' idle loops may be reading them, and the partition
 * never runs.
 */
static void unbuild(struct partition *p)
{
	if (p->vendor)
		vcpu_ops->part_free(p);
	slat_destroy(&p->slat);
	while (p->slat_pool) {
		void *page = p->slat_pool;

		p->slat_pool = *(void **)page;
		mm_free(page, PAGE_SIZE);
	}
	if (p->ram_hpa)
		mm_free_guest(p->ram_hpa, p->ram_size);
	p->ram_hpa = 0;
	p->ram_size = 0;
	p->region_count = 0;
}

int part_build_all(const struct config *c, const struct boot_info *bi, const struct part_machine *m)
{
	machine = m;
	boot = bi;
	for (u32 i = 0; i < c->partition_count; i++) {
		struct partition *p = &partitions[i];
		char cpus_text[64];
		int err;

		p->index = i;
		p->cfg = &c->partitions[i];
		p->name = p->cfg->name;
		err = build_one(p, bi);
		if (err) {
			unbuild(p);
			pr_err("partition %s: cannot be built (error %d)\n", p->name, err);
			return err;
		}
		partition_count = i + 1;
		config_format_cpus(cpus_text, sizeof(cpus_text), p->cfg->cpus);
		pr_info("partition %s: cpus %s, %lu MiB at host %#lx, kernel %s%s%s\n", p->name,
			cpus_text, p->ram_size / MiB, p->ram_hpa, p->cfg->kernel,
			p->initrd ? ", initrd " : "", p->initrd ? p->cfg->initrd : "");
	}
	return 0;
}

/* --- loading ----------------------------------------------------------- */

/* vCPU 0 at the image's entry, as hv/loader/loader.h describes for each mode. */
static void entry_state(struct vcpu *v, const struct loader_entry *e)
{
	struct vcpu_state *st = &v->state;
	u16 cs = e->code_sel ? e->code_sel : MB_CODE_SEL;
	u16 ds = e->data_sel ? e->data_sel : MB_DATA_SEL;
	const struct seg data = { ds, ATTR_DATA32, FLAT_LIMIT, 0 };

	vcpu_init_state(v);
	st->cr0 = CR0_PE | CR0_ET;
	st->cs = (struct seg){ cs, ATTR_CODE32, FLAT_LIMIT, 0 };
	if (e->mode == LOADER_ENTRY_LONG64) {
		/* SDM 3A 10.8.5: long mode needs PAE paging and EFER.LME/LMA */
		st->cr0 |= CR0_PG;
		st->cr4 = CR4_PAE;
		st->efer = EFER_LME | EFER_LMA;
		st->cr3 = e->cr3;
		st->cs.attr = ATTR_CODE64;
	}
	st->ds = st->es = st->fs = st->gs = st->ss = data;
	st->gdtr = (struct dtable){ e->gdt_base, e->gdt_limit };
	st->idtr = (struct dtable){ 0, 0 };
	st->tr.limit = TSS_LIMIT;
	st->rip = e->rip;
	v->gpr[GPR_RAX] = e->rax;
	v->gpr[GPR_RBX] = e->rbx;
	v->gpr[GPR_RSI] = e->rsi;
	v->gpr[GPR_RDX] = 0;
}

/* SPEC 6: each partition has its own ACPI tables describing exactly it. */
static int build_acpi(struct partition *p, u64 *rsdp, char *err, size_t err_size)
{
	int rc = firmware_build(&p->vdevs, rsdp);

	if (rc)
		snprintf(err, err_size, "cannot build its ACPI tables (error %d)", rc);
	return rc;
}

/* The kernel's format decides the boot protocol. */
static int load_kernel(struct partition *p, const struct guest_mem *mem, u64 rsdp,
		       struct loader_entry *entry, char *err, size_t err_size)
{
	struct loader_module initrd = { 0 };

	if (p->initrd)
		initrd = (struct loader_module){ phys_to_virt(p->initrd->base), p->initrd->len,
						 p->initrd->name };
	return loader_load(phys_to_virt(p->kernel->base), p->kernel->len, p->cfg->cmdline,
			   p->initrd ? &initrd : NULL, rsdp, mem, entry, err, err_size);
}

/* Zeroes RAM, loads the image from its pristine module, resets the vCPUs. */
static int load(struct partition *p)
{
	struct guest_mem mem = { .ptr = loader_ptr, .ctx = p };
	struct loader_entry entry = { 0 };
	char err[ERR_MAX];
	u64 rsdp = 0;
	int rc;

	/* DESIGN.md: memory hygiene, RAM is zeroed before the guest sees it */
	for (u32 i = 0; i < p->region_count; i++)
		memset(phys_to_virt(p->regions[i].hpa), 0, p->regions[i].size);
	mem.region_count = p->region_count;
	for (u32 i = 0; i < p->region_count; i++) {
		mem.regions[i].gpa = p->regions[i].gpa;
		mem.regions[i].size = p->regions[i].size;
	}
	rc = build_acpi(p, &rsdp, err, sizeof(err));
	if (!rc)
		rc = load_kernel(p, &mem, rsdp, &entry, err, sizeof(err));
	if (rc) {
		pr_err("partition %s: kernel %s: %s\n", p->name, p->cfg->kernel, err);
		return rc;
	}
	vdev_reset_all(&p->vdevs);
	for (u32 i = 0; i < p->vcpu_count; i++) {
		struct vcpu *v = p->vcpus[i];

		v->requests = 0;
		msr_reset_vcpu(v);
		if (i == 0) {
			entry_state(v, &entry);
			v->run_state = VCPU_RUNNING;
		} else {
			vcpu_init_state(v);
			v->run_state = VCPU_WAIT_SIPI;
		}
	}
	p->open_bus_accesses = 0;
	p->stop_reason = NULL;
	return 0;
}

static void set_running(struct partition *p)
{
	spin_lock(&p->lock);
	p->started_tsc = rdtsc();
	p->state = PART_RUNNING;
	spin_unlock(&p->lock);
	for (u32 i = 0; i < p->vcpu_count; i++)
		vcpu_kick(p->vcpus[i], 0);
}

static bool any_running(void)
{
	for (u32 i = 0; i < partition_count; i++)
		if (partitions[i].state != PART_STOPPED)
			return true;
	return false;
}

void part_start_all(void)
{
	for (u32 i = 0; i < partition_count; i++) {
		struct partition *p = &partitions[i];

		if (!p->cfg->autostart) {
			pr_info("partition %s: not started (autostart = no)\n", p->name);
			continue;
		}
		if (load(p)) {
			pr_info("partition %s stopped: bad kernel image\n", p->name);
			continue;
		}
		pr_info("partition %s: starting\n", p->name);
		set_running(p);
	}
	if (!any_running()) /* SPEC 5: on_idle; nothing runs to start one */
		machine->idle();
}

/* --- stopping ---------------------------------------------------------- */

/* Exits by reason, as many "reason count" pairs to a line as fit. */
#define STATS_LINE 160

static void print_stats(struct partition *p)
{
	char line[STATS_LINE];
	u64 irqs = 0, exc = 0;
	bool any = false;
	int n = 0;

	for (u32 r = 0; r < VMEXIT_REASON_COUNT; r++) {
		char item[64];
		int len;
		u64 sum = 0;

		for (u32 i = 0; i < p->vcpu_count; i++)
			sum += p->vcpus[i]->stats.exits[r];
		if (!sum)
			continue;
		len = snprintf(item, sizeof(item), "%s %lu", vm_exit_name(r), sum);
		if (n && n + 2 + len >= (int)sizeof(line)) {
			pr_info("partition %s: exits: %s\n", p->name, line);
			n = 0;
		}
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s", n ? ", " : "", item);
		any = true;
	}
	if (n || !any)
		pr_info("partition %s: exits: %s\n", p->name, n ? line : "none");
	for (u32 i = 0; i < p->vcpu_count; i++) {
		irqs += p->vcpus[i]->stats.irqs_injected;
		exc += p->vcpus[i]->stats.exceptions_injected;
	}
	pr_info("partition %s: interrupts injected %lu, exceptions injected %lu\n", p->name, irqs,
		exc);
	vdev_stats(&p->vdevs);
	if (p->open_bus_accesses)
		pr_info("partition %s: %lu accesses to guest-physical addresses it does not own\n",
			p->name, p->open_bus_accesses);
}

static bool wants_restart(const struct partition *p)
{
	if (p->stop_action == EXIT_REBOOT)
		return p->cfg->on_reboot == CONFIG_ACTION_RESTART;
	if (p->stop_action == EXIT_CRASH)
		return p->cfg->on_crash == CONFIG_ACTION_RESTART;
	return false;
}

/* The last vCPU out: report, then restart or leave it stopped. */
static void finish_stop(struct partition *p)
{
	vdev_stopped(&p->vdevs);
	pr_info("partition %s stopped: %s\n", p->name, p->stop_reason ? p->stop_reason : "stopped");
	print_stats(p);
	if (wants_restart(p) || p->start_after_stop) {
		p->start_after_stop = false;
		p->restarts++;
		pr_info("partition %s: restarting (restart %u)\n", p->name, p->restarts);
		if (!load(p)) {
			set_running(p);
			return;
		}
		pr_info("partition %s stopped: bad kernel image\n", p->name);
	}
	spin_lock(&p->lock);
	p->state = PART_STOPPED;
	spin_unlock(&p->lock);
	if (!any_running())
		machine->idle();
}

static void dump_vcpu(struct vcpu *v)
{
	pr_info("partition %s: vCPU %u state:\n", v->part->name, v->id);
	pr_info("  rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", v->gpr[GPR_RAX], v->gpr[GPR_RBX],
		v->gpr[GPR_RCX], v->gpr[GPR_RDX]);
	/* RSP with RIP, from the vendor's state (VT-x reads it lazily) */
	pr_info("  rsi %016lx rdi %016lx rbp %016lx\n", v->gpr[GPR_RSI], v->gpr[GPR_RDI],
		v->gpr[GPR_RBP]);
	vcpu_ops->dump(v);
}

void part_stop(struct partition *p, u32 why, const char *reason)
{
	struct vcpu *self = this_cpu()->vcpu;

	spin_lock(&p->lock);
	if (p->state != PART_RUNNING) {
		spin_unlock(&p->lock);
		return;
	}
	p->state = PART_STOPPING;
	p->stop_action = why;
	p->stop_reason = reason;
	spin_unlock(&p->lock);
	if (why == EXIT_CRASH && self && self->part == p)
		dump_vcpu(self);
	for (u32 i = 0; i < p->vcpu_count; i++)
		vcpu_kick(p->vcpus[i], VCPU_REQ_STOP);
}

int part_request_start(struct partition *p)
{
	int err = 0;

	spin_lock(&p->lock);
	if (p->state == PART_STOPPED)
		p->state = PART_STARTING;
	else
		err = p->state == PART_RUNNING ? -E_EXIST : -E_BUSY;
	spin_unlock(&p->lock);
	if (!err)
		vcpu_kick(p->vcpus[0], 0); /* its CPU waits in cpu_idle_loop */
	return err;
}

int part_request_restart(struct partition *p)
{
	bool running;

	spin_lock(&p->lock);
	running = p->state == PART_RUNNING;
	if (running)
		p->start_after_stop = true;
	spin_unlock(&p->lock);
	return running ? 1 : part_request_start(p);
}

u64 part_uptime_ms(const struct partition *p)
{
	u64 hz = tsc_hz();

	if (p->state != PART_RUNNING && p->state != PART_STOPPING)
		return 0;
	return hz ? (rdtsc() - p->started_tsc) / (hz / 1000) : 0;
}

/* On vCPU 0's CPU, after part_request_start: the boot that finish_stop
 * does for a restart. Only this CPU leaves PART_STARTING. */
static void start_requested(struct partition *p)
{
	p->restarts += p->started_tsc != 0;
	if (load(p)) {
		pr_info("partition %s stopped: bad kernel image\n", p->name);
		spin_lock(&p->lock);
		p->state = PART_STOPPED;
		spin_unlock(&p->lock);
		if (!any_running())
			machine->idle();
		return;
	}
	pr_info("partition %s: starting\n", p->name);
	set_running(p);
}

bool part_enter(struct partition *p)
{
	bool ok;

	if (p->state == PART_STARTING && this_cpu() == p->vcpus[0]->cpu)
		start_requested(p);
	spin_lock(&p->lock);
	ok = p->state == PART_RUNNING;
	if (ok)
		p->vcpus_active++;
	spin_unlock(&p->lock);
	return ok;
}

void part_leave(struct partition *p)
{
	bool last;

	spin_lock(&p->lock);
	last = --p->vcpus_active == 0 && p->state == PART_STOPPING;
	spin_unlock(&p->lock);
	if (last)
		finish_stop(p);
}
