/*
 * The control protocol's requests (hv/hw/control.h, docs/control.md),
 * checked field by field before anything acts on one. Pure code, shared
 * by the hypervisor, hvctl (-DHV_HOST), the unit tests and the fuzzer.
 */
#pragma once

#include "hv/hw/control.h"
#include "hv/lib/types.h"

/*
 * Checks len bytes, a private copy of the mailbox's request: magic,
 * version, length, operation, flags, name and offset. CTL_OK with the
 * request in *out, or the enum ctl_status that tells what is wrong.
 * Whether the named partition exists is the caller's question.
 */
u32 ctl_parse(const void *buf, u32 len, struct ctl_request *out);

/* Whether s[0..n) is a partition name: 1-16 of a-z 0-9 - _ (SPEC 3). */
bool ctl_name_ok(const char *s, size_t n);

/* A request for op on name (NULL: none), as hvctl and the console send. */
void ctl_request_init(struct ctl_request *r, u32 op, const char *name, u32 flags, u64 offset);

/* What a status means, for messages ("no such partition"). */
const char *ctl_status_text(u32 status);
