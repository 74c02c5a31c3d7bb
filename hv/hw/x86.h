/*
 * The x86 CPU: control registers, RFLAGS, exception vectors, and wrappers of
 * the instructions the hypervisor, its drivers and the test guests use (SDM
 * 2 and 3A). Valid in 64-bit and in 32-bit builds (tests/guests), except
 * rdmsr_safe(), wrmsr_safe() and xsetbv_safe(), which rely on the
 * hypervisor's fault fixup.
 */
#pragma once

#include "hv/hw/msr.h"
#include "hv/lib/types.h"

/* Control registers (SDM 3A 2.5) */
#define CR0_PE BIT(0)
#define CR0_MP BIT(1)
#define CR0_EM BIT(2)
#define CR0_TS BIT(3)
#define CR0_ET BIT(4)
#define CR0_NE BIT(5)
#define CR0_WP BIT(16)
#define CR0_AM BIT(18)
#define CR0_NW BIT(29)
#define CR0_CD BIT(30)
#define CR0_PG BIT(31)
/* the bits of CR0 that exist; writes to the others in 31:0 are ignored,
 * to 63:32 refused (SDM 3A 2.5, APM 2 3.1.1) */
#define CR0_DEFINED                                                                                \
	(CR0_PE | CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_NW | CR0_CD | \
	 CR0_PG)
#define CR3_PCID_MASK 0xfffULL /* SDM 3A 4.10.1 */

#define CR4_VME BIT(0)
#define CR4_PVI BIT(1)
#define CR4_TSD BIT(2)
#define CR4_DE BIT(3)
#define CR4_PSE BIT(4)
#define CR4_PAE BIT(5)
#define CR4_MCE BIT(6)
#define CR4_PGE BIT(7)
#define CR4_PCE BIT(8)
#define CR4_OSFXSR BIT(9)
#define CR4_OSXMMEXCPT BIT(10)
#define CR4_UMIP BIT(11)
#define CR4_LA57 BIT(12)
#define CR4_VMXE BIT(13)
#define CR4_SMXE BIT(14)
#define CR4_FSGSBASE BIT(16)
#define CR4_PCIDE BIT(17)
#define CR4_OSXSAVE BIT(18)
#define CR4_KL BIT(19)
#define CR4_SMEP BIT(20)
#define CR4_SMAP BIT(21)
#define CR4_PKE BIT(22)
#define CR4_CET BIT(23)
#define CR4_PKS BIT(24)
#define CR4_UINTR BIT(25)

/* XCR0: the state components XSAVE manages (SDM 1 13.1, 13.3) */
#define XCR0_X87 BIT(0)
#define XCR0_SSE BIT(1)
#define XCR0_AVX BIT(2)
#define XCR0_MPX (BIT(3) | BIT(4))	       /* BNDREGS, BNDCSR */
#define XCR0_AVX512 (BIT(5) | BIT(6) | BIT(7)) /* opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_PKRU BIT(9)
#define XCR0_AMX (BIT(17) | BIT(18)) /* XTILECFG, XTILEDATA */

#define RFLAGS_CF BIT(0)
#define RFLAGS_FIXED BIT(1)
#define RFLAGS_PF BIT(2)
#define RFLAGS_AF BIT(4)
#define RFLAGS_ZF BIT(6)
#define RFLAGS_SF BIT(7)
#define RFLAGS_TF BIT(8)
#define RFLAGS_IF BIT(9)
#define RFLAGS_DF BIT(10)
#define RFLAGS_OF BIT(11)
#define RFLAGS_IOPL (3ULL << 12)
#define RFLAGS_VM BIT(17)
#define RFLAGS_AC BIT(18)

/* Debug registers (SDM 3A 17.2). DR6's B0-B3 (bits 3:0), BD, BS and RTM
 * sit where the VT-x exit qualification and pending-debug-exceptions
 * field put them (SDM 3C 28.2.1, 25.4.2); RTM is active low in DR6. */
#define DR6_B0_B3 0xfULL
#define DR6_BD BIT(13) /* debug-register access detected (DR7.GD) */
#define DR6_BS BIT(14) /* single step */
#define DR6_RTM BIT(16)
#define DR6_INIT 0xffff0ff0ULL /* SDM 3A 9.1.1, table 9-1 */
#define DR7_GD BIT(13)
#define DR7_INIT 0x400ULL

/* Exception vectors (SDM 3A 6.3.1) */
enum {
	X86_EXC_DE = 0,
	X86_EXC_DB = 1,
	X86_EXC_NMI = 2,
	X86_EXC_BP = 3,
	X86_EXC_OF = 4,
	X86_EXC_BR = 5,
	X86_EXC_UD = 6,
	X86_EXC_NM = 7,
	X86_EXC_DF = 8,
	X86_EXC_TS = 10,
	X86_EXC_NP = 11,
	X86_EXC_SS = 12,
	X86_EXC_GP = 13,
	X86_EXC_PF = 14,
	X86_EXC_MF = 16,
	X86_EXC_AC = 17,
	X86_EXC_MC = 18,
	X86_EXC_XM = 19,
	X86_EXC_VE = 20,
	X86_EXC_CP = 21,
	X86_EXC_COUNT = 32,
};

/* The operand of LGDT/LIDT and SGDT/SIDT in 64-bit mode (SDM 3A 3.5.1) */
struct desc_ptr {
	u16 limit;
	u64 base;
} __packed;

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline void cpuid_count(u32 leaf, u32 sub, struct cpuid_regs *r)
{
	__asm__ volatile("cpuid"
			 : "=a"(r->eax), "=b"(r->ebx), "=c"(r->ecx), "=d"(r->edx)
			 : "a"(leaf), "c"(sub));
}

static inline struct cpuid_regs cpuid(u32 leaf)
{
	struct cpuid_regs r;

	cpuid_count(leaf, 0, &r);
	return r;
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 val)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
}

#ifdef __x86_64__
/*
 * MSR access that survives a #GP (an MSR the CPU or emulator lacks): the
 * fault handler (hv/cpu/trap.c) finds the faulting RIP in .ex_table and
 * resumes at the fixup, which returns -E_IO. EX_FIXUP_EIO follows the
 * instruction at label 1: a fault there goes to 3:, which sets err to
 * -E_IO and resumes at 2:.
 */
#define EX_FIXUP_EIO                                                                \
	"2:\n.pushsection .ex_table, \"a\"\n.balign 8\n.quad 1b, 3f\n.popsection\n" \
	".pushsection .text.fixup, \"ax\"\n3: movl %[eio], %[err]\njmp 2b\n.popsection\n"

static inline int rdmsr_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0;
	int err = 0;

	__asm__ volatile("1: rdmsr\n" EX_FIXUP_EIO
			 : "+a"(lo), "+d"(hi), [err] "+r"(err)
			 : "c"(msr), [eio] "i"(-E_IO));
	*val = ((u64)hi << 32) | lo;
	return err;
}

static inline int wrmsr_safe(u32 msr, u64 val)
{
	int err = 0;

	__asm__ volatile("1: wrmsr\n" EX_FIXUP_EIO
			 : [err] "+r"(err)
			 : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32)), [eio] "i"(-E_IO)
			 : "memory");
	return err;
}

/* XSETBV that survives the #GP of a value the CPU refuses: -E_IO then. */
static inline int xsetbv_safe(u32 xcr, u64 val)
{
	int err = 0;

	__asm__ volatile("1: xsetbv\n" EX_FIXUP_EIO
			 : [err] "+r"(err)
			 : "c"(xcr), "a"((u32)val), "d"((u32)(val >> 32)), [eio] "i"(-E_IO)
			 : "memory");
	return err;
}
#endif

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u16 inw(u16 port)
{
	u16 v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* unsigned long: the register's width, 64 or 32 bits */
#define DEFINE_CR(n)                                                     \
	static inline unsigned long read_cr##n(void)                     \
	{                                                                \
		unsigned long v;                                         \
		__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));        \
		return v;                                                \
	}                                                                \
	static inline void write_cr##n(unsigned long v)                  \
	{                                                                \
		__asm__ volatile("mov %0, %%cr" #n ::"r"(v) : "memory"); \
	}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

#define DEFINE_DR(n)                                                     \
	static inline unsigned long read_dr##n(void)                     \
	{                                                                \
		unsigned long v;                                         \
		__asm__ volatile("mov %%db" #n ", %0" : "=r"(v));        \
		return v;                                                \
	}                                                                \
	static inline void write_dr##n(unsigned long v)                  \
	{                                                                \
		__asm__ volatile("mov %0, %%db" #n ::"r"(v) : "memory"); \
	}
DEFINE_DR(0)
DEFINE_DR(1)
DEFINE_DR(2)
DEFINE_DR(3)
DEFINE_DR(6)
DEFINE_DR(7)
#undef DEFINE_DR

/*
 * The legacy region and header of an XSAVE area (SDM 1 10.5.1, 13.4), the
 * layout FXSAVE/FXRSTOR use too. XRSTOR puts every requested component whose
 * XSTATE_BV bit is 0 in its initial configuration, loads the others from
 * the area (SDM 1 13.8.1), and MXCSR from the legacy region.
 */
struct xsave_image {
	u16 fcw, fsw;
	u8 ftw; /* abridged: one bit per register, 1 = valid */
	u8 reserved;
	u16 fop;
	u64 fip, fdp;
	u32 mxcsr, mxcsr_mask;
	u8 st[8][16];
	u8 xmm[16][16]; /* XMM0-7 only in 32-bit code */
	u8 legacy_reserved[96];
	u64 xstate_bv, xcomp_bv;
	u8 header_reserved[48];
} __aligned(64);

/* SDM 3A 9.1.1, table 9-1: after RESET the x87 control word is 0040H and
 * the eight registers hold +0.0 (tag word 5555H: each valid, in the
 * abridged FXSAVE form all ones); MXCSR is 1F80H */
#define X87_FCW_RESET 0x0040
#define X87_FTW_RESET_ABRIDGED 0xff
#define MXCSR_INIT 0x1f80
#define XSTATE_X87 BIT(0) /* XSTATE_BV / XCR0 bit of the x87 state */

static inline void xsetbv(u32 reg, u64 val)
{
	__asm__ volatile("xsetbv" ::"c"(reg), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
}

static inline void xrstor(const struct xsave_image *area, u64 rfbm)
{
	__asm__ volatile("xrstor %0" ::"m"(*area), "a"((u32)rfbm), "d"((u32)(rfbm >> 32))
			 : "memory");
}

static inline void fxrstor(const struct xsave_image *area)
{
	__asm__ volatile("fxrstor %0" ::"m"(*area) : "memory");
}

static inline unsigned long read_rflags(void)
{
	unsigned long v;

	__asm__ volatile("pushf; pop %0" : "=r"(v));
	return v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}

static inline void halt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}

static inline void barrier(void)
{
	__asm__ volatile("" ::: "memory");
}

static inline void invlpg(unsigned long va)
{
	__asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}

/* A write to the POST-code port: about a microsecond on the ISA bus, and
 * harmless (nothing listens there on a PC) */
#define IO_DELAY_PORT 0x80

static inline void io_delay(void)
{
	outb(IO_DELAY_PORT, 0);
}
