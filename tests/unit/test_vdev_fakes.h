/*
 * What the platform device tests share: fakes for the hypervisor services
 * the devices call (memory, console, and struct vdev_host: what they ask
 * of their partition), the partition's device registry, and guest accesses
 * that go through it the way hv/policy/io.c and hv/policy/mmio.c do.
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/config/config.h"
#include "hv/partition/partition.h"
#include "hv/vdev/vclock.h"
#include "hv/vdev/vdev.h"

/* --- memory: zeroed heap blocks, freed by fake_free or fake_free_all ---- */

#define FAKE_ALLOCS 64
static void *fake_allocs[FAKE_ALLOCS];
static u64 fake_alloc_sizes[FAKE_ALLOCS];
static int fake_alloc_count;
static int fake_alloc_fail_at = -1; /* the allocation that fails (0: the first) */
static int fake_alloc_calls;

static void *fake_alloc(u64 bytes)
{
	void *p;

	if (fake_alloc_calls++ == fake_alloc_fail_at)
		return NULL;
	assert_true(fake_alloc_count < FAKE_ALLOCS);
	p = calloc(1, bytes);
	fake_alloc_sizes[fake_alloc_count] = bytes;
	fake_allocs[fake_alloc_count++] = p;
	return p;
}

/* A block fake_alloc gave, with its size: anything else fails the test. */
static void fake_free(void *va, u64 bytes)
{
	for (int i = 0; i < fake_alloc_count; i++) {
		if (fake_allocs[i] != va)
			continue;
		assert_int_equal(fake_alloc_sizes[i], bytes);
		free(va);
		fake_allocs[i] = fake_allocs[--fake_alloc_count];
		fake_alloc_sizes[i] = fake_alloc_sizes[fake_alloc_count];
		return;
	}
	fail_msg("a free of a block fake_alloc did not give");
}

static inline void fake_free_all(void)
{
	while (fake_alloc_count)
		free(fake_allocs[--fake_alloc_count]);
	fake_alloc_fail_at = -1;
	fake_alloc_calls = 0;
}

/* Each test's cmocka teardown: the device goes with its heap blocks. */
static inline int teardown(void **state)
{
	(void)state;
	fake_free_all();
	return 0;
}

/* --- printk: counts the lines, keeps the last ----------------------------- */

static int printk_count;
static char printk_last[256];

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(printk_last, sizeof(printk_last), fmt, ap);
	va_end(ap);
	printk_count++;
}

/* --- what devices ask of their partition: unexpected unless a test says -- */

static void unexpected_kick(struct vcpu *v, u32 req)
{
	(void)v;
	(void)req;
	fail_msg("unexpected kick");
}

static void unexpected_stop(struct partition *p, enum vdev_stop how, const char *reason)
{
	(void)p;
	fail_msg("unexpected stop %d: %s", how, reason);
}

static void *unexpected_gpa_ptr(const struct partition *p, u64 gpa, u64 len)
{
	(void)p;
	fail_msg("unexpected gpa_ptr %#llx+%#llx", (unsigned long long)gpa,
		 (unsigned long long)len);
	return NULL;
}

static void unexpected_pass_io(struct partition *p, u16 port, bool pass)
{
	(void)p;
	fail_msg("unexpected pass_io %#x %d", port, pass);
}

static void unexpected_clock(struct vclock *clk)
{
	(void)clk;
	fail_msg("unexpected clock");
}

static void unexpected_wall_clock(u64 *epoch, u64 *ticks)
{
	(void)epoch;
	(void)ticks;
	fail_msg("unexpected wall_clock");
}

static u64 unexpected_crystal_hz(void)
{
	fail_msg("unexpected crystal_hz");
	return 0;
}

static const struct acpi_info *no_acpi(void)
{
	return NULL;
}

static void *unexpected_alloc_shared(u64 bytes)
{
	fail_msg("unexpected alloc_shared %#llx", (unsigned long long)bytes);
	return NULL;
}

static void *unexpected_module(const char *name, u64 *len)
{
	(void)len;
	fail_msg("unexpected module %s", name);
	return NULL;
}

static int unexpected_map(struct partition *p, u64 gpa, void *mem, u64 len)
{
	(void)p;
	(void)mem;
	fail_msg("unexpected map %#llx+%#llx", (unsigned long long)gpa, (unsigned long long)len);
	return 0;
}

static void unexpected_unmap(struct partition *p, u64 gpa, u64 len)
{
	(void)p;
	fail_msg("unexpected unmap %#llx+%#llx", (unsigned long long)gpa, (unsigned long long)len);
}

/* Each test's part_init puts these back; a test assigns what it expects. */
static struct vdev_host fake_host;

/* --- the partition under test ------------------------------------------- */

static struct partition test_part;
static struct config_partition test_cfg;

/* Its registry, empty, for a partition of vcpus vCPUs (test_part.vcpus[]
 * are the test's to fill before it creates per-vCPU devices). */
static inline void part_init(u32 vcpus)
{
	struct vdev_owner owner;

	memset(&test_part, 0, sizeof(test_part));
	memset(&test_cfg, 0, sizeof(test_cfg));
	test_part.name = "test";
	test_part.cfg = &test_cfg;
	test_part.vcpu_count = vcpus;
	fake_host = (struct vdev_host){
		.alloc = fake_alloc,
		.free = fake_free,
		.kick = unexpected_kick,
		.stop = unexpected_stop,
		.gpa_ptr = unexpected_gpa_ptr,
		.pass_io = unexpected_pass_io,
		.clock = unexpected_clock,
		.wall_clock = unexpected_wall_clock,
		.crystal_hz = unexpected_crystal_hz,
		.acpi = no_acpi,
		.alloc_shared = unexpected_alloc_shared,
		.module = unexpected_module,
		.map = unexpected_map,
		.unmap = unexpected_unmap,
	};
	owner = (struct vdev_owner){ &test_part, test_part.name, &test_cfg, test_part.vcpus,
				     vcpus };
	vdev_init(&test_part.vdevs, &owner, &fake_host);
	printk_count = 0;
	printk_last[0] = 0;
}

/* Creates the devices of types (in order) in the registry. */
static inline int create_devices(const struct vdev_type *const *types, u32 count)
{
	return vdev_create_all(&test_part.vdevs, types, count);
}

/* Creates the one device of type t; its instance. */
static inline void *create_device(const struct vdev_type *t)
{
	assert_int_equal(create_devices(&t, 1), 0);
	return vdev_find(&test_part.vdevs, t);
}

static inline u64 size_mask(u8 size)
{
	return size >= 8 ? ~0ULL : (1ULL << (size * 8)) - 1;
}

/* A port access by vCPU V (or none) as hv/policy/io.c makes it: nobody there, or
 * an error, reads all-ones. */
static inline u64 io_rw(struct vcpu *v, u16 port, u8 size, bool write, u64 val)
{
	const struct vdev_range *r = vdev_find_io(&test_part.vdevs, port);
	struct vdev_access a = { port, size, write, write ? val & size_mask(size) : 0 };

	if (!r)
		return size_mask(size);
	if (r->access(r->dev, v, &a))
		return size_mask(size);
	return write ? 0 : a.val & size_mask(size);
}

static inline u64 io_in(u16 port, u8 size)
{
	return io_rw(NULL, port, size, false, 0);
}

static inline void io_out(u16 port, u8 size, u64 val)
{
	io_rw(NULL, port, size, true, val);
}

static inline u64 mmio_rw(u64 gpa, u8 size, bool write, u64 val)
{
	const struct vdev_range *r = vdev_find_mmio(&test_part.vdevs, gpa);
	struct vdev_access a = { gpa, size, write, write ? val : 0 };

	assert_non_null(r);
	if (r->access(r->dev, NULL, &a))
		return size_mask(size);
	return write ? 0 : a.val & size_mask(size);
}

static inline u64 mmio_read(u64 gpa, u8 size)
{
	return mmio_rw(gpa, size, false, 0);
}

static inline void mmio_write(u64 gpa, u8 size, u64 val)
{
	mmio_rw(gpa, size, true, val);
}
