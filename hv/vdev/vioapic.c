/*
 * I/O APIC model (Intel 82093AA datasheet, "Register description"; the
 * EOI register of version 0x20 I/O APICs from the Intel ICH datasheets).
 *
 * Inputs. virq_set_level(asserted) and virq_pulse() speak of the logical
 * state of a line: "asserted" means the device requests an interrupt,
 * whatever the line's electrical polarity. The polarity bit of each
 * redirection entry is kept for the guest to read back but does not
 * invert anything: devices do not know how their line is wired, and a
 * guest that programs the opposite of the MADT's polarity gets its
 * interrupts rather than a storm.
 *
 * Edge pins (trigger mode 0) send one message on each rising edge of an
 * unmasked input (a pulse is a rising edge); an edge while masked is lost,
 * as on the 82093AA. Level pins (1) send when the input is asserted,
 * unmasked and remote IRR is clear, and set remote IRR; the local APIC's
 * EOI for that vector (virq_eoi, or the EOI register) clears it and
 * sends again if the input is still asserted. Unmasking an asserted level
 * input sends. NMI, INIT, SMI and ExtINT are edge-only modes (82093AA
 * 3.2.4): they never set remote IRR. SMI and ExtINT (there is no 8259
 * output to fetch a vector from: see vpic.h) and the reserved modes are
 * dropped, with one log line per partition.
 *
 * Locking. Any CPU may raise a line of the partition at any time, so each
 * I/O APIC has a spinlock over its registers and inputs. virq_deliver is
 * called with it held: it only sets request bits and kicks vCPUs, takes no
 * lock that a holder of this one could wait for, and never calls back into
 * the I/O APIC; the local APIC model calls virq_eoi with none of its own
 * locks held. Device code runs in exit handlers with interrupts disabled,
 * and no interrupt handler runs on a CPU that holds this lock.
 */
#include "hv/vdev/vioapic.h"
#include "hv/console/console.h"
#include "hv/hw/ioapic.h"
#include "hv/lib/spinlock.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/virq.h"

/* MMIO decoding: each direct register starts a 16-byte slot */
#define IOAPIC_SLOT_MASK 0xfULL
#define IOAPIC_REG_BYTES 4
#define IOREGSEL_MASK 0xffU

#define ID_SHIFT 24
/* The 82093AA keeps 4 ID bits (27:24); later parts and Linux's view of
 * the register 8 (31:24), so that the ID of a partition with 16 or more
 * vCPUs reads back as the MADT gives it. */
#define ID_MASK 0xffU
#define ARB_ID_MASK 0x0fU
#define VER_MAX_REDIR_SHIFT 16

#define RTE_WRITABLE                                                                               \
	(RTE_VECTOR_MASK | RTE_MODE_MASK << RTE_MODE_SHIFT | RTE_DEST_LOGICAL | RTE_POLARITY_LOW | \
	 RTE_LEVEL | RTE_MASKED | RTE_DEST_MASK << RTE_DEST_SHIFT)

/* Delivery modes: the same encoding as the local APIC's ICR */
#define MODE_FIXED 0
#define MODE_LOWEST 1
#define MODE_SMI 2
#define MODE_NMI 4
#define MODE_INIT 5
#define MODE_EXTINT 7

_Static_assert(PLAT_IOAPIC_PINS <= 32, "one bit per input in vioapic.lines");

struct vioapic {
	struct vdev_registry *reg;
	struct spinlock lock;
	u32 regsel;
	u32 id;
	u32 lines; /* logical level of each input */
	bool mode_logged;
	u64 rte[PLAT_IOAPIC_PINS];
};

/* The partition's I/O APIC, for the GSI interface (NULL: none yet). */
static struct vioapic *of(const struct vdev_registry *reg)
{
	return vdev_find(reg, &vioapic_type);
}

static u32 rte_mode(u64 e)
{
	return (u32)((e >> RTE_MODE_SHIFT) & RTE_MODE_MASK);
}

/* Level semantics (remote IRR, resend on EOI) apply to fixed and lowest
 * priority delivery only. */
static bool rte_level(u64 e)
{
	u32 mode = rte_mode(e);

	return (e & RTE_LEVEL) && (mode == MODE_FIXED || mode == MODE_LOWEST);
}

static void send(struct vioapic *io, u32 pin)
{
	u64 e = io->rte[pin];
	u32 mode = rte_mode(e);
	bool level = rte_level(e);

	if (mode != MODE_FIXED && mode != MODE_LOWEST && mode != MODE_NMI && mode != MODE_INIT) {
		if (!io->mode_logged) {
			io->mode_logged = true;
			pr_info("partition %s: I/O APIC pin %u: delivery mode %u not supported: "
				"dropped\n",
				io->reg->owner.name, pin, mode);
		}
		return;
	}
	if (level)
		io->rte[pin] |= RTE_REMOTE_IRR;
	virq_deliver(io->reg, (u32)((e >> RTE_DEST_SHIFT) & RTE_DEST_MASK), e & RTE_DEST_LOGICAL,
		     mode, (u8)(e & RTE_VECTOR_MASK), level);
}

/* A level pin sends when it is asserted, unmasked and not in service. */
static bool level_due(const struct vioapic *io, u32 pin)
{
	u64 e = io->rte[pin];

	return rte_level(e) && !(e & (RTE_MASKED | RTE_REMOTE_IRR)) && (io->lines & BIT(pin));
}

static void set_line(struct vioapic *io, u32 pin, bool asserted)
{
	bool was = io->lines & BIT(pin);
	u64 e = io->rte[pin];

	if (!asserted) {
		io->lines &= ~(u32)BIT(pin);
		return;
	}
	io->lines |= (u32)BIT(pin);
	if (rte_level(e)) {
		if (level_due(io, pin))
			send(io, pin);
	} else if (!was && !(e & RTE_MASKED)) {
		send(io, pin);
	}
}

static void eoi(struct vioapic *io, u8 vector)
{
	for (u32 pin = 0; pin < PLAT_IOAPIC_PINS; pin++) {
		u64 e = io->rte[pin];

		if (!(e & RTE_REMOTE_IRR) || (u8)(e & RTE_VECTOR_MASK) != vector)
			continue;
		io->rte[pin] &= ~RTE_REMOTE_IRR;
		if (level_due(io, pin))
			send(io, pin);
	}
}

static void rte_write(struct vioapic *io, u32 pin, bool high, u32 val)
{
	u32 shift = high ? 32 : 0;
	u64 lanes = 0xffffffffULL << shift;
	u64 e = io->rte[pin];

	e = (e & ~(lanes & RTE_WRITABLE)) | (((u64)val << shift) & lanes & RTE_WRITABLE);
	/* remote IRR is undefined for edge pins; switching to edge clears it,
	 * which Linux uses to unstick an I/O APIC without the EOI register */
	if (!(e & RTE_LEVEL))
		e &= ~RTE_REMOTE_IRR;
	io->rte[pin] = e;
	if (level_due(io, pin))
		send(io, pin);
}

static u32 reg_read(const struct vioapic *io, u32 reg)
{
	u32 pin = (reg - IOAPIC_REDTBL) / 2;

	switch (reg) {
	case IOAPIC_ID:
		return io->id << ID_SHIFT;
	case IOAPIC_VER:
		return VIOAPIC_VERSION | (PLAT_IOAPIC_PINS - 1) << VER_MAX_REDIR_SHIFT;
	case IOAPIC_ARB:
		return (io->id & ARB_ID_MASK) << ID_SHIFT;
	default:
		if (reg < IOAPIC_REDTBL || pin >= PLAT_IOAPIC_PINS)
			return 0;
		return (u32)(io->rte[pin] >> ((reg & 1) ? 32 : 0));
	}
}

static void reg_write(struct vioapic *io, u32 reg, u32 val)
{
	u32 pin = (reg - IOAPIC_REDTBL) / 2;

	if (reg == IOAPIC_ID)
		io->id = (val >> ID_SHIFT) & ID_MASK;
	else if (reg >= IOAPIC_REDTBL && pin < PLAT_IOAPIC_PINS)
		rte_write(io, pin, reg & 1, val);
	/* VER and ARB are read-only; other indexes hold nothing */
}

/*
 * The registers are 32 bits wide; an access of another size sees or
 * changes its bytes of the register (an 8-byte one, the register and
 * nothing above it). Bytes 4-15 of each slot hold nothing.
 */
static int vioapic_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	struct vioapic *io = dev;
	u64 off = a->addr - PLAT_IOAPIC_BASE;
	u32 byte = (u32)(off & IOAPIC_SLOT_MASK), shift = 8 * byte;
	u64 lanes;
	u32 old, val;

	(void)v;
	if (byte >= IOAPIC_REG_BYTES) {
		a->val = 0;
		return 0;
	}
	/* shift < 32 here: the lanes of the register the access covers */
	lanes = ((a->size >= 8 ? ~0ULL : BIT(8 * a->size) - 1) << shift) & 0xffffffffULL;
	spin_lock(&io->lock);
	switch (off & ~IOAPIC_SLOT_MASK) {
	case IOAPIC_IOREGSEL:
		old = io->regsel;
		break;
	case IOAPIC_IOWIN:
		old = reg_read(io, io->regsel);
		break;
	default:
		old = 0; /* the EOI register reads 0 */
		break;
	}
	val = (u32)((old & ~lanes) | ((a->val << shift) & lanes));
	if (!a->write) {
		a->val = old >> shift;
	} else if ((off & ~IOAPIC_SLOT_MASK) == IOAPIC_IOREGSEL) {
		io->regsel = val & IOREGSEL_MASK;
	} else if ((off & ~IOAPIC_SLOT_MASK) == IOAPIC_IOWIN) {
		reg_write(io, io->regsel, val);
	} else if ((off & ~IOAPIC_SLOT_MASK) == IOAPIC_EOI && byte == 0) {
		eoi(io, (u8)val);
	}
	spin_unlock(&io->lock);
	return 0;
}

void virq_set_level(struct vdev_registry *reg, u32 gsi, bool asserted)
{
	struct vioapic *io = of(reg);

	if (!io || gsi >= PLAT_IOAPIC_PINS)
		return;
	spin_lock(&io->lock);
	set_line(io, gsi, asserted);
	spin_unlock(&io->lock);
}

void virq_pulse(struct vdev_registry *reg, u32 gsi)
{
	struct vioapic *io = of(reg);

	if (!io || gsi >= PLAT_IOAPIC_PINS)
		return;
	spin_lock(&io->lock);
	set_line(io, gsi, true);
	set_line(io, gsi, false);
	spin_unlock(&io->lock);
}

bool virq_waiting(struct vdev_registry *reg, u32 gsi)
{
	struct vioapic *io = of(reg);
	u64 rte;

	if (!io || gsi >= PLAT_IOAPIC_PINS)
		return false;
	spin_lock(&io->lock);
	rte = io->rte[gsi];
	spin_unlock(&io->lock);
	if (rte & RTE_MASKED)
		return false;
	return virq_dest_waiting(reg, (u32)((rte >> RTE_DEST_SHIFT) & RTE_DEST_MASK),
				 rte & RTE_DEST_LOGICAL, (u8)(rte & RTE_VECTOR_MASK));
}

void virq_eoi(struct vdev_registry *reg, u8 vector)
{
	struct vioapic *io = of(reg);

	if (!io)
		return;
	spin_lock(&io->lock);
	eoi(io, vector);
	spin_unlock(&io->lock);
}

/* Power-on state: every pin masked, every input low; the ID is the
 * partition's vCPU count, as the MADT says. */
static void vioapic_reset(void *dev)
{
	struct vioapic *io = dev;
	u32 cpus = io->reg->owner.vcpu_count;

	spin_lock(&io->lock);
	io->regsel = 0;
	io->id = cpus > ID_MASK ? ID_MASK : cpus;
	io->lines = 0;
	for (u32 pin = 0; pin < PLAT_IOAPIC_PINS; pin++)
		io->rte[pin] = RTE_MASKED;
	spin_unlock(&io->lock);
}

static int vioapic_create(struct vdev_registry *reg, void *dev)
{
	struct vioapic *io = dev;

	io->reg = reg;
	vioapic_reset(io);
	return vdev_add_mmio(reg, PLAT_IOAPIC_BASE, PLAT_IOAPIC_SIZE, vioapic_access, io);
}

/* The partition's GSIs reach the one in its registry (virq_*). */
const struct vdev_type vioapic_type = {
	.name = "I/O APIC",
	.size = sizeof(struct vioapic),
	.create = vioapic_create,
	.reset = vioapic_reset,
};
