/*
 * hv.conf's plan as text (see hv/config/format.h): what the hypervisor and
 * the host tool print, in the words hv.conf uses.
 */
#include "hv/config/format.h"
#include "hv/config/config.h"
#include "hv/config/text.h"
#include "hv/config/value.h"
#include "hv/lib/lib.h"

/* Names of values */

static const char *choice_name(const struct choice *ch, u32 value)
{
	for (; ch->name; ch++)
		if (ch->value == value)
			return ch->name;
	return "?";
}

const char *config_hv_console_name(u32 console)
{
	return choice_name(value_hv_console_choices, console);
}

const char *config_on_idle_name(u32 on_idle)
{
	return choice_name(value_on_idle_choices, on_idle);
}

const char *config_part_console_name(u32 console)
{
	return choice_name(value_part_console_choices, console);
}

const char *config_action_name(u32 action)
{
	return choice_name(value_on_crash_choices, action);
}

/* Formatting */

int config_format_report(char *buf, size_t size, u32 line, const char *msg)
{
	return snprintf(buf, size, "%s:%u: %s", CONFIG_FILE_NAME, line, msg);
}

int config_format_size(char *buf, size_t size, u64 bytes)
{
	if (bytes && IS_ALIGNED(bytes, GiB))
		return snprintf(buf, size, "%luG", (u64)(bytes / GiB));
	if (bytes && IS_ALIGNED(bytes, MiB))
		return snprintf(buf, size, "%luM", (u64)(bytes / MiB));
	if (bytes && IS_ALIGNED(bytes, KiB))
		return snprintf(buf, size, "%luK", (u64)(bytes / KiB));
	return snprintf(buf, size, "%lu", bytes);
}

int config_format_cpus(char *buf, size_t size, const u64 *cpus)
{
	struct text_out o = { buf, size, 0 };
	u32 cpu = 0;

	while (cpu < CONFIG_CPU_LIMIT) {
		u32 last;

		if (!(cpus[cpu / 64] & BIT(cpu % 64))) {
			cpu++;
			continue;
		}
		last = cpu;
		while (last + 1 < CONFIG_CPU_LIMIT &&
		       (cpus[(last + 1) / 64] & BIT((last + 1) % 64)))
			last++;
		if (last == cpu)
			text_printf(&o, "%s%u", o.len ? "," : "", cpu);
		else
			text_printf(&o, "%s%u-%u", o.len ? "," : "", cpu, last);
		cpu = last + 1;
	}
	return text_done(&o);
}

int config_format_partition(char *buf, size_t size, const struct config_partition *p)
{
	struct text_out o = { buf, size, 0 };
	char cpus[48], mem[24];

	config_format_cpus(cpus, sizeof(cpus), p->cpus);
	config_format_size(mem, sizeof(mem), p->memory);
	text_printf(&o, "%s: cpus %s, memory %s, kernel %s", p->name, cpus, mem, p->kernel);
	if (p->initrd[0])
		text_printf(&o, ", initrd %s", p->initrd);
	text_printf(&o, ", console %s", config_part_console_name(p->console));
	for (u32 i = 0; i < p->pci_count && i < CONFIG_MAX_PCI; i++)
		text_printf(&o, "%s%02x:%02x.%x", i ? " " : ", pci ", p->pci[i].bus, p->pci[i].dev,
			    p->pci[i].fn);
	for (u32 i = 0; i < p->net_count && i < CONFIG_MAX_NET; i++)
		text_printf(&o, "%s%s", i ? " " : ", net ", p->net[i]);
	for (u32 i = 0; i < p->disk_count && i < CONFIG_MAX_DISK; i++)
		text_printf(&o, "%s%s%s", i ? " " : ", disk ", p->disk[i].name,
			    p->disk[i].ro ? " (ro)" : "");
	for (u32 i = 0; i < p->shm_count && i < CONFIG_MAX_SHM; i++) {
		char shm[24];

		config_format_size(shm, sizeof(shm), p->shm[i].size);
		text_printf(&o, "%s%s=%s", i ? " " : ", shm ", p->shm[i].name, shm);
	}
	text_printf(&o, ", on_crash %s, on_reboot %s%s%s", config_action_name(p->on_crash),
		    config_action_name(p->on_reboot), p->manage ? ", manage yes" : "",
		    p->autostart ? "" : ", autostart no");
	return text_done(&o);
}
