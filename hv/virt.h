/*
 * The vendor backend in use (hv/virt.c): the one place that knows which
 * backends exist and picks one at boot. The core reaches it only through
 * vcpu_ops and reads what it found in virt_caps (hv/vcpu/vcpu_ops.h).
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/vcpu/vcpu_ops.h"

/* The backend in use and what it found (set by virt_probe). */
extern const struct vcpu_ops *vcpu_ops;
extern struct virt_caps virt_caps;

/* Picks the backend; returns false with virt_caps.reason set when the
 * machine cannot run partitions. */
bool virt_probe(void);
