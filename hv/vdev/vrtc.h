/*
 * The CMOS real-time clock of a partition (Motorola MC146818A datasheet)
 * at ports 0x70 (index) and 0x71 (data): the time and date, registers A-D,
 * the century at 0x32 and the rest of the 128 bytes of CMOS RAM.
 *
 * The time is the machine's clock read at boot (drivers/rtc.c) plus the
 * time elapsed since, from the platform clock. A guest that sets the
 * time moves its own offset only; the real clock is never written.
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/vdev/vdev.h"

struct vrtc;

#define VRTC_PORTS 2
#define VRTC_CMOS_SIZE 128

/* The time: the host's wall clock at one value of the devices' clock, and
 * that clock since (vdev_host). Its reset is what the chip's RESET pin
 * does: interrupt enables and flags cleared; the time, the guest's offset
 * and the CMOS RAM survive (battery). */
extern const struct vdev_type vrtc_type;
/*
 * Raises IRQ 8 (an edge on PLAT_IRQ_RTC) if an enabled update-ended, alarm
 * or periodic event has happened since the guest last read register C,
 * and returns the clock value (the TSC) at which the next one can happen,
 * 0 for none (nothing enabled, or IRQF still set: the guest must read C
 * first). Call it from a timer path and arm a timer for the deadline, as
 * for the PIT; register C's flags are kept right at every access anyway.
 */
u64 vrtc_check(struct vrtc *r);
