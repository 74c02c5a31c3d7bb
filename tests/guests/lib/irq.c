/* The 256-vector IDT (SDM 3A 6.10, 6.11) and the interrupt dispatcher. */
#include "irq.h"
#include "hv/hw/pic.h"
#include "hv/hw/x86.h"
#include "trap.h"

#define GATE_SEL_SHIFT 16
#define GATE_TYPE_SHIFT 40
#define GATE_OFFSET_HIGH_SHIFT 32 /* offset 31:16 goes to bits 63:48 */
#define OFFSET_LOW_MASK 0xffffULL

struct idtr {
	u16 limit;
	u32 base;
} __packed;

extern const u32 irq_stubs[IRQ_VECTORS - IRQ_FIRST];

volatile u32 irq_counts[IRQ_VECTORS];
static irq_fn handlers[IRQ_VECTORS];
static u64 idt[IRQ_VECTORS] __aligned(8);

/* A 32-bit interrupt gate to handler (SDM 3A figure 6-2). */
static u64 gate(u32 handler)
{
	u64 h = handler;

	return (h & OFFSET_LOW_MASK) | ((u64)SEL_CODE << GATE_SEL_SHIFT) |
	       ((u64)IDT_TYPE_INTR32 << GATE_TYPE_SHIFT) |
	       ((h & ~OFFSET_LOW_MASK) << GATE_OFFSET_HIGH_SHIFT);
}

void irq_load(void)
{
	struct idtr d = { .limit = sizeof(idt) - 1, .base = (u32)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(d) : "memory");
}

void irq_init(void)
{
	struct idtr cur;
	const u64 *old;

	/* firmware leaves the 8259s at vectors 8-15, the exceptions' (a
	 * timer tick would look like a #DF): nothing of theirs may come */
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);

	__asm__ volatile("sidt %0" : "=m"(cur));
	old = (const u64 *)(uintptr_t)cur.base;
	for (u32 v = 0; v < IRQ_FIRST && v * sizeof(u64) < (u32)cur.limit + 1; v++)
		idt[v] = old[v];
	for (u32 v = IRQ_FIRST; v < IRQ_VECTORS; v++)
		idt[v] = gate(irq_stubs[v - IRQ_FIRST]);
	irq_load();
}

void irq_set_handler(u8 vector, irq_fn fn)
{
	handlers[vector] = fn;
}

void irq_dispatch(u32 vector)
{
	__atomic_fetch_add(&irq_counts[vector], 1, __ATOMIC_SEQ_CST);
	if (handlers[vector])
		handlers[vector]((u8)vector);
}
