/* The IDT and the hypervisor's own exceptions: a full dump, a backtrace, then stop
 * (SDM 3A 6.10, 6.14). */
#include "hv/cpu/trap.h"
#include "hv/console/console.h"
#include "hv/cpu/panic.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/smp.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"

#define GATE_INTERRUPT 0xeULL /* 64-bit interrupt gate */
#define TRAP_STUB_SIZE 16     /* hv/cpu/trap_entry.asm aligns each stub */

struct idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_hi;
	u32 reserved;
} __packed;

static struct idt_gate idt[IDT_VECTORS] __aligned(16);
extern char trap_stubs[]; /* hv/cpu/trap_entry.asm */

static const char *const exc_names[X86_EXC_COUNT] = {
	[X86_EXC_DE] = "#DE divide error",
	[X86_EXC_DB] = "#DB debug",
	[X86_EXC_NMI] = "NMI",
	[X86_EXC_BP] = "#BP breakpoint",
	[X86_EXC_OF] = "#OF overflow",
	[X86_EXC_BR] = "#BR bound",
	[X86_EXC_UD] = "#UD invalid opcode",
	[X86_EXC_NM] = "#NM no FPU",
	[X86_EXC_DF] = "#DF double fault",
	[X86_EXC_TS] = "#TS invalid TSS",
	[X86_EXC_NP] = "#NP not present",
	[X86_EXC_SS] = "#SS stack fault",
	[X86_EXC_GP] = "#GP general protection",
	[X86_EXC_PF] = "#PF page fault",
	[X86_EXC_MF] = "#MF x87 error",
	[X86_EXC_AC] = "#AC alignment",
	[X86_EXC_MC] = "#MC machine check",
	[X86_EXC_XM] = "#XM SIMD error",
	[X86_EXC_VE] = "#VE virtualization",
	[X86_EXC_CP] = "#CP control protection",
};

static void (*irq_handlers[IDT_VECTORS])(struct trap_frame *f);

void trap_set_handler(u8 vector, void (*fn)(struct trap_frame *f))
{
	irq_handlers[vector] = fn;
}

static void dump_frame(const struct trap_frame *f)
{
	printk("hv: RIP %016lx CS %04lx RFLAGS %016lx\n", f->rip, f->cs, f->rflags);
	printk("hv: RSP %016lx SS %04lx ERR %016lx\n", f->rsp, f->ss, f->error_code);
	printk("hv: RAX %016lx RBX %016lx RCX %016lx\n", f->rax, f->rbx, f->rcx);
	printk("hv: RDX %016lx RSI %016lx RDI %016lx\n", f->rdx, f->rsi, f->rdi);
	printk("hv: RBP %016lx R8  %016lx R9  %016lx\n", f->rbp, f->r8, f->r9);
	printk("hv: R10 %016lx R11 %016lx R12 %016lx\n", f->r10, f->r11, f->r12);
	printk("hv: R13 %016lx R14 %016lx R15 %016lx\n", f->r13, f->r14, f->r15);
	printk("hv: CR0 %016lx CR2 %016lx CR3 %016lx CR4 %016lx\n", read_cr0(), read_cr2(),
	       read_cr3(), read_cr4());
	printk("hv: EFER %016lx GS.base %016lx\n", rdmsr(MSR_IA32_EFER), rdmsr(MSR_IA32_GS_BASE));
}

struct ex_entry {
	u64 fault_rip, fixup_rip;
};
extern const struct ex_entry __ex_table_start[], __ex_table_end[];

/* A fault at an instruction listed in .ex_table resumes at its fixup. */
static bool fixup_exception(struct trap_frame *f)
{
	for (const struct ex_entry *e = __ex_table_start; e < __ex_table_end; e++) {
		if (e->fault_rip == f->rip) {
			f->rip = e->fixup_rip;
			return true;
		}
	}
	return false;
}

void trap_handler(struct trap_frame *f)
{
	char header[96];

	if (f->vector == X86_EXC_NMI && smp_stopping)
		cpu_park();
	if (f->vector >= X86_EXC_COUNT && irq_handlers[f->vector]) {
		irq_handlers[f->vector](f);
		return;
	}
	if (f->vector == X86_EXC_GP && fixup_exception(f))
		return;
	if (f->vector < X86_EXC_COUNT)
		snprintf(header, sizeof(header), "EXCEPTION %s (vector %lu) on cpu %u",
			 exc_names[f->vector] ? exc_names[f->vector] : "reserved", f->vector,
			 panic_cpu_index());
	else
		snprintf(header, sizeof(header),
			 "EXCEPTION unexpected interrupt vector %lu on cpu %u", f->vector,
			 panic_cpu_index());
	panic_begin(header);
	dump_frame(f);
	panic_test_again();
	backtrace(f->rbp);
	printk("hv: PANIC: unhandled exception in the hypervisor\n");
	machine_halt();
}

static void idt_set(u8 vector, u8 ist)
{
	u64 addr = (u64)(uintptr_t)(trap_stubs + vector * TRAP_STUB_SIZE);

	idt[vector] = (struct idt_gate){
		.offset_lo = addr & 0xffff,
		.selector = GDT_SEL_CODE,
		.ist = ist,
		.type_attr = (u8)(BIT(7) | GATE_INTERRUPT), /* present, DPL 0 */
		.offset_mid = (addr >> 16) & 0xffff,
		.offset_hi = (u32)(addr >> 32),
	};
}

void idt_init(void)
{
	for (int v = 0; v < IDT_VECTORS; v++)
		idt_set((u8)v, IST_NONE);
	/* Faults that may arrive on a broken stack get a known-good one. */
	idt_set(X86_EXC_DF, IST_DF);
	idt_set(X86_EXC_NMI, IST_NMI);
	idt_set(X86_EXC_MC, IST_MC);
}

void idt_load(void)
{
	struct desc_ptr idtr = { sizeof(idt) - 1, (u64)(uintptr_t)idt };

	__asm__ volatile("lidt %0" ::"m"(idtr));
}
