/* VT-x backend internals shared by the files in hv/vmx/. */
#pragma once

#include "hv/vcpu/vcpu_ops.h"
#include "hv/vmx/logic.h"
#include "hv/vmx/vmcs.h"

/* Results of vmx_enter (hv/vmx/vmx_entry.asm takes them from hv/vmx/asm_defs.c). */
#define VMX_ENTER_EXITED 0	 /* the guest ran and a VM exit came back */
#define VMX_ENTER_FAIL_INVALID 1 /* VMfailInvalid: no current VMCS */
#define VMX_ENTER_FAIL_VALID 2	 /* VMfailValid: see the VM-instruction error */

/* struct vm_exit.raw when VMLAUNCH/VMRESUME failed: no exit reason exists
 * (basic reasons are 16 bits) */
#define VMX_RAW_VMFAIL 0xffffffffULL

/* Per vCPU (vcpu->vendor). */
struct vmx_vcpu {
	void *vmcs;
	u64 vmcs_pa;
	void *vapic; /* the virtual-APIC page: the guest's CR8 (VTPR) */
	u64 vapic_pa;
	bool launched; /* VMRESUME from now on */
	u64 host_rsp;  /* HOST_RSP as the entry stub last wrote it */
	u64 guest_rsp; /* GUEST_RSP as last read or written */
	u32 proc;      /* primary controls as in the VMCS (window exits) */
	u32 entry;     /* VM-entry controls as in the VMCS (IA-32e mode) */
	u64 eptp;
	u16 vpid;    /* 0: VPIDs not in use */
	bool exited; /* a VM exit happened (the exit fields mean something) */
	/* An event whose delivery the last exit interrupted (IDT-vectoring
	 * information, SDM 3C 28.2.4): delivered again at the next entry
	 * unless the core injects something else. */
	u32 reinject_info, reinject_error, reinject_len;
};

/* Per partition (partition->vendor): the default-deny bitmaps. */
struct vmx_part {
	u8 *msr_bitmap, *io_bitmap_a, *io_bitmap_b;
	u64 msr_bitmap_pa, io_bitmap_a_pa, io_bitmap_b_pa;
};

/* The backend's ops table (hv/vmx/vmx.c); only hv/virt.c names it. */
extern const struct vcpu_ops vmx_ops;

/* The controls and CR bits every VMCS uses (set by vmx_probe). */
extern struct vmx_config vmx_cfg;

/* hv/vmx/vmx_entry.asm */
u32 vmx_enter(u64 *gpr, u32 launched, u64 *host_rsp);
void vmx_exit_stub(void);
void vmx_unblock_nmi(void);

/* hv/vmx/vmcs_access.c: VMX instructions with their results checked. A
 * failed VMREAD/VMWRITE prints the field and the VM-instruction error. */
bool vmcs_write(u32 field, u64 val);
bool vmcs_read(u32 field, u64 *val);
/* For run-time paths, where a failure can only be a hypervisor bug: panic. */
/* Out of line: report a failed VMREAD/VMWRITE of field and stop (a failed
 * access of a field we own is a hypervisor bug). */
__noreturn void vmcs_access_failed(const char *insn, u32 field);

/* The hot-path accessors, inline: one VMREAD/VMWRITE and a branch
 * (SDM 3C 31.2: VMfailInvalid sets CF, VMfailValid ZF). */
static inline u64 vmcs_get(u32 field)
{
	u64 val;

	__asm__ goto("vmread %[field], %[val]\n\t"
		     "jbe %l[fail]"
		     : [val] "=r"(val)
		     : [field] "r"((u64)field)
		     : "cc"
		     : fail);
	return val;
fail:
	vmcs_access_failed("VMREAD", field);
}

static inline void vmcs_set(u32 field, u64 val)
{
	__asm__ goto("vmwrite %[val], %[field]\n\t"
		     "jbe %l[fail]"
		     :
		     : [field] "r"((u64)field), [val] "rm"(val)
		     : "cc", "memory"
		     : fail);
	return;
fail:
	vmcs_access_failed("VMWRITE", field);
}
/* The VM-instruction error of the last failed VMX instruction (0: none). */
u32 vmcs_insn_error(void);
bool vmx_vmclear(u64 pa);
bool vmx_vmptrld(u64 pa);
void vmx_invept(u64 type, u64 eptp);
void vmx_invvpid(u64 type, u16 vpid);

/* hv/vmx/setup.c */
int vmx_vcpu_init(struct vcpu *v);
void vmx_vcpu_reset(struct vcpu *v);
void vmx_flush_tlb(struct vcpu *v);

/* hv/vmx/part.c */
int vmx_part_init(struct partition *p);
void vmx_part_free(struct partition *p);
void vmx_set_msr_intercept(struct partition *p, u32 msr, bool read, bool write);
void vmx_set_io_intercept(struct partition *p, u16 port, bool intercept);

/* hv/vmx/state.c */
void vmx_load_state(struct vcpu *v, u32 mask);
void vmx_store_state(struct vcpu *v, u32 mask);

/* hv/vmx/run.c */
void vmx_run(struct vcpu *v, struct vm_exit *exit);
void vmx_apply(struct vcpu *v, const struct vm_exit *exit, const struct vm_apply *a);
void vmx_skip(struct vcpu *v, u32 len);
bool vmx_irq_injectable(struct vcpu *v);
bool vmx_nmi_injectable(struct vcpu *v);

/* hv/vmx/dump.c */
void vmx_dump(struct vcpu *v);
