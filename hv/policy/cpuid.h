/* The CPUID a partition sees (SPEC 6): the host's, filtered. */
#pragma once

#include "hv/lib/types.h"
#include "hv/hw/x86.h"

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
/* The precomputed answer when it needs nothing of the vCPU (the exit's
 * fast path, cpuid_init_partition has filled it); else NULL: ask
 * cpuid_guest. */
const struct cpuid_regs *cpuid_plain(const struct partition *p, u32 leaf, u32 subleaf);
/* The core-crystal frequency partitions see in CPUID 15h (Intel). */
u64 cpuid_crystal_hz(void);
/* Precomputes the partition's answers (after its vCPUs exist). */
void cpuid_init_partition(struct partition *p);
