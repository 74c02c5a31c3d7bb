/*
 * i386 instructions and architectural numbers the test guests use
 * (Intel SDM volumes 2 and 3A; AMD APM volumes 2 and 3).
 */
#pragma once

#include "types.h"

/* CPUID leaves and bits (SDM 2A CPUID; APM 3 appendix E) */
#define CPUID_LEAF_VENDOR 0x00000000
#define CPUID_LEAF_FEATURES 0x00000001
#define CPUID_LEAF_EXT_TOPO 0x0000000b
#define CPUID_LEAF_TSC 0x00000015
#define CPUID_LEAF_FREQ 0x00000016
#define CPUID_LEAF_HV_BASE 0x40000000
#define CPUID_LEAF_HV_TIMING 0x40000010 /* de facto: EAX = TSC kHz */
#define CPUID_LEAF_EXT_MAX 0x80000000
#define CPUID_LEAF_EXT_FEATURES 0x80000001
#define CPUID_LEAF_EXT_SIZES 0x80000008

#define CPUID_1_ECX_MONITOR BIT(3)
#define CPUID_1_ECX_VMX BIT(5)
#define CPUID_1_ECX_X2APIC BIT(21)
#define CPUID_1_ECX_HYPERVISOR BIT(31)
#define CPUID_1_EDX_TSC BIT(4)
#define CPUID_1_EDX_MSR BIT(5)
#define CPUID_1_EDX_APIC BIT(9)
#define CPUID_1_EDX_HTT BIT(28)
#define CPUID_1_EBX_COUNT_SHIFT 16 /* logical processors per package */
#define CPUID_1_EBX_COUNT_MASK 0xff
#define CPUID_1_EBX_APIC_ID_SHIFT 24 /* initial APIC ID */
#define CPUID_81_ECX_SVM BIT(2)
#define CPUID_88_ECX_NC_MASK 0xff /* number of cores - 1 (APM 3 E.4.7) */
#define CPUID_88_EAX_PHYS_MASK 0xff
#define CPUID_16_EAX_MHZ_MASK 0xffff
#define CPUID_B_ECX_TYPE_SHIFT 8 /* level type: 1 SMT, 2 core */
#define CPUID_B_ECX_TYPE_MASK 0xff
#define CPUID_B_TYPE_CORE 2
#define CPUID_B_EBX_COUNT_MASK 0xffff

/* MSRs (SDM 4; APM 2 appendix A) */
#define MSR_IA32_TSC 0x00000010
#define MSR_IA32_APIC_BASE 0x0000001b
#define MSR_IA32_FEATURE_CONTROL 0x0000003a
#define MSR_IA32_VMX_BASIC 0x00000480
#define MSR_X2APIC_ID 0x00000802
#define MSR_EFER 0xc0000080
#define MSR_VM_HSAVE_PA 0xc0010117

#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_X2APIC BIT(10)
#define APIC_BASE_ENABLE BIT(11)
#define APIC_BASE_ADDR_MASK 0xfffff000ULL
#define EFER_LME BIT(8)
#define EFER_SVME BIT(12)
#define EFER_LMA BIT(10)

/* Control registers (SDM 3A 2.5) */
#define CR0_PE BIT(0)
#define CR0_PG BIT(31)
#define CR4_PAE BIT(5)

/* Exception vectors (SDM 3A 6.3.1) */
#define VEC_BP 3
#define VEC_GP 13
#define VEC_PF 14
#define NUM_EXCEPTIONS 32

/* Opcodes the #GP handler may skip (SDM 2B RDMSR, WRMSR) */
#define OPC_TWO_BYTE 0x0f
#define OPC_WRMSR 0x30
#define OPC_RDMSR 0x32
#define MSR_INSN_LEN 2

struct cpuid_regs {
	u32 eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid_count(u32 leaf, u32 sub)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(sub)
			 : "memory");
	return r;
}

static inline struct cpuid_regs cpuid(u32 leaf)
{
	return cpuid_count(leaf, 0);
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
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

/* One plain 32-bit load or store, so that a hypervisor's MMIO decoder sees
 * the simplest instruction form. */
static inline u32 mmio_read32(uintptr_t addr)
{
	u32 v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write32(uintptr_t addr, u32 v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"(addr) : "memory");
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

static inline void barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

static inline __noreturn void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" : : : "memory");
}

static inline u32 read_cr0(void)
{
	u32 v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline void write_cr0(u32 v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline u32 read_cr4(void)
{
	u32 v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void write_cr4(u32 v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline void write_cr3(u32 v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void invlpg(uintptr_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* A lock-prefixed add: returns the old value. */
static inline u32 atomic_fetch_add32(volatile u32 *p, u32 v)
{
	__asm__ volatile("lock xaddl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	return v;
}
