/*
 * The management service (control.h): each request parsed (proto.c) from
 * the caller's private copy, the partition looked up by name, then one
 * operation on it. Responses are written, never read back: the buffer
 * may be the asking guest's mailbox.
 */
#include "hv/control/control.h"
#include "drivers/tsc.h"
#include "hv/config/config.h"
#include "hv/console/ring.h"
#include "hv/control/proto.h"
#include "hv/cpu/percpu.h"
#include "hv/lib/lib.h"
#include "hv/lib/strlcpy.h"
#include "hv/main.h"
#include "hv/mm/mm.h"
#include "hv/partition/partition.h"
#include "hv/vcpu/vm_exit.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/vpm.h"
#include "hv/vdev/vuart.h"
#include "hv/virt.h"

#define US_PER_S 1000000

static struct partition *find(const char *name)
{
	for (u32 i = 0; i < partition_count; i++)
		if (!strcmp(partitions[i].name, name))
			return &partitions[i];
	return NULL;
}

static u32 state_of(const struct partition *p)
{
	static const u32 state[] = {
		[PART_STOPPED] = CTL_STATE_STOPPED,
		[PART_RUNNING] = CTL_STATE_RUNNING,
		[PART_STOPPING] = CTL_STATE_STOPPING,
		[PART_STARTING] = CTL_STATE_STARTING,
	};

	return state[p->state];
}

static u32 do_info(void *body, u32 room)
{
	struct ctl_info *i = body;

	if (room < sizeof(*i))
		return 0;
	memset(i, 0, sizeof(*i));
	hv_strlcpy(i->version, HV_VERSION, sizeof(i->version));
	hv_strlcpy(i->vendor, virt_caps.vendor ? virt_caps.vendor : "none", sizeof(i->vendor));
	hv_strlcpy(i->slat, virt_caps.slat ? virt_caps.slat : "none", sizeof(i->slat));
	hv_strlcpy(i->iommu, "none", sizeof(i->iommu)); /* no IOMMU driver yet */
	i->cpus = cpus_online;
	i->partitions = partition_count;
	i->ram_bytes = mm_ram_bytes();
	i->free_bytes = mm_free_bytes();
	return sizeof(*i);
}

static void part_entry(struct ctl_part *e, const struct partition *p, const struct partition *from)
{
	memset(e, 0, sizeof(*e));
	hv_strlcpy(e->name, p->name, sizeof(e->name));
	config_format_cpus(e->cpus, sizeof(e->cpus), p->cfg->cpus);
	e->state = state_of(p);
	e->flags = (p->cfg->manage ? CTL_PART_MANAGE : 0) |
		   (p->cfg->autostart ? CTL_PART_AUTOSTART : 0) | (p == from ? CTL_PART_SELF : 0);
	e->memory = p->ram_size;
	e->uptime_ms = part_uptime_ms(p);
	e->restarts = p->restarts;
	e->vcpus = p->vcpu_count;
}

static u32 do_list(void *body, u32 room, const struct partition *from)
{
	struct ctl_list *l = body;
	u32 n = partition_count;

	if (room < sizeof(*l) + n * sizeof(l->part[0]))
		return 0;
	l->count = n;
	l->pad = 0;
	for (u32 i = 0; i < n; i++)
		part_entry(&l->part[i], &partitions[i], from);
	return sizeof(*l) + n * (u32)sizeof(l->part[0]);
}

static u32 start(struct partition *p)
{
	int err = part_request_start(p);

	return !err ? CTL_OK : err == -E_EXIST ? CTL_E_RUNNING : CTL_E_BUSY;
}

/* stop, or restart (again once stopped): the power button, or force */
static u32 stop(struct partition *p, bool force, bool restart)
{
	struct vpm *pm = vdev_find(&p->vdevs, &vpm_type);
	int r = restart ? part_request_restart(p) : 1;

	if (r <= 0) /* restart of a stopped partition: started */
		return r == 0 ? CTL_OK : r == -E_EXIST ? CTL_E_RUNNING : CTL_E_BUSY;
	if (p->state != PART_RUNNING)
		return p->state == PART_STOPPED ? CTL_E_STOPPED : CTL_E_BUSY;
	if (force || !pm)
		part_stop(p, EXIT_STOP, "stopped by request (forced)");
	else
		vpm_shutdown(pm, CTL_STOP_TIMEOUT_MS);
	return CTL_OK;
}

static u64 ticks_to_us(u64 ticks)
{
	u64 hz = tsc_hz();

	return hz ? muldiv64(ticks, US_PER_S, hz) : 0;
}

static u32 do_stats(const struct partition *p, void *body, u32 room)
{
	struct ctl_stats *s = body;
	u64 fired = 0, late = 0, late_max = 0, written = 0, start;
	struct vuart *u = vdev_find(&p->vdevs, &vuart_type);
	u32 n = 0;
	u8 none;

	if (room < sizeof(*s) + VMEXIT_REASON_COUNT * sizeof(s->exit[0]))
		return 0;
	memset(s, 0, sizeof(*s));
	hv_strlcpy(s->name, p->name, sizeof(s->name));
	s->state = state_of(p);
	s->restarts = p->restarts;
	s->uptime_ms = part_uptime_ms(p);
	for (u32 i = 0; i < p->vcpu_count; i++) {
		const struct vcpu_stats *v = &p->vcpus[i]->stats;

		s->irqs_injected += v->irqs_injected;
		s->exceptions_injected += v->exceptions_injected;
		fired += v->timer_fired;
		late += v->timer_late;
		late_max = MAX(late_max, v->timer_late_max);
	}
	s->timer_fired = fired;
	s->timer_late_avg_us = fired ? ticks_to_us(late / fired) : 0;
	s->timer_late_max_us = ticks_to_us(late_max);
	if (u) {
		vuart_console_read(u, ~0ULL, &none, 0, &start, &written);
		s->console_bytes = written;
		s->console_overwritten = written > RING_CONSOLE_SIZE ? written - RING_CONSOLE_SIZE :
								       0;
		s->console_input_lost = vuart_input_lost(u);
	}
	s->open_bus = p->open_bus_accesses;
	for (u32 r = 0; r < VMEXIT_REASON_COUNT; r++) {
		u64 sum = 0;

		for (u32 i = 0; i < p->vcpu_count; i++)
			sum += p->vcpus[i]->stats.exits[r];
		if (!sum)
			continue;
		memset(&s->exit[n], 0, sizeof(s->exit[n]));
		hv_strlcpy(s->exit[n].reason, vm_exit_name(r), sizeof(s->exit[n].reason));
		s->exit[n++].count = sum;
	}
	s->exit_count = n;
	return sizeof(*s) + n * (u32)sizeof(s->exit[0]);
}

/* The console's bytes from req->offset on, as many as fit. */
static u32 do_console(const struct partition *p, u64 offset, void *body, u32 room, u32 *status)
{
	struct ctl_console *c = body;
	struct vuart *u = vdev_find(&p->vdevs, &vuart_type);
	u64 start, total;
	u32 n;

	if (!u) {
		*status = CTL_E_NO_CONSOLE;
		return 0;
	}
	if (room < sizeof(*c))
		return 0;
	n = vuart_console_read(u, offset, c->data, room - (u32)sizeof(*c), &start, &total);
	if (offset > total) {
		*status = CTL_E_OFFSET;
		return 0;
	}
	c->start = start;
	c->end = start + n;
	c->lost = start - offset;
	c->length = n;
	c->pad = 0;
	return sizeof(*c) + n;
}

static u32 run(struct partition *from, const struct ctl_request *r, void *body, u32 room,
	       u32 *status)
{
	struct partition *p = NULL;

	if (from && !from->cfg->manage) {
		*status = CTL_E_PERM;
		return 0;
	}
	if (r->name[0] && !(p = find(r->name))) {
		*status = CTL_E_NO_PARTITION;
		return 0;
	}
	switch (r->op) {
	case CTL_OP_INFO:
		return do_info(body, room);
	case CTL_OP_LIST:
		return do_list(body, room, from);
	case CTL_OP_START:
		*status = start(p);
		return 0;
	case CTL_OP_STOP:
	case CTL_OP_RESTART:
		*status = stop(p, r->flags & CTL_F_FORCE, r->op == CTL_OP_RESTART);
		return 0;
	case CTL_OP_CONSOLE:
		return do_console(p, r->offset, body, room, status);
	case CTL_OP_STATS:
		return do_stats(p, body, room);
	default:
		*status = CTL_E_OP;
		return 0;
	}
}

u32 ctl_handle(struct partition *from, const void *req, u32 len, void *resp, u32 max)
{
	struct ctl_response *h = resp;
	struct ctl_request r;
	u32 status, body = 0;

	if (max < sizeof(*h))
		return 0;
	memset(&r, 0, sizeof(r));
	status = ctl_parse(req, len, &r);
	if (status == CTL_OK)
		body = run(from, &r, h + 1, max - (u32)sizeof(*h), &status);
	if (status != CTL_OK)
		body = 0;
	h->magic = CTL_RESP_MAGIC;
	h->version = CTL_VERSION;
	h->op = r.op; /* 0 when it did not parse */
	h->status = status;
	h->length = (u32)sizeof(*h) + body;
	return (u32)sizeof(*h) + body;
}
