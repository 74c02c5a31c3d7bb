/*
 * Architectural model-specific registers: numbers and bits (SDM 4 chapter 2,
 * table 2-2 "IA-32 Architectural MSRs"; AMD APM 2 appendix A). rdmsr() and
 * wrmsr() are in hv/hw/x86.h.
 */
#pragma once

#include "hv/lib/types.h"

#define MSR_IA32_TSC 0x00000010
#define MSR_IA32_APIC_BASE 0x0000001b
#define MSR_IA32_FEATURE_CONTROL 0x0000003a
#define MSR_IA32_TSC_ADJUST 0x0000003b
#define MSR_IA32_SPEC_CTRL 0x00000048
#define MSR_IA32_PRED_CMD 0x00000049
#define MSR_IA32_BIOS_SIGN_ID 0x0000008b
#define MSR_IA32_MTRRCAP 0x000000fe
#define MSR_IA32_ARCH_CAPABILITIES 0x0000010a
#define MSR_IA32_SYSENTER_CS 0x00000174
#define MSR_IA32_SYSENTER_ESP 0x00000175
#define MSR_IA32_SYSENTER_EIP 0x00000176
#define MSR_IA32_MCG_CAP 0x00000179
#define MSR_IA32_MCG_STATUS 0x0000017a
#define MSR_IA32_MISC_ENABLE 0x000001a0
#define MSR_IA32_PAT 0x00000277
#define MSR_IA32_MTRR_DEF_TYPE 0x000002ff
#define MSR_IA32_TSC_DEADLINE 0x000006e0
#define MSR_X2APIC_BASE 0x00000800 /* + xAPIC register offset / 16 (SDM 3A 11.12.1.2) */
#define MSR_IA32_EFER 0xc0000080
#define MSR_IA32_STAR 0xc0000081
#define MSR_IA32_LSTAR 0xc0000082
#define MSR_IA32_CSTAR 0xc0000083
#define MSR_IA32_FMASK 0xc0000084
#define MSR_IA32_FS_BASE 0xc0000100
#define MSR_IA32_GS_BASE 0xc0000101
#define MSR_IA32_KERNEL_GS_BASE 0xc0000102
#define MSR_IA32_TSC_AUX 0xc0000103
#define MSR_AMD_PERF_CTL0 0xc0010000 /* PerfEvtSel0-3, then PerfCtr0-3 (APM 2 13.2.1) */
#define MSR_AMD_PERF_CTR0 0xc0010004
#define MSR_AMD_HWCR 0xc0010015	  /* hardware configuration (APM 2 appendix A) */
#define MSR_AMD_NB_CFG 0xc001001f /* AMD BKDG family 10h; Linux sets its CF8 extended-config bit */

/* IA32_FEATURE_CONTROL (SDM 3C 24.7); its VMX enable bits are in hv/vmx/vmcs.h */
#define FEATURE_CONTROL_LOCKED BIT(0)

/* IA32_MISC_ENABLE (SDM 4 table 2-2) */
#define MISC_ENABLE_FAST_STRING BIT(0)
#define MISC_ENABLE_TCC BIT(3) /* automatic thermal control circuit */
#define MISC_ENABLE_PERF_MON BIT(7)
#define MISC_ENABLE_BTS_UNAVAIL BIT(11)
#define MISC_ENABLE_PEBS_UNAVAIL BIT(12)
#define MISC_ENABLE_LIMIT_CPUID BIT(22) /* CPUID leaf 0 EAX reads at most 2 */
#define MISC_ENABLE_LIMIT_CPUID_MAX 2
#define MISC_ENABLE_XD_DISABLE BIT(34)

/* The legacy performance counters of AMD64 (APM 2 13.2.1): 4, 48 bits wide;
 * PerfEvtSel bits 19, 21, 39:36 and 63:42 are reserved */
#define AMD_PERF_COUNTERS 4
#define AMD_PERF_CTR_MASK ((1ULL << 48) - 1)
#define AMD_PERF_CTL_RESERVED (BIT(19) | BIT(21) | (0xfULL << 36) | (~0ULL << 42))

/* IA32_PAT (SDM 3A 12.12.2): eight entries of one byte, a memory type in
 * bits 2:0 of each, types 2 and 3 reserved, bits 7:3 reserved */
#define PAT_ENTRIES 8
#define PAT_ENTRY_TYPE_MASK 0x7
#define PAT_TYPE_RESERVED_2 2
#define PAT_TYPE_RESERVED_3 3

/* IA32_EFER (SDM 3A 2.2.1; APM 2 3.1.7) */
#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)
#define EFER_SVME BIT(12)

/* IA32_APIC_BASE (SDM 3A 11.4.4): the base is bits MAXPHYADDR-1:12 */
#define APIC_BASE_BSP BIT(8)
#define APIC_BASE_EXTD BIT(10) /* x2APIC mode */
#define APIC_BASE_EN BIT(11)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ULL
