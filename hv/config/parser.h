/*
 * The hv.conf parser: lines, section headers and keys (SPEC.md 3). Each
 * key's value goes to its parser in hv/config/value.c; every problem goes
 * out as it is found and parsing goes on with the next line, so one run
 * shows every problem (up to CONFIG_MAX_ERRORS).
 */
#pragma once

#include "hv/config/config.h"
#include "hv/config/report.h"

enum section {
	SECTION_NONE, /* before the first header */
	SECTION_HV,
	SECTION_PART,
	SECTION_SKIP, /* a bad header: its keys are not checked */
};

/* Where the parser is; what the value parsers report through and check against. */
struct parser {
	struct reporter r;
	struct config *c;
	u32 line;
	enum section section;
	struct config_partition *part; /* of SECTION_PART */
};

/*
 * Parses len bytes of text into *c (cleared first, then given the
 * defaults), reporting through *r, which it updates (count, stop).
 */
void parser_run(struct reporter *r, struct config *c, const char *text, size_t len);
