/*
 * hv.conf: the entry points (see hv/config/config.h). Parsing is in
 * parser.c and value.c, the checks against the machine in validate.c; all
 * of them report through one struct reporter, so that config_load shares
 * one CONFIG_MAX_ERRORS budget between parsing and validation.
 */
#include "hv/config/config.h"
#include "hv/config/parser.h"
#include "hv/config/validate.h"
#include "hv/config/value.h"
#include "hv/lib/lib.h"

int config_parse(struct config *c, const char *text, size_t len, config_report_fn report, void *ctx)
{
	struct reporter r = { .fn = report, .ctx = ctx };

	parser_run(&r, c, text, len);
	return r.count;
}

int config_validate(const struct config *c, const struct config_machine *m, config_report_fn report,
		    void *ctx)
{
	struct reporter r = { .fn = report, .ctx = ctx };

	validate_plan(&r, c, m);
	return r.count;
}

int config_load(struct config *c, const char *text, size_t len, const struct config_machine *m,
		config_report_fn report, void *ctx)
{
	struct reporter r = { .fn = report, .ctx = ctx };

	parser_run(&r, c, text, len);
	validate_plan(&r, c, m);
	return r.count;
}

bool config_parse_size(const char *s, size_t len, u64 *bytes)
{
	struct span v = { s, len };

	return value_parse_size(v, bytes) == SIZE_OK;
}
