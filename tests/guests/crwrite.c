/*
 * crwrite: MOV to CR0 and CR4 as the manuals define them (SDM 2B MOV to CR,
 * SDM 3A 2.5, 4.10.1), from 32-bit protected mode without paging, in a
 * partition on VT-x, where those writes exit to the hypervisor. A value the
 * CPU would refuse must raise #GP in the guest and change nothing; stored
 * instead, it failed the next VM entry (CR4.PCIDE outside IA-32e mode) and
 * stopped the partition.
 *
 *   - each CR4 bit whose CPUID flag the guest sees is accepted and read
 *     back; each whose flag it does not see (in a partition: MCE, VMX, SMX,
 *     CET, PKS, Key Locker, UINTR; LA57 and others the CPU lacks), and each
 *     no feature defines (15, 26-31), raises #GP and CR4 keeps its value;
 *   - CR4.PCIDE raises #GP outside IA-32e mode, with PCID or without;
 *   - CR0: NW without CD, and PG without PE, raise #GP; CR0's reserved bits
 *     31:0 are ignored (no #GP, they read back 0: what a partition
 *     promises, not every processor).
 * CR4.CET is tried only when its flags are hidden (with CET, setting it
 * needs CR0.WP); CR4 bits the guest starts with are left alone.
 *
 * PASS details: cr4_ok=0xX cr4_gp=0xX
 */
#include "console.h"
#include "guest.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "lib.h"
#include "trap.h"

#define R_EBX 1
#define R_ECX 2
#define R_EDX 3
#define CR0_RESERVED 0x1ffaffc0U /* bits 6-15, 17, 19-28 (SDM 3A 2.5) */

const char guest_name[] = "crwrite";

/* SDM 3A 2.5 and SDM 2A CPUID: the flag that makes each CR4 bit exist. */
static const struct {
	u32 cr4;
	u32 leaf;
	u8 reg, bit;
} features[] = {
	{ CR4_VME, 0x1, R_EDX, 1 },	 { CR4_PVI, 0x1, R_EDX, 1 },
	{ CR4_TSD, 0x1, R_EDX, 4 },	 { CR4_DE, 0x1, R_EDX, 2 },
	{ CR4_PSE, 0x1, R_EDX, 3 },	 { CR4_PAE, 0x1, R_EDX, 6 },
	{ CR4_MCE, 0x1, R_EDX, 7 },	 { CR4_PGE, 0x1, R_EDX, 13 },
	{ CR4_OSFXSR, 0x1, R_EDX, 24 },	 { CR4_OSXMMEXCPT, 0x1, R_EDX, 25 },
	{ CR4_UMIP, 0x7, R_ECX, 2 },	 { CR4_LA57, 0x7, R_ECX, 16 },
	{ CR4_VMXE, 0x1, R_ECX, 5 },	 { CR4_SMXE, 0x1, R_ECX, 6 },
	{ CR4_FSGSBASE, 0x7, R_EBX, 0 }, { CR4_OSXSAVE, 0x1, R_ECX, 26 },
	{ CR4_KL, 0x7, R_ECX, 23 },	 { CR4_SMEP, 0x7, R_EBX, 7 },
	{ CR4_SMAP, 0x7, R_EBX, 20 },	 { CR4_PKE, 0x7, R_ECX, 3 },
	{ CR4_CET, 0x7, R_ECX, 7 },	 { CR4_CET, 0x7, R_EDX, 20 },
	{ CR4_PKS, 0x7, R_ECX, 31 },	 { CR4_UINTR, 0x7, R_EDX, 5 },
};

static u32 flag(u32 leaf, u8 reg, u8 bit)
{
	struct cpuid_regs r = { 0, 0, 0, 0 };
	u32 regs[4];

	if (cpuid(CPUID_VENDOR_LEAF).eax >= leaf)
		cpuid_count(leaf, 0, &r);
	regs[0] = r.eax;
	regs[1] = r.ebx;
	regs[2] = r.ecx;
	regs[3] = r.edx;
	return regs[reg] & BIT(bit);
}

/* The CR4 bits this CPU's CPUID says exist. */
static u32 cr4_present(void)
{
	u32 present = CR4_PCE;

	for (u32 i = 0; i < ARRAY_SIZE(features); i++)
		if (flag(features[i].leaf, features[i].reg, features[i].bit))
			present |= features[i].cr4;
	return present;
}

static void cr4_must_gp(u32 bit, const char *why)
{
	u32 before = (u32)read_cr4();

	if (cr4_write_safe(before | bit))
		guest_fail("MOV CR4 with bit 0x%x (%s) did not raise #GP; CR4 0x%x -> 0x%x", bit,
			   why, before, (u32)read_cr4());
	if ((u32)read_cr4() != before)
		guest_fail("MOV CR4 with bit 0x%x raised #GP but CR4 changed: 0x%x -> 0x%x", bit,
			   before, (u32)read_cr4());
}

static void cr4_must_take(u32 bit)
{
	u32 before = (u32)read_cr4();

	if (!cr4_write_safe(before | bit))
		guest_fail("MOV CR4 with bit 0x%x (CPUID shows its feature) raised #GP", bit);
	if ((u32)read_cr4() != (before | bit))
		guest_fail("MOV CR4 0x%x reads back 0x%x", before | bit, (u32)read_cr4());
	if (!cr4_write_safe(before) || (u32)read_cr4() != before)
		guest_fail("MOV CR4 0x%x (back) failed, reads 0x%x", before, (u32)read_cr4());
}

static void check_cr0(void)
{
	u32 cr0 = (u32)read_cr0();

	if (cr0_write_safe((cr0 | CR0_NW) & ~CR0_CD))
		guest_fail("MOV CR0 with NW without CD did not raise #GP");
	if (cr0_write_safe((cr0 | CR0_PG) & ~CR0_PE))
		guest_fail("MOV CR0 with PG without PE did not raise #GP");
	if ((u32)read_cr0() != cr0)
		guest_fail("CR0 changed by refused writes: 0x%x -> 0x%x", cr0, (u32)read_cr0());
	if (!cr0_write_safe(cr0 | CR0_RESERVED))
		guest_fail("MOV CR0 with reserved bits 0x%x raised #GP", CR0_RESERVED);
	if ((u32)read_cr0() != cr0)
		guest_fail("MOV CR0 0x%x: reserved bits kept, reads 0x%x", cr0 | CR0_RESERVED,
			   (u32)read_cr0());
}

void guest_main(void)
{
	u32 present = cr4_present(), start = (u32)read_cr4(), ok = 0, gp = 0;

	con_printf("crwrite: CR0 0x%x CR4 0x%x, CR4 bits CPUID shows 0x%x\n", (u32)read_cr0(),
		   start, present);
	for (u32 b = 0; b < 32; b++) {
		u32 bit = BIT(b);

		if ((start & bit) || bit == CR4_PCIDE || (bit == CR4_CET && (present & bit)))
			continue;
		if (present & bit) {
			cr4_must_take(bit);
			ok |= bit;
		} else {
			cr4_must_gp(bit, "its feature is hidden");
			gp |= bit;
		}
	}
	cr4_must_gp(CR4_PCIDE, "outside IA-32e mode");
	check_cr0();
	guest_pass("cr4_ok=0x%x cr4_gp=0x%x", ok, (u32)(gp | CR4_PCIDE));
}
