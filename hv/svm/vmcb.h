/*
 * AMD-V architectural numbers: the VMCB (AMD APM vol. 2, appendix B), SVM
 * exit codes (appendix C), the SVM MSRs (15.30) and its CPUID bit.
 */
#pragma once

#include "hv/lib/types.h"

struct vmcb_seg {
	u16 sel;
	u16 attr;
	u32 limit;
	u64 base;
} __packed;

struct vmcb_control {
	u32 intercept_cr;    /* 0x000: reads 15:0, writes 31:16 */
	u32 intercept_dr;    /* 0x004 */
	u32 intercept_exc;   /* 0x008 */
	u32 intercept_misc1; /* 0x00c */
	u32 intercept_misc2; /* 0x010 */
	u32 intercept_misc3; /* 0x014 */
	u8 reserved1[0x03c - 0x018];
	u16 pause_filter_thresh; /* 0x03c */
	u16 pause_filter_count;	 /* 0x03e */
	u64 iopm_base_pa;	 /* 0x040 */
	u64 msrpm_base_pa;	 /* 0x048 */
	u64 tsc_offset;		 /* 0x050 */
	u32 asid;		 /* 0x058 */
	u8 tlb_control;		 /* 0x05c */
	u8 reserved2[3];
	u64 vintr;	 /* 0x060 */
	u64 int_state;	 /* 0x068: interrupt shadow */
	u64 exitcode;	 /* 0x070 */
	u64 exitinfo1;	 /* 0x078 */
	u64 exitinfo2;	 /* 0x080 */
	u64 exitintinfo; /* 0x088 */
	u64 np_control;	 /* 0x090 */
	u64 avic_bar;	 /* 0x098 */
	u64 ghcb_pa;	 /* 0x0a0 */
	u64 eventinj;	 /* 0x0a8 */
	u64 ncr3;	 /* 0x0b0 */
	u64 virt_ext;	 /* 0x0b8 */
	u32 clean;	 /* 0x0c0 */
	u32 reserved3;
	u64 nrip;    /* 0x0c8 */
	u8 insn_len; /* 0x0d0 */
	u8 insn_bytes[15];
	u8 reserved4[0x400 - 0x0e0];
} __packed;

struct vmcb_save {
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400 */
	u8 reserved1[0x4cb - 0x4a0];
	u8 cpl; /* 0x4cb */
	u32 reserved2;
	u64 efer; /* 0x4d0 */
	u8 reserved3[0x548 - 0x4d8];
	u64 cr4; /* 0x548 */
	u64 cr3;
	u64 cr0;
	u64 dr7;
	u64 dr6;
	u64 rflags;
	u64 rip; /* 0x578 */
	u8 reserved4[0x5d8 - 0x580];
	u64 rsp; /* 0x5d8 */
	u64 s_cet, ssp, isst_addr;
	u64 rax; /* 0x5f8 */
	u64 star, lstar, cstar, sfmask, kernel_gs_base;
	u64 sysenter_cs, sysenter_esp, sysenter_eip;
	u64 cr2; /* 0x640 */
	u8 reserved5[0x668 - 0x648];
	u64 g_pat; /* 0x668 */
	u64 dbgctl;
	u8 reserved6[0x1000 - 0x678];
} __packed;

struct vmcb {
	struct vmcb_control ctl;
	struct vmcb_save save;
} __packed;

_Static_assert(sizeof(struct vmcb) == 4096, "VMCB is one page");
_Static_assert(__builtin_offsetof(struct vmcb, save.cpl) == 0x4cb, "VMCB CPL");
_Static_assert(__builtin_offsetof(struct vmcb, save.efer) == 0x4d0, "VMCB EFER");
_Static_assert(__builtin_offsetof(struct vmcb, save.cr4) == 0x548, "VMCB CR4");
_Static_assert(__builtin_offsetof(struct vmcb, save.rip) == 0x578, "VMCB RIP");
_Static_assert(__builtin_offsetof(struct vmcb, save.rsp) == 0x5d8, "VMCB RSP");
_Static_assert(__builtin_offsetof(struct vmcb, save.rax) == 0x5f8, "VMCB RAX");
_Static_assert(__builtin_offsetof(struct vmcb, save.cr2) == 0x640, "VMCB CR2");
_Static_assert(__builtin_offsetof(struct vmcb, save.g_pat) == 0x668, "VMCB G_PAT");
_Static_assert(__builtin_offsetof(struct vmcb, ctl.nrip) == 0x0c8, "VMCB nRIP");

/* intercept_misc1 (vector 3, APM 2 15.9-15.13) */
#define SVM_INTERCEPT_INTR BIT(0)
#define SVM_INTERCEPT_NMI BIT(1)
#define SVM_INTERCEPT_SMI BIT(2)
#define SVM_INTERCEPT_INIT BIT(3)
#define SVM_INTERCEPT_VINTR BIT(4)
#define SVM_INTERCEPT_RDPMC BIT(15)
#define SVM_INTERCEPT_CPUID BIT(18)
#define SVM_INTERCEPT_RSM BIT(19)
#define SVM_INTERCEPT_IRET BIT(20)
#define SVM_INTERCEPT_INVD BIT(22)
#define SVM_INTERCEPT_PAUSE BIT(23)
#define SVM_INTERCEPT_HLT BIT(24)
#define SVM_INTERCEPT_INVLPGA BIT(26)
#define SVM_INTERCEPT_IOIO BIT(27)
#define SVM_INTERCEPT_MSR BIT(28)
#define SVM_INTERCEPT_TASK_SWITCH BIT(29)
#define SVM_INTERCEPT_SHUTDOWN BIT(31)
/* intercept_misc2 (vector 4) */
#define SVM_INTERCEPT_VMRUN BIT(0)
#define SVM_INTERCEPT_VMMCALL BIT(1)
#define SVM_INTERCEPT_VMLOAD BIT(2)
#define SVM_INTERCEPT_VMSAVE BIT(3)
#define SVM_INTERCEPT_STGI BIT(4)
#define SVM_INTERCEPT_CLGI BIT(5)
#define SVM_INTERCEPT_SKINIT BIT(6)
#define SVM_INTERCEPT_ICEBP BIT(8)
#define SVM_INTERCEPT_WBINVD BIT(9)
#define SVM_INTERCEPT_MONITOR BIT(10)
#define SVM_INTERCEPT_MWAIT BIT(11)
#define SVM_INTERCEPT_MWAIT_COND BIT(12)
#define SVM_INTERCEPT_XSETBV BIT(13)
#define SVM_INTERCEPT_RDPRU BIT(14)

/* vintr (APM 2 15.21.1) */
#define SVM_VINTR_V_IRQ BIT(8)
#define SVM_VINTR_V_IGN_TPR BIT(20)
#define SVM_VINTR_MASKING BIT(24)
#define SVM_VINTR_PRIO_SHIFT 16
#define SVM_INT_STATE_SHADOW BIT(0)

#define SVM_NP_ENABLE BIT(0)

/* tlb_control (APM 2 15.16.1) */
#define SVM_TLB_NONE 0
#define SVM_TLB_FLUSH_ALL 1
#define SVM_TLB_FLUSH_ASID 3

/* eventinj / exitintinfo (APM 2 15.20) */
#define SVM_EVT_VECTOR_MASK 0xff
#define SVM_EVT_TYPE_SHIFT 8
#define SVM_EVT_TYPE_MASK 7
#define SVM_EVT_TYPE_INTR 0
#define SVM_EVT_TYPE_NMI 2
#define SVM_EVT_TYPE_EXC 3
#define SVM_EVT_TYPE_SOFT 4
#define SVM_EVT_ERR_VALID BIT(11)
#define SVM_EVT_VALID BIT(31)
#define SVM_EVT_ERR_SHIFT 32

/* IOIO EXITINFO1 (APM 2 15.10.2) */
#define SVM_IOIO_IN BIT(0)
#define SVM_IOIO_STR BIT(2)
#define SVM_IOIO_REP BIT(3)
#define SVM_IOIO_SZ8 BIT(4)
#define SVM_IOIO_SZ16 BIT(5)
#define SVM_IOIO_SZ32 BIT(6)
#define SVM_IOIO_PORT_SHIFT 16

/* NPF EXITINFO1: a #PF error code (APM 2 15.25.6) */
#define SVM_NPF_P BIT(0)
#define SVM_NPF_W BIT(1)
#define SVM_NPF_ID BIT(4)

/* Exit codes (APM 2 appendix C) */
#define SVM_EXIT_READ_CR0 0x000
#define SVM_EXIT_WRITE_CR0 0x010
#define SVM_EXIT_EXCP_BASE 0x040 /* + vector, 0-31 */
#define SVM_EXIT_EXCP_COUNT 32
#define SVM_EXIT_INTR 0x060
#define SVM_EXIT_NMI 0x061
#define SVM_EXIT_SMI 0x062
#define SVM_EXIT_INIT 0x063
#define SVM_EXIT_VINTR 0x064
#define SVM_EXIT_RDPMC 0x06f
#define SVM_EXIT_CPUID 0x072
#define SVM_EXIT_RSM 0x073
#define SVM_EXIT_IRET 0x074
#define SVM_EXIT_INVD 0x076
#define SVM_EXIT_PAUSE 0x077
#define SVM_EXIT_HLT 0x078
#define SVM_EXIT_INVLPGA 0x07a
#define SVM_EXIT_IOIO 0x07b
#define SVM_EXIT_MSR 0x07c
#define SVM_EXIT_TASK_SWITCH 0x07d
#define SVM_EXIT_SHUTDOWN 0x07f
#define SVM_EXIT_VMRUN 0x080
#define SVM_EXIT_VMMCALL 0x081
#define SVM_EXIT_VMLOAD 0x082
#define SVM_EXIT_VMSAVE 0x083
#define SVM_EXIT_STGI 0x084
#define SVM_EXIT_CLGI 0x085
#define SVM_EXIT_SKINIT 0x086
#define SVM_EXIT_RDTSCP 0x087
#define SVM_EXIT_ICEBP 0x088
#define SVM_EXIT_WBINVD 0x089
#define SVM_EXIT_MONITOR 0x08a
#define SVM_EXIT_MWAIT 0x08b
#define SVM_EXIT_MWAIT_COND 0x08c
#define SVM_EXIT_XSETBV 0x08d
#define SVM_EXIT_RDPRU 0x08e
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xffffffffU /* compare the low 32 bits (QEMU) */

/* CPUID Fn8000_0001_ECX (APM 3 appendix E.4.2): the CPU has SVM */
#define CPUID_EXT_ECX_SVM BIT(2)

/* SVM MSRs (APM 2 15.30) */
#define MSR_AMD_VM_CR 0xc0010114       /* 15.30.1 */
#define MSR_AMD_VM_HSAVE_PA 0xc0010117 /* 15.30.4 */
#define AMD_VM_CR_SVMDIS BIT(4)	       /* SVM disabled: EFER.SVME cannot be set */
