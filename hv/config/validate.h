/*
 * hv.conf against the machine: CPUs exist, partitions share no core (unless
 * allowed), memory fits, images are present, PCI devices exist and have an
 * IOMMU (SPEC.md 3). What the machine does
 * not say (struct config_machine: zero or NULL) is not checked; fields that
 * failed to parse are skipped.
 */
#pragma once

#include "hv/config/config.h"
#include "hv/config/report.h"

/* Reports the plan's problems on this machine, partition by partition. */
void validate_plan(struct reporter *r, const struct config *c, const struct config_machine *m);
