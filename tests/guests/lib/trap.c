/* The IDT and the exception dispatcher (SDM 3A 6.10-6.14). */
#include "trap.h"
#include "guest.h"
#include "hv/hw/x86.h"

#define IDT_TYPE_INTR32 0x8e /* present, DPL 0, 32-bit interrupt gate */

/* Opcodes the #GP handler may skip (SDM 2B RDMSR, WRMSR) */
#define OPC_TWO_BYTE 0x0f
#define OPC_WRMSR 0x30
#define OPC_RDMSR 0x32
#define MSR_INSN_LEN 2

struct idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 zero;
	u8 type;
	u16 offset_hi;
} __packed;

struct idt_desc {
	u16 limit;
	u32 base;
} __packed;

#define TRAP_VECTORS (TRAP_IRQ_BASE + TRAP_IRQ_COUNT)
_Static_assert(TRAP_IRQ_BASE == X86_EXC_COUNT, "interrupts follow the exceptions");

extern const u32 trap_stubs[TRAP_VECTORS];

static struct idt_gate idt[TRAP_VECTORS] __aligned(8);
static void (*irq_handlers[TRAP_IRQ_COUNT])(u32 vector);
static volatile u32 msr_probe_armed;
static volatile u32 msr_probe_faults;

static const char *const trap_names[X86_EXC_COUNT] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "15",  "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void trap_load(void)
{
	struct idt_desc d = { .limit = sizeof(idt) - 1, .base = (u32)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(d) : "memory");
}

void trap_init(void)
{
	for (u32 v = 0; v < TRAP_VECTORS; v++) {
		idt[v] = (struct idt_gate){
			.offset_lo = (u16)trap_stubs[v],
			.selector = SEL_CODE,
			.type = IDT_TYPE_INTR32,
			.offset_hi = (u16)(trap_stubs[v] >> 16),
		};
	}
	trap_load();
}

/* Is this the #GP of an armed RDMSR/WRMSR? (both are 0F 3x: 2 bytes) */
static bool trap_is_msr_probe(const struct trap_frame *f)
{
	const u8 *insn = (const u8 *)(uintptr_t)f->eip;

	return f->vector == X86_EXC_GP && msr_probe_armed && insn[0] == OPC_TWO_BYTE &&
	       (insn[1] == OPC_RDMSR || insn[1] == OPC_WRMSR);
}

void trap_set_irq(u32 vector, void (*fn)(u32 vector))
{
	if (vector < TRAP_IRQ_BASE || vector >= TRAP_VECTORS)
		guest_fail("trap_set_irq: vector %u is not one of %u-%u", vector, TRAP_IRQ_BASE,
			   TRAP_VECTORS - 1);
	irq_handlers[vector - TRAP_IRQ_BASE] = fn;
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector >= TRAP_IRQ_BASE) {
		void (*fn)(u32 vector) = irq_handlers[f->vector - TRAP_IRQ_BASE];

		if (!fn)
			guest_fail("interrupt %u without a handler, eip=0x%x", f->vector, f->eip);
		fn(f->vector);
		return;
	}
	if (trap_is_msr_probe(f)) {
		msr_probe_faults++;
		f->eip += MSR_INSN_LEN;
		return;
	}
	guest_fail("exception %u (%s) error=0x%x eip=0x%x eflags=0x%x eax=0x%x ebx=0x%x "
		   "ecx=0x%x edx=0x%x esi=0x%x edi=0x%x ebp=0x%x",
		   f->vector, trap_names[f->vector] ? trap_names[f->vector] : "reserved", f->error,
		   f->eip, f->eflags, f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp);
}

bool msr_read_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0, before = msr_probe_faults;

	msr_probe_armed = 1;
	__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	msr_probe_armed = 0;
	*val = ((u64)hi << 32) | lo;
	return msr_probe_faults == before;
}

bool msr_write_safe(u32 msr, u64 val)
{
	u32 before = msr_probe_faults;

	msr_probe_armed = 1;
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
	msr_probe_armed = 0;
	return msr_probe_faults == before;
}
