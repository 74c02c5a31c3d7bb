/*
 * The neutral VM exit (STYLE.md: vendors decode, the core decides). Each
 * backend turns its exit into a struct vm_exit; hv/vcpu/exit.c dispatches
 * on the reason through a table that covers every value.
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/vcpu/vcpu.h"

enum vm_exit_reason {
	VMEXIT_NONE = 0,    /* nothing for the core (e.g. handled in the backend) */
	VMEXIT_EXT_INTR,    /* a host interrupt arrived: look at vcpu requests */
	VMEXIT_NMI,	    /* a host NMI arrived */
	VMEXIT_INTR_WINDOW, /* the guest can take an interrupt now */
	VMEXIT_NMI_WINDOW,
	VMEXIT_CPUID,
	VMEXIT_HLT,
	VMEXIT_IO,
	VMEXIT_MSR_READ,
	VMEXIT_MSR_WRITE,
	VMEXIT_CR_ACCESS,
	VMEXIT_XSETBV,
	VMEXIT_SLAT_FAULT,     /* EPT violation / nested page fault */
	VMEXIT_SLAT_MISCONFIG, /* a bad second-level entry: a hypervisor bug */
	VMEXIT_EXCEPTION,      /* an intercepted guest exception */
	VMEXIT_HYPERCALL,      /* VMCALL / VMMCALL */
	VMEXIT_VIRT_INSN,      /* a VMX/SVM instruction: #UD for the guest */
	VMEXIT_UD_INSN,	       /* other intercepted instructions that must #UD
				   (MONITOR, MWAIT, ...) */
	VMEXIT_INVD,	       /* INVD/WBINVD: nothing to do, skip */
	VMEXIT_PAUSE,
	VMEXIT_RDTSCP,
	VMEXIT_RDPMC,
	VMEXIT_INIT,	      /* INIT signal */
	VMEXIT_SIPI,	      /* startup IPI while waiting for one (VT-x) */
	VMEXIT_TRIPLE_FAULT,  /* shutdown */
	VMEXIT_INVALID_STATE, /* entry failed on guest state: guest-caused */
	VMEXIT_ENTRY_FAIL,    /* entry failed on controls/host state: our bug */
	VMEXIT_UNHANDLED,     /* a vendor exit with no neutral meaning */
	VMEXIT_REASON_COUNT
};

/* Access kinds of an I/O or memory exit */
#define EXIT_ACCESS_READ BIT(0)
#define EXIT_ACCESS_WRITE BIT(1)
#define EXIT_ACCESS_EXEC BIT(2)

/* CR access kinds */
enum cr_access_type {
	CR_ACCESS_MOV_TO = 0,
	CR_ACCESS_MOV_FROM,
	CR_ACCESS_CLTS,
	CR_ACCESS_LMSW,
};

struct vm_exit {
	u32 reason;   /* enum vm_exit_reason */
	u64 raw;      /* the vendor's exit code, for logs */
	u64 qual;     /* the vendor's qualification / EXITINFO1, for logs */
	u32 insn_len; /* of the exiting instruction, when known (else 0) */
	/* The event whose delivery the exit interrupted (type EVENT_NONE: none;
	 * SDM 3C 28.2.4, APM 2 15.7.2), set only when insn_len is 0: an
	 * instruction's own exit interrupts no delivery. The backend delivers
	 * it again at the next entry unless apply() injects another event in
	 * its place: the core then decides what becomes of it (hv/vcpu/exit.c
	 * exit_inject). */
	struct vcpu_event vectoring;
	union {
		struct {
			u16 port;
			u8 size; /* 1, 2 or 4 */
			bool in;
			bool string;
			bool rep;
		} io;
		struct {
			u64 gpa;
			u64 gla; /* when gla_valid */
			bool gla_valid;
			u8 access;    /* EXIT_ACCESS_* */
			bool present; /* a mapping existed but forbade the access */
		} slat;
		struct {
			u32 index;
		} msr;
		struct {
			u8 cr;	      /* 0, 3, 4, 8 */
			u8 gpr;	      /* enum gpr, for MOV */
			u8 type;      /* enum cr_access_type */
			u16 lmsw_src; /* LMSW source operand */
		} cr;
		struct {
			u8 vector;
			bool has_error;
			u32 error_code;
			u64 cr2; /* for #PF */
		} exc;
		struct {
			u8 vector;
		} sipi;
		struct {
			u32 code; /* the entry-failure qualification */
		} fail;
	};
};

/* What a handler tells the vCPU loop (hv/vcpu/exit.c). */
enum exit_action {
	EXIT_RESUME = 0, /* enter the guest again */
	EXIT_HALT,	 /* park until something is pending */
	EXIT_STOP,	 /* the partition stops (poweroff, fatal + on_crash=stop) */
	EXIT_CRASH,	 /* fatal guest error: on_crash decides */
	EXIT_REBOOT,	 /* guest reset request: on_reboot decides */
};

/* The reason's name for logs and statistics; "unknown" out of range. */
const char *vm_exit_name(u32 reason);
