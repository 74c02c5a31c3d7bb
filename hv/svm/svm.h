/* AMD-V backend internals shared by the files in hv/svm/. */
#pragma once

#include "hv/svm/vmcb.h"
#include "hv/vcpu/vcpu_ops.h"

struct svm_vcpu {
	struct vmcb *vmcb;
	u64 vmcb_pa;
	u64 host_save_pa; /* VMSAVE/VMLOAD area for the host's hidden state */
	u8 *host_save;
};

struct svm_part {
	u8 *iopm, *msrpm;
	u64 iopm_pa, msrpm_pa;
};

/* What CPUID Fn8000_000A says the CPU has (set by svm_probe). */
struct svm_caps {
	bool npt, nrip_save, decode_assists, flush_by_asid, vmcb_clean;
	u32 asid_count;
};
extern struct svm_caps svm_caps;

/* The backend's ops table (hv/svm/svm_vcpu.c); only hv/virt.c names it. */
extern const struct vcpu_ops svm_ops;

int svm_probe(struct virt_caps *caps);
int svm_cpu_enable(struct percpu *c);
void svm_vmrun(u64 *gpr, u64 vmcb_pa);
