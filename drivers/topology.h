/* Which logical CPUs are hyperthreads of one core: from CPUID and APIC IDs. */
#pragma once

#include "hv/hw/x86.h"
#include "hv/lib/types.h"

/* How CPUID is asked (cpuid_count on the machine; a table in unit tests). */
typedef void (*topology_cpuid_fn)(u32 leaf, u32 sub, struct cpuid_regs *r);

/*
 * The low bits of an APIC ID that number the threads of one core (SDM 3A
 * 8.9, APM 3 CPUID Fn8000_001E): CPUs whose IDs agree above them are
 * siblings. 0 when CPUID shows one thread per core.
 */
u32 topology_smt_bits(topology_cpuid_fn ask);
