/* AMD-V: feature probe and SVM enable on each CPU (AMD APM vol. 2, ch. 15). */
#include "hv/svm/svm.h"
#include "hv/console/console.h"
#include "hv/cpu/percpu.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/vcpu/vcpu_ops.h"

#define CPUID_SVM_LEAF 0x8000000a
/* CPUID Fn8000_000A_EDX (APM 3, appendix E.4.9) */
#define SVM_FEAT_NPT BIT(0)
#define SVM_FEAT_NRIPS BIT(3)
#define SVM_FEAT_VMCB_CLEAN BIT(5)
#define SVM_FEAT_FLUSH_BY_ASID BIT(6)
#define SVM_FEAT_DECODE_ASSISTS BIT(7)

struct svm_caps svm_caps;
/* Each CPU's host save area (APM 2 15.30.4), by logical CPU index. */
static u64 hsave_pa[HV_MAX_CPUS];

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
	struct svm_caps *sc = &svm_caps;

	caps->vendor = "AMD-V";
	caps->slat = "NPT";
	sc->npt = r.edx & SVM_FEAT_NPT;
	sc->nrip_save = r.edx & SVM_FEAT_NRIPS;
	sc->vmcb_clean = (r.edx & SVM_FEAT_VMCB_CLEAN) ? VMCB_CLEAN_ALL : 0;
	sc->flush_by_asid = r.edx & SVM_FEAT_FLUSH_BY_ASID;
	sc->decode_assists = r.edx & SVM_FEAT_DECODE_ASSISTS;
	sc->asid_count = r.ebx;
	/* APM 2 15.25.1: NPT has the page sizes of the host's paging */
	caps->slat_1g = cpuid(CPUID_EXT_FEATURES).edx & CPUID_EXT_EDX_PAGE1GB;
	pr_info("svm: AMD-V, NPT %s, next-RIP save %s, decode assists %s, "
		"flush-by-ASID %s\n",
		yes_no(sc->npt), yes_no(sc->nrip_save), yes_no(sc->decode_assists),
		yes_no(sc->flush_by_asid));

	if (svm_disabled()) {
		snprintf(caps->reason, sizeof(caps->reason),
			 "AMD-V is disabled by the firmware (VM_CR.SVMDIS)");
		return -E_NOSUPP;
	}
	if (!sc->npt) {
		snprintf(caps->reason, sizeof(caps->reason), "AMD-V without NPT");
		return -E_NOSUPP;
	}
	caps->usable = true;
	return 0;
}

/* APM 2 15.4 (enabling SVM) and 15.30.4 (VM_HSAVE_PA) */
int svm_cpu_enable(struct percpu *c)
{
	if (svm_disabled())
		return -E_NOSUPP;
	if (!hsave_pa[c->index]) {
		void *hsave = mm_alloc_page();

		if (!hsave)
			return -E_NOMEM;
		hsave_pa[c->index] = virt_to_phys(hsave);
	}
	wrmsr(MSR_IA32_EFER, rdmsr(MSR_IA32_EFER) | EFER_SVME);
	wrmsr(MSR_AMD_VM_HSAVE_PA, hsave_pa[c->index]);
	return 0;
}
