/*
 * PCI configuration space (hv/vdev/vpci.c): mechanism #1 with byte, word
 * and dword accesses at every offset, ECAM giving the same answers, the
 * host bridge's header and its one writable register, empty slots, and
 * the interface for functions added later.
 */
#include "hv/vdev/platform.h"
#include "hv/vdev/vpci.h"
#include "tests/unit/test_vdev_fakes.h"
#include "tests/unit/test_virq_fakes.h"

#define CF8 PLAT_PCI_CONF_ADDR
#define CFC PLAT_PCI_CONF_DATA
#define ENABLE 0x80000000U

static struct vpci *pci;

static u32 cf8_addr(u32 bus, u32 dev, u32 fn, u32 reg)
{
	return ENABLE | bus << 16 | dev << 11 | fn << 8 | (reg & 0xfc);
}

/* mechanism #1: size bytes at reg (within one dword) */
static u32 conf1_read(u32 bus, u32 dev, u32 fn, u32 reg, u8 size)
{
	io_out(CF8, 4, cf8_addr(bus, dev, fn, reg));
	return (u32)io_in((u16)(CFC + (reg & 3)), size);
}

static void conf1_write(u32 bus, u32 dev, u32 fn, u32 reg, u8 size, u32 val)
{
	io_out(CF8, 4, cf8_addr(bus, dev, fn, reg));
	io_out((u16)(CFC + (reg & 3)), size, val);
}

static u64 ecam(u32 bus, u32 dev, u32 fn, u32 reg)
{
	return PLAT_ECAM_BASE + ((u64)bus << 20 | dev << 15 | fn << 12 | reg);
}

static int setup(void **state)
{
	(void)state;
	part_init(1);
	pci = create_device(&vpci_type);
	assert_non_null(pci);
	return 0;
}

static void test_address_register(void **state)
{
	(void)state;
	assert_int_equal(io_in(CF8, 4), 0);
	/* Linux's pci_check_type1 */
	io_out(CF8, 4, ENABLE);
	assert_int_equal(io_in(CF8, 4), ENABLE);
	/* reserved bits 30:24 and 1:0 read 0 */
	io_out(CF8, 4, 0xffffffff);
	assert_int_equal(io_in(CF8, 4), 0x80fffffc);
	/* byte and word cycles at 0xCF8-0xCFB are not the address register;
	 * 0xCF9 is the reset register (vpm) and not claimed here */
	io_out(CF8, 1, 0x00);
	io_out(CF8, 2, 0x0000);
	assert_int_equal(io_in(CF8, 4), 0x80fffffc);
	assert_int_equal(io_in(CF8, 1), 0xff);
	assert_null(vdev_find_io(&test_part.vdevs, CF8 + 1));
	assert_null(vdev_find_io(&test_part.vdevs, CF8 + 3));
	/* enable clear: no configuration cycle */
	io_out(CF8, 4, 0);
	assert_int_equal(io_in(CFC, 4), 0xffffffff);
	io_out(CFC, 4, 0);
	assert_int_equal(conf1_read(0, 0, 0, 0, 4), 0x29c08086);
}

static void test_host_bridge_header(void **state)
{
	(void)state;
	assert_int_equal(conf1_read(0, 0, 0, 0x00, 2), VPCI_HB_VENDOR);
	assert_int_equal(conf1_read(0, 0, 0, 0x02, 2), VPCI_HB_DEVICE);
	assert_int_equal(conf1_read(0, 0, 0, 0x04, 2), 0x0006); /* memory, master */
	assert_int_equal(conf1_read(0, 0, 0, 0x06, 2), 0);	/* status */
	assert_int_equal(conf1_read(0, 0, 0, 0x08, 4), 0x06000000);
	assert_int_equal(conf1_read(0, 0, 0, 0x0e, 1), 0x00); /* type 0, one function */
	for (u32 reg = 0x10; reg < 0x28; reg += 4)
		assert_int_equal(conf1_read(0, 0, 0, reg, 4), 0); /* no BARs */
	assert_int_equal(conf1_read(0, 0, 0, 0x34, 1), 0);	  /* no capabilities */
	assert_int_equal(conf1_read(0, 0, 0, 0x3d, 1), 0);	  /* no interrupt pin */
	/* the extended space (ECAM only) holds no capability: reads 0 */
	assert_int_equal(mmio_read(ecam(0, 0, 0, 0x100), 4), 0);
	assert_int_equal(mmio_read(ecam(0, 0, 0, 0xffc), 4), 0);
}

/* Byte, word and dword reads at every offset of every function of two
 * devices (one present, one empty), by CF8 and by ECAM, against the
 * dwords they are part of. */
static void test_all_offsets_both_ways(void **state)
{
	static const u8 sizes[] = { 1, 2, 4 };

	(void)state;
	for (u32 devfn = 0; devfn < 2 * VPCI_FNS; devfn++) {
		u32 dev = devfn / VPCI_FNS, fn = devfn % VPCI_FNS;

		for (u32 reg = 0; reg < 256; reg++) {
			u32 dword = conf1_read(0, dev, fn, reg & ~3U, 4);

			assert_int_equal(mmio_read(ecam(0, dev, fn, reg & ~3U), 4), dword);
			if (devfn)
				assert_int_equal(dword, 0xffffffff);
			for (u32 s = 0; s < ARRAY_SIZE(sizes); s++) {
				u8 size = sizes[s];
				u32 mask = size == 4 ? ~0U : (1U << (8 * size)) - 1;
				u32 want = (dword >> (8 * (reg & 3))) & mask;

				if ((reg & 3) + size > 4)
					continue; /* would cross the dword */
				assert_int_equal(conf1_read(0, dev, fn, reg, size), want);
				assert_int_equal(mmio_read(ecam(0, dev, fn, reg), size), want);
			}
		}
	}
	/* every slot but 00:00.0 is empty, by either path */
	for (u32 dev = 0; dev < VPCI_DEVS; dev++)
		for (u32 fn = 0; fn < VPCI_FNS; fn++) {
			u32 want = dev || fn ? 0xffff : VPCI_HB_VENDOR;

			assert_int_equal(conf1_read(0, dev, fn, 0, 2), want);
			assert_int_equal(mmio_read(ecam(0, dev, fn, 0), 2), want);
		}
	/* other buses: nothing (mechanism #1 reaches them, ECAM has one bus) */
	assert_int_equal(conf1_read(1, 0, 0, 0, 4), 0xffffffff);
	assert_int_equal(conf1_read(255, 31, 7, 0xfc, 4), 0xffffffff);
}

static void test_wide_and_odd_accesses(void **state)
{
	(void)state;
	/* ECAM: an 8-byte read is two dwords; an unaligned dword is pieced */
	assert_int_equal(mmio_read(ecam(0, 0, 0, 0), 8), 0x0000000629c08086ULL);
	assert_int_equal(mmio_read(ecam(0, 0, 0, 1), 4), 0x0629c080);
	assert_int_equal(mmio_read(ecam(0, 0, 0, 0xffe), 4), 0xffff0000);
	/* CF8: a dword at 0xCFE covers two bytes of the register and two
	 * ports past the data window */
	io_out(CF8, 4, cf8_addr(0, 0, 0, 0));
	assert_int_equal(io_in(CFC + 2, 4), 0xffff29c0);
	assert_int_equal(io_in(CFC + 3, 2), 0xff29);
}

static void test_writes(void **state)
{
	(void)state;
	/* the command register: the defined bits stick */
	conf1_write(0, 0, 0, 0x04, 2, 0xffff);
	assert_int_equal(conf1_read(0, 0, 0, 0x04, 2), 0x0547);
	conf1_write(0, 0, 0, 0x05, 1, 0x00); /* its high byte alone */
	assert_int_equal(conf1_read(0, 0, 0, 0x04, 2), 0x0047);
	mmio_write(ecam(0, 0, 0, 0x04), 1, 0x02);
	assert_int_equal(mmio_read(ecam(0, 0, 0, 0x04), 2), 0x0002);
	/* a dword write over command and status: the command part only */
	conf1_write(0, 0, 0, 0x04, 4, 0xffff0006);
	assert_int_equal(conf1_read(0, 0, 0, 0x04, 4), 0x00000006);
	/* the rest is read-only: IDs, class, BAR sizing, interrupt line */
	conf1_write(0, 0, 0, 0x00, 4, 0);
	conf1_write(0, 0, 0, 0x08, 4, 0);
	conf1_write(0, 0, 0, 0x10, 4, 0xffffffff);
	mmio_write(ecam(0, 0, 0, 0x3c), 1, 0x0b);
	mmio_write(ecam(0, 0, 0, 0x200), 4, 0x12345678);
	assert_int_equal(conf1_read(0, 0, 0, 0x00, 4), 0x29c08086);
	assert_int_equal(conf1_read(0, 0, 0, 0x08, 4), 0x06000000);
	assert_int_equal(conf1_read(0, 0, 0, 0x10, 4), 0);
	assert_int_equal(conf1_read(0, 0, 0, 0x3c, 1), 0);
	assert_int_equal(mmio_read(ecam(0, 0, 0, 0x200), 4), 0);
	/* writes to empty slots go nowhere */
	conf1_write(0, 3, 0, 0x04, 2, 0x0007);
	assert_int_equal(conf1_read(0, 3, 0, 0x04, 2), 0xffff);
	/* reset: the command register's power-on value, CF8 cleared */
	conf1_write(0, 0, 0, 0x04, 2, 0x0541);
	vpci_type.reset(pci);
	assert_int_equal(io_in(CF8, 4), 0);
	assert_int_equal(conf1_read(0, 0, 0, 0x04, 2), 0x0006);
}

/* --- added functions ------------------------------------------------------ */

struct fake_fn {
	u8 cfg[VPCI_CFG_SIZE];
	int reads, writes, resets;
	u32 last_reg, last_size;
};

static u32 fake_read(void *ctx, u32 reg, u32 size)
{
	struct fake_fn *f = ctx;
	u32 v = 0;

	/* the contract: naturally aligned, never across a dword */
	assert_true(size == 1 || size == 2 || size == 4);
	assert_int_equal(reg % size, 0);
	assert_true(reg + size <= VPCI_CFG_SIZE);
	f->reads++;
	for (u32 i = 0; i < size; i++)
		v |= (u32)f->cfg[reg + i] << (8 * i);
	return v;
}

static void fake_write(void *ctx, u32 reg, u32 size, u32 val)
{
	struct fake_fn *f = ctx;

	assert_true(size == 1 || size == 2 || size == 4);
	assert_int_equal(reg % size, 0);
	f->writes++;
	f->last_reg = reg;
	f->last_size = size;
	for (u32 i = 0; i < size; i++)
		f->cfg[reg + i] = (u8)(val >> (8 * i));
}

static void fake_reset(void *ctx)
{
	((struct fake_fn *)ctx)->resets++;
}

static const struct vpci_func_ops fake_ops = { fake_read, fake_write, fake_reset };

static void test_added_functions(void **state)
{
	static struct fake_fn f;
	static const struct vpci_func_ops no_read = { NULL, fake_write, NULL };

	(void)state;
	memset(&f, 0, sizeof(f));
	for (u32 i = 0; i < VPCI_CFG_SIZE; i++)
		f.cfg[i] = (u8)(i ^ 0x5a);
	assert_int_equal(vpci_add_func(pci, 3, 1, &fake_ops, &f), 0);
	assert_int_equal(vpci_add_func(pci, 3, 1, &fake_ops, &f), -E_EXIST);
	assert_int_equal(vpci_add_func(pci, 0, 0, &fake_ops, &f), -E_EXIST);
	assert_int_equal(vpci_add_func(pci, 32, 0, &fake_ops, &f), -E_INVAL);
	assert_int_equal(vpci_add_func(pci, 0, 8, &fake_ops, &f), -E_INVAL);
	assert_int_equal(vpci_add_func(pci, 4, 0, &no_read, &f), -E_INVAL);

	assert_int_equal(conf1_read(0, 3, 1, 0x00, 4), 0x59585b5a);
	for (u32 reg = 0; reg < VPCI_CFG_SIZE; reg += 7) {
		u32 want = (u32)f.cfg[reg] | (u32)f.cfg[(reg + 1) % VPCI_CFG_SIZE] << 8;

		assert_int_equal(mmio_read(ecam(0, 3, 1, reg), 1), f.cfg[reg]);
		if (reg + 1 < VPCI_CFG_SIZE)
			assert_int_equal(mmio_read(ecam(0, 3, 1, reg), 2), want);
	}
	/* an unaligned ECAM dword reaches the function as 1 + 2 + 1 bytes */
	f.writes = 0;
	mmio_write(ecam(0, 3, 1, 0x41), 4, 0xddccbbaa);
	assert_int_equal(f.writes, 3);
	assert_int_equal(mmio_read(ecam(0, 3, 1, 0x41), 4), 0xddccbbaa);
	conf1_write(0, 3, 1, 0x46, 2, 0x1234);
	assert_int_equal(f.last_reg, 0x46);
	assert_int_equal(f.last_size, 2);
	/* its neighbours stay empty */
	assert_int_equal(conf1_read(0, 3, 0, 0, 4), 0xffffffff);
	assert_int_equal(conf1_read(0, 3, 2, 0, 4), 0xffffffff);
	vpci_type.reset(pci);
	assert_int_equal(f.resets, 1);

	/* the table is bounded */
	for (u32 dev = 4, n = 2; n < VPCI_MAX_FUNCS; dev++, n++)
		assert_int_equal(vpci_add_func(pci, (u8)dev, 0, &fake_ops, &f), 0);
	assert_int_equal(vpci_add_func(pci, 31, 7, &fake_ops, &f), -E_NOMEM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_address_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_bridge_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_offsets_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wide_and_odd_accesses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_added_functions, setup, teardown),
	};

	return cmocka_run_group_tests_name("vdev_pci", tests, NULL, NULL);
}
