/*
 * Problems found in hv.conf go out through the caller's config_report_fn
 * (hv/config/config.h) as they are found, up to CONFIG_MAX_ERRORS of them,
 * then one "too many problems" line and silence.
 */
#pragma once

#include "hv/config/config.h"

struct reporter {
	config_report_fn fn;
	void *ctx;
	int count;
	bool stop;
};

/* One problem at line (1-based), printf-style, counted against the budget. */
void report_problem(struct reporter *r, u32 line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
