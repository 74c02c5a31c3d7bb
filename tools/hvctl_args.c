/* hvctl's command line (hvctl_args.h). */
#include "tools/hvctl_args.h"

#include <stdio.h>
#include <string.h>

const char hvctl_usage[] =
	"usage: hvctl [--json] COMMAND [ARGS]\n"
	"Manages Tessera's partitions from a partition with manage = yes (SPEC 7).\n"
	"\n"
	"  list                     one line per partition: NAME STATE CPUS MEMORY UPTIME "
	"RESTARTS\n"
	"  start NAME               starts a stopped partition (fresh: RAM zeroed, image "
	"reloaded)\n"
	"  stop NAME [--force]      the ACPI power button, then force after 30 s; --force: at "
	"once\n"
	"  restart NAME [--force]   stop, then start\n"
	"  console NAME [-f]        its recent console output; -f follows new output\n"
	"  stats NAME               exits by reason, interrupts, timer lateness, console loss\n"
	"  info                     the hypervisor's version, the machine, the vendor path\n"
	"\n"
	"  --json                   the same as JSON\n"
	"  --help                   this text\n"
	"\n"
	"Exit status: 0 done, 1 error (unknown partition, not permitted, no control device,\n"
	"another protocol version), 2 usage.\n";

static const struct {
	const char *word;
	enum hvctl_cmd cmd;
	bool takes_name;
} commands[] = {
	{ "list", HVCTL_LIST, false },	    { "start", HVCTL_START, true },
	{ "stop", HVCTL_STOP, true },	    { "restart", HVCTL_RESTART, true },
	{ "console", HVCTL_CONSOLE, true }, { "stats", HVCTL_STATS, true },
	{ "info", HVCTL_INFO, false },
};

static int usage(char *err, size_t size, const char *what, const char *arg)
{
	snprintf(err, size, "%s%s%s", what, arg ? ": " : "", arg ? arg : "");
	return HVCTL_EXIT_USAGE;
}

int hvctl_parse_args(int argc, char *const *argv, struct hvctl_args *a, char *err, size_t size)
{
	const char *words[3];
	int nwords = 0, cmd = -1;
	bool force = false, follow = false, help = false;

	memset(a, 0, sizeof(*a));
	for (int i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (!strcmp(s, "--json"))
			a->json = true;
		else if (!strcmp(s, "--help") || !strcmp(s, "-h"))
			help = true;
		else if (!strcmp(s, "--force"))
			force = true;
		else if (!strcmp(s, "-f") || !strcmp(s, "--follow"))
			follow = true;
		else if (s[0] == '-')
			return usage(err, size, "unknown option", s);
		else if (nwords == 3)
			return usage(err, size, "too many arguments", s);
		else
			words[nwords++] = s;
	}
	if (help) {
		a->cmd = HVCTL_HELP;
		return HVCTL_EXIT_OK;
	}
	if (!nwords)
		return usage(err, size, "no command", NULL);
	for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++)
		if (!strcmp(words[0], commands[c].word))
			cmd = (int)c;
	if (cmd < 0)
		return usage(err, size, "unknown command", words[0]);
	if (commands[cmd].takes_name && nwords != 2)
		return usage(err, size,
			     nwords < 2 ? "a partition name is needed" : "too many arguments",
			     words[0]);
	if (!commands[cmd].takes_name && nwords != 1)
		return usage(err, size, "too many arguments", words[1]);
	a->cmd = commands[cmd].cmd;
	a->name = commands[cmd].takes_name ? words[1] : NULL;
	if (force && a->cmd != HVCTL_STOP && a->cmd != HVCTL_RESTART)
		return usage(err, size, "--force goes with stop and restart only", NULL);
	if (follow && a->cmd != HVCTL_CONSOLE)
		return usage(err, size, "-f goes with console only", NULL);
	a->force = force;
	a->follow = follow;
	return HVCTL_EXIT_OK;
}
