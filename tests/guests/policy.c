/*
 * policy: the default-deny rules (DESIGN.md) as the guest sees them.
 *
 * Always checked (they hold bare too):
 *   - ports nobody gives the guest (ports=P,P,... default 0x110, 0x2f0,
 *     0x6f0: empty on a PC, on QEMU's q35 and on Bochs, where 0x2e0 and
 *     0x2e8 read 0) read all-ones at byte, word and dword width, also
 *     after a write;
 *   - TSC, IA32_APIC_BASE (enabled, xAPIC, at 0xFEE00000, BSP) and EFER
 *     (long mode off) read without #GP (the TSC's value is not checked);
 *   - WRMSR of IA32_PKRS (0x6e1) with its reserved bits 63:32 set raises
 *     #GP, whether the MSR exists or not (SDM 4 table 2-2): this shows the
 *     #GP handling works on every platform.
 * With expect_hv=1 (inside a partition) also:
 *   - EFER.SVME reads clear (the hypervisor's own bit in the guest state);
 *   - the x2APIC ID MSR (0x802) raises #GP: the APIC is in xAPIC mode
 *     (SDM 3A 10.12.1.2; QEMU's TCG has no x2APIC and reads it as 0);
 *   - unknown MSRs (0x1234, 0xc0001234) raise #GP on read and write;
 *   - VM_HSAVE_PA and IA32_VMX_BASIC raise #GP on read and write, and a
 *     write to IA32_FEATURE_CONTROL raises #GP (the guest has no VMX/SVM).
 * Without it those are only reported (QEMU's TCG reads unknown MSRs as 0).
 *
 * PASS details: the list of what was checked.
 */
#include "cmdline.h"
#include "console.h"
#include "guest.h"
#include "hv/hw/x86.h"
#include "hv/svm/vmcb.h"
#include "hv/vmx/vmcs.h"
#include "lapic.h"
#include "lib.h"
#include "trap.h"

#define ONES8 0xffU
#define ONES16 0xffffU
#define ONES32 0xffffffffU
#define PORT_PROBE_BYTE 0x5a
#define MSR_IA32_PKRS 0x000006e1
#define PKRS_RESERVED 0xffffffff00000000ULL	       /* bits 63:32 */
#define MSR_X2APIC_ID (MSR_X2APIC_BASE + APIC_ID / 16) /* SDM 3A 11.12.1.2 */
#define MSR_UNKNOWN_LOW 0x00001234
#define MSR_UNKNOWN_HIGH 0xc0001234
#define DETAILS_MAX 512

const char guest_name[] = "policy";

static const u16 default_ports[] = { 0x110, 0x2f0, 0x6f0 };

static char details[DETAILS_MAX];
static size_t details_len;
static bool expect_hv;

static void note(const char *what)
{
	details_len += (size_t)snprintf(details + details_len, sizeof(details) - details_len,
					"%s%s", details_len ? " " : "", what);
}

static void check_port(u16 port)
{
	u32 b = inb(port), w = inw(port), l = inl(port);
	char buf[32];

	con_printf("policy: port 0x%x reads 0x%x/0x%x/0x%x\n", port, b, w, l);
	if (b != ONES8 || w != ONES16 || l != ONES32)
		guest_fail("port 0x%x reads 0x%x/0x%x/0x%x (byte/word/dword), want all-ones", port,
			   b, w, l);
	outb(port, PORT_PROBE_BYTE);
	b = inb(port);
	if (b != ONES8)
		guest_fail("port 0x%x reads 0x%x after writing 0x%x, want 0xff", port, b,
			   PORT_PROBE_BYTE);
	snprintf(buf, sizeof(buf), "port:0x%x=ones", port);
	note(buf);
}

static void check_ports(void)
{
	char v[CMDLINE_VALUE_MAX];
	const char *s = v;

	if (!cmdline_get("ports", v, sizeof(v))) {
		for (u32 i = 0; i < ARRAY_SIZE(default_ports); i++)
			check_port(default_ports[i]);
		return;
	}
	while (*s) {
		u64 port;
		size_t n = parse_u64(s, &port);

		if (!n || port > 0xffff || (s[n] && s[n] != ','))
			guest_fail("ports=%s: want a comma-separated list of port numbers", v);
		check_port((u16)port);
		s += n + (s[n] == ',');
	}
}

static u64 must_read(u32 msr, const char *name)
{
	u64 val;

	if (!msr_read_safe(msr, &val))
		guest_fail("RDMSR %s (0x%x) raised #GP", name, msr);
	con_printf("policy: RDMSR %s (0x%x) = 0x%llx\n", name, msr, val);
	return val;
}

static void check_allowed_msrs(void)
{
	u64 base = must_read(MSR_IA32_APIC_BASE, "IA32_APIC_BASE");
	u64 efer = must_read(MSR_IA32_EFER, "EFER");

	/* its value is not checked: QEMU's TCG reads MSR 0x10 as 0 */
	must_read(MSR_IA32_TSC, "IA32_TIME_STAMP_COUNTER");
	if (!(base & APIC_BASE_EN) || (base & APIC_BASE_EXTD) ||
	    (base & APIC_BASE_ADDR_MASK) != LAPIC_DEFAULT_BASE || !(base & APIC_BASE_BSP))
		guest_fail("IA32_APIC_BASE = 0x%llx, want an enabled xAPIC at 0x%x on the BSP",
			   base, (u32)LAPIC_DEFAULT_BASE);
	if (efer & (EFER_LME | EFER_LMA))
		guest_fail("EFER = 0x%llx in a 32-bit guest: long mode set", efer);
	/* APM2 15.5.1: SVM needs EFER.SVME in the guest's VMCB; the guest,
	 * which has no SVM, must not see it */
	if (expect_hv && (efer & EFER_SVME))
		guest_fail("EFER = 0x%llx: SVME shows through", efer);
	note("rdmsr:tsc,apic_base,efer=ok");
}

/* Probes one access (a write writes wval); 'enforce' makes a missing #GP a
 * failure. */
static void probe_value(u32 msr, const char *name, bool write, u64 wval, bool enforce)
{
	u64 val = 0;
	bool done = write ? msr_write_safe(msr, wval) : msr_read_safe(msr, &val);
	char buf[48];

	con_printf("policy: %s %s (0x%x): %s", write ? "WRMSR" : "RDMSR", name, msr,
		   done ? "no #GP" : "#GP");
	if (done && !write)
		con_printf(", read 0x%llx", val);
	con_printf("%s\n", enforce ? "" : " (not checked)");
	if (done && enforce)
		guest_fail("%s %s (0x%x) did not raise #GP", write ? "WRMSR" : "RDMSR", name, msr);
	if (enforce) {
		snprintf(buf, sizeof(buf), "%s:0x%x=#GP", write ? "wrmsr" : "rdmsr", msr);
		note(buf);
	}
}

static void probe(u32 msr, const char *name, bool write, bool enforce)
{
	probe_value(msr, name, write, 0, enforce);
}

static void check_denied_msrs(void)
{
	u64 fc = 0;
	bool fc_read;

	probe_value(MSR_IA32_PKRS, "IA32_PKRS reserved bits", true, PKRS_RESERVED, true);
	probe(MSR_X2APIC_ID, "x2APIC ID", false, expect_hv);
	probe(MSR_UNKNOWN_LOW, "unknown", false, expect_hv);
	probe(MSR_UNKNOWN_HIGH, "unknown", false, expect_hv);
	probe(MSR_AMD_VM_HSAVE_PA, "VM_HSAVE_PA", false, expect_hv);
	probe(MSR_IA32_VMX_BASIC, "IA32_VMX_BASIC", false, expect_hv);
	fc_read = msr_read_safe(MSR_IA32_FEATURE_CONTROL, &fc);
	con_printf("policy: RDMSR IA32_FEATURE_CONTROL (0x%x): %s 0x%llx (not checked)\n",
		   MSR_IA32_FEATURE_CONTROL, fc_read ? "read" : "#GP", fc);
	if (!expect_hv)
		return; /* bare, writes would change the emulated machine */
	probe(MSR_UNKNOWN_LOW, "unknown", true, true);
	probe(MSR_UNKNOWN_HIGH, "unknown", true, true);
	probe(MSR_AMD_VM_HSAVE_PA, "VM_HSAVE_PA", true, true);
	probe(MSR_IA32_VMX_BASIC, "IA32_VMX_BASIC", true, true);
	probe(MSR_IA32_FEATURE_CONTROL, "IA32_FEATURE_CONTROL", true, true);
}

void guest_main(void)
{
	expect_hv = cmdline_flag("expect_hv");
	check_ports();
	check_allowed_msrs();
	check_denied_msrs();
	guest_pass("%s%s", details, expect_hv ? "" : " (bare: MSR #GP rules not enforced)");
}
