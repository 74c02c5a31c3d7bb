/*
 * The values of hv.conf's keys (see hv/config/value.h): each parser checks
 * the syntax and the limits that do not depend on the machine, and the
 * sharing of CPUs and PCI devices with the partitions before this one.
 */
#include "hv/config/value.h"
#include "hv/config/parser.h"
#include "hv/lib/lib.h"

#define PCI_DEV_MAX 0x1f /* PCI Local Bus 3.0, 3.2.2.3.1: 5-bit device */
#define PCI_FN_MAX 0x7	 /* and 3-bit function numbers */

/* Values with names */

const struct choice value_hv_console_choices[] = {
	{ "com1", CONFIG_HV_CONSOLE_COM1 }, { "com2", CONFIG_HV_CONSOLE_COM2 },
	{ "com3", CONFIG_HV_CONSOLE_COM3 }, { "com4", CONFIG_HV_CONSOLE_COM4 },
	{ "none", CONFIG_HV_CONSOLE_NONE }, { NULL, 0 },
};

const struct choice value_on_idle_choices[] = {
	{ "poweroff", CONFIG_IDLE_POWEROFF },
	{ "halt", CONFIG_IDLE_HALT },
	{ "reboot", CONFIG_IDLE_REBOOT },
	{ NULL, 0 },
};

const struct choice value_yes_no_choices[] = {
	{ "no", 0 },
	{ "yes", 1 },
	{ NULL, 0 },
};

const struct choice value_part_console_choices[] = {
	{ "vuart", CONFIG_CONSOLE_VUART },
	{ "none", CONFIG_CONSOLE_NONE },
	{ NULL, 0 },
};

/* SPEC order: on_crash lists stop first, on_reboot restart first. */
const struct choice value_on_crash_choices[] = {
	{ "stop", CONFIG_ACTION_STOP },
	{ "restart", CONFIG_ACTION_RESTART },
	{ NULL, 0 },
};

const struct choice value_on_reboot_choices[] = {
	{ "restart", CONFIG_ACTION_RESTART },
	{ "stop", CONFIG_ACTION_STOP },
	{ NULL, 0 },
};

/* Keys: one table per section, each key with its value parser */

static void parse_choice(struct parser *p, const struct key_desc *k, void *obj, struct span v)
{
	char list[64];
	struct text_out o = { list, sizeof(list), 0 };

	for (const struct choice *ch = k->choices; ch->name; ch++) {
		if (span_eq(v, ch->name)) {
			*(u32 *)((char *)obj + k->offset) = ch->value;
			return;
		}
	}
	for (const struct choice *ch = k->choices; ch->name; ch++)
		text_printf(&o, "%s%s",
			    ch == k->choices ? "" :
			    ch[1].name	     ? ", " :
					       " or ",
			    ch->name);
	report_problem(&p->r, p->line, "%s: \"%.*s\" is not one of %s", k->name, span_qlen(v), v.s,
		       list);
}

static bool bitmap_empty(const u64 *map)
{
	for (u32 i = 0; i < CONFIG_CPU_WORDS; i++)
		if (map[i])
			return false;
	return true;
}

static u32 bitmap_weight(const u64 *map)
{
	u32 n = 0;

	for (u32 cpu = 0; cpu < CONFIG_CPU_LIMIT; cpu++)
		if (map[cpu / 64] & BIT(cpu % 64))
			n++;
	return n;
}

/* One item of a CPU list, "N" or "N-M", into map; false after a problem. */
static bool parse_cpu_item(struct parser *p, struct span value, struct span item, u64 *map)
{
	size_t dash = span_find(item, '-');
	struct span a = span_trim(span_sub(item, 0, dash)), b = a;
	u32 first = 0, last = 0;

	if (dash < item.n)
		b = span_trim(span_sub(item, dash + 1, item.n));
	if (!span_parse_uint(a, &first) || !span_parse_uint(b, &last)) {
		report_problem(&p->r, p->line, "cpus: \"%.*s\" is not a CPU list (like 0-3,5)",
			       span_qlen(value), value.s);
		return false;
	}
	if (first >= CONFIG_CPU_LIMIT || last >= CONFIG_CPU_LIMIT) {
		/* echo the digits: the parsed number saturates */
		if (first < CONFIG_CPU_LIMIT)
			a = b;
		report_problem(&p->r, p->line,
			       "cpus: CPU %.*s is out of range (CPU numbers go up to %u)",
			       span_qlen(a), a.s, CONFIG_CPU_LIMIT - 1);
		return false;
	}
	if (last < first) {
		report_problem(&p->r, p->line, "cpus: range %u-%u is backwards", first, last);
		return false;
	}
	for (u32 cpu = first; cpu <= last; cpu++) {
		if (map[cpu / 64] & BIT(cpu % 64)) {
			report_problem(&p->r, p->line, "cpus: CPU %u is listed twice", cpu);
			return false;
		}
		map[cpu / 64] |= BIT(cpu % 64);
	}
	return true;
}

/* Reports the CPUs of part that an earlier partition also has. */
static void check_cpu_overlap(struct parser *p, const struct config_partition *part)
{
	char list[48];
	u64 both[CONFIG_CPU_WORDS];

	for (const struct config_partition *q = p->c->partitions; q < part; q++) {
		for (u32 i = 0; i < CONFIG_CPU_WORDS; i++)
			both[i] = q->cpus[i] & part->cpus[i];
		if (bitmap_empty(both))
			continue;
		config_format_cpus(list, sizeof(list), both);
		report_problem(&p->r, p->line, "cpus: %s %s %s in both \"%s\" and \"%s\"",
			       bitmap_weight(both) == 1 ? "CPU" : "CPUs", list,
			       bitmap_weight(both) == 1 ? "is" : "are", q->name, part->name);
	}
}

static void parse_cpus(struct parser *p, const struct key_desc *k, void *obj, struct span v)
{
	struct config_partition *part = obj;
	struct span rest = v, item;
	bool more = true;
	u64 map[CONFIG_CPU_WORDS] = { 0 };
	u32 n;

	(void)k;
	while (span_next_item(&rest, &item, &more))
		if (!parse_cpu_item(p, v, item, map))
			return;
	n = bitmap_weight(map);
	if (n > CONFIG_MAX_PARTITION_CPUS) {
		report_problem(&p->r, p->line, "cpus: %u CPUs, more than %u in one partition", n,
			       CONFIG_MAX_PARTITION_CPUS);
		return;
	}
	memcpy(part->cpus, map, sizeof(map));
	part->cpu_count = n;
	check_cpu_overlap(p, part);
}

enum size_status value_parse_size(struct span v, u64 *bytes)
{
	size_t digits = 0;
	u64 unit, x = 0;

	while (digits < v.n && text_is_digit(v.s[digits]))
		digits++;
	if (!digits)
		return SIZE_SYNTAX;
	if (digits == v.n)
		return SIZE_NO_UNIT;
	if (digits + 1 != v.n)
		return SIZE_SYNTAX;
	switch (v.s[digits]) {
	case 'K':
	case 'k':
		unit = KiB;
		break;
	case 'M':
	case 'm':
		unit = MiB;
		break;
	case 'G':
	case 'g':
		unit = GiB;
		break;
	default:
		return SIZE_SYNTAX;
	}
	for (size_t i = 0; i < digits; i++) {
		x = x * 10 + (u64)(v.s[i] - '0');
		if (x > CONFIG_SIZE_MAX / unit)
			return SIZE_TOO_BIG;
	}
	*bytes = x * unit;
	return SIZE_OK;
}

static void parse_memory(struct parser *p, const struct key_desc *k, void *obj, struct span v)
{
	struct config_partition *part = obj;
	char size[24];
	u64 bytes = 0;

	(void)k;
	switch (value_parse_size(v, &bytes)) {
	case SIZE_OK:
		break;
	case SIZE_NO_UNIT:
		report_problem(&p->r, p->line,
			       "memory: \"%.*s\" needs a unit: K, M or G (like 512M)", span_qlen(v),
			       v.s);
		return;
	case SIZE_TOO_BIG:
		report_problem(&p->r, p->line, "memory: \"%.*s\" is too large", span_qlen(v), v.s);
		return;
	case SIZE_SYNTAX:
	default:
		report_problem(&p->r, p->line, "memory: \"%.*s\" is not a size (like 512M or 2G)",
			       span_qlen(v), v.s);
		return;
	}
	if (!bytes) {
		report_problem(&p->r, p->line, "memory: must be more than 0");
		return;
	}
	if (!IS_ALIGNED(bytes, CONFIG_MEMORY_ALIGN)) {
		config_format_size(size, sizeof(size), bytes);
		report_problem(&p->r, p->line, "memory: %s is not a multiple of 2M", size);
		return;
	}
	part->memory = bytes;
}

/* kernel, initrd: one module or file name, as SPEC 2 names modules. */
void value_parse_image(struct parser *p, const struct key_desc *k, void *obj, struct span v)
{
	char *name = (char *)obj + k->offset;

	/* "kernel =#x" names "#x", but "kernel = #x" is a comment: refused, so
	 * that every name reads the same however it is spaced */
	if (v.n && v.s[0] == '#') {
		report_problem(&p->r, p->line, "%s: \"%.*s\": a name cannot begin with '#'",
			       k->name, span_qlen(v), v.s);
		return;
	}
	for (size_t i = 0; i < v.n; i++) {
		if (text_is_blank(v.s[i])) {
			report_problem(&p->r, p->line, "%s: \"%.*s\" is more than one name",
				       k->name, span_qlen(v), v.s);
			return;
		}
		if (v.s[i] == '"' || v.s[i] == '\'') {
			report_problem(&p->r, p->line, "%s: write the name without quotes",
				       k->name);
			return;
		}
		if (v.s[i] == '/' || v.s[i] == '\\') {
			report_problem(
				&p->r, p->line,
				"%s: \"%.*s\": give the module or file name, without a directory",
				k->name, span_qlen(v), v.s);
			return;
		}
	}
	if (v.n >= k->size) {
		report_problem(&p->r, p->line, "%s: name longer than %u characters", k->name,
			       (u32)k->size - 1);
		return;
	}
	memcpy(name, v.s, v.n);
	name[v.n] = '\0';
}

static void parse_cmdline(struct parser *p, const struct key_desc *k, void *obj, struct span v)
{
	char *cmdline = (char *)obj + k->offset;

	if (v.n >= k->size) {
		report_problem(&p->r, p->line, "cmdline: %u bytes, more than %u", (u32)v.n,
			       (u32)k->size - 1);
		return;
	}
	memcpy(cmdline, v.s, v.n);
	cmdline[v.n] = '\0';
}

static bool pci_eq(const struct config_pci *a, const struct config_pci *b)
{
	return a->bus == b->bus && a->dev == b->dev && a->fn == b->fn;
}

/* "BB:DD.F", hex, as lspci prints it (one-digit bus and device accepted). */
static bool parse_pci_item(struct parser *p, struct span item, struct config_pci *d)
{
	size_t pos = 0;
	u32 bus, dev, fn;

	if (!span_parse_hex(item, &pos, 2, &bus) || pos == item.n || item.s[pos++] != ':' ||
	    !span_parse_hex(item, &pos, 2, &dev) || pos == item.n || item.s[pos++] != '.' ||
	    !span_parse_hex(item, &pos, 1, &fn) || pos != item.n) {
		report_problem(&p->r, p->line,
			       "pci: \"%.*s\" is not a PCI address BB:DD.F (like 00:03.0)",
			       span_qlen(item), item.s);
		return false;
	}
	if (dev > PCI_DEV_MAX) {
		report_problem(&p->r, p->line, "pci: %02x:%02x.%x: device numbers go up to %x", bus,
			       dev, fn, PCI_DEV_MAX);
		return false;
	}
	if (fn > PCI_FN_MAX) {
		report_problem(&p->r, p->line, "pci: %02x:%02x.%x: function numbers go up to %x",
			       bus, dev, fn, PCI_FN_MAX);
		return false;
	}
	d->bus = (u8)bus;
	d->dev = (u8)dev;
	d->fn = (u8)fn;
	d->pad = 0;
	return true;
}

static void check_pci_overlap(struct parser *p, const struct config_partition *part)
{
	for (const struct config_partition *q = p->c->partitions; q < part; q++) {
		for (u32 i = 0; i < part->pci_count; i++) {
			const struct config_pci *d = &part->pci[i];
			bool shared = false;

			for (u32 j = 0; j < q->pci_count; j++)
				shared |= pci_eq(d, &q->pci[j]);
			if (shared)
				report_problem(&p->r, p->line,
					       "pci: %02x:%02x.%x is in both \"%s\" and \"%s\"",
					       d->bus, d->dev, d->fn, q->name, part->name);
		}
	}
}

static void parse_pci(struct parser *p, const struct key_desc *k, void *obj, struct span v)
{
	struct config_partition *part = obj;
	struct span rest = v, item;
	bool more = true;
	struct config_pci d;
	u32 n = 0;

	(void)k;
	while (span_next_item(&rest, &item, &more)) {
		if (!parse_pci_item(p, item, &d))
			goto fail;
		for (u32 i = 0; i < n; i++) {
			if (pci_eq(&d, &part->pci[i])) {
				report_problem(&p->r, p->line, "pci: %02x:%02x.%x is listed twice",
					       d.bus, d.dev, d.fn);
				goto fail;
			}
		}
		if (n == CONFIG_MAX_PCI) {
			report_problem(&p->r, p->line, "pci: more than %u devices", CONFIG_MAX_PCI);
			goto fail;
		}
		part->pci[n++] = d;
	}
	part->pci_count = n;
	check_pci_overlap(p, part);
	return;
fail:
	memset(part->pci, 0, sizeof(part->pci));
}

/* net = SWITCH, ...: switch names, each once. */
static void parse_net(struct parser *p, const struct key_desc *k, void *obj, struct span v)
{
	struct config_partition *part = obj;
	struct span rest = v, item;
	bool more = true;
	u32 n = 0;

	(void)k;
	while (span_next_item(&rest, &item, &more)) {
		if (!span_is_name(item, CONFIG_NAME_MAX)) {
			report_problem(
				&p->r, p->line,
				"net: \"%.*s\" is not a switch name (1-%u characters of a-z 0-9 - _)",
				span_qlen(item), item.s, CONFIG_NAME_MAX);
			return;
		}
		for (u32 i = 0; i < n; i++) {
			if (span_eq(item, part->net[i])) {
				report_problem(&p->r, p->line, "net: switch \"%s\" is listed twice",
					       part->net[i]);
				return;
			}
		}
		if (n == CONFIG_MAX_NET) {
			report_problem(&p->r, p->line, "net: more than %u interfaces",
				       CONFIG_MAX_NET);
			return;
		}
		memcpy(part->net[n], item.s, item.n);
		part->net[n++][item.n] = '\0';
	}
	part->net_count = n;
}

/* An item's first word and the rest ("NAME ro", "NAME SIZE"). */
static void split_word(struct span item, struct span *word, struct span *rest)
{
	size_t blank = 0;

	while (blank < item.n && !text_is_blank(item.s[blank]))
		blank++;
	*word = span_sub(item, 0, blank);
	*rest = span_trim(span_sub(item, blank, item.n));
}

/* A writable disk belongs to one partition (SPEC 3). */
static bool disk_shared(struct parser *p, const struct config_partition *part,
			const struct config_disk *d)
{
	for (const struct config_partition *q = p->c->partitions; q < part; q++) {
		for (u32 i = 0; i < q->disk_count; i++) {
			if (strcmp(q->disk[i].name, d->name) || (q->disk[i].ro && d->ro))
				continue;
			report_problem(&p->r, p->line,
				       "disk: \"%s\" is in both \"%s\" and \"%s\", and writable: "
				       "two partitions may share a disk only read-only",
				       d->name, q->name, part->name);
			return true;
		}
	}
	return false;
}

/* disk = NAME [ro], ...: module or file names, as kernel = takes them. */
static void parse_disk(struct parser *p, const struct key_desc *k, void *obj, struct span v)
{
	struct config_partition *part = obj;
	struct span rest = v, item, name, flag;
	bool more = true;
	u32 n = 0;

	while (span_next_item(&rest, &item, &more)) {
		struct config_disk d = { .ro = false };
		struct key_desc name_key = { k->name, 0, NULL, false, 0, sizeof(d.name), NULL };

		split_word(item, &name, &flag);
		if (!name.n || (flag.n && !span_eq(flag, "ro"))) {
			report_problem(&p->r, p->line, "disk: \"%.*s\" is not NAME or NAME ro",
				       span_qlen(item), item.s);
			return;
		}
		d.name[0] = '\0';
		value_parse_image(p, &name_key, d.name, name);
		if (!d.name[0])
			return;
		d.ro = flag.n != 0;
		for (u32 i = 0; i < n; i++) {
			if (!strcmp(part->disk[i].name, d.name)) {
				report_problem(&p->r, p->line, "disk: \"%s\" is listed twice",
					       d.name);
				return;
			}
		}
		if (n == CONFIG_MAX_DISK) {
			report_problem(&p->r, p->line, "disk: more than %u disks", CONFIG_MAX_DISK);
			return;
		}
		if (disk_shared(p, part, &d))
			return;
		part->disk[n++] = d;
	}
	part->disk_count = n;
}

/* One "NAME SIZE" of shm =: false after a problem. */
static bool parse_shm_item(struct parser *p, struct span item, struct config_shm *s)
{
	struct span name, size;
	char text[24];

	split_word(item, &name, &size);
	if (!span_is_name(name, CONFIG_NAME_MAX) || value_parse_size(size, &s->size) != SIZE_OK) {
		report_problem(&p->r, p->line,
			       "shm: \"%.*s\" is not NAME SIZE (like ring0 1M; a name of 1-%u "
			       "characters of a-z 0-9 - _)",
			       span_qlen(item), item.s, CONFIG_NAME_MAX);
		return false;
	}
	config_format_size(text, sizeof(text), s->size);
	if (s->size & (s->size - 1)) {
		report_problem(&p->r, p->line, "shm: %s is not a power of two", text);
		return false;
	}
	if (s->size < CONFIG_SHM_MIN || s->size > CONFIG_SHM_MAX) {
		report_problem(&p->r, p->line, "shm: %s is out of range (4K to 256M)", text);
		return false;
	}
	memcpy(s->name, name.s, name.n);
	s->name[name.n] = '\0';
	return true;
}

/* A region has one size, whoever names it. */
static bool shm_conflict(struct parser *p, const struct config_partition *part,
			 const struct config_shm *s)
{
	char here[24], there[24];

	for (const struct config_partition *q = p->c->partitions; q < part; q++) {
		for (u32 i = 0; i < q->shm_count; i++) {
			if (strcmp(q->shm[i].name, s->name) || q->shm[i].size == s->size)
				continue;
			config_format_size(here, sizeof(here), s->size);
			config_format_size(there, sizeof(there), q->shm[i].size);
			report_problem(&p->r, p->line, "shm: \"%s\" is %s here but %s in \"%s\"",
				       s->name, here, there, q->name);
			return true;
		}
	}
	return false;
}

/* shm = NAME SIZE, ...: each region once, at most CONFIG_SHM_MAX in all. */
static void parse_shm(struct parser *p, const struct key_desc *k, void *obj, struct span v)
{
	struct config_partition *part = obj;
	struct span rest = v, item;
	bool more = true;
	u64 total = 0;
	u32 n = 0;

	(void)k;
	while (span_next_item(&rest, &item, &more)) {
		struct config_shm s;

		memset(&s, 0, sizeof(s)); /* the plan is compared whole, padding too */
		if (!parse_shm_item(p, item, &s))
			return;
		for (u32 i = 0; i < n; i++) {
			if (!strcmp(part->shm[i].name, s.name)) {
				report_problem(&p->r, p->line, "shm: \"%s\" is listed twice",
					       s.name);
				return;
			}
		}
		if (n == CONFIG_MAX_SHM) {
			report_problem(&p->r, p->line, "shm: more than %u regions", CONFIG_MAX_SHM);
			return;
		}
		total += s.size;
		if (total > CONFIG_SHM_MAX) {
			report_problem(&p->r, p->line,
				       "shm: more than 256M of regions in one partition");
			return;
		}
		if (shm_conflict(p, part, &s))
			return;
		part->shm[n++] = s;
	}
	part->shm_count = n;
}

#define HV_FIELD(f) \
	offsetof(struct config_hypervisor, f), sizeof(((struct config_hypervisor *)0)->f)
#define PART_FIELD(f) \
	offsetof(struct config_partition, f), sizeof(((struct config_partition *)0)->f)

const struct key_desc value_hv_keys[] = {
	{ "console", CONFIG_KEY_HV_CONSOLE, parse_choice, false, HV_FIELD(console),
	  value_hv_console_choices },
	{ "on_idle", CONFIG_KEY_ON_IDLE, parse_choice, false, HV_FIELD(on_idle),
	  value_on_idle_choices },
	{ "allow_shared_cores", CONFIG_KEY_ALLOW_SHARED_CORES, parse_choice, false,
	  HV_FIELD(allow_shared_cores), value_yes_no_choices },
	{ NULL, 0, NULL, false, 0, 0, NULL },
};

const struct key_desc value_part_keys[] = {
	{ "cpus", CONFIG_KEY_CPUS, parse_cpus, false, PART_FIELD(cpus), NULL },
	{ "memory", CONFIG_KEY_MEMORY, parse_memory, false, PART_FIELD(memory), NULL },
	{ "kernel", CONFIG_KEY_KERNEL, value_parse_image, false, PART_FIELD(kernel), NULL },
	{ "initrd", CONFIG_KEY_INITRD, value_parse_image, false, PART_FIELD(initrd), NULL },
	{ "cmdline", CONFIG_KEY_CMDLINE, parse_cmdline, true, PART_FIELD(cmdline), NULL },
	{ "console", CONFIG_KEY_CONSOLE, parse_choice, false, PART_FIELD(console),
	  value_part_console_choices },
	{ "pci", CONFIG_KEY_PCI, parse_pci, false, PART_FIELD(pci), NULL },
	{ "net", CONFIG_KEY_NET, parse_net, false, PART_FIELD(net), NULL },
	{ "disk", CONFIG_KEY_DISK, parse_disk, false, PART_FIELD(disk), NULL },
	{ "shm", CONFIG_KEY_SHM, parse_shm, false, PART_FIELD(shm), NULL },
	{ "on_crash", CONFIG_KEY_ON_CRASH, parse_choice, false, PART_FIELD(on_crash),
	  value_on_crash_choices },
	{ "on_reboot", CONFIG_KEY_ON_REBOOT, parse_choice, false, PART_FIELD(on_reboot),
	  value_on_reboot_choices },
	{ "manage", CONFIG_KEY_MANAGE, parse_choice, false, PART_FIELD(manage),
	  value_yes_no_choices },
	{ "autostart", CONFIG_KEY_AUTOSTART, parse_choice, false, PART_FIELD(autostart),
	  value_yes_no_choices },
	{ NULL, 0, NULL, false, 0, 0, NULL },
};
