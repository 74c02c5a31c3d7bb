/*
 * I/O and MMIO routing (hv/policy/io.c, hv/policy/mmio.c) through the exit
 * dispatch, on a fake backend and a fake guest RAM (tests/unit/fake_vcpu.h):
 * a port or range a device claims reaches it with the right address, width,
 * direction and value, and the result lands in the guest's registers as the
 * hardware would put it; what nobody claims is open bus (reads all-ones,
 * writes dropped, MMIO counted); string I/O; the MMIO instruction fetched
 * from guest memory in real, protected and long mode, decoded and emulated;
 * the page faults it owes the guest; and the cases that contain the
 * partition.
 */
#include "hv/vdev/vdev.h"
#include "tests/unit/fake_vcpu.h"

#define RAM_SIZE (2 * MiB)
#define FILL 0xcc
#define DEV_MMIO 0xfed00000ULL
#define OPEN_BUS 0xfebf0000ULL
#define ONES64 0xffffffffffffffffULL
#define PATTERN 0xaaaaaaaaaaaaaaaaULL

/* A device that records its last access (and the values written, in
 * order) and answers reads with read_val. */
struct test_dev {
	u32 calls;
	struct vdev_access last;
	struct vcpu *v;
	u64 read_val;
	int err;
	u64 written[16];
	u32 writes;
};

static int dev_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	struct test_dev *d = dev;

	d->calls++;
	d->last = *a;
	d->v = v;
	if (!a->write)
		a->val = d->read_val;
	else if (d->writes < ARRAY_SIZE(d->written))
		d->written[d->writes++] = a->val;
	return d->err;
}

static struct test_dev dev, dev2;
static struct vcpu *v;

/* The partition's devices claim their ranges (hv/vdev/vdev.h). */
static void claim_io(struct test_dev *d, u16 base, u16 count)
{
	assert_int_equal(vdev_add_io(&fake_part.vdevs, base, count, dev_access, d), 0);
}

static void claim_mmio(struct test_dev *d, u64 base, u64 size)
{
	assert_int_equal(vdev_add_mmio(&fake_part.vdevs, base, size, dev_access, d), 0);
}

static int setup(void **state)
{
	(void)state;
	memset(&fake_cpu, 0, sizeof(fake_cpu));
	v = fake_part_init(4);
	memset(&dev, 0, sizeof(dev));
	memset(&dev2, 0, sizeof(dev2));
	dev.read_val = 0x1122334455667788ULL;
	dev2.read_val = 0x99;
	return 0;
}

static void expect_access(const struct test_dev *d, u64 addr, u8 size, bool write, u64 val)
{
	assert_int_equal(d->last.addr, addr);
	assert_int_equal(d->last.size, size);
	assert_int_equal(d->last.write, write);
	if (write)
		assert_int_equal(d->last.val, val);
}

/* ---- port I/O ---- */

static enum exit_action port_io(struct vcpu *vc, u16 port, u8 size, bool in)
{
	struct vm_exit e = fake_exit(vc, VMEXIT_IO, 2);

	e.io.port = port;
	e.io.size = size;
	e.io.in = in;
	return exit_dispatch(vc, &e);
}

/* IN from a device: its value, cut to the width; 8 and 16 bits merge into
 * RAX, 32 bits zero-extend (SDM 1 3.4.1.1). */
static void test_in_claimed(void **state)
{
	static const struct {
		u8 size;
		u64 rax;
	} cases[] = {
		{ 1, 0xaaaaaaaaaaaaaa88ULL },
		{ 2, 0xaaaaaaaaaaaa7788ULL },
		{ 4, 0x0000000055667788ULL },
	};

	(void)state;
	claim_io(&dev, 0x3f8, 8);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct vcpu *vc = &fake_vcpus[2];

		vc->gpr[GPR_RAX] = PATTERN;
		assert_int_equal(port_io(vc, 0x3fd, cases[i].size, true), EXIT_RESUME);
		assert_int_equal(vc->gpr[GPR_RAX], cases[i].rax);
		assert_int_equal(dev.calls, i + 1);
		expect_access(&dev, 0x3fd, cases[i].size, false, 0);
		assert_ptr_equal(dev.v, vc);
		assert_int_equal(fake_be(vc)->skips, 1);
		assert_int_equal(fake_be(vc)->skip_len, 2);
	}
}

/* OUT to a device: RAX cut to the width; RAX itself unchanged. */
static void test_out_claimed(void **state)
{
	static const struct {
		u8 size;
		u64 val;
	} cases[] = { { 1, 0x88 }, { 2, 0x7788 }, { 4, 0x55667788 } };

	(void)state;
	claim_io(&dev, 0x3f8, 8);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		v->gpr[GPR_RAX] = 0x1122334455667788ULL;
		assert_int_equal(port_io(v, 0x3f8, cases[i].size, false), EXIT_RESUME);
		expect_access(&dev, 0x3f8, cases[i].size, true, cases[i].val);
		assert_int_equal(v->gpr[GPR_RAX], 0x1122334455667788ULL);
		assert_int_equal(fake_be(v)->skips, 1);
	}
}

/* A range is [base, base + count); each port goes to its own device. */
static void test_port_ranges(void **state)
{
	(void)state;
	claim_io(&dev, 0x3f8, 8);
	claim_io(&dev2, 0x64, 1);
	port_io(v, 0x3ff, 1, true);
	assert_int_equal(dev.calls, 1);
	port_io(v, 0x3f7, 1, true);
	port_io(v, 0x400, 1, true);
	port_io(v, 0x63, 1, true);
	port_io(v, 0x65, 1, false);
	assert_int_equal(dev.calls, 1);
	assert_int_equal(dev2.calls, 0);
	v->gpr[GPR_RAX] = 0;
	port_io(v, 0x64, 1, true);
	assert_int_equal(dev2.calls, 1);
	assert_int_equal(v->gpr[GPR_RAX], 0x99);
	assert_int_equal(dev.calls, 1);
}

/* Nobody there (default deny): reads all-ones, writes dropped, resumed past. */
static void test_unclaimed_ports(void **state)
{
	static const struct {
		u8 size;
		u64 rax;
	} cases[] = {
		{ 1, 0x12345678abcdefffULL },
		{ 2, 0x12345678abcdffffULL },
		{ 4, 0x00000000ffffffffULL },
	};
	static const u16 ports[] = { 0x0, 0x80, 0xcf8, 0xcfc, 0x3f8, 0xffff };

	(void)state;
	claim_io(&dev, 0x2f8, 8);
	for (size_t p = 0; p < ARRAY_SIZE(ports); p++) {
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			v->gpr[GPR_RAX] = 0x12345678abcdef01ULL;
			assert_int_equal(port_io(v, ports[p], cases[i].size, true), EXIT_RESUME);
			assert_int_equal(v->gpr[GPR_RAX], cases[i].rax);
			assert_int_equal(fake_be(v)->skips, 1);
			v->gpr[GPR_RAX] = 0x12345678abcdef01ULL;
			assert_int_equal(port_io(v, ports[p], cases[i].size, false), EXIT_RESUME);
			assert_int_equal(v->gpr[GPR_RAX], 0x12345678abcdef01ULL);
			assert_int_equal(fake_be(v)->skips, 1);
			assert_int_equal(fake_be(v)->applies, 0);
		}
	}
	assert_int_equal(dev.calls, 0);
	assert_null(fake_part.stop_reason);
}

/* A device that fails an access: the read is all-ones, the write lost. */
static void test_port_device_error(void **state)
{
	(void)state;
	claim_io(&dev, 0x70, 2);
	dev.err = -E_INVAL;
	v->gpr[GPR_RAX] = 0;
	assert_int_equal(port_io(v, 0x71, 2, true), EXIT_RESUME);
	assert_int_equal(v->gpr[GPR_RAX], 0xffff);
	assert_int_equal(port_io(v, 0x70, 1, false), EXIT_RESUME);
	assert_int_equal(dev.calls, 2);
	assert_int_equal(fake_be(v)->skips, 1);
	assert_null(fake_part.stop_reason);
}

/* ---- MMIO ---- */

#define CODE 0x10000ULL /* where the instructions go */
#define DATA 0x30000ULL /* RAM a MOVS reads or writes */

/* Flat 32-bit protected mode, paging off. */
static void guest_protected(struct vcpu *vc)
{
	struct vcpu_state *hw = &fake_be(vc)->hw;

	hw->cr0 = CR0_PE | CR0_ET;
	hw->rflags = RFLAGS_FIXED;
	hw->cs =
		(struct seg){ 0x8,
			      SEG_TYPE_CODE_RX | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G,
			      0xffffffff, 0 };
	hw->ds = hw->es = hw->ss =
		(struct seg){ 0x10,
			      SEG_TYPE_DATA_RW | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_DB | SEG_ATTR_G,
			      0xffffffff, 0 };
	hw->rip = CODE;
}

/* Real mode: code at CS.base 0x1000 (selector 0x100). */
static void guest_real(struct vcpu *vc)
{
	struct vcpu_state *hw = &fake_be(vc)->hw;

	hw->cr0 = CR0_ET;
	hw->rflags = RFLAGS_FIXED;
	hw->cs = (struct seg){ 0x100, SEG_TYPE_CODE_RX | SEG_ATTR_S | SEG_ATTR_P, 0xffff, 0x1000 };
	hw->ds = hw->es = hw->ss =
		(struct seg){ 0, SEG_TYPE_DATA_RW | SEG_ATTR_S | SEG_ATTR_P, 0xffff, 0 };
	hw->rip = 0xf000; /* linear 0x10000 = CODE */
}

/*
 * 64-bit mode, 4-level paging: the first 2 MiB identity-mapped with 4 KiB
 * pages (except what a test unmaps), the device window with a 2 MiB page.
 */
#define PML4 0x1000ULL
#define PDPT 0x2000ULL
#define PD_LOW 0x3000ULL
#define PT_LOW 0x4000ULL
#define PD_HIGH 0x5000ULL
#define PTE_P BIT(0)
#define PTE_RW BIT(1)
#define PTE_PS BIT(7)

static void put64(u64 gpa, u64 val)
{
	memcpy(fake_ram_ptr(&fake_guest_ram, gpa, 8), &val, 8);
}

static void unmap_page(u64 gla)
{
	put64(PT_LOW + (gla >> PAGE_SHIFT) * 8, 0);
}

static void guest_long(struct vcpu *vc)
{
	struct vcpu_state *hw = &fake_be(vc)->hw;

	put64(PML4, PDPT | PTE_P | PTE_RW);
	put64(PDPT, PD_LOW | PTE_P | PTE_RW);
	put64(PDPT + 3 * 8, PD_HIGH | PTE_P | PTE_RW);
	put64(PD_LOW, PT_LOW | PTE_P | PTE_RW);
	for (u64 i = 0; i < 512; i++)
		put64(PT_LOW + i * 8, (i << PAGE_SHIFT) | PTE_P | PTE_RW);
	put64(PD_HIGH + ((DEV_MMIO >> 21) & 511) * 8,
	      (DEV_MMIO & ~(LARGE_PAGE_SIZE - 1)) | PTE_P | PTE_RW | PTE_PS);
	hw->cr0 = CR0_PE | CR0_ET | CR0_PG;
	hw->cr3 = PML4;
	hw->cr4 = CR4_PAE;
	hw->efer = EFER_LME | EFER_LMA | EFER_NXE;
	hw->rflags = RFLAGS_FIXED;
	hw->cs = (struct seg){ 0x8,
			       SEG_TYPE_CODE_RX | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_L | SEG_ATTR_G,
			       0xffffffff, 0 };
	hw->ds = hw->es = hw->ss =
		(struct seg){ 0x10, SEG_TYPE_DATA_RW | SEG_ATTR_S | SEG_ATTR_P | SEG_ATTR_G,
			      0xffffffff, 0 };
	hw->rip = CODE;
}

static void code(u64 gla, const char *bytes, size_t len)
{
	memcpy(fake_ram_ptr(&fake_guest_ram, gla, len), bytes, len);
}

static enum exit_action mmio(struct vcpu *vc, u64 gpa, u8 access)
{
	struct vm_exit e = fake_exit(vc, VMEXIT_SLAT_FAULT, 0);

	e.slat.gpa = gpa;
	e.slat.access = access;
	return exit_dispatch(vc, &e);
}

static void ram_and_device(void)
{
	fake_ram_add(&fake_guest_ram, 0, RAM_SIZE, FILL);
	claim_mmio(&dev, DEV_MMIO, PAGE_SIZE);
}

/* Emulated, RIP past the instruction, both stored; no skip, no event. */
static void expect_emulated(struct vcpu *vc, u64 rip)
{
	struct fake_backend *b = fake_be(vc);

	assert_int_equal(b->hw.rip, rip);
	assert_int_equal(b->stored & (VS_RIP | VS_RFLAGS), VS_RIP | VS_RFLAGS);
	assert_int_equal(b->skips, 0);
	assert_int_equal(b->applies, 0);
	assert_null(fake_part.stop_reason);
}

/* mov eax, [disp32] / mov [disp32], ebx / mov byte [disp32], imm8 /
 * mov cx, [disp32] / movzx eax, byte [disp32], in 32-bit code. */
static void test_mmio_protected_mode(void **state)
{
	(void)state;
	ram_and_device();
	guest_protected(v);

	code(CODE, "\x8b\x05\x10\x00\xd0\xfe", 6);
	v->gpr[GPR_RAX] = PATTERN;
	assert_int_equal(mmio(v, DEV_MMIO + 0x10, EXIT_ACCESS_READ), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x10, 4, false, 0);
	assert_ptr_equal(dev.v, v);
	assert_int_equal(v->gpr[GPR_RAX], 0x55667788);
	expect_emulated(v, CODE + 6);

	code(CODE + 6, "\x89\x1d\x14\x00\xd0\xfe", 6);
	v->gpr[GPR_RBX] = 0xffffffff87654321ULL;
	assert_int_equal(mmio(v, DEV_MMIO + 0x14, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x14, 4, true, 0x87654321);
	expect_emulated(v, CODE + 12);

	code(CODE + 12, "\xc6\x05\x18\x00\xd0\xfe\x5a", 7);
	assert_int_equal(mmio(v, DEV_MMIO + 0x18, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x18, 1, true, 0x5a);
	expect_emulated(v, CODE + 19);

	code(CODE + 19, "\x66\x8b\x0d\x1c\x00\xd0\xfe", 7);
	v->gpr[GPR_RCX] = PATTERN;
	assert_int_equal(mmio(v, DEV_MMIO + 0x1c, EXIT_ACCESS_READ), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x1c, 2, false, 0);
	assert_int_equal(v->gpr[GPR_RCX], 0xaaaaaaaaaaaa7788ULL);
	expect_emulated(v, CODE + 26);

	code(CODE + 26, "\x0f\xb6\x05\x1d\x00\xd0\xfe", 7);
	v->gpr[GPR_RAX] = PATTERN;
	assert_int_equal(mmio(v, DEV_MMIO + 0x1d, EXIT_ACCESS_READ), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x1d, 1, false, 0);
	assert_int_equal(v->gpr[GPR_RAX], 0x88);
	expect_emulated(v, CODE + 33);
	assert_int_equal(dev.calls, 5);
	assert_int_equal(fake_part.open_bus_accesses, 0);
}

/* mov ax, [0x10] (moffs) in real mode: the fetch adds CS.base. */
static void test_mmio_real_mode(void **state)
{
	(void)state;
	ram_and_device();
	guest_real(v);
	code(CODE, "\xa1\x10\x00", 3);
	v->gpr[GPR_RAX] = PATTERN;
	assert_int_equal(mmio(v, DEV_MMIO + 0x10, EXIT_ACCESS_READ), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x10, 2, false, 0);
	assert_int_equal(v->gpr[GPR_RAX], 0xaaaaaaaaaaaa7788ULL);
	expect_emulated(v, 0xf003);
}

/* mov rax, [disp32] / mov [disp32], rbx in 64-bit code, fetched through
 * the guest's page tables. */
static void test_mmio_long_mode(void **state)
{
	(void)state;
	ram_and_device();
	guest_long(v);
	code(CODE, "\x48\x8b\x04\x25\x10\x00\xd0\xfe", 8);
	v->gpr[GPR_RAX] = 0;
	assert_int_equal(mmio(v, DEV_MMIO + 0x10, EXIT_ACCESS_READ), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x10, 8, false, 0);
	assert_int_equal(v->gpr[GPR_RAX], 0x1122334455667788ULL);
	expect_emulated(v, CODE + 8);

	code(CODE + 8, "\x48\x89\x1c\x25\x18\x00\xd0\xfe", 8);
	v->gpr[GPR_RBX] = 0x0123456789abcdefULL;
	assert_int_equal(mmio(v, DEV_MMIO + 0x18, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x18, 8, true, 0x0123456789abcdefULL);
	expect_emulated(v, CODE + 16);
}

/* Addresses nobody claims: reads all-ones, writes dropped; every access is
 * counted, the first three are reported. */
static void test_mmio_open_bus(void **state)
{
	(void)state;
	ram_and_device();
	guest_protected(v);
	code(CODE, "\x8b\x05\x00\x00\xbf\xfe", 6);
	for (u32 i = 0; i < 5; i++) {
		fake_be(v)->hw.rip = CODE;
		v->gpr[GPR_RAX] = PATTERN;
		assert_int_equal(mmio(v, OPEN_BUS, EXIT_ACCESS_READ), EXIT_RESUME);
		assert_int_equal(v->gpr[GPR_RAX], 0xffffffff);
		expect_emulated(v, CODE + 6);
		assert_int_equal(fake_part.open_bus_accesses, i + 1);
		if (i == 0) {
			assert_non_null(strstr(fake_console.last, "partition test: read of "
								  "guest-physical 0xfebf0000"));
			assert_non_null(strstr(fake_console.last, "reads all-ones"));
		}
	}
	assert_int_equal(fake_console.count, 3);

	code(CODE + 6, "\x89\x1d\x04\x00\xbf\xfe", 6);
	fake_be(v)->hw.rip = CODE + 6;
	assert_int_equal(mmio(v, OPEN_BUS + 4, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_emulated(v, CODE + 12);
	assert_int_equal(fake_part.open_bus_accesses, 6);
	assert_int_equal(fake_console.count, 3);
	/* just past the device's page is open bus too */
	fake_be(v)->hw.rip = CODE;
	assert_int_equal(mmio(v, DEV_MMIO + PAGE_SIZE, EXIT_ACCESS_READ), EXIT_RESUME);
	assert_int_equal(fake_part.open_bus_accesses, 7);
	assert_int_equal(dev.calls, 0);
	/* the count is the partition's; a fresh one starts again */
	fake_part_init(1);
	ram_and_device();
	guest_protected(v);
	code(CODE + 6, "\x89\x1d\x04\x00\xbf\xfe", 6);
	fake_be(v)->hw.rip = CODE + 6;
	mmio(v, OPEN_BUS + 4, EXIT_ACCESS_WRITE);
	assert_int_equal(fake_part.open_bus_accesses, 1);
	assert_non_null(strstr(fake_console.last, "write to guest-physical 0xfebf0004"));
	assert_non_null(strstr(fake_console.last, "dropped"));
}

/* A device that fails: the read is all-ones (not open bus), the write lost;
 * the instruction completes either way. */
static void test_mmio_device_error(void **state)
{
	(void)state;
	ram_and_device();
	guest_protected(v);
	dev.err = -E_INVAL;
	code(CODE, "\x8b\x05\x10\x00\xd0\xfe\x89\x1d\x14\x00\xd0\xfe", 12);
	v->gpr[GPR_RAX] = PATTERN;
	assert_int_equal(mmio(v, DEV_MMIO + 0x10, EXIT_ACCESS_READ), EXIT_RESUME);
	assert_int_equal(v->gpr[GPR_RAX], 0xffffffff);
	expect_emulated(v, CODE + 6);
	assert_int_equal(mmio(v, DEV_MMIO + 0x14, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_emulated(v, CODE + 12);
	assert_int_equal(dev.calls, 2);
	assert_int_equal(fake_part.open_bus_accesses, 0);
}

/*
 * REP MOVSD from RAM to the device: one element per exit (INSN_AGAIN leaves
 * RIP on the instruction), RSI/RDI/RCX stepped; the last element completes
 * it. Then MOVSD from the device to RAM.
 */
static void test_mmio_movs(void **state)
{
	u32 got;

	(void)state;
	ram_and_device();
	guest_protected(v);
	put64(DATA, 0x5566778811223344ULL);
	code(CODE, "\xf3\xa5\xa5", 3);
	v->gpr[GPR_RSI] = DATA;
	v->gpr[GPR_RDI] = DEV_MMIO + 0x20;
	v->gpr[GPR_RCX] = 2;
	assert_int_equal(mmio(v, DEV_MMIO + 0x20, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x20, 4, true, 0x11223344);
	assert_int_equal(v->gpr[GPR_RCX], 1);
	assert_int_equal(v->gpr[GPR_RSI], DATA + 4);
	assert_int_equal(v->gpr[GPR_RDI], DEV_MMIO + 0x24);
	expect_emulated(v, CODE);
	assert_true(fake_be(v)->loaded & VS_SEG);
	assert_int_equal(mmio(v, DEV_MMIO + 0x24, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x24, 4, true, 0x55667788);
	assert_int_equal(v->gpr[GPR_RCX], 0);
	expect_emulated(v, CODE + 2);

	v->gpr[GPR_RSI] = DEV_MMIO + 0x30;
	v->gpr[GPR_RDI] = DATA + 8;
	assert_int_equal(mmio(v, DEV_MMIO + 0x30, EXIT_ACCESS_READ), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x30, 4, false, 0);
	memcpy(&got, fake_ram_ptr(&fake_guest_ram, DATA + 8, 4), 4);
	assert_int_equal(got, 0x55667788);
	expect_emulated(v, CODE + 3);
	assert_int_equal(dev.calls, 3);
}

/* The partition is contained where no guest could go on hardware. */
static void test_mmio_contained(void **state)
{
	static const struct {
		const char *stop;
		u64 gpa;
		u8 access;
		u64 rip;	   /* linear, flat protected mode */
		const char *bytes; /* at rip, when in RAM */
		size_t len;
	} cases[] = {
		{ "second-level fault on the partition's own RAM", 0x8000, EXIT_ACCESS_WRITE, CODE,
		  "\x89\x1d\x00\x80\x00\x00", 6 },
		{ "second-level fault on the partition's own RAM", RAM_SIZE - 1, EXIT_ACCESS_READ,
		  CODE, "\x8b\x05\xff\xff\x1f\x00", 6 },
		{ "executing outside its RAM", DEV_MMIO, EXIT_ACCESS_EXEC | EXIT_ACCESS_READ, CODE,
		  "\x8b\x05\x00\x00\xd0\xfe", 6 },
		{ "cannot fetch the instruction of an MMIO access", DEV_MMIO, EXIT_ACCESS_READ,
		  0xfff00000, NULL, 0 },
		{ "cannot fetch the instruction of an MMIO access", DEV_MMIO, EXIT_ACCESS_READ,
		  RAM_SIZE - 2, "\x8b\x05", 2 /* runs out of RAM */ },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake_backend *b;

		v = fake_part_init(2);
		memset(&dev, 0, sizeof(dev));
		ram_and_device();
		guest_protected(v);
		b = fake_be(v);
		b->hw.rip = cases[i].rip;
		if (cases[i].bytes)
			code(cases[i].rip, cases[i].bytes, cases[i].len);
		assert_int_equal(mmio(v, cases[i].gpa, cases[i].access), EXIT_CRASH);
		assert_string_equal(fake_part.stop_reason, cases[i].stop);
		assert_int_equal(b->stores, 0);
		assert_int_equal(b->skips, 0);
		assert_int_equal(b->applies, 0);
		assert_int_equal(b->hw.rip, cases[i].rip);
		assert_int_equal(dev.calls, 0);
	}
}

/*
 * Page faults the guest owes itself, injected with CR2 (SDM 3A 4.7; I/D is
 * set for fetches under PAE paging with NXE): the MMIO instruction's page is
 * not present; it runs into a page that is not; a MOVS source is not
 * present; a MOVS destination is read-only (CR0.WP).
 */
static void test_mmio_page_faults(void **state)
{
	static const struct {
		u64 rip, unmapped, cr2;
		bool read_only; /* unmapped is read-only instead */
		u32 code;
		const char *bytes;
		size_t len;
		u64 rsi, rdi;
	} cases[] = {
		{ CODE, CODE, CODE, false, 0x10, NULL, 0, 0, 0 },
		{ CODE + PAGE_SIZE - 4, CODE + PAGE_SIZE, CODE + PAGE_SIZE, false, 0x10,
		  "\x48\x8b\x04\x25", 4, 0, 0 },
		{ CODE, DATA, DATA + 8, false, 0x0, "\xa5", 1, DATA + 8, DEV_MMIO },
		{ CODE, DATA, DATA + 8, true, 0x3, "\xa5", 1, DEV_MMIO, DATA + 8 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake_backend *b;

		v = fake_part_init(1);
		memset(&dev, 0, sizeof(dev));
		ram_and_device();
		guest_long(v);
		b = fake_be(v);
		b->hw.cr0 |= CR0_WP;
		b->hw.rip = cases[i].rip;
		if (cases[i].bytes)
			code(cases[i].rip, cases[i].bytes, cases[i].len);
		if (cases[i].read_only)
			put64(PT_LOW + (cases[i].unmapped >> PAGE_SHIFT) * 8,
			      cases[i].unmapped | PTE_P);
		else
			unmap_page(cases[i].unmapped);
		v->gpr[GPR_RSI] = cases[i].rsi;
		v->gpr[GPR_RDI] = cases[i].rdi;
		assert_int_equal(mmio(v, DEV_MMIO, EXIT_ACCESS_WRITE), EXIT_RESUME);
		assert_int_equal(b->applies, 1);
		assert_int_equal(b->apply.event.type, EVENT_EXCEPTION);
		assert_int_equal(b->apply.event.vector, X86_EXC_PF);
		assert_true(b->apply.event.has_error);
		assert_int_equal(b->apply.event.error_code, cases[i].code);
		assert_int_equal(b->hw.cr2, cases[i].cr2);
		assert_true(b->stored & VS_CR);
		assert_int_equal(b->hw.rip, cases[i].rip);
		assert_int_equal(b->skips, 0);
		assert_null(fake_part.stop_reason);
		assert_int_equal(v->stats.exceptions_injected, 1);
		assert_int_equal(fake_part.open_bus_accesses, 0);
	}
}

/* MOVS addresses are segment:offset: the base counts in protected mode, and
 * only FS and GS have one in 64-bit mode (SDM 3A 3.4.4). */
static void test_mmio_movs_segments(void **state)
{
	(void)state;
	ram_and_device();
	guest_protected(v);
	fake_be(v)->hw.ds.base = 0x1000;
	fake_be(v)->hw.es.base = 0x100;
	put64(DATA, 0x5566778811223344ULL);
	code(CODE, "\xa5", 1);
	v->gpr[GPR_RSI] = DATA - 0x1000;
	v->gpr[GPR_RDI] = DEV_MMIO - 0x100 + 0x20;
	assert_int_equal(mmio(v, DEV_MMIO + 0x20, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x20, 4, true, 0x11223344);
	expect_emulated(v, CODE + 1);

	fake_part_init(1);
	ram_and_device();
	guest_long(v);
	fake_be(v)->hw.ds.base = 0x1000;
	fake_be(v)->hw.es.base = 0x100;
	fake_be(v)->hw.fs.base = 0x8;
	put64(DATA, 0x5566778811223344ULL);
	code(CODE, "\xa5\x64\xa5", 3); /* movsd; movsd fs: */
	v->gpr[GPR_RSI] = DATA;
	v->gpr[GPR_RDI] = DEV_MMIO + 0x20;
	assert_int_equal(mmio(v, DEV_MMIO + 0x20, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x20, 4, true, 0x11223344);
	expect_emulated(v, CODE + 1);
	v->gpr[GPR_RSI] = DATA - 4;
	assert_int_equal(mmio(v, DEV_MMIO + 0x24, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x24, 4, true, 0x55667788); /* FS:DATA-4 is DATA+4 */
	expect_emulated(v, CODE + 3);
}

/*
 * What the processor would give instead of the exit, never a stop: #UD for
 * an instruction the emulator does not have (or that cannot access memory,
 * or LOCK where LOCK is #UD), reported the first few times; #GP(0) for one
 * over 15 bytes and for a non-canonical string address.
 */
static void test_mmio_unemulated(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		u8 vector;
		bool long_mode;
		u64 rsi;
	} cases[] = {
		{ "\xf4", 1, X86_EXC_UD, false, 0 },			     /* hlt */
		{ "\x0f\x01\xd0", 3, X86_EXC_UD, false, 0 },		     /* xgetbv */
		{ "\xf0\x89\x1d\x00\x00\xd0\xfe", 7, X86_EXC_UD, false, 0 }, /* lock mov */
		{ "\x0f\x10\x05\x00\x00\xd0\xfe", 7, X86_EXC_UD, false, 0 }, /* movups */
		{ "\xff\x15\x00\x00\xd0\xfe", 6, X86_EXC_UD, false, 0 },     /* call *mem */
		{ "\x6c", 1, X86_EXC_UD, false, 0 },			     /* insb: not here */
		{ "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x8b\x05\x00\x00\xd0\xfe",
		  20, X86_EXC_GP, false, 0 },
		{ "\xa5", 1, X86_EXC_GP, true,
		  0x0000800000000000ULL }, /* movsd from non-canonical */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake_backend *b;

		v = fake_part_init(1);
		memset(&dev, 0, sizeof(dev));
		ram_and_device();
		if (cases[i].long_mode)
			guest_long(v);
		else
			guest_protected(v);
		b = fake_be(v);
		code(CODE, cases[i].bytes, cases[i].len);
		v->gpr[GPR_RSI] = cases[i].rsi;
		v->gpr[GPR_RDI] = DEV_MMIO;
		assert_int_equal(mmio(v, DEV_MMIO, EXIT_ACCESS_READ), EXIT_RESUME);
		/* reported the first three times */
		if (i == 0) /* with the bytes that follow (RAM fill) */
			assert_non_null(
				strstr(fake_console.last,
				       "partition test: vCPU 0: no emulation of the instruction "
				       "at 0x10000 (f4 cc cc cc cc cc cc cc): #UD"));
		assert_null(fake_part.stop_reason);
		assert_int_equal(b->applies, 1);
		assert_int_equal(b->apply.event.type, EVENT_EXCEPTION);
		assert_int_equal(b->apply.event.vector, cases[i].vector);
		assert_int_equal(b->apply.event.has_error, cases[i].vector == X86_EXC_GP);
		assert_int_equal(b->apply.event.error_code, 0);
		assert_int_equal(b->hw.rip, CODE);
		assert_int_equal(b->skips, 0);
		assert_int_equal(dev.calls, 0);
	}
}

/* An instruction at the very end of RAM: the fetch runs out of RAM after
 * it, which does not matter as it decodes. */
static void test_mmio_insn_at_end_of_ram(void **state)
{
	(void)state;
	ram_and_device();
	guest_protected(v);
	fake_be(v)->hw.rip = RAM_SIZE - 6;
	code(RAM_SIZE - 6, "\x8b\x05\x10\x00\xd0\xfe", 6);
	assert_int_equal(mmio(v, DEV_MMIO + 0x10, EXIT_ACCESS_READ), EXIT_RESUME);
	assert_int_equal(v->gpr[GPR_RAX], 0x55667788);
	expect_emulated(v, RAM_SIZE);
}

/*
 * The read-modify-write forms on a device: LOCK INC, XADD, CMPXCHG (a
 * failed compare writes the old value back), NOT; REPE CMPSB between RAM
 * and the device, one element per exit, ending where they differ.
 */
static void test_mmio_rmw(void **state)
{
	(void)state;
	ram_and_device();
	guest_protected(v);
	dev.read_val = 0x1122334455667788ULL;

	code(CODE, "\xf0\xff\x05\x10\x00\xd0\xfe", 7); /* lock incl DEV+0x10 */
	assert_int_equal(mmio(v, DEV_MMIO + 0x10, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x10, 4, true, 0x55667789);
	expect_emulated(v, CODE + 7);

	code(CODE + 7, "\x0f\xc1\x0d\x14\x00\xd0\xfe", 7); /* xadd %ecx,DEV+0x14 */
	v->gpr[GPR_RCX] = 5;
	assert_int_equal(mmio(v, DEV_MMIO + 0x14, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x14, 4, true, 0x5566778d);
	assert_int_equal(v->gpr[GPR_RCX], 0x55667788);
	expect_emulated(v, CODE + 14);

	code(CODE + 14, "\x0f\xb1\x1d\x18\x00\xd0\xfe", 7); /* cmpxchg %ebx,DEV+0x18 */
	v->gpr[GPR_RAX] = 1;
	v->gpr[GPR_RBX] = 2;
	assert_int_equal(mmio(v, DEV_MMIO + 0x18, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x18, 4, true, 0x55667788);
	assert_int_equal(v->gpr[GPR_RAX], 0x55667788);
	assert_false(fake_be(v)->hw.rflags & RFLAGS_ZF);
	expect_emulated(v, CODE + 21);

	code(CODE + 21, "\xf6\x15\x1c\x00\xd0\xfe", 6); /* notb DEV+0x1c */
	assert_int_equal(mmio(v, DEV_MMIO + 0x1c, EXIT_ACCESS_WRITE), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x1c, 1, true, 0x77);
	expect_emulated(v, CODE + 27);
	assert_int_equal(dev.calls, 8);

	/* repe cmpsb: DATA holds 88 88 11; the device reads 0x88 */
	code(CODE + 27, "\xf3\xa6", 2);
	memcpy(fake_ram_ptr(&fake_guest_ram, DATA, 3), "\x88\x88\x11", 3);
	v->gpr[GPR_RSI] = DATA;
	v->gpr[GPR_RDI] = DEV_MMIO + 0x20;
	v->gpr[GPR_RCX] = 10;
	for (u32 i = 0; i < 3; i++) {
		assert_int_equal(mmio(v, DEV_MMIO + 0x20 + i, EXIT_ACCESS_READ), EXIT_RESUME);
		expect_access(&dev, DEV_MMIO + 0x20 + i, 1, false, 0);
		expect_emulated(v, i < 2 ? CODE + 27 : CODE + 29);
	}
	assert_int_equal(v->gpr[GPR_RCX], 7);
	assert_int_equal(v->gpr[GPR_RSI], DATA + 3);
	assert_false(fake_be(v)->hw.rflags & RFLAGS_ZF);
	assert_int_equal(dev.writes, 4);
}

/* ---- string I/O (INS/OUTS) ---- */

static enum exit_action string_io(struct vcpu *vc, u16 port, u8 size, bool in, bool rep)
{
	struct vm_exit e = fake_exit(vc, VMEXIT_IO, 2);

	e.io.port = port;
	e.io.size = size;
	e.io.in = in;
	e.io.string = true;
	e.io.rep = rep;
	return exit_dispatch(vc, &e);
}

/*
 * REP OUTSB in protected mode: one byte per exit to the port's device, RIP
 * on the instruction until RCX reaches 0; then REP INSW in 64-bit mode with
 * DF set (downwards through the guest's paging); an unclaimed port reads
 * all-ones; REP with RCX = 0 touches nothing; OUTSD reads its source from a
 * device's MMIO.
 */
static void test_string_io(void **state)
{
	u16 got[2];

	(void)state;
	ram_and_device();
	claim_io(&dev2, 0x3f8, 8);
	guest_protected(v);
	code(CODE, "\xf3\x6e", 2);
	memcpy(fake_ram_ptr(&fake_guest_ram, DATA, 5), "hello", 5);
	v->gpr[GPR_RSI] = DATA;
	v->gpr[GPR_RCX] = 5;
	v->gpr[GPR_RDX] = 0x3f8;
	for (u32 i = 0; i < 5; i++) {
		assert_int_equal(string_io(v, 0x3f8, 1, false, true), EXIT_RESUME);
		expect_access(&dev2, 0x3f8, 1, true, (u8) "hello"[i]);
		expect_emulated(v, i < 4 ? CODE : CODE + 2);
	}
	assert_int_equal(dev2.writes, 5);
	assert_int_equal(v->gpr[GPR_RCX], 0);
	assert_int_equal(v->gpr[GPR_RSI], DATA + 5);

	fake_part_init(1);
	memset(&dev2, 0, sizeof(dev2));
	ram_and_device();
	claim_io(&dev2, 0x1f0, 8);
	dev2.read_val = 0xbeef;
	guest_long(v);
	fake_be(v)->hw.rflags |= RFLAGS_DF;
	code(CODE, "\x66\xf3\x6d", 3);
	v->gpr[GPR_RDI] = DATA + 2;
	v->gpr[GPR_RCX] = 2;
	v->gpr[GPR_RDX] = 0x1f0;
	assert_int_equal(string_io(v, 0x1f0, 2, true, true), EXIT_RESUME);
	expect_emulated(v, CODE);
	assert_int_equal(string_io(v, 0x1f0, 2, true, true), EXIT_RESUME);
	expect_emulated(v, CODE + 3);
	expect_access(&dev2, 0x1f0, 2, false, 0);
	memcpy(got, fake_ram_ptr(&fake_guest_ram, DATA, 4), 4);
	assert_int_equal(got[0], 0xbeef);
	assert_int_equal(got[1], 0xbeef);
	assert_int_equal(v->gpr[GPR_RDI], DATA - 2);

	/* nobody at port 0x2f0: all-ones */
	fake_be(v)->hw.rflags = RFLAGS_FIXED;
	fake_be(v)->hw.rip = CODE;
	v->gpr[GPR_RDI] = DATA;
	v->gpr[GPR_RCX] = 1;
	v->gpr[GPR_RDX] = 0x2f0;
	assert_int_equal(string_io(v, 0x2f0, 2, true, true), EXIT_RESUME);
	memcpy(got, fake_ram_ptr(&fake_guest_ram, DATA, 2), 2);
	assert_int_equal(got[0], 0xffff);

	/* REP with RCX = 0 */
	fake_be(v)->hw.rip = CODE;
	dev2.calls = 0;
	v->gpr[GPR_RDX] = 0x1f0;
	v->gpr[GPR_RCX] = 0;
	assert_int_equal(string_io(v, 0x1f0, 2, true, true), EXIT_RESUME);
	expect_emulated(v, CODE + 3);
	assert_int_equal(dev2.calls, 0);
	assert_int_equal(v->gpr[GPR_RDI], DATA + 2);

	/* outsl from device memory to the port */
	code(CODE + 3, "\x6f", 1);
	v->gpr[GPR_RSI] = DEV_MMIO + 0x40;
	assert_int_equal(string_io(v, 0x1f0, 4, false, false), EXIT_RESUME);
	expect_access(&dev, DEV_MMIO + 0x40, 4, false, 0);
	expect_access(&dev2, 0x1f0, 4, true, 0x55667788);
	expect_emulated(v, CODE + 4);
	assert_int_equal(v->gpr[GPR_RSI], DEV_MMIO + 0x44);
}

/* Real mode: ES:DI with ES's base, 16-bit DI and CX (the upper bits stay). */
static void test_string_io_real_mode(void **state)
{
	(void)state;
	ram_and_device();
	claim_io(&dev2, 0x60, 1);
	dev2.read_val = 0xa5;
	guest_real(v);
	fake_be(v)->hw.es.base = DATA;
	code(CODE, "\xf3\x6c", 2);
	v->gpr[GPR_RDI] = 0x12340000ffffULL;
	v->gpr[GPR_RCX] = 0x77770002ULL;
	v->gpr[GPR_RDX] = 0x60;
	assert_int_equal(string_io(v, 0x60, 1, true, true), EXIT_RESUME);
	assert_int_equal(string_io(v, 0x60, 1, true, true), EXIT_RESUME);
	expect_emulated(v, 0xf002);
	assert_int_equal(*(u8 *)fake_ram_ptr(&fake_guest_ram, DATA + 0xffff, 1), 0xa5);
	assert_int_equal(*(u8 *)fake_ram_ptr(&fake_guest_ram, DATA, 1), 0xa5);
	assert_int_equal(v->gpr[GPR_RDI], 0x123400000001ULL);
	assert_int_equal(v->gpr[GPR_RCX], 0x77770000ULL);
}

/*
 * INS into a page that is not present: #PF (a write) with CR2, and the port
 * is not read. An instruction at RIP that is not the INS/OUTS of the exit
 * (rewritten meanwhile) runs again: nothing done, nothing injected.
 */
static void test_string_io_faults(void **state)
{
	struct fake_backend *b;

	(void)state;
	ram_and_device();
	claim_io(&dev2, 0x1f0, 8);
	guest_long(v);
	b = fake_be(v);
	unmap_page(DATA);
	code(CODE, "\x6d", 1);
	v->gpr[GPR_RDI] = DATA + 8;
	v->gpr[GPR_RDX] = 0x1f0;
	assert_int_equal(string_io(v, 0x1f0, 4, true, false), EXIT_RESUME);
	assert_int_equal(b->applies, 1);
	assert_int_equal(b->apply.event.vector, X86_EXC_PF);
	assert_int_equal(b->apply.event.error_code, 0x2);
	assert_int_equal(b->hw.cr2, DATA + 8);
	assert_int_equal(dev2.calls, 0);
	assert_int_equal(v->gpr[GPR_RDI], DATA + 8);

	static const struct {
		const char *bytes;
		size_t len;
		u8 size;
		bool in;
	} other[] = {
		{ "\x90", 1, 4, true },	    /* nop */
		{ "\x6c", 1, 4, true },	    /* insb, the exit says 4 bytes */
		{ "\x6f", 1, 4, true },	    /* outsd, the exit says in */
		{ "\xe5\x60", 2, 4, true }, /* in $0x60,%eax */
	};

	for (size_t i = 0; i < ARRAY_SIZE(other); i++) {
		v = fake_part_init(1);
		ram_and_device();
		claim_io(&dev2, 0x1f0, 8);
		guest_long(v);
		b = fake_be(v);
		dev2.calls = 0;
		code(CODE, other[i].bytes, other[i].len);
		v->gpr[GPR_RDI] = v->gpr[GPR_RSI] = DATA;
		v->gpr[GPR_RDX] = 0x1f0;
		assert_int_equal(string_io(v, 0x1f0, other[i].size, other[i].in, false),
				 EXIT_RESUME);
		assert_int_equal(b->applies + b->skips + b->stores, 0);
		assert_int_equal(dev2.calls, 0);
		assert_int_equal(v->gpr[GPR_RDI], DATA);
		assert_null(fake_part.stop_reason);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_in_claimed, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_out_claimed, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_port_ranges, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_unclaimed_ports, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_port_device_error, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_protected_mode, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_real_mode, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_long_mode, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_open_bus, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_device_error, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_movs, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_contained, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_page_faults, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_movs_segments, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_unemulated, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_insn_at_end_of_ram, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_mmio_rmw, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_string_io, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_string_io_real_mode, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_string_io_faults, setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
