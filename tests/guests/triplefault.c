/*
 * triplefault: after delay=N heartbeats (default 3), prints
 * "TRIPLEFAULT now", loads an empty IDT (limit 0) and executes INT3: the
 * #BP cannot be delivered, nor the #GP that follows, nor the #DF: a triple
 * fault, a shutdown (SDM 3A 6.15, interrupt 8). It has no PASS: the machine
 * (QEMU -no-reboot exits) or the hypervisor (stops or restarts the
 * partition, per on_crash) has the last word. If the guest is still
 * running a moment later, that is a FAIL.
 */
#include "cmdline.h"
#include "console.h"
#include "guest.h"
#include "tsc.h"

#define AFTER_FAULT_WAIT_MS 100

const char guest_name[] = "triplefault";

struct idt_empty {
	u16 limit;
	u32 base;
} __packed;

void guest_main(void)
{
	static const struct idt_empty empty = { 0, 0 };

	heartbeat_run((u32)cmdline_u64("delay", 3));
	con_write("TRIPLEFAULT now\n");
	__asm__ volatile("lidt %0\n\tint3" : : "m"(empty) : "memory");
	tsc_delay_us(AFTER_FAULT_WAIT_MS * 1000);
	guest_fail("still running after INT3 with an empty IDT");
}
