/*
 * The I/O APIC model (hv/vdev/vioapic.c): its registers through MMIO, and
 * the messages it sends, recorded by a fake virq_deliver: edge and level
 * pins, remote IRR and the resend on EOI, masking, destinations, modes,
 * and lines raised from several threads at once.
 */
#include <pthread.h>

#include "hv/vdev/platform.h"
#include "hv/vdev/vioapic.h"
#include "hv/vdev/virq.h"
#include "tests/unit/test_vdev_fakes.h"

#define IOREGSEL (PLAT_IOAPIC_BASE + 0x00)
#define IOWIN (PLAT_IOAPIC_BASE + 0x10)
#define IOEOI (PLAT_IOAPIC_BASE + 0x40)
#define REG_ID 0x00
#define REG_VER 0x01
#define REG_ARB 0x02
#define REDTBL(pin) (0x10 + 2 * (pin))

#define LEVEL (1U << 15)
#define MASKED (1U << 16)
#define REMOTE_IRR (1U << 14)
#define DELIVERY_STATUS (1U << 12)
#define ACTIVE_LOW (1U << 13)
#define LOGICAL (1U << 11)
#define MODE(m) ((u32)(m) << 8)
#define MODE_LOWEST 1
#define MODE_SMI 2
#define MODE_NMI 4
#define MODE_INIT 5
#define MODE_EXTINT 7

/* --- the fake local APICs ------------------------------------------------- */

struct delivery {
	u32 dest;
	bool logical;
	u32 mode;
	u8 vector;
	bool level;
};

#define MAX_DELIVERIES 64
static struct delivery sent[MAX_DELIVERIES];
static u64 sent_count; /* all calls; the first MAX_DELIVERIES are kept */
static u64 per_vector[256];
static struct vioapic *ioapic;

void virq_deliver(struct vdev_registry *reg, u32 dest, bool logical, u32 mode, u8 vector,
		  bool level)
{
	assert_ptr_equal(reg, &test_part.vdevs);
	if (sent_count < MAX_DELIVERIES)
		sent[sent_count] = (struct delivery){ dest, logical, mode, vector, level };
	/* called under the I/O APIC's lock: plain increments are safe */
	sent_count++;
	per_vector[vector]++;
}

/* A fake virq_dest_waiting: what it was asked, and what it answers. */
static struct delivery asked;
static bool waiting_answer;

bool virq_dest_waiting(struct vdev_registry *reg, u32 dest, bool logical, u8 vector)
{
	assert_ptr_equal(reg, &test_part.vdevs);
	asked = (struct delivery){ dest, logical, 0, vector, false };
	return waiting_answer;
}

/* --- helpers ------------------------------------------------------------ */

static u32 reg_read(u32 reg)
{
	mmio_write(IOREGSEL, 4, reg);
	return (u32)mmio_read(IOWIN, 4);
}

static void reg_write(u32 reg, u32 val)
{
	mmio_write(IOREGSEL, 4, reg);
	mmio_write(IOWIN, 4, val);
}

static void program(u32 pin, u32 low, u8 dest)
{
	reg_write(REDTBL(pin) + 1, (u32)dest << 24);
	reg_write(REDTBL(pin), low);
}

static void expect_sent(u64 n, u32 dest, bool logical, u32 mode, u8 vector, bool level)
{
	const struct delivery *d;

	assert_int_equal(sent_count, n);
	d = &sent[n - 1];
	assert_int_equal(d->dest, dest);
	assert_int_equal(d->logical, logical);
	assert_int_equal(d->mode, mode);
	assert_int_equal(d->vector, vector);
	assert_int_equal(d->level, level);
}

static int setup(void **state)
{
	(void)state;
	part_init(3);
	sent_count = 0;
	memset(per_vector, 0, sizeof(per_vector));
	ioapic = create_device(&vioapic_type);
	assert_non_null(ioapic);
	return 0;
}

/* --- registers -------------------------------------------------------- */

static void test_identification(void **state)
{
	(void)state;
	/* the ID is the partition's vCPU count, as the MADT says */
	assert_int_equal(reg_read(REG_ID), 3U << 24);
	assert_int_equal(reg_read(REG_VER), 0x00170020);
	assert_int_equal(reg_read(REG_ARB), 3U << 24);
	reg_write(REG_ID, 0x12345678);
	assert_int_equal(reg_read(REG_ID), 0x12000000);
	assert_int_equal(reg_read(REG_ARB), 0x02000000);
	reg_write(REG_VER, 0xffffffff);
	reg_write(REG_ARB, 0xffffffff);
	assert_int_equal(reg_read(REG_VER), 0x00170020);
	/* reserved indexes and entries past the last pin hold nothing */
	assert_int_equal(reg_read(0x03), 0);
	assert_int_equal(reg_read(REDTBL(PLAT_IOAPIC_PINS)), 0);
	reg_write(REDTBL(PLAT_IOAPIC_PINS), 0xffffffff);
	assert_int_equal(reg_read(REDTBL(PLAT_IOAPIC_PINS)), 0);
}

static void test_regsel_and_widths(void **state)
{
	(void)state;
	mmio_write(IOREGSEL, 4, 0xabcdef11);
	assert_int_equal(mmio_read(IOREGSEL, 4), 0x11); /* 8 bits */
	mmio_write(IOREGSEL, 1, REG_VER);
	assert_int_equal(mmio_read(IOREGSEL, 1), REG_VER);
	assert_int_equal(mmio_read(IOWIN, 1), 0x20);
	assert_int_equal(mmio_read(IOWIN + 2, 1), 0x17);
	assert_int_equal(mmio_read(IOWIN + 2, 2), 0x0017);
	assert_int_equal(mmio_read(IOWIN, 8), 0x00170020);
	/* bytes 4-15 of a register's slot and the EOI register read 0 */
	assert_int_equal(mmio_read(IOWIN + 4, 4), 0);
	assert_int_equal(mmio_read(IOEOI, 4), 0);
	assert_int_equal(mmio_read(PLAT_IOAPIC_BASE + 0x800, 4), 0);
	/* every access to bytes 4-15 of a slot, whatever its width: read 0,
	 * change nothing (a 1-byte read at 0xFEC0000B was an undefined shift) */
	mmio_write(IOREGSEL, 4, REG_VER);
	for (u32 byte = 4; byte < 16; byte++) {
		for (u32 size = 1; size <= 8 && byte + size <= 16; size *= 2) {
			assert_int_equal(mmio_read(IOREGSEL + byte, size), 0);
			assert_int_equal(mmio_read(IOWIN + byte, size), 0);
			mmio_write(IOREGSEL + byte, size, ~0ULL);
			mmio_write(IOWIN + byte, size, ~0ULL);
		}
	}
	assert_int_equal(mmio_read(IOREGSEL, 4), REG_VER);
	assert_int_equal(reg_read(REG_VER), 0x00170020);
	/* a byte write to an entry changes that byte only */
	mmio_write(IOREGSEL, 4, REDTBL(5));
	mmio_write(IOWIN, 1, 0x42);
	assert_int_equal(reg_read(REDTBL(5)), MASKED | 0x42);
	mmio_write(IOREGSEL, 4, REDTBL(5) + 1);
	mmio_write(IOWIN + 3, 1, 0x0f);
	assert_int_equal(reg_read(REDTBL(5) + 1), 0x0f000000);
}

static void test_redirection_entries(void **state)
{
	(void)state;
	for (u32 pin = 0; pin < PLAT_IOAPIC_PINS; pin++) {
		assert_int_equal(reg_read(REDTBL(pin)), MASKED);
		assert_int_equal(reg_read(REDTBL(pin) + 1), 0);
	}
	/* every writable bit sticks; delivery status and remote IRR do not */
	reg_write(REDTBL(7), 0xffffffff);
	assert_int_equal(reg_read(REDTBL(7)), 0x1ffff & ~(DELIVERY_STATUS | REMOTE_IRR));
	reg_write(REDTBL(7) + 1, 0xffffffff);
	assert_int_equal(reg_read(REDTBL(7) + 1), 0xff000000);
	assert_int_equal(sent_count, 0); /* a level pin with its line low */
}

/* --- delivery ------------------------------------------------------------ */

static void test_edge(void **state)
{
	(void)state;
	program(4, 0x31, 1);
	virq_pulse(&test_part.vdevs, 4);
	expect_sent(1, 1, false, 0, 0x31, false);
	virq_pulse(&test_part.vdevs, 4);
	expect_sent(2, 1, false, 0, 0x31, false);
	/* a level source on an edge pin: one message per rising edge */
	virq_set_level(&test_part.vdevs, 4, true);
	expect_sent(3, 1, false, 0, 0x31, false);
	virq_set_level(&test_part.vdevs, 4, true);
	virq_set_level(&test_part.vdevs, 4, false);
	virq_set_level(&test_part.vdevs, 4, false);
	assert_int_equal(sent_count, 3);
	virq_set_level(&test_part.vdevs, 4, true);
	expect_sent(4, 1, false, 0, 0x31, false);
	assert_int_equal(reg_read(REDTBL(4)) & REMOTE_IRR, 0);
	/* an EOI for an edge vector changes nothing */
	virq_eoi(&test_part.vdevs, 0x31);
	assert_int_equal(sent_count, 4);
}

/* virq_waiting asks the local APICs the RTE names about its vector; a
 * masked pin has nothing waiting. */
static void test_waiting(void **state)
{
	(void)state;
	program(2, 0x30, 1);
	waiting_answer = true;
	assert_true(virq_waiting(&test_part.vdevs, 2));
	assert_int_equal(asked.dest, 1);
	assert_false(asked.logical);
	assert_int_equal(asked.vector, 0x30);
	waiting_answer = false;
	assert_false(virq_waiting(&test_part.vdevs, 2));
	program(5, 0x41 | (1U << 11), 0x3); /* logical destination */
	waiting_answer = true;
	assert_true(virq_waiting(&test_part.vdevs, 5));
	assert_true(asked.logical);
	assert_int_equal(asked.dest, 0x3);
	assert_int_equal(asked.vector, 0x41);
	asked.vector = 0;
	program(2, 0x30 | MASKED, 1);
	assert_false(virq_waiting(&test_part.vdevs, 2));
	assert_int_equal(asked.vector, 0);
	assert_false(virq_waiting(&test_part.vdevs, PLAT_IOAPIC_PINS));
}

static void test_edge_while_masked_is_lost(void **state)
{
	(void)state;
	program(3, MASKED | 0x33, 0);
	virq_pulse(&test_part.vdevs, 3);
	virq_set_level(&test_part.vdevs, 3, true);
	assert_int_equal(sent_count, 0);
	program(3, 0x33, 0);
	assert_int_equal(sent_count, 0);
	virq_set_level(&test_part.vdevs, 3, false);
	virq_pulse(&test_part.vdevs, 3);
	expect_sent(1, 0, false, 0, 0x33, false);
}

static void test_level_remote_irr_and_eoi(void **state)
{
	(void)state;
	program(9, LEVEL | LOGICAL | 0x41, 0x03);
	virq_set_level(&test_part.vdevs, 9, true);
	expect_sent(1, 0x03, true, 0, 0x41, true);
	assert_true(reg_read(REDTBL(9)) & REMOTE_IRR);
	/* in service: nothing more until the EOI */
	virq_set_level(&test_part.vdevs, 9, true);
	virq_pulse(&test_part.vdevs, 9);
	assert_int_equal(sent_count, 1);
	virq_set_level(&test_part.vdevs, 9, true);
	virq_eoi(&test_part.vdevs, 0x42); /* another vector */
	assert_int_equal(sent_count, 1);
	/* still asserted at the EOI: sent again */
	virq_eoi(&test_part.vdevs, 0x41);
	expect_sent(2, 0x03, true, 0, 0x41, true);
	assert_true(reg_read(REDTBL(9)) & REMOTE_IRR);
	/* lowered, then EOI: remote IRR clears and nothing is sent */
	virq_set_level(&test_part.vdevs, 9, false);
	virq_eoi(&test_part.vdevs, 0x41);
	assert_int_equal(sent_count, 2);
	assert_false(reg_read(REDTBL(9)) & REMOTE_IRR);
	virq_set_level(&test_part.vdevs, 9, true);
	expect_sent(3, 0x03, true, 0, 0x41, true);
}

static void test_level_eoi_register(void **state)
{
	(void)state;
	program(11, LEVEL | 0x51, 2);
	virq_set_level(&test_part.vdevs, 11, true);
	expect_sent(1, 2, false, 0, 0x51, true);
	mmio_write(IOEOI, 4, 0x51);
	expect_sent(2, 2, false, 0, 0x51, true);
	virq_set_level(&test_part.vdevs, 11, false);
	mmio_write(IOEOI, 1, 0x51);
	assert_false(reg_read(REDTBL(11)) & REMOTE_IRR);
	assert_int_equal(sent_count, 2);
}

static void test_level_masked_remembers(void **state)
{
	(void)state;
	program(16, LEVEL | MASKED | 0x61, 0);
	virq_set_level(&test_part.vdevs, 16, true);
	assert_int_equal(sent_count, 0);
	/* unmasked while asserted: delivered then */
	program(16, LEVEL | 0x61, 0);
	expect_sent(1, 0, false, 0, 0x61, true);
	/* masked, EOI'd, lowered, unmasked: nothing */
	program(16, LEVEL | MASKED | 0x61, 0);
	virq_eoi(&test_part.vdevs, 0x61);
	assert_int_equal(sent_count, 1);
	virq_set_level(&test_part.vdevs, 16, false);
	program(16, LEVEL | 0x61, 0);
	assert_int_equal(sent_count, 1);
}

static void test_level_pulse_and_to_edge(void **state)
{
	(void)state;
	/* a pulse on a level pin: one message, no resend at the EOI */
	program(10, LEVEL | 0x71, 0);
	virq_pulse(&test_part.vdevs, 10);
	expect_sent(1, 0, false, 0, 0x71, true);
	virq_eoi(&test_part.vdevs, 0x71);
	assert_int_equal(sent_count, 1);
	/* a stuck remote IRR clears when the pin turns edge (Linux's trick
	 * for I/O APICs without the EOI register) */
	virq_pulse(&test_part.vdevs, 10);
	assert_true(reg_read(REDTBL(10)) & REMOTE_IRR);
	program(10, 0x71, 0);
	assert_false(reg_read(REDTBL(10)) & REMOTE_IRR);
}

static void test_polarity_is_logical(void **state)
{
	(void)state;
	/* active low: a device's assertion is still an assertion */
	program(20, LEVEL | ACTIVE_LOW | 0x81, 1);
	virq_set_level(&test_part.vdevs, 20, true);
	expect_sent(1, 1, false, 0, 0x81, true);
	assert_true(reg_read(REDTBL(20)) & ACTIVE_LOW);
}

static void test_modes_and_destinations(void **state)
{
	(void)state;
	program(1, MODE(MODE_LOWEST) | LOGICAL | 0x91, 0xff);
	virq_pulse(&test_part.vdevs, 1);
	expect_sent(1, 0xff, true, MODE_LOWEST, 0x91, false);
	program(2, MODE(MODE_NMI) | LEVEL, 0);
	virq_set_level(&test_part.vdevs, 2, true);
	/* NMI is edge only: no remote IRR, level false */
	expect_sent(2, 0, false, MODE_NMI, 0, false);
	assert_false(reg_read(REDTBL(2)) & REMOTE_IRR);
	program(5, MODE(MODE_INIT), 0xff);
	virq_pulse(&test_part.vdevs, 5);
	expect_sent(3, 0xff, false, MODE_INIT, 0, false);
	/* SMI and ExtINT are dropped, logged once */
	program(6, MODE(MODE_EXTINT) | 0x20, 0);
	program(8, MODE(MODE_SMI), 0);
	virq_pulse(&test_part.vdevs, 6);
	virq_pulse(&test_part.vdevs, 8);
	virq_pulse(&test_part.vdevs, 6);
	assert_int_equal(sent_count, 3);
	assert_int_equal(printk_count, 1);
	assert_non_null(strstr(printk_last, "delivery mode 7 not supported"));
}

static void test_bad_gsi_and_reset(void **state)
{
	struct vdev_registry other;

	(void)state;
	virq_pulse(&test_part.vdevs, PLAT_IOAPIC_PINS);
	virq_set_level(&test_part.vdevs, 1000, true);
	virq_eoi(&test_part.vdevs, 0);
	assert_int_equal(sent_count, 0);
	/* a partition without an I/O APIC: nothing happens */
	memset(&other, 0, sizeof(other));
	virq_pulse(&other, 1);
	virq_set_level(&other, 1, true);
	virq_eoi(&other, 1);
	assert_int_equal(sent_count, 0);

	program(9, LEVEL | 0x41, 0);
	virq_set_level(&test_part.vdevs, 9, true);
	assert_int_equal(sent_count, 1);
	reg_write(REG_ID, 0x0f000000);
	vioapic_type.reset(ioapic);
	/* power-on state: the MADT's ID, all masked, every line low */
	assert_int_equal(reg_read(REG_ID), 3U << 24);
	assert_int_equal(reg_read(REDTBL(9)), MASKED);
	program(9, LEVEL | 0x41, 0);
	assert_int_equal(sent_count, 1);
}

/* --- concurrency ----------------------------------------------------------- */

/* Ticket locks spin long when a holder is preempted: with a busy host,
 * keep the threads few and the loop short. */
#define THREADS 2
#define PULSES 3000

static void *pulser(void *arg)
{
	u32 pin = (u32)(uintptr_t)arg;

	for (int i = 0; i < PULSES; i++) {
		virq_pulse(&test_part.vdevs, pin);
		if (i % 64 == 0)
			virq_set_level(&test_part.vdevs, 12, i % 128 == 0);
		virq_eoi(&test_part.vdevs, 0xa0);
	}
	return NULL;
}

static void test_concurrent_lines(void **state)
{
	pthread_t t[THREADS];

	(void)state;
	for (u32 i = 0; i < THREADS; i++)
		program(i, (u32)(0xb0 + i), 0);
	program(12, LEVEL | 0xa0, 0);
	for (u32 i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, pulser, (void *)(uintptr_t)i), 0);
	for (u32 i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	/* every edge pulse arrived exactly once */
	for (u32 i = 0; i < THREADS; i++)
		assert_int_equal(per_vector[0xb0 + i], PULSES);
	assert_true(per_vector[0xa0] >= 1);
	virq_set_level(&test_part.vdevs, 12, false);
	virq_eoi(&test_part.vdevs, 0xa0);
	assert_false(reg_read(REDTBL(12)) & REMOTE_IRR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identification, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regsel_and_widths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirection_entries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_waiting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edge_while_masked_is_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_remote_irr_and_eoi, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_eoi_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_masked_remembers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_pulse_and_to_edge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_polarity_is_logical, setup, teardown),
		cmocka_unit_test_setup_teardown(test_modes_and_destinations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_gsi_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_lines, setup, teardown),
	};

	return cmocka_run_group_tests_name("vdev_ioapic", tests, NULL, NULL);
}
