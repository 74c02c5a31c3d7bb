/*
 * libFuzzer target for hv/config/: any bytes as hv.conf. Besides the
 * sanitizers, it checks what the parser promises: bounded, well-formed
 * messages with real line numbers, a plan within the limits, and for an
 * accepted file, that writing the plan back out parses to the same plan.
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "hv/config/config.h"

#define TEXT_MAX (64 * 1024)

static struct config cfg, again;
static char text[TEXT_MAX];

#define CHECK(cond)                                                                             \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz_config: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			__builtin_trap();                                                       \
		}                                                                               \
	} while (0)

struct sink {
	u32 calls;
	u32 lines; /* in the input */
};

static void sink_report(void *ctx, u32 line, const char *msg)
{
	struct sink *s = ctx;
	char buf[CONFIG_MSG_MAX + 32];
	size_t n = strlen(msg);

	CHECK(n > 0 && n < CONFIG_MSG_MAX);
	CHECK(!strchr(msg, '\n') && !strchr(msg, '\r'));
	CHECK(line >= 1 && line <= s->lines);
	CHECK(config_format_report(buf, sizeof(buf), line, msg) > 0);
	s->calls++;
}

static void null_report(void *ctx, u32 line, const char *msg)
{
	(void)ctx;
	(void)line;
	(void)msg;
	CHECK(!"a plan written back out must parse");
}

/* A machine: 8 CPUs, 4G, an IOMMU, images whose names start with 'b',
 * PCI functions on even devices. */
static bool fake_find_file(void *ctx, const char *name, u64 *size)
{
	(void)ctx;
	*size = strlen(name) > 3 ? 4096 : 0;
	return name[0] == 'b';
}

static bool fake_have_pci(void *ctx, u8 bus, u8 dev, u8 fn)
{
	(void)ctx;
	(void)bus;
	(void)fn;
	return !(dev & 1);
}

static void check_partition(const struct config_partition *p, bool accepted)
{
	size_t n = strnlen(p->name, sizeof(p->name));
	u32 cpus = 0;
	char line[1024];

	CHECK(n >= 1 && n <= CONFIG_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		CHECK(strchr("abcdefghijklmnopqrstuvwxyz0123456789-_", p->name[i]));
	for (u32 cpu = 0; cpu < CONFIG_CPU_LIMIT; cpu++)
		cpus += config_cpu_isset(p, cpu);
	CHECK(cpus == p->cpu_count && cpus <= CONFIG_MAX_PARTITION_CPUS);
	CHECK(IS_ALIGNED(p->memory, CONFIG_MEMORY_ALIGN) && p->memory <= CONFIG_SIZE_MAX);
	CHECK(strnlen(p->kernel, sizeof(p->kernel)) < sizeof(p->kernel));
	CHECK(strnlen(p->initrd, sizeof(p->initrd)) < sizeof(p->initrd));
	CHECK(strnlen(p->cmdline, sizeof(p->cmdline)) < sizeof(p->cmdline));
	CHECK(p->pci_count <= CONFIG_MAX_PCI);
	CHECK(p->net_count <= CONFIG_MAX_NET && p->disk_count <= CONFIG_MAX_DISK &&
	      p->shm_count <= CONFIG_MAX_SHM);
	for (u32 i = 0; i < p->net_count; i++)
		CHECK(strnlen(p->net[i], sizeof(p->net[i])) >= 1 &&
		      strnlen(p->net[i], sizeof(p->net[i])) <= CONFIG_NAME_MAX);
	for (u32 i = 0; i < p->disk_count; i++)
		CHECK(strnlen(p->disk[i].name, sizeof(p->disk[i].name)) < sizeof(p->disk[i].name));
	for (u32 i = 0; i < p->shm_count; i++)
		CHECK(p->shm[i].size >= CONFIG_SHM_MIN && p->shm[i].size <= CONFIG_SHM_MAX &&
		      !(p->shm[i].size & (p->shm[i].size - 1)));
	CHECK(p->console <= CONFIG_CONSOLE_NONE && p->on_crash <= CONFIG_ACTION_RESTART &&
	      p->on_reboot <= CONFIG_ACTION_RESTART);
	if (accepted)
		CHECK(p->cpu_count && p->memory && p->kernel[0]);
	CHECK(config_format_partition(line, sizeof(line), p) > 0);
}

/* The plan as hv.conf text. */
static size_t write_plan(const struct config *c)
{
	size_t len = 0;
	char cpus[1024], size[32];

#define EMIT(...) len += (size_t)snprintf(text + len, sizeof(text) - len, __VA_ARGS__)
	EMIT("[hypervisor]\nconsole = %s\non_idle = %s\n", config_hv_console_name(c->hv.console),
	     config_on_idle_name(c->hv.on_idle));
	for (u32 i = 0; i < c->partition_count; i++) {
		const struct config_partition *p = &c->partitions[i];

		config_format_cpus(cpus, sizeof(cpus), p->cpus);
		config_format_size(size, sizeof(size), p->memory);
		/* '=' right before a name or cmdline: a leading '#' stays part of it */
		EMIT("[partition %s]\ncpus = %s\nmemory = %s\nkernel =%s\n", p->name, cpus, size,
		     p->kernel);
		if (p->initrd[0])
			EMIT("initrd =%s\n", p->initrd);
		EMIT("cmdline =%s\n", p->cmdline);
		EMIT("console = %s\non_crash = %s\non_reboot = %s\nmanage = %s\nautostart = %s\n",
		     config_part_console_name(p->console), config_action_name(p->on_crash),
		     config_action_name(p->on_reboot), p->manage ? "yes" : "no",
		     p->autostart ? "yes" : "no");
		for (u32 j = 0; j < p->pci_count; j++)
			EMIT("%s%02x:%02x.%x", j ? "," : "pci = ", p->pci[j].bus, p->pci[j].dev,
			     p->pci[j].fn);
		if (p->pci_count)
			EMIT("\n");
		for (u32 j = 0; j < p->net_count; j++)
			EMIT("%s%s%s", j ? "," : "net = ", p->net[j],
			     j + 1 < p->net_count ? "" : "\n");
		for (u32 j = 0; j < p->disk_count; j++)
			EMIT("%s%s%s%s", j ? "," : "disk = ", p->disk[j].name,
			     p->disk[j].ro ? " ro" : "", j + 1 < p->disk_count ? "" : "\n");
		for (u32 j = 0; j < p->shm_count; j++) {
			config_format_size(size, sizeof(size), p->shm[j].size);
			EMIT("%s%s %s%s", j ? "," : "shm = ", p->shm[j].name, size,
			     j + 1 < p->shm_count ? "" : "\n");
		}
	}
#undef EMIT
	CHECK(len < sizeof(text));
	return len;
}

static void check_round_trip(const struct config *c)
{
	size_t len = write_plan(c);

	CHECK(config_parse(&again, text, len, null_report, NULL) == 0);
	CHECK(again.hv.console == c->hv.console && again.hv.on_idle == c->hv.on_idle);
	CHECK(again.partition_count == c->partition_count);
	for (u32 i = 0; i < c->partition_count; i++) {
		const struct config_partition *a = &c->partitions[i], *b = &again.partitions[i];

		CHECK(!strcmp(a->name, b->name) && !memcmp(a->cpus, b->cpus, sizeof(a->cpus)));
		CHECK(a->memory == b->memory && !strcmp(a->kernel, b->kernel));
		CHECK(!strcmp(a->initrd, b->initrd) && !strcmp(a->cmdline, b->cmdline));
		CHECK(a->console == b->console && a->on_crash == b->on_crash &&
		      a->on_reboot == b->on_reboot);
		CHECK(a->manage == b->manage && a->autostart == b->autostart);
		CHECK(a->pci_count == b->pci_count && !memcmp(a->pci, b->pci, sizeof(a->pci)));
		CHECK(a->net_count == b->net_count && !memcmp(a->net, b->net, sizeof(a->net)));
		CHECK(a->disk_count == b->disk_count && !memcmp(a->disk, b->disk, sizeof(a->disk)));
		CHECK(a->shm_count == b->shm_count && !memcmp(a->shm, b->shm, sizeof(a->shm)));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_machine machine = {
		.cpu_count = 8,
		.ram_bytes = 4 * GiB,
		.iommu = CONFIG_PRESENT,
		.find_file = fake_find_file,
		.have_pci = fake_have_pci,
	};
	struct config_machine unknown = { 0 };
	struct sink s = { 0, 1 };
	int n;

	for (size_t i = 0; i < size; i++)
		s.lines += data[i] == '\n';
	n = config_parse(&cfg, (const char *)data, size, sink_report, &s);
	CHECK((u32)n == s.calls && s.calls <= CONFIG_MAX_ERRORS + 1);
	CHECK(cfg.partition_count <= CONFIG_MAX_PARTITIONS);
	for (u32 i = 0; i < cfg.partition_count; i++)
		check_partition(&cfg.partitions[i], n == 0);
	if (n == 0) {
		/* accepted: no CPU in two partitions */
		for (u32 i = 0; i < cfg.partition_count; i++)
			for (u32 j = 0; j < i; j++)
				for (u32 w = 0; w < CONFIG_CPU_WORDS; w++)
					CHECK(!(cfg.partitions[i].cpus[w] &
						cfg.partitions[j].cpus[w]));
		check_round_trip(&cfg);
	}

	s.calls = 0;
	n = config_validate(&cfg, &machine, sink_report, &s);
	CHECK((u32)n == s.calls && s.calls <= CONFIG_MAX_ERRORS + 1);
	CHECK(config_validate(&cfg, &unknown, sink_report, &s) == 0);

	s.calls = 0;
	n = config_load(&cfg, (const char *)data, size, &machine, sink_report, &s);
	CHECK((u32)n == s.calls && s.calls <= CONFIG_MAX_ERRORS + 1);
	return 0;
}
