/*
 * VT-x architectural numbers: VMCS field encodings (SDM 3D appendix B),
 * VM-execution, VM-exit and VM-entry control bits (SDM 3C 25.6-25.8),
 * capability MSR fields (SDM 3D appendix A), basic exit reasons (SDM 3D
 * appendix C) and the layouts of the exit information fields (SDM 3C 28.2).
 * Constants only: this header is shared by the pure code and its tests.
 */
#pragma once

#include "hv/lib/types.h"

/* --- VMCS field encodings (SDM 3D appendix B) -------------------------- */

/* 16-bit control fields (B.1.1) */
#define VMCS_VPID 0x0000

/* 16-bit guest-state fields (B.1.2): selectors, in enum vmx_seg order */
#define VMCS_GUEST_ES_SEL 0x0800
#define VMCS_GUEST_INTR_STATUS 0x0810

/* 16-bit host-state fields (B.1.3) */
#define VMCS_HOST_ES_SEL 0x0c00
#define VMCS_HOST_CS_SEL 0x0c02
#define VMCS_HOST_SS_SEL 0x0c04
#define VMCS_HOST_DS_SEL 0x0c06
#define VMCS_HOST_FS_SEL 0x0c08
#define VMCS_HOST_GS_SEL 0x0c0a
#define VMCS_HOST_TR_SEL 0x0c0c

/* 64-bit control fields (B.2.1) */
#define VMCS_IO_BITMAP_A 0x2000
#define VMCS_IO_BITMAP_B 0x2002
#define VMCS_MSR_BITMAP 0x2004
#define VMCS_EXIT_MSR_STORE_ADDR 0x2006
#define VMCS_EXIT_MSR_LOAD_ADDR 0x2008
#define VMCS_ENTRY_MSR_LOAD_ADDR 0x200a
#define VMCS_TSC_OFFSET 0x2010
#define VMCS_VIRTUAL_APIC_ADDR 0x2012
#define VMCS_EPT_POINTER 0x201a
#define VMCS_XSS_EXIT_BITMAP 0x202c

/* 64-bit read-only data field (B.2.2) */
#define VMCS_GUEST_PHYS_ADDR 0x2400

/* 64-bit guest-state fields (B.2.3) */
#define VMCS_LINK_POINTER 0x2800
#define VMCS_GUEST_DEBUGCTL 0x2802
#define VMCS_GUEST_PAT 0x2804
#define VMCS_GUEST_EFER 0x2806
#define VMCS_GUEST_PDPTE0 0x280a /* PDPTE n at 0x280a + 2 n */

/* 64-bit host-state fields (B.2.4) */
#define VMCS_HOST_PAT 0x2c00
#define VMCS_HOST_EFER 0x2c02

/* 32-bit control fields (B.3.1) */
#define VMCS_PIN_CTLS 0x4000
#define VMCS_PROC_CTLS 0x4002
#define VMCS_EXCEPTION_BITMAP 0x4004
#define VMCS_PF_ERROR_MASK 0x4006
#define VMCS_PF_ERROR_MATCH 0x4008
#define VMCS_CR3_TARGET_COUNT 0x400a
#define VMCS_EXIT_CTLS 0x400c
#define VMCS_EXIT_MSR_STORE_COUNT 0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT 0x4010
#define VMCS_ENTRY_CTLS 0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT 0x4014
#define VMCS_ENTRY_INTR_INFO 0x4016
#define VMCS_ENTRY_EXC_ERROR 0x4018
#define VMCS_ENTRY_INSN_LEN 0x401a
#define VMCS_TPR_THRESHOLD 0x401c
#define VMCS_PROC_CTLS2 0x401e

/* 32-bit read-only data fields (B.3.2) */
#define VMCS_INSN_ERROR 0x4400
#define VMCS_EXIT_REASON 0x4402
#define VMCS_EXIT_INTR_INFO 0x4404
#define VMCS_EXIT_INTR_ERROR 0x4406
#define VMCS_IDT_VECTORING_INFO 0x4408
#define VMCS_IDT_VECTORING_ERROR 0x440a
#define VMCS_EXIT_INSN_LEN 0x440c
#define VMCS_EXIT_INSN_INFO 0x440e

/* 32-bit guest-state fields (B.3.3): limits and access rights in enum
 * vmx_seg order */
#define VMCS_GUEST_ES_LIMIT 0x4800
#define VMCS_GUEST_GDTR_LIMIT 0x4810
#define VMCS_GUEST_IDTR_LIMIT 0x4812
#define VMCS_GUEST_ES_AR 0x4814
#define VMCS_GUEST_INTERRUPTIBILITY 0x4824
#define VMCS_GUEST_ACTIVITY 0x4826
#define VMCS_GUEST_SYSENTER_CS 0x482a

/* 32-bit host-state field (B.3.4) */
#define VMCS_HOST_SYSENTER_CS 0x4c00

/* Natural-width control fields (B.4.1) */
#define VMCS_CR0_MASK 0x6000
#define VMCS_CR4_MASK 0x6002
#define VMCS_CR0_SHADOW 0x6004
#define VMCS_CR4_SHADOW 0x6006

/* Natural-width read-only data fields (B.4.2) */
#define VMCS_EXIT_QUAL 0x6400
#define VMCS_GUEST_LINEAR_ADDR 0x640a

/* Natural-width guest-state fields (B.4.3): bases in enum vmx_seg order */
#define VMCS_GUEST_CR0 0x6800
#define VMCS_GUEST_CR3 0x6802
#define VMCS_GUEST_CR4 0x6804
#define VMCS_GUEST_ES_BASE 0x6806
#define VMCS_GUEST_GDTR_BASE 0x6816
#define VMCS_GUEST_IDTR_BASE 0x6818
#define VMCS_GUEST_DR7 0x681a
#define VMCS_GUEST_RSP 0x681c
#define VMCS_GUEST_RIP 0x681e
#define VMCS_GUEST_RFLAGS 0x6820
#define VMCS_GUEST_PENDING_DBG 0x6822
#define VMCS_GUEST_SYSENTER_ESP 0x6824
#define VMCS_GUEST_SYSENTER_EIP 0x6826

/* Natural-width host-state fields (B.4.4) */
#define VMCS_HOST_CR0 0x6c00
#define VMCS_HOST_CR3 0x6c02
#define VMCS_HOST_CR4 0x6c04
#define VMCS_HOST_FS_BASE 0x6c06
#define VMCS_HOST_GS_BASE 0x6c08
#define VMCS_HOST_TR_BASE 0x6c0a
#define VMCS_HOST_GDTR_BASE 0x6c0c
#define VMCS_HOST_IDTR_BASE 0x6c0e
#define VMCS_HOST_SYSENTER_ESP 0x6c10
#define VMCS_HOST_SYSENTER_EIP 0x6c12
#define VMCS_HOST_RSP 0x6c14
#define VMCS_HOST_RIP 0x6c16

/*
 * The guest segment registers in the order of their VMCS encodings: field
 * n of a kind is at the kind's ES encoding + 2 n (SDM 3D B.1.2, B.3.3, B.4.3).
 */
enum vmx_seg {
	VMX_SEG_ES,
	VMX_SEG_CS,
	VMX_SEG_SS,
	VMX_SEG_DS,
	VMX_SEG_FS,
	VMX_SEG_GS,
	VMX_SEG_LDTR,
	VMX_SEG_TR,
	VMX_SEG_COUNT
};
#define VMCS_SEG_STRIDE 2

/* --- VM-execution controls (SDM 3C 25.6) ------------------------------- */

/* Pin-based (25.6.1, table 25-5) */
#define PIN_EXT_INTR_EXITING BIT(0)
#define PIN_NMI_EXITING BIT(3)
#define PIN_VIRTUAL_NMIS BIT(5)
#define PIN_PREEMPTION_TIMER BIT(6)
#define PIN_POSTED_INTR BIT(7)

/* Primary processor-based (25.6.2, table 25-6) */
#define PROC_INTR_WINDOW_EXITING BIT(2)
#define PROC_TSC_OFFSETTING BIT(3)
#define PROC_HLT_EXITING BIT(7)
#define PROC_INVLPG_EXITING BIT(9)
#define PROC_MWAIT_EXITING BIT(10)
#define PROC_RDPMC_EXITING BIT(11)
#define PROC_RDTSC_EXITING BIT(12)
#define PROC_CR3_LOAD_EXITING BIT(15)
#define PROC_CR3_STORE_EXITING BIT(16)
#define PROC_CR8_LOAD_EXITING BIT(19)
#define PROC_CR8_STORE_EXITING BIT(20)
#define PROC_TPR_SHADOW BIT(21)
#define PROC_NMI_WINDOW_EXITING BIT(22)
#define PROC_MOV_DR_EXITING BIT(23)
#define PROC_UNCOND_IO_EXITING BIT(24)
#define PROC_USE_IO_BITMAPS BIT(25)
#define PROC_MONITOR_TRAP_FLAG BIT(27)
#define PROC_USE_MSR_BITMAPS BIT(28)
#define PROC_MONITOR_EXITING BIT(29)
#define PROC_PAUSE_EXITING BIT(30)
#define PROC_SECONDARY_CTLS BIT(31)

/* Secondary processor-based (25.6.2, table 25-7) */
#define PROC2_VIRT_APIC_ACCESS BIT(0)
#define PROC2_EPT BIT(1)
#define PROC2_DESC_TABLE_EXITING BIT(2)
#define PROC2_RDTSCP BIT(3)
#define PROC2_VIRT_X2APIC BIT(4)
#define PROC2_VPID BIT(5)
#define PROC2_WBINVD_EXITING BIT(6)
#define PROC2_UNRESTRICTED_GUEST BIT(7)
#define PROC2_PAUSE_LOOP_EXITING BIT(10)
#define PROC2_INVPCID BIT(12)
#define PROC2_VMFUNC BIT(13)
#define PROC2_PML BIT(17)
#define PROC2_EPT_VE BIT(18)
#define PROC2_XSAVES BIT(20)

/* VM-exit controls (25.7.1, table 25-13) */
#define EXIT_SAVE_DEBUG_CTLS BIT(2)
#define EXIT_HOST_ADDR_SPACE_SIZE BIT(9)
#define EXIT_LOAD_PERF_GLOBAL BIT(12)
#define EXIT_ACK_INTR_ON_EXIT BIT(15)
#define EXIT_SAVE_PAT BIT(18)
#define EXIT_LOAD_PAT BIT(19)
#define EXIT_SAVE_EFER BIT(20)
#define EXIT_LOAD_EFER BIT(21)
#define EXIT_SAVE_PREEMPTION_TIMER BIT(22)

/* VM-entry controls (25.8.1, table 25-15) */
#define ENTRY_LOAD_DEBUG_CTLS BIT(2)
#define ENTRY_IA32E_MODE_GUEST BIT(9)
#define ENTRY_TO_SMM BIT(10)
#define ENTRY_DEACT_DUAL_MONITOR BIT(11)
#define ENTRY_LOAD_PERF_GLOBAL BIT(13)
#define ENTRY_LOAD_PAT BIT(14)
#define ENTRY_LOAD_EFER BIT(15)

/* --- capability MSRs (SDM 3D appendix A) ------------------------------- */

/* The MSR numbers (SDM 4 table 2-2) */
#define MSR_IA32_VMX_BASIC 0x00000480
#define MSR_IA32_VMX_PINBASED_CTLS 0x00000481
#define MSR_IA32_VMX_PROCBASED_CTLS 0x00000482
#define MSR_IA32_VMX_EXIT_CTLS 0x00000483
#define MSR_IA32_VMX_ENTRY_CTLS 0x00000484
#define MSR_IA32_VMX_MISC 0x00000485
#define MSR_IA32_VMX_CR0_FIXED0 0x00000486
#define MSR_IA32_VMX_CR0_FIXED1 0x00000487
#define MSR_IA32_VMX_CR4_FIXED0 0x00000488
#define MSR_IA32_VMX_CR4_FIXED1 0x00000489
#define MSR_IA32_VMX_VMCS_ENUM 0x0000048a
#define MSR_IA32_VMX_PROCBASED_CTLS2 0x0000048b
#define MSR_IA32_VMX_EPT_VPID_CAP 0x0000048c
#define MSR_IA32_VMX_TRUE_PINBASED_CTLS 0x0000048d
#define MSR_IA32_VMX_TRUE_PROCBASED_CTLS 0x0000048e
#define MSR_IA32_VMX_TRUE_EXIT_CTLS 0x0000048f
#define MSR_IA32_VMX_TRUE_ENTRY_CTLS 0x00000490
#define MSR_IA32_VMX_VMFUNC 0x00000491

/* CPUID.1:ECX (SDM 2 table 3-10): the CPU has VMX */
#define CPUID_1_ECX_VMX BIT(5)

/* IA32_FEATURE_CONTROL (SDM 3C 24.7): VMXON is allowed in or outside SMX */
#define FEATURE_CONTROL_VMX_IN_SMX BIT(1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX BIT(2)

/* IA32_VMX_BASIC (A.1) */
#define VMX_BASIC_REVISION_MASK 0x7fffffffULL
#define VMX_BASIC_VMCS_SIZE_SHIFT 32
#define VMX_BASIC_VMCS_SIZE_MASK 0x1fffULL
#define VMX_BASIC_PHYS_32 BIT(48) /* VMX structures must lie below 4 GiB */
#define VMX_BASIC_MEMTYPE_SHIFT 50
#define VMX_BASIC_MEMTYPE_MASK 0xfULL
#define VMX_BASIC_MEMTYPE_WB 6
#define VMX_BASIC_TRUE_CTLS BIT(55)

/* IA32_VMX_MISC (A.6) */
#define VMX_MISC_ENTRY_LEN_0 BIT(30) /* VM entry allows instruction length 0 */

/* IA32_VMX_EPT_VPID_CAP (A.10) */
#define VMX_EPT_WALK_4 BIT(6)
#define VMX_EPT_WB BIT(14)
#define VMX_EPT_2M BIT(16)
#define VMX_EPT_1G BIT(17)
#define VMX_EPT_INVEPT BIT(20)
#define VMX_EPT_AD BIT(21)
#define VMX_EPT_INVEPT_SINGLE BIT(25)
#define VMX_EPT_INVEPT_GLOBAL BIT(26)
#define VMX_VPID_INVVPID BIT(32)
#define VMX_VPID_INVVPID_SINGLE BIT(41)
#define VMX_VPID_INVVPID_ALL BIT(42)

/* INVEPT / INVVPID types (SDM 3C 30.3, INVEPT and INVVPID) */
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_GLOBAL 2
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXT 2

/* --- guest non-register state (SDM 3C 25.4.2) --------------------------- */

/* Interruptibility state (table 25-3) */
#define INTR_BLOCK_STI BIT(0)
#define INTR_BLOCK_MOV_SS BIT(1)
#define INTR_BLOCK_SMI BIT(2)
#define INTR_BLOCK_NMI BIT(3)

/* Activity state */
#define ACTIVITY_ACTIVE 0
#define ACTIVITY_HLT 1
#define ACTIVITY_SHUTDOWN 2
#define ACTIVITY_WAIT_SIPI 3

/* Pending debug exceptions (table 25-4): BS, a single step is pending */
#define PENDING_DBG_BS BIT(14)

/* The VMCS link pointer when no shadow VMCS is used (25.4.2) */
#define VMCS_LINK_NONE (~0ULL)

/* Segment access rights (25.4.1, table 25-2): the AMD attribute layout with
 * bits 11:8 moved to 15:12, and "unusable" in bit 16. */
#define VMX_AR_LOW_MASK 0xffU /* type, S, DPL, P: same as the attributes */
#define VMX_AR_HIGH_SHIFT 4   /* AVL, L, D/B, G: attribute bits 11:8 */
#define VMX_AR_HIGH_MASK 0xf000U
#define VMX_AR_UNUSABLE BIT(16)

/* --- event information fields (SDM 3C 25.8.3, 25.9.2, 25.9.3) ----------- */

#define INTR_INFO_VECTOR_MASK 0xffU
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_INFO_TYPE_MASK (7U << INTR_INFO_TYPE_SHIFT)
#define INTR_INFO_ERROR_VALID BIT(11)
#define INTR_INFO_NMI_UNBLOCK BIT(12) /* exit info: NMI unblocking by IRET */
#define INTR_INFO_VALID BIT(31)

enum vmx_intr_type {
	INTR_TYPE_EXT_INTR = 0,
	INTR_TYPE_NMI = 2,
	INTR_TYPE_HW_EXCEPTION = 3,
	INTR_TYPE_SOFT_INTR = 4,
	INTR_TYPE_PRIV_SOFT_EXC = 5,
	INTR_TYPE_SOFT_EXC = 6,
	INTR_TYPE_OTHER = 7,
};

/* --- exit reason field (SDM 3C 25.9.1) ---------------------------------- */

#define EXIT_REASON_BASIC_MASK 0xffffU
#define EXIT_REASON_ENTRY_FAIL BIT(31)

/* Basic exit reasons (SDM 3D appendix C, table C-1) */
enum vmx_exit_basic {
	VMX_EXIT_EXCEPTION_NMI = 0,
	VMX_EXIT_EXT_INTR = 1,
	VMX_EXIT_TRIPLE_FAULT = 2,
	VMX_EXIT_INIT = 3,
	VMX_EXIT_SIPI = 4,
	VMX_EXIT_IO_SMI = 5,
	VMX_EXIT_OTHER_SMI = 6,
	VMX_EXIT_INTR_WINDOW = 7,
	VMX_EXIT_NMI_WINDOW = 8,
	VMX_EXIT_TASK_SWITCH = 9,
	VMX_EXIT_CPUID = 10,
	VMX_EXIT_GETSEC = 11,
	VMX_EXIT_HLT = 12,
	VMX_EXIT_INVD = 13,
	VMX_EXIT_INVLPG = 14,
	VMX_EXIT_RDPMC = 15,
	VMX_EXIT_RDTSC = 16,
	VMX_EXIT_RSM = 17,
	VMX_EXIT_VMCALL = 18,
	VMX_EXIT_VMCLEAR = 19,
	VMX_EXIT_VMLAUNCH = 20,
	VMX_EXIT_VMPTRLD = 21,
	VMX_EXIT_VMPTRST = 22,
	VMX_EXIT_VMREAD = 23,
	VMX_EXIT_VMRESUME = 24,
	VMX_EXIT_VMWRITE = 25,
	VMX_EXIT_VMXOFF = 26,
	VMX_EXIT_VMXON = 27,
	VMX_EXIT_CR_ACCESS = 28,
	VMX_EXIT_MOV_DR = 29,
	VMX_EXIT_IO = 30,
	VMX_EXIT_RDMSR = 31,
	VMX_EXIT_WRMSR = 32,
	VMX_EXIT_INVALID_GUEST_STATE = 33,
	VMX_EXIT_MSR_LOADING = 34,
	VMX_EXIT_MWAIT = 36,
	VMX_EXIT_MONITOR_TRAP_FLAG = 37,
	VMX_EXIT_MONITOR = 39,
	VMX_EXIT_PAUSE = 40,
	VMX_EXIT_MACHINE_CHECK = 41,
	VMX_EXIT_TPR_BELOW_THRESHOLD = 43,
	VMX_EXIT_APIC_ACCESS = 44,
	VMX_EXIT_VIRTUALIZED_EOI = 45,
	VMX_EXIT_GDTR_IDTR = 46,
	VMX_EXIT_LDTR_TR = 47,
	VMX_EXIT_EPT_VIOLATION = 48,
	VMX_EXIT_EPT_MISCONFIG = 49,
	VMX_EXIT_INVEPT = 50,
	VMX_EXIT_RDTSCP = 51,
	VMX_EXIT_PREEMPTION_TIMER = 52,
	VMX_EXIT_INVVPID = 53,
	VMX_EXIT_WBINVD = 54,
	VMX_EXIT_XSETBV = 55,
	VMX_EXIT_APIC_WRITE = 56,
	VMX_EXIT_RDRAND = 57,
	VMX_EXIT_INVPCID = 58,
	VMX_EXIT_VMFUNC = 59,
	VMX_EXIT_ENCLS = 60,
	VMX_EXIT_RDSEED = 61,
	VMX_EXIT_PML_FULL = 62,
	VMX_EXIT_XSAVES = 63,
	VMX_EXIT_XRSTORS = 64,
	VMX_EXIT_PCONFIG = 65,
	VMX_EXIT_SPP = 66,
	VMX_EXIT_UMWAIT = 67,
	VMX_EXIT_TPAUSE = 68,
	VMX_EXIT_LOADIWKEY = 69,
	VMX_EXIT_ENCLV = 70,
	VMX_EXIT_ENQCMD_PASID = 72,
	VMX_EXIT_ENQCMDS_PASID = 73,
	VMX_EXIT_BUS_LOCK = 74,
	VMX_EXIT_NOTIFY = 75,
	VMX_EXIT_SEAMCALL = 76,
	VMX_EXIT_TDCALL = 77,
	VMX_EXIT_RDMSRLIST = 78,
	VMX_EXIT_WRMSRLIST = 79,
	VMX_EXIT_BASIC_COUNT
};

/* --- exit qualifications (SDM 3C 28.2.1) -------------------------------- */

/* Control-register accesses (table 28-3) */
#define CR_QUAL_CR_MASK 0xfULL
#define CR_QUAL_TYPE_SHIFT 4
#define CR_QUAL_TYPE_MASK 3ULL
#define CR_QUAL_LMSW_MEM BIT(6)
#define CR_QUAL_GPR_SHIFT 8
#define CR_QUAL_GPR_MASK 0xfULL
#define CR_QUAL_LMSW_SRC_SHIFT 16
#define CR_QUAL_LMSW_SRC_MASK 0xffffULL

/* I/O instructions (table 28-5) */
#define IO_QUAL_SIZE_MASK 7ULL /* 0: 1 byte, 1: 2 bytes, 3: 4 bytes */
#define IO_QUAL_IN BIT(3)
#define IO_QUAL_STRING BIT(4)
#define IO_QUAL_REP BIT(5)
#define IO_QUAL_IMMEDIATE BIT(6)
#define IO_QUAL_PORT_SHIFT 16
#define IO_QUAL_PORT_MASK 0xffffULL

/* EPT violations (table 28-7) */
#define EPT_QUAL_READ BIT(0)
#define EPT_QUAL_WRITE BIT(1)
#define EPT_QUAL_FETCH BIT(2)
#define EPT_QUAL_READABLE BIT(3)
#define EPT_QUAL_WRITABLE BIT(4)
#define EPT_QUAL_EXECUTABLE BIT(5)
#define EPT_QUAL_USER_EXECUTABLE BIT(6)
#define EPT_QUAL_GLA_VALID BIT(7)
#define EPT_QUAL_NMI_UNBLOCK BIT(12)

/* Start-up IPI (table 28-1): the SIPI vector in bits 7:0 */
#define SIPI_QUAL_VECTOR_MASK 0xffULL

/* Failed VM entries with exit reason 33 (SDM 3C 27.8): bits of the
 * qualification */
#define ENTRY_FAIL_QUAL_PDPTE 2
#define ENTRY_FAIL_QUAL_NMI 3
#define ENTRY_FAIL_QUAL_LINK 4

/* VM-instruction error numbers (SDM 3C 31.4, table 31-1) worth naming */
#define VMX_ERR_LAUNCH_NOT_CLEAR 4
#define VMX_ERR_RESUME_NOT_LAUNCHED 5
#define VMX_ERR_ENTRY_BAD_CTLS 7
#define VMX_ERR_ENTRY_BAD_HOST 8
#define VMX_ERR_UNSUPPORTED_FIELD 12
#define VMX_ERR_READ_ONLY_FIELD 13
#define VMX_ERR_ENTRY_MOV_SS 26
#define VMX_ERR_INVEPT_INVALID 28
