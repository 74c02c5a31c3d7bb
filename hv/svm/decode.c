/*
 * AMD-V exit decoding: the tables behind svm_decode_exit (hv/svm/logic.h,
 * inline there: it runs on every exit). Vendors decode, the core decides
 * (STYLE.md): the exit codes of APM 2 appendix C that have a fixed neutral
 * reason are listed here; the rest is decoded from EXITINFO1/2 or is
 * VMEXIT_UNHANDLED. Unit-tested on the host (tests/unit/test_svm.c).
 */
#include "hv/svm/logic.h"

/* The plain encodings of the instructions the guest continues after (SDM 2
 * appendix A): their lengths when the CPU has no next-RIP save. */
#define LEN_CPUID 2
#define LEN_HLT 1
#define LEN_MSR 2
#define LEN_VMMCALL 3
#define LEN_XSETBV 3
#define LEN_INVD 2
#define LEN_PAUSE 2
#define LEN_RDPMC 2

/* clang-format off */
#define NOT_INSN { 0, { 0 } }
/* clang-format on */

const struct svm_exit_simple svm_simple_exits[SVM_SIMPLE_EXIT_COUNT] = {
	/* the frequent ones first: the lookup is linear */
	{ SVM_EXIT_CPUID, VMEXIT_CPUID, { LEN_CPUID, { 0x0f, 0xa2 } } },
	{ SVM_EXIT_INTR, VMEXIT_EXT_INTR, NOT_INSN },
	{ SVM_EXIT_VINTR, VMEXIT_INTR_WINDOW, NOT_INSN },
	{ SVM_EXIT_HLT, VMEXIT_HLT, { LEN_HLT, { 0xf4 } } },
	{ SVM_EXIT_VMMCALL, VMEXIT_HYPERCALL, { LEN_VMMCALL, { 0x0f, 0x01, 0xd9 } } },
	{ SVM_EXIT_XSETBV, VMEXIT_XSETBV, { LEN_XSETBV, { 0x0f, 0x01, 0xd1 } } },
	{ SVM_EXIT_INVD, VMEXIT_INVD, { LEN_INVD, { 0x0f, 0x08 } } },
	{ SVM_EXIT_WBINVD, VMEXIT_INVD, { LEN_INVD, { 0x0f, 0x09 } } },
	{ SVM_EXIT_PAUSE, VMEXIT_PAUSE, { LEN_PAUSE, { 0xf3, 0x90 } } },
	{ SVM_EXIT_RDPMC, VMEXIT_RDPMC, { LEN_RDPMC, { 0x0f, 0x33 } } },
	{ SVM_EXIT_VMRUN, VMEXIT_VIRT_INSN, NOT_INSN },
	{ SVM_EXIT_VMLOAD, VMEXIT_VIRT_INSN, NOT_INSN },
	{ SVM_EXIT_VMSAVE, VMEXIT_VIRT_INSN, NOT_INSN },
	{ SVM_EXIT_STGI, VMEXIT_VIRT_INSN, NOT_INSN },
	{ SVM_EXIT_CLGI, VMEXIT_VIRT_INSN, NOT_INSN },
	{ SVM_EXIT_SKINIT, VMEXIT_VIRT_INSN, NOT_INSN },
	{ SVM_EXIT_INVLPGA, VMEXIT_VIRT_INSN, NOT_INSN },
	{ SVM_EXIT_MONITOR, VMEXIT_UD_INSN, NOT_INSN },
	{ SVM_EXIT_MWAIT, VMEXIT_UD_INSN, NOT_INSN },
	{ SVM_EXIT_MWAIT_COND, VMEXIT_UD_INSN, NOT_INSN },
	{ SVM_EXIT_RDPRU, VMEXIT_UD_INSN, NOT_INSN },
	{ SVM_EXIT_RSM, VMEXIT_UD_INSN, NOT_INSN },
	{ SVM_EXIT_SHUTDOWN, VMEXIT_TRIPLE_FAULT, NOT_INSN },
	{ SVM_EXIT_INIT, VMEXIT_INIT, NOT_INSN },
	{ SVM_EXIT_NMI, VMEXIT_NMI, NOT_INSN },
};

const struct svm_insn svm_insn_rdmsr = { LEN_MSR, { 0x0f, 0x32 } };
const struct svm_insn svm_insn_wrmsr = { LEN_MSR, { 0x0f, 0x30 } };
