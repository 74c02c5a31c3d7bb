/*
 * The exit dispatch (hv/vcpu/exit.c) on a fake backend (tests/unit/fake_vcpu.h):
 * every enum vm_exit_reason has a handler and each does what the table below
 * says (resume, skip the instruction, inject, halt, contain the partition
 * with a reason); the register results of CPUID, RDMSR and WRMSR exits; the
 * control-register and XSETBV decisions; the reinjection of intercepted
 * exceptions; and the names of the reasons.
 */
#include "hv/hw/cpuid.h"
#include "hv/policy/msr.h"
#include "tests/unit/fake_vcpu.h"

#define INSN_LEN 3
#define NO_EVENT (-1)
#define GARBAGE 0xdeadbeef00000000ULL /* upper halves an exit must not leak */

/* x86 numbers written out (SDM 3A 6.3.1, SDM 4 table 2-2) */
#define UD 6
#define DF 8
#define TS 10
#define NP 11
#define SS 12
#define GP 13
#define PF 14
#define AC 17
#define CP 21
#define MISC_ENABLE 0x1a0
#define TSC_DEADLINE 0x6e0

static struct vcpu *v;

/* CPUID feature bits (SDM 2A table 3-10, 3-11, 3-8) */
#define LEAF1_EDX_BASE 0x078bfbffU /* FPU VME DE PSE TSC .. PAE MCE .. PGE .. FXSR SSE SSE2 */
#define LEAF1_ECX_PCID BIT(17)
#define LEAF1_ECX_XSAVE BIT(26)
#define LEAF1_ECX_AVX BIT(28)
#define LEAF7_EBX_BASE (BIT(0) | BIT(7) | BIT(20)) /* FSGSBASE SMEP SMAP */
#define LEAF7_EBX_MPX BIT(14)
#define LEAF7_EBX_AVX512F BIT(16)
#define LEAF7_ECX_BASE (BIT(2) | BIT(7) | BIT(16) | BIT(31)) /* UMIP CET_SS LA57 PKS */
#define LEAF7_ECX_PKU BIT(3)
#define LEAF7_EDX_AMX_TILE BIT(24)

/* A host with XSAVE, the CPUID features that go with the XCR0 components
 * xcr0_supported, and leaf 0Dh subleaves for each (sizes of 64 bytes, one
 * after the other from 576). */
static void host_cpu(u64 xcr0_supported)
{
	u32 ecx1 = LEAF1_ECX_PCID | LEAF1_ECX_XSAVE, ebx7 = LEAF7_EBX_BASE;
	u32 ecx7 = LEAF7_ECX_BASE, edx7 = 0;

	memset(&fake_cpu, 0, sizeof(fake_cpu));
	if (xcr0_supported & BIT(2))
		ecx1 |= LEAF1_ECX_AVX;
	if (xcr0_supported & (BIT(3) | BIT(4)))
		ebx7 |= LEAF7_EBX_MPX;
	if (xcr0_supported & (BIT(5) | BIT(6) | BIT(7)))
		ebx7 |= LEAF7_EBX_AVX512F;
	if (xcr0_supported & BIT(9))
		ecx7 |= LEAF7_ECX_PKU;
	if (xcr0_supported & (BIT(17) | BIT(18)))
		edx7 |= LEAF7_EDX_AMX_TILE;
	fake_cpuid_set(0x0, FAKE_ANY_SUB, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69);
	fake_cpuid_set(0x1, FAKE_ANY_SUB, 0x000806f8, 0x00010800, ecx1, LEAF1_EDX_BASE);
	fake_cpuid_set(0x7, 0, 0, ebx7, ecx7, edx7);
	fake_cpuid_set(0xd, 0, (u32)xcr0_supported, 0x340, 0x340, (u32)(xcr0_supported >> 32));
	for (u32 i = 2; i < 63; i++)
		if (xcr0_supported & BIT(i))
			fake_cpuid_set(0xd, i, 64, 576 + 64 * (i - 2), 0, 0);
	fake_cpuid_set(0x80000000, FAKE_ANY_SUB, 0x80000008, 0, 0, 0);
}

static int setup(void **state)
{
	(void)state;
	host_cpu(0x7);
	v = fake_part_init(4);
	cpuid_init_partition(&fake_part);
	for (u32 i = 0; i < 4; i++)
		msr_reset_vcpu(&fake_vcpus[i]); /* as the partition's start does */
	return 0;
}

/* What one exit did, besides its action. */
static void expect_resumed_past(struct vcpu *vc, u32 len)
{
	assert_int_equal(fake_be(vc)->skips, 1);
	assert_int_equal(fake_be(vc)->skip_len, len);
	assert_int_equal(fake_be(vc)->applies, 0);
}

static void expect_injected(struct vcpu *vc, u8 vector, bool has_error, u32 error_code)
{
	const struct vm_apply *a = &fake_be(vc)->apply;

	assert_int_equal(fake_be(vc)->applies, 1);
	assert_int_equal(fake_be(vc)->skips, 0);
	assert_false(a->skip_insn);
	assert_false(a->irq_window);
	assert_false(a->nmi_window);
	assert_int_equal(a->event.type, EVENT_EXCEPTION);
	assert_int_equal(a->event.vector, vector);
	assert_int_equal(a->event.has_error, has_error);
	if (has_error)
		assert_int_equal(a->event.error_code, error_code);
}

static void expect_nothing_applied(struct vcpu *vc)
{
	assert_int_equal(fake_be(vc)->skips, 0);
	assert_int_equal(fake_be(vc)->applies, 0);
}

/* ---- one table over every reason ---- */

static void prep_cpuid(struct vm_exit *e)
{
	(void)e;
	v->gpr[GPR_RAX] = 0x40000000;
}

static void prep_io(struct vm_exit *e)
{
	e->io.port = 0x80; /* nobody there */
	e->io.size = 1;
	e->io.in = true;
}

static void prep_msr(struct vm_exit *e)
{
	e->msr.index = MISC_ENABLE;
}

static void prep_cr(struct vm_exit *e)
{
	e->cr.type = CR_ACCESS_MOV_TO;
	e->cr.cr = 0;
	e->cr.gpr = GPR_RBX;
	v->gpr[GPR_RBX] = 0x11; /* PE | ET */
}

static void prep_xsetbv(struct vm_exit *e)
{
	(void)e;
	v->gpr[GPR_RCX] = 0;
	v->gpr[GPR_RAX] = 0x3;
	v->gpr[GPR_RDX] = 0;
}

static void prep_slat(struct vm_exit *e)
{
	e->slat.gpa = 0xfed00000;
	e->slat.access = EXIT_ACCESS_EXEC;
}

static void prep_exception(struct vm_exit *e)
{
	e->insn_len = 0; /* a hardware exception: no instruction completes */
	e->exc.vector = PF;
	e->exc.has_error = true;
	e->exc.error_code = 0x6;
	e->exc.cr2 = 0x1000;
}

static const struct {
	u32 reason;
	enum exit_action action;
	bool skip;  /* resumes past the instruction */
	int inject; /* the exception injected, or NO_EVENT */
	bool has_error;
	const char *stop; /* the partition's stop reason, or NULL */
	void (*prep)(struct vm_exit *e);
} dispatch[] = {
	{ VMEXIT_NONE, EXIT_RESUME, false, NO_EVENT, false, NULL, NULL },
	{ VMEXIT_EXT_INTR, EXIT_RESUME, false, NO_EVENT, false, NULL, NULL },
	{ VMEXIT_NMI, EXIT_RESUME, false, NO_EVENT, false, NULL, NULL },
	{ VMEXIT_INTR_WINDOW, EXIT_RESUME, false, NO_EVENT, false, NULL, NULL },
	{ VMEXIT_NMI_WINDOW, EXIT_RESUME, false, NO_EVENT, false, NULL, NULL },
	{ VMEXIT_CPUID, EXIT_RESUME, true, NO_EVENT, false, NULL, prep_cpuid },
	{ VMEXIT_HLT, EXIT_HALT, true, NO_EVENT, false, NULL, NULL },
	{ VMEXIT_IO, EXIT_RESUME, true, NO_EVENT, false, NULL, prep_io },
	{ VMEXIT_MSR_READ, EXIT_RESUME, true, NO_EVENT, false, NULL, prep_msr },
	{ VMEXIT_MSR_WRITE, EXIT_RESUME, true, NO_EVENT, false, NULL, prep_msr },
	{ VMEXIT_CR_ACCESS, EXIT_RESUME, true, NO_EVENT, false, NULL, prep_cr },
	{ VMEXIT_XSETBV, EXIT_RESUME, true, NO_EVENT, false, NULL, prep_xsetbv },
	{ VMEXIT_SLAT_FAULT, EXIT_CRASH, false, NO_EVENT, false, "executing outside its RAM",
	  prep_slat },
	{ VMEXIT_SLAT_MISCONFIG, EXIT_CRASH, false, NO_EVENT, false,
	  "second-level table misconfiguration", NULL },
	{ VMEXIT_EXCEPTION, EXIT_RESUME, false, PF, true, NULL, prep_exception },
	{ VMEXIT_HYPERCALL, EXIT_RESUME, false, UD, false, NULL, NULL },
	{ VMEXIT_VIRT_INSN, EXIT_RESUME, false, UD, false, NULL, NULL },
	{ VMEXIT_UD_INSN, EXIT_RESUME, false, UD, false, NULL, NULL },
	{ VMEXIT_INVD, EXIT_RESUME, true, NO_EVENT, false, NULL, NULL },
	{ VMEXIT_PAUSE, EXIT_RESUME, true, NO_EVENT, false, NULL, NULL },
	/* never intercepted: a backend that reports it is wrong */
	{ VMEXIT_RDTSCP, EXIT_CRASH, false, NO_EVENT, false, "unhandled VM exit", NULL },
	/* Intel partition (the fake's vendor): no counters */
	{ VMEXIT_RDPMC, EXIT_RESUME, false, GP, true, NULL, NULL },
	/* physical INIT: none is ever sent; SIPI: the loop's business */
	{ VMEXIT_INIT, EXIT_RESUME, false, NO_EVENT, false, NULL, NULL },
	{ VMEXIT_SIPI, EXIT_RESUME, false, NO_EVENT, false, NULL, NULL },
	{ VMEXIT_TRIPLE_FAULT, EXIT_CRASH, false, NO_EVENT, false, "triple fault", NULL },
	{ VMEXIT_INVALID_STATE, EXIT_CRASH, false, NO_EVENT, false, "invalid guest state", NULL },
	/* contained like a guest fault, not a hypervisor stop */
	{ VMEXIT_ENTRY_FAIL, EXIT_CRASH, false, NO_EVENT, false, "VM entry failed", NULL },
	{ VMEXIT_UNHANDLED, EXIT_CRASH, false, NO_EVENT, false, "unhandled VM exit", NULL },
};

static void test_every_reason_has_a_handler(void **state)
{
	u32 listed[VMEXIT_REASON_COUNT] = { 0 };

	(void)state;
	for (u32 r = 0; r < VMEXIT_REASON_COUNT; r++)
		assert_non_null(exit_handlers[r]);
	/* and the table above names each reason once: a new reason needs a row */
	for (size_t i = 0; i < ARRAY_SIZE(dispatch); i++) {
		assert_true(dispatch[i].reason < VMEXIT_REASON_COUNT);
		listed[dispatch[i].reason]++;
	}
	for (u32 r = 0; r < VMEXIT_REASON_COUNT; r++)
		if (listed[r] != 1)
			fail_msg("exit reason %u (%s) is in the table %u times", r, vm_exit_name(r),
				 listed[r]);
}

static void test_dispatch_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dispatch); i++) {
		struct vm_exit e;
		enum exit_action got;

		v = fake_part_init(4);
		cpuid_init_partition(&fake_part);
		e = fake_exit(v, dispatch[i].reason, INSN_LEN);
		if (dispatch[i].prep)
			dispatch[i].prep(&e);
		got = exit_dispatch(v, &e);
		if (got != dispatch[i].action)
			fail_msg("%s: action %d, want %d", vm_exit_name(dispatch[i].reason), got,
				 dispatch[i].action);
		if (dispatch[i].skip)
			expect_resumed_past(v, INSN_LEN);
		else if (dispatch[i].inject != NO_EVENT)
			expect_injected(v, (u8)dispatch[i].inject, dispatch[i].has_error,
					e.exc.error_code);
		else
			expect_nothing_applied(v);
		assert_int_equal(v->stats.exceptions_injected, dispatch[i].inject != NO_EVENT);
		if (dispatch[i].stop)
			assert_string_equal(fake_part.stop_reason, dispatch[i].stop);
		else
			assert_null(fake_part.stop_reason);
		/* the other vCPUs were not touched */
		for (u32 o = 1; o < 4; o++)
			expect_nothing_applied(&fake_vcpus[o]);
	}
}

/* A reason past the enum (a backend bug) is contained as unhandled. */
static void test_reason_out_of_range(void **state)
{
	static const u32 reasons[] = { VMEXIT_REASON_COUNT, VMEXIT_REASON_COUNT + 1, 64, 0x80000021,
				       0xffffffff };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(reasons); i++) {
		struct vm_exit e;

		v = fake_part_init(1);
		e = fake_exit(v, reasons[i], INSN_LEN);
		assert_int_equal(exit_dispatch(v, &e), EXIT_CRASH);
		assert_string_equal(fake_part.stop_reason, "unhandled VM exit");
		expect_nothing_applied(v);
	}
}

/* The first fatal reason of a partition is the one it stops for. */
static void test_first_stop_reason_stays(void **state)
{
	struct vm_exit e;

	(void)state;
	e = fake_exit(v, VMEXIT_TRIPLE_FAULT, 0);
	assert_int_equal(exit_dispatch(v, &e), EXIT_CRASH);
	e = fake_exit(&fake_vcpus[2], VMEXIT_INVALID_STATE, 0);
	assert_int_equal(exit_dispatch(&fake_vcpus[2], &e), EXIT_CRASH);
	assert_string_equal(fake_part.stop_reason, "triple fault");
	assert_int_equal(exit_fatal(v, EXIT_STOP, "powered off"), EXIT_STOP);
	assert_int_equal(exit_fatal(v, EXIT_REBOOT, "reset"), EXIT_REBOOT);
	assert_string_equal(fake_part.stop_reason, "triple fault");
	fake_part.stop_reason = NULL;
	assert_int_equal(exit_fatal(v, EXIT_REBOOT, "reset"), EXIT_REBOOT);
	assert_string_equal(fake_part.stop_reason, "reset");
}

static void test_exit_names(void **state)
{
	static const char *const names[VMEXIT_REASON_COUNT] = {
		[VMEXIT_NONE] = "none",
		[VMEXIT_EXT_INTR] = "external interrupt",
		[VMEXIT_NMI] = "NMI",
		[VMEXIT_INTR_WINDOW] = "interrupt window",
		[VMEXIT_NMI_WINDOW] = "NMI window",
		[VMEXIT_CPUID] = "CPUID",
		[VMEXIT_HLT] = "HLT",
		[VMEXIT_IO] = "I/O",
		[VMEXIT_MSR_READ] = "RDMSR",
		[VMEXIT_MSR_WRITE] = "WRMSR",
		[VMEXIT_CR_ACCESS] = "CR access",
		[VMEXIT_XSETBV] = "XSETBV",
		[VMEXIT_SLAT_FAULT] = "second-level fault",
		[VMEXIT_SLAT_MISCONFIG] = "second-level misconfiguration",
		[VMEXIT_EXCEPTION] = "exception",
		[VMEXIT_HYPERCALL] = "hypercall",
		[VMEXIT_VIRT_INSN] = "virtualization instruction",
		[VMEXIT_UD_INSN] = "unsupported instruction",
		[VMEXIT_INVD] = "INVD/WBINVD",
		[VMEXIT_PAUSE] = "PAUSE",
		[VMEXIT_RDTSCP] = "RDTSCP",
		[VMEXIT_RDPMC] = "RDPMC",
		[VMEXIT_INIT] = "INIT",
		[VMEXIT_SIPI] = "SIPI",
		[VMEXIT_TRIPLE_FAULT] = "triple fault",
		[VMEXIT_INVALID_STATE] = "invalid guest state",
		[VMEXIT_ENTRY_FAIL] = "VM entry failure",
		[VMEXIT_UNHANDLED] = "unhandled exit",
	};

	(void)state;
	for (u32 r = 0; r < VMEXIT_REASON_COUNT; r++) {
		assert_non_null(names[r]); /* a new reason needs its name here */
		assert_string_equal(vm_exit_name(r), names[r]);
	}
	assert_string_equal(vm_exit_name(VMEXIT_REASON_COUNT), "unknown");
	assert_string_equal(vm_exit_name(VMEXIT_REASON_COUNT + 1), "unknown");
	assert_string_equal(vm_exit_name(0xffffffff), "unknown");
}

/* ---- CPUID, RDMSR, WRMSR: the registers ---- */

/* CPUID takes EAX and ECX, writes all four registers zero-extended (SDM 2A
 * CPUID: the high 32 bits are cleared in 64-bit mode), and skips. */
static void test_cpuid_registers(void **state)
{
	struct vm_exit e;

	(void)state;
	for (u32 id = 0; id < 4; id++) {
		struct vcpu *vc = &fake_vcpus[id];

		e = fake_exit(vc, VMEXIT_CPUID, 2);
		vc->gpr[GPR_RAX] = GARBAGE | 0x40000000;
		vc->gpr[GPR_RBX] = GARBAGE;
		vc->gpr[GPR_RCX] = GARBAGE | 5;
		vc->gpr[GPR_RDX] = GARBAGE;
		vc->gpr[GPR_RSI] = GARBAGE;
		assert_int_equal(exit_dispatch(vc, &e), EXIT_RESUME);
		assert_int_equal(vc->gpr[GPR_RAX], 0x40000001);
		assert_int_equal(vc->gpr[GPR_RBX], 0x73736554); /* "Tess" */
		assert_int_equal(vc->gpr[GPR_RCX], 0x48617265); /* "eraH" */
		assert_int_equal(vc->gpr[GPR_RDX], 0x00000056); /* "V\0\0\0" */
		assert_int_equal(vc->gpr[GPR_RSI], GARBAGE);
		expect_resumed_past(vc, 2);

		/* leaf 1 through the per-vCPU path: its own APIC ID */
		e = fake_exit(vc, VMEXIT_CPUID, 2);
		vc->gpr[GPR_RAX] = GARBAGE | 1;
		vc->gpr[GPR_RCX] = 0;
		exit_dispatch(vc, &e);
		assert_int_equal(vc->gpr[GPR_RAX], 0x000806f8);
		assert_int_equal(vc->gpr[GPR_RBX], id << 24 | 4 << 16 | 0x0800);
		assert_int_equal(vc->gpr[GPR_RCX], BIT(31) | BIT(21) | LEAF1_ECX_PCID |
							   LEAF1_ECX_XSAVE | LEAF1_ECX_AVX);
		/* without MCE(7) MTRR(12) MCA(14), with HTT(28) */
		assert_int_equal(vc->gpr[GPR_RDX],
				 (LEAF1_EDX_BASE & ~(BIT(7) | BIT(12) | BIT(14))) | BIT(28));

		/* leaf 0 through the precomputed path */
		e = fake_exit(vc, VMEXIT_CPUID, 2);
		vc->gpr[GPR_RAX] = 0;
		vc->gpr[GPR_RCX] = GARBAGE;
		exit_dispatch(vc, &e);
		assert_int_equal(vc->gpr[GPR_RAX], 0xd);
		assert_int_equal(vc->gpr[GPR_RBX], 0x756e6547);
		assert_int_equal(vc->gpr[GPR_RCX], 0x6c65746e);
		assert_int_equal(vc->gpr[GPR_RDX], 0x49656e69);
	}
}

/* RDMSR: EDX:EAX, zero-extended (SDM 2B RDMSR); #GP(0) leaves them alone. */
static void test_rdmsr_registers(void **state)
{
	struct vm_exit e;

	(void)state;
	e = fake_exit(v, VMEXIT_MSR_READ, 2);
	e.msr.index = MISC_ENABLE;
	v->gpr[GPR_RAX] = GARBAGE;
	v->gpr[GPR_RDX] = GARBAGE;
	assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
	assert_int_equal(v->gpr[GPR_RAX], 0x1801);
	assert_int_equal(v->gpr[GPR_RDX], 0);
	expect_resumed_past(v, 2);

	fake_lapic.deadline = 0x123456789abcdef0ULL;
	e = fake_exit(v, VMEXIT_MSR_READ, 2);
	e.msr.index = TSC_DEADLINE;
	exit_dispatch(v, &e);
	assert_int_equal(v->gpr[GPR_RAX], 0x9abcdef0);
	assert_int_equal(v->gpr[GPR_RDX], 0x12345678);

	e = fake_exit(v, VMEXIT_MSR_READ, 2);
	e.msr.index = 0x48; /* SPEC_CTRL: not offered */
	v->gpr[GPR_RAX] = GARBAGE;
	v->gpr[GPR_RDX] = GARBAGE;
	assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
	expect_injected(v, GP, true, 0);
	assert_int_equal(v->gpr[GPR_RAX], GARBAGE);
	assert_int_equal(v->gpr[GPR_RDX], GARBAGE);
	assert_int_equal(v->stats.exceptions_injected, 1);
}

/* WRMSR writes EDX:EAX; the high halves of RAX and RDX do not count. */
static void test_wrmsr_registers(void **state)
{
	struct vm_exit e;

	(void)state;
	e = fake_exit(v, VMEXIT_MSR_WRITE, 2);
	e.msr.index = TSC_DEADLINE;
	v->gpr[GPR_RAX] = 0xaaaaaaaa11111111ULL;
	v->gpr[GPR_RDX] = 0xbbbbbbbb22222222ULL;
	assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
	assert_int_equal(fake_lapic.deadline, 0x2222222211111111ULL);
	expect_resumed_past(v, 2);

	e = fake_exit(v, VMEXIT_MSR_WRITE, 2);
	e.msr.index = 0x3a; /* FEATURE_CONTROL: read-only */
	assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
	expect_injected(v, GP, true, 0);

	e = fake_exit(v, VMEXIT_MSR_WRITE, 2);
	e.msr.index = 0xc0010117; /* VM_HSAVE_PA: unknown */
	assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
	expect_injected(v, GP, true, 0);
	assert_int_equal(v->stats.exceptions_injected, 2);
}

/* ---- control registers ---- */

#define PE BIT(0)
#define MP BIT(1)
#define EM BIT(2)
#define CR0_TS_BIT BIT(3)
#define ET BIT(4)
#define NE BIT(5)
#define NW BIT(29)
#define CD BIT(30)
#define PG BIT(31)
#define WP BIT(16)
#define MCE BIT(6)
#define PAE BIT(5)
#define UMIP BIT(11)
#define LA57 BIT(12)
#define VMXE BIT(13)
#define SMXE BIT(14)
#define FSGSBASE BIT(16)
#define PCIDE BIT(17)
#define OSXSAVE BIT(18)
#define KL BIT(19)
#define SMEP BIT(20)
#define SMAP BIT(21)
#define PKE BIT(22)
#define CET BIT(23)
#define PKS BIT(24)
#define UINTR BIT(25)
#define LME BIT(8)
#define LMA BIT(10)
#define LONG (LME | LMA) /* IA-32e mode; compatibility mode (CS.L clear) */
/* test-only bits of `efer` below: CS.L set (64-bit mode), CR3[11:0] not 0 */
#define IN64 BIT(62)
#define PCID3 BIT(61)
#define LONG64 (LONG | IN64)
#define CS_L BIT(9) /* struct seg attr: 64-bit code */

enum cr_result { CR_OK, CR_READ, CR_GP, CR_CONTAIN };

static const struct {
	const char *what;
	u8 type, cr;
	u64 val;	    /* in RBX (MOV to), or the LMSW source */
	u64 cr0, cr4, efer; /* before; efer may have IN64 and PCID3 */
	enum cr_result result;
	u64 want_cr0, want_cr4; /* after, when stored */
} cr_cases[] = {
	{ "mov cr0: protected mode", CR_ACCESS_MOV_TO, 0, PE | ET | NE, ET, 0, 0, CR_OK,
	  PE | ET | NE, 0 },
	{ "mov cr0: 32-bit paging", CR_ACCESS_MOV_TO, 0, PE | PG | ET, PE | ET, 0, 0, CR_OK,
	  PE | PG | ET, 0 },
	{ "mov cr0: caches off", CR_ACCESS_MOV_TO, 0, PE | CD | NW, PE, 0, 0, CR_OK, PE | CD | NW,
	  0 },
	{ "mov cr0: long mode", CR_ACCESS_MOV_TO, 0, PE | PG, PE, PAE, LME, CR_OK, PE | PG, PAE },
	/* SDM 3A 2.5: PG needs PE, NW needs CD, bits 63:32 are reserved */
	{ "mov cr0: PG without PE", CR_ACCESS_MOV_TO, 0, PG, PE, 0, 0, CR_GP, 0, 0 },
	{ "mov cr0: NW without CD", CR_ACCESS_MOV_TO, 0, PE | NW, PE, 0, 0, CR_GP, 0, 0 },
	{ "mov cr0: bit 32", CR_ACCESS_MOV_TO, 0, PE | BIT(32), PE, 0, 0, CR_GP, 0, 0 },
	{ "mov cr0: bit 63", CR_ACCESS_MOV_TO, 0, PE | BIT(63), PE, 0, 0, CR_GP, 0, 0 },
	/* SDM 3A 9.8.5: paging with LME needs PAE */
	{ "mov cr0: LME without PAE", CR_ACCESS_MOV_TO, 0, PE | PG, PE, 0, LME, CR_GP, 0, 0 },
	{ "mov cr4: PAE and OSXSAVE", CR_ACCESS_MOV_TO, 4, PAE | OSXSAVE, PE, 0, 0, CR_OK, PE,
	  PAE | OSXSAVE },
	{ "mov cr4: clear PAE in long mode", CR_ACCESS_MOV_TO, 4, 0, PE | PG, PAE, LME, CR_GP, 0,
	  0 },
	/* what CPUID hides cannot be turned on */
	{ "mov cr4: VMXE", CR_ACCESS_MOV_TO, 4, PAE | VMXE, PE, PAE, 0, CR_GP, 0, 0 },
	{ "mov cr4: SMXE", CR_ACCESS_MOV_TO, 4, PAE | SMXE, PE, PAE, 0, CR_GP, 0, 0 },
	{ "mov cr4: bit 25", CR_ACCESS_MOV_TO, 4, BIT(25), PE, 0, 0, CR_GP, 0, 0 },
	{ "mov cr4: bit 63", CR_ACCESS_MOV_TO, 4, BIT(63), PE, 0, 0, CR_GP, 0, 0 },
	{ "clts", CR_ACCESS_CLTS, 0, 0, PE | CR0_TS_BIT | MP, 0, 0, CR_OK, PE | MP, 0 },
	/* SDM 2A LMSW: loads PE MP EM TS from bits 3:0, cannot clear PE */
	{ "lmsw: set all four", CR_ACCESS_LMSW, 0, 0xf, ET, 0, 0, CR_OK,
	  ET | PE | MP | EM | CR0_TS_BIT, 0 },
	{ "lmsw: PE stays", CR_ACCESS_LMSW, 0, 0x0, PE | MP | EM | CR0_TS_BIT | NE, 0, 0, CR_OK,
	  PE | NE, 0 },
	{ "lmsw: high bits ignored", CR_ACCESS_LMSW, 0, 0xfff6, PE | PG, 0, 0, CR_OK,
	  PE | PG | MP | EM, 0 },
	/* SDM 3A 2.5: reserved bits 31:0 of CR0 are ignored, not stored */
	{ "mov cr0: reserved bits 6 and 28", CR_ACCESS_MOV_TO, 0, PE | ET | BIT(6) | BIT(28), PE, 0,
	  0, CR_OK, PE | ET, 0 },
	/* SDM 2B MOV: 64-bit mode cannot clear PG; compatibility mode leaves
	 * IA-32e mode so (SDM 3A 10.8.5.4), unless PCIDE is set (4.10.1) */
	{ "mov cr0: clear PG in 64-bit mode", CR_ACCESS_MOV_TO, 0, PE, PE | PG, PAE, LONG64, CR_GP,
	  0, 0 },
	{ "mov cr0: clear PG in compatibility mode", CR_ACCESS_MOV_TO, 0, PE, PE | PG, PAE, LONG,
	  CR_OK, PE, PAE },
	{ "mov cr0: clear PG with PCIDE", CR_ACCESS_MOV_TO, 0, PE, PE | PG, PAE | PCIDE, LONG,
	  CR_GP, 0, 0 },
	{ "lmsw in 64-bit mode", CR_ACCESS_LMSW, 0, 0x3, PE | PG, PAE, LONG64, CR_OK, PE | PG | MP,
	  PAE },
	/* SDM 3A 4.10.1: PCIDE only in IA-32e mode, with CR3[11:0] = 0 */
	{ "mov cr4: PCIDE in IA-32e mode", CR_ACCESS_MOV_TO, 4, PAE | PCIDE, PE | PG, PAE, LONG64,
	  CR_OK, PE | PG, PAE | PCIDE },
	{ "mov cr4: PCIDE outside IA-32e mode", CR_ACCESS_MOV_TO, 4, PAE | PCIDE, PE | PG, PAE, 0,
	  CR_GP, 0, 0 },
	{ "mov cr4: PCIDE with CR3[11:0] set", CR_ACCESS_MOV_TO, 4, PAE | PCIDE, PE | PG, PAE,
	  LONG64 | PCID3, CR_GP, 0, 0 },
	{ "mov cr4: keep PCIDE with CR3[11:0] set", CR_ACCESS_MOV_TO, 4, PAE | PCIDE | OSXSAVE,
	  PE | PG, PAE | PCIDE, LONG64 | PCID3, CR_OK, PE | PG, PAE | PCIDE | OSXSAVE },
	/* SDM 3A 4.1.1: LA57 changes only outside IA-32e mode */
	{ "mov cr4: LA57 before long mode", CR_ACCESS_MOV_TO, 4, PAE | LA57, PE, PAE, 0, CR_OK, PE,
	  PAE | LA57 },
	{ "mov cr4: LA57 in IA-32e mode", CR_ACCESS_MOV_TO, 4, PAE | LA57, PE | PG, PAE, LONG64,
	  CR_GP, 0, 0 },
	{ "mov cr4: clear LA57 in IA-32e mode", CR_ACCESS_MOV_TO, 4, PAE, PE | PG, PAE | LA57,
	  LONG64, CR_GP, 0, 0 },
	/* SDM 3A 2.5: features the partition's CPUID shows */
	{ "mov cr4: UMIP FSGSBASE SMEP SMAP", CR_ACCESS_MOV_TO, 4,
	  PAE | UMIP | FSGSBASE | SMEP | SMAP, PE, PAE, 0, CR_OK, PE,
	  PAE | UMIP | FSGSBASE | SMEP | SMAP },
	/* and those it hides: MCE, Key Locker, PKU (the host has none), CET
	 * and PKS (the host has them), UINTR; bit 15 is no feature's */
	{ "mov cr4: MCE", CR_ACCESS_MOV_TO, 4, PAE | MCE, PE, PAE, 0, CR_GP, 0, 0 },
	{ "mov cr4: KL", CR_ACCESS_MOV_TO, 4, PAE | KL, PE, PAE, 0, CR_GP, 0, 0 },
	{ "mov cr4: PKE", CR_ACCESS_MOV_TO, 4, PAE | PKE, PE, PAE, 0, CR_GP, 0, 0 },
	{ "mov cr4: CET", CR_ACCESS_MOV_TO, 4, PAE | CET, PE | WP, PAE, 0, CR_GP, 0, 0 },
	{ "mov cr4: PKS", CR_ACCESS_MOV_TO, 4, PAE | PKS, PE, PAE, 0, CR_GP, 0, 0 },
	{ "mov cr4: UINTR", CR_ACCESS_MOV_TO, 4, PAE | UINTR, PE, PAE, 0, CR_GP, 0, 0 },
	{ "mov cr4: bit 15", CR_ACCESS_MOV_TO, 4, PAE | BIT(15), PE, PAE, 0, CR_GP, 0, 0 },
	{ "mov from cr0", CR_ACCESS_MOV_FROM, 0, 0, PE | PG | NE, PAE, 0, CR_READ, 0, 0 },
	{ "mov from cr4", CR_ACCESS_MOV_FROM, 4, 0, PE, PAE | OSXSAVE, 0, CR_READ, 0, 0 },
	{ "mov cr8", CR_ACCESS_MOV_TO, 8, 1, PE, 0, 0, CR_CONTAIN, 0, 0 },
	{ "access type 7", 7, 0, 0, PE, 0, 0, CR_CONTAIN, 0, 0 },
};

static void test_cr_access(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cr_cases); i++) {
		struct fake_backend *b;
		struct vm_exit e;
		enum exit_action got;

		print_message("%s\n", cr_cases[i].what);
		v = fake_part_init(2);
		cpuid_init_partition(&fake_part);
		b = fake_be(v);
		b->hw.cr0 = cr_cases[i].cr0;
		b->hw.cr4 = cr_cases[i].cr4;
		b->hw.efer = cr_cases[i].efer & ~(IN64 | PCID3);
		b->hw.cs.attr = (cr_cases[i].efer & IN64) ? CS_L : 0;
		b->hw.cr3 = (cr_cases[i].efer & PCID3) ? 0x5001 : 0x5000;
		e = fake_exit(v, VMEXIT_CR_ACCESS, INSN_LEN);
		e.cr.type = cr_cases[i].type;
		e.cr.cr = cr_cases[i].cr;
		e.cr.gpr = GPR_RBX;
		e.cr.lmsw_src = (u16)cr_cases[i].val;
		v->gpr[GPR_RBX] = cr_cases[i].val;
		got = exit_dispatch(v, &e);
		switch (cr_cases[i].result) {
		case CR_OK:
			assert_int_equal(got, EXIT_RESUME);
			expect_resumed_past(v, INSN_LEN);
			assert_int_equal(b->stored, VS_CR);
			assert_int_equal(b->hw.cr0, cr_cases[i].want_cr0);
			assert_int_equal(b->hw.cr4, cr_cases[i].want_cr4);
			assert_int_equal(b->hw.efer, cr_cases[i].efer & ~(IN64 | PCID3));
			assert_int_equal(b->hw.cr3, (cr_cases[i].efer & PCID3) ? 0x5001 : 0x5000);
			break;
		case CR_READ:
			assert_int_equal(got, EXIT_RESUME);
			expect_resumed_past(v, INSN_LEN);
			assert_int_equal(v->gpr[GPR_RBX],
					 cr_cases[i].cr ? cr_cases[i].cr4 : cr_cases[i].cr0);
			assert_int_equal(b->stores, 0);
			break;
		case CR_GP:
			assert_int_equal(got, EXIT_RESUME);
			expect_injected(v, GP, true, 0);
			break;
		case CR_CONTAIN:
			assert_int_equal(got, EXIT_CRASH);
			expect_nothing_applied(v);
			assert_string_equal(fake_part.stop_reason,
					    cr_cases[i].type == CR_ACCESS_MOV_TO ?
						    "unexpected control-register write" :
						    "unexpected control-register access");
			break;
		}
		if (cr_cases[i].result != CR_OK) {
			assert_int_equal(b->stores, 0);
			assert_int_equal(b->hw.cr0, cr_cases[i].cr0);
			assert_int_equal(b->hw.cr4, cr_cases[i].cr4);
		}
		assert_true(b->loaded & VS_CR);
	}
}

/* MOV to and from CR3 (exits only where the backend intercepts them). */
static void test_cr3(void **state)
{
	struct fake_backend *b = fake_be(v);
	struct vm_exit e;

	(void)state;
	b->hw.cr0 = PE | PG;
	b->hw.cr3 = 0x1000;
	e = fake_exit(v, VMEXIT_CR_ACCESS, INSN_LEN);
	e.cr.type = CR_ACCESS_MOV_TO;
	e.cr.cr = 3;
	e.cr.gpr = GPR_R9;
	v->gpr[GPR_R9] = 0x12345018;
	assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
	assert_int_equal(b->hw.cr3, 0x12345018);
	expect_resumed_past(v, INSN_LEN);
	e = fake_exit(v, VMEXIT_CR_ACCESS, INSN_LEN);
	e.cr.type = CR_ACCESS_MOV_FROM;
	e.cr.cr = 3;
	e.cr.gpr = GPR_R15;
	assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
	assert_int_equal(v->gpr[GPR_R15], 0x12345018);
}

/* ---- XSETBV ---- */

/*
 * XSETBV (SDM 2B XSETBV, SDM 1 13.3): ECX selects XCR0 (anything else #GP),
 * EDX:EAX is the value: x87 always, AVX with SSE, the AVX-512 components
 * all or none and with AVX, MPX's and AMX's two together, and nothing the
 * partition's CPUID 0Dh does not offer: the host's components whose
 * feature it sees (host_cpu gives the features of `host`; MPX is hidden).
 */
static const struct {
	u64 rcx, rax, rdx, host;
	bool gp;
} xsetbv_cases[] = {
	{ 0, 0x1, 0, 0x7, false },
	{ 0, 0x3, 0, 0x7, false },
	{ 0, 0x7, 0, 0x7, false },
	{ 0, 0x0, 0, 0x7, true }, /* no x87 */
	{ 0, 0x2, 0, 0x7, true },
	{ 0, 0x6, 0, 0x7, true },
	{ 0, 0x5, 0, 0x7, true },	   /* AVX without SSE */
	{ 0, 0xf, 0, 0x7, true },	   /* bit 3 not supported */
	{ 0, 0x1, 0x1, 0x7, true },	   /* bit 32 */
	{ 0, 0x1, 0x80000000, 0x7, true }, /* bit 63 */
	{ 1, 0x1, 0, 0x7, true },	   /* XCR1 */
	{ 0xffffffff, 0x1, 0, 0x7, true },
	{ 0x100000000ULL, 0x7, 0, 0x7, false }, /* ECX is 0 */
	{ 0, 0xffffffff00000003ULL, 0xffffffff00000000ULL, 0x7, false },
	{ 0, 0x1, 0, 0, true }, /* the host supports nothing */
	/* MPX: the host has it, the partition does not */
	{ 0, 0x1b, 0, 0x1f, true },
	{ 0, 0x0b, 0, 0x1f, true },
	{ 0, 0x7, 0, 0x1f, false },
	/* AVX-512: opmask, ZMM_Hi256, Hi16_ZMM all or none, and with AVX */
	{ 0, 0xe7, 0, 0x2e7, false },
	{ 0, 0x27, 0, 0x2e7, true }, /* the value that stopped the hypervisor */
	{ 0, 0x67, 0, 0x2e7, true },
	{ 0, 0xc7, 0, 0x2e7, true },
	{ 0, 0xe3, 0, 0x2e7, true },
	{ 0, 0xe1, 0, 0x2e7, true },
	{ 0, 0x207, 0, 0x2e7, false }, /* PKRU */
	{ 0, 0x2e7, 0, 0x2e7, false },
	{ 0, 0x200, 0, 0x2e7, true },
	/* AMX: XTILECFG and XTILEDATA together */
	{ 0, 0x60007, 0, 0x602e7, false },
	{ 0, 0x20007, 0, 0x602e7, true },
	{ 0, 0x40007, 0, 0x602e7, true },
	/* a supervisor component (PT) is never XCR0's, whatever 0Dh says */
	{ 0, 0x107, 0, 0x107, true },
};

static void xsetbv_exit(struct vm_exit *e, u64 rcx, u64 rax, u64 rdx)
{
	*e = fake_exit(v, VMEXIT_XSETBV, INSN_LEN);
	v->gpr[GPR_RCX] = rcx;
	v->gpr[GPR_RAX] = rax;
	v->gpr[GPR_RDX] = rdx;
}

static void test_xsetbv(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(xsetbv_cases); i++) {
		struct vm_exit e;

		print_message("xsetbv ecx %#llx edx:eax %#llx:%#llx, host %#llx\n",
			      (unsigned long long)xsetbv_cases[i].rcx,
			      (unsigned long long)xsetbv_cases[i].rdx,
			      (unsigned long long)xsetbv_cases[i].rax,
			      (unsigned long long)xsetbv_cases[i].host);
		host_cpu(xsetbv_cases[i].host);
		fake_cpu.xcr0 = 0x1;
		v = fake_part_init(1);
		cpuid_init_partition(&fake_part);
		xsetbv_exit(&e, xsetbv_cases[i].rcx, xsetbv_cases[i].rax, xsetbv_cases[i].rdx);
		assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
		if (xsetbv_cases[i].gp) {
			expect_injected(v, GP, true, 0);
			assert_int_equal(fake_cpu.xcr0_writes, 0);
			assert_int_equal(fake_cpu.xcr0, 0x1);
		} else {
			expect_resumed_past(v, INSN_LEN);
			assert_int_equal(fake_cpu.xcr0_writes, 1);
			assert_int_equal(fake_cpu.xcr0, (xsetbv_cases[i].rax & 0xffffffff) |
								(xsetbv_cases[i].rdx << 32));
		}
	}
}

/*
 * RDPMC (SDM 2B, APM 3): an AMD partition reads its four legacy counters
 * (what it wrote to PerfCtr0-3) in ring 0 or with CR4.PCE; another counter
 * number, ring 3 without PCE, or any counter of an Intel partition (no
 * PMU) is #GP and changes no register.
 */
static void rdpmc_exit(struct vm_exit *e, u64 rcx)
{
	*e = fake_exit(v, VMEXIT_RDPMC, INSN_LEN);
	v->gpr[GPR_RCX] = rcx;
	v->gpr[GPR_RAX] = 0xaaaa;
	v->gpr[GPR_RDX] = 0xdddd;
}

static void test_rdpmc(void **state)
{
	static const struct {
		const char *what;
		bool amd;
		u64 rcx, cr4;
		u16 ss_dpl;
		bool gp;
	} cases[] = {
		{ "AMD counter 0, ring 0", true, 0, 0, 0, false },
		{ "AMD counter 3, ring 0", true, 3, 0, 0, false },
		{ "AMD counter 4 (no PerfCtrExtCore)", true, 4, 0, 0, true },
		{ "AMD counter 0x40000000", true, 0x40000000, 0, 0, true },
		{ "AMD ring 3 without PCE", true, 1, 0, 3, true },
		{ "AMD ring 3 with PCE", true, 1, CR4_PCE, 3, false },
		{ "Intel counter 0: no PMU", false, 0, 0, 0, true },
	};
	struct fake_backend *b;
	struct vm_exit e;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("%s\n", cases[i].what);
		v = fake_part_init(1);
		cpuid_init_partition(&fake_part);
		fake_part.cpuid_basic[CPUID_VENDOR_LEAF].ebx =
			cases[i].amd ? CPUID_VENDOR_AMD_EBX : 0x756e6547; /* "Genu"ineIntel */
		if (cases[i].amd)
			assert_int_equal(msr_write(v, MSR_AMD_PERF_CTR0 + (u32)MIN(cases[i].rcx, 3),
						   0x123456789abcULL),
					 0);
		b = fake_be(v);
		b->hw.cr0 = PE;
		b->hw.cr4 = cases[i].cr4;
		b->hw.rflags = BIT(1);
		b->hw.ss.attr = (u16)(cases[i].ss_dpl << 5);
		rdpmc_exit(&e, cases[i].rcx);
		assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
		if (cases[i].gp) {
			expect_injected(v, GP, true, 0);
			assert_int_equal(v->gpr[GPR_RAX], 0xaaaa);
			assert_int_equal(v->gpr[GPR_RDX], 0xdddd);
		} else {
			expect_resumed_past(v, INSN_LEN);
			assert_int_equal(v->gpr[GPR_RAX], 0x56789abc);
			assert_int_equal(v->gpr[GPR_RDX], 0x1234);
		}
	}
}

/*
 * Outside ring 0 XSETBV is #GP (the CPU checks that before it exits; the
 * hypervisor does not rely on it), and a value the CPU refuses although the
 * checks let it through comes back to the guest as #GP, never to the
 * hypervisor (hw/x86.h xsetbv_safe).
 */
static void test_xsetbv_faults(void **state)
{
	static const struct {
		const char *what;
		u64 cr0, rflags;
		u16 ss_dpl;
		bool gp;
	} modes[] = {
		{ "real mode", 0, 0, 0, false },
		{ "ring 0", PE, 0, 0, false },
		{ "ring 3", PE, 0, 3, true },
		{ "ring 1", PE, 0, 1, true },
		{ "virtual-8086 mode", PE, BIT(17), 0, true },
	};
	struct fake_backend *b;
	struct vm_exit e;

	(void)state;
	host_cpu(0x2e7);
	for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
		print_message("%s\n", modes[i].what);
		fake_cpu.xcr0 = 0x1;
		fake_cpu.xcr0_writes = 0;
		v = fake_part_init(1);
		cpuid_init_partition(&fake_part);
		b = fake_be(v);
		b->hw.cr0 = modes[i].cr0;
		b->hw.rflags = modes[i].rflags | BIT(1);
		b->hw.ss.attr = (u16)(modes[i].ss_dpl << 5);
		xsetbv_exit(&e, 0, 0x7, 0);
		assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
		if (modes[i].gp) {
			expect_injected(v, GP, true, 0);
			assert_int_equal(fake_cpu.xcr0, 0x1);
		} else {
			expect_resumed_past(v, INSN_LEN);
			assert_int_equal(fake_cpu.xcr0, 0x7);
		}
	}
	/* the CPU refuses a value that passed the checks */
	b->hw.rflags = BIT(1);
	fake_cpu.xcr0 = 0x7;
	fake_cpu.xsetbv_gp = true;
	xsetbv_exit(&e, 0, 0xe7, 0);
	assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
	expect_injected(v, GP, true, 0);
	assert_int_equal(fake_cpu.xcr0, 0x7);
	assert_false(fake_cpu.xsetbv_gp);
}

/* ---- intercepted exceptions ---- */

/* Back to the guest as they came, with an error code for exactly the vectors
 * that push one (SDM 3A 6.15: #DF #TS #NP #SS #GP #PF #AC #CP). */
static void test_exception_reinjection(void **state)
{
	static const u8 with_error[] = { DF, TS, NP, SS, GP, PF, AC, CP };

	(void)state;
	for (u32 vec = 0; vec < 32; vec++) {
		bool has_error = false;
		struct vm_exit e;

		for (size_t i = 0; i < ARRAY_SIZE(with_error); i++)
			has_error |= with_error[i] == vec;
		e = fake_exit(v, VMEXIT_EXCEPTION, 0);
		e.exc.vector = (u8)vec;
		e.exc.has_error = !has_error; /* decided by the vector, not this */
		e.exc.error_code = 0x10 + vec;
		assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
		print_message("vector %u\n", vec);
		expect_injected(v, (u8)vec, has_error, 0x10 + vec);
		assert_int_equal(v->stats.exceptions_injected, vec + 1);
	}
}

/* An exception intercepted while another event was being delivered
 * (SDM 3A 6.15, table 6-5): what the guest gets instead of the two. */
static void test_exception_during_delivery(void **state)
{
	static const struct {
		u8 first_type, first, second;
		int want; /* the vector delivered, -1: shutdown */
	} cases[] = {
		{ EVENT_EXCEPTION, AC, AC, AC },  /* CVE-2015-5307: benign */
		{ EVENT_EXCEPTION, 1, 1, 1 },	  /* CVE-2015-8104: #DB */
		{ EVENT_EXCEPTION, GP, AC, AC },  /* contributory, benign */
		{ EVENT_EXCEPTION, AC, GP, GP },  /* benign, contributory */
		{ EVENT_EXCEPTION, NP, GP, DF },  /* contributory twice */
		{ EVENT_EXCEPTION, 0, TS, DF },	  /* #DE is contributory */
		{ EVENT_EXCEPTION, PF, PF, DF },  /* page fault twice */
		{ EVENT_EXCEPTION, PF, SS, DF },  /* contributory in #PF */
		{ EVENT_EXCEPTION, GP, PF, PF },  /* #PF in contributory */
		{ EVENT_EXCEPTION, CP, GP, DF },  /* #CP is contributory */
		{ EVENT_EXCEPTION, DF, GP, -1 },  /* in #DF: shutdown */
		{ EVENT_EXCEPTION, DF, PF, -1 },  /* in #DF: shutdown */
		{ EVENT_EXCEPTION, DF, AC, AC },  /* benign in #DF */
		{ EVENT_EXTINT, 0x30, GP, GP },	  /* an interrupt: lost */
		{ EVENT_NMI, 2, AC, AC },	  /* an NMI: lost */
		{ EVENT_SOFT_INT, 0x80, GP, GP }, /* INT n: runs again */
		{ EVENT_EXCEPTION, 16, UD, UD },  /* #MF, #UD: benign */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bool err = cases[i].second == GP || cases[i].second == AC ||
			   cases[i].second == PF || cases[i].second == SS || cases[i].second == TS;
		struct vm_exit e = fake_exit(v, VMEXIT_EXCEPTION, 0);

		print_message("case %zu\n", i);
		fake_part.stop_reason = NULL;
		e.vectoring = (struct vcpu_event){ .type = cases[i].first_type,
						   .vector = cases[i].first };
		e.exc.vector = cases[i].second;
		e.exc.error_code = 0x1234;
		if (cases[i].want < 0) {
			assert_int_equal(exit_dispatch(v, &e), EXIT_CRASH);
			assert_string_equal(fake_part.stop_reason, "triple fault");
			expect_nothing_applied(v);
		} else if (cases[i].want == DF) {
			assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
			expect_injected(v, DF, true, 0);
		} else {
			assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
			expect_injected(v, cases[i].second, err, 0x1234);
		}
	}
}

/* An instruction's own exit interrupts no delivery: whatever the
 * vectoring field holds then is not looked at. */
static void test_vectoring_only_without_insn(void **state)
{
	struct vm_exit e = fake_exit(v, VMEXIT_MSR_READ, 2);

	(void)state;
	e.msr.index = 0x3a0; /* nobody's: #GP */
	e.vectoring = (struct vcpu_event){ .type = EVENT_EXCEPTION, .vector = GP };
	assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
	expect_injected(v, GP, true, 0);
}

/* INT1 (ICEBP) exits through the #DB intercept on VT-x: the #DB goes to
 * the guest past the instruction, as a trap. */
static void test_icebp(void **state)
{
	struct vm_exit e = fake_exit(v, VMEXIT_EXCEPTION, 1);
	const struct vm_apply *a = &fake_be(v)->apply;

	(void)state;
	e.exc.vector = 1;
	assert_int_equal(exit_dispatch(v, &e), EXIT_RESUME);
	assert_int_equal(fake_be(v)->applies, 1);
	assert_int_equal(fake_be(v)->skips, 0);
	assert_true(a->skip_insn);
	assert_int_equal(a->event.type, EVENT_EXCEPTION);
	assert_int_equal(a->event.vector, 1);
	assert_false(a->event.has_error);
	assert_int_equal(v->stats.exceptions_injected, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_reason_has_a_handler),
		cmocka_unit_test_setup_teardown(test_dispatch_table, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_reason_out_of_range, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_first_stop_reason_stays, setup, fake_teardown),
		cmocka_unit_test(test_exit_names),
		cmocka_unit_test_setup_teardown(test_cpuid_registers, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_rdmsr_registers, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_wrmsr_registers, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_cr_access, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_cr3, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_xsetbv, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_rdpmc, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_xsetbv_faults, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_exception_reinjection, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_exception_during_delivery, setup,
						fake_teardown),
		cmocka_unit_test_setup_teardown(test_icebp, setup, fake_teardown),
		cmocka_unit_test_setup_teardown(test_vectoring_only_without_insn, setup,
						fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
