/* The hypervisor's own exceptions: a full dump, a backtrace, then stop. */
#include "hv/console.h"
#include "hv/layout.h"
#include "hv/lib.h"
#include "hv/percpu.h"
#include "hv/panic.h"
#include "hv/smp.h"
#include "hv/trap.h"
#include "hv/x86.h"

#include <stdarg.h>

#define BACKTRACE_DEPTH 16

static const char *const exc_names[X86_EXC_COUNT] = {
	[X86_EXC_DE] = "#DE divide error",  [X86_EXC_DB] = "#DB debug",
	[X86_EXC_NMI] = "NMI",		    [X86_EXC_BP] = "#BP breakpoint",
	[X86_EXC_OF] = "#OF overflow",	    [X86_EXC_BR] = "#BR bound",
	[X86_EXC_UD] = "#UD invalid opcode", [X86_EXC_NM] = "#NM no FPU",
	[X86_EXC_DF] = "#DF double fault",  [X86_EXC_TS] = "#TS invalid TSS",
	[X86_EXC_NP] = "#NP not present",   [X86_EXC_SS] = "#SS stack fault",
	[X86_EXC_GP] = "#GP general protection", [X86_EXC_PF] = "#PF page fault",
	[X86_EXC_MF] = "#MF x87 error",	    [X86_EXC_AC] = "#AC alignment",
	[X86_EXC_MC] = "#MC machine check", [X86_EXC_XM] = "#XM SIMD error",
	[X86_EXC_VE] = "#VE virtualization", [X86_EXC_CP] = "#CP control protection",
};

static void (*irq_handlers[IDT_VECTORS])(struct trap_frame *f);
static volatile u32 dumping; /* a fault while dumping must not recurse */

void trap_set_handler(u8 vector, void (*fn)(struct trap_frame *f))
{
	irq_handlers[vector] = fn;
}

static bool on_hv_stack(u64 addr)
{
	/* Frames live in the direct map (CPU stacks) or the image (boot stack). */
	return addr >= HV_DIRECT_BASE && IS_ALIGNED(addr, 8);
}

void backtrace(u64 rbp)
{
	printk("hv: backtrace:\n");
	for (int depth = 0; depth < BACKTRACE_DEPTH && rbp && on_hv_stack(rbp); depth++) {
		const u64 *frame = (const u64 *)(uintptr_t)rbp;
		u64 ret = frame[1];

		if (ret < HV_VBASE)
			break;
		printk("hv:   #%d %#lx\n", depth, ret);
		if (frame[0] <= rbp)
			break; /* frames grow towards higher addresses */
		rbp = frame[0];
	}
}

static u32 cpu_index(void)
{
	/* GS may not be set yet on a CPU that faults early. */
	return rdmsr(MSR_IA32_GS_BASE) ? this_cpu()->index : 0;
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
	printk("hv: CR0 %016lx CR2 %016lx CR3 %016lx CR4 %016lx\n", read_cr0(),
	       read_cr2(), read_cr3(), read_cr4());
	printk("hv: EFER %016lx GS.base %016lx\n", rdmsr(MSR_IA32_EFER),
	       rdmsr(MSR_IA32_GS_BASE));
}

__noreturn void machine_halt(void)
{
	smp_stop_others();
	for (;;) {
		irq_disable();
		halt();
	}
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
	if (f->vector == X86_EXC_NMI && smp_stopping) {
		for (;;) {
			irq_disable();
			halt();
		}
	}
	if (f->vector >= X86_EXC_COUNT && irq_handlers[f->vector]) {
		irq_handlers[f->vector](f);
		return;
	}
	if (f->vector == X86_EXC_GP && fixup_exception(f))
		return;
	if (__atomic_fetch_add(&dumping, 1, __ATOMIC_SEQ_CST))
		machine_halt();
	console_force_unlock();
	if (f->vector < X86_EXC_COUNT)
		printk("hv: EXCEPTION %s (vector %lu) on cpu %u\n",
		       exc_names[f->vector] ? exc_names[f->vector] : "reserved",
		       f->vector, cpu_index());
	else
		printk("hv: EXCEPTION unexpected interrupt vector %lu on cpu %u\n",
		       f->vector, cpu_index());
	dump_frame(f);
	backtrace(f->rbp);
	printk("hv: PANIC: unhandled exception in the hypervisor\n");
	machine_halt();
}

void panic(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	irq_disable();
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_force_unlock();
	printk("hv: PANIC: %s (cpu %u)\n", buf, cpu_index());
	backtrace((u64)(uintptr_t)__builtin_frame_address(0));
	machine_halt();
}
