/*
 * Virtual local APIC (SDM 3A ch. 11): identification, task priority,
 * interrupt request/service registers, EOI, the ICR (fixed, NMI, INIT and
 * startup IPIs delivered only within the partition, to its own vCPUs by
 * their partition-relative APIC IDs), the timer in one-shot, periodic and
 * TSC-deadline modes, both the xAPIC MMIO and the x2APIC MSR interfaces,
 * and the global disable of IA32_APIC_BASE.EN (SDM 3A 11.4.3).
 *
 * The timer runs on the real TSC: its deadline is a TSC value, and the vCPU
 * loop arms the physical CPU's own timer for the nearest one (hv/vcpu/loop.c).
 */
#include "hv/vdev/vlapic.h"
#include "drivers/tsc.h"
#include "hv/console/console.h"
#include "hv/hw/apic.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/virq.h"

#define APIC_VERSION_VALUE 0x00050014 /* version 0x14, 6 LVT entries */
#define APIC_LVT_COUNT 7
#define TIMER_ONESHOT 0
#define TIMER_PERIODIC 1
#define TIMER_TSC_DEADLINE 2
#define APIC_LVT_TIMER_IDX 1 /* lvt[] slot of the timer (0 is CMCI) */
#define X2APIC_MSR_BASE 0x800
#define X2APIC_MSR_END 0x900
#define APIC_TIMER_MIN_PERIOD_NS 10000 /* periodic mode: bounded exit rate */

struct vlapic {
	struct vcpu *vcpu;
	struct vdev_registry *reg;
	u32 tpr, ldr, dfr, svr, esr, icr_hi;
	u32 lvt[APIC_LVT_COUNT];
	u32 timer_icr, timer_dcr;
	u64 timer_deadline; /* TSC; 0 when the timer is not running */
	u64 timer_period;   /* TSC ticks, periodic mode */
	bool timer_held;    /* periodic: an expiry waits for the last one's delivery */
	u64 timer_armed_at; /* TSC when the deadline was set (statistics) */
	bool x2apic;
	bool off; /* globally disabled: IA32_APIC_BASE.EN = 0 */
	u32 isr[APIC_VECTOR_WORDS], tmr[APIC_VECTOR_WORDS];
	volatile u32 irr[APIC_VECTOR_WORDS];	     /* set by other vCPUs: atomics */
	volatile u32 tmr_pending[APIC_VECTOR_WORDS]; /* level-triggered requests */
	volatile bool nmi;
};

/* The timer's input clock: the core crystal the partition's CPUID 15h
 * states (Linux then takes it as the APIC timer rate, SDM 3B 19.7.3). */
static u64 apic_timer_hz(const struct vlapic *l)
{
	return l->reg->host->crystal_hz();
}

static struct vlapic *vl(struct vcpu *v)
{
	return v->dev[VCPU_DEV_IRQCHIP];
}

static int highest_bit(const volatile u32 *words)
{
	for (int w = APIC_VECTOR_WORDS - 1; w >= 0; w--)
		if (words[w])
			return w * 32 + 31 - __builtin_clz(words[w]);
	return -1;
}

static bool irr_has(const struct vlapic *l, u8 vector)
{
	return l->irr[vector / 32] & (1U << (vector % 32));
}

/* SDM 3A 11.8.3.1: PPR from TPR and the highest in-service vector */
static u32 ppr(const struct vlapic *l)
{
	int isr = highest_bit(l->isr);
	u32 isrv = isr < 0 ? 0 : (u32)isr;

	return APIC_PRIO_CLASS(l->tpr) >= APIC_PRIO_CLASS(isrv) ? l->tpr : (isrv & 0xf0);
}

static void set_irq(struct vcpu *v, u8 vector, bool level)
{
	struct vlapic *l = vl(v);
	u32 bit = 1U << (vector % 32);

	/* SDM 3A 11.4.3: a globally disabled APIC takes no interrupt */
	if (l->off)
		return;
	if (level)
		__atomic_fetch_or(&l->tmr_pending[vector / 32], bit, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&l->tmr_pending[vector / 32], ~bit, __ATOMIC_SEQ_CST);
	__atomic_fetch_or(&l->irr[vector / 32], bit, __ATOMIC_SEQ_CST);
	__atomic_store_n(&v->event_hint, 1, __ATOMIC_SEQ_CST);
	vdev_kick(l->reg, v, VCPU_REQ_EVENT);
}

void vlapic_set_irq(struct vcpu *v, u8 vector)
{
	set_irq(v, vector, false);
}

int virq_pending(struct vcpu *v)
{
	struct vlapic *l = vl(v);
	int irr;

	/* nothing raised since the IRR was last found empty: skip the scan */
	if (!__atomic_load_n(&v->event_hint, __ATOMIC_ACQUIRE))
		return -1;
	irr = highest_bit(l->irr);
	if (irr < 0 && !l->nmi) {
		/* clear the hint, then look again: a racing raise sets it anew */
		__atomic_store_n(&v->event_hint, 0, __ATOMIC_SEQ_CST);
		irr = highest_bit(l->irr);
		if (irr >= 0 || l->nmi)
			__atomic_store_n(&v->event_hint, 1, __ATOMIC_SEQ_CST);
	}
	if (irr < 0 || !(l->svr & APIC_SVR_ENABLE) || l->off)
		return -1;
	return APIC_PRIO_CLASS((u32)irr) > APIC_PRIO_CLASS(ppr(l)) ? irr : -1;
}

void virq_ack(struct vcpu *v, u8 vector)
{
	struct vlapic *l = vl(v);
	u32 bit = 1U << (vector % 32);

	__atomic_fetch_and(&l->irr[vector / 32], ~bit, __ATOMIC_SEQ_CST);
	l->isr[vector / 32] |= bit;
	if (l->timer_held && vector == (l->lvt[APIC_LVT_TIMER_IDX] & APIC_LVT_VECTOR_MASK)) {
		l->timer_held = false;
		v->timer_dirty = 1;
	}
	/* the partition's device timers, kept on vCPU 0 (vdev_timers), look
	 * again at its next entry: a period they held while their last
	 * interrupt waited (vpit_timer) is raised then, so that a backlog is
	 * taken back to back, each as soon as the guest can */
	if (v == l->reg->owner.vcpus[0])
		v->timer_dirty = 1;
	/* SDM 3A 11.8.4: TMR says whether the EOI must go to the I/O APIC */
	if (l->tmr_pending[vector / 32] & bit)
		l->tmr[vector / 32] |= bit;
	else
		l->tmr[vector / 32] &= ~bit;
}

bool virq_nmi_pending(struct vcpu *v)
{
	return __atomic_load_n(&vl(v)->nmi, __ATOMIC_ACQUIRE);
}

bool virq_take_nmi(struct vcpu *v)
{
	return __atomic_exchange_n(&vl(v)->nmi, false, __ATOMIC_SEQ_CST);
}

/* SDM 3A 11.6.2: which of the partition's APICs a destination names */
static u32 x2apic_ldr(u32 id)
{
	/* SDM 3A 11.12.10.2: cluster in 31:16, one bit of 16 in 15:0 */
	return ((id >> 4) << X2APIC_CLUSTER_SHIFT) | (1U << (id & 0xf));
}

static bool dest_match(const struct vlapic *l, u32 dest, bool logical)
{
	u32 id = l->vcpu->id;

	if (l->off)
		return false; /* SDM 3A 11.4.3: not on the bus */
	if (l->x2apic) {
		if (!logical)
			return dest == X2APIC_BROADCAST || dest == id;
		return (dest >> X2APIC_CLUSTER_SHIFT) == (id >> 4) &&
		       (dest & x2apic_ldr(id) & 0xffff);
	}
	if (!logical)
		return dest == APIC_BROADCAST || dest == id;
	/* flat model: a bit per APIC in the logical ID */
	return (l->ldr >> APIC_ID_SHIFT) & dest;
}

static void deliver(struct vcpu *to, u32 mode, u8 vector, bool level)
{
	struct vlapic *l = vl(to);

	if (l->off)
		return; /* SDM 3A 11.4.3: not on the bus */
	switch (mode) {
	case ICR_MODE_FIXED:
	case ICR_MODE_LOWEST:
		set_irq(to, vector, level);
		break;
	case ICR_MODE_NMI:
		l->nmi = true;
		__atomic_store_n(&to->event_hint, 1, __ATOMIC_SEQ_CST);
		vdev_kick(l->reg, to, VCPU_REQ_EVENT);
		break;
	case ICR_MODE_INIT:
		vdev_kick(l->reg, to, VCPU_REQ_INIT);
		break;
	case ICR_MODE_STARTUP:
		to->sipi_vector = vector;
		vdev_kick(l->reg, to, VCPU_REQ_SIPI);
		break;
	default:
		break; /* SMI and reserved modes are not delivered */
	}
}

bool virq_dest_waiting(struct vdev_registry *reg, u32 dest, bool logical, u8 vector)
{
	for (u32 i = 0; i < reg->owner.vcpu_count; i++) {
		const struct vlapic *l = vl(reg->owner.vcpus[i]);

		if (dest_match(l, dest, logical) && irr_has(l, vector))
			return true;
	}
	return false;
}

void virq_deliver(struct vdev_registry *reg, u32 dest, bool logical, u32 mode, u8 vector,
		  bool level)
{
	struct vcpu *lowest = NULL;

	for (u32 i = 0; i < reg->owner.vcpu_count; i++) {
		struct vcpu *to = reg->owner.vcpus[i];

		if (!dest_match(vl(to), dest, logical))
			continue;
		/* lowest priority: one of the targets (the first; all run alone) */
		if (mode == ICR_MODE_LOWEST) {
			lowest = lowest ? lowest : to;
			continue;
		}
		deliver(to, mode, vector, level);
	}
	if (lowest)
		deliver(lowest, ICR_MODE_FIXED, vector, level);
}

static void send_ipi(struct vcpu *v, u32 icr_lo, u32 dest)
{
	struct vdev_registry *reg = vl(v)->reg;
	u32 mode = (icr_lo >> ICR_MODE_SHIFT) & ICR_MODE_MASK;
	u32 sh = (icr_lo >> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK;
	bool logical = icr_lo & ICR_DEST_LOGICAL;

	/* SDM 3A 11.6.1: an INIT level de-assert only synchronises arbitration IDs */
	if (mode == ICR_MODE_INIT && !(icr_lo & ICR_LEVEL_ASSERT) && (icr_lo & ICR_TRIGGER_LEVEL))
		return;
	if (sh == ICR_SH_NONE) {
		virq_deliver(reg, dest, logical, mode, (u8)(icr_lo & ICR_VECTOR_MASK), false);
		return;
	}
	for (u32 i = 0; i < reg->owner.vcpu_count; i++) {
		struct vcpu *to = reg->owner.vcpus[i];
		bool hit;

		switch (sh) {
		case ICR_SH_SELF:
			hit = to == v;
			break;
		case ICR_SH_ALL:
			hit = true;
			break;
		case ICR_SH_OTHERS:
			hit = to != v;
			break;
		default:
			hit = to != v;
			break;
		}
		if (hit)
			deliver(to, mode, (u8)(icr_lo & ICR_VECTOR_MASK), false);
	}
}

static void eoi(struct vlapic *l)
{
	int isr = highest_bit(l->isr);
	u32 bit;

	if (isr < 0)
		return;
	bit = 1U << (isr % 32);
	l->isr[isr / 32] &= ~bit;
	if (l->tmr[isr / 32] & bit)
		virq_eoi(l->reg, (u8)isr);
}

/* --- timer (SDM 3A 11.5.4) --------------------------------------------- */

static u32 timer_mode(const struct vlapic *l)
{
	return (l->lvt[APIC_LVT_TIMER_IDX] >> APIC_LVT_TIMER_MODE_SHIFT) & APIC_LVT_TIMER_MODE_MASK;
}

/* Divide configuration: bits 3, 1:0 (figure 11-10); 111b is divide by 1 */
static u32 timer_divisor(const struct vlapic *l)
{
	u32 code = ((l->timer_dcr & 0x8) >> 1) | (l->timer_dcr & 0x3);

	return code == 7 ? 1 : 2U << code;
}

static u64 ticks_to_tsc(const struct vlapic *l, u64 ticks)
{
	return muldiv64(ticks * timer_divisor(l), tsc_hz(), apic_timer_hz(l));
}

/* One count of the initial-count register, in TSC ticks; in periodic mode
 * at least APIC_TIMER_MIN_PERIOD_NS: a tiny period would turn the
 * partition into an exit storm. */
static u64 count_len(const struct vlapic *l)
{
	u64 len = ticks_to_tsc(l, l->timer_icr);

	if (timer_mode(l) == TIMER_PERIODIC)
		len = MAX(len, muldiv64(APIC_TIMER_MIN_PERIOD_NS, tsc_hz(), 1000000000ULL));
	return len;
}

static void timer_start_count(struct vlapic *l)
{
	u64 len;

	l->vcpu->timer_dirty = 1;
	l->timer_deadline = 0;
	l->timer_period = 0;
	l->timer_held = false;
	if (!l->timer_icr || timer_mode(l) == TIMER_TSC_DEADLINE)
		return;
	len = count_len(l);
	if (timer_mode(l) == TIMER_PERIODIC)
		l->timer_period = len;
	l->timer_armed_at = rdtsc();
	l->timer_deadline = l->timer_armed_at + len;
}

static u32 timer_current_count(const struct vlapic *l)
{
	u64 now = rdtsc(), left;

	if (!l->timer_deadline || timer_mode(l) == TIMER_TSC_DEADLINE || now >= l->timer_deadline)
		return 0;
	left = muldiv64(l->timer_deadline - now, apic_timer_hz(l), tsc_hz());
	return (u32)MIN(left / timer_divisor(l), (u64)l->timer_icr);
}

static void write_lvt_timer(struct vlapic *l, u32 val)
{
	u32 old_mode = timer_mode(l);

	l->lvt[APIC_LVT_TIMER_IDX] = val;
	l->vcpu->timer_dirty = 1;
	/* a held expiry waits for its vector's delivery; the vector or mask
	 * may have changed: the next check decides again */
	l->timer_held = false;
	if (timer_mode(l) == old_mode)
		return;
	/* SDM 3A 11.5.4.1: a transition to or from TSC-deadline mode disarms */
	if (timer_mode(l) == TIMER_TSC_DEADLINE || old_mode == TIMER_TSC_DEADLINE) {
		l->timer_deadline = 0;
		l->timer_period = 0;
		l->timer_icr = 0;
		return;
	}
	/* SDM 3A 11.5.4: between one-shot and periodic the count runs on, and
	 * the new mode decides what its end does: reload, or stop */
	l->timer_period = timer_mode(l) == TIMER_PERIODIC && l->timer_deadline ? count_len(l) : 0;
}

u64 vlapic_timer_deadline(struct vcpu *v)
{
	struct vlapic *l = vl(v);

	return l->timer_held ? 0 : l->timer_deadline;
}

/*
 * A periodic timer's expiry that the guest could not take in time (its
 * vCPU did not run: the CPU was in the hypervisor or, under an emulator,
 * the host did not schedule it) is delivered late rather than lost, so
 * that a guest counting ticks (Linux's jiffies before it trusts a
 * clocksource) keeps time with the TSC: the next expiry keeps the timer's
 * phase, and while the last one still waits in the IRR, the next is held
 * until it is delivered (vlapic_ack_irq). A backlog beyond
 * VIRQ_LATE_TICKS_MS is dropped, as hardware would drop it.
 */
void vlapic_timer_check(struct vcpu *v, u64 now)
{
	struct vlapic *l = vl(v);
	u32 lvt = l->lvt[APIC_LVT_TIMER_IDX];
	u8 vector = (u8)(lvt & APIC_LVT_VECTOR_MASK);
	bool masked = lvt & APIC_LVT_MASKED;
	u64 late;

	if (!l->timer_deadline || now < l->timer_deadline || l->timer_held)
		return;
	if (l->timer_period && !masked && irr_has(l, vector)) {
		l->timer_held = true;
		return;
	}
	late = now - MAX(l->timer_deadline, l->timer_armed_at);
	v->stats.timer_fired++;
	v->stats.timer_late += late;
	v->stats.timer_late_max = MAX(v->stats.timer_late_max, late);
	if (l->timer_period) {
		l->timer_deadline += l->timer_period;
		if (now > l->timer_deadline &&
		    now - l->timer_deadline > tsc_hz() / 1000 * VIRQ_LATE_TICKS_MS)
			l->timer_deadline = now + l->timer_period;
	} else {
		l->timer_deadline = 0;
	}
	if (!masked)
		set_irq(v, vector, false);
}

int vlapic_tsc_deadline_write(struct vcpu *v, u64 val)
{
	struct vlapic *l = vl(v);

	/* SDM 3A 11.5.4.1: ignored unless the timer is in TSC-deadline mode */
	if (timer_mode(l) == TIMER_TSC_DEADLINE) {
		l->timer_deadline = val;
		l->timer_armed_at = rdtsc();
		v->timer_dirty = 1;
	}
	return 0;
}

u64 vlapic_tsc_deadline_read(struct vcpu *v)
{
	struct vlapic *l = vl(v);

	return timer_mode(l) == TIMER_TSC_DEADLINE ? l->timer_deadline : 0;
}

static u32 read_reg(struct vlapic *l, u32 reg)
{
	switch (reg) {
	case APIC_ID:
		return l->x2apic ? l->vcpu->id : l->vcpu->id << APIC_ID_SHIFT;
	case APIC_VERSION:
		return APIC_VERSION_VALUE;
	case APIC_TPR:
		return l->tpr;
	case APIC_PPR:
		return ppr(l);
	case APIC_LDR:
		return l->x2apic ? x2apic_ldr(l->vcpu->id) : l->ldr;
	case APIC_DFR:
		return l->dfr;
	case APIC_SVR:
		return l->svr;
	case APIC_ESR:
		return l->esr;
	case APIC_ICR_LO:
		return 0; /* delivery status: idle */
	case APIC_ICR_HI:
		return l->icr_hi;
	case APIC_LVT_CMCI:
		return l->lvt[0];
	case APIC_LVT_TIMER ... APIC_LVT_ERROR:
		return l->lvt[1 + (reg - APIC_LVT_TIMER) / 0x10];
	case APIC_TIMER_ICR:
		return l->timer_icr;
	case APIC_TIMER_DCR:
		return l->timer_dcr;
	case APIC_TIMER_CCR:
		return timer_current_count(l);
	case APIC_ISR ... APIC_ISR + 0x70:
		return l->isr[(reg - APIC_ISR) / 0x10];
	case APIC_TMR ... APIC_TMR + 0x70:
		return l->tmr[(reg - APIC_TMR) / 0x10];
	case APIC_IRR ... APIC_IRR + 0x70:
		return l->irr[(reg - APIC_IRR) / 0x10];
	default:
		return 0;
	}
}

static void write_reg(struct vlapic *l, u32 reg, u32 val)
{
	switch (reg) {
	case APIC_TPR:
		l->tpr = val & 0xff;
		break;
	case APIC_EOI:
		eoi(l);
		break;
	case APIC_LDR:
		l->ldr = val & (0xffU << APIC_ID_SHIFT);
		break;
	case APIC_DFR:
		l->dfr = val | 0x0fffffff;
		break;
	case APIC_SVR:
		l->svr = val & 0x3ff;
		break;
	case APIC_ESR:
		l->esr = 0;
		break;
	case APIC_ICR_HI:
		l->icr_hi = val;
		break;
	case APIC_ICR_LO:
		send_ipi(l->vcpu, val, l->icr_hi >> ICR_DEST_SHIFT);
		break;
	case APIC_LVT_CMCI:
		l->lvt[0] = val;
		break;
	case APIC_LVT_TIMER:
		write_lvt_timer(l, val);
		break;
	case APIC_LVT_THERMAL ... APIC_LVT_ERROR:
		l->lvt[1 + (reg - APIC_LVT_TIMER) / 0x10] = val;
		break;
	case APIC_TIMER_ICR:
		/* SDM 3A 11.5.4.1: ignored in TSC-deadline mode */
		if (timer_mode(l) == TIMER_TSC_DEADLINE)
			break;
		l->timer_icr = val;
		timer_start_count(l);
		break;
	case APIC_TIMER_DCR:
		l->timer_dcr = val & APIC_DCR_MASK;
		break;
	default:
		break; /* read-only or reserved: ignored */
	}
}

static int vlapic_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	u32 reg = (u32)(a->addr - PLAT_LAPIC_BASE);

	(void)dev;
	/* SDM 3A 11.12.2: in x2APIC mode the MMIO page is not there; nor is it
	 * when the APIC is disabled (11.4.3): the access goes to the bus */
	if (vl(v)->x2apic || vl(v)->off)
		return -E_NODEV;
	/* SDM 3A 11.4.1: registers are 32 bits wide on 16-byte boundaries */
	if (reg % 16 || a->size != 4)
		return a->write ? 0 : (a->val = 0, 0);
	if (a->write)
		write_reg(vl(v), reg, (u32)a->val);
	else
		a->val = read_reg(vl(v), reg);
	return 0;
}

static void vlapic_reset(void *dev)
{
	struct vlapic *l = dev;
	struct vcpu *v = l->vcpu;
	struct vdev_registry *reg = l->reg;

	memset(l, 0, sizeof(*l));
	v->event_hint = 0;
	v->timer_dirty = 1;
	l->vcpu = v;
	l->reg = reg;
	l->dfr = APIC_DFR_FLAT;
	l->svr = APIC_SVR_RESET;
	for (int i = 0; i < APIC_LVT_COUNT; i++)
		l->lvt[i] = APIC_LVT_MASKED;
}

/* --- x2APIC MSRs (SDM 3A 11.12.1, table 11-6) --------------------------- */

bool vlapic_is_x2apic_msr(u32 msr)
{
	return msr >= X2APIC_MSR_BASE && msr < X2APIC_MSR_END;
}

int vlapic_msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	struct vlapic *l = vl(v);
	u32 reg = (msr - X2APIC_MSR_BASE) << 4;

	if (!l->x2apic || reg == APIC_EOI || reg == X2APIC_SELF_IPI || reg == APIC_DFR ||
	    reg == APIC_ICR_HI)
		return -E_INVAL;
	if (reg == APIC_ICR_LO) {
		*val = (u64)l->icr_hi << 32;
		return 0;
	}
	*val = read_reg(l, reg);
	return 0;
}

int vlapic_msr_write(struct vcpu *v, u32 msr, u64 val)
{
	struct vlapic *l = vl(v);
	u32 reg = (msr - X2APIC_MSR_BASE) << 4;

	if (!l->x2apic)
		return -E_INVAL;
	switch (reg) {
	case APIC_ICR_LO:
		/* one 64-bit write: destination in 63:32 */
		l->icr_hi = (u32)(val >> 32);
		send_ipi(v, (u32)val, l->icr_hi);
		return 0;
	case X2APIC_SELF_IPI:
		set_irq(v, (u8)val, false);
		return 0;
	case APIC_ID:
	case APIC_VERSION:
	case APIC_LDR:
	case APIC_PPR:
	case APIC_TIMER_CCR:
	case APIC_DFR:
	case APIC_ICR_HI:
		return -E_INVAL; /* read-only or absent in x2APIC mode */
	case APIC_EOI:
	case APIC_ESR:
		if (val)
			return -E_INVAL;
		break;
	default:
		break;
	}
	write_reg(l, reg, (u32)val);
	return 0;
}

/*
 * IA32_APIC_BASE's EN and EXTD (SDM 3A 11.12.5, figure 11-27): xAPIC ->
 * x2APIC, and either -> disabled; disabled -> xAPIC. x2APIC -> xAPIC, and
 * disabled -> x2APIC, are not transitions (#GP). The registers do not
 * survive disable or enable (11.4.3, 11.12.5.1): the APIC comes back in its
 * power-up state, with its ID.
 */
int vlapic_set_mode(struct vcpu *v, enum vlapic_mode mode)
{
	struct vlapic *l = vl(v);
	enum vlapic_mode cur = vlapic_mode(v);

	if (mode == cur)
		return 0;
	if ((cur == VLAPIC_X2APIC && mode == VLAPIC_XAPIC) ||
	    (cur == VLAPIC_OFF && mode == VLAPIC_X2APIC))
		return -E_INVAL;
	if (mode == VLAPIC_X2APIC) {
		l->x2apic = true;
		return 0;
	}
	vlapic_reset(l);
	l->off = mode == VLAPIC_OFF;
	return 0;
}

enum vlapic_mode vlapic_mode(struct vcpu *v)
{
	const struct vlapic *l = vl(v);

	return l->off ? VLAPIC_OFF : l->x2apic ? VLAPIC_X2APIC : VLAPIC_XAPIC;
}

/* --- the device --------------------------------------------------------- */

/* The MMIO page every vCPU sees at the same address as its own APIC. */
static int vlapic_share(struct vdev_registry *reg, void *dev)
{
	(void)dev;
	return vdev_add_mmio(reg, PLAT_LAPIC_BASE, VLAPIC_MMIO_SIZE, vlapic_access, NULL);
}

static int vlapic_create(struct vdev_registry *reg, struct vcpu *v, void *dev)
{
	struct vlapic *l = dev;

	l->vcpu = v;
	l->reg = reg;
	vlapic_reset(l);
	return 0;
}

static u64 vlapic_timer(void *dev, u64 now)
{
	struct vlapic *l = dev;

	/* on most calls nothing is due: no call */
	if (l->timer_deadline && now >= l->timer_deadline && !l->timer_held)
		vlapic_timer_check(l->vcpu, now);
	return l->timer_held ? 0 : l->timer_deadline;
}

/* How late the vCPU's timer was noticed (vlapic_timer_check). */
static void vlapic_stats(void *dev)
{
	const struct vlapic *l = dev;
	const struct vcpu_stats *s = &l->vcpu->stats;
	u64 per_us = MAX(tsc_hz() / 1000000, 1ULL);

	if (s->timer_fired)
		pr_info("partition %s: vCPU %u: APIC timer fired %lu times, late by "
			"%lu us on average, %lu us at most\n",
			l->reg->owner.name, l->vcpu->id, s->timer_fired,
			s->timer_late / s->timer_fired / per_us, s->timer_late_max / per_us);
}

const struct vdev_type vlapic_type = {
	.name = "local APIC",
	.size = sizeof(struct vlapic),
	.create = vlapic_share,
	.vcpu_create = vlapic_create,
	.vcpu_slot = VCPU_DEV_IRQCHIP,
	.reset = vlapic_reset,
	.timer = vlapic_timer,
	.stats = vlapic_stats,
};
