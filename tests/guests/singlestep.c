/*
 * singlestep: debug exceptions as the manuals say (SDM 3A 17.2-17.3), over
 * instructions a hypervisor completes for its guest as well as ones the CPU
 * runs itself.
 *
 *   step:  with EFLAGS.TF set, CPUID, OUT to port 0x80, WBINVD, NOP, RDMSR
 *          of IA32_APIC_BASE, PUSHFD, AND, POPFD (clearing TF) each raise
 *          one #DB after they complete: EIP at the next instruction, DR6.BS
 *          set, B0-B3 clear (17.3.1.4);
 *   int1:  with int1=1, INT1 (ICEBP) raises #DB with EIP past it (QEMU's
 *          TCG raises #UD for it);
 *   gd:    with gd=1 and DR7.GD set, MOV from DR0 faults with #DB before it
 *          runs: DR6.BD set, DR7.GD clear in the handler (17.2.4; QEMU's TCG
 *          has no general detect);
 *   wbinvd: wbinvd=N WBINVDs in a row (default 64), which a hypervisor
 *          intercepts (tests/system/test_events.py counts the exits).
 *
 * With reboot=1 it resets the machine after the verdict (port 0xCF9).
 *
 * Keys: wbinvd=N int1=1 gd=1 reboot=1
 * PASS details: steps=8 int1=0|1 gd=0|1 wbinvd=N
 */
#include "cmdline.h"
#include "console.h"
#include "guest.h"
#include "hv/hw/msr.h"
#include "hv/hw/x86.h"
#include "trap.h"

#define MAX_DB 16
#define STEPS 8
#define MOV_FROM_DR_LEN 3 /* 0F 21 /r */
#define WBINVD_DEFAULT 64

const char guest_name[] = "singlestep";

/* The instruction boundaries of the stepped block (below): where each #DB
 * must leave EIP. */
extern const u8 step_after_cpuid[], step_after_out[], step_after_wbinvd[], step_after_nop[],
	step_after_rdmsr[], step_after_pushf[], step_after_and[], step_after_popf[];
extern const u8 int1_after[], gd_mov[];

/* Sets TF, runs eight instructions, clears it (the POPFD that does is the
 * eighth: TF was set when it began). */
static __attribute__((noinline)) void step_block(void)
{
	u32 a = 0, b, c, d;

	__asm__ volatile(
		"pushfl\n\t"
		"orl %[tf], (%%esp)\n\t"
		"popfl\n\t"
		"cpuid\n"
		".globl step_after_cpuid\n"
		"step_after_cpuid:\n\t"
		"outb %%al, $0x80\n"
		".globl step_after_out\n"
		"step_after_out:\n\t"
		"wbinvd\n"
		".globl step_after_wbinvd\n"
		"step_after_wbinvd:\n\t"
		"movl %[msr], %%ecx\n"
		".globl step_after_nop\n"
		"step_after_nop:\n\t"
		"rdmsr\n"
		".globl step_after_rdmsr\n"
		"step_after_rdmsr:\n\t"
		"pushfl\n"
		".globl step_after_pushf\n"
		"step_after_pushf:\n\t"
		"andl %[notf], (%%esp)\n"
		".globl step_after_and\n"
		"step_after_and:\n\t"
		"popfl\n"
		".globl step_after_popf\n"
		"step_after_popf:"
		: "+a"(a), "=b"(b), "=c"(c), "=d"(d)
		: [tf] "i"((u32)RFLAGS_TF), [notf] "i"(~(u32)RFLAGS_TF), [msr] "i"(MSR_IA32_APIC_BASE)
		: "memory", "cc");
}

static __attribute__((noinline)) void int1_block(void)
{
	__asm__ volatile(".byte 0xf1\n" /* INT1 */
			 ".globl int1_after\n"
			 "int1_after:" ::
				 : "memory");
}

static __attribute__((noinline)) void gd_block(void)
{
	u32 v;

	__asm__ volatile(".globl gd_mov\n"
			 "gd_mov:\n\t"
			 "movl %%db0, %0"
			 : "=r"(v)::"memory");
}

static volatile u32 db_count;
static u32 db_eip[MAX_DB], db_dr6[MAX_DB], db_dr7[MAX_DB];

static bool db_handler(struct trap_frame *f)
{
	u32 n = db_count;

	if (n < MAX_DB) {
		db_eip[n] = f->eip;
		db_dr6[n] = (u32)read_dr6();
		db_dr7[n] = (u32)read_dr7();
	}
	db_count = n + 1;
	write_dr6(DR6_INIT); /* each #DB's own bits */
	if (f->eip == (u32)(uintptr_t)gd_mov)
		f->eip += MOV_FROM_DR_LEN; /* a fault: it would run again */
	return true;
}

static void step(void)
{
	static const u8 *const want[STEPS] = { step_after_cpuid,  step_after_out,
					       step_after_wbinvd, step_after_nop,
					       step_after_rdmsr,  step_after_pushf,
					       step_after_and,	  step_after_popf };
	static const char *const what[STEPS] = { "CPUID", "OUT",    "WBINVD", "MOV",
						 "RDMSR", "PUSHFD", "AND",    "POPFD" };

	db_count = 0;
	step_block();
	for (u32 i = 0; i < STEPS && i < db_count; i++) {
		if (db_eip[i] != (u32)(uintptr_t)want[i])
			guest_fail("step: #DB %u at EIP 0x%x, want 0x%x (after %s)", i + 1,
				   db_eip[i], (u32)(uintptr_t)want[i], what[i]);
		if (!(db_dr6[i] & DR6_BS) || (db_dr6[i] & DR6_B0_B3))
			guest_fail("step: #DB after %s: DR6 0x%x, want BS and no B0-B3", what[i],
				   db_dr6[i]);
	}
	if (db_count != STEPS)
		guest_fail("step: %u #DBs for %u stepped instructions (the first missing one is "
			   "after %s)",
			   db_count, STEPS, db_count < STEPS ? what[db_count] : "none");
	con_printf("singlestep: step: %u #DBs, one after each instruction\n", STEPS);
}

static void int1(void)
{
	db_count = 0;
	int1_block();
	if (db_count != 1 || db_eip[0] != (u32)(uintptr_t)int1_after)
		guest_fail("int1: %u #DBs, the first at EIP 0x%x, want 1 at 0x%x", db_count,
			   db_eip[0], (u32)(uintptr_t)int1_after);
	con_printf("singlestep: int1: one #DB past the instruction\n");
}

static void gd(void)
{
	db_count = 0;
	write_dr7(DR7_INIT | DR7_GD);
	gd_block();
	if (db_count != 1 || db_eip[0] != (u32)(uintptr_t)gd_mov)
		guest_fail("gd: %u #DBs, the first at EIP 0x%x, want 1 at the MOV 0x%x", db_count,
			   db_eip[0], (u32)(uintptr_t)gd_mov);
	if (!(db_dr6[0] & DR6_BD) || (db_dr7[0] & DR7_GD))
		guest_fail("gd: in the handler DR6 0x%x DR7 0x%x, want BD set and GD clear",
			   db_dr6[0], db_dr7[0]);
	if (read_dr7() & DR7_GD)
		guest_fail("gd: DR7.GD still set after the #DB");
	con_printf("singlestep: gd: MOV DR faulted with DR6.BD, GD cleared\n");
}

void guest_main(void)
{
	u32 wbinvds = (u32)cmdline_u64("wbinvd", WBINVD_DEFAULT);
	bool with_int1 = cmdline_flag("int1"), with_gd = cmdline_flag("gd");

	trap_set_hook(X86_EXC_DB, db_handler);
	write_dr6(DR6_INIT);
	step();
	if (with_int1)
		int1();
	if (with_gd)
		gd();
	for (u32 i = 0; i < wbinvds; i++)
		__asm__ volatile("wbinvd" ::: "memory");
	if (!cmdline_flag("reboot"))
		guest_pass("steps=%u int1=%u gd=%u wbinvd=%u", STEPS, with_int1, with_gd, wbinvds);
	guest_pass_continue("steps=%u int1=%u gd=%u wbinvd=%u", STEPS, with_int1, with_gd, wbinvds);
	guest_reboot();
}
