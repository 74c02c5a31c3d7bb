/* hv_main: the start-up sequence, in order (DESIGN.md, data flow). */
#include "hv/main.h"
#include "drivers/acpi.h"
#include "drivers/acpi_power.h"
#include "drivers/i8259.h"
#include "drivers/lapic.h"
#include "drivers/rtc.h"
#include "drivers/topology.h"
#include "drivers/tsc.h"
#include "hv/config/config.h"
#include "hv/console/console.h"
#include "hv/control/control.h"
#include "hv/cpu/panic.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/smp.h"
#include "hv/cpu/trap.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/partition/partition.h"
#include "hv/vcpu/loop.h"
#include "hv/virt.h"

#define CONFIG_MODULE "hv.conf"

static struct acpi_info acpi; /* what the machine's ACPI tables said */

static struct config plan; /* ~9 KiB: never on a stack */
static struct boot_info *boot;

static const char *loader_name(u32 loader)
{
	switch (loader) {
	case BOOT_LOADER_MULTIBOOT1:
		return "multiboot1";
	case BOOT_LOADER_MULTIBOOT2:
		return "multiboot2";
	case BOOT_LOADER_UEFI:
		return "uefi";
	default:
		return "unknown";
	}
}

static const void *acpi_map(u64 pa, u64 len, void *ctx)
{
	(void)ctx;
	return mm_direct_mapped(pa, len) ? phys_to_virt(pa) : NULL;
}

static void acpi_emit(const char *line, void *arg)
{
	(void)arg;
	pr_info("%s\n", line);
}

/* A masked 8259 can still raise its spurious IRQ 7 / 15: nothing to do. */
static void pic_ignore(struct trap_frame *f)
{
	(void)f;
}

/* Logical CPU 0 is the boot CPU; the others follow in MADT order (SPEC 3). */
static void cpus_from_madt(void)
{
	u32 bsp_apic = lapic_id();

	cpu_count = 0;
	if (!percpu_alloc(cpu_count++, bsp_apic))
		panic("cpu: out of memory for per-CPU data");
	for (u32 i = 0; i < acpi.cpu_count && cpu_count < HV_MAX_CPUS; i++) {
		if (acpi.cpus[i].apic_id == bsp_apic)
			continue;
		if (!percpu_alloc(cpu_count++, acpi.cpus[i].apic_id))
			panic("cpu: out of memory for per-CPU data");
	}
	if (acpi.cpu_count > HV_MAX_CPUS)
		pr_warn("cpu: %u CPUs in the MADT, using the first %u\n", acpi.cpu_count,
			HV_MAX_CPUS);
}

/* Turns on virtualization on this CPU and reports it online. */
static void cpu_bringup(struct percpu *c)
{
	int err = -E_NOSUPP;

	if (virt_caps.usable)
		err = vcpu_ops->cpu_enable(c);
	c->virt_err = err;
	c->virt_on = !err;
	if (virt_caps.usable && err)
		pr_err("cpu %u: cannot enable %s (error %d)\n", c->index, virt_caps.vendor, err);
	pr_info("cpu %u: online, apic id %u\n", c->index, c->apic_id);
	__atomic_store_n(&c->online, true, __ATOMIC_RELEASE);
	__atomic_fetch_add(&cpus_online, 1, __ATOMIC_ACQ_REL);
}

/* Each other CPU, once it runs on its own tables (hv/cpu/smp.c). */
static __noreturn void ap_main(struct percpu *c)
{
	cpu_bringup(c);
	cpu_idle_loop(c);
}

static void banner(const struct boot_info *bi, u32 online)
{
	char virt[64];
	u32 virt_on = 0;

	for (u32 i = 0; i < cpu_count; i++)
		if (cpus[i]->online && cpus[i]->virt_on)
			virt_on++;
	if (!virt_caps.usable)
		snprintf(virt, sizeof(virt), "no usable virtualization");
	else if (virt_on == online)
		snprintf(virt, sizeof(virt), "%s with %s on all CPUs", virt_caps.vendor,
			 virt_caps.slat);
	else
		snprintf(virt, sizeof(virt), "%s with %s on %u of %u CPUs", virt_caps.vendor,
			 virt_caps.slat, virt_on, online);
	pr_info("%s %s: booted via %s (%s), %u CPUs online, %lu MiB RAM, %s\n", HV_NAME, HV_VERSION,
		loader_name(bi->loader), bi->firmware == BOOT_FW_UEFI ? "UEFI" : "BIOS", online,
		mm_ram_bytes() / MiB, virt);
	pr_info("memory: hypervisor uses %lu KiB, %lu MiB free for partitions\n",
		mm_hv_bytes() / KiB, mm_free_bytes() / MiB);
}

void hv_idle(void)
{
	u32 what = plan.hv.on_idle;

	pr_info("on_idle: %s\n", config_on_idle_name(what));
	console_flush(); /* every line out before the machine goes */
	smp_stop_others();
	if (what == CONFIG_IDLE_POWEROFF && acpi_poweroff(&acpi, mm_ioremap))
		pr_err("poweroff: ACPI S5 is not available; halting\n");
	if (what == CONFIG_IDLE_REBOOT) {
		acpi_reset(&acpi, mm_ioremap);
		pr_err("reboot: no reset method worked; halting\n");
	}
	for (;;) {
		irq_disable();
		halt();
	}
}

static struct part_machine part_machine = { &acpi, hv_idle, HUGE_PAGE_SIZE, ctl_handle };

/* slat_max_page=4k|2m|1g, a word of the boot command line: the largest page
 * of the partitions' second-level tables (docs/performance.md: a
 * benchmarking aid; the default is the largest the hardware has). */
static void slat_max_page_option(const char *cmdline)
{
	static const char key[] = "slat_max_page=";
	static const struct {
		const char *name;
		u64 size;
	} sizes[] = { { "4k", PAGE_SIZE }, { "2m", LARGE_PAGE_SIZE }, { "1g", HUGE_PAGE_SIZE } };

	for (const char *w = cmdline; w && *w; w = strchr(w, ' ')) {
		while (*w == ' ')
			w++;
		if (strncmp(w, key, sizeof(key) - 1))
			continue;
		w += sizeof(key) - 1;
		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
			size_t len = strlen(sizes[i].name);

			if (!strncmp(w, sizes[i].name, len) && (w[len] == ' ' || !w[len])) {
				part_machine.slat_max_page = sizes[i].size;
				pr_info("slat: second-level pages of at most %s (slat_max_page)\n",
					sizes[i].name);
				return;
			}
		}
		pr_warn("slat: slat_max_page= takes 4k, 2m or 1g; ignored\n");
		return;
	}
}

static bool config_find_file(void *ctx, const char *name, u64 *size)
{
	const struct boot_module *m = boot_find_module(boot, name);

	(void)ctx;
	if (m && size)
		*size = m->len;
	return m != NULL;
}

/* Logical CPU cpu's core: its APIC ID without the thread bits. */
static u32 config_core_of(void *ctx, u32 cpu)
{
	return cpus[cpu]->apic_id >> *(const u32 *)ctx;
}

static void config_report(void *ctx, u32 line, const char *msg)
{
	char buf[CONFIG_MSG_MAX + 32];

	(void)ctx;
	config_format_report(buf, sizeof(buf), line, msg);
	pr_info("%s\n", buf);
}

/* SPEC 3: nothing starts when the configuration has any problem. */
static void read_config(struct boot_info *bi)
{
	const struct boot_module *m = boot_find_module(bi, CONFIG_MODULE);
	u32 smt_bits = topology_smt_bits(cpuid_count);
	const struct config_machine machine = {
		.cpu_count = MIN(cpus_online, cpu_count),
		.ram_bytes = mm_free_bytes(),
		.iommu = CONFIG_ABSENT, /* no IOMMU driver yet: pci = is refused */
		.find_file = config_find_file,
		.core_of = config_core_of,
		.ctx = &smt_bits,
	};

	if (!m) {
		pr_info("no configuration: no module or file named %s\n", CONFIG_MODULE);
		hv_idle();
	}
	if (config_load(&plan, phys_to_virt(m->base), m->len, &machine, config_report, NULL)) {
		pr_info("configuration %s rejected: nothing started\n", CONFIG_MODULE);
		hv_idle();
	}
	pr_info("configuration %s: %u partitions\n", CONFIG_MODULE, plan.partition_count);
	if (plan.hv.key_line[CONFIG_KEY_HV_CONSOLE]) {
		/* SPEC 3: [hypervisor] console moves the console from here on */
		pr_info("console: %s\n", config_hv_console_name(plan.hv.console));
		console_select(plan.hv.console == CONFIG_HV_CONSOLE_NONE ?
				       -1 :
				       (int)(plan.hv.console - CONFIG_HV_CONSOLE_COM1));
	}
}

void hv_main(struct boot_info *bi)
{
	struct percpu *bsp;
	u32 online;
	int err;

	boot = bi;
	console_init(bi->cmdline);
	pr_info("%s %s starting (%s, image at %#lx)\n", HV_NAME, HV_VERSION,
		loader_name(bi->loader), bi->image_phys);
	idt_init();
	idt_load();
	i8259_disable();
	for (int irq = 0; irq < PIC_IRQS; irq++)
		trap_set_handler((u8)(PIC_VECTOR_BASE + irq), pic_ignore);
	vcpu_loop_init();

	err = mm_init(bi);
	if (err)
		panic("mm: cannot set up memory (error %d)", err);

	err = acpi_init(&acpi, bi, acpi_map, NULL);
	if (err)
		pr_err("acpi: no usable ACPI tables (error %d): one CPU, no power control\n", err);
	acpi_report(&acpi, acpi_emit, NULL);

	err = lapic_init(mm_ioremap);
	if (err)
		panic("lapic: cannot map the local APIC (error %d)", err);
	lapic_cpu_init();
	cpus_from_madt();
	bsp = cpus[0];
	cpu_load(bsp);

	err = tsc_calibrate((u16)acpi.pm_tmr_port, acpi.pm_tmr_32bit);
	if (err)
		panic("tsc: cannot calibrate the TSC");
	pr_info("tsc: %lu kHz (calibrated with the %s), %s mode APIC\n", tsc_hz() / 1000,
		tsc_source_name(), lapic_x2apic() ? "x2APIC" : "xAPIC");
	if (lapic_timer_init())
		panic("lapic: cannot calibrate the local APIC timer");
	rtc_init(acpi.century, !(acpi.iapc_boot_arch & ACPI_BOOT_CMOS_RTC_NOT_PRESENT));

	if (!virt_probe())
		pr_info("cannot run partitions: %s\n", virt_caps.reason);
	cpu_bringup(bsp);
	online = smp_start_aps(ap_main);
	banner(bi, online);

	read_config(bi);
	if (!virt_caps.usable || plan.partition_count == 0) {
		if (plan.partition_count)
			pr_info("partitions not started: this machine cannot run them\n");
		else
			pr_info("no partitions configured\n");
		hv_idle();
	}
	slat_max_page_option(bi->cmdline);
	if (part_build_all(&plan, bi, &part_machine))
		hv_idle();
	panic_test_init(bi->cmdline);
	part_start_all();
	cpu_idle_loop(bsp);
}
