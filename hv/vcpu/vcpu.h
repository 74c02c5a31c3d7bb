/*
 * A virtual CPU: the neutral register file the core works on, and what the
 * vendor backend keeps behind `vendor`. General-purpose registers are always
 * valid after an exit (the entry/exit stub saves them; the backend syncs
 * RSP, and RAX on AMD-V). The rest (struct vcpu_state) is loaded and stored
 * on demand through vcpu_ops->load_state / store_state with VS_* masks.
 */
#pragma once

#include "hv/hw/msr.h"
#include "hv/lib/types.h"

struct partition;
struct percpu;

/* In x86 encoding order, so ModRM register numbers index gpr[] directly. */
enum gpr {
	GPR_RAX,
	GPR_RCX,
	GPR_RDX,
	GPR_RBX,
	GPR_RSP,
	GPR_RBP,
	GPR_RSI,
	GPR_RDI,
	GPR_R8,
	GPR_R9,
	GPR_R10,
	GPR_R11,
	GPR_R12,
	GPR_R13,
	GPR_R14,
	GPR_R15,
	GPR_COUNT
};

/*
 * Segment attributes in the AMD VMCB layout (APM 2 15.5.1): type 3:0, S 4,
 * DPL 6:5, P 7, AVL 8, L 9, D/B 10, G 11. The VT-x backend converts to and
 * from access rights (SDM 3C 25.4.1); a segment with P clear is "unusable".
 */
#define SEG_TYPE_MASK 0xf
#define SEG_TYPE_ACCESSED BIT(0)
#define SEG_TYPE_DATA_RW 0x3 /* read/write, accessed */
#define SEG_TYPE_CODE_RX 0xb /* execute/read, accessed */
#define SEG_TYPE_LDT 0x2
#define SEG_TYPE_TSS16_BUSY 0x3
#define SEG_TYPE_TSS_BUSY 0xb /* 32/64-bit TSS, busy */
#define SEG_ATTR_S BIT(4)     /* code or data (not system) */
#define SEG_ATTR_DPL_SHIFT 5
#define SEG_ATTR_P BIT(7)
#define SEG_ATTR_AVL BIT(8)
#define SEG_ATTR_L BIT(9)
#define SEG_ATTR_DB BIT(10)
#define SEG_ATTR_G BIT(11)

struct seg {
	u16 sel;
	u16 attr;
	u32 limit; /* byte granular, as the hardware expands it */
	u64 base;
};

struct dtable {
	u64 base;
	u32 limit;
};

/* Architectural state beyond the GPRs. */
struct vcpu_state {
	u64 rip, rflags;
	u64 cr0, cr2, cr3, cr4, efer; /* as the guest sees them */
	u64 dr6, dr7;
	struct seg cs, ds, es, fs, gs, ss, tr, ldtr;
	struct dtable gdtr, idtr;
	u64 sysenter_cs, sysenter_esp, sysenter_eip;
	u64 pat;
	u32 intr_shadow; /* VS_INTR: STI / MOV SS blocking (bit 0 STI, bit 1 MOV SS) */
	/* VS_MSR: the MSRs of SYSCALL/SWAPGS and RDTSCP, which neither vendor
	 * switches on entry and exit (on AMD-V VMLOAD does, but TSC_AUX) */
	u64 kernel_gs_base, star, lstar, cstar, sfmask, tsc_aux;
};

/* Masks for load_state/store_state */
#define VS_RIP BIT(0)
#define VS_RFLAGS BIT(1)
#define VS_CR BIT(2)  /* cr0, cr2, cr3, cr4, efer */
#define VS_SEG BIT(3) /* all segments, gdtr, idtr */
#define VS_DR BIT(4)  /* dr6, dr7 */
#define VS_SYSENTER BIT(5)
#define VS_PAT BIT(6)
#define VS_INTR BIT(7)
#define VS_SEG_CODE BIT(8) /* cs and ss only (load_state; VS_SEG includes them) */
#define VS_MSR BIT(9)
#define VS_ALL (BIT(10) - 1)
/* What INIT and a startup IPI set: all but VS_MSR, which keeps its values
 * (SDM 3A 9.1: INIT leaves the MSRs and the x87 state alone; EFER, PAT and
 * SYSENTER are reset with the registers they go with) */
#define VS_INIT (VS_ALL & ~VS_MSR)

#define INTR_SHADOW_STI BIT(0)
#define INTR_SHADOW_MOVSS BIT(1)

/* An event to inject at the next entry (SDM 3C 27.6, APM 2 15.20). */
enum vcpu_event_type {
	EVENT_NONE = 0,
	EVENT_EXTINT, /* external interrupt, vector >= 32 */
	EVENT_NMI,
	EVENT_EXCEPTION, /* hardware exception; error code when has_error */
	EVENT_SOFT_INT,
};

struct vcpu_event {
	u8 type; /* enum vcpu_event_type */
	u8 vector;
	bool has_error;
	u32 error_code;
};

/* What the backend does before the next entry (one call per exit). */
struct vm_apply {
	bool skip_insn;		 /* advance RIP past the exiting instruction */
	struct vcpu_event event; /* inject, when type != EVENT_NONE */
	bool irq_window;	 /* exit as soon as an interrupt can be injected */
	bool nmi_window;
};

/* Where the vCPU is in its life (SPEC 5 for partitions). */
enum vcpu_run_state {
	VCPU_OFF = 0,	/* its partition is stopped */
	VCPU_WAIT_SIPI, /* an AP after INIT, waiting for a startup IPI */
	VCPU_RUNNING,
	VCPU_HALTED, /* HLT: parked until something is pending */
};

/* Requests from other CPUs, bits of vcpu.requests (atomic). */
#define VCPU_REQ_STOP BIT(0)  /* leave the guest: partition stops/restarts */
#define VCPU_REQ_INIT BIT(1)  /* INIT IPI from a sibling vCPU */
#define VCPU_REQ_SIPI BIT(2)  /* startup IPI; vector in sipi_vector */
#define VCPU_REQ_EVENT BIT(3) /* an interrupt became pending (hv/vdev/virq.h) */
#define VCPU_REQ_FLUSH_TLB BIT(4)

/* The vCPU's own devices (hv/vdev/vdev.h, vcpu_slot of a per-vCPU type). */
enum vcpu_dev_slot {
	VCPU_DEV_IRQCHIP, /* its interrupt controller: hv/vdev/virq.h asks it */
	VCPU_DEV_SLOTS
};

struct vcpu_stats {
	u64 exits[64]; /* by enum vm_exit_reason (hv/vcpu/exit.h), at most 64 */
	u64 irqs_injected;
	u64 exceptions_injected;
	u64 timer_fired; /* local APIC timer expiries */
	u64 timer_late;	 /* their total lateness, TSC ticks */
	u64 timer_late_max;
};

/* MSRs the policy keeps for each vCPU (hv/policy/msr.c), reset with it. */
struct vcpu_msrs {
	u64 misc_enable;
	u64 amd_perf[2 * AMD_PERF_COUNTERS]; /* PerfEvtSel0-3, PerfCtr0-3 */
};

struct vcpu {
	u64 gpr[GPR_COUNT];
	struct vcpu_state state;
	u32 state_valid; /* VS_* bits loaded since the last exit */
	struct partition *part;
	struct percpu *cpu;    /* the physical CPU it is pinned to */
	u32 id;		       /* index in its partition = its APIC ID */
	void *vendor;	       /* VMCS / VMCB and related, owned by the backend */
	volatile u32 requests; /* VCPU_REQ_* */
	volatile u8 sipi_vector;
	u8 timer_woken; /* a host interrupt came: the CPU's timer may be spent */
	enum vcpu_run_state run_state;
	struct vcpu_stats stats;
	void *dev[VCPU_DEV_SLOTS]; /* by enum vcpu_dev_slot */
	/* Fast paths of the loop, checked on every entry: */
	volatile u32 event_hint;  /* an interrupt or NMI may be pending */
	volatile u32 timer_dirty; /* a guest timer was reprogrammed */
	u64 timer_next;		  /* TSC of the next timer work due */
	struct vcpu_msrs msr;
};

static inline void vcpu_request(struct vcpu *v, u32 req)
{
	__atomic_fetch_or(&v->requests, req, __ATOMIC_SEQ_CST);
}

static inline u32 vcpu_take_requests(struct vcpu *v)
{
	return __atomic_exchange_n(&v->requests, 0, __ATOMIC_SEQ_CST);
}

/* The host vector that makes a CPU leave its guest and look at requests. */
#define VECTOR_KICK 0xf0

/* Posts req to v and makes its CPU notice (an IPI unless it is us). */
void vcpu_kick(struct vcpu *v, u32 req);
/* Architectural INIT state (SDM 3A 9.1.1, table 9-1) into v->state/gpr. */
void vcpu_init_state(struct vcpu *v);
