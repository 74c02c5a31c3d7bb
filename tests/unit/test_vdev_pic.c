/*
 * The 8259A pair (hv/vdev/vpic.c): Linux's probe and initialisation
 * sequence (arch/x86/kernel/i8259.c, replayed as port writes), IMR
 * readback, the OCW2/OCW3 commands, the ELCR, and wide accesses.
 */
#include "hv/vdev/platform.h"
#include "hv/vdev/vpic.h"
#include "tests/unit/test_vdev_fakes.h"

#define M_CMD PLAT_PIC1_PORT
#define M_IMR (PLAT_PIC1_PORT + 1)
#define S_CMD PLAT_PIC2_PORT
#define S_IMR (PLAT_PIC2_PORT + 1)

static struct vpic *pic;

static void pic_out(u16 port, u8 v)
{
	io_out(port, 1, v);
}

static u8 pic_in(u16 port)
{
	return (u8)io_in(port, 1);
}

static int setup(void **state)
{
	(void)state;
	part_init(1);
	pic = create_device(&vpic_type);
	assert_non_null(pic);
	return 0;
}

static void test_power_on_masked(void **state)
{
	(void)state;
	assert_int_equal(pic_in(M_IMR), 0xff);
	assert_int_equal(pic_in(S_IMR), 0xff);
	assert_int_equal(pic_in(M_CMD), 0); /* IRR */
	assert_int_equal(pic_in(S_CMD), 0);
}

/* Linux's probe_8259A: mask the slave, write a pattern, read it back. */
static void test_linux_probe(void **state)
{
	(void)state;
	pic_out(S_IMR, 0xff);
	pic_out(M_IMR, 0xfb);
	assert_int_equal(pic_in(M_IMR), 0xfb);
	for (u32 v = 0; v < 256; v++) {
		pic_out(M_IMR, (u8)v);
		pic_out(S_IMR, (u8)~v);
		assert_int_equal(pic_in(M_IMR), v);
		assert_int_equal(pic_in(S_IMR), (u8)~v);
	}
}

/* Linux's init_8259A(0): ICW1-ICW4 on both chips, then the saved masks. */
static void test_linux_init_sequence(void **state)
{
	(void)state;
	pic_out(M_IMR, 0xff);
	pic_out(S_IMR, 0xff);
	pic_out(M_CMD, 0x11);		       /* ICW1: edge, cascade, ICW4 */
	assert_int_equal(pic_in(M_IMR), 0x00); /* ICW1 clears the IMR */
	pic_out(M_IMR, 0x30);		       /* ICW2: vectors 0x30-0x37 */
	pic_out(M_IMR, 0x04);		       /* ICW3: slave on IR2 */
	pic_out(M_IMR, 0x01);		       /* ICW4: 8086 mode */
	assert_int_equal(pic_in(M_IMR), 0x00); /* the ICWs did not land in the IMR */
	pic_out(S_CMD, 0x11);
	pic_out(S_IMR, 0x38);
	pic_out(S_IMR, 0x02); /* ICW3: slave ID 2 */
	pic_out(S_IMR, 0x01);
	assert_int_equal(pic_in(S_IMR), 0x00);
	pic_out(M_IMR, 0xfb); /* OCW1: the cached masks */
	pic_out(S_IMR, 0xff);
	assert_int_equal(pic_in(M_IMR), 0xfb);
	assert_int_equal(pic_in(S_IMR), 0xff);
	/* masking and unmasking single lines, as disable_8259A_irq does */
	pic_out(M_IMR, pic_in(M_IMR) | 0x10);
	assert_int_equal(pic_in(M_IMR), 0xfb);
	pic_out(M_IMR, pic_in(M_IMR) & (u8)~0x10);
	assert_int_equal(pic_in(M_IMR), 0xeb);
}

static void test_short_init_sequences(void **state)
{
	(void)state;
	/* single chip, no ICW4: ICW2 then OCW1 */
	pic_out(M_CMD, 0x12);
	pic_out(M_IMR, 0x08);
	pic_out(M_IMR, 0x5a);
	assert_int_equal(pic_in(M_IMR), 0x5a);
	/* cascade, no ICW4: ICW2, ICW3, then OCW1 */
	pic_out(S_CMD, 0x10);
	pic_out(S_IMR, 0x70);
	pic_out(S_IMR, 0x02);
	pic_out(S_IMR, 0xa5);
	assert_int_equal(pic_in(S_IMR), 0xa5);
	/* single chip with ICW4 */
	pic_out(M_CMD, 0x13);
	pic_out(M_IMR, 0x08);
	pic_out(M_IMR, 0x03); /* ICW4 (AEOI) */
	pic_out(M_IMR, 0x3c);
	assert_int_equal(pic_in(M_IMR), 0x3c);
}

static void test_ocw2_ocw3(void **state)
{
	(void)state;
	pic_out(M_IMR, 0x81);
	/* OCW3: read ISR, read IRR; nothing is ever pending */
	pic_out(M_CMD, 0x0b);
	assert_int_equal(pic_in(M_CMD), 0);
	pic_out(M_CMD, 0x0a);
	assert_int_equal(pic_in(M_CMD), 0);
	/* poll: no interrupt (bit 7 clear), once */
	pic_out(M_CMD, 0x0c);
	assert_int_equal(pic_in(M_CMD), 0);
	/* special mask mode on and off */
	pic_out(M_CMD, 0x68);
	pic_out(M_CMD, 0x48);
	/* OCW2: EOIs, rotation, priority: accepted, the IMR untouched */
	pic_out(M_CMD, 0x20); /* non-specific EOI */
	pic_out(M_CMD, 0x62); /* specific EOI for IR2 */
	pic_out(S_CMD, 0x20);
	pic_out(M_CMD, 0xa0); /* rotate on non-specific EOI */
	pic_out(M_CMD, 0xe3); /* rotate on specific EOI */
	pic_out(M_CMD, 0xc7); /* set priority */
	pic_out(M_CMD, 0x80); /* rotate in AEOI: set */
	pic_out(M_CMD, 0x00); /* and clear */
	pic_out(M_CMD, 0x40); /* no operation */
	assert_int_equal(pic_in(M_IMR), 0x81);
	assert_int_equal(pic_in(M_CMD), 0);
}

static void test_elcr(void **state)
{
	(void)state;
	assert_int_equal(io_in(PLAT_ELCR_PORT, 1), 0);
	assert_int_equal(io_in(PLAT_ELCR_PORT + 1, 1), 0);
	/* IRQ 0, 1, 2, 8, 13 are edge-only */
	io_out(PLAT_ELCR_PORT, 1, 0xff);
	io_out(PLAT_ELCR_PORT + 1, 1, 0xff);
	assert_int_equal(io_in(PLAT_ELCR_PORT, 1), 0xf8);
	assert_int_equal(io_in(PLAT_ELCR_PORT + 1, 1), 0xde);
	io_out(PLAT_ELCR_PORT, 2, 0x0220); /* IRQ 5 and IRQ 9 level */
	assert_int_equal(io_in(PLAT_ELCR_PORT, 2), 0x0220);
}

static void test_wide_accesses(void **state)
{
	(void)state;
	/* a word at 0x20 is two byte cycles: command then data */
	pic_out(M_IMR, 0x12);
	assert_int_equal(io_in(M_CMD, 2), 0x1200);
	/* a word at 0x21 runs past the chip: the upper byte is open bus */
	assert_int_equal(io_in(M_IMR, 2), 0xff12);
	io_out(M_CMD, 2, 0x3011); /* ICW1 + ICW2 */
	pic_out(M_IMR, 0x04);
	pic_out(M_IMR, 0x01);
	pic_out(M_IMR, 0x77);
	assert_int_equal(pic_in(M_IMR), 0x77);
}

static void test_reset(void **state)
{
	(void)state;
	pic_out(M_IMR, 0);
	pic_out(S_IMR, 0);
	io_out(PLAT_ELCR_PORT + 1, 1, 0x0e);
	pic_out(M_CMD, 0x11); /* mid-sequence */
	vpic_type.reset(pic);
	assert_int_equal(pic_in(M_IMR), 0xff);
	assert_int_equal(pic_in(S_IMR), 0xff);
	assert_int_equal(io_in(PLAT_ELCR_PORT + 1, 1), 0);
	pic_out(M_IMR, 0x42); /* OCW1, not ICW2 */
	assert_int_equal(pic_in(M_IMR), 0x42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_power_on_masked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_linux_init_sequence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_init_sequences, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ocw2_ocw3, setup, teardown),
		cmocka_unit_test_setup_teardown(test_elcr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
	};

	return cmocka_run_group_tests_name("vdev_pic", tests, NULL, NULL);
}
