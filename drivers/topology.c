/* Hyperthread siblings, from CPUID (see drivers/topology.h). */
#include "drivers/topology.h"
#include "hv/hw/cpuid.h"

/* Bits to number n threads. */
static u32 bits_for(u32 n)
{
	u32 bits = 0;

	while ((1U << bits) < n)
		bits++;
	return bits;
}

u32 topology_smt_bits(topology_cpuid_fn ask)
{
	static const u32 leaves[] = { CPUID_TOPO_V2_LEAF, CPUID_TOPO_LEAF };
	struct cpuid_regs r;
	u32 max;

	/* SDM 3A 8.9.2: leaf 1Fh when valid, else 0Bh; their subleaf 0 is
	 * the SMT level, and EAX its width in the x2APIC ID */
	ask(CPUID_VENDOR_LEAF, 0, &r);
	max = r.eax;
	for (u32 i = 0; i < ARRAY_SIZE(leaves); i++) {
		if (max < leaves[i])
			continue;
		ask(leaves[i], 0, &r);
		if (r.ebx && ((r.ecx >> CPUID_TOPO_ECX_TYPE_SHIFT) & CPUID_TOPO_ECX_TYPE_MASK) ==
				     CPUID_TOPO_TYPE_SMT)
			return r.eax & CPUID_TOPO_EAX_SHIFT_MASK;
	}
	/* AMD without leaf 0Bh: threads per core from Fn8000_001E (TOPOEXT) */
	ask(CPUID_EXT_LEAF, 0, &r);
	if (r.eax < CPUID_AMD_TOPO_LEAF)
		return 0;
	ask(CPUID_EXT_FEATURES, 0, &r);
	if (!(r.ecx & CPUID_EXT_ECX_TOPOEXT))
		return 0;
	ask(CPUID_AMD_TOPO_LEAF, 0, &r);
	return bits_for(
		((r.ebx >> CPUID_AMD_TOPO_EBX_THREADS_SHIFT) & CPUID_AMD_TOPO_EBX_THREADS_MASK) +
		1);
}
