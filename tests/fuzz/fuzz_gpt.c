/*
 * libFuzzer target for hv/insn/gpt.c: a guest's own page tables, in every
 * paging mode (32-bit with PSE and PSE-36, PAE with the PDPTEs in memory or
 * in registers, 4-level, 5-level), walked for any access kind.
 *
 * Input: ctl, CR0, CR3, CR4, EFER, RFLAGS, MAXPHYADDR, the linear address,
 * the access, a fold mask, one paging entry per level, four PDPTE registers,
 * a fetch length, then bytes for the start of the fake guest RAM (1 MiB at
 * 0; short inputs read as zeros). The entries are put where the walk will
 * look for them, which a second walker written here from SDM 3A chapter 4
 * decides; a fold bit brings an entry's address (or CR3's) into the RAM so
 * that walks go deep.
 *
 * Checked besides the sanitizers: with a state the processor can be in
 * (ctl bit RAW clear: EFER.LMA with CR0.PG and CR4.PAE, MAXPHYADDR 36-52),
 * gpt_translate and gpt_fetch agree with the reference walk in everything:
 * result, address, #PF error code, fetched bytes, and the very entries read
 * and their order (so the result obeys the permission and reserved bits it
 * walked); with any state (RAW set), the walker still reads only aligned
 * 4- or 8-byte entries, data within one page and never more than asked,
 * returns one of its documented results, and a #PF error code holds only the
 * bits SDM 3A 4.7 defines.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hw/x86.h"
#include "hv/insn/gpt.h"

#define CHECK(cond)                                                                          \
	do {                                                                                 \
		if (!(cond)) {                                                               \
			fprintf(stderr, "fuzz_gpt: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			__builtin_trap();                                                    \
		}                                                                            \
	} while (0)

#define RAM_SIZE (1ULL << 20)
#define MAX_READS 64
#define MAX_PLACED 8
#define FETCH_MAX 15

/* ctl */
#define CTL_RAW BIT(0)	 /* keep CR0/CR4/EFER/MAXPHYADDR as they come */
#define CTL_PDPTE BIT(1) /* PAE: PDPTE registers (VT-x with EPT) */
#define CTL_CR3 BIT(2)	 /* do not fold CR3 into the RAM */

/* Entry bits, written here again from SDM 3A tables 4-4 to 4-20 */
#define E_P 0x1ULL
#define E_RW 0x2ULL
#define E_US 0x4ULL
#define E_PS 0x80ULL
#define E_XD (1ULL << 63)

static u8 ram[RAM_SIZE];

struct reader {
	const u8 *p;
	size_t left;
};

static u64 get(struct reader *r, u32 bytes)
{
	u64 v = 0;

	for (u32 i = 0; i < bytes; i++)
		if (r->left) {
			v |= (u64)*r->p++ << (8 * i);
			r->left--;
		}
	return v;
}

static bool in_ram(u64 gpa, u64 len)
{
	return gpa < RAM_SIZE && len <= RAM_SIZE - gpa;
}

/* bits h..l, empty when l > h */
static u64 bits(u32 h, u32 l)
{
	if (l > h || l > 63)
		return 0;
	return (h >= 63 ? ~0ULL : (1ULL << (h + 1)) - 1) & ~((1ULL << l) - 1);
}

/* ---- what the walker under test reads ---- */

static struct {
	u32 count;
	u64 gpa[MAX_READS];
	u32 len[MAX_READS];
} seen;

static int read_phys(void *ctx, u64 gpa, void *buf, size_t len)
{
	(void)ctx;
	CHECK(seen.count < MAX_READS);
	seen.gpa[seen.count] = gpa;
	seen.len[seen.count++] = (u32)len;
	/* entries: aligned 4 or 8 bytes; code: within one page, at most 15 */
	CHECK(((len == 4 || len == 8) && !(gpa & (len - 1))) ||
	      (len >= 1 && len <= FETCH_MAX && (gpa >> 12) == ((gpa + len - 1) >> 12)));
	if (!in_ram(gpa, len))
		return -E_NOENT;
	memcpy(buf, ram + gpa, len);
	return 0;
}

static const struct gpt_mem_ops mem_ops = { .read_phys = read_phys };

/* ---- the reference walk (SDM 3A 4.3 to 4.7) ---- */

struct ref {
	const struct gpt_regs *r;
	/* placing: each level's entry goes where the walk reads it */
	bool place;
	const u64 *entry; /* by level - 1 */
	u8 fold;
	u32 placed;
	u64 placed_at[MAX_PLACED];
	u32 placed_len[MAX_PLACED];
	/* the entries read, to compare */
	u32 count;
	u64 gpa[MAX_READS];
};

static bool already_placed(const struct ref *w, u64 gpa)
{
	for (u32 i = 0; i < w->placed; i++)
		if (w->placed_at[i] == gpa)
			return true;
	return false;
}

/* An address field brought into the RAM (bits 31:12 or 51:12). */
static u64 fold(u64 v, u64 field)
{
	return (v & ~field) | (v & field & (RAM_SIZE - 1));
}

static int ref_entry(struct ref *w, u64 gpa, u32 len, u8 level, u64 *e)
{
	CHECK(w->count < MAX_READS);
	w->gpa[w->count++] = gpa;
	*e = 0;
	if (w->place && in_ram(gpa, len) && !already_placed(w, gpa) && w->placed < MAX_PLACED) {
		u64 v = w->entry[level - 1];

		if (w->fold & BIT(level - 1))
			v = fold(v, len == 4 ? bits(31, 12) : bits(51, 12));
		memcpy(ram + gpa, &v, len);
		w->placed_at[w->placed] = gpa;
		w->placed_len[w->placed++] = len;
	}
	if (!in_ram(gpa, len))
		return -E_NOENT;
	memcpy(e, ram + gpa, len);
	return 0;
}

struct rights {
	bool rw, us, xd;
};

static void add_rights(struct rights *t, u64 e, bool nxe)
{
	t->rw &= (e & E_RW) != 0;
	t->us &= (e & E_US) != 0;
	t->xd |= nxe && (e & E_XD);
}

/* SDM 3A 4.7: the error code */
static int ref_pf(const struct gpt_regs *r, u32 acc, bool present, bool rsvd, u32 *pfec)
{
	bool fetch = acc & GPT_ACC_EXEC;

	*pfec = (present ? PF_ERR_P : 0) | (rsvd ? PF_ERR_RSVD : 0) |
		((acc & GPT_ACC_USER) ? PF_ERR_U : 0) |
		((acc & GPT_ACC_WRITE) && !fetch ? PF_ERR_W : 0);
	if (fetch && ((r->cr4 & CR4_SMEP) || ((r->cr4 & CR4_PAE) && (r->efer & EFER_NXE))))
		*pfec |= PF_ERR_I;
	return GPT_PAGE_FAULT;
}

/* SDM 3A 4.6.1: may this access use a translation with these rights? */
static bool ref_allowed(const struct gpt_regs *r, u32 acc, const struct rights *t)
{
	bool write = acc & GPT_ACC_WRITE, fetch = acc & GPT_ACC_EXEC;

	if (acc & GPT_ACC_USER) {
		if (!t->us)
			return false;
		return fetch ? !t->xd : !write || t->rw;
	}
	if (fetch) /* supervisor fetch: never XD, never a user page under SMEP */
		return !t->xd && !(t->us && (r->cr4 & CR4_SMEP));
	if (t->us && (r->cr4 & CR4_SMAP) && !(r->rflags & RFLAGS_AC))
		return false;
	return !write || t->rw || !(r->cr0 & CR0_WP);
}

static u8 ref_maxphyaddr(const struct gpt_regs *r)
{
	return r->maxphyaddr && r->maxphyaddr < 52 ? r->maxphyaddr : 52;
}

/* 32-bit paging, SDM 3A 4.3 */
static int ref_32(struct ref *w, u32 la, u32 acc, u64 *gpa, u32 *pfec)
{
	const struct gpt_regs *r = w->r;
	struct rights t = { true, true, false };
	u8 m = ref_maxphyaddr(r) < 40 ? ref_maxphyaddr(r) : 40;
	u64 pde, pte;
	int rc;

	rc = ref_entry(w, (r->cr3 & 0xfffff000ULL) | ((la >> 22) << 2), 4, 2, &pde);
	if (rc)
		return rc;
	if (!(pde & E_P))
		return ref_pf(r, acc, false, false, pfec);
	add_rights(&t, pde, false);
	if ((r->cr4 & CR4_PSE) && (pde & E_PS)) {
		/* table 4-4: bits (M-20):13 are address bits (M-1):32, bits
		 * 21:(M-19) are reserved */
		if (pde & bits(21, m > 32 ? m - 19 : 13))
			return ref_pf(r, acc, true, true, pfec);
		if (!ref_allowed(r, acc, &t))
			return ref_pf(r, acc, true, false, pfec);
		*gpa = (pde & 0xffc00000ULL) | (la & 0x3fffff);
		if (m > 32)
			*gpa |= ((pde >> 13) & bits(m - 33, 0)) << 32;
		return 0;
	}
	rc = ref_entry(w, (pde & 0xfffff000ULL) | (((la >> 12) & 0x3ff) << 2), 4, 1, &pte);
	if (rc)
		return rc;
	if (!(pte & E_P))
		return ref_pf(r, acc, false, false, pfec);
	add_rights(&t, pte, false);
	if (!ref_allowed(r, acc, &t))
		return ref_pf(r, acc, true, false, pfec);
	*gpa = (pte & 0xfffff000ULL) | (la & 0xfff);
	return 0;
}

/*
 * PAE (SDM 3A 4.4) and 4/5-level paging (4.5): 8-byte entries, 9 index
 * bits a level. PAE's PDPTEs (level 3) have their own reserved bits and no
 * rights.
 */
static int ref_64(struct ref *w, u64 la, u32 acc, bool pae, u64 *gpa, u32 *pfec)
{
	const struct gpt_regs *r = w->r;
	struct rights t = { true, true, false };
	bool nxe = r->efer & EFER_NXE;
	u8 m = ref_maxphyaddr(r), level = pae ? 3 : (r->cr4 & CR4_LA57) ? 5 : 4;
	u64 addr = bits(m - 1, 12), table, e;
	int rc;

	table = pae ? r->cr3 & 0xffffffe0ULL : r->cr3 & addr;
	for (;; level--) {
		u32 shift = 12 + 9 * (level - 1);
		u64 index = (la >> shift) & (pae && level == 3 ? 3 : 0x1ff), rsvd;
		bool page;

		if (pae && level == 3 && r->pdpte) {
			e = r->pdpte[index];
		} else {
			rc = ref_entry(w, table + 8 * index, 8, level, &e);
			if (rc)
				return rc;
		}
		if (!(e & E_P))
			return ref_pf(r, acc, false, false, pfec);
		if (pae && level == 3) {
			/* table 4-8 */
			if (e & (bits(63, m) | bits(8, 5) | bits(2, 1)))
				return ref_pf(r, acc, true, true, pfec);
			table = e & addr;
			continue;
		}
		page = level == 1 || ((level == 2 || level == 3) && (e & E_PS));
		rsvd = (pae ? bits(62, m) : bits(51, m)) | (nxe ? 0 : E_XD);
		if (level >= 4)
			rsvd |= E_PS; /* PML5E, PML4E: PS reserved */
		if (page && level == 3)
			rsvd |= bits(29, 13); /* 1-GByte page, table 4-17 */
		if (page && level == 2)
			rsvd |= bits(20, 13); /* 2-MByte page, tables 4-10, 4-18 */
		if (e & rsvd)
			return ref_pf(r, acc, true, true, pfec);
		add_rights(&t, e, nxe);
		if (page) {
			if (!ref_allowed(r, acc, &t))
				return ref_pf(r, acc, true, false, pfec);
			*gpa = (e & addr & ~bits(shift - 1, 0)) | (la & bits(shift - 1, 0));
			return 0;
		}
		table = e & addr;
	}
}

static int ref_translate(struct ref *w, u64 la, u32 acc, u64 *gpa, u32 *pfec)
{
	const struct gpt_regs *r = w->r;
	bool lma = r->efer & EFER_LMA;

	/* SDM 3A 3.3: 32-bit linear addresses outside IA-32e mode */
	if (!lma)
		la = (u32)la;
	if (!(r->cr0 & CR0_PG)) {
		*gpa = la;
		return 0;
	}
	if (!(r->cr4 & CR4_PAE))
		return ref_32(w, (u32)la, acc, gpa, pfec);
	if (!lma)
		return ref_64(w, la, acc, true, gpa, pfec);
	/* SDM 3A 4.5: canonical, bits 63:47 (63:56 with LA57) all equal */
	if ((r->cr4 & CR4_LA57) ? (u64)((s64)(la << 7) >> 7) != la :
				  (u64)((s64)(la << 16) >> 16) != la)
		return -E_RANGE;
	return ref_64(w, la, acc, false, gpa, pfec);
}

/* ---- the properties ---- */

static void check_pfec(u32 pfec)
{
	CHECK(!(pfec & ~(PF_ERR_P | PF_ERR_W | PF_ERR_U | PF_ERR_RSVD | PF_ERR_I)));
	CHECK(!(pfec & PF_ERR_RSVD) || (pfec & PF_ERR_P));
	CHECK(!((pfec & PF_ERR_W) && (pfec & PF_ERR_I)));
}

static void check_translate(const struct gpt_regs *r, u64 gla, u32 acc, bool raw,
			    const struct ref *placed)
{
	struct ref w = { .r = r };
	u64 gpa = 0, want_gpa = 0;
	u32 pfec = 0, want_pfec = 0;
	int rc, want;

	seen.count = 0;
	rc = gpt_translate(r, gla, acc, &mem_ops, NULL, &gpa, &pfec);
	CHECK(rc == 0 || rc == GPT_PAGE_FAULT || rc == -E_RANGE || rc == -E_NOENT);
	for (u32 i = 0; i < seen.count; i++)
		CHECK(seen.len[i] == 4 || seen.len[i] == 8);
	if (rc == GPT_PAGE_FAULT)
		check_pfec(pfec);
	if (raw)
		return;
	want = ref_translate(&w, gla, acc, &want_gpa, &want_pfec);
	if (getenv("FUZZ_VERBOSE")) /* replaying one input: what happened */
		fprintf(stderr, "fuzz_gpt: gla %#llx acc %#x: rc %d gpa %#llx pfec %#x, %u reads\n",
			(unsigned long long)gla, acc, rc, (unsigned long long)gpa, pfec,
			seen.count);
	if (rc != want || (!rc && gpa != want_gpa) || (rc == GPT_PAGE_FAULT && pfec != want_pfec) ||
	    seen.count != w.count)
		fprintf(stderr,
			"fuzz_gpt: gla %#llx acc %#x: rc %d gpa %#llx pfec %#x reads %u, "
			"want %d %#llx %#x reads %u (placed %u)\n",
			(unsigned long long)gla, acc, rc, (unsigned long long)gpa, pfec, seen.count,
			want, (unsigned long long)want_gpa, want_pfec, w.count, placed->placed);
	CHECK(rc == want);
	CHECK(rc || gpa == want_gpa);
	CHECK(rc != GPT_PAGE_FAULT || pfec == want_pfec);
	CHECK(seen.count == w.count);
	for (u32 i = 0; i < seen.count; i++)
		CHECK(seen.gpa[i] == w.gpa[i]);
	if (!rc && (r->cr0 & CR0_PG))
		CHECK(gpa < (1ULL << ref_maxphyaddr(r)));
}

static void check_fetch(const struct gpt_regs *r, u64 gla, u32 acc, u32 len, bool raw)
{
	u8 buf[FETCH_MAX + 1], want_buf[FETCH_MAX + 1];
	u32 got = ~0U, pfec = 0, want_got = 0, want_pfec = 0;
	u64 fault_gla = 0, want_fault = 0;
	int rc, want = 0;

	memset(buf, 0xcc, sizeof(buf));
	seen.count = 0;
	rc = gpt_fetch(r, gla, acc, &mem_ops, NULL, buf, len, &got, &pfec, &fault_gla);
	CHECK(rc == 0 || rc == GPT_PAGE_FAULT || rc == -E_RANGE || rc == -E_NOENT);
	CHECK(got <= len && (rc || got == len));
	CHECK(buf[len] == 0xcc); /* never past len */
	if (rc == GPT_PAGE_FAULT) {
		check_pfec(pfec);
		CHECK(pfec & PF_ERR_I || !(r->cr4 & CR4_SMEP));
	}
	if (raw)
		return;
	/* the reference: page by page, each translated as a fetch */
	while (want_got < len) {
		struct ref w = { .r = r };
		u64 la = gla + want_got, gpa;
		u32 chunk;

		if (!(r->efer & EFER_LMA))
			la = (u32)la;
		chunk = MIN(len - want_got, 4096 - (u32)(la & 0xfff));
		want = ref_translate(&w, la, acc | GPT_ACC_EXEC, &gpa, &want_pfec);
		if (!want && !in_ram(gpa, chunk))
			want = -E_NOENT;
		if (want) {
			want_fault = la;
			break;
		}
		memcpy(want_buf + want_got, ram + gpa, chunk);
		want_got += chunk;
	}
	CHECK(rc == want && got == want_got && !memcmp(buf, want_buf, got));
	if (rc) {
		CHECK(fault_gla == want_fault);
		CHECK(rc != GPT_PAGE_FAULT || pfec == want_pfec);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader in = { data, size };
	u8 ctl = (u8)get(&in, 1), access, fetch_len;
	u64 entry[5], pdpte[4], gla;
	struct gpt_regs r = { 0 };
	struct ref place = { .r = &r, .place = true, .entry = entry };
	bool raw;
	u64 dummy_gpa;
	u32 dummy_pfec, acc, raw_len;

	r.cr0 = get(&in, 8);
	r.cr3 = get(&in, 8);
	r.cr4 = get(&in, 8);
	r.efer = get(&in, 8);
	r.rflags = get(&in, 8);
	r.maxphyaddr = (u8)get(&in, 1);
	gla = get(&in, 8);
	access = (u8)get(&in, 1);
	place.fold = (u8)get(&in, 1);
	for (u32 i = 0; i < 5; i++)
		entry[i] = get(&in, 8);
	for (u32 i = 0; i < 4; i++)
		pdpte[i] = get(&in, 8);
	fetch_len = (u8)get(&in, 1);
	raw_len = (u32)MIN(in.left, RAM_SIZE);
	memcpy(ram, in.p, raw_len);

	raw = ctl & CTL_RAW;
	if (!raw) {
		/* SDM 3A 9.8.5, 2.5: IA-32e mode needs paging with PAE, paging
		 * needs protection; LME with PG is LMA. MAXPHYADDR is at least
		 * 36 where PAE exists, at most 52. */
		bool lma = (r.efer & EFER_LMA) || ((r.efer & EFER_LME) && (r.cr0 & CR0_PG));

		if (lma) {
			r.cr0 |= CR0_PG;
			r.cr4 |= CR4_PAE;
			r.efer |= EFER_LME | EFER_LMA;
		}
		if (r.cr0 & CR0_PG)
			r.cr0 |= CR0_PE;
		if (r.maxphyaddr)
			r.maxphyaddr = r.maxphyaddr < 36 ? 36 :
				       r.maxphyaddr > 52 ? 52 :
							   r.maxphyaddr;
	}
	if (!(ctl & CTL_CR3))
		r.cr3 = fold(r.cr3, bits(51, 12));
	if (ctl & CTL_PDPTE)
		r.pdpte = pdpte;
	/* a data read or write, or a fetch; supervisor or user */
	acc = (access & GPT_ACC_USER) | ((access & 3) == 1 ? GPT_ACC_WRITE : 0) |
	      ((access & 3) == 2 ? GPT_ACC_EXEC : 0);

	/* put the entries where the walk goes, then walk */
	ref_translate(&place, gla, acc, &dummy_gpa, &dummy_pfec);
	check_translate(&r, gla, acc, raw, &place);
	if (fetch_len)
		check_fetch(&r, gla, acc & GPT_ACC_USER, 1 + fetch_len % FETCH_MAX, raw);

	/* leave the RAM as it was: zero */
	memset(ram, 0, raw_len);
	for (u32 i = 0; i < place.placed; i++)
		memset(ram + place.placed_at[i], 0, place.placed_len[i]);
	return 0;
}
