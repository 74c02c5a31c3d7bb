/*
 * Control responses as text (SPEC 7): what `hvctl list|stats|info` and the
 * console's `hv> ` prompt print, the same lines from the same code. Pure,
 * shared by the hypervisor and hvctl (-DHV_HOST). The response is checked
 * before it is read: hvctl does not trust what it maps.
 */
#pragma once

#include "hv/hw/control.h"
#include "hv/lib/types.h"

#define CTL_LINE_MAX 128

typedef void (*ctl_emit_fn)(void *ctx, const char *line);

/* Whether len bytes hold a whole response of its op (header, body and
 * counts consistent); false for anything else. */
bool ctl_response_ok(const void *resp, u32 len);
/* The lines of an info, list or stats response (checked first): false,
 * and nothing emitted, when it is malformed or of another op. */
bool ctl_text(const void *resp, u32 len, ctl_emit_fn emit, void *ctx);
/* A list entry's state as SPEC 7 names it: "running" or "stopped". */
const char *ctl_state_name(u32 state);
/* "512M", "2G", "64K", "100" (bytes). */
void ctl_format_size(char *buf, size_t size, u64 bytes);
