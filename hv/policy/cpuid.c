/*
 * CPUID policy (SPEC 6). The host's answer, then: leaves that describe what
 * Tessera does not virtualize are hidden (allow-list of leaves), feature bits
 * are cleared by a mask table, the topology is made consistent with the
 * partition's CPU count (one thread per core, one package), and the
 * hypervisor leaves carry Tessera's signature.
 */
#include "hv/policy/cpuid.h"
#include "drivers/tsc.h"
#include "hv/hw/cpuid.h"
#include "hv/lib/lib.h"
#include "hv/partition/partition.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vdev/vlapic.h"
#include "hv/virt.h"

enum { R_EAX, R_EBX, R_ECX, R_EDX };
#define ANY_SUB 0xffffffffU
#define EXT_BASE 0x80000000U
#define EXT_MAX 0x80000008U
#define LEAF7_LAST_SUB 1 /* its subleaf 1 is offered (empty), none after */

/* Leaves passed through (then masked); all others read as zero. */
static const u32 allowed_leaves[] = {
	0x0,	    0x1,	0x2,	    0x4,	0x6,	    0x7,	0xb,
	0xd,	    0x15,	0x16,	    0x1f,	0x80000000, 0x80000001, 0x80000002,
	0x80000003, 0x80000004, 0x80000005, 0x80000006, 0x80000007, 0x80000008,
};

struct cpuid_mask {
	u32 leaf, sub;
	u8 reg;
	u32 keep; /* bits that survive; everything else is cleared */
};

/* Bit numbers from SDM 2A CPUID tables 3-10/3-11 and APM 3 appendix E. */
static const struct cpuid_mask masks[] = {
	/* 1.ECX: no DTES64(2) MONITOR(3) DS-CPL(4) VMX(5) SMX(6) EST(7) TM2(8)
	 * SDBG(11) xTPR(14) PDCM(15) DCA(18); x2APIC and TSC-deadline are
	 * the virtual local APIC's (decided below) */
	{ 0x1, ANY_SUB, R_ECX,
	  ~(u32)(BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(11) | BIT(14) |
		 BIT(15) | BIT(18)) },
	/* 1.EDX: no MCE(7) MTRR(12) MCA(14) DS(21) ACPI(22) TM(29) PBE(31) */
	{ 0x1, ANY_SUB, R_EDX,
	  ~(u32)(BIT(7) | BIT(12) | BIT(14) | BIT(21) | BIT(22) | BIT(29) | BIT(31)) },
	/* 7.0.EBX: no TSC_ADJUST(1: the TSC is the host's, not the guest's to
	 * move) SGX(2) PQM(12) MPX(14) PQE(15) Intel PT(25) */
	{ 0x7, 0, R_EBX, ~(u32)(BIT(1) | BIT(2) | BIT(12) | BIT(14) | BIT(15) | BIT(25)) },
	/* 7.0.ECX: no WAITPKG(5) CET_SS(7) TME(13) KL(23) SGX-LC(30) PKS(31):
	 * their MSRs are not offered (Key Locker's wrapping key is CPU state
	 * the hypervisor neither switches nor resets) */
	{ 0x7, 0, R_ECX, ~(u32)(BIT(5) | BIT(7) | BIT(13) | BIT(23) | BIT(30) | BIT(31)) },
	/* 7.0.EDX: no UINTR(5) TSX_FORCE_ABORT(13) hybrid(15) PCONFIG(18)
	 * ARCH_LBR(19) CET_IBT(20) IBRS/IBPB(26) STIBP(27) L1D_FLUSH(28)
	 * ARCH_CAPABILITIES(29) CORE_CAPABILITIES(30) SSBD(31): their MSRs are
	 * not offered */
	{ 0x7, 0, R_EDX,
	  ~(u32)(BIT(5) | BIT(13) | BIT(15) | BIT(18) | BIT(19) | BIT(20) | BIT(26) | BIT(27) |
		 BIT(28) | BIT(29) | BIT(30) | BIT(31)) },
	{ 0x7, 1, R_EAX, 0 },
	{ 0x7, 1, R_EBX, 0 },
	{ 0x7, 1, R_ECX, 0 },
	{ 0x7, 1, R_EDX, 0 },
	/* 0xd.1: XSAVEOPT(0) XGETBV_ECX1(2) only; no XSAVES(3) XFD(4) and no
	 * supervisor components (ECX:EDX): IA32_XSS and IA32_XFD are not
	 * offered. No XSAVEC(1) either: guests then keep their state in the
	 * standard format (SDM 1 13.4.2), which every XSAVE CPU has. Bochs 2.7's
	 * XSAVEC writes the components from byte 160, not 576 (13.4.3), where
	 * its XRSTOR reads them: Linux, which uses XSAVEC when offered without
	 * XSAVES, got its processes' vector registers back wrong. */
	{ 0xd, 1, R_EAX, BIT(0) | BIT(2) },
	{ 0xd, 1, R_ECX, 0 },
	{ 0xd, 1, R_EDX, 0 },
	/* 0x80000001.ECX: no SVM(2) ExtApicSpace(3) SKINIT(12) WDT(13) LWP(15)
	 * TOPOEXT(22) PerfCtrExtCore(23) PerfCtrExtNB(24) DataBkptExt(26)
	 * PerfTsc(27) PerfCtrExtLLC(28) MONITORX(29) */
	{ 0x80000001, ANY_SUB, R_ECX,
	  ~(u32)(BIT(2) | BIT(3) | BIT(12) | BIT(13) | BIT(15) | BIT(22) | BIT(23) | BIT(24) |
		 BIT(26) | BIT(27) | BIT(28) | BIT(29)) },
	/* 0x80000007.EDX: only the invariant TSC (8), and only when true */
	{ 0x80000007, ANY_SUB, R_EAX, 0 },
	{ 0x80000007, ANY_SUB, R_EBX, 0 },
	{ 0x80000007, ANY_SUB, R_ECX, 0 },
	{ 0x80000007, ANY_SUB, R_EDX, BIT(8) },
	/* 0x80000008.EBX: no IBPB(12) IBRS(14) STIBP(15) IBRS-always(16)
	 * STIBP-always(17) IBRS-preferred(18) SSBD(24) VIRT_SSBD(25) */
	{ 0x80000008, ANY_SUB, R_EBX,
	  ~(u32)(BIT(12) | BIT(14) | BIT(15) | BIT(16) | BIT(17) | BIT(18) | BIT(24) | BIT(25)) },
	{ 0x80000008, ANY_SUB, R_EDX, 0 },
};

#define CPUID1_ECX_X2APIC BIT(21)
#define CPUID1_ECX_TSC_DEADLINE BIT(24)
#define CPUID1_ECX_OSXSAVE BIT(27)
#define CPUID6_EAX_ARAT BIT(2)
#define CPUID1_ECX_HYPERVISOR BIT(31)
#define CPUID1_EDX_HTT BIT(28)
#define CPUID1_EBX_APIC_ID_SHIFT 24
#define CPUID1_EBX_COUNT_SHIFT 16
#define CPUID1_EBX_LOW_MASK 0xffffU
#define CPUID4_TYPE_MASK 0x1f
#define CPUID4_CORES_SHIFT 26
#define CPUID4_SHARING_SHIFT 14
#define CPUID4_SHARING_MASK (0xfffU << CPUID4_SHARING_SHIFT)
#define CPUID4_LEVEL_SHIFT 5
#define CPUID4_LEVEL_MASK 0x7
#define TOPO_LEVEL_SMT 1
#define TOPO_LEVEL_CORE 2
#define TOPO_TYPE_SHIFT 8
#define CPUID_EXT1_ECX_CMP_LEGACY BIT(1)
#define CPUID_EXT8_ECX_ID_SIZE_SHIFT 12

static u32 *reg_of(struct cpuid_regs *r, u8 reg)
{
	u32 *regs[] = { &r->eax, &r->ebx, &r->ecx, &r->edx };

	return regs[reg];
}

static bool leaf_allowed(u32 leaf)
{
	for (size_t i = 0; i < ARRAY_SIZE(allowed_leaves); i++)
		if (allowed_leaves[i] == leaf)
			return true;
	return false;
}

/* Bits needed to number count CPUs (the APIC ID shift of a level). */
static u32 id_bits(u32 count)
{
	u32 bits = 0;

	while ((1U << bits) < count)
		bits++;
	return bits;
}

static void topology(const struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	u32 n = v->part->vcpu_count;

	switch (leaf) {
	case 0x1:
		r->ebx = (r->ebx & CPUID1_EBX_LOW_MASK) | (v->id << CPUID1_EBX_APIC_ID_SHIFT) |
			 (n << CPUID1_EBX_COUNT_SHIFT);
		r->edx |= CPUID1_EDX_HTT;
		break;
	case 0x4:
		if (!(r->eax & CPUID4_TYPE_MASK))
			break; /* no more caches */
		r->eax &= ~((0x3fU << CPUID4_CORES_SHIFT) | CPUID4_SHARING_MASK);
		r->eax |= (n - 1) << CPUID4_CORES_SHIFT;
		/* the last level is shared by the package, the rest per core */
		if (((r->eax >> CPUID4_LEVEL_SHIFT) & CPUID4_LEVEL_MASK) >= 3)
			r->eax |= ((n - 1) << CPUID4_SHARING_SHIFT) & CPUID4_SHARING_MASK;
		break;
	case 0xb:
	case 0x1f:
		/* SDM 2A CPUID leaf 0Bh: SMT level of one thread, core level of n */
		r->edx = v->id;
		if (sub == 0) {
			r->eax = 0;
			r->ebx = 1;
			r->ecx = (TOPO_LEVEL_SMT << TOPO_TYPE_SHIFT) | sub;
		} else if (sub == 1) {
			r->eax = id_bits(n);
			r->ebx = n;
			r->ecx = (TOPO_LEVEL_CORE << TOPO_TYPE_SHIFT) | sub;
		} else {
			r->eax = r->ebx = 0;
			r->ecx = sub;
		}
		break;
	case 0x80000001:
		if (n > 1)
			r->ecx |= CPUID_EXT1_ECX_CMP_LEGACY;
		else
			r->ecx &= ~CPUID_EXT1_ECX_CMP_LEGACY;
		break;
	case 0x80000008:
		/* APM 3 E.4.7: NC = cores - 1, ApicIdSize */
		r->ecx = (id_bits(n) << CPUID_EXT8_ECX_ID_SIZE_SHIFT) | (n - 1);
		break;
	default:
		break;
	}
}

/*
 * SDM 2A CPUID 15h/16h: the TSC and core-crystal frequencies. They are
 * stated from what the hypervisor measured, not copied from the host, so the
 * guest's TSC rate is the one it really runs at (an emulator's TSC need not
 * match its model's nominal clock). The crystal is also the local APIC
 * timer's input (hv/vdev/vlapic.c uses cpuid_crystal_hz()).
 */
#define HZ_PER_MHZ 1000000ULL

u64 cpuid_crystal_hz(void)
{
	u64 hz = tsc_hz();

	/* ECX holds 32 bits: halve the crystal and double the ratio above that */
	return hz > 0xffffffffULL ? hz / 2 : hz;
}

static void frequency_leaves(u32 leaf, struct cpuid_regs *r)
{
	u64 crystal = cpuid_crystal_hz();

	memset(r, 0, sizeof(*r));
	if (leaf == CPUID_TSC_LEAF) {
		/* TSC = crystal * EBX / EAX */
		r->eax = 1;
		r->ebx = crystal == tsc_hz() ? 1 : 2;
		r->ecx = (u32)crystal;
	} else {
		/* base and maximum frequency (MHz); bus frequency unknown */
		r->eax = r->ebx = (u32)(tsc_hz() / HZ_PER_MHZ);
	}
}

static void hypervisor_leaves(u32 leaf, struct cpuid_regs *r)
{
	memset(r, 0, sizeof(*r));
	if (leaf == CPUID_HV_LEAF) {
		r->eax = CPUID_HV_LAST;
		r->ebx = CPUID_HV_SIG_EBX;
		r->ecx = CPUID_HV_SIG_ECX;
		r->edx = CPUID_HV_SIG_EDX;
	}
}

/* A feature flag of the partition's own CPUID: leaf (subleaf 0, cached),
 * register, bit. */
struct cpuid_feature {
	u32 leaf;
	u8 reg, bit;
};

static bool offered(const struct partition *p, struct cpuid_feature f)
{
	struct cpuid_regs r = p->cpuid_basic[f.leaf];

	return *reg_of(&r, f.reg) & BIT(f.bit);
}

/*
 * Leaf 0Dh (SDM 1 13.2-13.4, SDM 2A CPUID 0Dh) made to agree with what the
 * partition is offered: the user state components of the features its
 * CPUID shows (x87 and SSE always), no supervisor ones (IA32_XSS is not
 * offered), and sizes computed from the components' own sizes, offsets and
 * alignment (subleaves 2 and up): subleaf 0 ECX for all offered components,
 * and for the XCR0 in force (the guest's, on this CPU: cpuid_guest)
 * subleaf 0 EBX in the standard format and subleaf 1 EBX in the compacted
 * one (XSAVEC). Linux checks these against each other
 * (fpu__init_system_xstate); a processor's, or an emulator's, own figures
 * need not agree with a reduced set (Bochs's subleaf 1 EBX is the standard
 * size).
 */
#define XSAVE_LEGACY_SIZE 576 /* legacy area 512 + header 64 */
#define XSAVE_FIRST_EXT 2
#define XSAVE_LAST 62 /* XCR0 bit 63 is reserved */
#define XSAVE_ALIGN 64
#define XSAVE_SUB_ECX_ALIGN BIT(1) /* compacted: at a 64-byte boundary */

static const struct {
	u64 xcr0;
	struct cpuid_feature f;
} xsave_features[] = {
	{ XCR0_AVX, { 0x1, R_ECX, 28 } },    /* AVX */
	{ XCR0_MPX, { 0x7, R_EBX, 14 } },    /* MPX (hidden) */
	{ XCR0_AVX512, { 0x7, R_EBX, 16 } }, /* AVX512F */
	{ XCR0_PKRU, { 0x7, R_ECX, 3 } },    /* PKU */
	{ XCR0_AMX, { 0x7, R_EDX, 24 } },    /* AMX-TILE */
};

/* The components of the host's (host) that the partition's features bring. */
static u64 xsave_offered(const struct partition *p, u64 host)
{
	u64 keep = XCR0_X87 | XCR0_SSE;

	for (size_t i = 0; i < ARRAY_SIZE(xsave_features); i++)
		if (offered(p, xsave_features[i].f))
			keep |= xsave_features[i].xcr0;
	return host & keep;
}

static u32 xsave_size(u64 components, bool compacted)
{
	u32 size = XSAVE_LEGACY_SIZE;

	for (u32 i = XSAVE_FIRST_EXT; i <= XSAVE_LAST; i++) {
		struct cpuid_regs c;

		if (!(components & BIT(i)))
			continue;
		cpuid_host(0xd, i, &c);
		if (!compacted) /* at its offset */
			size = MAX(size, c.ebx + c.eax);
		else if (c.ecx & XSAVE_SUB_ECX_ALIGN) /* SDM 1 13.4.3: after the last */
			size = ALIGN_UP(size, XSAVE_ALIGN) + c.eax;
		else
			size += c.eax;
	}
	return size;
}

/* The host's subleaf sub (masked) made the partition's. */
static void xsave_leaf(const struct partition *p, u32 sub, struct cpuid_regs *r)
{
	struct cpuid_regs host;
	u64 comps;

	cpuid_host(0xd, 0, &host);
	comps = xsave_offered(p, ((u64)host.edx << 32) | host.eax);
	if (!(comps & XCR0_X87)) {
		memset(r, 0, sizeof(*r)); /* no XSAVE */
	} else if (sub == 0) {
		r->eax = (u32)comps;
		r->edx = (u32)(comps >> 32);
		r->ecx = xsave_size(comps, false);
	} else if (sub >= XSAVE_FIRST_EXT && (sub > XSAVE_LAST || !(comps & BIT(sub)))) {
		memset(r, 0, sizeof(*r)); /* SDM 2A: an invalid subleaf reads 0 */
	}
}

bool cpuid_vendor_amd(const struct partition *p)
{
	u32 ebx = p->cpuid_basic[CPUID_VENDOR_LEAF].ebx;

	return ebx == CPUID_VENDOR_AMD_EBX || ebx == CPUID_VENDOR_HYGON_EBX;
}

void cpuid_leaf0_per_vcpu(struct partition *p)
{
	__atomic_fetch_and(&p->cpuid_plain, ~(u32)BIT(CPUID_VENDOR_LEAF), __ATOMIC_RELAXED);
}

u64 cpuid_xcr0_supported(const struct partition *p)
{
	return ((u64)p->cpuid_basic[0xd].edx << 32) | p->cpuid_basic[0xd].eax;
}

/* SDM 3A 2.5 (CR4) and SDM 2A CPUID: which flag makes each CR4 bit exist.
 * PCE always exists; a bit listed twice exists with either flag. */
static const struct {
	u64 cr4;
	struct cpuid_feature f;
} cr4_features[] = {
	{ CR4_VME | CR4_PVI, { 0x1, R_EDX, 1 } }, /* VME */
	{ CR4_TSD, { 0x1, R_EDX, 4 } },		  /* TSC */
	{ CR4_DE, { 0x1, R_EDX, 2 } },		  /* DE */
	{ CR4_PSE, { 0x1, R_EDX, 3 } },		  /* PSE */
	{ CR4_PAE, { 0x1, R_EDX, 6 } },		  /* PAE */
	{ CR4_MCE, { 0x1, R_EDX, 7 } },		  /* MCE */
	{ CR4_PGE, { 0x1, R_EDX, 13 } },	  /* PGE */
	{ CR4_OSFXSR, { 0x1, R_EDX, 24 } },	  /* FXSR */
	{ CR4_OSXMMEXCPT, { 0x1, R_EDX, 25 } },	  /* SSE */
	{ CR4_UMIP, { 0x7, R_ECX, 2 } },	  /* UMIP */
	{ CR4_LA57, { 0x7, R_ECX, 16 } },	  /* LA57 */
	{ CR4_VMXE, { 0x1, R_ECX, 5 } },	  /* VMX */
	{ CR4_SMXE, { 0x1, R_ECX, 6 } },	  /* SMX */
	{ CR4_FSGSBASE, { 0x7, R_EBX, 0 } },	  /* FSGSBASE */
	{ CR4_PCIDE, { 0x1, R_ECX, 17 } },	  /* PCID */
	{ CR4_OSXSAVE, { 0x1, R_ECX, 26 } },	  /* XSAVE */
	{ CR4_KL, { 0x7, R_ECX, 23 } },		  /* KL */
	{ CR4_SMEP, { 0x7, R_EBX, 7 } },	  /* SMEP */
	{ CR4_SMAP, { 0x7, R_EBX, 20 } },	  /* SMAP */
	{ CR4_PKE, { 0x7, R_ECX, 3 } },		  /* PKU */
	{ CR4_CET, { 0x7, R_ECX, 7 } },		  /* CET_SS */
	{ CR4_CET, { 0x7, R_EDX, 20 } },	  /* CET_IBT */
	{ CR4_PKS, { 0x7, R_ECX, 31 } },	  /* PKS */
	{ CR4_UINTR, { 0x7, R_EDX, 5 } },	  /* UINTR */
};

u64 cpuid_cr4_reserved(const struct partition *p)
{
	u64 reserved = ~(u64)CR4_PCE;

	for (size_t i = 0; i < ARRAY_SIZE(cr4_features); i++)
		if (offered(p, cr4_features[i].f))
			reserved &= ~cr4_features[i].cr4;
	return reserved;
}

static u32 host_eax(u32 leaf)
{
	struct cpuid_regs r;

	cpuid_host(leaf, 0, &r);
	return r.eax;
}

/* The full computation, for any vCPU, leaf and subleaf. */
static void cpuid_compute(const struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	u32 max_basic = host_eax(0), max_ext = MIN(host_eax(EXT_BASE), EXT_MAX);

	if (leaf >= CPUID_HV_LEAF && leaf < EXT_BASE) {
		hypervisor_leaves(leaf, r);
		return;
	}
	if (!leaf_allowed(leaf) || (leaf < EXT_BASE && leaf > max_basic) ||
	    (leaf >= EXT_BASE && leaf > max_ext)) {
		memset(r, 0, sizeof(*r));
		return;
	}
	if (leaf == CPUID_TSC_LEAF || leaf == CPUID_FREQ_LEAF) {
		frequency_leaves(leaf, r);
		return;
	}
	cpuid_host(leaf, sub, r);
	for (size_t i = 0; i < ARRAY_SIZE(masks); i++)
		if (masks[i].leaf == leaf && (masks[i].sub == ANY_SUB || masks[i].sub == sub))
			*reg_of(r, masks[i].reg) &= masks[i].keep;
	if (leaf == EXT_BASE)
		r->eax = max_ext;
	if (leaf == 0xd)
		xsave_leaf(v->part, sub, r);
	/* SDM 2A: leaf 7's subleaves past the last offered read 0 */
	if (leaf == 0x7 && sub > LEAF7_LAST_SUB)
		memset(r, 0, sizeof(*r));
	else if (leaf == 0x7 && sub == 0)
		r->eax = MIN(r->eax, LEAF7_LAST_SUB);
	if (leaf == 0x6) {
		/* only ARAT: the virtual APIC timer never stops (no C-states) */
		memset(r, 0, sizeof(*r));
		r->eax = CPUID6_EAX_ARAT;
	}
	/*
	 * The virtual local APIC has x2APIC mode and all three timer modes,
	 * but CPUID offers TSC-deadline mode to none. With it, Linux keeps
	 * its early periodic tick by re-arming a one-shot deadline from each
	 * tick's handler, so every tick is late by the time the interrupt
	 * took to reach that handler; on an emulator, or a CPU shared with
	 * exits, that is percent of a tick, and the clocksource watchdog
	 * (refined-jiffies against the TSC, until the PM timer registers)
	 * then marks the TSC unstable. Without it, the tick uses periodic
	 * mode, whose late expiries hv/vdev/vlapic.c delivers rather than
	 * drops: jiffies keep time with the TSC.
	 */
	if (leaf == 0x1)
		r->ecx = (r->ecx | CPUID1_ECX_HYPERVISOR | CPUID1_ECX_X2APIC) &
			 ~(CPUID1_ECX_OSXSAVE | CPUID1_ECX_TSC_DEADLINE);
	topology(v, leaf, sub, r);
}

/* Leaves whose answer depends on the subleaf (SDM 2A CPUID). */
static bool has_subleaves(u32 leaf)
{
	return leaf == 0x4 || leaf == 0x7 || leaf == 0xb || leaf == 0xd || leaf == 0x1f;
}

static struct cpuid_regs *cached(struct partition *p, u32 leaf)
{
	if (leaf < CPUID_CACHE_BASIC)
		return &p->cpuid_basic[leaf];
	if (leaf >= EXT_BASE && leaf - EXT_BASE < CPUID_CACHE_EXT)
		return &p->cpuid_ext[leaf - EXT_BASE];
	return NULL;
}

/* Everything but the per-vCPU fields is the same for all of a partition's
 * vCPUs and never changes: compute it once, with vCPU 0. */
void cpuid_init_partition(struct partition *p)
{
	p->cpuid_plain = 0;
	for (u32 leaf = 0; leaf < CPUID_CACHE_BASIC; leaf++) {
		cpuid_compute(p->vcpus[0], leaf, 0, &p->cpuid_basic[leaf]);
		/* cpuid_guest's per-vCPU and per-XCR0 fields */
		if (leaf != 0x1 && leaf != 0xb && leaf != 0xd && leaf != 0x1f)
			p->cpuid_plain |= BIT(leaf);
	}
	for (u32 i = 0; i < CPUID_CACHE_EXT; i++)
		cpuid_compute(p->vcpus[0], EXT_BASE + i, 0, &p->cpuid_ext[i]);
}

const struct cpuid_regs *cpuid_plain(const struct partition *p, u32 leaf, u32 sub)
{
	if (leaf < CPUID_CACHE_BASIC && (p->cpuid_plain & BIT(leaf)) &&
	    (sub == 0 || !has_subleaves(leaf)))
		return &p->cpuid_basic[leaf];
	return NULL;
}

void cpuid_guest(struct vcpu *v, u32 leaf, u32 sub, struct cpuid_regs *r)
{
	const struct cpuid_regs *c = cached(v->part, leaf);

	/* leaf 0xd sizes follow the XCR0 in force: the guest's, on this CPU */
	if (c && leaf != 0xd && (sub == 0 || !has_subleaves(leaf)))
		*r = *c;
	else
		cpuid_compute(v, leaf, sub, r);
	/* what differs between vCPUs: the APIC ID, OSXSAVE, which mirrors
	 * the guest's own CR4 (SDM 2A CPUID 1.ECX bit 27), and APIC, clear
	 * while the local APIC is globally disabled (SDM 3A 11.4.3) */
	if (leaf == 0x1) {
		r->ebx = (r->ebx & ~(0xffU << CPUID1_EBX_APIC_ID_SHIFT)) |
			 (v->id << CPUID1_EBX_APIC_ID_SHIFT);
		if (vlapic_mode(v) == VLAPIC_OFF)
			r->edx &= ~CPUID_1_EDX_APIC;
		vcpu_ops->load_state(v, VS_CR);
		if (v->state.cr4 & CR4_OSXSAVE)
			r->ecx |= CPUID1_ECX_OSXSAVE;
	} else if (leaf == CPUID_VENDOR_LEAF && (v->msr.misc_enable & MISC_ENABLE_LIMIT_CPUID)) {
		r->eax = MIN(r->eax, MISC_ENABLE_LIMIT_CPUID_MAX); /* SDM 4 table 2-2 */
	} else if (leaf == 0xb || leaf == 0x1f) {
		r->edx = v->id;
	} else if (leaf == 0xd && sub <= 1 && (v->part->cpuid_basic[0xd].eax & XCR0_X87)) {
		r->ebx = xsave_size(cpuid_host_xcr0(), sub == 1);
	}
}
