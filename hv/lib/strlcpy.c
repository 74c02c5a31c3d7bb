/* hv_strlcpy: shared by the image and host builds (libc has no strlcpy here). */
#include "hv/lib/strlcpy.h"
#include "hv/lib/lib.h"

size_t hv_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;

		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
