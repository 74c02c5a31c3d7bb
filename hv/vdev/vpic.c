/*
 * 8259A programmable interrupt controller pair (Intel 8259A datasheet)
 * and the ELCR of PC chipsets (Intel ICH datasheets, "ELCR1/ELCR2").
 *
 * What a guest can observe is modelled: the ICW1-ICW4 initialisation
 * sequence (ICW1 resets the chip: IMR cleared, status read set to IRR,
 * special mask mode off), OCW1 (the IMR, read back as written: Linux's
 * probe writes it and compares), OCW2 (EOI and priority commands) and OCW3
 * (IRR/ISR read select, poll, special mask mode). Interrupt requests are
 * not: no line reaches these chips (see vpic.h), so IRR and ISR stay 0
 * and EOIs have nothing to clear.
 */
#include "hv/vdev/vpic.h"
#include "hv/hw/pc.h"
#include "hv/hw/pic.h"
#include "hv/lib/spinlock.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vdev.h"

#define POLL_NOTHING 0x00 /* bit 7 clear: no interrupt pending */
#define MASK_ALL 0xff

enum init_step { INIT_DONE, INIT_ICW2, INIT_ICW3, INIT_ICW4 };

struct pic_chip {
	u8 imr, irr, isr;
	u8 icw1, vector_base, icw3, icw4;
	u8 init;       /* enum init_step: the word the data port expects */
	u8 lowest;     /* the IR with the lowest priority */
	bool read_isr; /* the command port reads ISR, else IRR */
	bool poll;     /* the next read returns the poll byte */
	bool special_mask;
	bool rotate_aeoi;
};

struct vpic {
	struct spinlock lock;
	struct pic_chip chip[2];
	u8 elcr[2];
};

static void chip_reset(struct pic_chip *c)
{
	*c = (struct pic_chip){ .imr = MASK_ALL, .lowest = PIC_LOWEST_DEFAULT };
}

/* The in-service IR of highest priority, in the rotated order, or -1. */
static int highest_in_service(const struct pic_chip *c)
{
	for (u32 i = 1; i <= PIC_LINES; i++) {
		u32 ir = (c->lowest + i) % PIC_LINES;

		if (c->isr & BIT(ir))
			return (int)ir;
	}
	return -1;
}

static void ocw2(struct pic_chip *c, u8 val)
{
	u8 level = val & OCW2_LEVEL_MASK;
	int ir;

	switch (val >> OCW2_CMD_SHIFT) {
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		ir = highest_in_service(c);
		if (ir < 0)
			break;
		c->isr &= (u8)~BIT(ir);
		if (val >> OCW2_CMD_SHIFT == OCW2_ROTATE_EOI)
			c->lowest = (u8)ir;
		break;
	case OCW2_SPECIFIC_EOI:
		c->isr &= (u8)~BIT(level);
		break;
	case OCW2_ROTATE_SPECIFIC:
		c->isr &= (u8)~BIT(level);
		c->lowest = level;
		break;
	case OCW2_SET_PRIORITY:
		c->lowest = level;
		break;
	case OCW2_ROTATE_AEOI_SET:
		c->rotate_aeoi = true;
		break;
	case OCW2_ROTATE_AEOI_CLEAR:
		c->rotate_aeoi = false;
		break;
	case OCW2_NOP:
	default:
		break;
	}
}

static void command_write(struct pic_chip *c, u8 val)
{
	if (val & ICW1_INIT) {
		/* 8259A "Initialization command words": what ICW1 resets */
		chip_reset(c);
		c->imr = 0;
		c->icw1 = val;
		c->init = INIT_ICW2;
	} else if (val & OCW3_SELECT) {
		if (val & OCW3_POLL)
			c->poll = true;
		if (val & OCW3_RR)
			c->read_isr = val & OCW3_RIS;
		if (val & OCW3_ESMM)
			c->special_mask = val & OCW3_SMM;
	} else {
		ocw2(c, val);
	}
}

static void data_write(struct pic_chip *c, u8 val)
{
	bool icw4 = c->icw1 & ICW1_IC4;

	switch (c->init) {
	case INIT_ICW2:
		c->vector_base = val & ICW2_BASE_MASK;
		if (!(c->icw1 & ICW1_SNGL))
			c->init = INIT_ICW3;
		else
			c->init = icw4 ? INIT_ICW4 : INIT_DONE;
		break;
	case INIT_ICW3:
		c->icw3 = val;
		c->init = icw4 ? INIT_ICW4 : INIT_DONE;
		break;
	case INIT_ICW4:
		c->icw4 = val;
		c->init = INIT_DONE;
		break;
	default:
		c->imr = val; /* OCW1 */
		break;
	}
}

static u8 chip_read(struct pic_chip *c, bool data)
{
	if (c->poll) {
		c->poll = false;
		return POLL_NOTHING;
	}
	if (data)
		return c->imr;
	return c->read_isr ? c->isr : c->irr;
}

static u8 pic_byte(struct vpic *pic, u16 port, bool write, u8 val)
{
	u32 off1 = (u32)port - PLAT_PIC1_PORT, off2 = (u32)port - PLAT_PIC2_PORT;
	struct pic_chip *c;
	bool data;

	if (off1 < VPIC_PORTS) {
		c = &pic->chip[0];
		data = off1;
	} else if (off2 < VPIC_PORTS) {
		c = &pic->chip[1];
		data = off2;
	} else {
		return OPEN_BUS; /* a wide access running past the chip */
	}
	if (!write)
		return chip_read(c, data);
	if (data)
		data_write(c, val);
	else
		command_write(c, val);
	return 0;
}

static u8 elcr_byte(struct vpic *pic, u16 port, bool write, u8 val)
{
	static const u8 writable[VPIC_ELCR_PORTS] = { ELCR1_WRITABLE, ELCR2_WRITABLE };
	u32 i = (u32)port - PLAT_ELCR_PORT;

	if (i >= VPIC_ELCR_PORTS)
		return OPEN_BUS;
	if (write)
		pic->elcr[i] = val & writable[i];
	return pic->elcr[i];
}

/* An ISA bus splits a wide access into byte cycles, lowest port first. */
static void byte_cycles(struct vpic *pic, struct vdev_access *a,
			u8 (*byte)(struct vpic *, u16, bool, u8))
{
	u64 val = 0;

	spin_lock(&pic->lock);
	for (u32 i = 0; i < a->size; i++) {
		u8 b = byte(pic, (u16)(a->addr + i), a->write, (u8)(a->val >> (8 * i)));

		val |= (u64)b << (8 * i);
	}
	spin_unlock(&pic->lock);
	if (!a->write)
		a->val = val;
}

static int vpic_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	(void)v;
	byte_cycles(dev, a, pic_byte);
	return 0;
}

static int elcr_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	(void)v;
	byte_cycles(dev, a, elcr_byte);
	return 0;
}

/* Power-on state: both chips uninitialised with every line masked. */
static void vpic_reset(void *dev)
{
	struct vpic *pic = dev;

	spin_lock(&pic->lock);
	chip_reset(&pic->chip[0]);
	chip_reset(&pic->chip[1]);
	pic->elcr[0] = pic->elcr[1] = 0;
	spin_unlock(&pic->lock);
}

static int vpic_create(struct vdev_registry *reg, void *pic)
{
	vpic_reset(pic);
	if (vdev_add_io(reg, PLAT_PIC1_PORT, VPIC_PORTS, vpic_access, pic) ||
	    vdev_add_io(reg, PLAT_PIC2_PORT, VPIC_PORTS, vpic_access, pic) ||
	    vdev_add_io(reg, PLAT_ELCR_PORT, VPIC_ELCR_PORTS, elcr_access, pic))
		return -E_NOMEM;
	return 0;
}

const struct vdev_type vpic_type = {
	.name = "8259 pair",
	.size = sizeof(struct vpic),
	.create = vpic_create,
	.reset = vpic_reset,
};
