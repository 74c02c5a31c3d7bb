/*
 * The VT-x backend's pure logic: no VMX instruction, no MSR access, no
 * allocation. Control words from capability MSR values, exit decoding from
 * raw exit fields, segment attribute conversion, event encoding, intercept
 * bitmaps. Unit-tested on the host (tests/unit/test_vmx.c).
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vcpu/vm_exit.h"
#include "hv/vmx/vmcs.h"

/* --- control words (SDM 3D A.3-A.5, A.7, A.8) --------------------------- */

/*
 * A control word from its capability MSR: the low half has the bits that
 * must be 1 (allowed-0 settings), the high half the bits that may be 1
 * (allowed-1 settings). Every `required` bit is set and every allowed
 * `optional` bit; the default-1 bits are kept. Returns false, with the
 * required bits the CPU does not allow in *missing, when one is missing.
 */
bool vmx_ctl_compute(u64 cap, u32 required, u32 optional, u32 *out, u32 *missing);

/* Whether the capability MSR allows bit(s) `bits` to be 1. */
static inline bool vmx_ctl_allowed(u64 cap, u32 bits)
{
	return ((u32)(cap >> 32) & bits) == bits;
}

/*
 * The capability MSRs as read on the boot CPU. pin, proc, exit and entry
 * come from the IA32_VMX_TRUE_* MSRs when IA32_VMX_BASIC bit 55 is set, else
 * from the plain ones (SDM 3D A.2). proc2 is 0 when the CPU has no
 * secondary controls, ept_vpid 0 when it has neither EPT nor VPID.
 */
struct vmx_msrs {
	u64 basic;
	u64 pin, proc, proc2, exit, entry;
	u64 misc;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid;
};

/* What every VMCS on this machine is set up with. */
struct vmx_config {
	u32 revision; /* VMCS revision identifier (SDM 3D A.1) */
	bool ept_1g;  /* 1 GiB EPT pages (SDM 3D A.10) */
	/* control words, with the window exits and IA-32e mode guest off */
	u32 pin, proc, proc2, exit, entry;
	bool vpid;	     /* VPIDs and a way to invalidate them */
	bool ept_ad;	     /* accessed/dirty flags in EPT */
	bool invept_single;  /* else INVEPT global */
	bool invvpid_single; /* else INVVPID all-context */
	bool entry_len_0;    /* VM entry accepts instruction length 0 */
	/* CR0/CR4 as the CPU runs the guest: real = (guest | must1) & may1;
	 * the bits in mask exit on a guest write and read from the shadow. */
	u64 cr0_must1, cr0_may1, cr0_mask;
	u64 cr4_must1, cr4_may1, cr4_mask;
};

/*
 * Chooses the controls Tessera runs guests with. Returns 0, or -E_NOSUPP
 * with a one-line reason in why (e.g. "VM-exit control(s) 0x8000 not
 * allowed") when the CPU lacks a control the backend cannot do without.
 */
int vmx_config_compute(const struct vmx_msrs *m, struct vmx_config *c, char *why, size_t why_len);

/* The guest's CR0/CR4 as the CPU runs it, and as the guest sees it. */
static inline u64 vmx_cr_real(u64 guest, u64 must1, u64 may1)
{
	return (guest | must1) & may1;
}

static inline u64 vmx_cr_guest_view(u64 real, u64 shadow, u64 mask)
{
	return (real & ~mask) | (shadow & mask);
}

/* --- segments (SDM 3C 25.4.1, table 25-2) -------------------------------- */

/* AMD-layout attributes (hv/vcpu/vcpu.h) -> VMX access rights; P clear means
 * unusable (the other bits are kept: SS.DPL is the CPL even then). */
u32 vmx_ar_from_attr(u16 attr);
/* VMX access rights -> attributes; an unusable segment reads with P clear. */
u16 vmx_attr_from_ar(u32 ar);
/*
 * VM entry wants TR usable and busy: a 16-bit or 32/64-bit busy TSS, and
 * the latter in IA-32e mode (SDM 3C 27.3.1.2). A processor at reset, or
 * one that enters long mode without LTR, has TR as it was; hardware only
 * looks at it on a task switch. Returns ar made acceptable.
 */
u32 vmx_tr_ar_fixup(u32 ar, bool ia32e);

/* --- exits (SDM 3C 28.2, SDM 3D appendix C) ------------------------------ */

/* What an exit reason tells of the other exit fields */
#define EXIT_INSN BIT(0)   /* the VM-exit instruction length is valid (28.2.5) */
#define EXIT_QUAL BIT(1)   /* the exit qualification means something (28.2.1) */
#define EXIT_NO_RSP BIT(2) /* its handling never looks at the guest's RSP */

struct vmx_exit_desc {
	u8 reason; /* enum vm_exit_reason */
	u8 flags;  /* EXIT_* */
	const char *name;
};
extern const struct vmx_exit_desc vmx_exit_table[VMX_EXIT_BASIC_COUNT];
extern const struct vmx_exit_desc vmx_exit_unknown;

/* The description of a basic exit reason; reasons with no neutral meaning
 * (and unknown ones) are VMEXIT_UNHANDLED. */
static inline const struct vmx_exit_desc *vmx_exit_desc(u32 basic)
{
	if (basic >= VMX_EXIT_BASIC_COUNT || !vmx_exit_table[basic].name)
		return &vmx_exit_unknown;
	return &vmx_exit_table[basic];
}

/* The neutral reason of a basic exit reason, and whether the VM-exit
 * instruction-length field is valid for it. */
static inline u32 vmx_exit_neutral(u32 basic, bool *insn_len_valid)
{
	const struct vmx_exit_desc *d = vmx_exit_desc(basic);

	*insn_len_valid = d->flags & EXIT_INSN;
	return d->reason;
}
/* A name for logs ("EPT violation"), "unknown" outside the table. */
const char *vmx_exit_name(u32 basic);

/* Control-register access qualification (table 28-3) -> e->cr. */
void vmx_decode_cr(u64 qual, struct vm_exit *e);
/* I/O instruction qualification (table 28-5) -> e->io. */
void vmx_decode_io(u64 qual, struct vm_exit *e);
/* EPT violation qualification (table 28-7) -> e->slat access, present,
 * gla_valid (the caller fills gpa and gla from the VMCS). */
void vmx_decode_ept(u64 qual, struct vm_exit *e);
/* Exit or IDT-vectoring interruption information (25.9.2) -> e->exc. */
void vmx_decode_intr_info(u32 info, u32 error_code, struct vm_exit *e);
/* IDT-vectoring information (28.2.4) -> the neutral event it describes
 * (EVENT_NONE when not valid). */
void vmx_decode_vectoring(u32 info, u32 error_code, struct vcpu_event *ev);
/*
 * DR6 after a #DB whose exit qualification is qual (28.2.1, table 28-1):
 * a #DB that exits leaves DR6 alone (28.1); its delivery would have
 * replaced B0-B3, added BD and BS and cleared the active-low RTM bit when
 * the qualification sets it (SDM 3A 17.2.3).
 */
u64 vmx_dr6_after_db(u64 dr6, u64 qual);

/* --- events (SDM 3C 25.8.3, 27.6) --------------------------------------- */

/* Whether a hardware exception pushes an error code in protected mode
 * (SDM 3A 6.3.1, table 6-1). */
bool vmx_exc_has_error(u8 vector);
/*
 * The VM-entry interruption-information field for ev (0 for EVENT_NONE).
 * The deliver-error-code bit follows SDM 3C 27.2.1.3: set exactly for
 * hardware exceptions that have one, and only in protected mode (pe).
 */
u32 vmx_event_info(const struct vcpu_event *ev, bool pe);

/* --- intercept bitmaps (SDM 3C 25.6.4, 25.6.9) --------------------------- */

#define VMX_MSR_BITMAP_SIZE 4096
#define VMX_IO_BITMAP_SIZE 4096 /* each of A (ports 0-7fff) and B (8000-ffff) */

/* Sets or clears the read and write intercepts of msr; MSRs outside the two
 * ranges the bitmap covers always exit and are ignored here. */
void vmx_msr_bitmap_set(u8 *bitmap, u32 msr, bool read, bool write);
void vmx_io_bitmap_set(u8 *a, u8 *b, u16 port, bool intercept);

/* A name for a VM-instruction error number (SDM 3C 31.4), for logs. */
const char *vmx_insn_error_name(u32 err);
