/* Control responses as text (text.h). */
#include "hv/control/text.h"
#include "hv/lib/lib.h"

#define MS_PER_S 1000
#define EXITS_PER_LINE 5

static u32 body_len(const struct ctl_response *h)
{
	return h->length - (u32)sizeof(*h);
}

bool ctl_response_ok(const void *resp, u32 len)
{
	const struct ctl_response *h = resp;
	const void *body = h + 1;
	u32 n;

	if (len < sizeof(*h) || h->magic != CTL_RESP_MAGIC || h->version != CTL_VERSION ||
	    h->length != len)
		return false;
	n = body_len(h);
	if (h->status != CTL_OK)
		return n == 0 && h->status < CTL_E_COUNT;
	switch (h->op) {
	case CTL_OP_INFO:
		return n == sizeof(struct ctl_info);
	case CTL_OP_LIST:
		return n >= sizeof(struct ctl_list) &&
		       ((const struct ctl_list *)body)->count <=
			       CTL_RESP_MAX / sizeof(struct ctl_part) &&
		       n == sizeof(struct ctl_list) + ((const struct ctl_list *)body)->count *
							      sizeof(struct ctl_part);
	case CTL_OP_STATS:
		return n >= sizeof(struct ctl_stats) &&
		       ((const struct ctl_stats *)body)->exit_count <=
			       CTL_RESP_MAX / sizeof(struct ctl_exit) &&
		       n == sizeof(struct ctl_stats) +
				       ((const struct ctl_stats *)body)->exit_count *
					       sizeof(struct ctl_exit);
	case CTL_OP_CONSOLE:
		return n >= sizeof(struct ctl_console) &&
		       n == sizeof(struct ctl_console) + ((const struct ctl_console *)body)->length;
	case CTL_OP_START:
	case CTL_OP_STOP:
	case CTL_OP_RESTART:
		return n == 0;
	default:
		return false;
	}
}

const char *ctl_state_name(u32 state)
{
	return state == CTL_STATE_STOPPED ? "stopped" : "running";
}

void ctl_format_size(char *buf, size_t size, u64 bytes)
{
	static const char unit[] = "GMK";
	u64 scale = GiB;

	for (u32 i = 0; i < 3; i++, scale /= KiB) {
		if (bytes && bytes % scale == 0) {
			snprintf(buf, size, "%lu%c", (unsigned long)(bytes / scale), unit[i]);
			return;
		}
	}
	snprintf(buf, size, "%lu", (unsigned long)bytes);
}

/* Copies a response's text field: it need not end in a NUL. */
static void field(char *out, const char *f, size_t size)
{
	size_t n = 0;

	while (n < size - 1 && f[n])
		n++;
	memcpy(out, f, n);
	out[n] = '\0';
}

static void emitf(ctl_emit_fn emit, void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void emitf(ctl_emit_fn emit, void *ctx, const char *fmt, ...)
{
	char line[CTL_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	emit(ctx, line);
}

static void info_text(const struct ctl_info *i, ctl_emit_fn emit, void *ctx)
{
	char version[CTL_TEXT_SIZE], vendor[CTL_TEXT_SIZE], slat[CTL_TEXT_SIZE],
		iommu[CTL_TEXT_SIZE];

	field(version, i->version, sizeof(version));
	field(vendor, i->vendor, sizeof(vendor));
	field(slat, i->slat, sizeof(slat));
	field(iommu, i->iommu, sizeof(iommu));
	emitf(emit, ctx, "hypervisor: Tessera %s, control protocol %u", version, CTL_VERSION);
	emitf(emit, ctx, "machine: %u CPUs, %lu MiB RAM (%lu MiB free), IOMMU %s", i->cpus,
	      (unsigned long)(i->ram_bytes / MiB), (unsigned long)(i->free_bytes / MiB), iommu);
	emitf(emit, ctx, "vendor path: %s with %s", vendor, slat);
	emitf(emit, ctx, "partitions: %u", i->partitions);
}

static void list_text(const struct ctl_list *l, ctl_emit_fn emit, void *ctx)
{
	for (u32 i = 0; i < l->count; i++) {
		const struct ctl_part *p = &l->part[i];
		char name[CTL_NAME_SIZE], cpus[CTL_CPUS_SIZE], mem[24];

		field(name, p->name, sizeof(name));
		field(cpus, p->cpus, sizeof(cpus));
		ctl_format_size(mem, sizeof(mem), p->memory);
		emitf(emit, ctx, "%-16s %-7s %-8s %6s %9lus %u", name, ctl_state_name(p->state),
		      cpus, mem, (unsigned long)(p->uptime_ms / MS_PER_S), p->restarts);
	}
}

static void stats_text(const struct ctl_stats *s, ctl_emit_fn emit, void *ctx)
{
	char name[CTL_NAME_SIZE], line[CTL_LINE_MAX];
	size_t n = 0;

	field(name, s->name, sizeof(name));
	emitf(emit, ctx, "%s: %s, uptime %lu.%03lu s, restarts %u", name, ctl_state_name(s->state),
	      (unsigned long)(s->uptime_ms / MS_PER_S), (unsigned long)(s->uptime_ms % MS_PER_S),
	      s->restarts);
	for (u32 i = 0; i < s->exit_count; i++) {
		char reason[CTL_TEXT_SIZE];

		field(reason, s->exit[i].reason, sizeof(reason));
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s %lu",
				      i % EXITS_PER_LINE ? ", " : "", reason,
				      (unsigned long)s->exit[i].count);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		if (i % EXITS_PER_LINE == EXITS_PER_LINE - 1 || i + 1 == s->exit_count) {
			emitf(emit, ctx, "exits: %s", line);
			n = 0;
		}
	}
	if (!s->exit_count)
		emitf(emit, ctx, "exits: none");
	emitf(emit, ctx, "interrupts injected %lu, exceptions injected %lu",
	      (unsigned long)s->irqs_injected, (unsigned long)s->exceptions_injected);
	emitf(emit, ctx, "timer: %lu expiries, late %lu us on average, %lu us at most",
	      (unsigned long)s->timer_fired, (unsigned long)s->timer_late_avg_us,
	      (unsigned long)s->timer_late_max_us);
	emitf(emit, ctx,
	      "console: %lu bytes written, %lu no longer in its ring, %lu input bytes lost",
	      (unsigned long)s->console_bytes, (unsigned long)s->console_overwritten,
	      (unsigned long)s->console_input_lost);
	emitf(emit, ctx, "accesses to addresses it does not own: %lu", (unsigned long)s->open_bus);
}

bool ctl_text(const void *resp, u32 len, ctl_emit_fn emit, void *ctx)
{
	const struct ctl_response *h = resp;

	if (!ctl_response_ok(resp, len) || h->status != CTL_OK)
		return false;
	switch (h->op) {
	case CTL_OP_INFO:
		info_text((const void *)(h + 1), emit, ctx);
		return true;
	case CTL_OP_LIST:
		list_text((const void *)(h + 1), emit, ctx);
		return true;
	case CTL_OP_STATS:
		stats_text((const void *)(h + 1), emit, ctx);
		return true;
	default:
		return false;
	}
}
