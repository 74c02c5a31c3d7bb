/*
 * The keys of hv.conf, one table per section, each key with the parser of
 * its value: names from a list, CPU lists, sizes, image names, the command
 * line, PCI addresses (SPEC.md 3). A value parser stores what it parsed in
 * the section's struct, or reports a problem and leaves the field as it was.
 */
#pragma once

#include "hv/config/config.h"
#include "hv/config/text.h"

struct parser;

/* A value with a name in hv.conf. Tables end with a NULL name. */
struct choice {
	const char *name;
	u32 value;
};

extern const struct choice value_hv_console_choices[];
extern const struct choice value_on_idle_choices[];
extern const struct choice value_part_console_choices[];
extern const struct choice value_on_crash_choices[];
extern const struct choice value_on_reboot_choices[];
extern const struct choice value_yes_no_choices[];

struct key_desc;
typedef void (*key_parse_fn)(struct parser *p, const struct key_desc *k, void *obj, struct span v);

struct key_desc {
	const char *name;
	u32 index; /* into key_line[] */
	key_parse_fn parse;
	bool allow_empty;
	size_t offset; /* of the field in the section's struct */
	size_t size;   /* of that field, for strings */
	const struct choice *choices;
};

/*
 * The keys of [hypervisor] and [partition NAME], each table ending with a
 * NULL name. value_part_keys[] is in enum config_part_key order:
 * value_part_keys[key].name is a key's name.
 */
extern const struct key_desc value_hv_keys[];
extern const struct key_desc value_part_keys[];

enum size_status {
	SIZE_OK,
	SIZE_SYNTAX,
	SIZE_NO_UNIT,
	SIZE_TOO_BIG,
};

/* A module or file name (kernel, initrd, disk) into obj + k->offset, at
 * most k->size - 1 characters; reports why not, leaving it unchanged. */
void value_parse_image(struct parser *p, const struct key_desc *k, void *obj, struct span v);

/* A size with a K, M or G suffix, at most CONFIG_SIZE_MAX. */
enum size_status value_parse_size(struct span v, u64 *bytes);
