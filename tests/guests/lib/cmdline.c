/* key=value words of the Multiboot command line. */
#include "cmdline.h"
#include "guest.h"
#include "lib.h"
#include "multiboot.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool cmdline_get(const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);
	const char *s = mb.cmdline;
	bool found = false;

	while (*s) {
		const char *w;

		while (is_space(*s))
			s++;
		w = s;
		while (*s && !is_space(*s))
			s++;
		if ((size_t)(s - w) > klen && !strncmp(w, key, klen) && w[klen] == '=') {
			size_t n = 0;

			for (const char *v = w + klen + 1; v < s && n + 1 < size; v++)
				buf[n++] = *v;
			if (size)
				buf[n] = '\0';
			found = true; /* keep going: the last word wins */
		}
	}
	return found;
}

bool cmdline_has(const char *key)
{
	char v[CMDLINE_VALUE_MAX];

	return cmdline_get(key, v, sizeof(v));
}

static u64 cmdline_number(const char *key, u64 def, size_t (*parse)(const char *, u64 *))
{
	char v[CMDLINE_VALUE_MAX];
	u64 n;

	if (!cmdline_get(key, v, sizeof(v)))
		return def;
	if (!v[0] || parse(v, &n) != strlen(v))
		guest_fail("cmdline: %s=%s is not a number", key, v);
	return n;
}

u64 cmdline_u64(const char *key, u64 def)
{
	return cmdline_number(key, def, parse_u64);
}

u64 cmdline_size(const char *key, u64 def)
{
	return cmdline_number(key, def, parse_size);
}

bool cmdline_flag(const char *key)
{
	char v[CMDLINE_VALUE_MAX];

	if (!cmdline_get(key, v, sizeof(v)))
		return false;
	return !strncmp(v, "1", 2) || !strncmp(v, "yes", 4) || !strncmp(v, "true", 5);
}
