/*
 * Problems in hv.conf, one call of the caller's report function each (see
 * hv/config/report.h).
 */
#include "hv/config/report.h"
#include "hv/lib/lib.h"

void report_problem(struct reporter *r, u32 line, const char *fmt, ...)
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
