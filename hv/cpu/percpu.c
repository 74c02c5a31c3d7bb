/* Per-CPU data, GDT and TSS of the hypervisor (SDM 3A 3.4, 8.7). */
#include "hv/cpu/percpu.h"
#include "hv/console/console.h"
#include "hv/cpu/panic.h"
#include "hv/cpu/trap.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"

#define SEG_CODE64 0x00af9b000000ffffULL /* P, DPL0, code RX accessed, L */
#define SEG_DATA 0x00cf93000000ffffULL	 /* P, DPL0, data RW accessed */
#define TSS_TYPE_AVAILABLE 0x9ULL	 /* 64-bit TSS, available */

struct percpu *cpus[HV_MAX_CPUS];
u32 cpu_count;
volatile u32 cpus_online;
volatile u64 cpus_parked;

extern char trap_stubs[];

static void tss_descriptor(u64 *slot, const struct tss64 *tss)
{
	u64 base = (u64)(uintptr_t)tss;
	u64 limit = sizeof(*tss) - 1;

	/* SDM 3A 8.2.3: a 16-byte system descriptor */
	slot[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (TSS_TYPE_AVAILABLE << 40) |
		  BIT(47) | (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	slot[1] = base >> 32;
}

struct percpu *percpu_alloc(u32 index, u32 apic_id)
{
	struct percpu *c = mm_alloc(sizeof(*c), PAGE_SIZE, 0);
	u8 *stack = mm_alloc(HV_STACK_SIZE, PAGE_SIZE, 0);
	u8 *ist = mm_alloc(IST_COUNT * HV_IST_STACK_SIZE, PAGE_SIZE, 0);

	if (!c || !stack || !ist)
		return NULL;
	c->self = c;
	c->index = index;
	c->apic_id = apic_id;
	c->stack_top = (u64)(uintptr_t)(stack + HV_STACK_SIZE);
	for (int i = 0; i < IST_COUNT; i++)
		c->tss.ist[i] = (u64)(uintptr_t)(ist + (i + 1) * HV_IST_STACK_SIZE);
	c->tss.iomap_base = sizeof(c->tss); /* no I/O bitmap */
	c->gdt[0] = 0;
	c->gdt[GDT_SEL_CODE / 8] = SEG_CODE64;
	c->gdt[GDT_SEL_DATA / 8] = SEG_DATA;
	tss_descriptor(&c->gdt[GDT_SEL_TSS / 8], &c->tss);
	cpus[index] = c;
	return c;
}

void cpu_load(struct percpu *c)
{
	struct desc_ptr gdtr = { sizeof(c->gdt) - 1, (u64)(uintptr_t)c->gdt };

	__asm__ volatile("lgdt %0" ::"m"(gdtr));
	/* reload CS through a far return, then the data segments */
	__asm__ volatile("pushq %[cs]\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movw %w[ds], %%ax\n\t"
			 "movw %%ax, %%ds\n\t"
			 "movw %%ax, %%es\n\t"
			 "movw %%ax, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movw %%ax, %%fs\n\t"
			 "movw %%ax, %%gs\n\t"
			 :
			 : [cs] "i"(GDT_SEL_CODE), [ds] "i"(GDT_SEL_DATA)
			 : "rax", "memory");
	__asm__ volatile("ltr %w0" ::"r"((u16)GDT_SEL_TSS));
	wrmsr(MSR_IA32_GS_BASE, (u64)(uintptr_t)c);
	idt_load();
}

void cpu_park(void)
{
	__atomic_fetch_or(&cpus_parked, BIT(this_cpu()->index), __ATOMIC_SEQ_CST);
	for (;;) {
		irq_disable();
		halt();
	}
}
