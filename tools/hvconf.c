/*
 * hvconf: checks a hv.conf on the host with the hypervisor's own parser
 * (hv/config/), so it prints the very lines the hypervisor would print on
 * its console after "hv: " (SPEC.md 3):
 *
 *   hvconf check FILE [--cpus N] [--memory SIZE] [--iommu yes|no]
 *                     [--no-files] [--plan]
 *
 * Problems go to stdout as "hv.conf:LINE: MESSAGE", one per line, and the
 * exit status is 1. A good file gives one summary line and status 0 (with
 * --plan, also one line per partition). Usage errors give status 2.
 *
 * Without --cpus, --memory or --iommu, the machine is unknown and the checks
 * that need it are skipped. Images (kernel, initrd) are looked for in the
 * directory of FILE, as the UEFI front-end and the ISO find them, unless
 * --no-files is given.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "hv/config/config.h"

#define EXIT_PROBLEMS 1
#define EXIT_USAGE 2
#define FILE_SIZE_MAX (16 * MiB)
#define CPUS_ARG_MAX 100000
#define PATH_BYTES 4096

static const char usage_line[] =
	"usage: hvconf check FILE [--cpus N] [--memory SIZE] [--iommu yes|no] "
	"[--no-files] [--plan]\n";

struct check_args {
	const char *file;
	struct config_machine machine;
	bool no_files;
	bool plan;
	char dir[PATH_BYTES];
};

static int usage(const char *why)
{
	if (why)
		fprintf(stderr, "hvconf: %s\n", why);
	fputs(usage_line, stderr);
	return EXIT_USAGE;
}

static void print_problem(void *ctx, u32 line, const char *msg)
{
	char buf[CONFIG_MSG_MAX + 32];

	(void)ctx;
	config_format_report(buf, sizeof(buf), line, msg);
	puts(buf);
}

/* Images live next to the configuration. */
static bool find_file(void *ctx, const char *name, u64 *size)
{
	const struct check_args *a = ctx;
	char path[PATH_BYTES];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", a->dir, name) >= (int)sizeof(path))
		return false;
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return false;
	*size = (u64)st.st_size;
	return true;
}

static void set_dir(struct check_args *a)
{
	const char *slash = strrchr(a->file, '/');

	if (!slash)
		snprintf(a->dir, sizeof(a->dir), ".");
	else if (slash == a->file)
		snprintf(a->dir, sizeof(a->dir), "/");
	else
		snprintf(a->dir, sizeof(a->dir), "%.*s", (int)(slash - a->file), a->file);
}

static int parse_args(int argc, char **argv, struct check_args *a)
{
	for (int i = 2; i < argc; i++) {
		const char *arg = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(arg, "--no-files")) {
			a->no_files = true;
		} else if (!strcmp(arg, "--plan")) {
			a->plan = true;
		} else if (!strcmp(arg, "--cpus")) {
			char *end;
			long n;

			if (!val)
				return usage("--cpus needs a number");
			errno = 0;
			n = strtol(val, &end, 10);
			if (errno || *end || end == val || n < 1 || n > CPUS_ARG_MAX)
				return usage("--cpus: expected a number of CPUs, like 4");
			a->machine.cpu_count = (u32)n;
			i++;
		} else if (!strcmp(arg, "--memory")) {
			if (!val)
				return usage("--memory needs a size");
			if (!config_parse_size(val, strlen(val), &a->machine.ram_bytes) ||
			    !a->machine.ram_bytes)
				return usage("--memory: expected a size with K, M or G, like 2G");
			i++;
		} else if (!strcmp(arg, "--iommu")) {
			if (val && !strcmp(val, "yes"))
				a->machine.iommu = CONFIG_PRESENT;
			else if (val && !strcmp(val, "no"))
				a->machine.iommu = CONFIG_ABSENT;
			else
				return usage("--iommu takes yes or no");
			i++;
		} else if (arg[0] == '-' && arg[1]) {
			fprintf(stderr, "hvconf: unknown option %s\n", arg);
			return usage(NULL);
		} else if (!a->file) {
			a->file = arg;
		} else {
			return usage("one FILE only");
		}
	}
	if (!a->file)
		return usage("FILE missing");
	return 0;
}

/* The whole file, NUL bytes and all; NULL after printing why. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (!f) {
		fprintf(stderr, "hvconf: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf = malloc(FILE_SIZE_MAX + 1);
	if (!buf) {
		fclose(f);
		fprintf(stderr, "hvconf: out of memory\n");
		return NULL;
	}
	n = fread(buf, 1, FILE_SIZE_MAX + 1, f);
	if (ferror(f) || n > FILE_SIZE_MAX) {
		fprintf(stderr, "hvconf: %s: %s\n", path,
			ferror(f) ? strerror(errno) : "larger than 16M: not a configuration");
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

static void print_summary(const struct check_args *a, const struct config *c)
{
	u32 cpus = 0;
	u64 memory = 0;
	char size[24];

	if (!c->partition_count) {
		printf("%s: OK: no partitions (on_idle = %s)\n", a->file,
		       config_on_idle_name(c->hv.on_idle));
	} else {
		for (u32 i = 0; i < c->partition_count; i++) {
			cpus += c->partitions[i].cpu_count;
			memory += c->partitions[i].memory;
		}
		config_format_size(size, sizeof(size), memory);
		printf("%s: OK: %u partition%s, %u CPU%s, %s of memory\n", a->file,
		       c->partition_count, c->partition_count == 1 ? "" : "s", cpus,
		       cpus == 1 ? "" : "s", size);
	}
	if (!a->plan)
		return;
	printf("hypervisor: console %s, on_idle %s%s\n", config_hv_console_name(c->hv.console),
	       config_on_idle_name(c->hv.on_idle),
	       c->hv.allow_shared_cores ? ", allow_shared_cores yes" : "");
	for (u32 i = 0; i < c->partition_count; i++) {
		char line[512];

		config_format_partition(line, sizeof(line), &c->partitions[i]);
		printf("partition %s\n", line);
		if (c->partitions[i].cmdline[0])
			printf("partition %s: cmdline %s\n", c->partitions[i].name,
			       c->partitions[i].cmdline);
	}
}

static int check(int argc, char **argv)
{
	static struct check_args a;
	static struct config c;
	char *text;
	size_t len;
	int problems;

	int rc = parse_args(argc, argv, &a);

	if (rc)
		return rc;
	set_dir(&a);
	if (!a.no_files)
		a.machine.find_file = find_file;
	a.machine.ctx = &a;
	text = read_file(a.file, &len);
	if (!text)
		return EXIT_PROBLEMS;
	problems = config_load(&c, text, len, &a.machine, print_problem, NULL);
	free(text);
	if (problems)
		return EXIT_PROBLEMS;
	print_summary(&a, &c);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage(NULL);
	if (!strcmp(argv[1], "check"))
		return check(argc, argv);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_line, stdout);
		return 0;
	}
	fprintf(stderr, "hvconf: unknown command %s\n", argv[1]);
	return usage(NULL);
}
