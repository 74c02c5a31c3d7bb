/* The CPUID a partition sees (SPEC 6): the host's, filtered. */
#pragma once

#include "hv/hw/x86.h"
#include "hv/lib/types.h"
#include "hv/partition/partition.h"

struct vcpu;
struct partition;

#define CPUID_HV_LEAF 0x40000000
#define CPUID_HV_LAST 0x40000001
/* "TesseraHV" followed by three NULs, in EBX, ECX, EDX (SPEC 6) */
#define CPUID_HV_SIG_EBX 0x73736554 /* "Tess" */
#define CPUID_HV_SIG_ECX 0x48617265 /* "eraH" */
#define CPUID_HV_SIG_EDX 0x00000056 /* "V\0\0\0" */

/* Fills r with what the vCPU sees for leaf/subleaf. */
void cpuid_guest(struct vcpu *v, u32 leaf, u32 subleaf, struct cpuid_regs *r);
/* The basic leaves whose answer depends on the subleaf (SDM 2A CPUID):
 * 4, 7, 0Bh, 0Dh, 1Fh. */
#define CPUID_SUBLEAF_LEAVES (BIT(0x4) | BIT(0x7) | BIT(0xb) | BIT(0xd) | BIT(0x1f))

/* The precomputed answer when it needs nothing of the vCPU (the exit's
 * fast path, cpuid_init_partition has filled it); else NULL: ask
 * cpuid_guest. Inline: it runs on every CPUID exit. */
static inline const struct cpuid_regs *cpuid_plain(const struct partition *p, u32 leaf, u32 subleaf)
{
	if (leaf < CPUID_CACHE_BASIC && (p->cpuid_plain & BIT(leaf)) &&
	    (subleaf == 0 || !(CPUID_SUBLEAF_LEAVES & BIT(leaf))))
		return &p->cpuid_basic[leaf];
	return NULL;
}
/* The core-crystal frequency partitions see in CPUID 15h (Intel). */
u64 cpuid_crystal_hz(void);
/* Precomputes the partition's answers (after its vCPUs exist). */
void cpuid_init_partition(struct partition *p);
/* Whether the partition's CPUID says AMD (or Hygon): an AMD64 CPU. */
bool cpuid_vendor_amd(const struct partition *p);
/* A vCPU limited its leaf 0 (IA32_MISC_ENABLE Limit CPUID Maxval): leaf 0
 * is answered per vCPU from now on. */
void cpuid_leaf0_per_vcpu(struct partition *p);
/* The XCR0 bits the partition's CPUID 0Dh offers (subleaf 0 EDX:EAX). */
u64 cpuid_xcr0_supported(const struct partition *p);
/* The CR4 bits reserved for the partition: those of features its CPUID
 * hides, and those no feature defines (SDM 3A 2.5: setting one is #GP). */
u64 cpuid_cr4_reserved(const struct partition *p);

/*
 * The host CPU under the policy: its CPUID, and XCR0 (the guest's own while it
 * runs, hv/vcpu/exit.c; setting it returns -E_IO when the CPU refuses the
 * value). Host unit tests link their own (tests/unit/fake_vcpu.h): there the
 * instructions would answer for the build machine, and XSETBV faults outside
 * ring 0.
 */
#ifdef HV_HOST
void cpuid_host(u32 leaf, u32 sub, struct cpuid_regs *r);
u64 cpuid_host_xcr0(void);
int cpuid_host_set_xcr0(u64 xcr0);
#else
static inline void cpuid_host(u32 leaf, u32 sub, struct cpuid_regs *r)
{
	cpuid_count(leaf, sub, r);
}

static inline u64 cpuid_host_xcr0(void)
{
	u32 lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((u64)hi << 32) | lo;
}

static inline int cpuid_host_set_xcr0(u64 xcr0)
{
	return xsetbv_safe(0, xcr0);
}
#endif
