/*
 * dbloop: the debug-exception loop of CVE-2015-8104. The second CPU enters
 * 64-bit mode with its #DB gate on an interrupt stack (IST1, SDM 3A
 * 6.14.5), checks that a data breakpoint raises #DB at all (one #DB into
 * its handler), then sets the data breakpoint on the IST1 slot where the
 * delivery of #DB pushes SS and writes there: the #DB that follows pushes
 * onto the same slot, which raises a #DB trap at once, before the handler's
 * first instruction, and so on (SDM 3A 17.3.1.2: data breakpoints during
 * event delivery are reported after it). No instruction boundary comes
 * where an interrupt or NMI would get in: on hardware the CPU is lost. The
 * BSP waits a while and resets the machine (port 0xCF9): a hypervisor that
 * intercepts #DB sees every round as an exit, and the reset stops the
 * partition, looping CPU included.
 *
 * PASS details (before the reset): probe=#DB loop=entered
 */
#include "console.h"
#include "guest.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/paging.h"
#include "hv/hw/x86.h"
#include "lapic.h"
#include "lib.h"
#include "smp.h"
#include "tsc.h"

#define AP_APIC_ID 1
#define AP_START_TIMEOUT_MS 1000
#define LOOP_WAIT_MS 2000
#define LOOP_RUN_MS 200 /* let it spin before the reset */

#define SEL_CODE64 0x18
#define SEL_TSS64 0x20
#define GDT_CODE32 0x00cf9a000000ffffULL
#define GDT_DATA 0x00cf92000000ffffULL
#define GDT_CODE64 0x00af9a000000ffffULL /* L = 1, D = 0 (SDM 3A 5.2.1) */
#define GDT_TSS64_AVAIL 0x89ULL
#define IDT_INTR64 0x8e
#define IST1 1
#define TABLE_ENTRIES 512
#define STACK_SIZE 4096

const char guest_name[] = "dbloop";

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3, iomap;
} __packed;

struct idt_gate64 {
	u16 offset_lo, selector;
	u8 ist, type;
	u16 offset_mid;
	u32 offset_hi, reserved;
} __packed;

/* used by the 64-bit code below */
u64 pml4[TABLE_ENTRIES] __aligned(4096);
u64 pdpt[TABLE_ENTRIES] __aligned(4096);
u64 pd[TABLE_ENTRIES] __aligned(4096);
u64 gdt64[6] __aligned(8);
struct idt_gate64 idt64[2] __aligned(16);
struct tss64 tss64 __aligned(16);
u8 ist_stack[STACK_SIZE] __aligned(16);
u64 probe_var;
volatile u32 probe_db, looping;
struct {
	u16 limit;
	u64 base;
} __packed gdt64_desc, idt64_desc;

void ap_long_mode(void);
void db_handler64(void);

/*
 * 32-bit: PAE, the tables, EFER.LME, paging, then a far jump to 64-bit code
 * (SDM 3A 10.8.5). 64-bit: the IDT and TSS; a data breakpoint on probe_var
 * (DR7: L0, write, 8 bytes) and a write to it: one #DB, counted by the
 * handler; then the breakpoint on the SS slot of IST1 and a write there.
 */
__asm__(".text\n"
	".code32\n"
	".globl ap_long_mode\n"
	"ap_long_mode:\n"
	"	lgdt gdt64_desc\n"
	"	movl %cr4, %eax\n"
	"	orl $0x20, %eax\n" /* CR4.PAE */
	"	movl %eax, %cr4\n"
	"	movl $pml4, %eax\n"
	"	movl %eax, %cr3\n"
	"	movl $0xc0000080, %ecx\n" /* IA32_EFER */
	"	rdmsr\n"
	"	orl $0x100, %eax\n" /* LME */
	"	wrmsr\n"
	"	movl %cr0, %eax\n"
	"	orl $0x80000000, %eax\n" /* PG */
	"	movl %eax, %cr0\n"
	"	ljmp $0x18, $1f\n"
	".code64\n"
	"1:	lidt idt64_desc(%rip)\n"
	"	movw $0x20, %ax\n"
	"	ltr %ax\n"
	"	leaq probe_var(%rip), %rax\n"
	"	movq %rax, %db0\n"
	"	movq $0x90401, %rax\n" /* L0, R/W0 = write, LEN0 = 8 bytes */
	"	movq %rax, %db7\n"
	"	movq $1, probe_var(%rip)\n"
	"	leaq ist_stack+4096-8(%rip), %rbx\n"
	"	movq %rbx, %db0\n"
	"	movl $1, looping(%rip)\n"
	"	movq %rax, (%rbx)\n"
	"2:	jmp 2b\n"
	".globl db_handler64\n"
	"db_handler64:\n"
	"	lock incl probe_db(%rip)\n"
	"	iretq\n"
	".code32\n");

static void tables(void)
{
	u32 tss = (u32)(uintptr_t)&tss64, handler = (u32)(uintptr_t)db_handler64;

	for (u32 i = 0; i < TABLE_ENTRIES; i++)
		pd[i] = ((u64)i << 21) | PTE_P | PTE_W | PTE_PS;
	pdpt[0] = (u32)(uintptr_t)pd | PTE_P | PTE_W;
	pml4[0] = (u32)(uintptr_t)pdpt | PTE_P | PTE_W;
	gdt64[1] = GDT_CODE32;
	gdt64[2] = GDT_DATA;
	gdt64[3] = GDT_CODE64;
	/* SDM 3A 8.2.3: a 16-byte TSS descriptor, base 63:32 in the second */
	gdt64[4] = (sizeof(tss64) - 1) | ((u64)(tss & 0xffffff) << 16) | (GDT_TSS64_AVAIL << 40) |
		   ((u64)(tss >> 24) << 56);
	gdt64[5] = 0;
	gdt64_desc.limit = sizeof(gdt64) - 1;
	gdt64_desc.base = (u32)(uintptr_t)gdt64;
	tss64.ist[IST1 - 1] = (u32)(uintptr_t)(ist_stack + STACK_SIZE);
	tss64.iomap = sizeof(tss64);
	idt64[X86_EXC_DB] = (struct idt_gate64){ .offset_lo = (u16)handler,
						 .selector = SEL_CODE64,
						 .ist = IST1,
						 .type = IDT_INTR64,
						 .offset_mid = (u16)(handler >> 16) };
	idt64_desc.limit = sizeof(idt64) - 1;
	idt64_desc.base = (u32)(uintptr_t)idt64;
}

static void ap_main(u32 ticket)
{
	(void)ticket;
	ap_long_mode();
}

void guest_main(void)
{
	u64 start;

	if (!(cpuid(CPUID_EXT_FEATURES).edx & CPUID_EXT_EDX_LM))
		guest_fail("no 64-bit mode on this CPU");
	tables();
	smp_prepare(ap_main);
	lapic_enable();
	if (!smp_start_ap(AP_APIC_ID) || !smp_wait_entries(1, AP_START_TIMEOUT_MS))
		guest_fail("the second CPU did not start");
	start = rdtsc();
	while (!__atomic_load_n(&looping, __ATOMIC_ACQUIRE)) {
		if (rdtsc() - start > tsc_ticks_ms(LOOP_WAIT_MS))
			guest_fail("the second CPU did not reach the loop");
		cpu_relax();
	}
	if (probe_db != 1)
		guest_fail("the probe raised %u #DB, want 1: no data breakpoints here", probe_db);
	tsc_delay_us(LOOP_RUN_MS * 1000);
	if (probe_db != 1)
		guest_fail("the #DB handler ran (%u times): the breakpoint on the IST slot did "
			   "not loop",
			   probe_db);
	guest_pass_continue("probe=#DB loop=entered");
	con_printf("dbloop: the second CPU loops on #DB delivery; resetting\n");
	guest_reboot();
}
