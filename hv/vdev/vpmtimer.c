/*
 * ACPI PM timer (ACPI 6.4 4.8.3.3): PM_TMR_PORT reads a 24-bit counter
 * that counts at 3.579545 MHz and wraps; writes do nothing. The count is
 * computed from the host TSC at every read: exact in rate (integer
 * scaling, no drift), and clamped so that it never runs backwards even if
 * the TSCs of the partition's CPUs disagree by a few cycles.
 */
#include "hv/vdev/vpmtimer.h"
#include "hv/mm/mm.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vdev.h"

struct vpmtimer {
	struct vclock clk;
	u64 start;	/* clk.read() at creation: count 0 */
	u64 last;	/* the highest count handed out (atomic) */
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

struct vpmtimer *vpmtimer_create(struct partition *p, const struct vclock *clk)
{
	struct vpmtimer *t = mm_alloc(sizeof(*t), 8, 0);

	if (!t)
		return NULL;
	t->clk = *clk;
	t->start = clk->read();
	if (vdev_add_io(&p->vdevs, PLAT_PM_TMR_PORT, VPMTIMER_PORTS, vpmtimer_access, t))
		return NULL;
	return t;
}
