/*
 * nmi: NMIs as the manuals say (SDM 3A 6.7.1: from an NMI's delivery until
 * the next IRET further NMIs are blocked, one is held pending meanwhile;
 * HLT ends on an NMI whatever EFLAGS.IF says). The BSP takes NMIs it sends
 * itself (by APIC ID, no shorthand) and NMIs the second CPU sends in a
 * storm; its handler spins a while and counts how deep it is entered.
 *
 *   held:     the first handler sends another NMI to its own CPU: it must
 *             not come inside the handler, and must come after its IRET;
 *   hlt:      the BSP halts with interrupts off, the AP sends one NMI: the
 *             BSP must wake (else the AP says FAIL);
 *   storm:    the AP sends storm=N NMIs (default 2000) while the BSP sends
 *             itself more: never two handlers at once.
 *
 * With stop=1, after the verdict the AP sends NMIs forever and the BSP
 * resets the machine (port 0xCF9): the partition must stop all the same.
 *
 * Keys: storm=N stop=1
 * PASS details: nmis=N nested=0 held=1 hlt_wake=1 storm=N
 */
#include "cmdline.h"
#include "console.h"
#include "guest.h"
#include "hv/hw/apic.h"
#include "hv/hw/x86.h"
#include "lapic.h"
#include "lib.h"
#include "smp.h"
#include "trap.h"
#include "tsc.h"

#define BSP_APIC_ID 0
#define AP_APIC_ID 1
#define AP_START_TIMEOUT_MS 1000
#define HANDLER_SPIN_US 20 /* a window for an NMI that would nest */
#define HELD_WAIT_MS 100
#define HLT_NMI_DELAY_MS 20
#define HLT_WAKE_TIMEOUT_MS 500
#define STORM_DEFAULT 2000
#define STORM_TIMEOUT_MS 30000
#define SELF_NMI_EVERY 64 /* storm loop rounds between self-NMIs */
#define STOP_DELAY_MS 50
#define NMI_ICR (ICR_MODE_NMI << ICR_MODE_SHIFT)

const char guest_name[] = "nmi";

enum ap_cmd { AP_IDLE, AP_WAKE, AP_STORM, AP_FOREVER };

static volatile u32 depth, nested, nmis;
static volatile u32 hold_armed; /* the next handler sends an NMI to itself */
static volatile u32 held_sent;
static volatile u32 ap_cmd, ap_done, bsp_awake;
static u32 storm_count;

static void send_nmi(u32 apic_id)
{
	/* no wait for the delivery status: an NMI handler may send */
	lapic_write(APIC_ICR_HI, apic_id << ICR_DEST_SHIFT);
	lapic_write(APIC_ICR_LO, NMI_ICR);
}

static bool nmi_handler(struct trap_frame *f)
{
	(void)f;
	if (__atomic_add_fetch(&depth, 1, __ATOMIC_SEQ_CST) != 1)
		__atomic_add_fetch(&nested, 1, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&nmis, 1, __ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&hold_armed, 0, __ATOMIC_SEQ_CST)) {
		send_nmi(BSP_APIC_ID);
		held_sent = 1;
	}
	tsc_delay_us(HANDLER_SPIN_US);
	__atomic_sub_fetch(&depth, 1, __ATOMIC_SEQ_CST);
	return true;
}

static void ap_main(u32 ticket)
{
	u64 start;
	u32 cmd;

	(void)ticket;
	lapic_enable();
	for (;;) {
		while ((cmd = __atomic_load_n(&ap_cmd, __ATOMIC_ACQUIRE)) == AP_IDLE)
			cpu_relax();
		__atomic_store_n(&ap_cmd, AP_IDLE, __ATOMIC_RELEASE);
		if (cmd == AP_WAKE) {
			tsc_delay_us(HLT_NMI_DELAY_MS * 1000);
			send_nmi(BSP_APIC_ID);
			start = rdtsc();
			while (!__atomic_load_n(&bsp_awake, __ATOMIC_ACQUIRE)) {
				if (rdtsc() - start > tsc_ticks_ms(HLT_WAKE_TIMEOUT_MS))
					guest_fail("an NMI did not wake the BSP from HLT "
						   "(interrupts off, %u NMIs so far)",
						   nmis);
				cpu_relax();
			}
		} else if (cmd == AP_STORM) {
			for (u32 i = 0; i < storm_count; i++)
				send_nmi(BSP_APIC_ID);
		} else {
			for (;;)
				send_nmi(BSP_APIC_ID);
		}
		__atomic_store_n(&ap_done, 1, __ATOMIC_RELEASE);
	}
}

static void ap_run(enum ap_cmd cmd)
{
	__atomic_store_n(&ap_done, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&ap_cmd, cmd, __ATOMIC_RELEASE);
}

static bool wait_for(volatile u32 *flag, u32 want, u32 timeout_ms)
{
	u64 start = rdtsc();

	while (__atomic_load_n(flag, __ATOMIC_ACQUIRE) < want) {
		if (rdtsc() - start > tsc_ticks_ms(timeout_ms))
			return false;
		cpu_relax();
	}
	return true;
}

static void check_nested(const char *phase)
{
	if (nested)
		guest_fail("%s: %u NMIs came inside the NMI handler, before its IRET", phase,
			   nested);
}

/* An NMI sent while the handler runs is held, then delivered after IRET. */
static void held(void)
{
	hold_armed = 1;
	send_nmi(BSP_APIC_ID);
	if (!wait_for(&nmis, 2, HELD_WAIT_MS))
		guest_fail("held: %u NMIs of 2 (sent one to itself, then one from inside the "
			   "handler: %s)",
			   nmis, held_sent ? "that one was lost" : "the first never came");
	check_nested("held");
	tsc_delay_us(HELD_WAIT_MS * 1000);
	if (nmis != 2)
		guest_fail("held: %u NMIs for 2 sent", nmis);
	con_printf("nmi: held: the NMI sent inside the handler came after its IRET\n");
}

static void hlt_wake(void)
{
	u32 before = nmis;

	ap_run(AP_WAKE);
	__asm__ volatile("cli; hlt" ::: "memory");
	if (nmis == before)
		guest_fail("hlt: woke from HLT without an NMI");
	__atomic_store_n(&bsp_awake, 1, __ATOMIC_RELEASE);
	wait_for(&ap_done, 1, HLT_WAKE_TIMEOUT_MS);
	check_nested("hlt");
	con_printf("nmi: hlt: an NMI woke the BSP from HLT with interrupts off\n");
}

static void storm(void)
{
	u64 start = rdtsc();
	u32 before = nmis;

	ap_run(AP_STORM);
	for (u32 i = 0; !__atomic_load_n(&ap_done, __ATOMIC_ACQUIRE); i++) {
		if (i % SELF_NMI_EVERY == 0)
			send_nmi(BSP_APIC_ID);
		if (rdtsc() - start > tsc_ticks_ms(STORM_TIMEOUT_MS))
			guest_fail("storm: the AP did not finish %u NMIs in %u ms", storm_count,
				   STORM_TIMEOUT_MS);
		cpu_relax();
	}
	tsc_delay_us(HELD_WAIT_MS * 1000);
	check_nested("storm");
	if (nmis == before)
		guest_fail("storm: no NMI came of %u sent", storm_count);
	con_printf("nmi: storm: %u NMIs sent, %u taken, never nested\n", storm_count,
		   nmis - before);
}

void guest_main(void)
{
	storm_count = (u32)cmdline_u64("storm", STORM_DEFAULT);
	lapic_enable();
	if (lapic_id() != BSP_APIC_ID)
		guest_fail("BSP has APIC ID %u", lapic_id());
	trap_set_hook(X86_EXC_NMI, nmi_handler);

	held();
	smp_prepare(ap_main);
	if (!smp_start_ap(AP_APIC_ID) || !smp_wait_entries(1, AP_START_TIMEOUT_MS))
		guest_fail("the second CPU did not start");
	hlt_wake();
	storm();
	if (!cmdline_flag("stop"))
		guest_pass("nmis=%u nested=0 held=1 hlt_wake=1 storm=%u", nmis, storm_count);
	guest_pass_continue("nmis=%u nested=0 held=1 hlt_wake=1 storm=%u", nmis, storm_count);
	ap_run(AP_FOREVER);
	tsc_delay_us(STOP_DELAY_MS * 1000);
	con_printf("nmi: resetting while the storm goes on\n");
	guest_reboot();
}
