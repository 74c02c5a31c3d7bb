/*
 * What the platform device tests share: fakes for the hypervisor services
 * the devices call (memory, console), and guest accesses that go through
 * the partition's vdev table the way hv/policy/io.c and hv/policy/mmio.c do.
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/partition/partition.h"
#include "hv/vdev/vdev.h"

/* --- mm_alloc: zeroed heap blocks, all freed by fake_free_all ---------- */

#define FAKE_ALLOCS 64
static void *fake_allocs[FAKE_ALLOCS];
static int fake_alloc_count;

void *mm_alloc(u64 bytes, u64 align, u64 max_addr)
{
	void *p;

	(void)align;
	(void)max_addr;
	assert_true(fake_alloc_count < FAKE_ALLOCS);
	p = calloc(1, bytes);
	fake_allocs[fake_alloc_count++] = p;
	return p;
}

static inline void fake_free_all(void)
{
	while (fake_alloc_count)
		free(fake_allocs[--fake_alloc_count]);
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

/* --- the partition under test ------------------------------------------- */

static struct partition test_part;

static inline void part_init(u32 vcpus)
{
	memset(&test_part, 0, sizeof(test_part));
	test_part.name = "test";
	test_part.vcpu_count = vcpus;
	printk_count = 0;
	printk_last[0] = 0;
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
