/*
 * AMD-V backend internals shared by the files in hv/svm/: the pure logic
 * (logic.h: exit decode, VMCB accessors, state, permission maps) and the
 * half that runs SVM instructions (svm.c: probe and enable; svm_vcpu.c:
 * allocation, VMRUN, the ops table; svm_entry.asm).
 */
#pragma once

#include "hv/svm/logic.h"
#include "hv/svm/vmcb.h"
#include "hv/vcpu/vcpu_ops.h"

/* What CPUID Fn8000_000A says the CPU has (set by svm_probe). */
struct svm_caps {
	bool npt, nrip_save, decode_assists, flush_by_asid;
	u32 vmcb_clean; /* the clean bits after an exit: VMCB_CLEAN_ALL, or 0 without them */
	u32 asid_count;
};
extern struct svm_caps svm_caps;

/* The backend's ops table (hv/svm/svm_vcpu.c); only hv/virt.c names it. */
extern const struct vcpu_ops svm_ops;

int svm_probe(struct virt_caps *caps);
int svm_cpu_enable(struct percpu *c);
/* hv/svm/svm_entry.asm */
void svm_vmrun(u64 *gpr, u64 vmcb_pa);
