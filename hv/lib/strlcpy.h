/* hv_strlcpy: shared by the image and host builds (libc has no strlcpy here). */
#pragma once

#include <stddef.h>

/* Copies at most size-1 bytes and always terminates; returns strlen(src). */
size_t hv_strlcpy(char *dst, const char *src, size_t size);
