/*
 * acloop: the alignment-check loop of CVE-2015-5307. The second CPU goes to
 * ring 3 with CR0.AM and EFLAGS.AC set, after making sure this CPU raises
 * #AC at all (a misaligned load, the #AC taken at ring 0 through the TSS);
 * then it points the #AC gate at a ring-3 handler (no stack switch) and
 * loads a misaligned ESP: the next misaligned access raises #AC, whose
 * delivery pushes onto that stack and raises #AC again, and so on, without
 * an instruction boundary in between, so no interrupt or NMI gets in (on
 * hardware the CPU is lost; #AC is benign, so it never becomes a double
 * fault, SDM 3A 6.15). The BSP waits a while and resets the machine (port
 * 0xCF9): a hypervisor that intercepts #AC sees every round as an exit, and
 * the reset stops the partition, looping CPU included.
 *
 * PASS details (before the reset): probe=#AC loop=entered
 */
#include "console.h"
#include "guest.h"
#include "hv/hw/x86.h"
#include "lapic.h"
#include "lib.h"
#include "smp.h"
#include "trap.h"
#include "tsc.h"

#define AP_APIC_ID 1
#define AP_START_TIMEOUT_MS 1000
#define LOOP_WAIT_MS 1000
#define LOOP_RUN_MS 200 /* let it spin before the reset */

/* The GDT of the second CPU (SDM 3A 3.4.5, 7.2.2): the flat ring-0 pair
 * entry.asm uses, a flat ring-3 pair, and its TSS. */
#define SEL_DATA0 0x10
#define SEL_CODE3 0x18
#define SEL_DATA3 0x20
#define SEL_TSS 0x28
#define RPL3 3
#define GDT_CODE0 0x00cf9a000000ffffULL
#define GDT_DATA0 0x00cf92000000ffffULL
#define GDT_CODE3 0x00cffa000000ffffULL
#define GDT_DATA3 0x00cff2000000ffffULL
#define GDT_TSS32_AVAIL 0x89ULL /* present, DPL 0, 32-bit available TSS */
#define IDT_INTR32_DPL0 0x8e
#define STACK_SIZE 4096
#define MISALIGN 1

const char guest_name[] = "acloop";

struct tss32 {
	u32 link, esp0, ss0, esp1, ss1, esp2, ss2;
	u32 cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	u32 es, cs, ss, ds, fs, gs, ldt;
	u16 trap, iomap;
} __packed;

struct gdt_ptr {
	u16 limit;
	u32 base;
} __packed;

static u64 gdt[6] __aligned(8);
static struct tss32 tss;
static u8 ring0_stack[STACK_SIZE] __aligned(16);
static volatile u32 probe_ac;
/* used by the ring-3 code below */
u8 ring3_stack[STACK_SIZE] __aligned(16);
volatile u32 looping;
u32 aligned_word[2];

void ring3_main(void);
void ring3_ac_handler(void);

/*
 * Ring 3: a misaligned load with AC set (the probe: the ring-0 hook below
 * counts it, switches the #AC gate to ring 3 and returns with AC clear, so
 * the load runs again), AC set again, the flag for the BSP, a misaligned
 * ESP, and the same load: the loop.
 */
__asm__(".text\n"
	".globl ring3_main\n"
	"ring3_main:\n"
	"	movl $aligned_word+1, %ebx\n"
	"	movl (%ebx), %eax\n"
	"	pushfl\n"
	"	orl $0x40000, (%esp)\n" /* EFLAGS.AC */
	"	popfl\n"
	"	movl $1, looping\n"
	"	movl $ring3_stack+4096-3, %esp\n"
	"	movl (%ebx), %eax\n"
	"1:	jmp 1b\n"
	".globl ring3_ac_handler\n"
	"ring3_ac_handler:\n"
	"2:	jmp 2b\n");

static bool probe_hook(struct trap_frame *f)
{
	probe_ac++;
	trap_set_gate(X86_EXC_AC, (u32)(uintptr_t)ring3_ac_handler, SEL_CODE3, IDT_INTR32_DPL0);
	f->eflags &= ~(u32)RFLAGS_AC;
	return true;
}

static u64 tss_descriptor(u32 base, u32 limit)
{
	return (limit & 0xffff) | ((u64)(base & 0xffffff) << 16) | (GDT_TSS32_AVAIL << 40) |
	       ((u64)(limit & 0xf0000) << 32) | ((u64)(base >> 24) << 56);
}

static void ap_main(u32 ticket)
{
	struct gdt_ptr gp = { sizeof(gdt) - 1, (u32)(uintptr_t)gdt };

	(void)ticket;
	gdt[1] = GDT_CODE0;
	gdt[2] = GDT_DATA0;
	gdt[3] = GDT_CODE3;
	gdt[4] = GDT_DATA3;
	tss.ss0 = SEL_DATA0;
	tss.esp0 = (u32)(uintptr_t)(ring0_stack + STACK_SIZE);
	tss.iomap = sizeof(tss);
	gdt[5] = tss_descriptor((u32)(uintptr_t)&tss, sizeof(tss) - 1);
	__asm__ volatile("lgdt %0\n\t"
			 "ltr %w1"
			 :
			 : "m"(gp), "r"(SEL_TSS)
			 : "memory");
	write_cr0(read_cr0() | CR0_AM);
	trap_set_hook(X86_EXC_AC, probe_hook);
	/* to ring 3 with AC set (SDM 3A 6.12.1: IRET to a lower privilege) */
	__asm__ volatile("movl %[ds3], %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "pushl %[ss3]\n\t"
			 "pushl %[esp3]\n\t"
			 "pushl %[flags]\n\t"
			 "pushl %[cs3]\n\t"
			 "pushl %[eip3]\n\t"
			 "iretl"
			 :
			 : [ds3] "i"(SEL_DATA3 | RPL3), [ss3] "i"(SEL_DATA3 | RPL3),
			   [esp3] "r"((u32)(uintptr_t)(ring3_stack + STACK_SIZE)),
			   [flags] "i"((u32)(RFLAGS_FIXED | RFLAGS_AC)),
			   [cs3] "i"(SEL_CODE3 | RPL3), [eip3] "r"((u32)(uintptr_t)ring3_main)
			 : "eax", "memory");
}

void guest_main(void)
{
	u64 start;

	lapic_enable();
	smp_prepare(ap_main);
	if (!smp_start_ap(AP_APIC_ID) || !smp_wait_entries(1, AP_START_TIMEOUT_MS))
		guest_fail("the second CPU did not start");
	start = rdtsc();
	while (!__atomic_load_n(&looping, __ATOMIC_ACQUIRE)) {
		if (rdtsc() - start > tsc_ticks_ms(LOOP_WAIT_MS))
			guest_fail("the second CPU did not reach the loop (%u #AC from the probe)",
				   probe_ac);
		cpu_relax();
	}
	if (probe_ac != 1)
		guest_fail("the probe raised %u #AC, want 1: this CPU does not check alignment",
			   probe_ac);
	tsc_delay_us(LOOP_RUN_MS * 1000);
	guest_pass_continue("probe=#AC loop=entered");
	con_printf("acloop: the second CPU loops on #AC delivery; resetting\n");
	guest_reboot();
}
