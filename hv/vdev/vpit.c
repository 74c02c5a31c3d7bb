/*
 * Intel 8254 PIT model (8254 data sheet; the PC wiring: channel 0 -> IRQ 0,
 * channel 2 gated and read back through port 0x61). Linux calibrates the
 * TSC with channel 2 and, when it must, checks that IRQ 0 ticks; both run
 * on the TSC here, so the guest measures the rate it really runs at.
 *
 * Counting is computed, never stepped: a channel remembers the clock value
 * (the TSC) at which its count was loaded, and every read derives the
 * current count. The count is taken as loaded at the write itself (the
 * 8254 loads it on the next CLK, at most one 838 ns tick later).
 */
#include "hv/vdev/vpit.h"
#include "hv/hw/pit.h"
#include "hv/lib/lib.h"
#include "hv/lib/spinlock.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vclock.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/virq.h"

#define PORTB_WRITABLE 0x0f
#define REFRESH_HZ 66667   /* bit 4 toggles every 15 us */
#define PIT_MIN_PERIOD 16  /* ticks: a tiny reload would flood the guest */
#define PIT_HOLD_DIVISOR 4 /* a held period is looked at again this often */

struct pit_channel {
	u8 mode, access, bcd;
	u8 write_lsb_next, read_lsb_next; /* word access: which byte comes next */
	u16 reload;			  /* the count written (0 means 65536) */
	u8 write_low;			  /* first byte of a word write */
	bool counting;			  /* a count has been loaded (and the gate is high) */
	u64 start;			  /* TSC when counting began */
	bool latched;
	u16 latch;
	bool status_latched;
	u8 status;
	u64 next_irq; /* channel 0: TSC of the next IRQ 0, 0 for none */
	u64 periods;  /* channel 0, modes 2 and 3: IRQs 0 raised since start */
};

struct vpit {
	struct vdev_registry *reg;
	struct vclock clk;
	struct spinlock lock;
	struct pit_channel ch[PIT_CHANNELS];
	u8 portb;
};

static u64 period_ticks(const struct pit_channel *c)
{
	return c->reload ? c->reload : 0x10000;
}

static u64 ticks_since(const struct vpit *t, const struct pit_channel *c, u64 now)
{
	return now > c->start ? muldiv64(now - c->start, VPIT_HZ, t->clk.hz) : 0;
}

static u64 clock_after(const struct vpit *t, u64 start, u64 ticks)
{
	return start + muldiv64(ticks, t->clk.hz, VPIT_HZ);
}

/* 8254 data sheet, "modes of operation" */
static u16 current_count(const struct vpit *t, const struct pit_channel *c, u64 now)
{
	u64 n = period_ticks(c), e = ticks_since(t, c, now);

	if (!c->counting)
		return c->reload;
	switch (c->mode) {
	case 2:
		return (u16)(n - e % n);
	case 3:
		return (u16)((n - (2 * e) % n) & ~1ULL);
	default: /* 0, 1, 4, 5: count down once, then wrap through 0xffff */
		return (u16)(n - e);
	}
}

static bool output(const struct vpit *t, const struct pit_channel *c, u64 now)
{
	u64 n = period_ticks(c), e = ticks_since(t, c, now);

	if (!c->counting)
		return c->mode != 0; /* mode 0 holds OUT low until the count ends */
	switch (c->mode) {
	case 0:
		return e >= n;
	case 2:
		return e % n != n - 1;
	case 3:
		return e % n < (n + 1) / 2;
	default:
		return e < n || e > n; /* a one-tick low pulse at terminal count */
	}
}

static void schedule_irq(struct vpit *t, u64 now)
{
	struct pit_channel *c = &t->ch[0];
	u64 n = MAX(period_ticks(c), (u64)PIT_MIN_PERIOD), e;

	vdev_timer_changed(t->reg);
	c->next_irq = 0;
	if (!c->counting)
		return;
	e = ticks_since(t, c, now);
	switch (c->mode) {
	case 0:
	case 4:
		if (e < n)
			c->next_irq = clock_after(t, c->start, n);
		break;
	case 2:
	case 3:
		/* late periods are raised late, not dropped (vpit_timer), up
		 * to VIRQ_LATE_TICKS_MS of them */
		if (e > c->periods * n + muldiv64(VIRQ_LATE_TICKS_MS, VPIT_HZ, 1000))
			c->periods = e / n;
		c->next_irq = clock_after(t, c->start, (c->periods + 1) * n);
		break;
	default:
		break;
	}
}

/* Raises IRQ 0 if channel 0 is due at clock value now; the next deadline. */
static u64 vpit_timer(void *dev, u64 now)
{
	struct vpit *t = dev;
	struct pit_channel *c = &t->ch[0];
	bool fire = false;
	u64 next = __atomic_load_n(&c->next_irq, __ATOMIC_RELAXED);

	/* the common case, on every guest entry: nothing due */
	if (!next || now < next)
		return next;
	/*
	 * A period whose IRQ 0 the guest has not taken yet (its vCPU did not
	 * run: the CPU was in the hypervisor or, under an emulator, not
	 * scheduled) waits for it rather than merging into it, so that a
	 * guest counting ticks (Linux's jiffies while the PIT is its tick)
	 * keeps time with the TSC.
	 */
	if (virq_waiting(t->reg, PLAT_GSI_TIMER))
		return now + muldiv64(period_ticks(c), t->clk.hz, VPIT_HZ) / PIT_HOLD_DIVISOR;
	spin_lock(&t->lock);
	if (c->next_irq && now >= c->next_irq) {
		fire = true;
		c->periods++;
		schedule_irq(t, now);
	}
	next = c->next_irq;
	spin_unlock(&t->lock);
	if (fire)
		virq_pulse(t->reg, PLAT_GSI_TIMER);
	return next;
}

static void load_count(struct vpit *t, u32 idx, u64 now)
{
	struct pit_channel *c = &t->ch[idx];

	c->start = now;
	c->periods = 0;
	/* channel 2 counts only while its gate (port 0x61 bit 0) is high */
	c->counting = idx != 2 || (t->portb & PORTB_GATE2);
	c->status &= ~PIT_STATUS_NULL;
	if (idx == 0)
		schedule_irq(t, now);
}

static void latch_count(const struct vpit *t, struct pit_channel *c, u64 now)
{
	if (!c->latched) {
		c->latch = current_count(t, c, now);
		c->latched = true;
		c->read_lsb_next = true;
	}
}

static void command(struct vpit *t, u8 val, u64 now)
{
	u32 idx = val >> PIT_CMD_CHANNEL_SHIFT;
	u32 access = (val >> PIT_CMD_ACCESS_SHIFT) & 3;
	struct pit_channel *c;

	if (idx == PIT_CMD_READBACK) {
		/* read-back: bits 3:1 select channels (8254 data sheet) */
		for (u32 i = 0; i < PIT_CHANNELS; i++) {
			c = &t->ch[i];
			if (!(val & BIT(i + 1)))
				continue;
			if (!(val & PIT_RB_NO_COUNT))
				latch_count(t, c, now);
			if (!(val & PIT_RB_NO_STATUS) && !c->status_latched) {
				c->status_latched = true;
				c->status = (u8)((c->status & ~PIT_STATUS_OUT) |
						 (output(t, c, now) ? PIT_STATUS_OUT : 0));
			}
		}
		return;
	}
	c = &t->ch[idx];
	if (access == PIT_ACCESS_LATCH) {
		latch_count(t, c, now);
		return;
	}
	c->access = (u8)access;
	c->mode = (val >> PIT_CMD_MODE_SHIFT) & 7;
	if (c->mode > 5)
		c->mode -= 4; /* 6 and 7 are 2 and 3 */
	c->bcd = val & PIT_CMD_BCD;
	c->write_lsb_next = c->read_lsb_next = true;
	c->counting = false;
	c->latched = false;
	c->status = (u8)((val & 0x3f) | PIT_STATUS_NULL);
	if (idx == 0) {
		c->next_irq = 0;
		vdev_timer_changed(t->reg);
	}
}

static void write_data(struct vpit *t, u32 idx, u8 val, u64 now)
{
	struct pit_channel *c = &t->ch[idx];

	switch (c->access) {
	case PIT_ACCESS_LO:
		c->reload = val;
		load_count(t, idx, now);
		break;
	case PIT_ACCESS_HI:
		c->reload = (u16)(val << 8);
		load_count(t, idx, now);
		break;
	default:
		if (c->write_lsb_next) {
			c->write_low = val;
			c->write_lsb_next = false;
			if (c->mode == 0)
				c->counting = false; /* mode 0 stops on the first byte */
		} else {
			c->reload = (u16)(c->write_low | (val << 8));
			c->write_lsb_next = true;
			load_count(t, idx, now);
		}
		break;
	}
}

static u8 read_data(struct vpit *t, u32 idx, u64 now)
{
	struct pit_channel *c = &t->ch[idx];
	u16 v;
	u8 byte;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	v = c->latched ? c->latch : current_count(t, c, now);
	switch (c->access) {
	case PIT_ACCESS_LO:
		c->latched = false;
		return (u8)v;
	case PIT_ACCESS_HI:
		c->latched = false;
		return (u8)(v >> 8);
	default:
		byte = c->read_lsb_next ? (u8)v : (u8)(v >> 8);
		if (!c->read_lsb_next)
			c->latched = false;
		c->read_lsb_next = !c->read_lsb_next;
		return byte;
	}
}

static u8 read_portb(struct vpit *t, u64 now)
{
	u8 v = t->portb & PORTB_WRITABLE;

	if (muldiv64(now, REFRESH_HZ, t->clk.hz) & 1)
		v |= PORTB_REFRESH;
	if (output(t, &t->ch[2], now))
		v |= PORTB_OUT2;
	return v;
}

static void write_portb(struct vpit *t, u8 val, u64 now)
{
	bool rising = !(t->portb & PORTB_GATE2) && (val & PORTB_GATE2);

	t->portb = val & PORTB_WRITABLE;
	/* a rising gate (re)starts channel 2 in every mode we model */
	if (rising)
		load_count(t, 2, now);
	else if (!(val & PORTB_GATE2))
		t->ch[2].counting = false;
}

static int vpit_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	struct vpit *t = dev;
	u64 now = t->clk.read();

	(void)v;
	spin_lock(&t->lock);
	if (a->addr == PIT_PORT_B) {
		if (a->write)
			write_portb(t, (u8)a->val, now);
		else
			a->val = read_portb(t, now);
	} else if (a->addr - PIT_PORT_BASE == PIT_CMD) {
		if (a->write)
			command(t, (u8)a->val, now);
		else
			a->val = 0xff; /* the control word register is write-only */
	} else if (a->write) {
		write_data(t, (u32)(a->addr - PIT_PORT_BASE), (u8)a->val, now);
	} else {
		a->val = read_data(t, (u32)(a->addr - PIT_PORT_BASE), now);
	}
	spin_unlock(&t->lock);
	return 0;
}

static void vpit_reset(void *dev)
{
	struct vpit *t = dev;

	spin_lock(&t->lock);
	memset(t->ch, 0, sizeof(t->ch));
	for (u32 i = 0; i < PIT_CHANNELS; i++)
		t->ch[i].access = PIT_ACCESS_WORD;
	t->portb = 0;
	spin_unlock(&t->lock);
}

/* Counting on the devices' clock (the TSC). */
static int vpit_create(struct vdev_registry *reg, void *dev)
{
	struct vpit *t = dev;

	t->reg = reg;
	reg->host->clock(&t->clk);
	if (!t->clk.hz)
		return -E_INVAL;
	vpit_reset(t);
	if (vdev_add_io(reg, PIT_PORT_BASE, PIT_PORTS, vpit_access, t) ||
	    vdev_add_io(reg, PIT_PORT_B, 1, vpit_access, t))
		return -E_NOMEM;
	return 0;
}

const struct vdev_type vpit_type = {
	.name = "8254 PIT",
	.size = sizeof(struct vpit),
	.create = vpit_create,
	.reset = vpit_reset,
	.timer = vpit_timer,
};
