/*
 * ACPI fixed power-management hardware of a partition and its power
 * actions: the PM1a event block (status, enable) and control register
 * (ACPI 6.4 4.8.3.1-2), the FADT reset register at 0xCF9, and the
 * keyboard controller's reset line at port 0x64.
 */
#pragma once

#include "hv/hw/acpi.h"
#include "hv/hw/pc.h"
#include "hv/lib/types.h"
#include "hv/vdev/vdev.h"

struct vpm;

extern const struct vdev_type vpm_type;

/*
 * Presses the fixed power button (ACPI 6.4 4.8.2.2.1.1): sets PWRBTN_STS
 * and raises the SCI if the guest enabled it, so that an ACPI guest shuts
 * down cleanly. For a management "shutdown" request.
 */
void vpm_power_button(struct vpm *pm);
/*
 * A graceful stop (SPEC 7, hvctl stop): the power button, and unless the
 * guest has powered off within timeout_ms, a forced stop (its own timer,
 * on its own first CPU: the asker waits for nothing).
 */
void vpm_shutdown(struct vpm *pm, u64 timeout_ms);
