/*
 * The AMD-V backend's pure logic (hv/svm/logic.h): the exit decode from the
 * VMCB's exit fields, the VMCB accessors and their clean bits, the state
 * conversions, event injection, the interrupt window, the controls a vCPU
 * starts with and the permission maps. The VMCB is plain memory here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/hw/x86.h"
#include "hv/svm/logic.h"
#include "hv/svm/vmcb.h"

#define RIP 0x0000000000101000ULL
#define MSR_TSC 0x10 /* IA32_TIME_STAMP_COUNTER */

static struct vmcb *vmcb;
static struct svm_vcpu svcpu;
static struct vcpu vcpu;

/* IA32_TSC_AUX: the register the machine half reads and writes */
static u64 fake_tsc_aux;

u64 svm_tsc_aux_read(void)
{
	return fake_tsc_aux;
}

void svm_tsc_aux_write(u64 val)
{
	fake_tsc_aux = val;
}

static int setup(void **state)
{
	(void)state;
	vmcb = calloc(1, sizeof(*vmcb));
	assert_non_null(vmcb);
	memset(&svcpu, 0, sizeof(svcpu));
	memset(&vcpu, 0, sizeof(vcpu));
	svcpu.vmcb = vmcb;
	vcpu.vendor = &svcpu;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(vmcb);
	vmcb = NULL;
	return 0;
}

/* --- exit decode ------------------------------------------------------- */

/* A #VMEXIT as the CPU leaves it: the code, EXITINFO1/2, RIP at the
 * exiting instruction and, with next-RIP save, nRIP past it. */
static void exit_fields(u64 code, u64 info1, u64 info2, u64 nrip)
{
	vmcb->ctl.exitcode = code;
	vmcb->ctl.exitinfo1 = info1;
	vmcb->ctl.exitinfo2 = info2;
	vmcb->ctl.nrip = nrip;
	vmcb->save.rip = RIP;
}

/* Decodes into an exit full of garbage, so a field the decode should set
 * and does not shows. */
static const struct svm_insn *decode(bool nrip, u64 rcx, struct vm_exit *e)
{
	memset(e, 0xa5, sizeof(*e));
	return svm_decode_exit(vmcb, rcx, nrip, e);
}

static void assert_insn(const struct svm_insn *insn, u8 len, const u8 *opcode)
{
	assert_non_null(insn);
	assert_int_equal(insn->len, len);
	assert_memory_equal(insn->opcode, opcode, len);
}

static void test_decode_cpuid(void **state)
{
	static const u8 cpuid[] = { 0x0f, 0xa2 };
	struct vm_exit e;

	(void)state;
	/* next-RIP save: the length is nRIP - RIP, nothing to match */
	exit_fields(SVM_EXIT_CPUID, 0, 0, RIP + 2);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.reason, VMEXIT_CPUID);
	assert_int_equal(e.raw, SVM_EXIT_CPUID);
	assert_int_equal(e.qual, 0);
	assert_int_equal(e.insn_len, 2);
	/* a prefixed CPUID (a redundant 0x66): nRIP says 3 */
	exit_fields(SVM_EXIT_CPUID, 0, 0, RIP + 3);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.insn_len, 3);
	/* an nRIP not past RIP (a CPU that left it 0, or at RIP): the plain
	 * length */
	exit_fields(SVM_EXIT_CPUID, 0, 0, 0);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.insn_len, 2);
	exit_fields(SVM_EXIT_CPUID, 0, 0, RIP);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.insn_len, 2);
	/* no next-RIP save: the plain length, and CPUID's bytes to match */
	exit_fields(SVM_EXIT_CPUID, 0, 0, RIP + 7);
	assert_insn(decode(false, 0, &e), 2, cpuid);
	assert_int_equal(e.reason, VMEXIT_CPUID);
	assert_int_equal(e.insn_len, 2);
}

static void test_decode_hlt_vmmcall(void **state)
{
	static const u8 hlt[] = { 0xf4 };
	static const u8 vmmcall[] = { 0x0f, 0x01, 0xd9 };
	struct vm_exit e;

	(void)state;
	exit_fields(SVM_EXIT_HLT, 0, 0, RIP + 1);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.reason, VMEXIT_HLT);
	assert_int_equal(e.insn_len, 1);
	assert_insn(decode(false, 0, &e), 1, hlt);
	assert_int_equal(e.insn_len, 1);

	exit_fields(SVM_EXIT_VMMCALL, 0, 0, RIP + 3);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.reason, VMEXIT_HYPERCALL);
	assert_int_equal(e.raw, 0x81);
	assert_int_equal(e.insn_len, 3);
	assert_insn(decode(false, 0, &e), 3, vmmcall);
	assert_int_equal(e.insn_len, 3);
}

static void test_decode_ioio(void **state)
{
	struct vm_exit e;

	(void)state;
	/* out %al, %dx to COM1: EXITINFO2 is the next RIP (1 byte on) */
	exit_fields(SVM_EXIT_IOIO, (0x3f8ULL << 16) | SVM_IOIO_SZ8, RIP + 1, 0);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.reason, VMEXIT_IO);
	assert_int_equal(e.raw, SVM_EXIT_IOIO);
	assert_int_equal(e.qual, (0x3f8ULL << 16) | SVM_IOIO_SZ8);
	assert_int_equal(e.io.port, 0x3f8);
	assert_int_equal(e.io.size, 1);
	assert_false(e.io.in);
	assert_false(e.io.string);
	assert_false(e.io.rep);
	assert_int_equal(e.insn_len, 1);
	/* in $0x71, %ax (66 e5 71): 2 bytes, 3 long; EXITINFO2 counts even
	 * without next-RIP save, and nothing is left to match */
	exit_fields(SVM_EXIT_IOIO, (0x71ULL << 16) | SVM_IOIO_SZ16 | SVM_IOIO_IN, RIP + 3, 0);
	assert_null(decode(false, 0, &e));
	assert_int_equal(e.io.port, 0x71);
	assert_int_equal(e.io.size, 2);
	assert_true(e.io.in);
	assert_false(e.io.string);
	assert_int_equal(e.insn_len, 3);
	/* in %dx, %eax at the highest port */
	exit_fields(SVM_EXIT_IOIO, (0xffffULL << 16) | SVM_IOIO_SZ32 | SVM_IOIO_IN, RIP + 1, 0);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.io.port, 0xffff);
	assert_int_equal(e.io.size, 4);
	assert_true(e.io.in);
	/* rep outsw to 0xcfc (f3 66 6f), with the 64-bit address size (bit 9)
	 * and DS (bits 12:10 = 3) as the CPU reports them */
	exit_fields(SVM_EXIT_IOIO,
		    (0xcfcULL << 16) | BIT(9) | (3 << 10) | SVM_IOIO_SZ16 | SVM_IOIO_REP |
			    SVM_IOIO_STR,
		    RIP + 3, 0);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.io.port, 0xcfc);
	assert_int_equal(e.io.size, 2);
	assert_false(e.io.in);
	assert_true(e.io.string);
	assert_true(e.io.rep);
	assert_int_equal(e.insn_len, 3);
	/* insb from 0x60 without REP */
	exit_fields(SVM_EXIT_IOIO, (0x60ULL << 16) | SVM_IOIO_SZ8 | SVM_IOIO_STR | SVM_IOIO_IN,
		    RIP + 1, 0);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.io.port, 0x60);
	assert_int_equal(e.io.size, 1);
	assert_true(e.io.in);
	assert_true(e.io.string);
	assert_false(e.io.rep);
	assert_int_equal(e.insn_len, 1);
}

static void test_decode_msr(void **state)
{
	static const u8 rdmsr[] = { 0x0f, 0x32 };
	static const u8 wrmsr[] = { 0x0f, 0x30 };
	struct vm_exit e;

	(void)state;
	/* RDMSR of EFER; the index is ECX only */
	exit_fields(SVM_EXIT_MSR, 0, 0, RIP + 2);
	assert_null(decode(true, 0xdeadbeef00000000ULL | MSR_IA32_EFER, &e));
	assert_int_equal(e.reason, VMEXIT_MSR_READ);
	assert_int_equal(e.msr.index, MSR_IA32_EFER);
	assert_int_equal(e.insn_len, 2);
	assert_insn(decode(false, MSR_IA32_EFER, &e), 2, rdmsr);
	assert_int_equal(e.reason, VMEXIT_MSR_READ);
	assert_int_equal(e.insn_len, 2);
	/* WRMSR of the TSC deadline, prefixed: nRIP says 3 */
	exit_fields(SVM_EXIT_MSR, 1, 0, RIP + 3);
	assert_null(decode(true, MSR_IA32_TSC_DEADLINE, &e));
	assert_int_equal(e.reason, VMEXIT_MSR_WRITE);
	assert_int_equal(e.msr.index, MSR_IA32_TSC_DEADLINE);
	assert_int_equal(e.qual, 1);
	assert_int_equal(e.insn_len, 3);
	assert_insn(decode(false, MSR_IA32_TSC_DEADLINE, &e), 2, wrmsr);
	assert_int_equal(e.reason, VMEXIT_MSR_WRITE);
	assert_int_equal(e.insn_len, 2);
}

static void test_decode_npf(void **state)
{
	struct vm_exit e;

	(void)state;
	/* a write to a GPA nothing maps (an MMIO register) */
	exit_fields(SVM_EXIT_NPF, SVM_NPF_W, 0xfec00010, RIP + 3);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.reason, VMEXIT_SLAT_FAULT);
	assert_int_equal(e.raw, SVM_EXIT_NPF);
	assert_int_equal(e.slat.gpa, 0xfec00010);
	assert_int_equal(e.slat.access, EXIT_ACCESS_WRITE);
	assert_false(e.slat.present);
	assert_false(e.slat.gla_valid);
	assert_int_equal(e.insn_len, 0); /* the core decodes the instruction */
	/* a read of a present page that forbids it, met during the guest's
	 * page-table walk (bit 33) */
	exit_fields(SVM_EXIT_NPF, SVM_NPF_P | BIT(33), 0x123456789000ULL, 0);
	assert_null(decode(false, 0, &e));
	assert_int_equal(e.slat.gpa, 0x123456789000ULL);
	assert_int_equal(e.slat.access, EXIT_ACCESS_READ);
	assert_true(e.slat.present);
	/* a fetch from a present page (NX), user mode (bit 2), final
	 * translation (bit 32) */
	exit_fields(SVM_EXIT_NPF, SVM_NPF_P | SVM_NPF_ID | BIT(2) | BIT(32), 0x7000, 0);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.slat.access, EXIT_ACCESS_EXEC);
	assert_true(e.slat.present);
	assert_false(e.slat.gla_valid);
	/* a user-mode read (bit 2) is a read; a supervisor fetch a fetch */
	exit_fields(SVM_EXIT_NPF, BIT(2), 0x9000, 0);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.slat.access, EXIT_ACCESS_READ);
	assert_false(e.slat.present);
	exit_fields(SVM_EXIT_NPF, SVM_NPF_ID, 0xa000, 0);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.slat.access, EXIT_ACCESS_EXEC);
	/* the write wins when both are reported */
	exit_fields(SVM_EXIT_NPF, SVM_NPF_W | SVM_NPF_ID, 0x8000, 0);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.slat.access, EXIT_ACCESS_WRITE);
	assert_false(e.slat.present);
}

static void test_decode_exceptions(void **state)
{
	struct vm_exit e;

	(void)state;
	/* #PF: EXITINFO1 the error code, EXITINFO2 the faulting address */
	exit_fields(SVM_EXIT_EXCP_BASE + X86_EXC_PF, 0x6, 0x00007fffdeadb000ULL, 0);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.reason, VMEXIT_EXCEPTION);
	assert_int_equal(e.raw, 0x4e);
	assert_int_equal(e.exc.vector, X86_EXC_PF);
	assert_int_equal(e.exc.error_code, 0x6);
	assert_int_equal(e.exc.cr2, 0x00007fffdeadb000ULL);
	assert_int_equal(e.insn_len, 0);
	/* #GP(0x10) */
	exit_fields(SVM_EXIT_EXCP_BASE + X86_EXC_GP, 0x10, 0, 0);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	assert_int_equal(e.exc.error_code, 0x10);
	/* the first and the last exception code */
	exit_fields(SVM_EXIT_EXCP_BASE, 0, 0, 0);
	decode(true, 0, &e);
	assert_int_equal(e.reason, VMEXIT_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_DE);
	exit_fields(SVM_EXIT_EXCP_BASE + 31, 0, 0, 0);
	decode(true, 0, &e);
	assert_int_equal(e.reason, VMEXIT_EXCEPTION);
	assert_int_equal(e.exc.vector, 31);
	/* just below: a DR write exit, not an exception */
	exit_fields(SVM_EXIT_EXCP_BASE - 1, 0, 0, 0);
	decode(true, 0, &e);
	assert_int_equal(e.reason, VMEXIT_UNHANDLED);
}

static void test_decode_events(void **state)
{
	static const struct {
		u64 code;
		u32 reason;
	} events[] = {
		{ 0x060, VMEXIT_EXT_INTR },	{ 0x061, VMEXIT_NMI },
		{ 0x063, VMEXIT_INIT },		{ 0x064, VMEXIT_INTR_WINDOW },
		{ 0x07f, VMEXIT_TRIPLE_FAULT },
	};
	struct vm_exit e;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(events); i++) {
		/* not instructions: no length even with an nRIP past RIP, and
		 * nothing to match without next-RIP save */
		exit_fields(events[i].code, 0, 0, RIP + 2);
		assert_null(decode(true, 0, &e));
		assert_int_equal(e.reason, events[i].reason);
		assert_int_equal(e.raw, events[i].code);
		assert_int_equal(e.insn_len, 0);
		assert_null(decode(false, 0, &e));
		assert_int_equal(e.reason, events[i].reason);
		assert_int_equal(e.insn_len, 0);
	}
}

static void test_decode_instructions(void **state)
{
	static const struct {
		u64 code;
		u32 reason;
		u8 len;
		u8 opcode[3];
	} insns[] = {
		/* the guest continues after these */
		{ 0x08d, VMEXIT_XSETBV, 3, { 0x0f, 0x01, 0xd1 } },
		{ 0x06f, VMEXIT_RDPMC, 2, { 0x0f, 0x33 } },
		{ 0x076, VMEXIT_INVD, 2, { 0x0f, 0x08 } },
		{ 0x089, VMEXIT_INVD, 2, { 0x0f, 0x09 } },
		{ 0x077, VMEXIT_PAUSE, 2, { 0xf3, 0x90 } },
		/* these become #UD at the instruction */
		{ 0x080, VMEXIT_VIRT_INSN, 0, { 0 } }, /* VMRUN */
		{ 0x082, VMEXIT_VIRT_INSN, 0, { 0 } }, /* VMLOAD */
		{ 0x083, VMEXIT_VIRT_INSN, 0, { 0 } }, /* VMSAVE */
		{ 0x084, VMEXIT_VIRT_INSN, 0, { 0 } }, /* STGI */
		{ 0x085, VMEXIT_VIRT_INSN, 0, { 0 } }, /* CLGI */
		{ 0x086, VMEXIT_VIRT_INSN, 0, { 0 } }, /* SKINIT */
		{ 0x07a, VMEXIT_VIRT_INSN, 0, { 0 } }, /* INVLPGA */
		{ 0x08a, VMEXIT_UD_INSN, 0, { 0 } },   /* MONITOR */
		{ 0x08b, VMEXIT_UD_INSN, 0, { 0 } },   /* MWAIT */
		{ 0x08c, VMEXIT_UD_INSN, 0, { 0 } },   /* MWAIT conditional */
		{ 0x08e, VMEXIT_UD_INSN, 0, { 0 } },   /* RDPRU */
		{ 0x073, VMEXIT_UD_INSN, 0, { 0 } },   /* RSM */
	};
	struct vm_exit e;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(insns); i++) {
		exit_fields(insns[i].code, 0, 0, RIP + insns[i].len + 1);
		assert_null(decode(true, 0, &e));
		assert_int_equal(e.reason, insns[i].reason);
		/* nRIP when the core skips it (a prefix here), else 0 */
		assert_int_equal(e.insn_len, insns[i].len ? insns[i].len + 1U : 0);
		if (insns[i].len) {
			assert_insn(decode(false, 0, &e), insns[i].len, insns[i].opcode);
			assert_int_equal(e.insn_len, insns[i].len);
		} else {
			assert_null(decode(false, 0, &e));
			assert_int_equal(e.insn_len, 0);
		}
	}
}

static void test_decode_invalid(void **state)
{
	struct vm_exit e;

	(void)state;
	/* VMEXIT_INVALID as the APM writes it (-1) and as QEMU leaves it
	 * (PLATFORMS.md: the low 32 bits only) */
	exit_fields(0xffffffffffffffffULL, 0, 0, RIP + 2);
	assert_null(decode(true, 0, &e));
	assert_int_equal(e.reason, VMEXIT_INVALID_STATE);
	assert_int_equal(e.raw, 0xffffffffffffffffULL);
	assert_int_equal(e.insn_len, 0);
	exit_fields(0x00000000ffffffffULL, 0, 0, RIP + 2);
	assert_null(decode(false, 0, &e));
	assert_int_equal(e.reason, VMEXIT_INVALID_STATE);
	assert_int_equal(e.raw, 0x00000000ffffffffULL);
	/* other negative codes (VMEXIT_BUSY, -2) are not */
	exit_fields(0xfffffffffffffffeULL, 0, 0, 0);
	decode(true, 0, &e);
	assert_int_equal(e.reason, VMEXIT_UNHANDLED);
}

static void test_decode_unknown(void **state)
{
	/* CR0 read and write, RDTSCP, task switch, AVIC, VMGEXIT, and
	 * numbers no CPU gives */
	static const u64 codes[] = { 0x000, 0x010,  0x01f,	    0x020,	  0x062,
				     0x07d, 0x087,  0x08f,	    0x401,	  0x402,
				     0x403, 0x1234, 0x100000072ULL, 0x7fffffffULL };
	struct vm_exit e;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		exit_fields(codes[i], 0x55, 0, RIP + 2);
		assert_null(decode(true, 0, &e));
		assert_int_equal(e.reason, VMEXIT_UNHANDLED);
		assert_int_equal(e.raw, codes[i]);
		assert_int_equal(e.qual, 0x55);
		assert_int_equal(e.insn_len, 0);
		assert_null(decode(false, 0, &e));
		assert_int_equal(e.reason, VMEXIT_UNHANDLED);
	}
}

static void test_decode_every_code(void **state)
{
	struct vm_exit e;

	(void)state;
	/* every code up to past NPF has a neutral reason; only an
	 * instruction's exit has a length */
	for (u64 code = 0; code < 0x500; code++) {
		const struct svm_insn *insn;

		exit_fields(code, 0, RIP + 2, RIP + 2);
		insn = decode(false, 0, &e);
		assert_true(e.reason > VMEXIT_NONE && e.reason < VMEXIT_REASON_COUNT);
		assert_int_equal(e.raw, code);
		if (e.reason == VMEXIT_IO)
			assert_int_equal(e.insn_len, 2);
		else
			assert_int_equal(e.insn_len, insn ? insn->len : 0);
	}
	/* the table: each code once, a reason for each, opcodes that fit */
	for (size_t i = 0; i < SVM_SIMPLE_EXIT_COUNT; i++) {
		assert_true(svm_simple_exits[i].reason > VMEXIT_NONE &&
			    svm_simple_exits[i].reason < VMEXIT_REASON_COUNT);
		assert_true(svm_simple_exits[i].insn.len <= 3);
		for (size_t j = 0; j < i; j++)
			assert_int_not_equal(svm_simple_exits[i].code, svm_simple_exits[j].code);
	}
	/* CPUID first: the lookup is linear and it is the most frequent */
	assert_int_equal(svm_simple_exits[0].code, SVM_EXIT_CPUID);
}

/* --- VMCB accessors and state ------------------------------------------ */

static void test_store_clean_bits(void **state)
{
	/* APM 2 15.15.3, table 15-9: the groups each state bit writes */
	static const struct {
		u32 mask;
		u32 dirty;
	} cases[] = {
		{ VS_RIP, 0 },
		{ VS_RFLAGS, 0 },
		{ VS_CR, VMCB_CLEAN_CRX | VMCB_CLEAN_CR2 },
		{ VS_SEG, VMCB_CLEAN_SEG | VMCB_CLEAN_DT },
		{ VS_SEG_CODE, 0 }, /* a load_state mask only */
		{ VS_DR, VMCB_CLEAN_DRX },
		{ VS_SYSENTER, 0 }, /* VMLOAD's, never cached */
		{ VS_PAT, VMCB_CLEAN_NP },
		{ VS_INTR, 0 },
		{ VS_MSR, 0 }, /* VMLOAD's too */
		{ VS_ALL, VMCB_CLEAN_CRX | VMCB_CLEAN_CR2 | VMCB_CLEAN_SEG | VMCB_CLEAN_DT |
				  VMCB_CLEAN_DRX | VMCB_CLEAN_NP },
	};

	(void)state;
	assert_int_equal(VMCB_CLEAN_INTERCEPTS, 0x001);
	assert_int_equal(VMCB_CLEAN_IOPM, 0x002);
	assert_int_equal(VMCB_CLEAN_ASID, 0x004);
	assert_int_equal(VMCB_CLEAN_TPR, 0x008);
	assert_int_equal(VMCB_CLEAN_NP, 0x010);
	assert_int_equal(VMCB_CLEAN_CRX, 0x020);
	assert_int_equal(VMCB_CLEAN_DRX, 0x040);
	assert_int_equal(VMCB_CLEAN_DT, 0x080);
	assert_int_equal(VMCB_CLEAN_SEG, 0x100);
	assert_int_equal(VMCB_CLEAN_CR2, 0x200);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		vmcb->ctl.clean = VMCB_CLEAN_ALL;
		svm_store_state(&vcpu, cases[i].mask);
		assert_int_equal(vmcb->ctl.clean, VMCB_CLEAN_ALL & ~cases[i].dirty);
		assert_int_equal(vcpu.state_valid & cases[i].mask, cases[i].mask);
	}
	/* the accessor itself clears only the bits it is given */
	vmcb->ctl.clean = VMCB_CLEAN_ALL;
	VMCB_SET(vmcb, ctl.ncr3, 0x5000, VMCB_CLEAN_NP);
	assert_int_equal(vmcb->ctl.ncr3, 0x5000);
	assert_int_equal(vmcb->ctl.clean, VMCB_CLEAN_ALL & ~VMCB_CLEAN_NP);
	vmcb_dirty(vmcb, VMCB_CLEAN_ASID | VMCB_CLEAN_IOPM);
	assert_int_equal(vmcb->ctl.clean,
			 VMCB_CLEAN_ALL & ~(VMCB_CLEAN_NP | VMCB_CLEAN_ASID | VMCB_CLEAN_IOPM));
}

static void test_store_state(void **state)
{
	struct vcpu_state *st = &vcpu.state;

	(void)state;
	st->rip = 0x7c00;
	st->rflags = RFLAGS_IF; /* bit 1 missing */
	st->cr0 = CR0_PE | CR0_PG;
	st->cr2 = 0x1234;
	st->cr3 = 0x9000;
	st->cr4 = CR4_PAE;
	st->efer = EFER_LME | EFER_LMA;
	st->dr7 = 0x400;
	st->cs = (struct seg){ 0x10, 0xa9b, 0xffffffff, 0 };
	st->ss = (struct seg){ 0x2b, 0xcf3, 0xffffffff, 0 }; /* DPL 3 */
	st->tr = (struct seg){ 0x40, 0x8b, 0x67, 0xfffffe0000003000ULL };
	st->gdtr = (struct dtable){ 0xfffffe0000001000ULL, 0x7f };
	st->idtr = (struct dtable){ 0xfffffe0000000000ULL, 0xfff };
	st->sysenter_cs = 0x10;
	st->sysenter_esp = 0x8000;
	st->sysenter_eip = 0xc0de;
	st->pat = 0x0007010600070106ULL;
	st->intr_shadow = INTR_SHADOW_STI;
	st->dr6 = 0xffff0ff1;
	st->kernel_gs_base = 0xffff888000000000ULL;
	st->star = 0x0023001000000000ULL;
	st->lstar = 0xffffffff81000000ULL;
	st->cstar = 0xffffffff81000100ULL;
	st->sfmask = 0x47700;
	st->tsc_aux = 3;
	svm_store_state(&vcpu, VS_ALL);
	/* the VMLOAD fields, and TSC_AUX in the register */
	assert_int_equal(vmcb->save.kernel_gs_base, 0xffff888000000000ULL);
	assert_int_equal(vmcb->save.star, 0x0023001000000000ULL);
	assert_int_equal(vmcb->save.lstar, 0xffffffff81000000ULL);
	assert_int_equal(vmcb->save.cstar, 0xffffffff81000100ULL);
	assert_int_equal(vmcb->save.sfmask, 0x47700);
	assert_int_equal(fake_tsc_aux, 3);
	assert_int_equal(vmcb->save.dr6, 0xffff0ff1);

	assert_int_equal(vmcb->save.rip, 0x7c00);
	assert_int_equal(vmcb->save.rflags, RFLAGS_IF | RFLAGS_FIXED);
	assert_int_equal(vmcb->save.cr0, CR0_PE | CR0_PG);
	assert_int_equal(vmcb->save.cr2, 0x1234);
	assert_int_equal(vmcb->save.cr3, 0x9000);
	assert_int_equal(vmcb->save.cr4, CR4_PAE);
	/* APM 2 15.5.1: the guest's EFER.SVME is set for VMRUN */
	assert_int_equal(vmcb->save.efer, EFER_LME | EFER_LMA | EFER_SVME);
	assert_int_equal(vmcb->save.dr7, 0x400);
	assert_int_equal(vmcb->save.cs.sel, 0x10);
	assert_int_equal(vmcb->save.cs.attr, 0xa9b);
	assert_int_equal(vmcb->save.cs.limit, 0xffffffff);
	assert_int_equal(vmcb->save.ss.sel, 0x2b);
	assert_int_equal(vmcb->save.tr.base, 0xfffffe0000003000ULL);
	assert_int_equal(vmcb->save.tr.limit, 0x67);
	assert_int_equal(vmcb->save.gdtr.base, 0xfffffe0000001000ULL);
	assert_int_equal(vmcb->save.gdtr.limit, 0x7f);
	assert_int_equal(vmcb->save.idtr.limit, 0xfff);
	assert_int_equal(vmcb->save.cpl, 3); /* SS.DPL in protected mode */
	assert_int_equal(vmcb->save.sysenter_eip, 0xc0de);
	assert_int_equal(vmcb->save.g_pat, 0x0007010600070106ULL);
	assert_int_equal(vmcb->ctl.int_state, SVM_INT_STATE_SHADOW);

	/* real mode: CPL 0 whatever SS.DPL says */
	st->cr0 = 0;
	svm_store_state(&vcpu, VS_SEG);
	assert_int_equal(vmcb->save.cpl, 0);
	st->intr_shadow = 0;
	svm_store_state(&vcpu, VS_INTR);
	assert_int_equal(vmcb->ctl.int_state, 0);
	/* only what the mask names is written */
	vmcb->save.rip = 0x1111;
	st->rip = 0x2222;
	svm_store_state(&vcpu, VS_RFLAGS);
	assert_int_equal(vmcb->save.rip, 0x1111);
}

static void test_load_state(void **state)
{
	struct vcpu_state *st = &vcpu.state;

	(void)state;
	vmcb->save.rip = 0xffff0;
	vmcb->save.rflags = 0x202;
	vmcb->save.cr0 = CR0_PE;
	vmcb->save.cr3 = 0x3000;
	vmcb->save.efer = EFER_SVME | EFER_LME;
	vmcb->save.cs = (struct vmcb_seg){ 0xf000, 0x93, 0xffff, 0xffff0000 };
	vmcb->save.ss = (struct vmcb_seg){ 0x18, 0xc93, 0xffffffff, 0 };
	vmcb->save.fs = (struct vmcb_seg){ 0, 0x93, 0xffff, 0x7f0000001000ULL };
	vmcb->save.gdtr.base = 0x8000;
	vmcb->save.gdtr.limit = 0x27;
	vmcb->save.g_pat = 0x0007040600070406ULL;
	vmcb->ctl.int_state = SVM_INT_STATE_SHADOW;

	svm_load_state(&vcpu, VS_CR | VS_RIP);
	assert_int_equal(st->rip, 0xffff0);
	assert_int_equal(st->cr0, CR0_PE);
	assert_int_equal(st->cr3, 0x3000);
	/* the guest never sees SVME */
	assert_int_equal(st->efer, EFER_LME);
	assert_int_equal(vcpu.state_valid, VS_CR | VS_RIP);
	/* what is valid already is not read again */
	vmcb->save.rip = 0x12345;
	svm_load_state(&vcpu, VS_RIP | VS_RFLAGS);
	assert_int_equal(st->rip, 0xffff0);
	assert_int_equal(st->rflags, 0x202);
	/* CS and SS alone bring every segment: one copy from memory */
	svm_load_state(&vcpu, VS_SEG_CODE);
	assert_int_equal(st->cs.sel, 0xf000);
	assert_int_equal(st->cs.base, 0xffff0000);
	assert_int_equal(st->ss.attr, 0xc93);
	assert_int_equal(st->fs.base, 0x7f0000001000ULL);
	assert_int_equal(st->gdtr.base, 0x8000);
	assert_int_equal(st->gdtr.limit, 0x27);
	assert_true(vcpu.state_valid & VS_SEG);
	assert_true(vcpu.state_valid & VS_SEG_CODE);
	svm_load_state(&vcpu, VS_PAT | VS_INTR);
	assert_int_equal(st->pat, 0x0007040600070406ULL);
	assert_int_equal(st->intr_shadow, INTR_SHADOW_STI);
	vmcb->ctl.int_state = 0;
	vcpu.state_valid = 0;
	svm_load_state(&vcpu, VS_INTR);
	assert_int_equal(st->intr_shadow, 0);
	/* loading changes no clean bit */
	vmcb->ctl.clean = VMCB_CLEAN_ALL;
	vcpu.state_valid = 0;
	svm_load_state(&vcpu, VS_ALL);
	assert_int_equal(vmcb->ctl.clean, VMCB_CLEAN_ALL);
}

static void test_state_round_trip(void **state)
{
	struct vcpu_state want;

	(void)state;
	/* every byte of the state through the VMCB and back */
	memset(&vcpu.state, 0x5a, sizeof(vcpu.state));
	vcpu.state.efer = EFER_LME | EFER_LMA | EFER_NXE;
	vcpu.state.rflags = RFLAGS_FIXED | RFLAGS_IF;
	vcpu.state.intr_shadow = INTR_SHADOW_STI;
	want = vcpu.state;
	svm_store_state(&vcpu, VS_ALL);
	memset(&vcpu.state, 0, sizeof(vcpu.state));
	vcpu.state_valid = 0;
	svm_load_state(&vcpu, VS_ALL);
	assert_int_equal(vcpu.state_valid, VS_ALL);
	assert_memory_equal(&vcpu.state.rip, &want.rip, offsetof(struct vcpu_state, gdtr));
	assert_int_equal(vcpu.state.gdtr.base, want.gdtr.base);
	assert_int_equal(vcpu.state.gdtr.limit, want.gdtr.limit);
	assert_int_equal(vcpu.state.idtr.limit, want.idtr.limit);
	assert_int_equal(vcpu.state.idtr.base, want.idtr.base);
	assert_int_equal(vcpu.state.sysenter_cs, want.sysenter_cs);
	assert_int_equal(vcpu.state.sysenter_esp, want.sysenter_esp);
	assert_int_equal(vcpu.state.sysenter_eip, want.sysenter_eip);
	assert_int_equal(vcpu.state.pat, want.pat);
	assert_int_equal(vcpu.state.intr_shadow, INTR_SHADOW_STI);
	assert_memory_equal(&vcpu.state.kernel_gs_base, &want.kernel_gs_base,
			    sizeof(want) - offsetof(struct vcpu_state, kernel_gs_base));
}

/* --- before the next entry -------------------------------------------- */

static u64 inj(u8 type, u8 vector, bool has_error, u32 error_code)
{
	struct vcpu_event ev = { .type = type,
				 .vector = vector,
				 .has_error = has_error,
				 .error_code = error_code };

	return svm_event_inj(&ev);
}

static void test_event_inj(void **state)
{
	(void)state;
	/* APM 2 15.20: vector 7:0, type 10:8, EV 11, V 31, error code 63:32 */
	assert_int_equal(inj(EVENT_NONE, 0x30, false, 0), 0);
	assert_int_equal(inj(EVENT_EXTINT, 0x30, false, 0), 0x80000030);
	assert_int_equal(inj(EVENT_EXTINT, 0xff, false, 0), 0x800000ff);
	assert_int_equal(inj(EVENT_NMI, X86_EXC_NMI, false, 0), 0x80000202);
	assert_int_equal(inj(EVENT_EXCEPTION, X86_EXC_UD, false, 0), 0x80000306);
	assert_int_equal(inj(EVENT_EXCEPTION, X86_EXC_GP, true, 0x10), 0x0000001080000b0dULL);
	assert_int_equal(inj(EVENT_EXCEPTION, X86_EXC_PF, true, 0xffffffff), 0xffffffff80000b0eULL);
	assert_int_equal(inj(EVENT_SOFT_INT, 0x80, false, 0), 0x80000480);
	/* an error code only when the event has one */
	assert_int_equal(inj(EVENT_EXCEPTION, X86_EXC_DE, false, 0x1234), 0x80000300);
}

static void test_apply(void **state)
{
	struct vm_exit e = { .reason = VMEXIT_IO, .insn_len = 2 };
	struct vm_apply a = { .skip_insn = true };

	(void)state;
	vmcb->save.rip = RIP;
	vmcb->ctl.int_state = SVM_INT_STATE_SHADOW;
	vmcb->ctl.vintr = SVM_VINTR_MASKING;
	vmcb->ctl.intercept_misc1 = SVM_INTERCEPT_CPUID | SVM_INTERCEPT_HLT;
	vmcb->ctl.clean = VMCB_CLEAN_ALL;
	/* skip: past the instruction, its interrupt shadow over; no window
	 * was open, so no group is written */
	svm_apply(&vcpu, &e, &a);
	assert_int_equal(vmcb->save.rip, RIP + 2);
	assert_int_equal(vmcb->ctl.int_state, 0);
	assert_int_equal(vmcb->ctl.eventinj, 0);
	assert_int_equal(vmcb->ctl.clean, VMCB_CLEAN_ALL);

	/* inject #GP(0) and ask for the window (APM 2 15.21.4): V_IRQ at
	 * priority 15 ignoring V_TPR, VINTR intercepted */
	a = (struct vm_apply){ .event = { EVENT_EXCEPTION, X86_EXC_GP, true, 0 },
			       .irq_window = true };
	svm_apply(&vcpu, &e, &a);
	assert_int_equal(vmcb->save.rip, RIP + 2);
	assert_int_equal(vmcb->ctl.eventinj, 0x0000000080000b0dULL);
	assert_int_equal(vmcb->ctl.vintr, 0x011f0100);
	assert_int_equal(vmcb->ctl.intercept_misc1,
			 SVM_INTERCEPT_CPUID | SVM_INTERCEPT_HLT | SVM_INTERCEPT_VINTR);
	assert_int_equal(vmcb->ctl.clean,
			 VMCB_CLEAN_ALL & ~(VMCB_CLEAN_TPR | VMCB_CLEAN_INTERCEPTS));

	/* the next apply without a window closes it */
	vmcb->ctl.clean = VMCB_CLEAN_ALL;
	a = (struct vm_apply){ 0 };
	svm_apply(&vcpu, &e, &a);
	assert_int_equal(vmcb->ctl.vintr, SVM_VINTR_MASKING);
	assert_int_equal(vmcb->ctl.intercept_misc1, SVM_INTERCEPT_CPUID | SVM_INTERCEPT_HLT);
	assert_int_equal(vmcb->ctl.clean,
			 VMCB_CLEAN_ALL & ~(VMCB_CLEAN_TPR | VMCB_CLEAN_INTERCEPTS));
	assert_int_equal(vmcb->save.rip, RIP + 2);
	/* an event left alone is not cleared by apply (the CPU clears it) */
	assert_int_equal(vmcb->ctl.eventinj, 0x0000000080000b0dULL);
}

static void test_skip(void **state)
{
	(void)state;
	vmcb->save.rip = RIP;
	vmcb->ctl.int_state = SVM_INT_STATE_SHADOW;
	vmcb->ctl.vintr = 0x011f0100;
	vmcb->ctl.intercept_misc1 = SVM_INTERCEPT_VINTR | SVM_INTERCEPT_MSR;
	vmcb->ctl.clean = VMCB_CLEAN_ALL;
	svm_skip(&vcpu, 3);
	assert_int_equal(vmcb->save.rip, RIP + 3);
	assert_int_equal(vmcb->ctl.int_state, 0);
	assert_int_equal(vmcb->ctl.vintr, SVM_VINTR_MASKING);
	assert_int_equal(vmcb->ctl.intercept_misc1, SVM_INTERCEPT_MSR);
	assert_int_equal(vmcb->ctl.clean,
			 VMCB_CLEAN_ALL & ~(VMCB_CLEAN_TPR | VMCB_CLEAN_INTERCEPTS));
	/* again, no window open: nothing cached is touched */
	vmcb->ctl.clean = VMCB_CLEAN_ALL;
	svm_skip(&vcpu, 1);
	assert_int_equal(vmcb->save.rip, RIP + 4);
	assert_int_equal(vmcb->ctl.clean, VMCB_CLEAN_ALL);
}

/* APM 2 15.7.2: the event an exit interrupted goes back into EVENTINJ */
static void test_redeliver(void **state)
{
	struct vm_exit e;

	(void)state;
	/* #GP(0x10) */
	memset(&e, 0xa5, sizeof(e));
	vmcb->ctl.eventinj = 0;
	vmcb->ctl.exitintinfo = 0x0000001080000b0dULL;
	svm_redeliver(vmcb, &e);
	assert_int_equal(e.vectoring.type, EVENT_EXCEPTION);
	assert_int_equal(e.vectoring.vector, X86_EXC_GP);
	assert_true(e.vectoring.has_error);
	assert_int_equal(e.vectoring.error_code, 0x10);
	assert_int_equal(vmcb->ctl.eventinj, 0x0000001080000b0dULL);
	/* an interrupt (one we injected and a host interrupt held back) */
	vmcb->ctl.eventinj = 0;
	vmcb->ctl.exitintinfo = 0x80000030;
	svm_redeliver(vmcb, &e);
	assert_int_equal(e.vectoring.type, EVENT_EXTINT);
	assert_int_equal(e.vectoring.vector, 0x30);
	assert_false(e.vectoring.has_error);
	assert_int_equal(vmcb->ctl.eventinj, 0x80000030);
	/* an NMI */
	vmcb->ctl.eventinj = 0;
	vmcb->ctl.exitintinfo = 0x80000202;
	svm_redeliver(vmcb, &e);
	assert_int_equal(e.vectoring.type, EVENT_NMI);
	assert_int_equal(vmcb->ctl.eventinj, 0x80000202);
	/* INT 0x80: the instruction runs again, nothing injected */
	vmcb->ctl.eventinj = 0;
	vmcb->ctl.exitintinfo = 0x80000480;
	svm_redeliver(vmcb, &e);
	assert_int_equal(e.vectoring.type, EVENT_SOFT_INT);
	assert_int_equal(vmcb->ctl.eventinj, 0);
}

/* An exit as the CPU leaves it after a run, decoded, then seen by the NMI
 * bookkeeping (as svm_run does). */
static void nmi_exit(u64 code, struct vm_exit *e)
{
	vmcb->ctl.exitcode = code;
	vmcb->ctl.exitintinfo = 0;
	decode(true, 0, e);
	if (svcpu.nmi_blocked || svcpu.nmi_step)
		svm_nmi_exit(&svcpu, e);
}

/* NMI blocking from the injected NMI to the guest's IRET (SDM 3A 6.7.1):
 * the IRET intercept (APM 2 15.9), then a single step over the IRET. */
static void test_nmi_blocking(void **state)
{
	struct vm_apply a = { .event = { .type = EVENT_NMI, .vector = X86_EXC_NMI } };
	struct vm_exit e = { .reason = VMEXIT_NONE };

	(void)state;
	vmcb->save.rip = RIP;
	vmcb->save.rflags = RFLAGS_FIXED | RFLAGS_IF;
	vmcb->save.dr6 = DR6_INIT | DR6_BS; /* an old single step: sticky */
	assert_true(svm_nmi_injectable(&vcpu));
	vmcb->ctl.clean = VMCB_CLEAN_ALL;
	svm_apply(&vcpu, &e, &a);
	assert_int_equal(vmcb->ctl.eventinj, 0x80000202);
	assert_true(vmcb->ctl.intercept_misc1 & SVM_INTERCEPT_IRET);
	assert_int_equal(vmcb->ctl.clean, VMCB_CLEAN_ALL & ~VMCB_CLEAN_INTERCEPTS);
	vmcb->ctl.eventinj = 0; /* delivered */
	assert_false(svm_nmi_injectable(&vcpu));
	/* a second NMI waits: nothing to step over before the IRET */
	a = (struct vm_apply){ .nmi_window = true };
	svm_apply(&vcpu, &e, &a);
	assert_false(vmcb->save.rflags & RFLAGS_TF);
	assert_false(svm_nmi_injectable(&vcpu));
	/* any other exit meanwhile changes nothing */
	vmcb->save.rip = RIP + 0x100;
	nmi_exit(SVM_EXIT_INTR, &e);
	assert_int_equal(e.reason, VMEXIT_EXT_INTR);
	assert_false(svm_nmi_injectable(&vcpu));
	/* the IRET: not run yet; step over it, intercept it no more */
	vmcb->save.rip = RIP + 0x200;
	vmcb->ctl.clean = VMCB_CLEAN_ALL;
	nmi_exit(SVM_EXIT_IRET, &e);
	assert_int_equal(e.reason, VMEXIT_NONE);
	assert_false(vmcb->ctl.intercept_misc1 & SVM_INTERCEPT_IRET);
	assert_true(vmcb->save.rflags & RFLAGS_TF);
	assert_false(vmcb->save.dr6 & DR6_BS);
	assert_int_equal(vmcb->ctl.clean,
			 VMCB_CLEAN_ALL & ~(VMCB_CLEAN_INTERCEPTS | VMCB_CLEAN_DRX));
	assert_false(svm_nmi_injectable(&vcpu));
	/* the #DB after it: NMIs unblocked, the window open, RFLAGS as the
	 * IRET loaded it, DR6 as the guest left it */
	vmcb->save.rip = RIP;
	vmcb->save.rflags = RFLAGS_FIXED | RFLAGS_IF;
	vmcb->save.dr6 = DR6_INIT | DR6_BS;
	nmi_exit(SVM_EXIT_EXCP_BASE + X86_EXC_DB, &e);
	assert_int_equal(e.reason, VMEXIT_NMI_WINDOW);
	assert_int_equal(vmcb->save.dr6, DR6_INIT | DR6_BS);
	assert_int_equal(vmcb->save.rflags, RFLAGS_FIXED | RFLAGS_IF);
	assert_true(svm_nmi_injectable(&vcpu));
	assert_false(svcpu.nmi_blocked);

	/* a guest that single-steps its NMI handler gets its #DB after the
	 * IRET as well */
	a = (struct vm_apply){ .event = { .type = EVENT_NMI, .vector = X86_EXC_NMI } };
	svm_apply(&vcpu, &e, &a);
	vmcb->ctl.eventinj = 0;
	vmcb->save.rflags = RFLAGS_FIXED | RFLAGS_TF;
	vmcb->save.dr6 = DR6_INIT;
	nmi_exit(SVM_EXIT_IRET, &e);
	vmcb->save.dr6 = DR6_INIT | DR6_BS;
	nmi_exit(SVM_EXIT_EXCP_BASE + X86_EXC_DB, &e);
	assert_int_equal(e.reason, VMEXIT_EXCEPTION);
	assert_int_equal(e.exc.vector, X86_EXC_DB);
	assert_int_equal(vmcb->save.dr6, DR6_INIT | DR6_BS);
	assert_true(svm_nmi_injectable(&vcpu));

	/* INIT: nothing blocked, nothing intercepted */
	svm_apply(&vcpu, &e, &a);
	svm_vcpu_state_reset(&svcpu);
	assert_true(svm_nmi_injectable(&vcpu));
	assert_false(vmcb->ctl.intercept_misc1 & SVM_INTERCEPT_IRET);
}

/* An NMI kept out by an interrupt shadow, or by an event on its way, gets
 * in one instruction later: a step of ours, invisible to the guest. */
static void test_nmi_window_step(void **state)
{
	struct vm_apply a = { .nmi_window = true };
	struct vm_exit e = { .reason = VMEXIT_NONE };

	(void)state;
	vmcb->save.rip = RIP;
	vmcb->save.rflags = RFLAGS_FIXED;
	vmcb->save.dr6 = DR6_INIT;
	vmcb->ctl.int_state = SVM_INT_STATE_SHADOW; /* after MOV SS */
	assert_false(svm_nmi_injectable(&vcpu));
	svm_apply(&vcpu, &e, &a);
	assert_true(vmcb->save.rflags & RFLAGS_TF);
	assert_false(svm_nmi_injectable(&vcpu));
	/* the instruction in the shadow was one the core emulates: the skip
	 * ends the step, and owes the guest no #DB */
	svm_skip(&vcpu, 2);
	assert_int_equal(vmcb->save.rflags, RFLAGS_FIXED);
	assert_int_equal(vmcb->ctl.eventinj, 0);
	assert_int_equal(vmcb->save.dr6, DR6_INIT);
	assert_true(svm_nmi_injectable(&vcpu));

	/* the same over an instruction the guest runs: the #DB ends it */
	vmcb->ctl.int_state = SVM_INT_STATE_SHADOW;
	svm_apply(&vcpu, &e, &a);
	vmcb->ctl.int_state = 0;
	vmcb->save.rip = RIP + 4;
	vmcb->save.dr6 = DR6_INIT | DR6_BS;
	nmi_exit(SVM_EXIT_EXCP_BASE + X86_EXC_DB, &e);
	assert_int_equal(e.reason, VMEXIT_NMI_WINDOW);
	assert_int_equal(vmcb->save.rflags, RFLAGS_FIXED);
	assert_int_equal(vmcb->save.dr6, DR6_INIT);
	assert_true(svm_nmi_injectable(&vcpu));

	/* a #DB that leaves DR6.BS clear (as Bochs 2.7 does) is still the
	 * trap of the step when RIP is past the instruction */
	vmcb->ctl.int_state = SVM_INT_STATE_SHADOW;
	svm_apply(&vcpu, &e, &a);
	vmcb->ctl.int_state = 0;
	vmcb->save.rip = RIP + 8;
	vmcb->save.dr6 = DR6_INIT;
	nmi_exit(SVM_EXIT_EXCP_BASE + X86_EXC_DB, &e);
	assert_int_equal(e.reason, VMEXIT_NMI_WINDOW);
	assert_int_equal(vmcb->save.rflags, RFLAGS_FIXED);
	/* a #DB at the same RIP without BS is the guest's (an instruction
	 * breakpoint): the step goes on */
	vmcb->ctl.int_state = SVM_INT_STATE_SHADOW;
	svm_apply(&vcpu, &e, &a);
	vmcb->ctl.int_state = 0;
	nmi_exit(SVM_EXIT_EXCP_BASE + X86_EXC_DB, &e);
	assert_int_equal(e.reason, VMEXIT_EXCEPTION);
	assert_true(svcpu.nmi_step);
	vmcb->save.rip = RIP + 9;
	vmcb->save.dr6 = DR6_INIT | DR6_BS;
	nmi_exit(SVM_EXIT_EXCP_BASE + X86_EXC_DB, &e);
	assert_int_equal(e.reason, VMEXIT_NMI_WINDOW);

	/* an exception delivered instead of the trap: the step is over */
	vmcb->ctl.int_state = SVM_INT_STATE_SHADOW;
	svm_apply(&vcpu, &e, &a);
	vmcb->ctl.int_state = 0;
	vmcb->save.rip = 0x8000;
	nmi_exit(SVM_EXIT_INTR, &e);
	assert_int_equal(e.reason, VMEXIT_EXT_INTR);
	assert_false(vmcb->save.rflags & RFLAGS_TF);
	assert_true(svm_nmi_injectable(&vcpu));
}

/* A guest single-stepping over an instruction the core completes gets the
 * #DB the instruction would have raised (DR6.BS; SDM 3A 17.3.1.4). */
static void test_skip_single_step(void **state)
{
	(void)state;
	vmcb->save.rip = RIP;
	vmcb->save.rflags = RFLAGS_FIXED | RFLAGS_TF;
	vmcb->save.dr6 = DR6_INIT;
	vmcb->ctl.clean = VMCB_CLEAN_ALL;
	svm_skip(&vcpu, 2); /* CPUID */
	assert_int_equal(vmcb->save.rip, RIP + 2);
	assert_int_equal(vmcb->ctl.eventinj, 0x80000301);
	assert_int_equal(vmcb->save.dr6, DR6_INIT | DR6_BS);
	assert_int_equal(vmcb->ctl.clean, VMCB_CLEAN_ALL & ~VMCB_CLEAN_DRX);
	/* without TF, nothing */
	vmcb->ctl.eventinj = 0;
	vmcb->save.rflags = RFLAGS_FIXED;
	vmcb->save.dr6 = DR6_INIT;
	svm_skip(&vcpu, 2);
	assert_int_equal(vmcb->ctl.eventinj, 0);
	assert_int_equal(vmcb->save.dr6, DR6_INIT);
}

static void test_irq_injectable(void **state)
{
	(void)state;
	vmcb->save.rflags = RFLAGS_FIXED;
	assert_false(svm_irq_injectable(&vcpu));
	vmcb->save.rflags = RFLAGS_FIXED | RFLAGS_IF;
	assert_true(svm_irq_injectable(&vcpu));
	vmcb->ctl.int_state = SVM_INT_STATE_SHADOW; /* after STI */
	assert_false(svm_irq_injectable(&vcpu));
	vmcb->ctl.int_state = 0;
	vmcb->ctl.eventinj = 0x80000030; /* one already on its way */
	assert_false(svm_irq_injectable(&vcpu));
	vmcb->ctl.eventinj = 0x30; /* V clear: delivered */
	assert_true(svm_irq_injectable(&vcpu));
}

static void test_vmcb_init(void **state)
{
	const struct svm_part part = { .iopm_pa = 0x123000, .msrpm_pa = 0x456000 };

	(void)state;
	memset(vmcb, 0xff, sizeof(*vmcb));
	svm_vmcb_init(vmcb, &part, 2, 0x789000);
	/* #DB and #AC (CVE-2015-8104, CVE-2015-5307) */
	assert_int_equal(vmcb->ctl.intercept_exc, 0x20002);
	/* APM 2 appendix B, vector 3: INTR 0, NMI 1, INIT 3, RDPMC 15, CPUID 18,
	 * RSM 19, INVD 22, HLT 24, INVLPGA 26, IOIO 27, MSR 28, task switch 29,
	 * shutdown 31 */
	assert_int_equal(vmcb->ctl.intercept_misc1, 0xbd4c800b);
	/* vector 4: VMRUN 0 (15.5.1: must be intercepted), VMMCALL 1, VMLOAD 2,
	 * VMSAVE 3, STGI 4, CLGI 5, SKINIT 6, WBINVD 9, MONITOR 10, MWAIT 11
	 * and 12, XSETBV 13, RDPRU 14 */
	assert_int_equal(vmcb->ctl.intercept_misc2, 0x7e7f);
	assert_true(vmcb->ctl.intercept_misc2 & SVM_INTERCEPT_VMRUN);
	assert_false(vmcb->ctl.intercept_misc1 & SVM_INTERCEPT_VINTR);
	assert_int_equal(vmcb->ctl.iopm_base_pa, 0x123000);
	assert_int_equal(vmcb->ctl.msrpm_base_pa, 0x456000);
	assert_int_equal(vmcb->ctl.tsc_offset, 0);
	assert_int_equal(vmcb->ctl.asid, 2);
	assert_int_equal(vmcb->ctl.vintr, SVM_VINTR_MASKING);
	assert_int_equal(vmcb->ctl.np_control, SVM_NP_ENABLE);
	assert_int_equal(vmcb->ctl.ncr3, 0x789000);
	assert_int_equal(vmcb->save.g_pat, 0x0007040600070406ULL);
	assert_int_equal(vmcb->ctl.tlb_control, SVM_TLB_FLUSH_ALL);
	assert_int_equal(vmcb->ctl.clean, 0);
}

static void test_vmcb_reset_flush(void **state)
{
	(void)state;
	vmcb->ctl.eventinj = 0x80000030;
	vmcb->ctl.int_state = SVM_INT_STATE_SHADOW;
	vmcb->ctl.vintr = 0x011f0100;
	vmcb->ctl.intercept_misc1 = SVM_INTERCEPT_VINTR | SVM_INTERCEPT_CPUID;
	vmcb->ctl.clean = VMCB_CLEAN_ALL;
	svm_vcpu_state_reset(&svcpu);
	assert_int_equal(vmcb->ctl.eventinj, 0);
	assert_int_equal(vmcb->ctl.int_state, 0);
	assert_int_equal(vmcb->ctl.vintr, SVM_VINTR_MASKING);
	assert_int_equal(vmcb->ctl.intercept_misc1, SVM_INTERCEPT_CPUID);
	assert_int_equal(vmcb->ctl.clean,
			 VMCB_CLEAN_ALL & ~(VMCB_CLEAN_TPR | VMCB_CLEAN_INTERCEPTS));
	/* APM 2 15.16.1: TLB_CONTROL is not cached (no clean bit) */
	vmcb->ctl.clean = VMCB_CLEAN_ALL;
	svm_vmcb_flush_tlb(vmcb, true);
	assert_int_equal(vmcb->ctl.tlb_control, 3);
	svm_vmcb_flush_tlb(vmcb, false);
	assert_int_equal(vmcb->ctl.tlb_control, 1);
	assert_int_equal(vmcb->ctl.clean, VMCB_CLEAN_ALL);
}

/* --- permission maps ---------------------------------------------------- */

static void test_msrpm_bits(void **state)
{
	static const struct {
		u32 msr;
		long bit;
	} bits[] = {
		{ 0x00000000, 0x0000 }, { 0x00000010, 0x0020 }, /* TSC */
		{ 0x00001fff, 0x3ffe }, { 0xc0000000, 0x4000 },
		{ 0xc0000080, 0x4100 }, /* EFER */
		{ 0xc0001fff, 0x7ffe }, { 0xc0010000, 0x8000 },
		{ 0xc0010117, 0x822e }, /* VM_HSAVE_PA */
		{ 0xc0011fff, 0xbffe }, { 0x00002000, -1 },
		{ 0x40000000, -1 },	{ 0xbfffffff, -1 },
		{ 0xc0002000, -1 },	{ 0xc000ffff, -1 },
		{ 0xc0012000, -1 },	{ 0xffffffff, -1 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++)
		assert_int_equal(svm_msrpm_bit(bits[i].msr), bits[i].bit);
}

static void test_msrpm_set(void **state)
{
	u8 *pm = malloc(SVM_MSRPM_SIZE);
	u8 *ref = malloc(SVM_MSRPM_SIZE);

	(void)state;
	assert_int_equal(SVM_MSRPM_SIZE, 8192);
	memset(pm, 0xff, SVM_MSRPM_SIZE);
	/* TSC: reads pass (bit 0 of byte 4), writes exit (bit 1) */
	svm_msrpm_set(pm, MSR_TSC, false, true);
	assert_int_equal(pm[4], 0xfe);
	/* EFER both ways: byte 0x820, bits 0 and 1 */
	svm_msrpm_set(pm, MSR_IA32_EFER, false, false);
	assert_int_equal(pm[0x820], 0xfc);
	/* writes only pass: bit 3 of byte 0x820 for STAR (0xc0000081) */
	svm_msrpm_set(pm, MSR_IA32_STAR, true, false);
	assert_int_equal(pm[0x820], 0xf4);
	/* the last MSR of the third range: bits 6 and 7 of byte 0x17ff */
	svm_msrpm_set(pm, 0xc0011fff, false, false);
	assert_int_equal(pm[0x17ff], 0x3f);
	/* the reserved last quarter and everything else untouched */
	for (u32 i = 0; i < SVM_MSRPM_SIZE; i++)
		if (i != 4 && i != 0x820 && i != 0x17ff)
			assert_int_equal(pm[i], 0xff);
	/* MSRs outside the map change nothing */
	memcpy(ref, pm, SVM_MSRPM_SIZE);
	svm_msrpm_set(pm, 0x2000, false, false);
	svm_msrpm_set(pm, 0x40000000, false, false);
	svm_msrpm_set(pm, 0xc0012000, false, false);
	assert_memory_equal(ref, pm, SVM_MSRPM_SIZE);
	/* and back to intercepted */
	svm_msrpm_set(pm, MSR_TSC, true, true);
	svm_msrpm_set(pm, MSR_IA32_EFER, true, true);
	svm_msrpm_set(pm, MSR_IA32_STAR, true, true);
	svm_msrpm_set(pm, 0xc0011fff, true, true);
	memset(ref, 0xff, SVM_MSRPM_SIZE);
	assert_memory_equal(ref, pm, SVM_MSRPM_SIZE);
	free(pm);
	free(ref);
}

static void test_iopm_set(void **state)
{
	u8 *pm = malloc(SVM_IOPM_SIZE);

	(void)state;
	assert_int_equal(SVM_IOPM_SIZE, 12288);
	memset(pm, 0xff, SVM_IOPM_SIZE);
	/* one bit per port (APM 2 15.10.1) */
	svm_iopm_set(pm, 0x3f9, false);
	assert_int_equal(pm[0x7f], 0xfd);
	svm_iopm_set(pm, 0x0000, false);
	assert_int_equal(pm[0], 0xfe);
	svm_iopm_set(pm, 0x8000, false);
	assert_int_equal(pm[0x1000], 0xfe);
	svm_iopm_set(pm, 0xffff, false);
	assert_int_equal(pm[0x1fff], 0x7f);
	for (u32 i = 0; i < SVM_IOPM_SIZE; i++)
		if (i != 0 && i != 0x7f && i != 0x1000 && i != 0x1fff)
			assert_int_equal(pm[i], 0xff);
	svm_iopm_set(pm, 0x3f9, true);
	assert_int_equal(pm[0x7f], 0xff);
	free(pm);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_decode_cpuid),
		T(test_decode_hlt_vmmcall),
		T(test_decode_ioio),
		T(test_decode_msr),
		T(test_decode_npf),
		T(test_decode_exceptions),
		T(test_decode_events),
		T(test_decode_instructions),
		T(test_decode_invalid),
		T(test_decode_unknown),
		T(test_decode_every_code),
		T(test_store_clean_bits),
		T(test_store_state),
		T(test_load_state),
		T(test_state_round_trip),
		T(test_event_inj),
		T(test_apply),
		T(test_skip),
		T(test_irq_injectable),
		T(test_redeliver),
		T(test_nmi_blocking),
		T(test_nmi_window_step),
		T(test_skip_single_step),
		T(test_vmcb_init),
		T(test_vmcb_reset_flush),
		T(test_msrpm_bits),
		T(test_msrpm_set),
		T(test_iopm_set),
	};
#undef T

	return cmocka_run_group_tests_name("svm", tests, NULL, NULL);
}
