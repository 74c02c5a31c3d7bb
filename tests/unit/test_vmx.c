/*
 * The VT-x backend's pure logic (hv/vmx/logic.h): control words from
 * capability MSR values, the exit-reason table, the qualification decoders,
 * segment access rights, event encoding and the intercept bitmaps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/hw/x86.h"
#include "hv/vmx/logic.h"
#include "hv/vmx/vmcs.h"

static u64 cap(u32 must1, u32 may1)
{
	return ((u64)may1 << 32) | must1;
}

/* IA32_VMX_* as a Skylake server reports them with the TRUE MSRs. */
static struct vmx_msrs skylake(void)
{
	struct vmx_msrs m = {
		.basic = 0x00da040000000004ULL, /* rev 4, 1 KiB, WB, INS/OUTS, TRUE */
		.pin = 0x0000007f00000016ULL,
		.proc = 0xfff9fffe04006172ULL,
		.proc2 = 0x00553cfe00000000ULL,
		.exit = 0x01ffffff00036dfbULL,
		.entry = 0x0003ffff000011fbULL,
		.misc = 0x000000007004c1e7ULL,
		.cr0_fixed0 = 0x80000021ULL,
		.cr0_fixed1 = 0xffffffffULL,
		.cr4_fixed0 = 0x00002000ULL,
		.cr4_fixed1 = 0x003767ffULL,
		.ept_vpid = 0x00000f0106734141ULL,
	};

	return m;
}

static void test_ctl_compute(void **state)
{
	u32 out, missing;

	(void)state;
	/* default-1 bits kept, required set, optional only when allowed */
	assert_true(vmx_ctl_compute(cap(0x16, 0xff), 0x9, 0x120, &out, &missing));
	assert_int_equal(out, 0x16 | 0x9 | 0x20);
	assert_int_equal(missing, 0);
	/* a required bit the CPU does not allow */
	assert_false(vmx_ctl_compute(cap(0x16, 0x7f), 0x81, 0, &out, &missing));
	assert_int_equal(missing, 0x80);
	/* nothing allowed, nothing wanted: only the default-1 bits */
	assert_true(vmx_ctl_compute(cap(0x6, 0x6), 0, 0xffffffff, &out, &missing));
	assert_int_equal(out, 0x6);
	assert_true(vmx_ctl_allowed(cap(0, 0x80000000), 0x80000000));
	assert_false(vmx_ctl_allowed(cap(0x1, 0x1), 0x3));
}

static void test_config_skylake(void **state)
{
	struct vmx_msrs m = skylake();
	struct vmx_config c;
	char why[96] = "";

	(void)state;
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), 0);
	assert_int_equal(c.pin & (PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS),
			 PIN_EXT_INTR_EXITING | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS);
	assert_int_equal(c.pin & 0x16, 0x16); /* default 1 */
	assert_true(c.proc & PROC_HLT_EXITING);
	assert_true(c.proc & PROC_USE_IO_BITMAPS);
	assert_true(c.proc & PROC_USE_MSR_BITMAPS);
	assert_true(c.proc & PROC_SECONDARY_CTLS);
	assert_true(c.proc & PROC_MWAIT_EXITING);
	assert_true(c.proc & PROC_MONITOR_EXITING);
	assert_true(c.proc & PROC_TPR_SHADOW);
	/* no guest reads the machine's performance counters */
	assert_true(c.proc & PROC_RDPMC_EXITING);
	assert_false(c.proc & (PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING));
	/* the TRUE MSR lets CR3 exiting go; nothing else we do not want */
	assert_false(c.proc & (PROC_CR3_LOAD_EXITING | PROC_CR3_STORE_EXITING));
	assert_false(c.proc & (PROC_RDTSC_EXITING | PROC_TSC_OFFSETTING | PROC_INVLPG_EXITING |
			       PROC_MOV_DR_EXITING | PROC_PAUSE_EXITING | PROC_UNCOND_IO_EXITING));
	/* switched at run time */
	assert_false(c.proc & (PROC_INTR_WINDOW_EXITING | PROC_NMI_WINDOW_EXITING));
	assert_false(c.entry & ENTRY_IA32E_MODE_GUEST);

	assert_int_equal(c.proc2 & (PROC2_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_VPID |
				    PROC2_RDTSCP | PROC2_INVPCID | PROC2_XSAVES),
			 PROC2_EPT | PROC2_UNRESTRICTED_GUEST | PROC2_VPID | PROC2_RDTSCP |
				 PROC2_INVPCID | PROC2_XSAVES);
	/* WBINVD exits: a guest never flushes the shared caches */
	assert_true(c.proc2 & PROC2_WBINVD_EXITING);
	assert_false(c.proc2 & (PROC2_PML | PROC2_VIRT_APIC_ACCESS));
	assert_int_equal(
		c.exit & (EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_EFER |
			  EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG_CTLS),
		EXIT_HOST_ADDR_SPACE_SIZE | EXIT_ACK_INTR_ON_EXIT | EXIT_SAVE_EFER |
			EXIT_LOAD_EFER | EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_DEBUG_CTLS);
	assert_int_equal(c.entry & (ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG_CTLS),
			 ENTRY_LOAD_EFER | ENTRY_LOAD_PAT | ENTRY_LOAD_DEBUG_CTLS);
	assert_false(c.entry & (ENTRY_TO_SMM | ENTRY_DEACT_DUAL_MONITOR));
	assert_true(c.vpid);
	assert_int_equal(c.revision, 4);
	assert_true(c.ept_1g);
	assert_true(c.ept_ad);
	assert_true(c.invept_single);
	assert_true(c.invvpid_single);
	assert_true(c.entry_len_0);

	/* unrestricted guest: PE and PG free, NE forced and hidden */
	assert_int_equal(c.cr0_must1, CR0_NE);
	assert_true(c.cr0_mask & CR0_PE);
	assert_true(c.cr0_mask & CR0_PG);
	assert_true(c.cr0_mask & CR0_NE);
	assert_false(c.cr0_mask & (CR0_TS | CR0_MP | CR0_WP | CR0_CD | CR0_NW));
	assert_true(c.cr0_mask & BIT(32)); /* reserved bits exit */
	assert_int_equal(c.cr4_must1, CR4_VMXE);
	assert_true(c.cr4_mask & (CR4_VMXE | CR4_PAE | CR4_SMXE | CR4_OSXSAVE | CR4_PCIDE));
	assert_false(c.cr4_mask & (CR4_PGE | CR4_OSFXSR | CR4_TSD));
}

static void test_config_plain_ctls(void **state)
{
	struct vmx_msrs m = skylake();
	struct vmx_config c;
	char why[96];

	(void)state;
	/* without TRUE MSRs the default-1 CR3 exits stay on */
	m.basic &= ~VMX_BASIC_TRUE_CTLS;
	m.proc = 0xfff9fffe0401e172ULL;
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), 0);
	assert_true(c.proc & PROC_CR3_LOAD_EXITING);
}

static void test_config_missing(void **state)
{
	struct vmx_msrs m;
	struct vmx_config c;
	char why[96];

	(void)state;
	m = skylake();
	m.proc2 &= ~((u64)PROC2_EPT << 32);
	m.ept_vpid = 0;
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), -E_NOSUPP);
	assert_non_null(strstr(why, "EPT"));

	m = skylake();
	m.proc2 &= ~((u64)PROC2_UNRESTRICTED_GUEST << 32);
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), -E_NOSUPP);
	assert_non_null(strstr(why, "secondary"));
	assert_non_null(strstr(why, "0x80"));

	m = skylake();
	m.proc2 &= ~((u64)PROC2_WBINVD_EXITING << 32);
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), -E_NOSUPP);
	assert_non_null(strstr(why, "secondary"));
	assert_non_null(strstr(why, "0x40"));

	/* virtual NMIs and their window: the guest's NMI blocking is tracked */
	m = skylake();
	m.pin &= ~((u64)PIN_VIRTUAL_NMIS << 32);
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), -E_NOSUPP);
	assert_non_null(strstr(why, "pin-based"));
	m = skylake();
	m.proc &= ~((u64)PROC_NMI_WINDOW_EXITING << 32);
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), -E_NOSUPP);
	assert_non_null(strstr(why, "processor-based"));

	m = skylake();
	m.exit &= ~((u64)EXIT_ACK_INTR_ON_EXIT << 32);
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), -E_NOSUPP);
	assert_non_null(strstr(why, "VM-exit"));

	m = skylake();
	m.entry &= ~((u64)ENTRY_IA32E_MODE_GUEST << 32);
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), -E_NOSUPP);
	assert_non_null(strstr(why, "VM-entry"));

	m = skylake();
	m.basic |= VMX_BASIC_PHYS_32;
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), -E_NOSUPP);

	m = skylake();
	m.basic &= ~(VMX_BASIC_MEMTYPE_MASK << VMX_BASIC_MEMTYPE_SHIFT);
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), -E_NOSUPP);
	assert_non_null(strstr(why, "write-back"));
}

static void test_config_optional(void **state)
{
	struct vmx_msrs m;
	struct vmx_config c;
	char why[96];

	(void)state;
	/* VPID without INVVPID: not used */
	m = skylake();
	m.ept_vpid &= ~VMX_VPID_INVVPID;
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), 0);
	assert_false(c.vpid);
	assert_false(c.proc2 & PROC2_VPID);

	/* only the all-context / global forms */
	m = skylake();
	m.ept_vpid &= ~(VMX_VPID_INVVPID_SINGLE | VMX_EPT_INVEPT_SINGLE);
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), 0);
	assert_true(c.vpid);
	assert_false(c.invvpid_single);
	assert_false(c.invept_single);

	/* EPT without 1 GiB pages: 2 MiB pages only */
	m = skylake();
	m.ept_vpid &= ~VMX_EPT_1G;
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), 0);
	assert_false(c.ept_1g);
	assert_true(c.ept_ad);

	/* no XSAVES / INVPCID / RDTSCP: fine, just not enabled */
	m = skylake();
	m.proc2 &= ~((u64)(PROC2_XSAVES | PROC2_INVPCID | PROC2_RDTSCP) << 32);
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), 0);
	assert_false(c.proc2 & (PROC2_XSAVES | PROC2_INVPCID | PROC2_RDTSCP));
}

static void test_cr_views(void **state)
{
	struct vmx_msrs m = skylake();
	struct vmx_config c;
	char why[96];
	u64 guest = CR0_ET | CR0_CD | CR0_NW; /* the reset value: real mode */
	u64 real;

	(void)state;
	assert_int_equal(vmx_config_compute(&m, &c, why, sizeof(why)), 0);
	real = vmx_cr_real(guest, c.cr0_must1, c.cr0_may1);
	assert_int_equal(real, guest | CR0_NE);
	assert_int_equal(vmx_cr_guest_view(real, guest, c.cr0_mask), guest);
	/* a guest-owned bit changed in the register shows through */
	assert_int_equal(vmx_cr_guest_view(real | CR0_TS, guest, c.cr0_mask), guest | CR0_TS);
	real = vmx_cr_real(CR4_PAE, c.cr4_must1, c.cr4_may1);
	assert_int_equal(real, CR4_PAE | CR4_VMXE);
	assert_int_equal(vmx_cr_guest_view(real, CR4_PAE, c.cr4_mask), CR4_PAE);
}

static void test_segments(void **state)
{
	(void)state;
	/* 64-bit code: type b, S, P, L, G */
	assert_int_equal(vmx_ar_from_attr(0xa9b), 0xa09b);
	assert_int_equal(vmx_attr_from_ar(0xa09b), 0xa9b);
	/* flat 32-bit data, DPL 3 */
	assert_int_equal(vmx_ar_from_attr(0xcf3), 0xc0f3);
	/* real-mode data: limit 0xffff, byte granular */
	assert_int_equal(vmx_ar_from_attr(0x093), 0x0093);
	/* not present: unusable, DPL kept (SS.DPL is the CPL) */
	assert_int_equal(vmx_ar_from_attr(0), VMX_AR_UNUSABLE);
	assert_int_equal(vmx_ar_from_attr(0x60), VMX_AR_UNUSABLE | 0x60);
	assert_int_equal(vmx_attr_from_ar(VMX_AR_UNUSABLE | 0x93), 0x13);
	/* every attribute value survives the round trip */
	for (u32 a = 0; a < 0x1000; a++)
		assert_int_equal(vmx_attr_from_ar(vmx_ar_from_attr((u16)a)), a);
	/* access rights never set the reserved bits 11:8 or 31:17 */
	for (u32 a = 0; a < 0x1000; a++)
		assert_int_equal(vmx_ar_from_attr((u16)a) & 0xfffe0f00, 0);
}

static void test_tr_fixup(void **state)
{
	(void)state;
	/* the reset TR: 16-bit busy TSS, fine outside IA-32e mode */
	assert_int_equal(vmx_tr_ar_fixup(0x83, false), 0x83);
	assert_int_equal(vmx_tr_ar_fixup(0x83, true), 0x8b);
	assert_int_equal(vmx_tr_ar_fixup(0x8b, true), 0x8b);
	assert_int_equal(vmx_tr_ar_fixup(0x8b, false), 0x8b);
	/* unusable or available: made a usable busy TSS */
	assert_int_equal(vmx_tr_ar_fixup(VMX_AR_UNUSABLE, false), 0x8b);
	assert_int_equal(vmx_tr_ar_fixup(0x89, true), 0x8b);
	/* G and the limit bits stay */
	assert_int_equal(vmx_tr_ar_fixup(0x808b, true), 0x808b);
}

static struct vm_exit decode_cr(u64 qual)
{
	struct vm_exit e;

	memset(&e, 0, sizeof(e));
	vmx_decode_cr(qual, &e);
	return e;
}

static void test_cr_qualification(void **state)
{
	struct vm_exit e;

	(void)state;
	/* mov %rax, %cr0 */
	e = decode_cr(0x0);
	assert_int_equal(e.cr.cr, 0);
	assert_int_equal(e.cr.type, CR_ACCESS_MOV_TO);
	assert_int_equal(e.cr.gpr, GPR_RAX);
	/* mov %r12, %cr4 */
	e = decode_cr(4 | (12 << 8));
	assert_int_equal(e.cr.cr, 4);
	assert_int_equal(e.cr.type, CR_ACCESS_MOV_TO);
	assert_int_equal(e.cr.gpr, GPR_R12);
	/* mov %cr8, %rbx */
	e = decode_cr(8 | (1 << 4) | (3 << 8));
	assert_int_equal(e.cr.cr, 8);
	assert_int_equal(e.cr.type, CR_ACCESS_MOV_FROM);
	assert_int_equal(e.cr.gpr, GPR_RBX);
	/* mov %rsp, %cr3 */
	e = decode_cr(3 | (4 << 8));
	assert_int_equal(e.cr.gpr, GPR_RSP);
	/* clts */
	e = decode_cr(2 << 4);
	assert_int_equal(e.cr.type, CR_ACCESS_CLTS);
	/* lmsw (mem) with source 0x0011 */
	e = decode_cr((3 << 4) | BIT(6) | (0x0011ULL << 16));
	assert_int_equal(e.cr.cr, 0);
	assert_int_equal(e.cr.type, CR_ACCESS_LMSW);
	assert_int_equal(e.cr.lmsw_src, 0x0011);
	/* lmsw with all-ones source */
	e = decode_cr((3 << 4) | (0xffffULL << 16));
	assert_int_equal(e.cr.lmsw_src, 0xffff);
}

static struct vm_exit decode_io(u64 qual)
{
	struct vm_exit e;

	memset(&e, 0, sizeof(e));
	vmx_decode_io(qual, &e);
	return e;
}

static void test_io_qualification(void **state)
{
	struct vm_exit e;

	(void)state;
	/* out %al, %dx to 0x3f8 */
	e = decode_io(0x3f8ULL << 16);
	assert_int_equal(e.io.port, 0x3f8);
	assert_int_equal(e.io.size, 1);
	assert_false(e.io.in);
	assert_false(e.io.string);
	assert_false(e.io.rep);
	/* in $0x71, %eax (immediate) */
	e = decode_io((0x71ULL << 16) | IO_QUAL_IMMEDIATE | IO_QUAL_IN | 3);
	assert_int_equal(e.io.port, 0x71);
	assert_int_equal(e.io.size, 4);
	assert_true(e.io.in);
	/* rep outsw to 0xcfc */
	e = decode_io((0xcfcULL << 16) | IO_QUAL_REP | IO_QUAL_STRING | 1);
	assert_int_equal(e.io.size, 2);
	assert_true(e.io.string);
	assert_true(e.io.rep);
	assert_false(e.io.in);
	/* the highest port */
	e = decode_io((0xffffULL << 16) | IO_QUAL_IN);
	assert_int_equal(e.io.port, 0xffff);
	assert_int_equal(e.io.size, 1);
}

static void test_ept_qualification(void **state)
{
	struct vm_exit e;

	(void)state;
	memset(&e, 0, sizeof(e));
	/* a write to an unmapped GPA through a linear address */
	vmx_decode_ept(EPT_QUAL_WRITE | EPT_QUAL_GLA_VALID | BIT(8), &e);
	assert_int_equal(e.slat.access, EXIT_ACCESS_WRITE);
	assert_false(e.slat.present);
	assert_true(e.slat.gla_valid);
	/* a read of a mapped, read-forbidden page (e.g. write-only MMIO) */
	vmx_decode_ept(EPT_QUAL_READ | EPT_QUAL_WRITABLE, &e);
	assert_int_equal(e.slat.access, EXIT_ACCESS_READ);
	assert_true(e.slat.present);
	assert_false(e.slat.gla_valid);
	/* a fetch from a read-only mapping */
	vmx_decode_ept(EPT_QUAL_FETCH | EPT_QUAL_READABLE, &e);
	assert_int_equal(e.slat.access, EXIT_ACCESS_EXEC);
	assert_true(e.slat.present);
	/* read-modify-write reports the write */
	vmx_decode_ept(EPT_QUAL_READ | EPT_QUAL_WRITE | EPT_QUAL_READABLE, &e);
	assert_int_equal(e.slat.access, EXIT_ACCESS_WRITE);
}

static void test_intr_info(void **state)
{
	struct vm_exit e;

	(void)state;
	memset(&e, 0, sizeof(e));
	/* #GP(0x10) */
	vmx_decode_intr_info(0x80000b0d, 0x10, &e);
	assert_int_equal(e.exc.vector, X86_EXC_GP);
	assert_true(e.exc.has_error);
	assert_int_equal(e.exc.error_code, 0x10);
	/* #UD: no error code, whatever the field holds */
	vmx_decode_intr_info(0x80000306, 0x1234, &e);
	assert_int_equal(e.exc.vector, X86_EXC_UD);
	assert_false(e.exc.has_error);
	assert_int_equal(e.exc.error_code, 0);
}

static void test_vectoring(void **state)
{
	struct vcpu_event ev;

	(void)state;
	/* not valid: nothing */
	memset(&ev, 0xa5, sizeof(ev));
	vmx_decode_vectoring(0x00000b0d, 0x10, &ev);
	assert_int_equal(ev.type, EVENT_NONE);
	/* #GP(0x10) being delivered */
	vmx_decode_vectoring(0x80000b0d, 0x10, &ev);
	assert_int_equal(ev.type, EVENT_EXCEPTION);
	assert_int_equal(ev.vector, X86_EXC_GP);
	assert_true(ev.has_error);
	assert_int_equal(ev.error_code, 0x10);
	/* an external interrupt, an NMI, INT 0x80, INT3 (software exception),
	 * INT1 (privileged software exception) */
	vmx_decode_vectoring(0x80000030, 0x1234, &ev);
	assert_int_equal(ev.type, EVENT_EXTINT);
	assert_int_equal(ev.vector, 0x30);
	assert_false(ev.has_error);
	assert_int_equal(ev.error_code, 0);
	vmx_decode_vectoring(0x80000202, 0, &ev);
	assert_int_equal(ev.type, EVENT_NMI);
	vmx_decode_vectoring(0x80000480, 0, &ev);
	assert_int_equal(ev.type, EVENT_SOFT_INT);
	assert_int_equal(ev.vector, 0x80);
	vmx_decode_vectoring(0x80000603, 0, &ev);
	assert_int_equal(ev.type, EVENT_EXCEPTION);
	assert_int_equal(ev.vector, X86_EXC_BP);
	vmx_decode_vectoring(0x80000501, 0, &ev);
	assert_int_equal(ev.type, EVENT_EXCEPTION);
	assert_int_equal(ev.vector, X86_EXC_DB);
	/* reserved types 1 and 7: nothing to deliver */
	vmx_decode_vectoring(0x80000130, 0, &ev);
	assert_int_equal(ev.type, EVENT_NONE);
	vmx_decode_vectoring(0x80000700, 0, &ev);
	assert_int_equal(ev.type, EVENT_NONE);
}

static void test_dr6_after_db(void **state)
{
	(void)state;
	/* SDM 3C table 28-1 -> SDM 3A 17.2.3: B0-B3 replaced, BD and BS
	 * added, the rest (sticky BS, reserved ones) kept, RTM stays 1 */
	assert_int_equal(vmx_dr6_after_db(DR6_INIT, DR6_BS), 0xffff4ff0);
	assert_int_equal(vmx_dr6_after_db(0xffff4ff3, 0x4), 0xffff4ff4);
	assert_int_equal(vmx_dr6_after_db(DR6_INIT, DR6_BD), 0xffff2ff0);
	assert_int_equal(vmx_dr6_after_db(DR6_INIT, 0x1 | DR6_BS), 0xffff4ff1);
	/* RTM is active low in DR6 */
	assert_int_equal(vmx_dr6_after_db(DR6_INIT, DR6_RTM | 0x2), 0xfffe0ff2);
	/* reserved qualification bits do not leak into DR6 */
	assert_int_equal(vmx_dr6_after_db(DR6_INIT, 0x1000), DR6_INIT);
}

static void test_exit_table(void **state)
{
	static const u32 virt_insns[] = { 19, 20, 21, 22, 23, 24, 25, 26, 27, 50, 53, 59 };
	/* exits the core completes by skipping the instruction */
	static const u32 skipped[] = { 10, 12, 13, 18, 28, 30, 31, 32, 40, 51, 54, 55 };
	bool len;

	(void)state;
	/* every basic reason, known or not, has a neutral reason */
	for (u32 b = 0; b < 0x10000; b++) {
		u32 r = vmx_exit_neutral(b, &len);

		assert_true(r < VMEXIT_REASON_COUNT);
		assert_true(r != VMEXIT_NONE);
		assert_non_null(vmx_exit_name(b));
	}
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_CPUID, &len), VMEXIT_CPUID);
	assert_true(len);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_HLT, &len), VMEXIT_HLT);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_IO, &len), VMEXIT_IO);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_RDMSR, &len), VMEXIT_MSR_READ);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_WRMSR, &len), VMEXIT_MSR_WRITE);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_CR_ACCESS, &len), VMEXIT_CR_ACCESS);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_XSETBV, &len), VMEXIT_XSETBV);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_VMCALL, &len), VMEXIT_HYPERCALL);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_EPT_VIOLATION, &len), VMEXIT_SLAT_FAULT);
	assert_false(len);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_EPT_MISCONFIG, &len), VMEXIT_SLAT_MISCONFIG);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_EXCEPTION_NMI, &len), VMEXIT_EXCEPTION);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_EXT_INTR, &len), VMEXIT_EXT_INTR);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_TRIPLE_FAULT, &len), VMEXIT_TRIPLE_FAULT);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_INIT, &len), VMEXIT_INIT);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_SIPI, &len), VMEXIT_SIPI);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_INTR_WINDOW, &len), VMEXIT_INTR_WINDOW);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_NMI_WINDOW, &len), VMEXIT_NMI_WINDOW);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_PAUSE, &len), VMEXIT_PAUSE);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_RDTSCP, &len), VMEXIT_RDTSCP);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_RDPMC, &len), VMEXIT_RDPMC);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_INVD, &len), VMEXIT_INVD);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_WBINVD, &len), VMEXIT_INVD);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_MONITOR, &len), VMEXIT_UD_INSN);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_MWAIT, &len), VMEXIT_UD_INSN);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_INVALID_GUEST_STATE, &len),
			 VMEXIT_INVALID_STATE);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_MSR_LOADING, &len), VMEXIT_ENTRY_FAIL);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_MACHINE_CHECK, &len), VMEXIT_UNHANDLED);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_TASK_SWITCH, &len), VMEXIT_UNHANDLED);
	for (size_t i = 0; i < ARRAY_SIZE(virt_insns); i++)
		assert_int_equal(vmx_exit_neutral(virt_insns[i], &len), VMEXIT_VIRT_INSN);
	for (size_t i = 0; i < ARRAY_SIZE(skipped); i++) {
		vmx_exit_neutral(skipped[i], &len);
		assert_true(len);
	}
	/* gaps and numbers past the table */
	assert_int_equal(vmx_exit_neutral(35, &len), VMEXIT_UNHANDLED);
	assert_int_equal(vmx_exit_neutral(38, &len), VMEXIT_UNHANDLED);
	assert_int_equal(vmx_exit_neutral(42, &len), VMEXIT_UNHANDLED);
	assert_int_equal(vmx_exit_neutral(71, &len), VMEXIT_UNHANDLED);
	assert_int_equal(vmx_exit_neutral(VMX_EXIT_BASIC_COUNT, &len), VMEXIT_UNHANDLED);
	assert_false(len);
	assert_string_equal(vmx_exit_name(35), "unknown");
	/* the qualification is read where table C-1 gives it a meaning the
	 * core uses, and RSP is left unread only where no handler needs it */
	for (u32 b = 0; b < 0x10000; b++) {
		u8 f = vmx_exit_desc(b)->flags;
		bool qual = b == VMX_EXIT_EXCEPTION_NMI || b == VMX_EXIT_SIPI ||
			    b == VMX_EXIT_CR_ACCESS || b == VMX_EXIT_IO ||
			    b == VMX_EXIT_EPT_VIOLATION;
		bool no_rsp = b == VMX_EXIT_CPUID || b == VMX_EXIT_HLT || b == VMX_EXIT_EXT_INTR ||
			      b == VMX_EXIT_RDMSR || b == VMX_EXIT_WRMSR ||
			      b == VMX_EXIT_INTR_WINDOW || b == VMX_EXIT_IO;

		assert_int_equal(!!(f & EXIT_QUAL), qual);
		assert_int_equal(!!(f & EXIT_NO_RSP), no_rsp);
	}
	assert_string_equal(vmx_exit_name(VMX_EXIT_EPT_VIOLATION), "EPT violation");
	/* every defined number is named */
	for (u32 b = 0; b < VMX_EXIT_BASIC_COUNT; b++)
		if (b != 35 && b != 38 && b != 42 && b != 71)
			assert_string_not_equal(vmx_exit_name(b), "unknown");
}

static u32 info(u8 type, u8 vector, bool has_error, bool pe)
{
	struct vcpu_event ev = { .type = type, .vector = vector, .has_error = has_error };

	return vmx_event_info(&ev, pe);
}

static void test_events(void **state)
{
	(void)state;
	assert_int_equal(info(EVENT_NONE, 0x30, false, true), 0);
	assert_int_equal(info(EVENT_EXTINT, 0x30, false, true), 0x80000030);
	assert_int_equal(info(EVENT_NMI, 0, false, true), 0x80000202);
	/* #GP carries its error code in protected mode, never in real mode */
	assert_int_equal(info(EVENT_EXCEPTION, X86_EXC_GP, true, true), 0x80000b0d);
	assert_int_equal(info(EVENT_EXCEPTION, X86_EXC_GP, true, false), 0x8000030d);
	/* #PF even if the core forgot has_error (27.2.1.3 demands it) */
	assert_int_equal(info(EVENT_EXCEPTION, X86_EXC_PF, false, true), 0x80000b0e);
	/* #UD has none even if asked */
	assert_int_equal(info(EVENT_EXCEPTION, X86_EXC_UD, true, true), 0x80000306);
	assert_int_equal(info(EVENT_SOFT_INT, 0x80, false, true), 0x80000480);
	for (u32 v = 0; v < 32; v++)
		assert_int_equal(vmx_exc_has_error((u8)v),
				 v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21);
}

static void test_msr_bitmap(void **state)
{
	u8 *bm = malloc(VMX_MSR_BITMAP_SIZE);
	u8 ref[VMX_MSR_BITMAP_SIZE];

	(void)state;
	memset(bm, 0xff, VMX_MSR_BITMAP_SIZE);
	/* MSR 0x10 (TSC): reads pass, writes exit */
	vmx_msr_bitmap_set(bm, 0x10, false, true);
	assert_int_equal(bm[0x10 / 8], 0xfe);
	assert_int_equal(bm[0x800 + 0x10 / 8], 0xff);
	/* EFER both ways */
	vmx_msr_bitmap_set(bm, MSR_IA32_EFER, false, false);
	assert_int_equal(bm[0x400 + 0x80 / 8], 0xfe);
	assert_int_equal(bm[0xc00 + 0x80 / 8], 0xfe);
	/* the last MSR of each range */
	vmx_msr_bitmap_set(bm, 0x1fff, false, false);
	assert_int_equal(bm[0x3ff], 0x7f);
	assert_int_equal(bm[0xbff], 0x7f);
	vmx_msr_bitmap_set(bm, 0xc0001fff, false, false);
	assert_int_equal(bm[0x7ff], 0x7f);
	assert_int_equal(bm[0xfff], 0x7f);
	/* and back */
	vmx_msr_bitmap_set(bm, 0x10, true, true);
	assert_int_equal(bm[0x10 / 8], 0xff);
	/* outside the ranges nothing changes */
	memcpy(ref, bm, sizeof(ref));
	vmx_msr_bitmap_set(bm, 0x2000, false, false);
	vmx_msr_bitmap_set(bm, 0x40000000, false, false);
	vmx_msr_bitmap_set(bm, 0xbfffffff, false, false);
	vmx_msr_bitmap_set(bm, 0xc0002000, false, false);
	vmx_msr_bitmap_set(bm, 0xc0010000, false, false);
	assert_memory_equal(ref, bm, sizeof(ref));
	free(bm);
}

static void test_io_bitmap(void **state)
{
	u8 *a = malloc(VMX_IO_BITMAP_SIZE), *b = malloc(VMX_IO_BITMAP_SIZE);

	(void)state;
	memset(a, 0xff, VMX_IO_BITMAP_SIZE);
	memset(b, 0xff, VMX_IO_BITMAP_SIZE);
	vmx_io_bitmap_set(a, b, 0x3f9, false);
	assert_int_equal(a[0x3f9 / 8], 0xfd);
	vmx_io_bitmap_set(a, b, 0x7fff, false);
	assert_int_equal(a[0xfff], 0x7f);
	vmx_io_bitmap_set(a, b, 0x8000, false);
	assert_int_equal(b[0], 0xfe);
	vmx_io_bitmap_set(a, b, 0xffff, false);
	assert_int_equal(b[0xfff], 0x7f);
	vmx_io_bitmap_set(a, b, 0x3f9, true);
	assert_int_equal(a[0x3f9 / 8], 0xff);
	free(a);
	free(b);
}

static void test_error_names(void **state)
{
	(void)state;
	for (u32 e = 0; e < 64; e++)
		assert_non_null(vmx_insn_error_name(e));
	assert_non_null(strstr(vmx_insn_error_name(VMX_ERR_ENTRY_BAD_HOST), "host"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_compute),	  cmocka_unit_test(test_config_skylake),
		cmocka_unit_test(test_config_plain_ctls), cmocka_unit_test(test_config_missing),
		cmocka_unit_test(test_config_optional),	  cmocka_unit_test(test_cr_views),
		cmocka_unit_test(test_segments),	  cmocka_unit_test(test_tr_fixup),
		cmocka_unit_test(test_cr_qualification),  cmocka_unit_test(test_io_qualification),
		cmocka_unit_test(test_ept_qualification), cmocka_unit_test(test_intr_info),
		cmocka_unit_test(test_exit_table),	  cmocka_unit_test(test_events),
		cmocka_unit_test(test_vectoring),	  cmocka_unit_test(test_dr6_after_db),
		cmocka_unit_test(test_msr_bitmap),	  cmocka_unit_test(test_io_bitmap),
		cmocka_unit_test(test_error_names),
	};

	return cmocka_run_group_tests_name("vmx", tests, NULL, NULL);
}
