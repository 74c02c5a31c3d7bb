/*
 * CPUID leaves and the fields of them that are read by name (SDM 2A "CPUID";
 * AMD APM 3 appendix E). cpuid() and cpuid_count() are in hv/hw/x86.h.
 */
#pragma once

#include "hv/lib/types.h"

#define CPUID_VENDOR_LEAF 0x00000000 /* EAX: highest basic leaf */
/* Leaf 0 EBX, the first four characters of the vendor string */
#define CPUID_VENDOR_AMD_EBX 0x68747541	  /* "Auth"enticAMD */
#define CPUID_VENDOR_HYGON_EBX 0x6f677948 /* "Hygo"nGenuine */
#define CPUID_FEATURES_LEAF 0x00000001
#define CPUID_TOPO_LEAF 0x0000000b    /* extended topology enumeration */
#define CPUID_TOPO_V2_LEAF 0x0000001f /* its V2, preferred when valid */
#define CPUID_XSAVE_LEAF 0x0000000d   /* subleaf 0: XCR0's supported bits */
#define CPUID_TSC_LEAF 0x00000015     /* TSC / core crystal clock ratio */
#define CPUID_FREQ_LEAF 0x00000016    /* processor frequency information */
#define CPUID_HV_BASE_LEAF 0x40000000 /* up to 0x4fffffff: never a CPU's, left to hypervisors */
#define CPUID_EXT_LEAF 0x80000000     /* EAX: highest extended leaf */
#define CPUID_EXT_FEATURES 0x80000001
#define CPUID_ADDR_SIZES 0x80000008
#define CPUID_AMD_TOPO_LEAF 0x8000001e /* AMD: compute unit / core identifiers */

/* Leaf 1 */
#define CPUID_1_EBX_COUNT_SHIFT 16 /* logical processors per package */
#define CPUID_1_EBX_COUNT_MASK 0xff
#define CPUID_1_EBX_APIC_ID_SHIFT 24 /* initial APIC ID */
#define CPUID_1_ECX_MONITOR BIT(3)
#define CPUID_1_ECX_X2APIC BIT(21)
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)
#define CPUID_1_ECX_XSAVE BIT(26)
#define CPUID_1_ECX_AVX BIT(28)
#define CPUID_1_ECX_HYPERVISOR BIT(31) /* set by hypervisors, 0 on hardware */
#define CPUID_1_EDX_APIC BIT(9)	       /* a local APIC, enabled (IA32_APIC_BASE.EN) */
#define CPUID_1_EDX_HTT BIT(28)	       /* the EBX count is valid */

/* Leaves 0xb and 0x1f, per sub-leaf (level) */
#define CPUID_TOPO_EAX_SHIFT_MASK 0x1f	 /* APIC ID bits below the next level */
#define CPUID_TOPO_EBX_COUNT_MASK 0xffff /* logical processors at this level */
#define CPUID_TOPO_ECX_TYPE_SHIFT 8
#define CPUID_TOPO_ECX_TYPE_MASK 0xff
#define CPUID_TOPO_TYPE_SMT 1
#define CPUID_TOPO_TYPE_CORE 2

/* Leaf 0x16 */
#define CPUID_FREQ_EAX_MHZ_MASK 0xffff /* base frequency */

/* Leaf 0x80000001 */
#define CPUID_EXT_ECX_TOPOEXT BIT(22) /* AMD: leaf 0x8000001e */
#define CPUID_EXT_EDX_NX BIT(20)
#define CPUID_EXT_EDX_PAGE1GB BIT(26)
#define CPUID_EXT_EDX_RDTSCP BIT(27)
#define CPUID_EXT_EDX_LM BIT(29) /* 64-bit mode */

/* Leaf 0x80000008 */
#define CPUID_ADDR_SIZES_EAX_PHYS_MASK 0xff /* MAXPHYADDR */
#define CPUID_ADDR_SIZES_ECX_NC_MASK 0xff   /* AMD: cores - 1 (APM 3 E.4.7) */

/* Leaf 0x8000001e (APM 3 appendix E, Fn8000_001E): EBX 15:8 threads per core - 1 */
#define CPUID_AMD_TOPO_EBX_THREADS_SHIFT 8
#define CPUID_AMD_TOPO_EBX_THREADS_MASK 0xff
