/* AMD-V: feature probe and SVM enable on each CPU (AMD APM vol. 2, ch. 15). */
#include "hv/console/console.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/cpu/percpu.h"
#include "hv/svm/svm.h"
#include "hv/vcpu/vcpu_ops.h"
#include "hv/hw/x86.h"

#define CPUID_SVM_LEAF 0x8000000a
/* CPUID Fn8000_000A_EDX (APM 3, appendix E.4.9) */
#define SVM_FEAT_NPT BIT(0)
#define SVM_FEAT_NRIPS BIT(3)
#define SVM_FEAT_VMCB_CLEAN BIT(5)
#define SVM_FEAT_FLUSH_BY_ASID BIT(6)
#define SVM_FEAT_DECODE_ASSISTS BIT(7)

static const char *yes_no(bool b)
{
	return b ? "yes" : "no";
}

/* VM_CR.SVMDIS: firmware turned SVM off (APM 2 15.4). Some implementations
 * (Bochs) have no VM_CR at all: then nothing disabled SVM. */
static bool svm_disabled(void)
{
	u64 vm_cr;

	return !rdmsr_safe(MSR_AMD_VM_CR, &vm_cr) && (vm_cr & AMD_VM_CR_SVMDIS);
}

int svm_probe(struct virt_caps *caps)
{
	struct cpuid_regs r = cpuid(CPUID_SVM_LEAF);

	caps->vendor = "AMD-V";
	caps->slat = "NPT";
	caps->npt = r.edx & SVM_FEAT_NPT;
	caps->nrip_save = r.edx & SVM_FEAT_NRIPS;
	caps->vmcb_clean = r.edx & SVM_FEAT_VMCB_CLEAN;
	caps->flush_by_asid = r.edx & SVM_FEAT_FLUSH_BY_ASID;
	caps->decode_assists = r.edx & SVM_FEAT_DECODE_ASSISTS;
	caps->asid_count = r.ebx;
	pr_info("svm: AMD-V, NPT %s, next-RIP save %s, decode assists %s, "
		"flush-by-ASID %s\n",
		yes_no(caps->npt), yes_no(caps->nrip_save),
		yes_no(caps->decode_assists), yes_no(caps->flush_by_asid));

	if (svm_disabled()) {
		snprintf(caps->reason, sizeof(caps->reason),
			 "AMD-V is disabled by the firmware (VM_CR.SVMDIS)");
		return -E_NOSUPP;
	}
	if (!caps->npt) {
		snprintf(caps->reason, sizeof(caps->reason), "AMD-V without NPT");
		return -E_NOSUPP;
	}
	caps->usable = true;
	return 0;
}

/* APM 2 15.4 (enabling SVM) and 15.30.4 (VM_HSAVE_PA) */
int svm_cpu_enable(struct percpu *c, const struct virt_caps *caps)
{
	(void)caps;
	if (svm_disabled())
		return -E_NOSUPP;
	if (!c->hsave_pa) {
		void *hsave = mm_alloc_page();

		if (!hsave)
			return -E_NOMEM;
		c->hsave_pa = virt_to_phys(hsave);
	}
	wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_SVME);
	wrmsr(MSR_AMD_VM_HSAVE_PA, c->hsave_pa);
	return 0;
}

void svm_cpu_disable(struct percpu *c)
{
	(void)c;
	wrmsr(MSR_AMD_VM_HSAVE_PA, 0);
	wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) & ~EFER_SVME);
}
