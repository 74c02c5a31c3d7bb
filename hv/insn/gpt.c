/*
 * The guest page-table walker (SDM 3A chapter 4). One loop walks every
 * paging mode; a format table gives the shape of each (levels, entry size,
 * index width, which levels may map pages) and rsvd_bits() its reserved
 * bits.
 */
#include "hv/insn/gpt.h"
#include "hv/hw/paging.h"
#include "hv/hw/x86.h"

/* Bits h..l set; empty when l == h + 1 */
#define GENMASK(h, l) ((~0ULL >> (63 - (h))) & ~((1ULL << (l)) - 1))

/* The low n bits, n in 0..64 */
#define LOW_BITS(n) ((n) ? ~0ULL >> (64 - (n)) : 0)

#define ADDR32_MASK 0xffffffffULL
#define MAXPHYADDR_ARCH 52  /* SDM 3A 4.1.4: at most 52 */
#define PSE36_MAXPHYADDR 40 /* SDM 3A 4.3: PSE-36 reaches at most 40 bits */
#define PSE36_SHIFT 13	    /* PDE bits (M-20):13 hold address bits (M-1):32 */
#define PT32_ADDR_MASK GENMASK(31, 12)
#define PDE32_4M_MASK GENMASK(31, 22)

enum gpt_mode { GPT_MODE_OFF, GPT_MODE_32, GPT_MODE_PAE, GPT_MODE_4L, GPT_MODE_5L };

/* Levels count from 1 (page table) up: 2 = PD, 3 = PDPT, 4 = PML4, 5 = PML5. */
struct gpt_format {
	u8 levels;
	u8 entry_bytes;
	u8 index_bits;
	u8 leaf_levels; /* levels whose entries map a page when PS = 1 */
	u8 la_bits;	/* linear-address width */
};

static const struct gpt_format formats[] = {
	[GPT_MODE_32] = { 2, 4, 10, BIT(2), 32 },	  /* SDM 3A 4.3 */
	[GPT_MODE_PAE] = { 3, 8, 9, BIT(2), 32 },	  /* 4.4: level 3 = PDPTEs */
	[GPT_MODE_4L] = { 4, 8, 9, BIT(2) | BIT(3), 48 }, /* 4.5 */
	[GPT_MODE_5L] = { 5, 8, 9, BIT(2) | BIT(3), 57 },
};

/* Reserved bits of a PS=1 entry of PAE/4-level paging, by level (4.4.2, 4.5.4) */
static const u64 large_rsvd[] = { [2] = GENMASK(20, 13), [3] = GENMASK(29, 13) };

struct walk {
	const struct gpt_regs *r;
	enum gpt_mode mode;
	const struct gpt_format *fmt;
	u8 m;	       /* MAXPHYADDR */
	u64 addr_mask; /* bits M-1:12 */
};

/* SDM 3A 4.1.1, table 4-1 */
static enum gpt_mode gpt_mode(const struct gpt_regs *r)
{
	if (!(r->cr0 & CR0_PG))
		return GPT_MODE_OFF;
	if (!(r->cr4 & CR4_PAE))
		return GPT_MODE_32;
	if (!(r->efer & EFER_LMA))
		return GPT_MODE_PAE;
	return (r->cr4 & CR4_LA57) ? GPT_MODE_5L : GPT_MODE_4L;
}

static u8 pse36_bits(const struct walk *w)
{
	u8 m = MIN(w->m, PSE36_MAXPHYADDR);

	return m > 32 ? m - 32 : 0;
}

static u64 rsvd_bits(const struct walk *w, u8 level, bool leaf)
{
	u64 nx = (w->r->efer & EFER_NXE) ? 0 : PTE_NX;

	switch (w->mode) {
	case GPT_MODE_32:
		/* table 4-4: a 4-MByte PDE reserves 21:(M-19) */
		if (level == 2 && leaf)
			return GENMASK(21, PSE36_SHIFT + pse36_bits(w));
		return 0;
	case GPT_MODE_PAE:
		/* table 4-8: PDPTE; tables 4-9 to 4-11: 62:M and XD */
		if (level == 3)
			return GENMASK(63, w->m) | GENMASK(8, 5) | GENMASK(2, 1);
		return GENMASK(62, w->m) | nx | (leaf ? large_rsvd[level] : 0);
	default:
		/* tables 4-14 to 4-20: 51:M and XD; PS must be 0 in PML5E/PML4E */
		return GENMASK(51, w->m) | nx | (level >= 4 ? PTE_PS : 0) |
		       (leaf ? large_rsvd[level] : 0);
	}
}

static u64 table_base(const struct walk *w, u64 e)
{
	return w->fmt->entry_bytes == 4 ? e & PT32_ADDR_MASK : e & w->addr_mask;
}

static u64 leaf_base(const struct walk *w, u64 e, u64 page_size)
{
	if (w->mode != GPT_MODE_32)
		return e & w->addr_mask & ~(page_size - 1);
	if (page_size == PAGE_SIZE)
		return e & PT32_ADDR_MASK;
	/* PSE-36: bits (M-1):32 of the 4-MByte page come from PDE (M-20):13 */
	return (e & PDE32_4M_MASK) | (((e >> PSE36_SHIFT) & LOW_BITS(pse36_bits(w))) << 32);
}

static u64 cr3_base(const struct walk *w)
{
	switch (w->mode) {
	case GPT_MODE_32:
		return w->r->cr3 & PT32_ADDR_MASK;
	case GPT_MODE_PAE:
		return w->r->cr3 & PAE_CR3_MASK;
	default:
		return w->r->cr3 & w->addr_mask;
	}
}

static int read_entry(const struct walk *w, u64 table, u64 index, u8 level,
		      const struct gpt_mem_ops *mem, void *ctx, u64 *e)
{
	*e = 0;
	/* VT-x keeps the PAE PDPTEs in registers, loaded with CR3 (4.4.1) */
	if (w->mode == GPT_MODE_PAE && level == 3 && w->r->pdpte) {
		*e = w->r->pdpte[index];
		return 0;
	}
	/* entries are little-endian, as the host */
	return mem->read_phys(ctx, table + index * w->fmt->entry_bytes, e, w->fmt->entry_bytes);
}

/* SDM 3A 4.6: access rights from the combined U/S, R/W and XD bits */
static bool access_allowed(const struct gpt_regs *r, u32 access, bool writable, bool user_page,
			   bool nx)
{
	bool write = access & GPT_ACC_WRITE, exec = access & GPT_ACC_EXEC;

	if (access & GPT_ACC_USER)
		return user_page && !(write && !writable) && !(exec && nx);
	if (exec)
		return !nx && !(user_page && (r->cr4 & CR4_SMEP));
	if (user_page && (r->cr4 & CR4_SMAP) && !(r->rflags & RFLAGS_AC))
		return false;
	return !(write && !writable && (r->cr0 & CR0_WP));
}

static int page_fault(const struct gpt_regs *r, u32 access, u32 bits, u32 *pf_error_code)
{
	u32 code = bits | (access & GPT_ACC_USER);

	if (!(access & GPT_ACC_EXEC))
		code |= access & GPT_ACC_WRITE;
	/* 4.7: I/D only with SMEP, or with NXE under PAE-based paging */
	else if ((r->cr4 & CR4_SMEP) || ((r->cr4 & CR4_PAE) && (r->efer & EFER_NXE)))
		code |= PF_ERR_I;
	*pf_error_code = code;
	return GPT_PAGE_FAULT;
}

static bool canonical(u64 la, u8 bits)
{
	u8 shift = 64 - bits;

	return (u64)((s64)(la << shift) >> shift) == la;
}

int gpt_translate(const struct gpt_regs *r, u64 gla, u32 access, const struct gpt_mem_ops *mem,
		  void *ctx, u64 *gpa, u32 *pf_error_code)
{
	struct walk w = { .r = r, .mode = gpt_mode(r) };
	bool writable = true, user_page = true, nx = false, leaf = false;
	u64 table, e = 0, page_size = PAGE_SIZE;
	u8 level;
	int err;

	/* Linear addresses are 32 bits wide outside IA-32e mode (SDM 3A 3.3) */
	if (!(r->efer & EFER_LMA))
		gla &= ADDR32_MASK;
	if (w.mode == GPT_MODE_OFF) {
		*gpa = gla;
		return 0;
	}
	w.fmt = &formats[w.mode];
	if (w.fmt->la_bits > 32 && !canonical(gla, w.fmt->la_bits))
		return -E_RANGE;
	w.m = r->maxphyaddr ? MIN(r->maxphyaddr, MAXPHYADDR_ARCH) : MAXPHYADDR_ARCH;
	w.addr_mask = GENMASK(w.m - 1, PAGE_SHIFT);

	table = cr3_base(&w);
	for (level = w.fmt->levels; !leaf; level--) {
		u8 shift = PAGE_SHIFT + w.fmt->index_bits * (level - 1);
		u64 index = (gla >> shift) & LOW_BITS(w.fmt->index_bits);

		err = read_entry(&w, table, index, level, mem, ctx, &e);
		if (err)
			return err;
		if (!(e & PTE_P))
			return page_fault(r, access, 0, pf_error_code);
		leaf = level == 1 || ((e & PTE_PS) && (w.fmt->leaf_levels & BIT(level)) &&
				      (w.mode != GPT_MODE_32 || (r->cr4 & CR4_PSE)));
		if (e & rsvd_bits(&w, level, leaf))
			return page_fault(r, access, PF_ERR_P | PF_ERR_RSVD, pf_error_code);
		/* PAE PDPTEs carry no access rights (4.4.1) */
		if (w.mode != GPT_MODE_PAE || level != 3) {
			writable &= !!(e & PTE_W);
			user_page &= !!(e & PTE_U);
			nx |= w.fmt->entry_bytes == 8 && (e & PTE_NX);
		}
		page_size = 1ULL << shift;
		table = table_base(&w, e);
	}
	if (!access_allowed(r, access, writable, user_page, nx))
		return page_fault(r, access, PF_ERR_P, pf_error_code);
	*gpa = leaf_base(&w, e, page_size) | (gla & (page_size - 1));
	return 0;
}

int gpt_fetch(const struct gpt_regs *r, u64 gla, u32 access, const struct gpt_mem_ops *mem,
	      void *ctx, u8 *buf, u32 len, u32 *got, u32 *pf_error_code, u64 *fault_gla)
{
	u32 done = 0, chunk;
	u64 la, gpa;
	int err;

	access = (access & GPT_ACC_USER) | GPT_ACC_EXEC;
	*got = 0;
	while (done < len) {
		la = gla + done;
		if (!(r->efer & EFER_LMA))
			la &= ADDR32_MASK;
		chunk = MIN(len - done, PAGE_SIZE - (la & (PAGE_SIZE - 1)));
		err = gpt_translate(r, la, access, mem, ctx, &gpa, pf_error_code);
		if (!err)
			err = mem->read_phys(ctx, gpa, buf + done, chunk);
		if (err) {
			*fault_gla = la;
			return err;
		}
		done += chunk;
		*got = done;
	}
	return 0;
}
