/*
 * hvctl (SPEC 7, docs/control.md): manages Tessera's partitions from a
 * partition with manage = yes, through its control device: the PCI
 * function CTL_PCI_VENDOR:CTL_PCI_DEVICE, whose registers (BAR 0) and
 * mailbox (BAR 2) it maps from sysfs (resource0, resource2). No kernel
 * driver. Requests are built and responses checked by the hypervisor's
 * own pure code (hv/control/proto.c, text.c); one hvctl at a time talks
 * to the device (flock on its mailbox).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hv/control/proto.h"
#include "hv/control/text.h"
#include "tools/hvctl_args.h"

#define SYSFS_PCI "/sys/bus/pci/devices"
#define POLL_MS 100
#define STOP_WAIT_MS (30000 + 15000) /* the hypervisor forces at 30 s */
#define START_WAIT_MS 15000
#define FOLLOW_MS 250

struct device {
	volatile u32 *regs;
	volatile u8 *mailbox;
};

static u8 resp[CTL_RESP_MAX];
static u32 resp_len;
static const struct hvctl_args *args;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fputs("hvctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(HVCTL_EXIT_ERROR);
}

static unsigned long read_hex(const char *dir, const char *file)
{
	char path[512], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/%s", SYSFS_PCI, dir, file);
	f = fopen(path, "r");
	if (!f)
		return ~0UL;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	return strtoul(buf, NULL, 16);
}

static void *map_bar(const char *dir, int bar, size_t size, int *fd_out)
{
	char path[512];
	void *p;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/resource%d", SYSFS_PCI, dir, bar);
	fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC);
	if (fd < 0)
		fail("%s: %s (hvctl must run as root)", path, strerror(errno));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		fail("%s: cannot map it: %s", path, strerror(errno));
	*fd_out = fd;
	return p;
}

/* The control device, mapped and locked; or why not, and exit 1. */
static void open_device(struct device *d)
{
	DIR *dir = opendir(SYSFS_PCI);
	struct dirent *e;
	char found[256] = "";
	int fd0, fd2;
	u32 magic, version;

	while (dir && (e = readdir(dir))) {
		if (e->d_name[0] == '.')
			continue;
		if (read_hex(e->d_name, "vendor") == CTL_PCI_VENDOR &&
		    read_hex(e->d_name, "device") == CTL_PCI_DEVICE) {
			snprintf(found, sizeof(found), "%s", e->d_name);
			break;
		}
	}
	if (dir)
		closedir(dir);
	if (!found[0])
		fail("no control device here: only a partition with manage = yes in hv.conf can "
		     "manage the others (or this is not a Tessera partition)");
	d->regs = map_bar(found, CTL_REGS_BAR, CTL_REGS_SIZE, &fd0);
	d->mailbox = map_bar(found, CTL_MAILBOX_BAR, CTL_MAILBOX_SIZE, &fd2);
	magic = d->regs[CTL_REG_MAGIC / 4];
	version = d->regs[CTL_REG_VERSION / 4];
	if (magic != CTL_DEV_MAGIC)
		fail("%s is not a Tessera control device (magic %#x)", found, magic);
	if (version != CTL_VERSION)
		fail("the hypervisor speaks control protocol version %u, this hvctl version %u: "
		     "use the hvctl of the hypervisor's release",
		     version, CTL_VERSION);
	if (flock(fd2, LOCK_EX))
		fail("cannot lock the control device: %s", strerror(errno));
}

/* One request; the response in resp (checked). */
static void call(struct device *d, u32 op, const char *name, u32 flags, u64 offset)
{
	struct ctl_request r;
	const struct ctl_response *h = (const void *)resp;
	u32 len;

	ctl_request_init(&r, op, name, flags, offset);
	for (size_t i = 0; i < sizeof(r); i++)
		d->mailbox[i] = ((const u8 *)&r)[i];
	__sync_synchronize();
	d->regs[CTL_REG_DOORBELL / 4] = sizeof(r);
	__sync_synchronize();
	len = d->regs[CTL_REG_RESULT / 4];
	if (len > CTL_RESP_MAX)
		fail("the hypervisor's response is too long (%u bytes)", len);
	for (u32 i = 0; i < len; i++)
		resp[i] = d->mailbox[CTL_RESP_OFFSET + i];
	resp_len = len;
	if (!ctl_response_ok(resp, len))
		fail("the hypervisor's response is malformed");
	if (h->status == CTL_E_VERSION)
		fail("the hypervisor does not speak control protocol version %u", CTL_VERSION);
	if (h->status != CTL_OK) {
		if (name)
			fail("%s: %s", name, ctl_status_text(h->status));
		fail("%s", ctl_status_text(h->status));
	}
}

static const void *body(void)
{
	return resp + sizeof(struct ctl_response);
}

static void print_line(void *ctx, const char *line)
{
	(void)ctx;
	puts(line);
}

/* --- JSON ----------------------------------------------------------------- */

static void json_string(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_info(const struct ctl_info *i)
{
	printf("{\"version\":");
	json_string(i->version, sizeof(i->version));
	printf(",\"protocol\":%u,\"vendor\":", CTL_VERSION);
	json_string(i->vendor, sizeof(i->vendor));
	printf(",\"slat\":");
	json_string(i->slat, sizeof(i->slat));
	printf(",\"iommu\":");
	json_string(i->iommu, sizeof(i->iommu));
	printf(",\"cpus\":%u,\"ram_bytes\":%lu,\"free_bytes\":%lu,\"partitions\":%u}\n", i->cpus,
	       (unsigned long)i->ram_bytes, (unsigned long)i->free_bytes, i->partitions);
}

static void json_list(const struct ctl_list *l)
{
	printf("{\"partitions\":[");
	for (u32 i = 0; i < l->count; i++) {
		const struct ctl_part *p = &l->part[i];

		printf("%s{\"name\":", i ? "," : "");
		json_string(p->name, sizeof(p->name));
		printf(",\"state\":\"%s\",\"cpus\":", ctl_state_name(p->state));
		json_string(p->cpus, sizeof(p->cpus));
		printf(",\"vcpus\":%u,\"memory\":%lu,\"uptime_ms\":%lu,\"restarts\":%u,"
		       "\"manage\":%s,\"autostart\":%s,\"self\":%s}",
		       p->vcpus, (unsigned long)p->memory, (unsigned long)p->uptime_ms, p->restarts,
		       p->flags & CTL_PART_MANAGE ? "true" : "false",
		       p->flags & CTL_PART_AUTOSTART ? "true" : "false",
		       p->flags & CTL_PART_SELF ? "true" : "false");
	}
	printf("]}\n");
}

static void json_stats(const struct ctl_stats *s)
{
	printf("{\"name\":");
	json_string(s->name, sizeof(s->name));
	printf(",\"state\":\"%s\",\"uptime_ms\":%lu,\"restarts\":%u,\"exits\":{",
	       ctl_state_name(s->state), (unsigned long)s->uptime_ms, s->restarts);
	for (u32 i = 0; i < s->exit_count; i++) {
		printf("%s", i ? "," : "");
		json_string(s->exit[i].reason, sizeof(s->exit[i].reason));
		printf(":%lu", (unsigned long)s->exit[i].count);
	}
	printf("},\"irqs_injected\":%lu,\"exceptions_injected\":%lu,\"timer_fired\":%lu,"
	       "\"timer_late_avg_us\":%lu,\"timer_late_max_us\":%lu,\"console_bytes\":%lu,"
	       "\"console_overwritten\":%lu,\"console_input_lost\":%lu,\"open_bus\":%lu}\n",
	       (unsigned long)s->irqs_injected, (unsigned long)s->exceptions_injected,
	       (unsigned long)s->timer_fired, (unsigned long)s->timer_late_avg_us,
	       (unsigned long)s->timer_late_max_us, (unsigned long)s->console_bytes,
	       (unsigned long)s->console_overwritten, (unsigned long)s->console_input_lost,
	       (unsigned long)s->open_bus);
}

/* --- commands ----------------------------------------------------------- */

static void sleep_ms(long ms)
{
	struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* NAME's entry of a fresh list. */
static struct ctl_part entry(struct device *d, const char *name)
{
	const struct ctl_list *l;

	call(d, CTL_OP_LIST, NULL, 0, 0);
	l = body();
	for (u32 i = 0; i < l->count; i++)
		if (!strncmp(l->part[i].name, name, sizeof(l->part[i].name)))
			return l->part[i];
	fail("%s: %s", name, ctl_status_text(CTL_E_NO_PARTITION));
}

static void done(const char *name, const char *what)
{
	if (args->json) {
		printf("{\"name\":");
		json_string(name, strlen(name));
		printf(",\"result\":\"%s\"}\n", what);
	} else {
		printf("%s %s\n", name, what);
	}
}

/* Until NAME is in state want (and, with restarts, restarted); exit 1 after ms. */
static void wait_for(struct device *d, const char *name, u32 want, u32 restarts, long ms)
{
	for (long t = 0; t <= ms; t += POLL_MS) {
		struct ctl_part p = entry(d, name);

		if (p.state == want && p.restarts >= restarts)
			return;
		sleep_ms(POLL_MS);
	}
	fail("%s: still not %s after %ld s", name, ctl_state_name(want), ms / 1000);
}

static void cmd_lifecycle(struct device *d, const char *name)
{
	struct ctl_part before = entry(d, name);
	u32 flags = args->force ? CTL_F_FORCE : 0;

	switch (args->cmd) {
	case HVCTL_START:
		call(d, CTL_OP_START, name, 0, 0);
		wait_for(d, name, CTL_STATE_RUNNING, 0, START_WAIT_MS);
		done(name, "started");
		break;
	case HVCTL_STOP:
		call(d, CTL_OP_STOP, name, flags, 0);
		if (before.flags & CTL_PART_SELF)
			return; /* stopping with us */
		wait_for(d, name, CTL_STATE_STOPPED, 0, STOP_WAIT_MS);
		done(name, "stopped");
		break;
	default:
		call(d, CTL_OP_RESTART, name, flags, 0);
		if (before.flags & CTL_PART_SELF)
			return;
		/* a stopped one was started, a running one is restarted (counted) */
		wait_for(d, name, CTL_STATE_RUNNING,
			 before.state == CTL_STATE_STOPPED ? 0 : before.restarts + 1,
			 STOP_WAIT_MS + START_WAIT_MS);
		done(name, "restarted");
		break;
	}
}

/* The recent output; with -f, then what follows, until interrupted. */
static void cmd_console(struct device *d, const char *name)
{
	u64 pos = 0;

	for (bool first = true;; first = false) {
		const struct ctl_console *c;

		call(d, CTL_OP_CONSOLE, name, 0, pos);
		c = body();
		if (c->lost && !first) {
			fflush(stdout);
			fprintf(stderr,
				"hvctl: %s: %lu bytes of its output lost (its ring overflowed)\n",
				name, (unsigned long)c->lost);
		}
		if (args->json && (c->length || !args->follow)) {
			printf("{\"name\":");
			json_string(name, strlen(name));
			printf(",\"start\":%lu,\"end\":%lu,\"lost\":%lu,\"data\":",
			       (unsigned long)c->start, (unsigned long)c->end,
			       (unsigned long)c->lost);
			putchar('"');
			for (u32 i = 0; i < c->length; i++) {
				u8 b = c->data[i];

				if (b == '"' || b == '\\')
					printf("\\%c", b);
				else if (b < 0x20 || b >= 0x7f)
					printf("\\u%04x", b);
				else
					putchar(b);
			}
			printf("\"}\n");
		} else {
			fwrite(c->data, 1, c->length, stdout);
		}
		pos = c->end;
		if (c->length) /* more may be waiting in the ring */
			continue;
		if (!args->follow)
			return;
		fflush(stdout);
		sleep_ms(FOLLOW_MS);
	}
}

static void cmd_show(struct device *d, u32 op, const char *name)
{
	call(d, op, name, 0, 0);
	if (!args->json) {
		if (!ctl_text(resp, resp_len, print_line, NULL))
			fail("the hypervisor's response is malformed");
		return;
	}
	if (op == CTL_OP_INFO)
		json_info(body());
	else if (op == CTL_OP_LIST)
		json_list(body());
	else
		json_stats(body());
}

int main(int argc, char **argv)
{
	static struct hvctl_args a;
	struct device d;
	char err[160];

	if (hvctl_parse_args(argc, argv, &a, err, sizeof(err))) {
		fprintf(stderr, "hvctl: %s\n%s", err, hvctl_usage);
		return HVCTL_EXIT_USAGE;
	}
	args = &a;
	if (a.cmd == HVCTL_HELP) {
		fputs(hvctl_usage, stdout);
		return HVCTL_EXIT_OK;
	}
	signal(SIGPIPE, SIG_DFL);
	open_device(&d);
	switch (a.cmd) {
	case HVCTL_LIST:
		cmd_show(&d, CTL_OP_LIST, NULL);
		break;
	case HVCTL_INFO:
		cmd_show(&d, CTL_OP_INFO, NULL);
		break;
	case HVCTL_STATS:
		cmd_show(&d, CTL_OP_STATS, a.name);
		break;
	case HVCTL_CONSOLE:
		cmd_console(&d, a.name);
		break;
	default:
		cmd_lifecycle(&d, a.name);
		break;
	}
	return fflush(stdout) ? HVCTL_EXIT_ERROR : HVCTL_EXIT_OK;
}
