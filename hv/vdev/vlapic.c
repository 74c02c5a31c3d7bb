/*
 * Virtual local APIC (SDM 3A ch. 11): identification, task priority,
 * interrupt request/service registers, EOI, and the ICR, with fixed, NMI,
 * INIT and startup IPIs delivered only within the partition (to its own
 * vCPUs by their partition-relative APIC IDs).
 */
#include "hv/vdev/vlapic.h"
#include "drivers/lapic.h"
#include "hv/console.h"
#include "hv/lib.h"
#include "hv/mm/mm.h"
#include "hv/partition.h"
#include "hv/percpu.h"
#include "hv/vcpu.h"
#include "hv/vcpu_loop.h"
#include "hv/vdev/vdev.h"

/* Register offsets (SDM 3A table 11-1) */
#define APIC_ID 0x020
#define APIC_VERSION 0x030
#define APIC_TPR 0x080
#define APIC_APR 0x090
#define APIC_PPR 0x0a0
#define APIC_EOI 0x0b0
#define APIC_RRD 0x0c0
#define APIC_LDR 0x0d0
#define APIC_DFR 0x0e0
#define APIC_SVR 0x0f0
#define APIC_ISR 0x100
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_LVT_CMCI 0x2f0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF 0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_ICR 0x380
#define APIC_TIMER_CCR 0x390
#define APIC_TIMER_DCR 0x3e0
#define APIC_REG_END 0x400

#define APIC_VERSION_VALUE 0x00050014 /* version 0x14, 6 LVT entries */
#define APIC_ID_SHIFT 24
#define APIC_SVR_RESET 0xff
#define APIC_SVR_ENABLE BIT(8)
#define APIC_DFR_FLAT 0xffffffffU
#define APIC_LVT_MASKED BIT(16)
#define APIC_LVT_COUNT 7
#define ICR_VECTOR_MASK 0xff
#define ICR_MODE_SHIFT 8
#define ICR_MODE_MASK 0x7
#define ICR_MODE_FIXED 0
#define ICR_MODE_LOWEST 1
#define ICR_MODE_SMI 2
#define ICR_MODE_NMI 4
#define ICR_MODE_INIT 5
#define ICR_MODE_STARTUP 6
#define ICR_DEST_LOGICAL BIT(11)
#define ICR_LEVEL_ASSERT BIT(14)
#define ICR_TRIGGER_LEVEL BIT(15)
#define ICR_SHORTHAND_SHIFT 18
#define ICR_SHORTHAND_MASK 0x3
#define ICR_SH_NONE 0
#define ICR_SH_SELF 1
#define ICR_SH_ALL 2
#define ICR_SH_OTHERS 3
#define ICR_DEST_SHIFT 24
#define APIC_BROADCAST 0xff
#define APIC_VECTOR_WORDS 8
#define APIC_PRIO_CLASS(v) ((v) >> 4)

struct vlapic {
	struct vcpu *vcpu;
	u32 tpr, ldr, dfr, svr, esr, icr_hi;
	u32 lvt[APIC_LVT_COUNT];
	u32 timer_icr, timer_dcr;
	u32 isr[APIC_VECTOR_WORDS], tmr[APIC_VECTOR_WORDS];
	volatile u32 irr[APIC_VECTOR_WORDS]; /* set by other vCPUs: atomics */
	volatile bool nmi;
};

static struct vlapic *vl(struct vcpu *v)
{
	return v->vlapic;
}

static int highest_bit(const volatile u32 *words)
{
	for (int w = APIC_VECTOR_WORDS - 1; w >= 0; w--)
		if (words[w])
			return w * 32 + 31 - __builtin_clz(words[w]);
	return -1;
}

/* SDM 3A 11.8.3.1: PPR from TPR and the highest in-service vector */
static u32 ppr(const struct vlapic *l)
{
	int isr = highest_bit(l->isr);
	u32 isrv = isr < 0 ? 0 : (u32)isr;

	return APIC_PRIO_CLASS(l->tpr) >= APIC_PRIO_CLASS(isrv) ? l->tpr : (isrv & 0xf0);
}

void vlapic_set_irq(struct vcpu *v, u8 vector)
{
	struct vlapic *l = vl(v);

	__atomic_fetch_or(&l->irr[vector / 32], 1U << (vector % 32), __ATOMIC_SEQ_CST);
	vcpu_kick(v, VCPU_REQ_EVENT);
}

int vlapic_pending_irq(struct vcpu *v)
{
	struct vlapic *l = vl(v);
	int irr = highest_bit(l->irr);

	if (irr < 0 || !(l->svr & APIC_SVR_ENABLE))
		return -1;
	return APIC_PRIO_CLASS((u32)irr) > APIC_PRIO_CLASS(ppr(l)) ? irr : -1;
}

void vlapic_ack_irq(struct vcpu *v, u8 vector)
{
	struct vlapic *l = vl(v);

	__atomic_fetch_and(&l->irr[vector / 32], ~(1U << (vector % 32)), __ATOMIC_SEQ_CST);
	l->isr[vector / 32] |= 1U << (vector % 32);
}

bool vlapic_take_nmi(struct vcpu *v)
{
	return __atomic_exchange_n(&vl(v)->nmi, false, __ATOMIC_SEQ_CST);
}

/* SDM 3A 11.6.2: which of the partition's APICs a destination names */
static bool dest_match(const struct vlapic *l, u32 dest, bool logical)
{
	if (!logical)
		return dest == APIC_BROADCAST || dest == l->vcpu->id;
	/* flat model: a bit per APIC in the logical ID */
	return (l->ldr >> APIC_ID_SHIFT) & dest;
}

static void deliver(struct vcpu *from, struct vcpu *to, u32 mode, u8 vector)
{
	struct vlapic *l = vl(to);

	switch (mode) {
	case ICR_MODE_FIXED:
	case ICR_MODE_LOWEST:
		vlapic_set_irq(to, vector);
		break;
	case ICR_MODE_NMI:
		l->nmi = true;
		vcpu_kick(to, VCPU_REQ_EVENT);
		break;
	case ICR_MODE_INIT:
		vcpu_kick(to, VCPU_REQ_INIT);
		break;
	case ICR_MODE_STARTUP:
		to->sipi_vector = vector;
		vcpu_kick(to, VCPU_REQ_SIPI);
		break;
	default:
		(void)from; /* SMI and reserved modes are not delivered */
		break;
	}
}

static void send_ipi(struct vcpu *v, u32 icr_lo)
{
	struct partition *p = v->part;
	u32 mode = (icr_lo >> ICR_MODE_SHIFT) & ICR_MODE_MASK;
	u32 sh = (icr_lo >> ICR_SHORTHAND_SHIFT) & ICR_SHORTHAND_MASK;
	u32 dest = vl(v)->icr_hi >> ICR_DEST_SHIFT;
	bool logical = icr_lo & ICR_DEST_LOGICAL;

	/* SDM 3A 11.6.1: an INIT level de-assert only synchronises arbitration IDs */
	if (mode == ICR_MODE_INIT && !(icr_lo & ICR_LEVEL_ASSERT) &&
	    (icr_lo & ICR_TRIGGER_LEVEL))
		return;
	for (u32 i = 0; i < p->vcpu_count; i++) {
		struct vcpu *to = p->vcpus[i];
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
			hit = dest_match(vl(to), dest, logical);
			break;
		}
		if (hit)
			deliver(v, to, mode, (u8)(icr_lo & ICR_VECTOR_MASK));
	}
}

static void eoi(struct vlapic *l)
{
	int isr = highest_bit(l->isr);

	if (isr >= 0)
		l->isr[isr / 32] &= ~(1U << (isr % 32));
}

static u32 read_reg(struct vlapic *l, u32 reg)
{
	switch (reg) {
	case APIC_ID:
		return l->vcpu->id << APIC_ID_SHIFT;
	case APIC_VERSION:
		return APIC_VERSION_VALUE;
	case APIC_TPR:
		return l->tpr;
	case APIC_PPR:
		return ppr(l);
	case APIC_LDR:
		return l->ldr;
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
		send_ipi(l->vcpu, val);
		break;
	case APIC_LVT_CMCI:
		l->lvt[0] = val;
		break;
	case APIC_LVT_TIMER ... APIC_LVT_ERROR:
		l->lvt[1 + (reg - APIC_LVT_TIMER) / 0x10] = val;
		break;
	case APIC_TIMER_ICR:
		l->timer_icr = val;
		break;
	case APIC_TIMER_DCR:
		l->timer_dcr = val;
		break;
	default:
		break; /* read-only or reserved: ignored */
	}
}

static int vlapic_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	u32 reg = (u32)(a->addr - GUEST_LAPIC_BASE);

	(void)dev;
	/* SDM 3A 11.4.1: registers are 32 bits wide on 16-byte boundaries */
	if (reg % 16 || a->size != 4)
		return a->write ? 0 : (a->val = 0, 0);
	if (a->write)
		write_reg(vl(v), reg, (u32)a->val);
	else
		a->val = read_reg(vl(v), reg);
	return 0;
}

void vlapic_reset(struct vcpu *v)
{
	struct vlapic *l = vl(v);
	struct vcpu *keep = l->vcpu;

	memset(l, 0, sizeof(*l));
	l->vcpu = keep;
	l->dfr = APIC_DFR_FLAT;
	l->svr = APIC_SVR_RESET;
	for (int i = 0; i < APIC_LVT_COUNT; i++)
		l->lvt[i] = APIC_LVT_MASKED;
}

int vlapic_create(struct vcpu *v)
{
	struct vlapic *l = mm_alloc(sizeof(*l), 8, 0);

	if (!l)
		return -E_NOMEM;
	v->vlapic = l;
	l->vcpu = v;
	vlapic_reset(v);
	return 0;
}

int vlapic_register(struct partition *p)
{
	return vdev_add_mmio(&p->vdevs, GUEST_LAPIC_BASE, VLAPIC_MMIO_SIZE, vlapic_access,
			     NULL);
}
