/* The file names in hv.conf (SPEC.md 3): a scan, not a parse. */
#include "boot/efi/conf_files.h"
#include "hv/lib/lib.h"

/* A UTF-8 byte order mark, which some editors put at the start of a file. */
static const char utf8_bom[] = "\xef\xbb\xbf";

static const char *const file_keys[] = { "kernel", "initrd" };

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Trims blanks from both ends of [*start, *end). */
static void trim(const char **start, const char **end)
{
	while (*start < *end && is_blank(**start))
		(*start)++;
	while (*end > *start && is_blank((*end)[-1]))
		(*end)--;
}

static bool word_equals(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && !memcmp(s, word, n);
}

static bool is_file_key(const char *key, size_t n)
{
	for (size_t i = 0; i < ARRAY_SIZE(file_keys); i++)
		if (word_equals(key, n, file_keys[i]))
			return true;
	return false;
}

static void add_name(struct conf_file_list *out, const char *name, size_t n)
{
	for (u32 i = 0; i < out->count; i++)
		if (word_equals(name, n, out->names[i]))
			return;
	if (n >= BOOT_NAME_MAX || out->count >= CONF_FILES_MAX) {
		out->dropped++;
		return;
	}
	memcpy(out->names[out->count], name, n);
	out->names[out->count][n] = '\0';
	out->count++;
}

/* The first c in [s, end), or NULL (hv/lib/lib.h has no memchr). */
static const char *find_char(const char *s, const char *end, char c)
{
	for (; s < end; s++)
		if (*s == c)
			return s;
	return NULL;
}

static void scan_line(struct conf_file_list *out, const char *line, const char *end)
{
	const char *hash = find_char(line, end, '#');
	const char *eq, *key_end, *value;

	if (hash)
		end = hash;
	eq = find_char(line, end, '=');
	if (!eq)
		return; /* blank, comment, [section] or malformed */
	key_end = eq;
	trim(&line, &key_end);
	if (!is_file_key(line, (size_t)(key_end - line)))
		return;
	value = eq + 1;
	trim(&value, &end);
	if (value < end)
		add_name(out, value, (size_t)(end - value));
}

void conf_files_scan(const char *text, size_t len, struct conf_file_list *out)
{
	const char *p = text, *end = text + len;

	out->count = 0;
	out->dropped = 0;
	if (len >= sizeof(utf8_bom) - 1 && !memcmp(p, utf8_bom, sizeof(utf8_bom) - 1))
		p += sizeof(utf8_bom) - 1;
	while (p < end) {
		const char *nl = find_char(p, end, '\n');
		const char *line_end = nl ? nl : end;

		scan_line(out, p, line_end);
		p = nl ? nl + 1 : end;
	}
}
