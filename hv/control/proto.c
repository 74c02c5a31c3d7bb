/*
 * The control protocol's request parser: every field of a request is
 * checked here, once, on the hypervisor's own copy (the mailbox is the
 * guest's to change at any time), before the service acts on it.
 */
#include "hv/control/proto.h"
#include "hv/lib/lib.h"

/* The flags each operation takes. */
static const u32 op_flags[CTL_OP_COUNT] = {
	[CTL_OP_STOP] = CTL_F_FORCE,
	[CTL_OP_RESTART] = CTL_F_FORCE,
};

static bool op_has_name(u32 op)
{
	return op != CTL_OP_INFO && op != CTL_OP_LIST;
}

bool ctl_name_ok(const char *s, size_t n)
{
	if (n < 1 || n > CTL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* A name field: a name, then NUL to the end; no name: all NUL. */
static bool name_field_ok(const char *f, bool want)
{
	size_t n = 0;

	while (n < CTL_NAME_SIZE && f[n])
		n++;
	for (size_t i = n; i < CTL_NAME_SIZE; i++)
		if (f[i])
			return false;
	return want ? ctl_name_ok(f, n) : n == 0;
}

u32 ctl_parse(const void *buf, u32 len, struct ctl_request *out)
{
	struct ctl_request r;

	/* magic and version first: another version's request may differ in size */
	if (len < offsetof(struct ctl_request, op))
		return CTL_E_LENGTH;
	memset(&r, 0, sizeof(r));
	memcpy(&r, buf, MIN(len, (u32)sizeof(r)));
	if (r.magic != CTL_REQ_MAGIC)
		return CTL_E_MAGIC;
	if (r.version != CTL_VERSION)
		return CTL_E_VERSION;
	if (len != sizeof(r) || r.length != sizeof(r))
		return CTL_E_LENGTH;
	if (r.op == 0 || r.op >= CTL_OP_COUNT)
		return CTL_E_OP;
	if (r.flags & ~op_flags[r.op])
		return CTL_E_FLAGS;
	if (!name_field_ok(r.name, op_has_name(r.op)))
		return CTL_E_NAME;
	if (r.offset && r.op != CTL_OP_CONSOLE)
		return CTL_E_OFFSET;
	*out = r;
	return CTL_OK;
}

void ctl_request_init(struct ctl_request *r, u32 op, const char *name, u32 flags, u64 offset)
{
	memset(r, 0, sizeof(*r));
	r->magic = CTL_REQ_MAGIC;
	r->version = CTL_VERSION;
	r->op = (u16)op;
	r->length = sizeof(*r);
	r->flags = flags;
	r->offset = offset;
	for (size_t i = 0; name && name[i] && i < CTL_NAME_SIZE - 1; i++)
		r->name[i] = name[i];
}

static const char *const status_text[CTL_E_COUNT] = {
	[CTL_OK] = "done",
	[CTL_E_MAGIC] = "not a control request",
	[CTL_E_VERSION] = "another protocol version",
	[CTL_E_LENGTH] = "bad request length",
	[CTL_E_OP] = "no such operation",
	[CTL_E_FLAGS] = "an option this command does not take",
	[CTL_E_NAME] = "not a partition name",
	[CTL_E_NO_PARTITION] = "no such partition",
	[CTL_E_RUNNING] = "it is running already",
	[CTL_E_STOPPED] = "it is not running",
	[CTL_E_BUSY] = "it is starting or stopping",
	[CTL_E_NO_CONSOLE] = "it has no console (console = none)",
	[CTL_E_OFFSET] = "bad console offset",
	[CTL_E_PERM] = "not permitted: this partition may not manage (manage = no)",
};

const char *ctl_status_text(u32 status)
{
	return status < CTL_E_COUNT ? status_text[status] : "unknown error";
}
