/*
 * Choosing the vendor backend at run time (one image for Intel and AMD):
 * the only file outside hv/vmx/ and hv/svm/ that names them.
 */
#include "hv/virt.h"
#include "hv/console/console.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/svm/svm.h"
#include "hv/vmx/vmx.h"

const struct vcpu_ops *vcpu_ops;
struct virt_caps virt_caps;

bool virt_probe(void)
{
	bool svm = cpuid(CPUID_EXT_LEAF).eax >= CPUID_EXT_FEATURES &&
		   (cpuid(CPUID_EXT_FEATURES).ecx & CPUID_EXT_ECX_SVM);

	if (cpuid(1).ecx & CPUID_1_ECX_VMX)
		vcpu_ops = &vmx_ops;
	else if (svm)
		vcpu_ops = &svm_ops;
	if (!vcpu_ops) {
		snprintf(virt_caps.reason, sizeof(virt_caps.reason),
			 "the CPU has neither VT-x nor AMD-V");
		return false;
	}
	if (vcpu_ops->probe(&virt_caps))
		virt_caps.usable = false;
	return virt_caps.usable;
}
