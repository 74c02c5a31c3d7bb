/*
 * The hv.conf parser (see hv/config/parser.h): lines, sections, keys.
 */
#include "hv/config/parser.h"
#include "hv/config/text.h"
#include "hv/config/value.h"
#include "hv/lib/lib.h"

#define UTF8_BOM "\xef\xbb\xbf"
#define UTF8_BOM_LEN 3

/* Keys a partition cannot do without, checked when its section ends. */
static const u32 part_required[] = { CONFIG_KEY_CPUS, CONFIG_KEY_MEMORY, CONFIG_KEY_KERNEL };

static const struct key_desc *find_key(const struct key_desc *table, struct span name)
{
	for (; table->name; table++)
		if (span_eq(name, table->name))
			return table;
	return NULL;
}

static void end_section(struct parser *p)
{
	struct config_partition *part = p->part;

	if (p->section == SECTION_PART) {
		for (u32 i = 0; i < ARRAY_SIZE(part_required); i++) {
			u32 key = part_required[i];

			if (!part->key_line[key])
				report_problem(&p->r, part->line, "partition \"%s\" has no %s",
					       part->name, value_part_keys[key].name);
		}
	}
	p->section = SECTION_NONE;
	p->part = NULL;
}

static void start_partition(struct parser *p, struct span name)
{
	struct config *c = p->c;
	struct config_partition *part;

	if (name.n > CONFIG_NAME_MAX) {
		report_problem(&p->r, p->line,
			       "partition name \"%.*s\" is longer than %u characters",
			       span_qlen(name), name.s, CONFIG_NAME_MAX);
		return;
	}
	if (!span_is_name(name, CONFIG_NAME_MAX)) {
		report_problem(&p->r, p->line, "partition name \"%.*s\": use only a-z 0-9 - _",
			       span_qlen(name), name.s);
		return;
	}
	for (u32 i = 0; i < c->partition_count; i++) {
		if (span_eq(name, c->partitions[i].name)) {
			report_problem(&p->r, p->line,
				       "partition \"%.*s\" is defined twice (first at line %u)",
				       (int)name.n, name.s, c->partitions[i].line);
			return;
		}
	}
	if (c->partition_count == CONFIG_MAX_PARTITIONS) {
		report_problem(&p->r, p->line, "too many partitions (at most %u)",
			       CONFIG_MAX_PARTITIONS);
		return;
	}
	part = &c->partitions[c->partition_count++];
	memcpy(part->name, name.s, name.n);
	part->name[name.n] = '\0';
	part->line = p->line;
	part->console = CONFIG_CONSOLE_VUART;
	part->on_crash = CONFIG_ACTION_STOP;
	part->on_reboot = CONFIG_ACTION_RESTART;
	part->autostart = 1;
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
		report_problem(&p->r, p->line, "section header without a closing ']'");
		return;
	}
	inner = span_trim(span_sub(s, 1, s.n - 1));
	blank = 0;
	while (blank < inner.n && !text_is_blank(inner.s[blank]))
		blank++;
	word = span_sub(inner, 0, blank);
	rest = span_trim(span_sub(inner, blank, inner.n));
	if (span_eq(word, "hypervisor")) {
		if (rest.n) {
			report_problem(&p->r, p->line, "[hypervisor] takes no name");
		} else if (p->c->hv.line) {
			report_problem(&p->r, p->line,
				       "[hypervisor] given twice (first at line %u)",
				       p->c->hv.line);
		} else {
			p->c->hv.line = p->line;
			p->section = SECTION_HV;
		}
	} else if (span_eq(word, "partition")) {
		if (!rest.n)
			report_problem(&p->r, p->line,
				       "[partition] needs a name: [partition NAME]");
		else
			start_partition(p, rest);
	} else {
		report_problem(&p->r, p->line,
			       "unknown section [%.*s]: expected [hypervisor] or [partition NAME]",
			       span_qlen(inner), inner.s);
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
		report_problem(&p->r, p->line,
			       "outside any section: start with [hypervisor] or [partition NAME]");
		return;
	case SECTION_HV:
		table = value_hv_keys;
		other = value_part_keys;
		sect = "[hypervisor]";
		other_sect = "[partition]";
		obj = &p->c->hv;
		key_line = p->c->hv.key_line;
		break;
	case SECTION_PART:
	default:
		table = value_part_keys;
		other = value_hv_keys;
		sect = "[partition]";
		other_sect = "[hypervisor]";
		obj = p->part;
		key_line = p->part->key_line;
		break;
	}
	if (eq == s.n) {
		report_problem(&p->r, p->line, "expected key = value");
		return;
	}
	key = span_trim(span_sub(s, 0, eq));
	value = span_trim(span_sub(s, eq + 1, s.n));
	if (!key.n) {
		report_problem(&p->r, p->line, "expected key = value, found nothing before '='");
		return;
	}
	k = find_key(table, key);
	blank = 0;
	while (blank < key.n && !text_is_blank(key.s[blank]))
		blank++;
	if (!k && blank < key.n && find_key(table, span_sub(key, 0, blank))) {
		/* "cmdline console=ttyS0": the '=' found belongs to the value */
		report_problem(&p->r, p->line, "expected '=' after \"%.*s\"", (int)blank, key.s);
		return;
	}
	if (!k) {
		if (find_key(other, key))
			report_problem(&p->r, p->line, "key \"%.*s\" belongs in %s, not in %s",
				       (int)key.n, key.s, other_sect, sect);
		else
			report_problem(&p->r, p->line, "unknown key \"%.*s\" in %s", span_qlen(key),
				       key.s, sect);
		return;
	}
	if (key_line[k->index]) {
		report_problem(&p->r, p->line, "%s: given twice (first at line %u)", k->name,
			       key_line[k->index]);
		return;
	}
	key_line[k->index] = p->line;
	if (!value.n && !k->allow_empty) {
		report_problem(&p->r, p->line, "%s: value missing", k->name);
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
			report_problem(&p->r, p->line,
				       "NUL byte at column %u: this is not a text file",
				       (u32)i + 1);
			p->r.stop = true;
			return;
		}
	}
	col = text_check(line, &control);
	if (col && control) {
		report_problem(&p->r, p->line, "control character 0x%x at column %u",
			       (u8)line.s[col - 1], (u32)col);
		return;
	}
	if (col) {
		report_problem(&p->r, p->line, "invalid UTF-8 at column %u: save the file as UTF-8",
			       (u32)col);
		return;
	}
	if (line.n > CONFIG_LINE_MAX) {
		report_problem(&p->r, p->line, "line longer than %u bytes", CONFIG_LINE_MAX);
		return;
	}
	line = span_trim(text_strip_comment(line));
	if (!line.n)
		return;
	if (line.s[0] == '[')
		parse_header(p, line);
	else
		parse_key(p, line);
}

void parser_run(struct reporter *r, struct config *c, const char *text, size_t len)
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
