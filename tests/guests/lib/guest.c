/* Start-up, verdicts and exit of a test guest. */
#include "guest.h"
#include "console.h"
#include "cpu.h"
#include "hv/hw/pc.h"
#include "hv/hw/x86.h"
#include "multiboot.h"
#include "trap.h"

extern char __image_start[], __image_end[];

static volatile u32 guest_verdict_taken;

uintptr_t guest_image_start(void)
{
	return (uintptr_t)__image_start;
}

uintptr_t guest_image_end(void)
{
	return (uintptr_t)__image_end;
}

__noreturn void guest_exit(u32 code)
{
	outb(DEBUG_EXIT_PORT, (u8)code);
	halt_forever();
}

__noreturn void guest_reboot(void)
{
	outb(RST_CNT_PORT, RST_CNT_SYS_RST);
	outb(RST_CNT_PORT, RST_CNT_SYS_RST | RST_CNT_RST_CPU);
	halt_forever();
}

/* Prints the verdict line; false if one was printed already. */
static bool guest_verdict_print(bool pass, const char *fmt, va_list ap)
{
	/* one verdict only, even if another CPU faults meanwhile */
	if (__atomic_exchange_n(&guest_verdict_taken, 1, __ATOMIC_ACQ_REL))
		return false;
	con_printf("VERDICT %s: %s ", guest_name, pass ? "PASS" : "FAIL");
	con_vprintf(fmt, ap);
	con_putc('\n');
	return true;
}

static __noreturn void guest_verdict(bool pass, const char *fmt, va_list ap)
{
	if (!guest_verdict_print(pass, fmt, ap))
		halt_forever();
	guest_exit(pass ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL);
}

void guest_pass_continue(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_verdict_print(true, fmt, ap);
	va_end(ap);
}

__noreturn void guest_pass(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_verdict(true, fmt, ap);
}

__noreturn void guest_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	guest_verdict(false, fmt, ap);
}

__noreturn void guest_start(u32 magic, u32 info_addr)
{
	con_init();
	trap_init();
	mb_parse(magic, info_addr);
	con_printf("GUEST %s: start, image [0x%x-0x%x), cmdline \"%s\"\n", guest_name,
		   (u32)guest_image_start(), (u32)guest_image_end(), mb.cmdline);
	if (!mb.valid)
		guest_fail("not started by a Multiboot1 loader (EAX=0x%x EBX=0x%x)", magic,
			   info_addr);
	guest_main();
	guest_fail("guest_main returned without a verdict");
}
