/*
 * Declared PCI functions (hv/vdev/vpci_dev.c on the bus of hv/vdev/vpci.c):
 * the header, firmware placement of the BARs, sizing and moving them,
 * decoding only inside the window, dispatch of BAR accesses, mapped BARs
 * following their placement, the capability list, MSI-X (masking, pending
 * bits, messages), INTx, reset, and declarations that are refused.
 */
#include <stdlib.h>

#include "hv/vdev/platform.h"
#include "hv/vdev/vpci.h"
#include "hv/vdev/vpci_dev.h"
#include "tests/unit/test_vdev_fakes.h"
#include "tests/unit/test_virq_fakes.h"

#define SHM_SIZE 0x10000
#define VEC 4
#define ECAM_DEV(slot, reg) (PLAT_ECAM_BASE + ((u64)(slot) << 15) + (reg))

static struct vpci *pci;
static struct vpci_dev dev;
static u8 *shm;

/* what reached the device */
static u32 bar_calls, last_bar;
static u64 last_off, last_val;
static bool last_write;
static u32 resets;

/* the second-level table as the fake host keeps it */
static u64 map_gpa, map_len;
static void *map_mem;
static u32 maps, unmaps;

static int dev_bar_access(struct vpci_dev *d, u32 bar, u64 off, struct vdev_access *a)
{
	assert_ptr_equal(d, &dev);
	bar_calls++;
	last_bar = bar;
	last_off = off;
	last_write = a->write;
	last_val = a->val;
	if (!a->write)
		a->val = 0x1122334455667788ULL;
	return 0;
}

static void dev_reset(struct vpci_dev *d)
{
	assert_ptr_equal(d, &dev);
	resets++;
}

static const struct vpci_dev_ops ops = {
	.bar_access = dev_bar_access,
	.reset = dev_reset,
};

static int fake_map(struct partition *p, u64 gpa, void *mem, u64 len)
{
	assert_ptr_equal(p, &test_part);
	assert_int_equal(map_len, 0); /* one mapping at a time */
	map_gpa = gpa;
	map_len = len;
	map_mem = mem;
	maps++;
	return 0;
}

static void fake_unmap(struct partition *p, u64 gpa, u64 len)
{
	assert_ptr_equal(p, &test_part);
	assert_int_equal(gpa, map_gpa);
	assert_int_equal(len, map_len);
	map_len = 0;
	unmaps++;
}

static u32 slot(void)
{
	return DEVFN_DEV(dev.devfn);
}

static u32 cfg_read(u32 reg, u8 size)
{
	return (u32)mmio_read(ECAM_DEV(slot(), reg), size);
}

static void cfg_write(u32 reg, u8 size, u32 val)
{
	mmio_write(ECAM_DEV(slot(), reg), size, val);
}

static u64 bar_base(u32 i)
{
	u64 lo = cfg_read(PCI_CFG_BAR0 + 4 * i, 4);

	if (lo & PCI_BAR_IO)
		return lo & ~(u64)PCI_BAR_IO_FLAGS;
	if (lo & PCI_BAR_MEM64)
		lo |= (u64)cfg_read(PCI_CFG_BAR0 + 4 * (i + 1), 4) << 32;
	return lo & ~(u64)PCI_BAR_MEM_FLAGS;
}

static void declare(void)
{
	memset(&dev, 0, sizeof(dev));
	dev.vendor = 0x1234;
	dev.device = 0x5678;
	dev.subsys_vendor = 0x1af4;
	dev.subsys_device = 0x1100;
	dev.class_code = PCI_CLASS_MEMORY_RAM;
	dev.revision = 3;
	dev.intx = true;
	dev.bar[0] = (struct vpci_bar){ .size = 0x1000, .type = VPCI_BAR_MEM32 };
	dev.bar[1] = (struct vpci_bar){ .size = 0x1000, .type = VPCI_BAR_MEM32 };
	dev.bar[2] = (struct vpci_bar){ SHM_SIZE, VPCI_BAR_MEM64, true, shm };
	dev.bar[4] = (struct vpci_bar){ .size = 0x20, .type = VPCI_BAR_IO };
	dev.msix_vectors = VEC;
	dev.msix_bar = 1;
	dev.msix_table = 0;
	dev.msix_pba = 0x800;
	dev.ops = &ops;
}

static int setup(void **state)
{
	static const u8 vendor_cap[6] = { 8, 0xaa, 0xbb, 0xcc, 0xdd, 0xee };

	(void)state;
	part_init(1);
	fake_host.map = fake_map;
	fake_host.unmap = fake_unmap;
	fake_virq_clear();
	shm = aligned_alloc(PAGE_SIZE, SHM_SIZE);
	assert_non_null(shm);
	map_len = maps = unmaps = bar_calls = resets = 0;
	pci = create_device(&vpci_type);
	declare();
	assert_int_equal(vpci_add_dev(pci, &dev), 0);
	assert_int_not_equal(vpci_add_cap(&dev, PCI_CAP_ID_VENDOR, vendor_cap, sizeof(vendor_cap)),
			     0);
	vdev_reset_all(&test_part.vdevs); /* firmware places the BARs */
	return 0;
}

static int teardown_dev(void **state)
{
	free(shm);
	return teardown(state);
}

static void test_header(void **state)
{
	(void)state;
	assert_int_equal(slot(), 1); /* the lowest free slot */
	assert_int_equal(cfg_read(PCI_CFG_VENDOR, 4), 0x56781234);
	assert_int_equal(cfg_read(PCI_CFG_REVISION, 4), PCI_CLASS_MEMORY_RAM << 8 | 3);
	assert_int_equal(cfg_read(PCI_CFG_HEADER_TYPE, 1), PCI_HEADER_TYPE_NORMAL);
	assert_int_equal(cfg_read(PCI_CFG_SUBSYS_VENDOR, 4), 0x11001af4);
	assert_int_equal(cfg_read(PCI_CFG_ROM, 4), 0);
	assert_int_equal(cfg_read(PCI_CFG_STATUS, 2), PCI_STATUS_CAP_LIST);
	/* INTA#, on GSI 16 + (slot + 0) % 8, which the line register says */
	assert_int_equal(cfg_read(PCI_CFG_INT_LINE + 1, 1), PCI_INT_PIN_A);
	assert_int_equal(cfg_read(PCI_CFG_INT_LINE, 1), PLAT_PCI_GSI_BASE + 1);
	/* read-only registers stay */
	cfg_write(PCI_CFG_VENDOR, 4, 0);
	cfg_write(PCI_CFG_REVISION, 4, 0);
	cfg_write(PCI_CFG_CAP_PTR, 1, 0x80);
	assert_int_equal(cfg_read(PCI_CFG_VENDOR, 4), 0x56781234);
	assert_int_equal(cfg_read(PCI_CFG_REVISION, 1), 3);
	assert_int_equal(cfg_read(PCI_CFG_CAP_PTR, 1), PCI_CFG_HEADER_SIZE);
	/* the line register is the guest's */
	cfg_write(PCI_CFG_INT_LINE, 1, 11);
	assert_int_equal(cfg_read(PCI_CFG_INT_LINE, 2), PCI_INT_PIN_A << 8 | 11);
	/* nothing in the extended space */
	assert_int_equal(cfg_read(0x100, 4), 0);
}

static void test_capabilities(void **state)
{
	u32 at = cfg_read(PCI_CFG_CAP_PTR, 1);

	(void)state;
	/* MSI-X first: table in BAR 1 at 0, PBA at 0x800, 4 vectors */
	assert_int_equal(cfg_read(at, 1), PCI_CAP_ID_MSIX);
	assert_int_equal(cfg_read(at + PCI_MSIX_CTRL, 2), VEC - 1);
	assert_int_equal(cfg_read(at + PCI_MSIX_TABLE, 4), 0x000 | 1);
	assert_int_equal(cfg_read(at + PCI_MSIX_PBA, 4), 0x800 | 1);
	/* then the vendor capability, with the bytes it was given */
	at = cfg_read(at + 1, 1);
	assert_true(at >= PCI_CFG_HEADER_SIZE + PCI_MSIX_CAP_SIZE && at % 4 == 0);
	assert_int_equal(cfg_read(at, 2), PCI_CAP_ID_VENDOR); /* last: next is 0 */
	assert_int_equal(cfg_read(at + 2, 4), 0xccbbaa08);
	/* capability bytes are read-only */
	cfg_write(at + 2, 4, 0);
	assert_int_equal(cfg_read(at + 2, 4), 0xccbbaa08);
	/* a capability that does not fit */
	assert_int_equal(vpci_add_cap(&dev, PCI_CAP_ID_VENDOR, shm, 200), 0);
}

static void test_firmware_placement(void **state)
{
	(void)state;
	/* the largest first, each naturally aligned, decoding on */
	assert_int_equal(bar_base(2), PLAT_PCI_MMIO_BASE);
	assert_int_equal(bar_base(0), PLAT_PCI_MMIO_BASE + SHM_SIZE);
	assert_int_equal(bar_base(1), PLAT_PCI_MMIO_BASE + SHM_SIZE + 0x1000);
	assert_int_equal(bar_base(4), PLAT_PCI_IO_BASE);
	assert_int_equal(cfg_read(PCI_CFG_BAR0 + 8, 4) & PCI_BAR_MEM_FLAGS,
			 PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
	assert_int_equal(cfg_read(PCI_CFG_BAR0 + 12, 4), 0);
	assert_int_equal(cfg_read(PCI_CFG_BAR0 + 20, 4), 0);
	assert_int_equal(cfg_read(PCI_CFG_COMMAND, 2), PCI_CMD_IO | PCI_CMD_MEMORY);
	/* the mapped BAR is in the second-level table, where it was placed */
	assert_int_equal(maps, 1);
	assert_int_equal(map_gpa, PLAT_PCI_MMIO_BASE);
	assert_int_equal(map_len, SHM_SIZE);
	assert_ptr_equal(map_mem, shm);
	assert_int_equal(resets, 1);
}

static void test_sizing(void **state)
{
	u32 old = cfg_read(PCI_CFG_BAR0, 4);

	(void)state;
	cfg_write(PCI_CFG_BAR0, 4, 0xffffffff);
	assert_int_equal(cfg_read(PCI_CFG_BAR0, 4), 0xfffff000);
	cfg_write(PCI_CFG_BAR0, 4, old);
	assert_int_equal(cfg_read(PCI_CFG_BAR0, 4), old);
	/* the 64-bit BAR: both halves */
	cfg_write(PCI_CFG_BAR0 + 8, 4, 0xffffffff);
	cfg_write(PCI_CFG_BAR0 + 12, 4, 0xffffffff);
	assert_int_equal(cfg_read(PCI_CFG_BAR0 + 8, 4),
			 (u32) ~(SHM_SIZE - 1) | PCI_BAR_MEM64 | PCI_BAR_PREFETCH);
	assert_int_equal(cfg_read(PCI_CFG_BAR0 + 12, 4), 0xffffffff);
	/* sized to all-ones, it left the window: unmapped */
	assert_int_equal(map_len, 0);
	/* an I/O BAR */
	cfg_write(PCI_CFG_BAR0 + 16, 4, 0xffffffff);
	assert_int_equal(cfg_read(PCI_CFG_BAR0 + 16, 4), 0xffffffe1);
	/* unused slots stay 0 */
	cfg_write(PCI_CFG_BAR0 + 20, 4, 0xffffffff);
	assert_int_equal(cfg_read(PCI_CFG_BAR0 + 20, 4), 0);
	/* a byte write changes its byte of the address only */
	cfg_write(PCI_CFG_BAR0 + 1, 1, 0x50);
	assert_int_equal(cfg_read(PCI_CFG_BAR0, 4), (old & 0xffff00ff) | 0x5000);
}

static void test_dispatch(void **state)
{
	u64 b0 = bar_base(0), io = bar_base(4);

	(void)state;
	assert_int_equal(mmio_read(b0 + 0x10, 4), 0x55667788);
	assert_int_equal(bar_calls, 1);
	assert_int_equal(last_bar, 0);
	assert_int_equal(last_off, 0x10);
	mmio_write(b0 + 0xff8, 8, 0xabcdef);
	assert_true(last_write && last_off == 0xff8 && last_val == 0xabcdef);
	assert_int_equal(io_in((u16)(io + 3), 1), 0x88);
	assert_int_equal(last_bar, 4);
	assert_int_equal(last_off, 3);
	/* the window's I/O range exists once a function has an I/O BAR */
	assert_null(vdev_find_io(&test_part.vdevs, PLAT_PCI_IO_BASE - 1));
	/* a mapped BAR reached by a fault: its memory */
	mmio_write(bar_base(2) + 0x100, 4, 0xfeedf00d);
	assert_int_equal(*(u32 *)(shm + 0x100), 0xfeedf00d);
	assert_int_equal(mmio_read(bar_base(2) + 0x100, 2), 0xf00d);
	assert_int_equal(mmio_read(bar_base(2) + SHM_SIZE - 4, 8), ~0ULL & 0xffffffffffffffffULL);
	/* nothing decoded there: open bus */
	bar_calls = 0;
	assert_int_equal(mmio_read(PLAT_PCI_MMIO_BASE + 0x100000, 4), 0xffffffff);
	assert_int_equal(bar_calls, 0);
}

static void test_decoding_follows_command_and_window(void **state)
{
	u64 b0 = bar_base(0), b2 = bar_base(2);

	(void)state;
	/* memory decoding off: no BAR, the mapping goes */
	cfg_write(PCI_CFG_COMMAND, 2, PCI_CMD_IO);
	assert_int_equal(map_len, 0);
	assert_int_equal(unmaps, 1);
	bar_calls = 0;
	assert_int_equal(mmio_read(b0, 4), 0xffffffff);
	assert_int_equal(bar_calls, 0);
	/* on again: mapped again where it is */
	cfg_write(PCI_CFG_COMMAND, 2, PCI_CMD_IO | PCI_CMD_MEMORY | PCI_CMD_MASTER);
	assert_int_equal(map_gpa, b2);
	assert_int_equal(maps, 2);
	assert_true(vpci_bus_master(&dev));
	/* moved: unmapped there, mapped here */
	cfg_write(PCI_CFG_BAR0 + 8, 4, (u32)(b2 + 0x100000) | 0xf);
	assert_int_equal(map_gpa, b2 + 0x100000);
	assert_int_equal(bar_base(2), b2 + 0x100000);
	/* placed over RAM, the LAPIC or above 4 GiB: outside the window, not
	 * decoded, not mapped */
	cfg_write(PCI_CFG_BAR0 + 8, 4, 0x80000000);
	assert_int_equal(map_len, 0);
	cfg_write(PCI_CFG_BAR0 + 8, 4, (u32)PLAT_PCI_MMIO_BASE);
	cfg_write(PCI_CFG_BAR0 + 12, 4, 1);
	assert_int_equal(map_len, 0);
	cfg_write(PCI_CFG_BAR0 + 12, 4, 0);
	assert_int_equal(map_gpa, PLAT_PCI_MMIO_BASE);
	/* the last page of the window; an unaligned address is aligned down */
	cfg_write(PCI_CFG_BAR0, 4, (u32)(PLAT_PCI_MMIO_BASE + PLAT_PCI_MMIO_SIZE - 0x1000));
	assert_int_equal(mmio_read(PLAT_PCI_MMIO_BASE + PLAT_PCI_MMIO_SIZE - 0x1000, 4),
			 0x55667788);
	cfg_write(PCI_CFG_BAR0 + 8, 4, (u32)(PLAT_PCI_MMIO_BASE + PLAT_PCI_MMIO_SIZE - 0x8000));
	assert_int_equal(map_gpa, PLAT_PCI_MMIO_BASE + PLAT_PCI_MMIO_SIZE - SHM_SIZE);
	/* I/O decoding off */
	cfg_write(PCI_CFG_COMMAND, 2, PCI_CMD_MEMORY);
	assert_int_equal(io_in((u16)PLAT_PCI_IO_BASE, 1), 0xff);
}

static void set_entry(u32 vec, u32 addr, u32 data, u32 ctrl)
{
	u64 t = bar_base(1) + vec * PCI_MSIX_ENTRY_SIZE;

	mmio_write(t, 8, addr); /* a qword write: address low and high */
	mmio_write(t + 8, 4, data);
	mmio_write(t + 12, 4, ctrl);
}

static void msix_ctrl(u16 ctrl)
{
	cfg_write(cfg_read(PCI_CFG_CAP_PTR, 1) + PCI_MSIX_CTRL, 2, ctrl);
}

static void test_msix(void **state)
{
	u64 t = bar_base(1), pba = t + 0x800;

	(void)state;
	/* after reset every vector is masked */
	for (u32 v = 0; v < VEC; v++)
		assert_int_equal(mmio_read(t + v * 16 + 12, 4), PCI_MSIX_ENTRY_MASKED);
	/* disabled: nothing, not even pending */
	vpci_msix_notify(&dev, 0);
	assert_int_equal(mmio_read(pba, 8), 0);
	msix_ctrl(PCI_MSIX_CTRL_ENABLE);
	assert_true(vpci_msix_enabled(&dev));
	assert_int_equal(cfg_read(cfg_read(PCI_CFG_CAP_PTR, 1) + PCI_MSIX_CTRL, 2),
			 PCI_MSIX_CTRL_ENABLE | (VEC - 1));
	/* masked: pending */
	set_entry(2, 0xfee01000 | 3, 0x41, PCI_MSIX_ENTRY_MASKED);
	assert_int_equal(mmio_read(t + 2 * 16, 4), 0xfee01000); /* bits 1:0 read 0 */
	vpci_msix_notify(&dev, 2);
	assert_int_equal(fake_msg_count, 0);
	assert_int_equal(mmio_read(pba, 4), BIT(2));
	/* unmasked: the pending message goes out */
	mmio_write(t + 2 * 16 + 12, 4, 0xfffffffe);
	assert_int_equal(mmio_read(t + 2 * 16 + 12, 4), 0); /* reserved bits read 0 */
	assert_int_equal(fake_msg_count, 1);
	assert_ptr_equal(fake_msgs[0].reg, &test_part.vdevs);
	assert_int_equal(fake_msgs[0].dest, 1);
	assert_int_equal(fake_msgs[0].vector, 0x41);
	assert_false(fake_msgs[0].logical);
	assert_int_equal(mmio_read(pba, 8), 0);
	/* logical destination, lowest priority */
	set_entry(1, 0xfee03004, 0x0150, 0);
	vpci_msix_notify(&dev, 1);
	assert_int_equal(fake_msg_count, 2);
	assert_true(fake_msgs[1].logical);
	assert_int_equal(fake_msgs[1].dest, 3);
	assert_int_equal(fake_msgs[1].mode, 1);
	assert_int_equal(fake_msgs[1].vector, 0x50);
	/* the function mask holds them all */
	msix_ctrl(PCI_MSIX_CTRL_ENABLE | PCI_MSIX_CTRL_MASKALL);
	vpci_msix_notify(&dev, 1);
	vpci_msix_notify(&dev, 2);
	assert_int_equal(fake_msg_count, 2);
	assert_int_equal(mmio_read(pba, 1), BIT(1) | BIT(2));
	msix_ctrl(PCI_MSIX_CTRL_ENABLE);
	assert_int_equal(fake_msg_count, 4);
	/* an address that is no local APIC's: nothing leaves */
	set_entry(3, 0xfed00000, 0x30, 0);
	vpci_msix_notify(&dev, 3);
	set_entry(3, 0xfee00000, 0x30, 0);
	mmio_write(t + 3 * 16 + 4, 4, 1); /* above 4 GiB */
	vpci_msix_notify(&dev, 3);
	assert_int_equal(fake_msg_count, 4);
	assert_int_equal(dev.msi_dropped, 2);
	/* vectors beyond the table, odd accesses, the PBA's writes: nothing */
	vpci_msix_notify(&dev, VEC);
	mmio_write(pba, 8, ~0ULL);
	assert_int_equal(mmio_read(pba, 8), 0);
	assert_int_equal(mmio_read(t + 2, 2), 0xffff);
	assert_int_equal(mmio_read(t + 4, 8), ~0ULL);
	assert_int_equal(fake_msg_count, 4);
	/* the rest of the BAR is the device's */
	bar_calls = 0;
	mmio_read(t + VEC * 16, 4);
	mmio_read(t + 0x808, 4);
	assert_int_equal(bar_calls, 2);
}

static void test_intx(void **state)
{
	u32 gsi = PLAT_PCI_GSI_BASE + 1;

	(void)state;
	vpci_intx(&dev, true);
	assert_true(fake_gsi[gsi]);
	assert_int_equal(cfg_read(PCI_CFG_STATUS, 2), PCI_STATUS_CAP_LIST | PCI_STATUS_INTX);
	/* disabled in the command register: the line drops, the status stays */
	cfg_write(PCI_CFG_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_INTX_DISABLE);
	assert_false(fake_gsi[gsi]);
	assert_int_equal(cfg_read(PCI_CFG_STATUS, 2) & PCI_STATUS_INTX, PCI_STATUS_INTX);
	cfg_write(PCI_CFG_COMMAND, 2, PCI_CMD_MEMORY);
	assert_true(fake_gsi[gsi]);
	/* MSI-X on: no INTx (6.8.2.3) */
	msix_ctrl(PCI_MSIX_CTRL_ENABLE);
	assert_false(fake_gsi[gsi]);
	msix_ctrl(0);
	assert_true(fake_gsi[gsi]);
	vpci_intx(&dev, false);
	assert_false(fake_gsi[gsi]);
	assert_int_equal(cfg_read(PCI_CFG_STATUS, 2), PCI_STATUS_CAP_LIST);
}

static void test_reset(void **state)
{
	(void)state;
	cfg_write(PCI_CFG_BAR0, 4, (u32)PLAT_PCI_MMIO_BASE + 0x200000);
	cfg_write(PCI_CFG_BAR0 + 8, 4, (u32)PLAT_PCI_MMIO_BASE + 0x400000);
	cfg_write(PCI_CFG_COMMAND, 2, PCI_CMD_MEMORY | PCI_CMD_MASTER);
	msix_ctrl(PCI_MSIX_CTRL_ENABLE);
	set_entry(0, 0xfee00000, 0x40, 0);
	vpci_intx(&dev, true);
	vdev_reset_all(&test_part.vdevs);
	assert_int_equal(resets, 2);
	assert_int_equal(bar_base(0), PLAT_PCI_MMIO_BASE + SHM_SIZE);
	assert_int_equal(bar_base(2), PLAT_PCI_MMIO_BASE);
	assert_int_equal(map_gpa, PLAT_PCI_MMIO_BASE);
	assert_int_equal(map_len, SHM_SIZE);
	assert_int_equal(cfg_read(PCI_CFG_COMMAND, 2), PCI_CMD_IO | PCI_CMD_MEMORY);
	assert_false(vpci_msix_enabled(&dev));
	assert_int_equal(mmio_read(bar_base(1) + 12, 4), PCI_MSIX_ENTRY_MASKED);
	assert_false(fake_gsi[PLAT_PCI_GSI_BASE + 1]);
}

/* Declarations the transport refuses. */
static void test_bad_declarations(void **state)
{
	static u8 page[2 * PAGE_SIZE] __aligned(PAGE_SIZE);
	struct vpci_dev d;

	(void)state;
#define REFUSED(...)                                                                   \
	do {                                                                           \
		d = dev;                                                               \
		__VA_ARGS__;                                                           \
		assert_int_equal(vpci_dev_init(&d, &test_part.vdevs, 0x10), -E_INVAL); \
	} while (0)
	REFUSED(d.bar[0].size = 0x1800);
	REFUSED(d.bar[0].size = 8);
	REFUSED(d.bar[4].size = 2);
	REFUSED(d.bar[0].size = PLAT_PCI_MMIO_SIZE * 2);
	REFUSED(d.bar[3].type = VPCI_BAR_MEM32); /* the high half of BAR 2 */
	REFUSED(d.bar[5] = (struct vpci_bar){ 0x1000, VPCI_BAR_MEM64, false, NULL });
	REFUSED(d.bar[0].mem = page + 8);			    /* not page-aligned */
	REFUSED((d.bar[0].mem = page, d.bar[0].size = 0x100));	    /* less than a page */
	REFUSED(d.bar[4].mem = page);				    /* I/O */
	REFUSED(d.bar[5] = (struct vpci_bar){ 0, 9, false, NULL }); /* no such type */
	REFUSED(d.msix_vectors = VPCI_MSIX_MAX + 1);
	REFUSED(d.msix_bar = 2); /* mapped */
	REFUSED(d.msix_bar = 4); /* I/O */
	REFUSED(d.msix_bar = 3);
	REFUSED(d.msix_bar = 6);
	REFUSED(d.msix_table = 0xff8); /* beyond the BAR */
	REFUSED(d.msix_pba = 0x10);    /* inside the table */
	REFUSED(d.msix_table = 4);     /* not qword-aligned */
#undef REFUSED
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_header, setup, teardown_dev),
		cmocka_unit_test_setup_teardown(test_capabilities, setup, teardown_dev),
		cmocka_unit_test_setup_teardown(test_firmware_placement, setup, teardown_dev),
		cmocka_unit_test_setup_teardown(test_sizing, setup, teardown_dev),
		cmocka_unit_test_setup_teardown(test_dispatch, setup, teardown_dev),
		cmocka_unit_test_setup_teardown(test_decoding_follows_command_and_window, setup,
						teardown_dev),
		cmocka_unit_test_setup_teardown(test_msix, setup, teardown_dev),
		cmocka_unit_test_setup_teardown(test_intx, setup, teardown_dev),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown_dev),
		cmocka_unit_test_setup_teardown(test_bad_declarations, setup, teardown_dev),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
