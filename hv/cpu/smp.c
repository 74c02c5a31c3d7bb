/*
 * Starting the other CPUs with INIT-SIPI-SIPI (SDM 3A 9.4.4.1, MP spec B.4)
 * and stopping them with NMIs.
 */
#include "hv/cpu/smp.h"
#include "drivers/lapic.h"
#include "drivers/tsc.h"
#include "hv/console/console.h"
#include "hv/cpu/percpu.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"

#define INIT_DEASSERT_WAIT_US 10000 /* 10 ms after INIT */
#define SIPI_WAIT_US 200	    /* between the two startup IPIs */
#define AP_CHECKIN_WAIT_US 2000000  /* 2 s: emulated CPUs on a busy host are slow */
#define SIPI_VECTOR(pa) ((u8)((pa) >> PAGE_SHIFT))
#define STOP_WAIT_US 1000000 /* 1 s for the others to take their NMI */

struct trampoline_params {
	u64 cr3, efer, cr0, stack, cpu, entry;
} __packed;

extern char __trampoline_start[], __trampoline_end[];
extern char trampoline_params[];
/* What each AP does once it runs on its own tables (smp_start_aps). */
static __noreturn void (*ap_continue)(struct percpu *c);

static void __noreturn ap_entry(struct percpu *c)
{
	cpu_load(c);
	mm_cpu_init();
	lapic_cpu_init();
	ap_continue(c);
}

static bool wait_online(struct percpu *c, u64 us)
{
	u64 end = rdtsc() + tsc_hz() * us / 1000000;

	while ((s64)(rdtsc() - end) < 0)
		if (__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
			return true;
	return __atomic_load_n(&c->online, __ATOMIC_ACQUIRE);
}

static bool start_one(struct percpu *c, u64 page_pa, struct trampoline_params *p)
{
	p->stack = c->stack_top;
	p->cpu = (u64)(uintptr_t)c;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	lapic_send_init(c->apic_id);
	udelay(INIT_DEASSERT_WAIT_US);
	lapic_send_sipi(c->apic_id, SIPI_VECTOR(page_pa));
	udelay(SIPI_WAIT_US);
	if (wait_online(c, SIPI_WAIT_US))
		return true;
	/* the second SIPI only when the first was not taken */
	lapic_send_sipi(c->apic_id, SIPI_VECTOR(page_pa));
	return wait_online(c, AP_CHECKIN_WAIT_US);
}

u32 smp_start_aps(__noreturn void (*ap_main)(struct percpu *c))
{
	u64 size = (u64)(__trampoline_end - __trampoline_start);
	u8 *page = mm_alloc(PAGE_SIZE, PAGE_SIZE, MM_BELOW_1M);
	u64 page_pa;
	struct trampoline_params *p;

	ap_continue = ap_main;
	if (cpu_count <= 1)
		return 1;
	if (!page || size > PAGE_SIZE) {
		pr_err("smp: no page below 1 MiB for the AP trampoline\n");
		return 1;
	}
	page_pa = virt_to_phys(page);
	memcpy(page, __trampoline_start, size);
	p = (void *)(page + (trampoline_params - __trampoline_start));
	p->cr3 = mm_root();
	p->efer = rdmsr(MSR_IA32_EFER) & ~(EFER_LMA | EFER_SVME);
	p->cr0 = read_cr0();
	p->entry = (u64)(uintptr_t)ap_entry;
	if (mm_identity_map(page_pa, PAGE_SIZE)) {
		pr_err("smp: cannot map the AP trampoline\n");
		return 1;
	}

	for (u32 i = 1; i < cpu_count; i++) {
		struct percpu *c = cpus[i];

		if (!start_one(c, page_pa, p))
			pr_err("cpu %u: apic id %u did not start\n", i, c->apic_id);
	}
	mm_identity_unmap(page_pa, PAGE_SIZE);
	mm_free(page, PAGE_SIZE);
	return __atomic_load_n(&cpus_online, __ATOMIC_ACQUIRE);
}

volatile bool smp_stopping;

u32 smp_stop_others(void)
{
	u64 want = 0, end;
	u32 me, late = 0;

	smp_stopping = true;
	if (cpus_online <= 1)
		return 0; /* nobody to stop, and the APIC may not be set up yet */
	me = lapic_id();
	for (u32 i = 0; i < cpu_count; i++) {
		if (cpus[i] && cpus[i]->online && cpus[i]->apic_id != me) {
			lapic_send_nmi(cpus[i]->apic_id);
			want |= BIT(i);
		}
	}
	/* each parks where the NMI finds it (hv/cpu/trap.c, the backends) */
	end = rdtsc() + tsc_hz() / 1000000 * STOP_WAIT_US;
	while ((cpus_parked & want) != want && (s64)(rdtsc() - end) < 0)
		cpu_relax();
	for (want &= ~cpus_parked; want; want &= want - 1)
		late++;
	return late;
}
