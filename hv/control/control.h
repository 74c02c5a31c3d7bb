/*
 * The management service (SPEC 7, docs/control.md): the requests of the
 * control device (hv/vdev/vctl.c) of a `manage = yes` partition and of
 * the console's `hv> ` prompt, run against the partitions. Nothing here
 * waits: a start runs on the started partition's own CPU, a graceful stop
 * is the guest's power button and its partition's timer.
 */
#pragma once

#include "hv/hw/control.h"
#include "hv/lib/types.h"

struct partition;

/* How long a graceful stop waits for the guest to power off (SPEC 7). */
#define CTL_STOP_TIMEOUT_MS 30000

/*
 * Runs the request in req (len bytes said; at most a struct ctl_request
 * of them is read) for from (NULL: the console) and writes the response,
 * at most max bytes, to resp, which it never reads back (it may be the
 * guest's mailbox). Returns the response's length.
 */
u32 ctl_handle(struct partition *from, const void *req, u32 len, void *resp, u32 max);
