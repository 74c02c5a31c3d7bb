/* Tier 3 (STYLE.md): a hypervisor bug stops every CPU after a dump. */
#include "hv/cpu/panic.h"
#include "hv/console/console.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/smp.h"
#include "hv/hw/x86.h"
#include "hv/layout.h"
#include "hv/lib/lib.h"

#include <stdarg.h>

#define BACKTRACE_DEPTH 16

/* Frames live in the direct map (CPU stacks) or the image (boot stack). */
static bool on_hv_stack(u64 addr)
{
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

u32 panic_cpu_index(void)
{
	/* GS may not be set yet on a CPU that faults early. */
	return rdmsr(MSR_IA32_GS_BASE) ? this_cpu()->index : 0;
}

__noreturn void machine_halt(void)
{
	smp_stop_others();
	for (;;) {
		irq_disable();
		halt();
	}
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
	printk("hv: PANIC: %s (cpu %u)\n", buf, panic_cpu_index());
	backtrace((u64)(uintptr_t)__builtin_frame_address(0));
	machine_halt();
}
