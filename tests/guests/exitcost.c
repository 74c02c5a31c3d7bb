/*
 * exitcost: n=N (default 100000) operations between two RDTSCs. Inside a
 * partition each is a VM exit (or, for hlt, a few), bare it is what the
 * machine (or the emulator) does for the instruction: the difference is the
 * price of the exit round trip. Under Bochs the TSC counts instructions, not
 * time. op= picks the operation:
 *
 *   cpuid  (default) CPUID leaf 0: the plainest exit
 *   io     IN of one byte from port=P (default 0x3fd, the COM1 UART's line
 *          status register, which a console driver polls for every byte)
 *   apic   a 32-bit MMIO write of 0 to the local APIC's task priority
 *          register: a second-level fault and an instruction to decode
 *   rdmsr  RDMSR of msr=M (default IA32_APIC_BASE, 0x1b)
 *   hlt    the local APIC timer armed one-shot with count=C (default 1) bus
 *          clocks, then STI; HLT until its interrupt, whose handler writes
 *          the EOI: per operation one timer write, the HLT and the EOI (two
 *          of them APIC accesses, see op=apic), and the interrupt's delivery
 *
 * PASS details: n=N tsc_per_cpuid=X tsc=T (op=cpuid, as before the other
 * operations existed), or op=OP n=N tsc_per_op=X tsc=T and the operand.
 */
#include "cmdline.h"
#include "cpu.h"
#include "guest.h"
#include "hv/hw/apic.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "irq.h"
#include "lapic.h"
#include "lib.h"
#include "trap.h"

#define N_DEFAULT 100000
#define PORT_DEFAULT 0x3fd /* COM1 line status (hv/hw/uart.h: UART_LSR) */
#define TIMER_VECTOR IRQ_FIRST
#define TIMER_COUNT_DEFAULT 1
#define OP_NAME_MAX 16

const char guest_name[] = "exitcost";

static volatile u32 timer_fired;

static void timer_irq(u8 vector)
{
	(void)vector;
	timer_fired++;
	lapic_write(APIC_EOI, 0);
}

static u64 run_cpuid(u32 n)
{
	u64 t0 = rdtsc();

	for (u32 i = 0; i < n; i++)
		cpuid(CPUID_VENDOR_LEAF);
	return rdtsc() - t0;
}

static u64 run_io(u32 n, u16 port)
{
	u64 t0 = rdtsc();

	for (u32 i = 0; i < n; i++)
		inb(port);
	return rdtsc() - t0;
}

static u64 run_apic(u32 n)
{
	uintptr_t tpr = lapic_base() + APIC_TPR;
	u64 t0 = rdtsc();

	for (u32 i = 0; i < n; i++)
		mmio_write32(tpr, 0);
	return rdtsc() - t0;
}

static u64 run_rdmsr(u32 n, u32 msr)
{
	u64 t0, val;

	if (!msr_read_safe(msr, &val))
		guest_fail("op=rdmsr: RDMSR 0x%x raises #GP", msr);
	t0 = rdtsc();
	for (u32 i = 0; i < n; i++)
		rdmsr(msr);
	return rdtsc() - t0;
}

static u64 run_hlt(u32 n, u32 count)
{
	u64 t0;

	irq_init(); /* masks the 8259s the BIOS left unmasked */
	irq_set_handler(TIMER_VECTOR, timer_irq);
	lapic_enable();
	lapic_write(APIC_TIMER_DCR, APIC_DCR_DIV1);
	lapic_write(APIC_LVT_TIMER, TIMER_VECTOR); /* one-shot, unmasked */
	t0 = rdtsc();
	for (u32 i = 0; i < n; i++) {
		u32 before = timer_fired;

		lapic_write(APIC_TIMER_ICR, count);
		/* STI's shadow covers HLT: the interrupt cannot slip in between
		 * (SDM 2B STI) */
		while (timer_fired == before)
			__asm__ volatile("sti; hlt; cli" : : : "memory");
	}
	t0 = rdtsc() - t0;
	lapic_write(APIC_LVT_TIMER, APIC_LVT_MASKED);
	if (timer_fired != n)
		guest_fail("op=hlt: %u timer interrupts for %u operations", timer_fired, n);
	return t0;
}

void guest_main(void)
{
	u32 n = (u32)cmdline_u64("n", N_DEFAULT);
	char op[OP_NAME_MAX] = "cpuid";
	char operand[32] = "";
	u64 tsc;

	if (!n)
		guest_fail("n=0");
	cmdline_get("op", op, sizeof(op));
	if (!strcmp(op, "cpuid")) {
		tsc = run_cpuid(n);
		guest_pass("n=%u tsc_per_cpuid=%llu tsc=%llu", n, div_u64_rem(tsc, n, NULL), tsc);
	} else if (!strcmp(op, "io")) {
		u32 port = (u32)cmdline_u64("port", PORT_DEFAULT);

		if (port > 0xffff)
			guest_fail("port=0x%x: not a port number", port);
		tsc = run_io(n, (u16)port);
		snprintf(operand, sizeof(operand), " port=0x%x", port);
	} else if (!strcmp(op, "apic")) {
		tsc = run_apic(n);
		snprintf(operand, sizeof(operand), " reg=0x%x", APIC_TPR);
	} else if (!strcmp(op, "rdmsr")) {
		u32 msr = (u32)cmdline_u64("msr", MSR_IA32_APIC_BASE);

		tsc = run_rdmsr(n, msr);
		snprintf(operand, sizeof(operand), " msr=0x%x", msr);
	} else if (!strcmp(op, "hlt")) {
		u32 count = (u32)cmdline_u64("count", TIMER_COUNT_DEFAULT);

		tsc = run_hlt(n, count);
		snprintf(operand, sizeof(operand), " count=%u", count);
	} else {
		guest_fail("op=%s: want cpuid, io, apic, rdmsr or hlt", op);
	}
	guest_pass("op=%s n=%u tsc_per_op=%llu tsc=%llu%s", op, n, div_u64_rem(tsc, n, NULL), tsc,
		   operand);
}
