/*
 * The guest page-table walker (hv/insn/gpt.c): hand-built tables in a fake
 * guest-physical memory for every paging mode and page size, the reserved-bit
 * and permission faults with their #PF error codes, and instruction fetches
 * that cross a page boundary, decoded afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "hv/hw/x86.h"
#include "hv/insn/gpt.h"
#include "hv/insn/insn.h"

#define MEM_SIZE (512 * 1024)

/* Entry bits, spelled out here as a second opinion on gpt.c's */
#define P 0x1ULL
#define RW 0x2ULL
#define US 0x4ULL
#define PS 0x80ULL
#define PAT_LARGE 0x1000ULL
#define XD (1ULL << 63)
#define LA57 (1ULL << 12)
#define AC (1ULL << 18)

static u8 mem[MEM_SIZE];
static int reads;

static int read_phys(void *ctx, u64 gpa, void *buf, size_t len)
{
	(void)ctx;
	reads++;
	if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
		return -E_NOENT;
	memcpy(buf, mem + gpa, len);
	return 0;
}

static const struct gpt_mem_ops ops = { .read_phys = read_phys };

static int reset(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	reads = 0;
	return 0;
}

static void set64(u64 gpa, u64 v)
{
	memcpy(mem + gpa, &v, 8);
}

static void set32(u64 gpa, u32 v)
{
	memcpy(mem + gpa, &v, 4);
}

/* Translates and expects success at want. */
static void expect_gpa(const struct gpt_regs *r, u64 gla, u32 access, u64 want)
{
	u64 gpa = ~0ULL;
	u32 code = ~0U;
	int ret = gpt_translate(r, gla, access, &ops, NULL, &gpa, &code);

	if (ret)
		print_message("gla %#llx access %#x: ret %d code %#x\n", (unsigned long long)gla,
			      access, ret, code);
	assert_int_equal(ret, 0);
	assert_int_equal(gpa, want);
}

/* Translates and expects a #PF with the error code want. */
static void expect_pf(const struct gpt_regs *r, u64 gla, u32 access, u32 want)
{
	u64 gpa = 0;
	u32 code = ~0U;
	int ret = gpt_translate(r, gla, access, &ops, NULL, &gpa, &code);

	if (ret != GPT_PAGE_FAULT || code != want)
		print_message("gla %#llx access %#x: ret %d code %#x, want #PF %#x\n",
			      (unsigned long long)gla, access, ret, code, want);
	assert_int_equal(ret, GPT_PAGE_FAULT);
	assert_int_equal(code, want);
}

static void expect_err(const struct gpt_regs *r, u64 gla, u32 access, int want)
{
	u64 gpa = 0;
	u32 code = 0;

	assert_int_equal(gpt_translate(r, gla, access, &ops, NULL, &gpa, &code), want);
}

#define RD 0
#define WR GPT_ACC_WRITE
#define USR GPT_ACC_USER
#define EX GPT_ACC_EXEC

static void test_paging_off(void **state)
{
	struct gpt_regs r = { .cr0 = CR0_PE };

	(void)state;
	expect_gpa(&r, 0x12345678, RD, 0x12345678);
	expect_gpa(&r, 0xfee00000, WR | USR, 0xfee00000);
	/* linear addresses are 32 bits outside IA-32e mode */
	expect_gpa(&r, 0x100001000ULL, RD, 0x1000);
	assert_int_equal(reads, 0);
}

/* 32-bit paging: 4-KByte pages, 4-MByte pages with PSE and PSE-36 (SDM 3A 4.3) */
static void test_32bit(void **state)
{
	struct gpt_regs r = { .cr0 = CR0_PG | CR0_PE | CR0_WP,
			      .cr3 = 0x1000 | 0x18,
			      .maxphyaddr = 40 };

	(void)state;
	set32(0x1000 + 1 * 4, 0x2000 | P | RW | US); /* PDE 1 -> PT at 0x2000 */
	set32(0x2000 + 1 * 4, 0x5000 | P | RW | US); /* PTE 1 -> 0x5000 */
	expect_gpa(&r, 0x00401123, RD, 0x5123);
	expect_gpa(&r, 0x00401fff, WR | USR, 0x5fff);
	expect_gpa(&r, 0xabc0000000401123ULL, RD, 0x5123); /* upper bits dropped */

	/* PDE 2 with PS: a PT pointer without CR4.PSE (at 0x800000: not RAM) */
	set32(0x1000 + 2 * 4, 0x00800000 | PS | P | RW);
	expect_err(&r, 0x00812345, RD, -E_NOENT);
	r.cr4 = CR4_PSE;
	expect_gpa(&r, 0x00812345, RD, 0x00812345);
	expect_gpa(&r, 0x00bfffff, WR, 0x00bfffff);

	/* PSE-36: PDE bits 20:13 are address bits 39:32 (MAXPHYADDR 40) */
	set32(0x1000 + 3 * 4, 0x00c00000 | (0x83 << 13) | PS | P);
	expect_gpa(&r, 0x00c01234, RD, 0x8300c01234ULL);
	set32(0x1000 + 3 * 4, 0x00c00000 | (1 << 21) | PS | P); /* bit 21 reserved */
	expect_pf(&r, 0x00c01234, RD, PF_ERR_P | PF_ERR_RSVD);
	/* MAXPHYADDR 36: bits 21:17 reserved, 16:13 are address bits 35:32 */
	r.maxphyaddr = 36;
	set32(0x1000 + 4 * 4, 0x01000000 | (0xf << 13) | PS | P);
	expect_gpa(&r, 0x01000010, RD, 0xf01000010ULL);
	set32(0x1000 + 4 * 4, 0x01000000 | (0x10 << 13) | PS | P);
	expect_pf(&r, 0x01000010, RD, PF_ERR_P | PF_ERR_RSVD);

	/* not present: the error code says the access; no I/D without SMEP or NXE */
	expect_pf(&r, 0x00402000, RD, 0);
	expect_pf(&r, 0x00402000, WR, PF_ERR_W);
	expect_pf(&r, 0x00402000, WR | USR, PF_ERR_W | PF_ERR_U);
	expect_pf(&r, 0x00402000, EX, 0);
	expect_pf(&r, 0x01400000, RD, 0); /* PDE 5 absent */
	r.efer = EFER_NXE;		  /* NXE means nothing without PAE: still no I/D */
	expect_pf(&r, 0x00402000, EX, 0);
	r.efer = 0;
	r.cr4 |= CR4_SMEP;
	expect_pf(&r, 0x00402000, EX, PF_ERR_I);
	/* bit 63 does not exist in 4-byte entries: no NX, no XD reserved */
	r.cr4 = 0;
	expect_gpa(&r, 0x00401123, EX | USR, 0x5123);
	/* supervisor page, user access */
	set32(0x2000 + 1 * 4, 0x5000 | P | RW);
	expect_pf(&r, 0x00401123, USR, PF_ERR_P | PF_ERR_U);
}

/* PAE paging: PDPTEs from CR3 or from registers, 2-MByte pages, XD (SDM 3A 4.4) */
static void test_pae(void **state)
{
	struct gpt_regs r = { .cr0 = CR0_PG | CR0_PE,
			      .cr4 = CR4_PAE,
			      .efer = EFER_NXE,
			      .cr3 = 0x3020,
			      .maxphyaddr = 36 };
	u64 pdpte_regs[4] = { 0x8000 | P, 0, 0, 0 };

	(void)state;
	set64(0x3020 + 0 * 8, 0x4000 | P);	/* PDPTE 0 -> PD 0x4000 */
	set64(0x4000 + 2 * 8, 0x6000 | P | RW); /* PDE 2 -> PT 0x6000 */
	set64(0x6000 + 3 * 8, 0x7000 | P | RW); /* PTE 3 -> 0x7000 */
	expect_gpa(&r, 0x00403456, WR, 0x7456);
	/* the PDPTE has no R/W or U/S bits: they do not restrict */
	r.cr0 |= CR0_WP;
	set64(0x4000 + 2 * 8, 0x6000 | P | RW | US);
	set64(0x6000 + 3 * 8, 0x7000 | P | RW | US);
	expect_gpa(&r, 0x00403456, WR | USR, 0x7456);
	r.cr0 &= ~CR0_WP;

	set64(0x4000 + 3 * 8, 0x00a00000 | PAT_LARGE | PS | P | RW); /* 2 MByte */
	expect_gpa(&r, 0x00712345, RD, 0x00b12345);
	set64(0x4000 + 3 * 8, 0x00a00000 | (1 << 13) | PS | P | RW);
	expect_pf(&r, 0x00712345, RD, PF_ERR_P | PF_ERR_RSVD);

	/* PDPTE: R/W is reserved (bits 2:1, 8:5), absent is not present */
	set64(0x3020 + 1 * 8, 0x4000 | P | RW);
	expect_pf(&r, 0x40000000, RD, PF_ERR_P | PF_ERR_RSVD);
	expect_pf(&r, 0x80000000, WR, PF_ERR_W);

	/* XD: honoured with NXE, reserved without */
	set64(0x6000 + 4 * 8, 0x7000 | XD | P | RW);
	expect_gpa(&r, 0x00404000, RD, 0x7000);
	expect_pf(&r, 0x00404000, EX, PF_ERR_P | PF_ERR_I);
	r.efer = 0;
	expect_pf(&r, 0x00404000, RD, PF_ERR_P | PF_ERR_RSVD);
	expect_pf(&r, 0x00404000, EX, PF_ERR_P | PF_ERR_RSVD); /* no I/D: NXE = 0 */
	r.efer = EFER_NXE;

	/* bits 62:M are reserved in PAE entries (unlike 4-level's ignored 62:52) */
	set64(0x6000 + 5 * 8, 0x7000 | (1ULL << 60) | P);
	expect_pf(&r, 0x00405000, RD, PF_ERR_P | PF_ERR_RSVD);
	set64(0x6000 + 6 * 8, (1ULL << 36) | 0x7000 | P); /* above MAXPHYADDR 36 */
	expect_pf(&r, 0x00406000, RD, PF_ERR_P | PF_ERR_RSVD);
	r.maxphyaddr = 40;
	expect_gpa(&r, 0x00406010, RD, (1ULL << 36) | 0x7010);

	/* VT-x PDPTE registers win over memory */
	set64(0x8000 + 2 * 8, 0x9000 | P | RW);
	set64(0x9000 + 3 * 8, 0xa000 | P | RW);
	r.pdpte = pdpte_regs;
	expect_gpa(&r, 0x00403456, RD, 0xa456);
	pdpte_regs[0] = 0;
	expect_pf(&r, 0x00403456, RD, 0);
}

/* 4-level paging: 4K, 2M, 1G pages, reserved bits, canonical addresses (4.5) */
static void test_4level(void **state)
{
	struct gpt_regs r = { .cr0 = CR0_PG | CR0_PE | CR0_WP,
			      .cr4 = CR4_PAE,
			      .efer = EFER_LME | EFER_LMA | EFER_NXE,
			      .cr3 = 0x10000 | 0x7ff,
			      .maxphyaddr = 40 };
	const u64 k = 0xffff800000000000ULL; /* PML4 index 256 */

	(void)state;
	set64(0x10000 + 256 * 8, 0x11000 | P | RW);
	set64(0x11000 + 0 * 8, 0x12000 | P | RW);
	set64(0x12000 + 1 * 8, 0x13000 | P | RW);
	set64(0x13000 + 1 * 8, 0x20000 | P | RW);
	expect_gpa(&r, k + 0x201abc, WR, 0x20abc);

	/* 1 GByte page in PDPTE 1 (PAT at bit 12, 29:13 reserved) */
	set64(0x11000 + 1 * 8, 0x40000000 | PAT_LARGE | PS | P | RW);
	expect_gpa(&r, k + 0x40123456, RD, 0x40123456);
	expect_gpa(&r, k + 0x7fffffff, RD, 0x7fffffff);
	set64(0x11000 + 1 * 8, 0x40000000 | (1 << 20) | PS | P | RW);
	expect_pf(&r, k + 0x40123456, RD, PF_ERR_P | PF_ERR_RSVD);

	/* 2 MByte page in PDE 2 */
	set64(0x12000 + 2 * 8, 0x00600000 | PAT_LARGE | PS | P | RW);
	expect_gpa(&r, k + 0x412345, RD, 0x612345);
	set64(0x12000 + 2 * 8, 0x00600000 | (1 << 20) | PS | P | RW);
	expect_pf(&r, k + 0x412345, WR, PF_ERR_P | PF_ERR_RSVD | PF_ERR_W);

	/* PS is reserved in a PML4E */
	set64(0x10000 + 257 * 8, 0x11000 | PS | P | RW);
	expect_pf(&r, k + (1ULL << 39), RD, PF_ERR_P | PF_ERR_RSVD);

	/* 62:52 are ignored; M..51 reserved */
	set64(0x13000 + 2 * 8, 0x21000 | (0x7fULL << 52) | P);
	expect_gpa(&r, k + 0x202008, RD, 0x21008);
	set64(0x13000 + 3 * 8, (1ULL << 45) | 0x22000 | P);
	expect_pf(&r, k + 0x203000, RD, PF_ERR_P | PF_ERR_RSVD);
	r.maxphyaddr = 0; /* 52 */
	expect_gpa(&r, k + 0x203000, RD, (1ULL << 45) | 0x22000);
	set64(0x13000 + 4 * 8, (1ULL << 51) | 0x22000 | P);
	expect_gpa(&r, k + 0x204000, RD, (1ULL << 51) | 0x22000);

	/* a paging structure outside RAM stops the walk */
	set64(0x13000 + 5 * 8, 0);
	set64(0x12000 + 3 * 8, 0x7000000 | P | RW);
	expect_err(&r, k + 0x600000, RD, -E_NOENT);

	/* non-canonical: #GP, not #PF */
	expect_err(&r, 0x0000800000000000ULL, RD, -E_RANGE);
	expect_err(&r, 0xffff7fffffffffffULL, RD, -E_RANGE);
	expect_pf(&r, 0x00007ffffffff000ULL, RD, 0); /* canonical, PML4E 255 absent */
}

/* 5-level paging (CR4.LA57): 57-bit linear addresses (4.5) */
static void test_5level(void **state)
{
	struct gpt_regs r = { .cr0 = CR0_PG | CR0_PE,
			      .cr4 = CR4_PAE | LA57,
			      .efer = EFER_LME | EFER_LMA,
			      .cr3 = 0x30000 };
	const u64 gla = 0x0080000000001234ULL; /* PML5 index 0x80 */

	(void)state;
	set64(0x30000 + 0x80 * 8, 0x31000 | P | RW);
	set64(0x31000, 0x32000 | P | RW);
	set64(0x32000, 0x33000 | P | RW);
	set64(0x33000, 0x34000 | P | RW);
	set64(0x34000 + 1 * 8, 0x35000 | P | RW);
	expect_gpa(&r, gla, RD, 0x35234);
	/* 1 GByte page under 5-level */
	set64(0x32000 + 8, 0x80000000 | PS | P);
	expect_gpa(&r, gla + (1ULL << 30), RD, 0x80001234);
	/* the same address is not canonical with 4-level paging */
	r.cr4 = CR4_PAE;
	expect_err(&r, gla, RD, -E_RANGE);
	r.cr4 = CR4_PAE | LA57;
	expect_err(&r, 0x0100000000000000ULL, RD, -E_RANGE);
	expect_pf(&r, 0xff00000000000000ULL, RD, 0); /* canonical, PML5E 0x100 absent */
	/* PS is reserved in a PML5E */
	set64(0x30000 + 0x81 * 8, 0x31000 | PS | P);
	expect_pf(&r, gla + (1ULL << 48), RD, PF_ERR_P | PF_ERR_RSVD);
}

/* SDM 3A 4.6 access rights and 4.7 error codes, on one 4-level mapping. */
struct perm_case {
	const char *what;
	u64 upper, leaf; /* flags of the PML4E/PDPTE/PDE and of the PTE */
	u64 cr0, cr4, efer, rflags;
	u32 access;
	int ok; /* 1: translates; 0: #PF with code */
	u32 code;
};

#define WP CR0_WP
#define SMEP CR4_SMEP
#define SMAP CR4_SMAP
#define NXE EFER_NXE
#define PP PF_ERR_P
#define PW PF_ERR_W
#define PU PF_ERR_U
#define PR PF_ERR_RSVD
#define PI PF_ERR_I

static const struct perm_case perm_cases[] = {
	{ "sup read, RO page", P | RW, P, 0, 0, 0, 0, RD, 1, 0 },
	{ "sup write, RO page, WP=0", P | RW, P, 0, 0, 0, 0, WR, 1, 0 },
	{ "sup write, RO page, WP=1", P | RW, P, WP, 0, 0, 0, WR, 0, PP | PW },
	{ "sup write, RO PDE only, WP=1", P, P | RW, WP, 0, 0, 0, WR, 0, PP | PW },
	{ "sup write, RW page, WP=1", P | RW, P | RW, WP, 0, 0, 0, WR, 1, 0 },
	{ "user read, sup page", P | RW | US, P | RW, 0, 0, 0, 0, USR, 0, PP | PU },
	{ "user read, sup PDE", P | RW, P | RW | US, 0, 0, 0, 0, USR, 0, PP | PU },
	{ "user read, user page", P | US, P | US, 0, 0, 0, 0, USR, 1, 0 },
	{ "user write, RO user page, WP=0", P | RW | US, P | US, 0, 0, 0, 0, USR | WR, 0,
	  PP | PW | PU },
	{ "user write, RW user page", P | RW | US, P | RW | US, WP, 0, 0, 0, USR | WR, 1, 0 },
	{ "exec, NX page", P | RW, P | XD, 0, 0, NXE, 0, EX, 0, PP | PI },
	{ "exec, NX PDE", P | RW | XD, P, 0, 0, NXE, 0, EX, 0, PP | PI },
	{ "read, NX page", P | RW, P | XD, 0, 0, NXE, 0, RD, 1, 0 },
	{ "user exec, NX page", P | US, P | US | XD, 0, 0, NXE, 0, USR | EX, 0, PP | PU | PI },
	{ "user exec, user page", P | US, P | US, 0, 0, NXE, 0, USR | EX, 1, 0 },
	{ "XD without NXE: reserved", P | RW, P | XD, 0, 0, 0, 0, RD, 0, PP | PR },
	{ "XD without NXE, exec: no I/D", P | RW, P | XD, 0, 0, 0, 0, EX, 0, PP | PR },
	{ "sup exec, user page, no SMEP", P | US, P | US, 0, 0, NXE, 0, EX, 1, 0 },
	{ "sup exec, user page, SMEP", P | US, P | US, 0, SMEP, NXE, 0, EX, 0, PP | PI },
	{ "sup exec, user page, SMEP, NXE=0", P | US, P | US, 0, SMEP, 0, 0, EX, 0, PP | PI },
	{ "sup exec, sup page, SMEP", P, P, 0, SMEP, 0, 0, EX, 1, 0 },
	{ "sup read, user page, no SMAP", P | US, P | US, 0, 0, 0, 0, RD, 1, 0 },
	{ "sup read, user page, SMAP", P | US, P | US, 0, SMAP, 0, 0, RD, 0, PP },
	{ "sup read, user page, SMAP, AC", P | US, P | US, 0, SMAP, 0, AC, RD, 1, 0 },
	{ "sup write, user page, SMAP", P | RW | US, P | RW | US, WP, SMAP, 0, 0, WR, 0, PP | PW },
	{ "sup write, RO user page, SMAP, AC, WP", P | US, P | US, WP, SMAP, 0, AC, WR, 0,
	  PP | PW },
	{ "sup write, RO user page, SMAP, AC, WP=0", P | US, P | US, 0, SMAP, 0, AC, WR, 1, 0 },
	{ "user read, user page, SMAP", P | US, P | US, 0, SMAP, 0, 0, USR, 1, 0 },
	{ "sup read, user PTE under sup PDE, SMAP", P, P | US, 0, SMAP, 0, 0, RD, 1, 0 },
	{ "not present, read", P | RW, 0, 0, 0, NXE, 0, RD, 0, 0 },
	{ "not present, user write", P | RW, 0, 0, 0, NXE, 0, USR | WR, 0, PW | PU },
	{ "not present, exec, NXE", P | RW, 0, 0, 0, NXE, 0, EX, 0, PI },
	{ "not present, exec, no NXE", P | RW, 0, 0, 0, 0, 0, EX, 0, 0 },
	{ "not present PDE", 0, P, 0, 0, 0, 0, WR, 0, PW },
};

static void test_permissions(void **state)
{
	const u64 gla = 0x401234; /* PML4E 0, PDPTE 0, PDE 2, PTE 1 */

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(perm_cases); i++) {
		const struct perm_case *c = &perm_cases[i];
		struct gpt_regs r = { .cr0 = CR0_PG | CR0_PE | c->cr0,
				      .cr4 = CR4_PAE | c->cr4,
				      .efer = EFER_LME | EFER_LMA | c->efer,
				      .rflags = 2 | c->rflags,
				      .cr3 = 0x10000 };
		u64 gpa = 0;
		u32 code = ~0U;
		int ret;

		/* PML4E and PDPTE allow everything; the PDE carries the upper bits */
		set64(0x10000, 0x11000 | P | RW | US);
		set64(0x11000, 0x12000 | P | RW | US);
		set64(0x12000 + 2 * 8, 0x13000 | c->upper);
		set64(0x13000 + 1 * 8, 0x50000 | c->leaf);
		ret = gpt_translate(&r, gla, c->access, &ops, NULL, &gpa, &code);
		if (ret != (c->ok ? 0 : GPT_PAGE_FAULT) || (c->ok && gpa != 0x50234) ||
		    (!c->ok && code != c->code)) {
			print_message("%s: ret %d gpa %#llx code %#x (want %#x)\n", c->what, ret,
				      (unsigned long long)gpa, code, c->code);
			fail();
		}
	}
}

/*
 * Instruction fetch across a page boundary, with the two pages at
 * unrelated physical addresses; then the bytes decode.
 */
static void test_fetch(void **state)
{
	struct gpt_regs r = { .cr0 = CR0_PG | CR0_PE | CR0_WP,
			      .cr4 = CR4_PAE,
			      .efer = EFER_LME | EFER_LMA | EFER_NXE,
			      .cr3 = 0x10000 };
	/* movl $0x12345678,0x300(%rdi) */
	static const u8 insn10[] = { 0xc7, 0x87, 0x00, 0x03, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12 };
	u8 buf[INSN_MAX_LEN];
	u32 got = 0, code = 0;
	u64 fault = 0;
	struct insn d;

	(void)state;
	set64(0x10000, 0x11000 | P | RW | US);
	set64(0x11000, 0x12000 | P | RW | US);
	set64(0x12000 + 2 * 8, 0x13000 | P | RW | US);
	set64(0x13000 + 0 * 8, 0x7000 | P);	 /* 0x400000 -> 0x7000 */
	set64(0x13000 + 1 * 8, 0x3000 | P);	 /* 0x401000 -> 0x3000 */
	set64(0x13000 + 2 * 8, 0x4000 | P | XD); /* 0x402000: not executable */
	set64(0x13000 + 4 * 8, 0x5000 | P | US); /* 0x404000: user */

	/* 4 bytes at the end of the first page, 6 at the start of the second */
	memcpy(mem + 0x7ffc, insn10, 4);
	memcpy(mem + 0x3000, insn10 + 4, 6);
	assert_int_equal(
		gpt_fetch(&r, 0x400ffc, 0, &ops, NULL, buf, sizeof(buf), &got, &code, &fault), 0);
	assert_int_equal(got, sizeof(buf));
	assert_memory_equal(buf, insn10, sizeof(insn10));
	assert_int_equal(insn_decode(&d, buf, got, INSN_MODE_64), 0);
	assert_int_equal(d.len, 10);
	assert_int_equal(d.imm, 0x12345678);

	/* within one page: one translation */
	memcpy(mem + 0x7100, insn10, sizeof(insn10));
	assert_int_equal(gpt_fetch(&r, 0x400100, 0, &ops, NULL, buf, 10, &got, &code, &fault), 0);
	assert_memory_equal(buf, insn10, 10);

	/* second page not executable: the bytes of the first page still come back */
	memcpy(mem + 0x3ffe, "\x89\x08", 2); /* movl %ecx,(%rax) */
	assert_int_equal(gpt_fetch(&r, 0x401ffe, 0, &ops, NULL, buf, sizeof(buf), &got, &code,
				   &fault),
			 GPT_PAGE_FAULT);
	assert_int_equal(got, 2);
	assert_int_equal(fault, 0x402000);
	assert_int_equal(code, PF_ERR_P | PF_ERR_I);
	assert_int_equal(insn_decode(&d, buf, got, INSN_MODE_64), 0);
	assert_int_equal(d.len, 2);
	/* ... and an instruction that needs them is truncated: inject #PF(fault) */
	memcpy(mem + 0x3ffc, insn10, 4);
	assert_int_equal(gpt_fetch(&r, 0x401ffc, 0, &ops, NULL, buf, sizeof(buf), &got, &code,
				   &fault),
			 GPT_PAGE_FAULT);
	assert_int_equal(got, 4);
	assert_int_equal(insn_decode(&d, buf, got, INSN_MODE_64), -E_INVAL);

	/* the first page faults: nothing fetched */
	assert_int_equal(gpt_fetch(&r, 0x403000, 0, &ops, NULL, buf, 4, &got, &code, &fault),
			 GPT_PAGE_FAULT);
	assert_int_equal(got, 0);
	assert_int_equal(fault, 0x403000);
	assert_int_equal(code, PF_ERR_I);
	/* user fetch from a supervisor page */
	assert_int_equal(gpt_fetch(&r, 0x400000, GPT_ACC_USER, &ops, NULL, buf, 4, &got, &code,
				   &fault),
			 GPT_PAGE_FAULT);
	assert_int_equal(code, PF_ERR_P | PF_ERR_U | PF_ERR_I);
	/* user fetch from a user page; the write bit of access is ignored */
	assert_int_equal(gpt_fetch(&r, 0x404000, GPT_ACC_USER | GPT_ACC_WRITE, &ops, NULL, buf, 4,
				   &got, &code, &fault),
			 0);
	/* an instruction in memory that is not RAM */
	set64(0x13000 + 5 * 8, 0x900000 | P);
	assert_int_equal(gpt_fetch(&r, 0x405000, 0, &ops, NULL, buf, 4, &got, &code, &fault),
			 -E_NOENT);
}

/* 32-bit linear addresses wrap at 4 GiB: a fetch at 0xfffffffe continues at 0. */
static void test_fetch_wraps(void **state)
{
	struct gpt_regs r = { .cr0 = CR0_PG | CR0_PE, .cr3 = 0x1000 };
	u8 buf[4];
	u32 got = 0, code = 0;
	u64 fault = 0;

	(void)state;
	set32(0x1000 + 1023 * 4, 0x2000 | P);
	set32(0x2000 + 1023 * 4, 0x5000 | P); /* 0xfffff000 -> 0x5000 */
	set32(0x1000 + 0 * 4, 0x3000 | P);
	set32(0x3000 + 0 * 4, 0x6000 | P); /* 0x00000000 -> 0x6000 */
	memcpy(mem + 0x5ffe, "\x01\x02", 2);
	memcpy(mem + 0x6000, "\x03\x04", 2);
	assert_int_equal(gpt_fetch(&r, 0xfffffffe, 0, &ops, NULL, buf, 4, &got, &code, &fault), 0);
	assert_memory_equal(buf, "\x01\x02\x03\x04", 4);

	/* paging off: the linear address is the physical one */
	r.cr0 = CR0_PE;
	memcpy(mem + 0x7ffe, "\xaa\xbb\xcc\xdd", 4);
	assert_int_equal(gpt_fetch(&r, 0x7ffe, 0, &ops, NULL, buf, 4, &got, &code, &fault), 0);
	assert_memory_equal(buf, "\xaa\xbb\xcc\xdd", 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_paging_off, reset),
		cmocka_unit_test_setup(test_32bit, reset),
		cmocka_unit_test_setup(test_pae, reset),
		cmocka_unit_test_setup(test_4level, reset),
		cmocka_unit_test_setup(test_5level, reset),
		cmocka_unit_test_setup(test_permissions, reset),
		cmocka_unit_test_setup(test_fetch, reset),
		cmocka_unit_test_setup(test_fetch_wraps, reset),
	};

	return cmocka_run_group_tests_name("gpt", tests, NULL, NULL);
}
