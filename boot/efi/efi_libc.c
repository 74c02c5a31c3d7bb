/*
 * The few C library functions the shared boot code (boot/boot_info.c,
 * hv/lib/strlcpy.c, conf_files.c) needs in hv.efi that gnu-efi's libefi lacks
 * (libefi brings memcpy and memset).
 */
#include "hv/lib/lib.h"

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const u8 *x = a, *y = b;

	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}
