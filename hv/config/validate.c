/*
 * hv.conf against the machine (see hv/config/validate.h).
 */
#include "hv/config/validate.h"
#include "hv/config/value.h"
#include "hv/lib/lib.h"

static void validate_image(struct reporter *r, const struct config_machine *m,
			   const struct config_partition *part, u32 key, const char *name)
{
	u64 size = 0;

	if (!m->find_file || !name[0])
		return;
	if (!m->find_file(m->ctx, name, &size))
		report_problem(r, part->key_line[key], "%s: no module or file named \"%s\"",
			       value_part_keys[key].name, name);
	else if (!size)
		report_problem(r, part->key_line[key], "%s: \"%s\" is empty",
			       value_part_keys[key].name, name);
}

static void validate_memory(struct reporter *r, const struct config_machine *m,
			    const struct config_partition *part, u64 *total)
{
	char asked[24], sum[24], avail[24];
	u64 ram = m->ram_bytes;

	if (!ram || !part->memory || *total > ram)
		return;
	*total += part->memory;
	if (*total <= ram)
		return;
	/* Round the free RAM down: what is shown is surely there. */
	if (ram >= MiB)
		ram = ALIGN_DOWN(ram, MiB);
	config_format_size(asked, sizeof(asked), part->memory);
	config_format_size(sum, sizeof(sum), *total);
	config_format_size(avail, sizeof(avail), ram);
	if (*total == part->memory)
		report_problem(r, part->key_line[CONFIG_KEY_MEMORY],
			       "memory: %s is more than the %s available", asked, avail);
	else
		report_problem(r, part->key_line[CONFIG_KEY_MEMORY],
			       "memory: %s brings the total to %s, more than the %s available",
			       asked, sum, avail);
}

static void validate_pci(struct reporter *r, const struct config_machine *m,
			 const struct config_partition *part)
{
	u32 line = part->key_line[CONFIG_KEY_PCI];

	if (!part->pci_count)
		return;
	if (m->iommu == CONFIG_ABSENT) {
		report_problem(r, line, "pci: needs an IOMMU, and this machine has none");
		return;
	}
	if (!m->have_pci)
		return;
	for (u32 i = 0; i < part->pci_count; i++) {
		const struct config_pci *d = &part->pci[i];

		if (!m->have_pci(m->ctx, d->bus, d->dev, d->fn))
			report_problem(r, line, "pci: no device %02x:%02x.%x on this machine",
				       d->bus, d->dev, d->fn);
	}
}

/* Another CPU of a partition before partition `before` that shares cpu's
 * core (in *sib), and that partition; NULL if none (a CPU given twice is
 * the cpus check's to report). */
static const struct config_partition *
sibling_owner(const struct config *c, const struct config_machine *m, u32 before, u32 cpu, u32 *sib)
{
	u32 n = MIN(m->cpu_count, (u32)CONFIG_CPU_LIMIT), core = m->core_of(m->ctx, cpu);

	for (u32 j = 0; j < before; j++)
		for (*sib = 0; *sib < n; (*sib)++)
			if (*sib != cpu && config_cpu_isset(&c->partitions[j], *sib) &&
			    m->core_of(m->ctx, *sib) == core)
				return &c->partitions[j];
	return NULL;
}

/*
 * Hyperthread siblings share one core's caches, buffers and execution
 * units: split between partitions, they open side channels from one to the
 * other. Refused, at the later partition's cpus line, unless [hypervisor]
 * allow_shared_cores = yes.
 */
static void validate_cores(struct reporter *r, const struct config *c,
			   const struct config_machine *m, u32 i)
{
	const struct config_partition *part = &c->partitions[i];

	if (!m->core_of || c->hv.allow_shared_cores)
		return;
	for (u32 cpu = 0; cpu < MIN(m->cpu_count, (u32)CONFIG_CPU_LIMIT); cpu++) {
		const struct config_partition *other;
		u32 sib;

		if (!config_cpu_isset(part, cpu) || !(other = sibling_owner(c, m, i, cpu, &sib)))
			continue;
		report_problem(r, part->key_line[CONFIG_KEY_CPUS],
			       "cpus: CPU %u is a hyperthread sibling of CPU %u of \"%s\" "
			       "(allow_shared_cores = yes in [hypervisor] allows it)",
			       cpu, sib, other->name);
	}
}

/* A disk is a module of whole 512-byte sectors (docs/virtio.md, 5). */
static void validate_disks(struct reporter *r, const struct config_machine *m,
			   const struct config_partition *part)
{
	u32 line = part->key_line[CONFIG_KEY_DISK];

	for (u32 i = 0; m->find_file && i < part->disk_count; i++) {
		const char *name = part->disk[i].name;
		u64 size = 0;

		if (!m->find_file(m->ctx, name, &size))
			report_problem(r, line, "disk: no module or file named \"%s\"", name);
		else if (!size)
			report_problem(r, line, "disk: \"%s\" is empty", name);
		else if (size % CONFIG_DISK_BLOCK)
			report_problem(
				r, line,
				"disk: \"%s\" is %lu bytes, not a multiple of %u-byte sectors",
				name, size, CONFIG_DISK_BLOCK);
	}
}

void validate_plan(struct reporter *r, const struct config *c, const struct config_machine *m)
{
	u64 total = 0;

	for (u32 i = 0; i < c->partition_count && i < CONFIG_MAX_PARTITIONS; i++) {
		const struct config_partition *part = &c->partitions[i];

		if (m->cpu_count && part->cpu_count) {
			for (u32 cpu = m->cpu_count; cpu < CONFIG_CPU_LIMIT; cpu++) {
				if (config_cpu_isset(part, cpu)) {
					report_problem(
						r, part->key_line[CONFIG_KEY_CPUS],
						"cpus: CPU %u does not exist (this machine has %u)",
						cpu, m->cpu_count);
					break;
				}
			}
		}
		validate_cores(r, c, m, i);
		validate_memory(r, m, part, &total);
		validate_image(r, m, part, CONFIG_KEY_KERNEL, part->kernel);
		validate_image(r, m, part, CONFIG_KEY_INITRD, part->initrd);
		validate_pci(r, m, part);
		validate_disks(r, m, part);
	}
}
