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

int svm_probe(struct virt_caps *caps);
int svm_cpu_enable(struct percpu *c, const struct virt_caps *caps);
void svm_cpu_disable(struct percpu *c);
void svm_vmrun(u64 *gpr, u64 vmcb_pa);
