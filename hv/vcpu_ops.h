/*
 * The vendor contract (STYLE.md): the core reaches VT-x or AMD-V only through
 * this table. hv/vmx/ and hv/svm/ each fill one with designated initialisers;
 * the backend is chosen once at boot from CPUID.
 */
#pragma once

#include "hv/types.h"

struct percpu;

/* What the vendor backend found on the boot CPU. */
struct virt_caps {
	const char *vendor; /* "VT-x" | "AMD-V" */
	const char *slat;   /* "EPT" | "NPT" */
	bool usable;	    /* everything a partition needs is there */
	char reason[96];    /* when !usable: why Tessera cannot run partitions */
	/* VT-x */
	u32 vmcs_revision;
	bool ept, vpid, unrestricted, ept_ad, ept_2m, ept_1g, true_ctls;
	/* AMD-V */
	bool npt, nrip_save, decode_assists, flush_by_asid, vmcb_clean;
	u32 asid_count;
};

struct vcpu_ops {
	const char *name;
	/* Detects the features on the boot CPU and prints them. */
	int (*probe)(struct virt_caps *caps);
	/* Enters VMX operation / sets EFER.SVME on the calling CPU. */
	int (*cpu_enable)(struct percpu *c, const struct virt_caps *caps);
	void (*cpu_disable)(struct percpu *c);
};

extern const struct vcpu_ops vmx_ops;
extern const struct vcpu_ops svm_ops;

/* The backend in use and what it found (set by virt_probe). */
extern const struct vcpu_ops *vcpu_ops;
extern struct virt_caps virt_caps;

/* Picks the backend; returns false with virt_caps.reason set when the
 * machine cannot run partitions. */
bool virt_probe(void);
