/*
 * ACPI PM timer (ACPI 6.4 4.8.3.3): PM_TMR_PORT reads a 24-bit counter
 * that counts at 3.579545 MHz and wraps; writes do nothing. The count is
 * computed from the host TSC at every read: exact in rate (integer
 * scaling, no drift), and clamped so that it never runs backwards even if
 * the TSCs of the partition's CPUs disagree by a few cycles.
 */
#include "hv/vdev/vpmtimer.h"
#include "drivers/acpi.h"
#include "hv/vdev/acpi_tables.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vdev.h"

#define IO_PORT_LAST 0xffffU

struct vpmtimer {
	struct vclock clk;
	u64 start; /* clk.read() at creation: count 0 */
	u64 last;  /* the highest count handed out (atomic) */
	struct vdev_registry *reg;
	u16 port; /* where the guest finds it, for the FADT */
	bool is_32bit;
	bool passed; /* the machine's own, passed through at port */
};

/* The full-width count: PLAT_PM_TMR_HZ ticks per second since creation. */
static u64 count_now(struct vpmtimer *t)
{
	u64 now = t->clk.read();
	u64 delta = now > t->start ? now - t->start : 0;
	u64 count = t->clk.hz ? vclock_scale(delta, PLAT_PM_TMR_HZ, t->clk.hz) : 0;
	u64 last = __atomic_load_n(&t->last, __ATOMIC_RELAXED);

	while (count > last)
		if (__atomic_compare_exchange_n(&t->last, &last, count, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED))
			return count;
	return last;
}

u32 vpmtimer_read(struct vpmtimer *t)
{
	return (u32)count_now(t) & VPMTIMER_MASK;
}

/* A 32-bit register on a byte-addressed port range: an access at offset
 * off of size bytes sees those bytes of it (little-endian, as the I/O bus
 * splits it); bits 31:24 read 0 (TMR_VAL_EXT clear). */
static int vpmtimer_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	u32 off = (u32)(a->addr - PLAT_PM_TMR_PORT);

	(void)v;
	if (!a->write)
		a->val = off < sizeof(u32) ? (u64)vpmtimer_read(dev) >> (8 * off) : 0;
	return 0;
}

/*
 * The ACPI PM timer (ACPI 6.4 4.8.3.3) is a free-running, read-only
 * counter: the machine's own, when it has one in I/O space, can be shared
 * by every partition without one seeing anything of another but the time.
 * Each reads it without an exit, which matters to Linux: it refines its
 * TSC calibration against this timer with three reads in a row, and gives
 * up when they take longer than an SMI would (tens of microseconds); three
 * exits take that long under an emulator (14 us a read measured under
 * QEMU's TCG), and the guest then never leaves its early TSC clocksource.
 *
 * An I/O bitmap intercepts a port for reads and writes alike (SDM 3C
 * 25.6.4, 26.1.3; APM 2 15.10.1), so the guest's writes reach the machine
 * too. They are harmless: PM_TMR_BLK is the timer's four bytes and nothing
 * else (PM_TMR_LEN = 4, ACPI 6.4 5.2.9), the timer ignores writes, and an
 * access that runs past the block exits (the bitmaps are checked for every
 * port an access touches). A firmware that lays another fixed register
 * over the block, or makes it shorter, is caught by the ACPI parser
 * (acpi_info.pm_tmr_alone, drivers/acpi_fadt.c).
 *
 * The emulated timer (at PLAT_PM_TMR_PORT) stands in when the machine has
 * none, when its block is not the timer's alone, or when its ports are
 * ones the partition's devices claim: this is the last device of the list
 * (vdev_list.c).
 */
static const struct acpi_info *machine_timer(const struct vdev_registry *reg)
{
	const struct acpi_info *ai = reg->host->acpi();
	u32 port = ai ? ai->pm_tmr_port : 0;

	if (!port || !ai->pm_tmr_alone || port > IO_PORT_LAST + 1 - VPMTIMER_PORTS)
		return NULL;
	for (u32 i = 0; i < VPMTIMER_PORTS; i++)
		if (vdev_find_io(reg, (u16)(port + i)))
			return NULL;
	return ai;
}

static int vpmtimer_create(struct vdev_registry *reg, void *dev)
{
	const struct acpi_info *ai = machine_timer(reg);
	struct vpmtimer *t = dev;

	t->reg = reg;
	if (!ai) {
		reg->host->clock(&t->clk);
		t->start = t->clk.read();
		t->port = PLAT_PM_TMR_PORT;
		return vdev_add_io(reg, PLAT_PM_TMR_PORT, VPMTIMER_PORTS, vpmtimer_access, t);
	}
	t->port = (u16)ai->pm_tmr_port;
	t->is_32bit = ai->pm_tmr_32bit;
	t->passed = true;
	for (u32 i = 0; i < VPMTIMER_PORTS; i++)
		reg->host->pass_io(reg->owner.part, (u16)(t->port + i), true);
	return 0;
}

/* The machine's timer is the partition's no more. */
static void vpmtimer_free(void *dev)
{
	struct vpmtimer *t = dev;

	for (u32 i = 0; t->passed && i < VPMTIMER_PORTS; i++)
		t->reg->host->pass_io(t->reg->owner.part, (u16)(t->port + i), false);
}

static void vpmtimer_firmware(void *dev, struct acpi_build_cfg *cfg)
{
	const struct vpmtimer *t = dev;

	cfg->pm_tmr_port = t->port;
	cfg->pm_tmr_32bit = t->is_32bit;
}

const struct vdev_type vpmtimer_type = {
	.name = "ACPI PM timer",
	.size = sizeof(struct vpmtimer),
	.create = vpmtimer_create,
	.free = vpmtimer_free,
	.firmware = vpmtimer_firmware,
};
