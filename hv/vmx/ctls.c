/*
 * The VMX controls Tessera runs guests with, computed from the capability
 * MSRs (SDM 3D appendix A). Pure: the MSR values come in a struct, so the
 * policy is unit-tested with the values of real and emulated CPUs.
 */
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/vmx/logic.h"
#include "hv/vmx/vmcs.h"

/* SDM 3D A.3-A.5: bits 31:0 are the allowed-0 settings (a 1 there means
 * the control must be 1), bits 63:32 the allowed-1 settings. */
bool vmx_ctl_compute(u64 cap, u32 required, u32 optional, u32 *out, u32 *missing)
{
	u32 must1 = (u32)cap;
	u32 may1 = (u32)(cap >> 32);

	*missing = required & ~may1;
	*out = must1 | required | (optional & may1);
	return !*missing;
}

/*
 * Pin-based: host interrupts and NMIs always leave the guest; virtual NMIs,
 * so that the CPU tracks the guest's NMI blocking from an injected NMI to
 * its IRET and NMI-window exiting exists (SDM 3C 25.6.1, 26.6.1; every CPU
 * with unrestricted guest has them).
 */
#define PIN_REQUIRED (PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS)

/*
 * Primary: HLT parks the vCPU in the core; MONITOR/MWAIT are not offered
 * (PLATFORMS.md) and exit to become #UD. MOV CR8 reads and writes the TPR
 * shadow in the vCPU's virtual-APIC page, never the real TPR and without an
 * exit (SDM 3C 26.3, 30.3; as V_TPR on AMD-V). I/O and MSR accesses go
 * through the default-deny bitmaps.
 * CR3 accesses, RDTSC, INVLPG and MOV DR stay with the guest (EPT;
 * the TSC is passed through; the core hides the PMU in CPUID). The window
 * exits are switched per entry by apply().
 */
#define PROC_REQUIRED                                                                     \
	(PROC_HLT_EXITING | PROC_MWAIT_EXITING | PROC_MONITOR_EXITING | PROC_TPR_SHADOW | \
	 PROC_RDPMC_EXITING | PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_SECONDARY_CTLS)

/* Secondary: EPT and real mode without tricks; WBINVD exits, as INVD
 * always does, so that no partition flushes the caches its neighbours share
 * (docs/virtual-cpu.md). The instructions a guest may use without #UD only
 * when enabled (25.6.2, table 25-7) when the CPU lets us; VPID when INVVPID
 * can flush it. */
#define PROC2_REQUIRED (PROC2_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_WBINVD_EXITING)
#define PROC2_OPTIONAL (PROC2_RDTSCP | PROC2_INVPCID | PROC2_XSAVES)

/* Exit: a 64-bit host; the host vector comes with the exit; EFER, PAT and
 * DR7/DEBUGCTL switch with the VMCS (DR7 would else read 400H after an exit,
 * SDM 3C 28.5.1). */
#define EXIT_REQUIRED                                                                        \
	(EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_PAT | EXIT_LOAD_PAT | \
	 EXIT_SAVE_EFER | EXIT_LOAD_EFER | EXIT_SAVE_DEBUG_CTLS)

/* Entry: the guest's EFER, PAT and DR7/DEBUGCTL; IA-32e mode guest follows
 * EFER.LMA at run time, so it must be allowed but starts clear. */
#define ENTRY_REQUIRED (ENTRY_LOAD_PAT | ENTRY_LOAD_EFER | ENTRY_LOAD_DEBUG_CTLS)

/*
 * CR bits the guest owns: its writes go straight to the real register and
 * its reads see it. Every other bit (PE, PG, PAE, the fixed bits, reserved
 * bits, the CR4 features the core may hide) exits on a write that changes
 * it, and reads from the shadow (SDM 3C 25.6.6, 26.3).
 */
#define CR0_GUEST_OWNED (CR0_MP | CR0_EM | CR0_TS | CR0_ET | CR0_WP | CR0_AM | CR0_NW | CR0_CD)
#define CR4_GUEST_OWNED \
	(CR4_PVI | CR4_TSD | CR4_DE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT | CR4_PGE)

static bool ctl(const char *what, u64 cap, u32 required, u32 optional, u32 *out, char *why,
		size_t why_len)
{
	u32 missing;

	if (vmx_ctl_compute(cap, required, optional, out, &missing))
		return true;
	snprintf(why, why_len, "VT-x lacks %s control(s) %#x", what, missing);
	return false;
}

static int check_basic(const struct vmx_msrs *m, char *why, size_t why_len)
{
	u64 size = (m->basic >> VMX_BASIC_VMCS_SIZE_SHIFT) & VMX_BASIC_VMCS_SIZE_MASK;
	u64 type = (m->basic >> VMX_BASIC_MEMTYPE_SHIFT) & VMX_BASIC_MEMTYPE_MASK;

	if (size > PAGE_SIZE) {
		snprintf(why, why_len, "VT-x VMCS of %lu bytes (more than a page)",
			 (unsigned long)size);
		return -E_NOSUPP;
	}
	if (type != VMX_BASIC_MEMTYPE_WB) {
		snprintf(why, why_len, "VT-x VMCS memory type %lu (not write-back)",
			 (unsigned long)type);
		return -E_NOSUPP;
	}
	if (m->basic & VMX_BASIC_PHYS_32) {
		snprintf(why, why_len, "VT-x limited to 32-bit physical addresses");
		return -E_NOSUPP;
	}
	return 0;
}

static int check_ept(const struct vmx_msrs *m, char *why, size_t why_len)
{
	u64 need = VMX_EPT_WALK_4 | VMX_EPT_WB | VMX_EPT_INVEPT;

	if ((m->ept_vpid & need) != need ||
	    !(m->ept_vpid & (VMX_EPT_INVEPT_SINGLE | VMX_EPT_INVEPT_GLOBAL))) {
		snprintf(why, why_len, "EPT without 4-level walks, write-back tables or INVEPT");
		return -E_NOSUPP;
	}
	return 0;
}

static void cr_bits(const struct vmx_msrs *m, struct vmx_config *c)
{
	/* SDM 3D A.7: with unrestricted guest, PE and PG may be 0 */
	c->cr0_must1 = m->cr0_fixed0 & ~(u64)(CR0_PE | CR0_PG);
	c->cr0_may1 = m->cr0_fixed1;
	c->cr0_mask = ~(CR0_GUEST_OWNED & c->cr0_may1 & ~c->cr0_must1);
	/* SDM 3D A.8: VMXE is among the fixed-1 bits; the shadow hides it */
	c->cr4_must1 = m->cr4_fixed0;
	c->cr4_may1 = m->cr4_fixed1;
	c->cr4_mask = ~(CR4_GUEST_OWNED & c->cr4_may1 & ~c->cr4_must1);
}

int vmx_config_compute(const struct vmx_msrs *m, struct vmx_config *c, char *why, size_t why_len)
{
	u32 proc2_opt = PROC2_OPTIONAL;
	int err;

	memset(c, 0, sizeof(*c));
	err = check_basic(m, why, why_len);
	if (!err)
		err = check_ept(m, why, why_len);
	if (err)
		return err;
	c->vpid = vmx_ctl_allowed(m->proc2, PROC2_VPID) && (m->ept_vpid & VMX_VPID_INVVPID) &&
		  (m->ept_vpid & (VMX_VPID_INVVPID_SINGLE | VMX_VPID_INVVPID_ALL));
	if (c->vpid)
		proc2_opt |= PROC2_VPID;

	if (!ctl("pin-based", m->pin, PIN_REQUIRED, 0, &c->pin, why, why_len) ||
	    !ctl("processor-based", m->proc,
		 PROC_REQUIRED | PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING, 0, &c->proc,
		 why, why_len) ||
	    !ctl("secondary", m->proc2, PROC2_REQUIRED, proc2_opt, &c->proc2, why, why_len) ||
	    !ctl("VM-exit", m->exit, EXIT_REQUIRED, 0, &c->exit, why, why_len) ||
	    !ctl("VM-entry", m->entry, ENTRY_REQUIRED | ENTRY_IA32E_MODE_GUEST, 0, &c->entry, why,
		 why_len))
		return -E_NOSUPP;
	/* checked above, switched at run time */
	c->proc &= ~(u32)(PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING);
	c->entry &= ~(u32)ENTRY_IA32E_MODE_GUEST;

	c->revision = (u32)(m->basic & VMX_BASIC_REVISION_MASK);
	c->ept_1g = m->ept_vpid & VMX_EPT_1G;
	c->ept_ad = m->ept_vpid & VMX_EPT_AD;
	c->invept_single = m->ept_vpid & VMX_EPT_INVEPT_SINGLE;
	c->invvpid_single = m->ept_vpid & VMX_VPID_INVVPID_SINGLE;
	c->entry_len_0 = m->misc & VMX_MISC_ENTRY_LEN_0;
	cr_bits(m, c);
	return 0;
}
