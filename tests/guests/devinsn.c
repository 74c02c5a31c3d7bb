/*
 * devinsn: the instruction forms a hypervisor must emulate on device memory
 * and ports, each checked against the device's register afterwards. In
 * 32-bit flat protected mode, paging off:
 *   - the I/O APIC (redirection entry 0, masked throughout): LOCK INC, DEC,
 *     XADD, LOCK CMPXCHG (equal and unequal), XCHG on its index register,
 *     NOT and NEG on the high dword (only the destination bits need be
 *     writable), SUB, BTS/BTR;
 *   - PCI configuration space through ECAM (ecam=ADDR, 0 to skip: the
 *     host bridge 00:00.0): REP MOVSD of its header to RAM, REPE CMPSD
 *     against the copy (all equal; then stopping at a planted difference),
 *     REPNE SCASD finding a dword;
 *   - an address nobody decodes (open_bus=ADDR, 0 to skip): LOCK INC and
 *     CMPXCHG read all-ones and write nothing, REPE CMPSB against 0xff;
 *   - string I/O on COM1 (the 16550's scratch register and its transmitter):
 *     REP OUTSB and INSB, downwards with DF, with 16-bit addressing where DI
 *     wraps and CX's upper bits stay, and a line sent with REP OUTSB; INSW
 *     from a port nobody has reads all-ones.
 *
 * Keys: ecam=ADDR (default 0xe0000000, Tessera's; q35 under QEMU:
 * 0xb0000000), open_bus=ADDR (default 0: skipped; Tessera: 0xfeb00000),
 * ports=1 (default) / 0.
 * PASS details: ioapic=ok ecam=ok|skipped open_bus=ok|skipped string_io=ok
 */
#include "cmdline.h"
#include "console.h"
#include "cpu.h"
#include "guest.h"
#include "hv/hw/ioapic.h"
#include "hv/hw/uart.h"
#include "hv/hw/x86.h"
#include "lib.h"

#define RTE0_LO 0x10
#define RTE0_HI 0x11
#define RTE_MASK_BIT (1U << 16)
#define RTE_DEST_BITS 0xff000000U /* high dword: the destination */
#define ECAM_DEFAULT 0xe0000000U
#define HEADER_DWORDS 16
#define PLANTED 5 /* index of the difference in the copy */
#define COM1 0x3f8
#define COM1_SCR (COM1 + UART_SCR)
#define NOBODY_PORT 0x2f0
#define EFLAGS_ZF (1U << 6)
#define EFLAGS_DF (1U << 10)
#define WRAP_DI 0xfffe
#define WRAP_CX_HIGH 0xabcd0000U

const char guest_name[] = "devinsn";

static volatile u32 *const ioregsel = (volatile u32 *)(IOAPIC_DEFAULT_BASE + IOAPIC_IOREGSEL);
static volatile u32 *const iowin = (volatile u32 *)(IOAPIC_DEFAULT_BASE + IOAPIC_IOWIN);

static void expect_eq(const char *what, u32 got, u32 want)
{
	if (got != want)
		guest_fail("%s: 0x%x, want 0x%x", what, got, want);
}

static u32 eflags_after_cmp(u32 a, u32 b)
{
	u32 f;

	__asm__ volatile("cmpl %2, %1; pushfl; popl %0" : "=r"(f) : "r"(a), "r"(b) : "cc");
	return f;
}

/* --- the I/O APIC -------------------------------------------------------- */

static void ioapic_rmw(void)
{
	u32 ecx, eax, f, old;

	*ioregsel = RTE0_LO;
	*iowin = RTE_MASK_BIT | 0x30;
	__asm__ volatile("lock incl %0" : "+m"(*iowin) : : "cc", "memory");
	expect_eq("lock inc", *iowin, RTE_MASK_BIT | 0x31);
	ecx = 0x10;
	__asm__ volatile("xaddl %0, %1" : "+r"(ecx), "+m"(*iowin) : : "cc", "memory");
	expect_eq("xadd: the old value", ecx, RTE_MASK_BIT | 0x31);
	expect_eq("xadd: the sum", *iowin, RTE_MASK_BIT | 0x41);
	eax = RTE_MASK_BIT | 0x41;
	__asm__ volatile("lock cmpxchgl %3, %1; pushfl; popl %2"
			 : "+a"(eax), "+m"(*iowin), "=r"(f)
			 : "r"(RTE_MASK_BIT | 0x50)
			 : "cc", "memory");
	if (!(f & EFLAGS_ZF))
		guest_fail("cmpxchg (equal): ZF clear");
	expect_eq("cmpxchg (equal)", *iowin, RTE_MASK_BIT | 0x50);
	eax = RTE_MASK_BIT | 0x41;
	__asm__ volatile("lock cmpxchgl %3, %1; pushfl; popl %2"
			 : "+a"(eax), "+m"(*iowin), "=r"(f)
			 : "r"(RTE_MASK_BIT | 0x60)
			 : "cc", "memory");
	if (f & EFLAGS_ZF)
		guest_fail("cmpxchg (unequal): ZF set");
	expect_eq("cmpxchg (unequal): the accumulator", eax, RTE_MASK_BIT | 0x50);
	expect_eq("cmpxchg (unequal): memory", *iowin, RTE_MASK_BIT | 0x50);
	__asm__ volatile("decl %0" : "+m"(*iowin) : : "cc", "memory");
	__asm__ volatile("subl $0xf, %0" : "+m"(*iowin) : : "cc", "memory");
	expect_eq("dec, sub", *iowin, RTE_MASK_BIT | 0x40);
	__asm__ volatile("btsl $13, %0" : "+m"(*iowin) : : "cc", "memory");
	expect_eq("bts", *iowin, RTE_MASK_BIT | (1U << 13) | 0x40);
	__asm__ volatile("btrl $13, %0" : "+m"(*iowin) : : "cc", "memory");
	expect_eq("btr", *iowin, RTE_MASK_BIT | 0x40);

	/* the high dword: NOT, NOT, NEG */
	*ioregsel = RTE0_HI;
	*iowin = 0;
	__asm__ volatile("notl %0" : "+m"(*iowin) : : "memory");
	expect_eq("not (destination bits)", *iowin & RTE_DEST_BITS, RTE_DEST_BITS);
	__asm__ volatile("notl %0" : "+m"(*iowin) : : "memory");
	expect_eq("not, not", *iowin, 0);
	*iowin = 1U << 24;
	__asm__ volatile("negl %0" : "+m"(*iowin) : : "cc", "memory");
	expect_eq("neg (destination bits)", *iowin & RTE_DEST_BITS, RTE_DEST_BITS);
	*iowin = 0;

	/* XCHG on the index register */
	old = RTE0_LO;
	__asm__ volatile("xchgl %0, %1" : "+r"(old), "+m"(*ioregsel) : : "memory");
	expect_eq("xchg: the old index", old, RTE0_HI);
	expect_eq("xchg: the new index", *ioregsel & 0xff, RTE0_LO);
	expect_eq("the entry is still masked", *iowin, RTE_MASK_BIT | 0x40);
	con_printf("devinsn: I/O APIC: inc dec xadd cmpxchg sub bts btr not neg xchg\n");
}

/* --- PCI configuration space through ECAM ---------------------------------- */

static u32 header_copy[HEADER_DWORDS];

static void ecam_strings(u32 ecam)
{
	u32 esi, edi, ecx, eax, f;

	esi = ecam;
	edi = (u32)(uintptr_t)header_copy;
	ecx = HEADER_DWORDS;
	__asm__ volatile("cld; rep movsl" : "+S"(esi), "+D"(edi), "+c"(ecx) : : "memory");
	if (header_copy[0] == 0 || header_copy[0] == 0xffffffffU)
		guest_fail("ECAM at 0x%x: 00:00.0 reads 0x%x: no host bridge there", ecam,
			   header_copy[0]);

	esi = (u32)(uintptr_t)header_copy;
	edi = ecam;
	ecx = HEADER_DWORDS;
	__asm__ volatile("cld; repe cmpsl; pushfl; popl %3"
			 : "+S"(esi), "+D"(edi), "+c"(ecx), "=r"(f)
			 :
			 : "cc", "memory");
	if (!(f & EFLAGS_ZF) || ecx || edi != ecam + 4 * HEADER_DWORDS)
		guest_fail("repe cmpsd (equal): ZF %u ECX %u EDI 0x%x", !!(f & EFLAGS_ZF), ecx,
			   edi);

	header_copy[PLANTED] ^= 1;
	esi = (u32)(uintptr_t)header_copy;
	edi = ecam;
	ecx = HEADER_DWORDS;
	__asm__ volatile("cld; repe cmpsl; pushfl; popl %3"
			 : "+S"(esi), "+D"(edi), "+c"(ecx), "=r"(f)
			 :
			 : "cc", "memory");
	if ((f & EFLAGS_ZF) || ecx != HEADER_DWORDS - PLANTED - 1 ||
	    esi != (u32)(uintptr_t)&header_copy[PLANTED + 1])
		guest_fail("repe cmpsd (a difference at %u): ZF %u ECX %u", PLANTED,
			   !!(f & EFLAGS_ZF), ecx);
	if ((f ^ eflags_after_cmp(header_copy[PLANTED], ((volatile u32 *)ecam)[PLANTED])) & 0x8d5)
		guest_fail("repe cmpsd: flags 0x%x are not those of CMP", f);

	/* find the class/revision dword */
	eax = ((volatile u32 *)ecam)[2];
	edi = ecam;
	ecx = HEADER_DWORDS;
	__asm__ volatile("cld; repne scasl; pushfl; popl %2"
			 : "+D"(edi), "+c"(ecx), "=r"(f)
			 : "a"(eax)
			 : "cc", "memory");
	if (!(f & EFLAGS_ZF) || ecx != HEADER_DWORDS - 3 || edi != ecam + 12)
		guest_fail("repne scasd: ZF %u ECX %u EDI 0x%x", !!(f & EFLAGS_ZF), ecx, edi);
	con_printf("devinsn: ECAM: rep movsd, repe cmpsd, repne scasd\n");
}

/* --- open bus ------------------------------------------------------------------ */

static void open_bus(u32 addr)
{
	volatile u32 *p = (volatile u32 *)addr;
	static const u8 ones[4] = { 0xff, 0xff, 0xff, 0xff };
	u32 eax = 0xffffffffU, esi, edi, ecx, f;

	__asm__ volatile("lock incl %0" : "+m"(*p) : : "cc", "memory");
	expect_eq("open bus after lock inc", *p, 0xffffffffU);
	__asm__ volatile("lock cmpxchgl %3, %1; pushfl; popl %2"
			 : "+a"(eax), "+m"(*p), "=r"(f)
			 : "r"(0x12345678)
			 : "cc", "memory");
	if (!(f & EFLAGS_ZF))
		guest_fail("open bus: cmpxchg with all-ones did not compare equal");
	expect_eq("open bus after cmpxchg", *p, 0xffffffffU);
	esi = (u32)(uintptr_t)ones;
	edi = addr;
	ecx = 4;
	__asm__ volatile("cld; repe cmpsb; pushfl; popl %3"
			 : "+S"(esi), "+D"(edi), "+c"(ecx), "=r"(f)
			 :
			 : "cc", "memory");
	if (!(f & EFLAGS_ZF) || ecx)
		guest_fail("open bus: repe cmpsb against 0xff: ZF %u ECX %u", !!(f & EFLAGS_ZF),
			   ecx);
	con_printf("devinsn: open bus at 0x%x: all-ones, writes dropped\n", addr);
}

/* --- string I/O -------------------------------------------------------------- */

static u8 io_buf[8];

/* A byte of RAM anywhere, address 0 included (which C may not read). */
static u8 peek(u32 addr)
{
	u8 v;

	__asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(addr) : "memory");
	return v;
}
static const char line[] = "devinsn: this line went out by rep outsb\n";

static void string_io(void)
{
	static const u8 out[3] = { 0x11, 0x22, 0x33 };
	u32 esi, edi, ecx, di_wrap;
	u16 w;

	esi = (u32)(uintptr_t)out;
	ecx = sizeof(out);
	__asm__ volatile("cld; rep outsb" : "+S"(esi), "+c"(ecx) : "d"(COM1_SCR) : "memory");
	expect_eq("rep outsb: ESI", esi, (u32)(uintptr_t)out + sizeof(out));
	expect_eq("rep outsb: the scratch register", inb(COM1_SCR), 0x33);

	/* downwards */
	memset(io_buf, 0, sizeof(io_buf));
	edi = (u32)(uintptr_t)&io_buf[5];
	ecx = 3;
	__asm__ volatile("std; rep insb; cld" : "+D"(edi), "+c"(ecx) : "d"(COM1_SCR) : "memory");
	expect_eq("std; rep insb: EDI", edi, (u32)(uintptr_t)&io_buf[2]);
	if (io_buf[2] || io_buf[3] != 0x33 || io_buf[4] != 0x33 || io_buf[5] != 0x33 || io_buf[6])
		guest_fail("std; rep insb: %02x %02x %02x %02x %02x", io_buf[2], io_buf[3],
			   io_buf[4], io_buf[5], io_buf[6]);

	/* 16-bit addressing: DI wraps at 64 KiB, CX counts, the upper halves stay */
	outb(COM1_SCR, 0x5a);
	di_wrap = WRAP_DI;
	ecx = WRAP_CX_HIGH | 4;
	__asm__ volatile("cld; addr16 rep insb"
			 : "+D"(di_wrap), "+c"(ecx)
			 : "d"(COM1_SCR)
			 : "memory");
	expect_eq("addr16 rep insb: EDI", di_wrap, 2);
	expect_eq("addr16 rep insb: ECX", ecx, WRAP_CX_HIGH);
	if (peek(WRAP_DI) != 0x5a || peek(WRAP_DI + 1) != 0x5a || peek(0) != 0x5a ||
	    peek(1) != 0x5a)
		guest_fail("addr16 rep insb: the bytes at 0xfffe, 0xffff, 0, 1 differ");

	/* a port nobody has */
	edi = (u32)(uintptr_t)&w;
	__asm__ volatile("cld; insw" : "+D"(edi) : "d"(NOBODY_PORT) : "memory");
	expect_eq("insw from nobody", w, 0xffff);

	/* a line through the transmitter */
	esi = (u32)(uintptr_t)line;
	ecx = sizeof(line) - 1;
	__asm__ volatile("cld; rep outsb" : "+S"(esi), "+c"(ecx) : "d"(COM1 + UART_THR) : "memory");
	con_printf("devinsn: string I/O: outsb insb (up, down, 16-bit) insw\n");
}

void guest_main(void)
{
	u32 ecam = (u32)cmdline_u64("ecam", ECAM_DEFAULT);
	u32 bus = (u32)cmdline_u64("open_bus", 0);

	ioapic_rmw();
	if (ecam)
		ecam_strings(ecam);
	if (bus)
		open_bus(bus);
	if (cmdline_u64("ports", 1))
		string_io();
	guest_pass("ioapic=ok ecam=%s open_bus=%s string_io=%s", ecam ? "ok" : "skipped",
		   bus ? "ok" : "skipped", cmdline_u64("ports", 1) ? "ok" : "skipped");
}
