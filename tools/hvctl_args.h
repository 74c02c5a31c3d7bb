/* hvctl's command line (SPEC 7): pure, unit-tested (tests/unit/test_hvctl_args.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define HVCTL_EXIT_OK 0
#define HVCTL_EXIT_ERROR 1 /* unknown partition, not permitted, no device, version */
#define HVCTL_EXIT_USAGE 2

enum hvctl_cmd {
	HVCTL_HELP,
	HVCTL_LIST,
	HVCTL_START,
	HVCTL_STOP,
	HVCTL_RESTART,
	HVCTL_CONSOLE,
	HVCTL_STATS,
	HVCTL_INFO,
};

struct hvctl_args {
	enum hvctl_cmd cmd;
	const char *name; /* the partition, for the commands that take one */
	bool force;	  /* stop, restart: --force */
	bool follow;	  /* console: -f */
	bool json;	  /* --json */
};

/* HVCTL_EXIT_OK and *a, or HVCTL_EXIT_USAGE with why in err. */
int hvctl_parse_args(int argc, char *const *argv, struct hvctl_args *a, char *err, size_t size);

/* The usage text, for --help and after a usage error. */
extern const char hvctl_usage[];
