/* AMD nested paging: the entry format of the second-level walker (hv/ept/npt.c). */
#pragma once

#include "hv/ept/slat.h"

extern const struct slat_format slat_fmt_npt; /* APM 2 15.25 */
