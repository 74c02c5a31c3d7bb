/*
 * The partition's interrupt interface (hv/vdev/virq.h) as the PCI device
 * tests see it: the messages sent to local APICs and the I/O APIC levels,
 * recorded instead of delivered. Include after test_vdev_fakes.h in a test
 * that does not link vlapic.c and vioapic.c.
 */
#pragma once

#include "hv/vdev/platform.h"
#include "hv/vdev/virq.h"

#define FAKE_MSGS 64

struct fake_msg {
	const struct vdev_registry *reg;
	u32 dest, mode;
	bool logical;
	u8 vector;
};

static struct fake_msg fake_msgs[FAKE_MSGS];
static u32 fake_msg_count;
static bool fake_gsi[PLAT_IOAPIC_PINS];
static u32 fake_gsi_changes;

void virq_deliver(struct vdev_registry *reg, u32 dest, bool logical, u32 mode, u8 vector,
		  bool level)
{
	assert_false(level);
	assert_true(fake_msg_count < FAKE_MSGS);
	fake_msgs[fake_msg_count++] = (struct fake_msg){ reg, dest, mode, logical, vector };
}

void virq_set_level(struct vdev_registry *reg, u32 gsi, bool asserted)
{
	(void)reg;
	assert_true(gsi < PLAT_IOAPIC_PINS);
	fake_gsi[gsi] = asserted;
	fake_gsi_changes++;
}

static inline void fake_virq_clear(void)
{
	fake_msg_count = 0;
	fake_gsi_changes = 0;
	memset(fake_gsi, 0, sizeof(fake_gsi));
}
