/*
 * hv.conf: parse, check, validate against the machine (SPEC.md 3).
 *
 * The text is never copied: lines and values are spans into the caller's
 * buffer, so line length costs no stack. Every problem goes out through the
 * caller's report function as it is found; parsing goes on with the next
 * line, so one run shows every problem (up to CONFIG_MAX_ERRORS).
 */
#include "hv/config/config.h"
#include "hv/lib/lib.h"

#define QUOTE_MAX 48		/* bytes of a user's text echoed in a message */
#define UTF8_BOM "\xef\xbb\xbf"
#define UTF8_BOM_LEN 3
#define ASCII_DEL 0x7f
#define PCI_DEV_MAX 0x1f	/* PCI Local Bus 3.0, 3.2.2.3.1: 5-bit device */
#define PCI_FN_MAX 0x7		/* and 3-bit function numbers */
#define NUMBER_MAX 1000000000U	/* saturation point of decimal numbers */

struct span {
	const char *s;
	size_t n;
};

struct reporter {
	config_report_fn fn;
	void *ctx;
	int count;
	bool stop;
};

enum section {
	SECTION_NONE,		/* before the first header */
	SECTION_HV,
	SECTION_PART,
	SECTION_SKIP,		/* a bad header: its keys are not checked */
};

struct parser {
	struct reporter r;
	struct config *c;
	u32 line;
	enum section section;
	struct config_partition *part;
};

static void problem(struct reporter *r, u32 line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct reporter *r, u32 line, const char *fmt, ...)
{
	char msg[CONFIG_MSG_MAX];
	va_list ap;

	if (r->stop)
		return;
	if (r->count == CONFIG_MAX_ERRORS) {
		r->fn(r->ctx, line, "too many problems; stopping here");
		r->count++;
		r->stop = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	r->fn(r->ctx, line, msg);
	r->count++;
}

/* Spans */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static struct span trim(struct span v)
{
	while (v.n && is_blank(v.s[0])) {
		v.s++;
		v.n--;
	}
	while (v.n && is_blank(v.s[v.n - 1]))
		v.n--;
	return v;
}

static bool span_eq(struct span v, const char *lit)
{
	size_t n = strlen(lit);

	return v.n == n && memcmp(v.s, lit, n) == 0;
}

/* Index of the first ch in v, or v.n. */
static size_t span_find(struct span v, char ch)
{
	size_t i = 0;

	while (i < v.n && v.s[i] != ch)
		i++;
	return i;
}

static struct span span_sub(struct span v, size_t from, size_t to)
{
	struct span r = { v.s + from, to - from };

	return r;
}

/* How much of v to echo in a message: at most QUOTE_MAX bytes, whole UTF-8
 * characters only (continuation bytes are 10xxxxxx). */
static int qlen(struct span v)
{
	size_t n = v.n;

	if (n <= QUOTE_MAX)
		return (int)n;
	n = QUOTE_MAX;
	while (n && ((u8)v.s[n] & 0xc0) == 0x80)
		n--;
	return (int)n;
}

/*
 * Splits off the next comma-separated item of *rest into *item (trimmed).
 * Returns false when *rest is used up.
 */
static bool next_item(struct span *rest, struct span *item, bool *more)
{
	size_t comma;

	if (!*more)
		return false;
	comma = span_find(*rest, ',');
	*item = trim(span_sub(*rest, 0, comma));
	*more = comma < rest->n;
	if (*more)
		*rest = span_sub(*rest, comma + 1, rest->n);
	return true;
}

/* A decimal number, saturated at NUMBER_MAX; false unless all digits. */
static bool parse_uint(struct span v, u32 *out)
{
	u32 x = 0;

	if (!v.n)
		return false;
	for (size_t i = 0; i < v.n; i++) {
		if (!is_digit(v.s[i]))
			return false;
		x = x * 10 + (u32)(v.s[i] - '0');
		if (x > NUMBER_MAX)
			x = NUMBER_MAX;
	}
	*out = x;
	return true;
}

static int hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* 1..max_digits hex digits from *pos; advances *pos. */
static bool parse_hex(struct span v, size_t *pos, size_t max_digits, u32 *out)
{
	size_t start = *pos;
	u32 x = 0;
	int d;

	while (*pos < v.n && *pos - start < max_digits &&
	       (d = hex_digit(v.s[*pos])) >= 0) {
		x = x * 16 + (u32)d;
		(*pos)++;
	}
	*out = x;
	return *pos > start && (*pos == v.n || hex_digit(v.s[*pos]) < 0);
}

/* Output into a caller's buffer, snprintf-like (length even if truncated) */

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void out_printf(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (o->len < o->size)
		n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len += (size_t)n;
}

static int out_done(struct out *o)
{
	if (o->size && o->len == 0)
		o->buf[0] = '\0';
	return (int)o->len;
}

/* Values with names */

struct choice {
	const char *name;
	u32 value;
};

static const struct choice hv_console_choices[] = {
	{ "com1", CONFIG_HV_CONSOLE_COM1 },
	{ "com2", CONFIG_HV_CONSOLE_COM2 },
	{ "com3", CONFIG_HV_CONSOLE_COM3 },
	{ "com4", CONFIG_HV_CONSOLE_COM4 },
	{ "none", CONFIG_HV_CONSOLE_NONE },
	{ NULL, 0 },
};

static const struct choice on_idle_choices[] = {
	{ "poweroff", CONFIG_IDLE_POWEROFF },
	{ "halt", CONFIG_IDLE_HALT },
	{ "reboot", CONFIG_IDLE_REBOOT },
	{ NULL, 0 },
};

static const struct choice part_console_choices[] = {
	{ "vuart", CONFIG_CONSOLE_VUART },
	{ "none", CONFIG_CONSOLE_NONE },
	{ NULL, 0 },
};

/* SPEC order: on_crash lists stop first, on_reboot restart first. */
static const struct choice on_crash_choices[] = {
	{ "stop", CONFIG_ACTION_STOP },
	{ "restart", CONFIG_ACTION_RESTART },
	{ NULL, 0 },
};

static const struct choice on_reboot_choices[] = {
	{ "restart", CONFIG_ACTION_RESTART },
	{ "stop", CONFIG_ACTION_STOP },
	{ NULL, 0 },
};

static const char *choice_name(const struct choice *ch, u32 value)
{
	for (; ch->name; ch++)
		if (ch->value == value)
			return ch->name;
	return "?";
}

const char *config_hv_console_name(u32 console)
{
	return choice_name(hv_console_choices, console);
}

const char *config_on_idle_name(u32 on_idle)
{
	return choice_name(on_idle_choices, on_idle);
}

const char *config_part_console_name(u32 console)
{
	return choice_name(part_console_choices, console);
}

const char *config_action_name(u32 action)
{
	return choice_name(on_crash_choices, action);
}

/* Keys: one table per section, each key with its value parser */

struct key_desc;
typedef void (*key_parse_fn)(struct parser *p, const struct key_desc *k, void *obj,
			     struct span v);

struct key_desc {
	const char *name;
	u32 index;			/* into key_line[] */
	key_parse_fn parse;
	bool allow_empty;
	size_t offset;			/* of the field in the section's struct */
	size_t size;			/* of that field, for strings */
	const struct choice *choices;
};

static void parse_choice(struct parser *p, const struct key_desc *k, void *obj,
			 struct span v)
{
	char list[64];
	struct out o = { list, sizeof(list), 0 };

	for (const struct choice *ch = k->choices; ch->name; ch++) {
		if (span_eq(v, ch->name)) {
			*(u32 *)((char *)obj + k->offset) = ch->value;
			return;
		}
	}
	for (const struct choice *ch = k->choices; ch->name; ch++)
		out_printf(&o, "%s%s", ch == k->choices ? "" : ch[1].name ? ", " : " or ",
			   ch->name);
	problem(&p->r, p->line, "%s: \"%.*s\" is not one of %s", k->name, qlen(v), v.s,
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
	struct span a = trim(span_sub(item, 0, dash)), b = a;
	u32 first = 0, last = 0;

	if (dash < item.n)
		b = trim(span_sub(item, dash + 1, item.n));
	if (!parse_uint(a, &first) || !parse_uint(b, &last)) {
		problem(&p->r, p->line, "cpus: \"%.*s\" is not a CPU list (like 0-3,5)",
			qlen(value), value.s);
		return false;
	}
	if (first >= CONFIG_CPU_LIMIT || last >= CONFIG_CPU_LIMIT) {
		/* echo the digits: the parsed number saturates */
		if (first < CONFIG_CPU_LIMIT)
			a = b;
		problem(&p->r, p->line, "cpus: CPU %.*s is out of range (CPU numbers go up to %u)",
			qlen(a), a.s, CONFIG_CPU_LIMIT - 1);
		return false;
	}
	if (last < first) {
		problem(&p->r, p->line, "cpus: range %u-%u is backwards", first, last);
		return false;
	}
	for (u32 cpu = first; cpu <= last; cpu++) {
		if (map[cpu / 64] & BIT(cpu % 64)) {
			problem(&p->r, p->line, "cpus: CPU %u is listed twice", cpu);
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
		problem(&p->r, p->line, "cpus: %s %s %s in both \"%s\" and \"%s\"",
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
	while (next_item(&rest, &item, &more))
		if (!parse_cpu_item(p, v, item, map))
			return;
	n = bitmap_weight(map);
	if (n > CONFIG_MAX_PARTITION_CPUS) {
		problem(&p->r, p->line, "cpus: %u CPUs, more than %u in one partition", n,
			CONFIG_MAX_PARTITION_CPUS);
		return;
	}
	memcpy(part->cpus, map, sizeof(map));
	part->cpu_count = n;
	check_cpu_overlap(p, part);
}

enum size_status {
	SIZE_OK,
	SIZE_SYNTAX,
	SIZE_NO_UNIT,
	SIZE_TOO_BIG,
};

static enum size_status size_parse(struct span v, u64 *bytes)
{
	size_t digits = 0;
	u64 unit, x = 0;

	while (digits < v.n && is_digit(v.s[digits]))
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

bool config_parse_size(const char *s, size_t len, u64 *bytes)
{
	struct span v = { s, len };

	return size_parse(v, bytes) == SIZE_OK;
}

static void parse_memory(struct parser *p, const struct key_desc *k, void *obj,
			 struct span v)
{
	struct config_partition *part = obj;
	char size[24];
	u64 bytes = 0;

	(void)k;
	switch (size_parse(v, &bytes)) {
	case SIZE_OK:
		break;
	case SIZE_NO_UNIT:
		problem(&p->r, p->line, "memory: \"%.*s\" needs a unit: K, M or G (like 512M)",
			qlen(v), v.s);
		return;
	case SIZE_TOO_BIG:
		problem(&p->r, p->line, "memory: \"%.*s\" is too large", qlen(v), v.s);
		return;
	case SIZE_SYNTAX:
	default:
		problem(&p->r, p->line, "memory: \"%.*s\" is not a size (like 512M or 2G)",
			qlen(v), v.s);
		return;
	}
	if (!bytes) {
		problem(&p->r, p->line, "memory: must be more than 0");
		return;
	}
	if (!IS_ALIGNED(bytes, CONFIG_MEMORY_ALIGN)) {
		config_format_size(size, sizeof(size), bytes);
		problem(&p->r, p->line, "memory: %s is not a multiple of 2M", size);
		return;
	}
	part->memory = bytes;
}

/* kernel, initrd: one module or file name, as SPEC 2 names modules. */
static void parse_image(struct parser *p, const struct key_desc *k, void *obj, struct span v)
{
	char *name = (char *)obj + k->offset;

	for (size_t i = 0; i < v.n; i++) {
		if (is_blank(v.s[i])) {
			problem(&p->r, p->line, "%s: \"%.*s\" is more than one name", k->name,
				qlen(v), v.s);
			return;
		}
		if (v.s[i] == '"' || v.s[i] == '\'') {
			problem(&p->r, p->line, "%s: write the name without quotes", k->name);
			return;
		}
		if (v.s[i] == '/' || v.s[i] == '\\') {
			problem(&p->r, p->line,
				"%s: \"%.*s\": give the module or file name, without a directory",
				k->name, qlen(v), v.s);
			return;
		}
	}
	if (v.n >= k->size) {
		problem(&p->r, p->line, "%s: name longer than %u characters", k->name,
			(u32)k->size - 1);
		return;
	}
	memcpy(name, v.s, v.n);
	name[v.n] = '\0';
}

static void parse_cmdline(struct parser *p, const struct key_desc *k, void *obj,
			  struct span v)
{
	char *cmdline = (char *)obj + k->offset;

	if (v.n >= k->size) {
		problem(&p->r, p->line, "cmdline: %u bytes, more than %u", (u32)v.n,
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

	if (!parse_hex(item, &pos, 2, &bus) || pos == item.n || item.s[pos++] != ':' ||
	    !parse_hex(item, &pos, 2, &dev) || pos == item.n || item.s[pos++] != '.' ||
	    !parse_hex(item, &pos, 1, &fn) || pos != item.n) {
		problem(&p->r, p->line,
			"pci: \"%.*s\" is not a PCI address BB:DD.F (like 00:03.0)",
			qlen(item), item.s);
		return false;
	}
	if (dev > PCI_DEV_MAX) {
		problem(&p->r, p->line, "pci: %02x:%02x.%x: device numbers go up to %x", bus,
			dev, fn, PCI_DEV_MAX);
		return false;
	}
	if (fn > PCI_FN_MAX) {
		problem(&p->r, p->line, "pci: %02x:%02x.%x: function numbers go up to %x", bus,
			dev, fn, PCI_FN_MAX);
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
				problem(&p->r, p->line, "pci: %02x:%02x.%x is in both \"%s\" and \"%s\"",
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
	while (next_item(&rest, &item, &more)) {
		if (!parse_pci_item(p, item, &d))
			goto fail;
		for (u32 i = 0; i < n; i++) {
			if (pci_eq(&d, &part->pci[i])) {
				problem(&p->r, p->line, "pci: %02x:%02x.%x is listed twice", d.bus,
					d.dev, d.fn);
				goto fail;
			}
		}
		if (n == CONFIG_MAX_PCI) {
			problem(&p->r, p->line, "pci: more than %u devices", CONFIG_MAX_PCI);
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

#define HV_FIELD(f) offsetof(struct config_hypervisor, f), sizeof(((struct config_hypervisor *)0)->f)
#define PART_FIELD(f) offsetof(struct config_partition, f), sizeof(((struct config_partition *)0)->f)

static const struct key_desc hv_keys[] = {
	{ "console", CONFIG_KEY_HV_CONSOLE, parse_choice, false, HV_FIELD(console),
	  hv_console_choices },
	{ "on_idle", CONFIG_KEY_ON_IDLE, parse_choice, false, HV_FIELD(on_idle),
	  on_idle_choices },
	{ NULL, 0, NULL, false, 0, 0, NULL },
};

static const struct key_desc part_keys[] = {
	{ "cpus", CONFIG_KEY_CPUS, parse_cpus, false, PART_FIELD(cpus), NULL },
	{ "memory", CONFIG_KEY_MEMORY, parse_memory, false, PART_FIELD(memory), NULL },
	{ "kernel", CONFIG_KEY_KERNEL, parse_image, false, PART_FIELD(kernel), NULL },
	{ "initrd", CONFIG_KEY_INITRD, parse_image, false, PART_FIELD(initrd), NULL },
	{ "cmdline", CONFIG_KEY_CMDLINE, parse_cmdline, true, PART_FIELD(cmdline), NULL },
	{ "console", CONFIG_KEY_CONSOLE, parse_choice, false, PART_FIELD(console),
	  part_console_choices },
	{ "pci", CONFIG_KEY_PCI, parse_pci, false, PART_FIELD(pci), NULL },
	{ "on_crash", CONFIG_KEY_ON_CRASH, parse_choice, false, PART_FIELD(on_crash),
	  on_crash_choices },
	{ "on_reboot", CONFIG_KEY_ON_REBOOT, parse_choice, false, PART_FIELD(on_reboot),
	  on_reboot_choices },
	{ NULL, 0, NULL, false, 0, 0, NULL },
};

/* part_keys[] is in enum config_part_key order: part_keys[key].name is a
 * key's name. */

/* Keys a partition cannot do without, checked when its section ends. */
static const u32 part_required[] = { CONFIG_KEY_CPUS, CONFIG_KEY_MEMORY, CONFIG_KEY_KERNEL };

static const struct key_desc *find_key(const struct key_desc *table, struct span name)
{
	for (; table->name; table++)
		if (span_eq(name, table->name))
			return table;
	return NULL;
}

/* Lines */

/*
 * RFC 3629 well-formed UTF-8 (no overlongs, no surrogates, at most
 * U+10FFFF) without control characters other than tab. Returns the 1-based
 * column where the first bad character starts, or 0.
 */
static size_t check_text(struct span v, bool *control)
{
	size_t i = 0;

	while (i < v.n) {
		u8 b = (u8)v.s[i];
		u8 lo = 0x80, hi = 0xbf;
		size_t more;

		if (b < 0x80) {
			if ((b < ' ' && b != '\t') || b == ASCII_DEL) {
				*control = true;
				return i + 1;
			}
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			more = 1;
		} else if (b >= 0xe0 && b <= 0xef) {
			more = 2;
			if (b == 0xe0)
				lo = 0xa0;	/* overlong */
			else if (b == 0xed)
				hi = 0x9f;	/* surrogates */
		} else if (b >= 0xf0 && b <= 0xf4) {
			more = 3;
			if (b == 0xf0)
				lo = 0x90;	/* overlong */
			else if (b == 0xf4)
				hi = 0x8f;	/* above U+10FFFF */
		} else {
			return i + 1;
		}
		for (size_t j = 1; j <= more; j++) {
			u8 c = i + j < v.n ? (u8)v.s[i + j] : 0;

			if (c < lo || c > hi)
				return i + 1;	/* where the bad sequence starts */
			lo = 0x80;
			hi = 0xbf;
		}
		i += more + 1;
	}
	return 0;
}

/* Cuts a comment: a '#' at the start or after a blank. */
static struct span strip_comment(struct span v)
{
	for (size_t i = 0; i < v.n; i++)
		if (v.s[i] == '#' && (i == 0 || is_blank(v.s[i - 1])))
			return span_sub(v, 0, i);
	return v;
}

static void end_section(struct parser *p)
{
	struct config_partition *part = p->part;

	if (p->section == SECTION_PART) {
		for (u32 i = 0; i < ARRAY_SIZE(part_required); i++) {
			u32 key = part_required[i];

			if (!part->key_line[key])
				problem(&p->r, part->line, "partition \"%s\" has no %s", part->name,
					part_keys[key].name);
		}
	}
	p->section = SECTION_NONE;
	p->part = NULL;
}

static bool valid_name(struct span name)
{
	for (size_t i = 0; i < name.n; i++) {
		char ch = name.s[i];

		if (!((ch >= 'a' && ch <= 'z') || is_digit(ch) || ch == '-' || ch == '_'))
			return false;
	}
	return true;
}

static void start_partition(struct parser *p, struct span name)
{
	struct config *c = p->c;
	struct config_partition *part;

	if (name.n > CONFIG_NAME_MAX) {
		problem(&p->r, p->line, "partition name \"%.*s\" is longer than %u characters",
			qlen(name), name.s, CONFIG_NAME_MAX);
		return;
	}
	if (!valid_name(name)) {
		problem(&p->r, p->line, "partition name \"%.*s\": use only a-z 0-9 - _",
			qlen(name), name.s);
		return;
	}
	for (u32 i = 0; i < c->partition_count; i++) {
		if (span_eq(name, c->partitions[i].name)) {
			problem(&p->r, p->line, "partition \"%.*s\" is defined twice (first at line %u)",
				(int)name.n, name.s, c->partitions[i].line);
			return;
		}
	}
	if (c->partition_count == CONFIG_MAX_PARTITIONS) {
		problem(&p->r, p->line, "too many partitions (at most %u)", CONFIG_MAX_PARTITIONS);
		return;
	}
	part = &c->partitions[c->partition_count++];
	memcpy(part->name, name.s, name.n);
	part->name[name.n] = '\0';
	part->line = p->line;
	part->console = CONFIG_CONSOLE_VUART;
	part->on_crash = CONFIG_ACTION_STOP;
	part->on_reboot = CONFIG_ACTION_RESTART;
	p->part = part;
	p->section = SECTION_PART;
}

/* "[hypervisor]" or "[partition NAME]"; s is trimmed and starts with '['. */
static void parse_header(struct parser *p, struct span s)
{
	struct span inner, word, rest;
	size_t blank;

	end_section(p);
	p->section = SECTION_SKIP;
	if (s.n < 2 || s.s[s.n - 1] != ']') {
		problem(&p->r, p->line, "section header without a closing ']'");
		return;
	}
	inner = trim(span_sub(s, 1, s.n - 1));
	blank = 0;
	while (blank < inner.n && !is_blank(inner.s[blank]))
		blank++;
	word = span_sub(inner, 0, blank);
	rest = trim(span_sub(inner, blank, inner.n));
	if (span_eq(word, "hypervisor")) {
		if (rest.n) {
			problem(&p->r, p->line, "[hypervisor] takes no name");
		} else if (p->c->hv.line) {
			problem(&p->r, p->line, "[hypervisor] given twice (first at line %u)",
				p->c->hv.line);
		} else {
			p->c->hv.line = p->line;
			p->section = SECTION_HV;
		}
	} else if (span_eq(word, "partition")) {
		if (!rest.n)
			problem(&p->r, p->line, "[partition] needs a name: [partition NAME]");
		else
			start_partition(p, rest);
	} else {
		problem(&p->r, p->line,
			"unknown section [%.*s]: expected [hypervisor] or [partition NAME]",
			qlen(inner), inner.s);
	}
}

static void parse_key(struct parser *p, struct span s)
{
	const struct key_desc *table, *other, *k;
	const char *sect, *other_sect;
	size_t eq = span_find(s, '='), blank;
	struct span key, value;
	u32 *key_line;
	void *obj;

	switch (p->section) {
	case SECTION_SKIP:
		return;
	case SECTION_NONE:
		problem(&p->r, p->line,
			"outside any section: start with [hypervisor] or [partition NAME]");
		return;
	case SECTION_HV:
		table = hv_keys;
		other = part_keys;
		sect = "[hypervisor]";
		other_sect = "[partition]";
		obj = &p->c->hv;
		key_line = p->c->hv.key_line;
		break;
	case SECTION_PART:
	default:
		table = part_keys;
		other = hv_keys;
		sect = "[partition]";
		other_sect = "[hypervisor]";
		obj = p->part;
		key_line = p->part->key_line;
		break;
	}
	if (eq == s.n) {
		problem(&p->r, p->line, "expected key = value");
		return;
	}
	key = trim(span_sub(s, 0, eq));
	value = trim(span_sub(s, eq + 1, s.n));
	if (!key.n) {
		problem(&p->r, p->line, "expected key = value, found nothing before '='");
		return;
	}
	k = find_key(table, key);
	blank = 0;
	while (blank < key.n && !is_blank(key.s[blank]))
		blank++;
	if (!k && blank < key.n && find_key(table, span_sub(key, 0, blank))) {
		/* "cmdline console=ttyS0": the '=' found belongs to the value */
		problem(&p->r, p->line, "expected '=' after \"%.*s\"", (int)blank, key.s);
		return;
	}
	if (!k) {
		if (find_key(other, key))
			problem(&p->r, p->line, "key \"%.*s\" belongs in %s, not in %s",
				(int)key.n, key.s, other_sect, sect);
		else
			problem(&p->r, p->line, "unknown key \"%.*s\" in %s", qlen(key), key.s,
				sect);
		return;
	}
	if (key_line[k->index]) {
		problem(&p->r, p->line, "%s: given twice (first at line %u)", k->name,
			key_line[k->index]);
		return;
	}
	key_line[k->index] = p->line;
	if (!value.n && !k->allow_empty) {
		problem(&p->r, p->line, "%s: value missing", k->name);
		return;
	}
	k->parse(p, k, obj, value);
}

static void parse_line(struct parser *p, struct span line)
{
	bool control = false;
	size_t col;

	for (size_t i = 0; i < line.n; i++) {
		if (!line.s[i]) {
			problem(&p->r, p->line, "NUL byte at column %u: this is not a text file",
				(u32)i + 1);
			p->r.stop = true;
			return;
		}
	}
	col = check_text(line, &control);
	if (col && control) {
		problem(&p->r, p->line, "control character 0x%x at column %u",
			(u8)line.s[col - 1], (u32)col);
		return;
	}
	if (col) {
		problem(&p->r, p->line, "invalid UTF-8 at column %u: save the file as UTF-8",
			(u32)col);
		return;
	}
	if (line.n > CONFIG_LINE_MAX) {
		problem(&p->r, p->line, "line longer than %u bytes", CONFIG_LINE_MAX);
		return;
	}
	line = trim(strip_comment(line));
	if (!line.n)
		return;
	if (line.s[0] == '[')
		parse_header(p, line);
	else
		parse_key(p, line);
}

static void parse_text(struct reporter *r, struct config *c, const char *text, size_t len)
{
	struct parser p = { .c = c, .section = SECTION_NONE };
	size_t pos = 0;

	p.r = *r;
	memset(c, 0, sizeof(*c));
	c->hv.console = CONFIG_HV_CONSOLE_COM1;
	c->hv.on_idle = CONFIG_IDLE_POWEROFF;
	if (len >= UTF8_BOM_LEN && memcmp(text, UTF8_BOM, UTF8_BOM_LEN) == 0)
		pos = UTF8_BOM_LEN;
	while (pos < len && !p.r.stop) {
		struct span line = { text + pos, 0 };

		while (pos + line.n < len && text[pos + line.n] != '\n')
			line.n++;
		pos += line.n + 1;
		if (line.n && line.s[line.n - 1] == '\r')
			line.n--;
		p.line++;
		parse_line(&p, line);
	}
	end_section(&p);
	*r = p.r;
}

int config_parse(struct config *c, const char *text, size_t len, config_report_fn report,
		 void *ctx)
{
	struct reporter r = { .fn = report, .ctx = ctx };

	parse_text(&r, c, text, len);
	return r.count;
}

/* Validation against the machine */

static void validate_image(struct reporter *r, const struct config_machine *m,
			   const struct config_partition *part, u32 key, const char *name)
{
	u64 size = 0;

	if (!m->find_file || !name[0])
		return;
	if (!m->find_file(m->ctx, name, &size))
		problem(r, part->key_line[key], "%s: no module or file named \"%s\"",
			part_keys[key].name, name);
	else if (!size)
		problem(r, part->key_line[key], "%s: \"%s\" is empty", part_keys[key].name, name);
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
		problem(r, part->key_line[CONFIG_KEY_MEMORY],
			"memory: %s is more than the %s available", asked, avail);
	else
		problem(r, part->key_line[CONFIG_KEY_MEMORY],
			"memory: %s brings the total to %s, more than the %s available", asked,
			sum, avail);
}

static void validate_pci(struct reporter *r, const struct config_machine *m,
			 const struct config_partition *part)
{
	u32 line = part->key_line[CONFIG_KEY_PCI];

	if (!part->pci_count)
		return;
	if (m->iommu == CONFIG_ABSENT) {
		problem(r, line, "pci: needs an IOMMU, and this machine has none");
		return;
	}
	if (!m->have_pci)
		return;
	for (u32 i = 0; i < part->pci_count; i++) {
		const struct config_pci *d = &part->pci[i];

		if (!m->have_pci(m->ctx, d->bus, d->dev, d->fn))
			problem(r, line, "pci: no device %02x:%02x.%x on this machine", d->bus,
				d->dev, d->fn);
	}
}

static void validate_plan(struct reporter *r, const struct config *c,
			  const struct config_machine *m)
{
	u64 total = 0;

	for (u32 i = 0; i < c->partition_count && i < CONFIG_MAX_PARTITIONS; i++) {
		const struct config_partition *part = &c->partitions[i];

		if (m->cpu_count && part->cpu_count) {
			for (u32 cpu = m->cpu_count; cpu < CONFIG_CPU_LIMIT; cpu++) {
				if (config_cpu_isset(part, cpu)) {
					problem(r, part->key_line[CONFIG_KEY_CPUS],
						"cpus: CPU %u does not exist (this machine has %u)",
						cpu, m->cpu_count);
					break;
				}
			}
		}
		validate_memory(r, m, part, &total);
		validate_image(r, m, part, CONFIG_KEY_KERNEL, part->kernel);
		validate_image(r, m, part, CONFIG_KEY_INITRD, part->initrd);
		validate_pci(r, m, part);
	}
}

int config_validate(const struct config *c, const struct config_machine *m,
		    config_report_fn report, void *ctx)
{
	struct reporter r = { .fn = report, .ctx = ctx };

	validate_plan(&r, c, m);
	return r.count;
}

int config_load(struct config *c, const char *text, size_t len,
		const struct config_machine *m, config_report_fn report, void *ctx)
{
	struct reporter r = { .fn = report, .ctx = ctx };

	parse_text(&r, c, text, len);
	validate_plan(&r, c, m);
	return r.count;
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
	struct out o = { buf, size, 0 };
	u32 cpu = 0;

	while (cpu < CONFIG_CPU_LIMIT) {
		u32 last;

		if (!(cpus[cpu / 64] & BIT(cpu % 64))) {
			cpu++;
			continue;
		}
		last = cpu;
		while (last + 1 < CONFIG_CPU_LIMIT && (cpus[(last + 1) / 64] & BIT((last + 1) % 64)))
			last++;
		if (last == cpu)
			out_printf(&o, "%s%u", o.len ? "," : "", cpu);
		else
			out_printf(&o, "%s%u-%u", o.len ? "," : "", cpu, last);
		cpu = last + 1;
	}
	return out_done(&o);
}

int config_format_partition(char *buf, size_t size, const struct config_partition *p)
{
	struct out o = { buf, size, 0 };
	char cpus[48], mem[24];

	config_format_cpus(cpus, sizeof(cpus), p->cpus);
	config_format_size(mem, sizeof(mem), p->memory);
	out_printf(&o, "%s: cpus %s, memory %s, kernel %s", p->name, cpus, mem, p->kernel);
	if (p->initrd[0])
		out_printf(&o, ", initrd %s", p->initrd);
	out_printf(&o, ", console %s", config_part_console_name(p->console));
	for (u32 i = 0; i < p->pci_count && i < CONFIG_MAX_PCI; i++)
		out_printf(&o, "%s%02x:%02x.%x", i ? " " : ", pci ", p->pci[i].bus, p->pci[i].dev,
			   p->pci[i].fn);
	out_printf(&o, ", on_crash %s, on_reboot %s", config_action_name(p->on_crash),
		   config_action_name(p->on_reboot));
	return out_done(&o);
}
