/*
 * Split virtqueues (hv/vdev/virtq.c) against a hostile driver, over a fake
 * guest RAM: ring checks at enable, chains, the used ring, index
 * wrap-around, and every way a driver can break a queue (descriptor
 * loops, indices past the ring, buffers outside RAM, zero-length and huge
 * lengths, writable before readable, indirect descriptors), which must end
 * in -E_INVAL and never in an access outside RAM.
 */
#include "hv/vdev/virtq.h"
#include "tests/unit/test_support.h"

#define RAM_BASE 0x100000ULL
#define RAM_SIZE 0x100000ULL
#define QSIZE 8
#define DESC (RAM_BASE + 0x1000)
#define AVAIL (RAM_BASE + 0x2000)
#define USED (RAM_BASE + 0x3000)
#define DATA (RAM_BASE + 0x10000)

static struct fake_ram ram;
static u8 *mem;
static struct virtq q;
static struct virtq_chain c;

static void *ram_ptr(const struct partition *p, u64 gpa, u64 len)
{
	(void)p;
	return fake_ram_ptr(&ram, gpa, len);
}

static const struct virtq_mem vm = { ram_ptr, NULL };

static struct virtq_desc *desc(u32 i)
{
	return (struct virtq_desc *)(mem + (DESC - RAM_BASE)) + i;
}

static struct virtq_avail *avail(void)
{
	return (struct virtq_avail *)(mem + (AVAIL - RAM_BASE));
}

static struct virtq_used *used(void)
{
	return (struct virtq_used *)(mem + (USED - RAM_BASE));
}

static void set_desc(u32 i, u64 addr, u32 len, u16 flags, u16 next)
{
	*desc(i) = (struct virtq_desc){ addr, len, flags, next };
}

/* The driver makes head available. */
static void offer(u16 head)
{
	avail()->ring[avail()->idx % QSIZE] = head;
	avail()->idx++;
}

static int setup(void **state)
{
	if (state) {
		memset(&ram, 0, sizeof(ram));
		mem = fake_ram_add(&ram, RAM_BASE, RAM_SIZE, 0);
	}
	virtq_reset(&q, VIRTQ_MAX);
	q.size = QSIZE;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	assert_int_equal(virtq_enable(&q, VIRTQ_MAX, &vm), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_ram_free(&ram);
	return 0;
}

static void test_reset_state(void **state)
{
	(void)state;
	virtq_reset(&q, 256);
	assert_int_equal(q.size, 256);
	assert_int_equal(q.msix, VIRTIO_MSI_NO_VECTOR);
	assert_false(q.ready);
	assert_int_equal(virtq_pop(&q, &vm, &c), 0);
}

static void test_enable_checks(void **state)
{
	static const u16 bad_sizes[] = { 0, 3, 6, 512 };

	(void)state;
	for (u32 i = 0; i < ARRAY_SIZE(bad_sizes); i++) {
		q.size = bad_sizes[i];
		assert_int_equal(virtq_enable(&q, VIRTQ_MAX, &vm), -E_INVAL);
		assert_false(q.ready);
	}
	q.size = 256;
	assert_int_equal(virtq_enable(&q, 128, &vm), -E_INVAL); /* beyond the device's */
	q.size = QSIZE;
	q.desc_gpa = DESC + 8; /* 2.6: 16-byte aligned */
	assert_int_equal(virtq_enable(&q, VIRTQ_MAX, &vm), -E_INVAL);
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL + 1;
	assert_int_equal(virtq_enable(&q, VIRTQ_MAX, &vm), -E_INVAL);
	q.avail_gpa = AVAIL;
	q.used_gpa = USED + 2;
	assert_int_equal(virtq_enable(&q, VIRTQ_MAX, &vm), -E_INVAL);
	/* a ring outside RAM, or running off its end */
	q.used_gpa = RAM_BASE + RAM_SIZE - 8;
	assert_int_equal(virtq_enable(&q, VIRTQ_MAX, &vm), -E_INVAL);
	q.used_gpa = 0;
	assert_int_equal(virtq_enable(&q, VIRTQ_MAX, &vm), -E_INVAL);
	q.used_gpa = USED;
	q.desc_gpa = 0xfffffffffffffff0ULL;
	assert_int_equal(virtq_enable(&q, VIRTQ_MAX, &vm), -E_INVAL);
	assert_false(q.ready);
	assert_int_equal(virtq_pop(&q, &vm, &c), 0);
	/* a ring that ends exactly at the end of RAM */
	q.desc_gpa = RAM_BASE + RAM_SIZE - QSIZE * 16;
	assert_int_equal(virtq_enable(&q, VIRTQ_MAX, &vm), 0);
	assert_true(q.ready);
}

static void test_chain_and_used(void **state)
{
	u8 out[32];

	(void)state;
	assert_int_equal(virtq_pop(&q, &vm, &c), 0);
	memcpy(mem + 0x10000, "0123456789", 10);
	memcpy(mem + 0x20000, "abcdef", 6);
	set_desc(5, DATA, 10, VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, DATA + 0x10000, 6, VIRTQ_DESC_F_NEXT, 7);
	set_desc(7, DATA + 0x30000, 100, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
	set_desc(0, DATA + 0x40000, 50, VIRTQ_DESC_F_WRITE, 0);
	offer(5);
	assert_int_equal(virtq_pop(&q, &vm, &c), 1);
	assert_int_equal(c.head, 5);
	assert_int_equal(c.out, 2);
	assert_int_equal(c.in, 2);
	assert_int_equal(c.out_len, 16);
	assert_int_equal(c.in_len, 150);
	assert_ptr_equal(c.buf[0].ptr, mem + 0x10000);
	/* reading across buffers, from an offset, past the end */
	memset(out, 0, sizeof(out));
	assert_int_equal(virtq_read(&c, 8, out, sizeof(out)), 8);
	assert_memory_equal(out, "89abcdef", 8);
	/* writing across buffers */
	assert_int_equal(virtq_write(&c, 98, "XYZW", 4), 4);
	assert_memory_equal(mem + 0x40000 + 98, "XY", 2);
	assert_memory_equal(mem + 0x50000, "ZW", 2);
	assert_int_equal(virtq_write(&c, 149, "12", 2), 1);
	assert_int_equal(virtq_pop(&q, &vm, &c), 0);
	/* the used ring */
	virtq_push(&q, 5, 77);
	assert_int_equal(used()->idx, 1);
	assert_int_equal(used()->ring[0].id, 5);
	assert_int_equal(used()->ring[0].len, 77);
	/* interrupts unless the driver says not */
	assert_true(virtq_irq_wanted(&q));
	avail()->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	assert_false(virtq_irq_wanted(&q));
}

static void test_zero_length_and_unpop(void **state)
{
	(void)state;
	set_desc(1, 0, 0, VIRTQ_DESC_F_NEXT, 3); /* no address needed for nothing */
	set_desc(3, DATA, 4, VIRTQ_DESC_F_WRITE, 0);
	offer(1);
	assert_int_equal(virtq_pop(&q, &vm, &c), 1);
	assert_int_equal(c.out, 1);
	assert_int_equal(c.out_len, 0);
	assert_null(c.buf[0].ptr);
	virtq_unpop(&q);
	assert_int_equal(virtq_pop(&q, &vm, &c), 1);
	assert_int_equal(c.head, 1);
}

/* 65536 chains: avail and used indices wrap, ring slots modulo the size. */
static void test_index_wrap(void **state)
{
	(void)state;
	set_desc(4, DATA, 1, 0, 0);
	for (u32 n = 0; n < 0x10000 + 3; n++) {
		offer(4);
		assert_int_equal(virtq_pop(&q, &vm, &c), 1);
		virtq_push(&q, c.head, 1);
	}
	assert_int_equal(used()->idx, 3);
	assert_int_equal(q.last_avail, 3);
	assert_int_equal(virtq_pop(&q, &vm, &c), 0);
}

static void test_full_ring_chain(void **state)
{
	(void)state;
	/* a chain using every descriptor is fine */
	for (u32 i = 0; i < QSIZE; i++)
		set_desc(i, DATA + i, 1, i + 1 < QSIZE ? VIRTQ_DESC_F_NEXT : 0, (u16)(i + 1));
	offer(0);
	assert_int_equal(virtq_pop(&q, &vm, &c), 1);
	assert_int_equal(c.out, QSIZE);
	/* all of them outstanding at once too */
	for (u32 i = 0; i < QSIZE; i++) {
		set_desc(i, DATA + i, 1, 0, 0);
		offer((u16)i);
	}
	for (u32 i = 0; i < QSIZE; i++)
		assert_int_equal(virtq_pop(&q, &vm, &c), 1);
	assert_int_equal(virtq_pop(&q, &vm, &c), 0);
}

/* What a broken driver does; each ends in -E_INVAL. */
#define expect_broken(head) expect_broken_at(head, __LINE__)

static void expect_broken_at(u16 head, int line)
{
	virtq_reset(&q, VIRTQ_MAX);
	q.size = QSIZE;
	q.desc_gpa = DESC;
	q.avail_gpa = AVAIL;
	q.used_gpa = USED;
	avail()->idx = 0;
	assert_int_equal(virtq_enable(&q, VIRTQ_MAX, &vm), 0);
	offer(head);
	if (virtq_pop(&q, &vm, &c) != -E_INVAL)
		fail_msg("line %d: not broken", line);
}

static void test_broken_drivers(void **state)
{
	(void)state;
	/* loops: to itself, and through three descriptors */
	set_desc(0, DATA, 1, VIRTQ_DESC_F_NEXT, 0);
	expect_broken(0);
	set_desc(0, DATA, 1, VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA, 1, VIRTQ_DESC_F_NEXT, 2);
	set_desc(2, DATA, 1, VIRTQ_DESC_F_NEXT, 0);
	expect_broken(1);
	/* indices past the table */
	expect_broken(QSIZE);
	expect_broken(0xffff);
	set_desc(0, DATA, 1, VIRTQ_DESC_F_NEXT, QSIZE);
	expect_broken(0);
	/* buffers outside RAM, across its end, wrapping around 2^64, huge */
	set_desc(0, 0, 1, 0, 0);
	expect_broken(0);
	set_desc(0, RAM_BASE + RAM_SIZE - 1, 2, 0, 0);
	expect_broken(0);
	set_desc(0, 0xffffffffffffff00ULL, 0x200, VIRTQ_DESC_F_WRITE, 0);
	expect_broken(0);
	set_desc(0, DATA, 0xffffffff, 0, 0);
	expect_broken(0);
	/* readable after writable, indirect */
	set_desc(0, DATA, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(1, DATA, 1, 0, 0);
	expect_broken(0);
	set_desc(0, DATA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	expect_broken(0);
	/* more outstanding than the ring holds */
	set_desc(0, DATA, 1, 0, 0);
	setup(NULL);
	avail()->idx = QSIZE + 1;
	assert_int_equal(virtq_pop(&q, &vm, &c), -E_INVAL);
	avail()->idx = 0x8000;
	assert_int_equal(virtq_pop(&q, &vm, &c), -E_INVAL);
}

/* Random rings and descriptors: whatever the driver wrote, pop either
 * fails or returns buffers that lie in RAM and add up. */
static void test_random_rings(void **state)
{
	(void)state;
	rnd_seed(0);
	for (u32 round = 0; round < 20000; round++) {
		int rc;

		for (u32 i = 0; i < QSIZE; i++) {
			u64 r = rnd();

			set_desc(i, r & 1 ? DATA + rnd_below(RAM_SIZE) : rnd() >> (rnd_below(64)),
				 (u32)(r & 2 ? rnd_below(0x2000) : rnd()), (u16)(rnd() & 7),
				 (u16)rnd_below(QSIZE + 2));
			avail()->ring[i] = (u16)rnd_below(QSIZE + 1);
		}
		avail()->idx = (u16)(q.last_avail + rnd_below(3));
		rc = virtq_pop(&q, &vm, &c);
		assert_true(rc == 0 || rc == 1 || rc == -E_INVAL);
		if (rc != 1)
			continue;
		assert_true(c.out + c.in <= QSIZE);
		for (u32 i = 0; i < c.out + c.in; i++) {
			const struct virtq_buf *b = &c.buf[i];

			if (!b->len)
				continue;
			assert_true(b->ptr >= mem && b->ptr + b->len <= mem + RAM_SIZE);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reset_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_and_used, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_length_and_unpop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_ring_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_drivers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_rings, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
