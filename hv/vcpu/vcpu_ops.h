/*
 * The vendor contract (STYLE.md): the core reaches VT-x or AMD-V only through
 * this table. hv/vmx/ and hv/svm/ each fill one with designated initialisers;
 * hv/virt.c chooses the backend once at boot from CPUID, and hv/virt.h is
 * what the core includes to reach it.
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vcpu/vm_exit.h"

struct percpu;
struct partition;
struct slat_format;

/*
 * The guest exceptions every backend intercepts (vectors as bits, SDM 3A
 * 6.3.1): #AC and #DB, whose delivery can raise the same exception again
 * without end and without an instruction boundary where an interrupt or
 * NMI would get in (CVE-2015-5307, CVE-2015-8104). Intercepted, each round
 * is an exit, so the vCPU stays stoppable; the core reflects them. (Used
 * where hv/hw/x86.h names the vectors.)
 */
#define VCPU_EXC_INTERCEPTED (BIT(X86_EXC_DB) | BIT(X86_EXC_AC))

/*
 * What the vendor backend found on the boot CPU, in neutral terms: the core
 * asks these questions and never looks at a vendor's capability bits, which
 * stay in the backend.
 */
struct virt_caps {
	const char *vendor; /* display name: "VT-x" | "AMD-V" */
	const char *slat;   /* display name of the second-level tables: "EPT" | "NPT" */
	bool usable;	    /* everything a partition needs is there */
	char reason[96];    /* when !usable: why Tessera cannot run partitions */
	bool slat_1g;	    /* 1 GiB pages in the second-level table */
};

/*
 * Every slot is filled and every function slot is called by the core
 * (tests/unit/test_tables.py checks both). Per-vCPU slots run on the
 * physical CPU the vCPU is pinned to (its VMCS is current there).
 */
struct vcpu_ops {
	const char *name;
	/* the second-level table format: EPT or NPT (hv/ept/slat.h) */
	const struct slat_format *slat_fmt;

	/* Detects the features on the boot CPU and prints them. */
	int (*probe)(struct virt_caps *caps);
	/* Turns the vendor's virtualization on on the calling CPU (its
	 * per-CPU pages belong to the backend). */
	int (*cpu_enable)(struct percpu *c);

	/* Per partition: I/O and MSR intercept bitmaps (all intercepted at
	 * first: default deny), the VPID/ASID. part_init frees what it
	 * allocated when it fails; part_free undoes a part_init that succeeded
	 * (when building the partition fails later). */
	int (*part_init)(struct partition *p);
	void (*part_free)(struct partition *p);
	void (*set_msr_intercept)(struct partition *p, u32 msr, bool read, bool write);
	void (*set_io_intercept)(struct partition *p, u16 port, bool intercept);

	/* Per vCPU: control structures, host state, controls, SLAT root. The
	 * guest state is then set by the core with store_state(VS_ALL). On
	 * failure it frees what it allocated and leaves v->vendor NULL; on
	 * success the vCPU keeps its structures for good (a restart reuses
	 * them through vcpu_reset). */
	int (*vcpu_init)(struct vcpu *v);
	/* Drops pending injections and flushes the vCPU's TLB (INIT, restart). */
	void (*vcpu_reset)(struct vcpu *v);
	/* Enters the guest; on exit syncs gpr[] and decodes into *exit. */
	void (*run)(struct vcpu *v, struct vm_exit *exit);
	/* Before the next entry: skip the instruction, inject, open windows. */
	void (*apply)(struct vcpu *v, const struct vm_exit *exit, const struct vm_apply *a);
	/* apply() with only skip_insn, for the common case: past the exiting
	 * instruction of LEN bytes, no event, no window. */
	void (*skip)(struct vcpu *v, u32 len);
	/* vcpu->state <-> the VMCS/VMCB, for the VS_* bits in mask. */
	void (*load_state)(struct vcpu *v, u32 mask);
	void (*store_state)(struct vcpu *v, u32 mask);
	/* Whether an external interrupt could be injected now (RFLAGS.IF, no
	 * interrupt shadow, nothing already being injected or delivered
	 * again). */
	bool (*irq_injectable)(struct vcpu *v);
	/* Whether an NMI could be injected now: NMIs are not blocked (by the
	 * last NMI injected, until the guest's IRET: SDM 3A 6.7.1), no
	 * interrupt shadow, nothing being injected or delivered again. When
	 * not, apply() with nmi_window asks for an exit as soon as it can. */
	bool (*nmi_injectable)(struct vcpu *v);
	void (*flush_tlb)(struct vcpu *v);
	/* Prints the vendor's view of the vCPU (VMCS fields, VMCB). */
	void (*dump)(struct vcpu *v);
};
