/*
 * shm: two partitions pass messages through an ivshmem region with
 * doorbells (docs/virtio.md, section 6), as a bare-metal program would:
 * find 1af4:1110 on bus 0 (configuration mechanism #1), take its BARs as
 * firmware left them (BAR 2's size by sizing it), point MSI-X vector 0 at
 * its own local APIC (vector 0x40), and read its peer ID (IVPosition).
 *
 * Peer 0 fills the whole region (but its 64-byte header) with round r's
 * pattern, sets the header's sequence to 2r-1 and rings peer 1's doorbell,
 * then waits for the interrupt of peer 1's answer: the sequence 2r and the
 * region filled with that round's other pattern. Peer 1 does the reverse;
 * it says it is ready (MSI-X set up) in the header before the first round.
 *
 * absent=1: the partition names no region: no 1af4:1110 on its bus, and
 * probe=ADDR (where the others' region is in their guest-physical space)
 * reads all-ones here.
 *
 * Keys: rounds=N (8), wait_ms=MS (20000), absent=1, probe=ADDR, tsc_khz=K.
 * PASS details: peer=ID rounds=N size=BYTES interrupts=N; absent: no
 * ivshmem, 0xADDR reads all-ones
 */
#include "cmdline.h"
#include "console.h"
#include "cpu.h"
#include "guest.h"
#include "hv/hw/apic.h"
#include "hv/hw/ivshmem.h"
#include "hv/hw/pci.h"
#include "hv/hw/x86.h"
#include "irq.h"
#include "lapic.h"
#include "lib.h"
#include "trap.h"
#include "tsc.h"

#define VECTOR 0x40
#define HEADER 64 /* bytes at the start of the region: the protocol's */
#define READY_MAGIC 0x52454459U
#define PATTERN_MUL 0x9e3779b1U
#define ALL_ONES 0xffffffffU
#define SLOTS 32

const char guest_name[] = "shm";

/* MSI-X vector 0's interrupts (lib/irq counts them): ended at the local
 * APIC. */
static void shm_irq(u8 vector)
{
	(void)vector;
	lapic_write(APIC_EOI, 0);
}

#define shm_irqs (irq_counts[VECTOR])

struct header {
	volatile u32 seq;
	volatile u32 ready;
};

static u32 cfg_read(u32 slot, u32 reg)
{
	outl(PCI_CONF_ADDR_PORT,
	     CF8_ENABLE | DEVFN(slot, 0) << CF8_DEVFN_SHIFT | (reg & CF8_REG_MASK));
	return inl(PCI_CONF_DATA_PORT);
}

static void cfg_write(u32 slot, u32 reg, u32 val)
{
	outl(PCI_CONF_ADDR_PORT,
	     CF8_ENABLE | DEVFN(slot, 0) << CF8_DEVFN_SHIFT | (reg & CF8_REG_MASK));
	outl(PCI_CONF_DATA_PORT, val);
}

static int find_ivshmem(void)
{
	for (u32 slot = 0; slot < SLOTS; slot++)
		if (cfg_read(slot, PCI_CFG_VENDOR) == (IVSHMEM_DEVICE << 16 | IVSHMEM_VENDOR))
			return (int)slot;
	return -1;
}

/* BAR 2's size (6.2.5.1): all-ones, read, put back, decoding off meanwhile. */
static u32 bar2_size(u32 slot)
{
	u32 reg = PCI_CFG_BAR0 + 4 * IVSHMEM_SHM_BAR, cmd = cfg_read(slot, PCI_CFG_COMMAND);
	u32 lo = cfg_read(slot, reg), hi = cfg_read(slot, reg + 4), mask;

	cfg_write(slot, PCI_CFG_COMMAND, cmd & ~(u32)PCI_CMD_MEMORY);
	cfg_write(slot, reg, ALL_ONES);
	cfg_write(slot, reg + 4, ALL_ONES);
	mask = cfg_read(slot, reg) & ~PCI_BAR_MEM_FLAGS;
	if (cfg_read(slot, reg + 4) != ALL_ONES)
		guest_fail("BAR 2 is larger than 4 GiB");
	cfg_write(slot, reg, lo);
	cfg_write(slot, reg + 4, hi);
	cfg_write(slot, PCI_CFG_COMMAND, cmd);
	return ~mask + 1;
}

/* MSI-X vector 0 to this CPU's APIC, VECTOR (lib/irq's IDT). */
static void msix_setup(u32 slot)
{
	u32 cap = cfg_read(slot, PCI_CFG_CAP_PTR) & 0xff, table;
	uintptr_t entry;

	while (cap && (cfg_read(slot, cap) & 0xff) != PCI_CAP_ID_MSIX)
		cap = (cfg_read(slot, cap) >> 8) & 0xff;
	if (!cap)
		guest_fail("no MSI-X capability");
	table = cfg_read(slot, cap + PCI_MSIX_TABLE);
	entry = (cfg_read(slot, PCI_CFG_BAR0 + 4 * (table & 7)) & ~PCI_BAR_MEM_FLAGS) +
		(table & ~7U);
	irq_init();
	irq_set_handler(VECTOR, shm_irq);
	lapic_enable();
	mmio_write32(entry, MSI_ADDR_BASE | lapic_id() << MSI_ADDR_DEST_SHIFT);
	mmio_write32(entry + 4, 0);
	mmio_write32(entry + 8, VECTOR);
	mmio_write32(entry + 12, 0);
	cfg_write(slot, cap, cfg_read(slot, cap) | (u32)PCI_MSIX_CTRL_ENABLE << 16);
}

static bool wait_irqs(u32 n, u32 ms)
{
	u64 t0 = rdtsc(), limit = tsc_ticks_ms(ms);

	__asm__ volatile("sti" ::: "memory");
	while (shm_irqs < n && rdtsc() - t0 < limit)
		cpu_relax();
	__asm__ volatile("cli" ::: "memory");
	return shm_irqs >= n;
}

static bool wait_ready(const struct header *h, u32 ms)
{
	u64 t0 = rdtsc(), limit = tsc_ticks_ms(ms);

	while (h->ready != READY_MAGIC && rdtsc() - t0 < limit)
		cpu_relax();
	return h->ready == READY_MAGIC;
}

static void fill(volatile u32 *w, u32 size, u32 v)
{
	for (u32 i = HEADER / 4; i < size / 4; i++)
		w[i] = v * PATTERN_MUL + i;
}

static void check(volatile u32 *w, u32 size, u32 v, u32 round)
{
	for (u32 i = HEADER / 4; i < size / 4; i++)
		if (w[i] != v * PATTERN_MUL + i)
			guest_fail("round %u: word %u reads 0x%x, expected 0x%x", round, i, w[i],
				   v * PATTERN_MUL + i);
}

static void absent(void)
{
	u32 probe = (u32)cmdline_u64("probe", 0);

	if (find_ivshmem() >= 0)
		guest_fail("an ivshmem device is on the bus of a partition that names no region");
	if (probe && mmio_read32(probe) != ALL_ONES)
		guest_fail("0x%x reads 0x%x, not all-ones", probe, mmio_read32(probe));
	guest_pass("no ivshmem, 0x%x reads all-ones", probe);
}

void guest_main(void)
{
	u32 rounds = (u32)cmdline_u64("rounds", 8), ms = (u32)cmdline_u64("wait_ms", 20000);
	u32 size, id, regs;
	struct header *h;
	volatile u32 *w;
	int slot;

	if (cmdline_flag("absent"))
		absent();
	slot = find_ivshmem();
	if (slot < 0)
		guest_fail("no ivshmem device on bus 0");
	regs = cfg_read((u32)slot, PCI_CFG_BAR0) & ~PCI_BAR_MEM_FLAGS;
	w = (volatile u32 *)(uintptr_t)(cfg_read((u32)slot, PCI_CFG_BAR0 + 8) & ~PCI_BAR_MEM_FLAGS);
	size = bar2_size((u32)slot);
	h = (struct header *)(uintptr_t)w;
	msix_setup((u32)slot);
	id = mmio_read32(regs + IVSHMEM_IV_POSITION);
	con_printf("shm: slot %d, registers at 0x%x, region at 0x%x (%u bytes), peer %u\n", slot,
		   regs, (u32)(uintptr_t)w, size, id);
	if (id > 1)
		guest_fail("peer ID %u: this test has peers 0 and 1", id);
	if (id == 1)
		h->ready = READY_MAGIC;
	else if (!wait_ready(h, ms))
		guest_fail("peer 1 never said it was ready");
	for (u32 r = 1; r <= rounds; r++) {
		u32 mine = 2 * r - 1 + id, theirs = 2 * r - id;

		if (id == 1) {
			if (!wait_irqs(r, ms))
				guest_fail("round %u: no doorbell from peer 0", r);
			if (h->seq != theirs)
				guest_fail("round %u: sequence %u, expected %u", r, h->seq, theirs);
			check(w, size, theirs, r);
		}
		fill(w, size, mine);
		h->seq = mine;
		mmio_write32(regs + IVSHMEM_DOORBELL, (1 - id) << IVSHMEM_DOORBELL_PEER_SHIFT);
		if (id == 0) {
			if (!wait_irqs(r, ms))
				guest_fail("round %u: no doorbell from peer 1", r);
			if (h->seq != theirs)
				guest_fail("round %u: sequence %u, expected %u", r, h->seq, theirs);
			check(w, size, theirs, r);
		}
	}
	guest_pass("peer=%u rounds=%u size=%u interrupts=%u", id, rounds, size, shm_irqs);
}
