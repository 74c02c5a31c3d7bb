/* Tier 3 (STYLE.md): a hypervisor bug stops every CPU after a dump. */
#include "hv/cpu/panic.h"
#include "drivers/tsc.h"
#include "hv/console/console.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/smp.h"
#include "hv/hw/x86.h"
#include "hv/layout.h"
#include "hv/lib/lib.h"

#include <stdarg.h>

#define BACKTRACE_DEPTH 16
#define PANIC_NONE (-1)

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
	for (;;) {
		irq_disable();
		halt();
	}
}

static volatile int panic_owner = PANIC_NONE; /* the CPU that dumps */
static volatile u32 panic_again;	      /* its faults while dumping */

void panic_begin(const char *header)
{
	int me = (int)panic_cpu_index(), owner = PANIC_NONE;
	u32 late, others;

	irq_disable();
	if (!__atomic_compare_exchange_n(&panic_owner, &owner, me, false, __ATOMIC_SEQ_CST,
					 __ATOMIC_SEQ_CST)) {
		if (owner != me)
			cpu_park(); /* another CPU dumps (and stops this one) */
		/* a fault during the dump: no lock, no formatting, no third try */
		if (!__atomic_fetch_add(&panic_again, 1, __ATOMIC_SEQ_CST))
			console_emergency(
				"\nhv: PANIC: a fault during the dump; machine stopped\n");
		machine_halt();
	}
	others = cpus_online > 1 ? cpus_online - 1 : 0;
	late = smp_stop_others();
	console_panic();
	printk("hv: %s\n", header);
	if (late)
		printk("hv: %u of the other %u CPUs did not stop\n", late, others);
	else
		printk("hv: the other %u CPUs stopped\n", others);
}

void panic(const char *fmt, ...)
{
	char buf[256], header[300];
	va_list ap;

	irq_disable();
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	snprintf(header, sizeof(header), "PANIC: %s (cpu %u)", buf, panic_cpu_index());
	panic_begin(header);
	backtrace((u64)(uintptr_t)__builtin_frame_address(0));
	machine_halt();
}

/* --- the test aid hv_test_panic ------------------------------------------ */

static volatile u64 test_panic_at; /* TSC; 0: off */
static bool test_panic_again;

void panic_test_init(const char *cmdline)
{
	static const char key[] = "hv_test_panic=";
	const char *p = cmdline;
	u64 ms = 0;

	while (p && strncmp(p, key, sizeof(key) - 1)) {
		p = strchr(p, ' '); /* the key starts a word */
		if (p)
			p++;
	}
	if (!p)
		return;
	for (p += sizeof(key) - 1; *p >= '0' && *p <= '9'; p++)
		ms = ms * 10 + (u64)(*p - '0');
	test_panic_again = !strncmp(p, ",again", 6);
	test_panic_at = rdtsc() + tsc_hz() / 1000 * ms;
	pr_info("hv_test_panic: a fault in %lu ms%s (a test aid)\n", ms,
		test_panic_again ? ", and another during the dump" : "");
}

void panic_test_point(void)
{
	u64 at = test_panic_at;

	if (at && rdtsc() >= at &&
	    __atomic_compare_exchange_n(&test_panic_at, &at, 0, false, __ATOMIC_SEQ_CST,
					__ATOMIC_RELAXED))
		__asm__ volatile("ud2");
}

void panic_test_again(void)
{
	if (test_panic_again) {
		test_panic_again = false;
		__asm__ volatile("ud2");
	}
}
