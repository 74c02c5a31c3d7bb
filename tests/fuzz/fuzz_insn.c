/*
 * libFuzzer target for hv/insn/insn.c, emulate.c and prefix.c: the bytes a
 * guest leaves at RIP when it touches MMIO, decoded, emulated against fake
 * device callbacks, and matched as AMD-V does without next-RIP save.
 *
 * Input: ctl, 15 instruction bytes, then the state (short inputs read as
 * zeros): a match byte, RFLAGS, the faulting GPA, the 16 GPRs, two values
 * that reads return, two GPAs that translations return, a failure byte.
 *
 * Checked besides the sanitizers, each against a second opinion written here
 * from the SDM rather than from the code under test:
 *  - decoding: a length of at most 15 and at most the bytes available, the
 *    same result from exactly that many bytes, -E_INVAL from every shorter
 *    prefix; the length, operand and address sizes, register, segment,
 *    displacement and immediate recomputed from the bytes;
 *  - emulation: memory only at the faulting GPA or an address a translation
 *    returned, reads and writes only as the access direction allows, no
 *    device access after a failed translation (a #PF leaves no side
 *    effects), no register but the operands written (gpr is exactly
 *    GPR_COUNT long), 8/16-bit results merged, 32-bit ones zero-extended,
 *    RFLAGS changed only in the flags the instruction defines, arithmetic
 *    equal to the host CPU's own (inline assembly), REP strings one element
 *    per call;
 *  - insn_match: the length of legacy and REX prefixes plus the opcode, as
 *    the SDM places them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hv/hw/x86.h"
#include "hv/insn/emulate.h"
#include "hv/insn/prefix.h"
#include "hv/vcpu/vcpu.h"

#define CHECK(cond)                                                                           \
	do {                                                                                  \
		if (!(cond)) {                                                                \
			fprintf(stderr, "fuzz_insn: %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			__builtin_trap();                                                     \
		}                                                                             \
	} while (0)

#define ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)
#define MAX_XLAT 4
#define MAX_ACCESS 4

/* ---- the input ---- */

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

/* ---- a second opinion on the decoder, from SDM 2 chapter 2 ---- */

static bool legacy_prefix(u8 b)
{
	static const u8 pfx[] = { 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67 };

	return memchr(pfx, b, sizeof(pfx)) != NULL;
}

static bool is_rex(u8 b, u8 mode)
{
	return mode == INSN_MODE_64 && (b & 0xf0) == 0x40;
}

static u64 mask(u8 bytes)
{
	return bytes >= 8 ? ~0ULL : (1ULL << (8 * bytes)) - 1;
}

static u64 le(const u8 *b, u8 n)
{
	u64 v = 0;

	for (u8 i = 0; i < n; i++)
		v |= (u64)b[i] << (8 * i);
	return v;
}

static u64 sext(u64 v, u8 bytes)
{
	u8 s = 64 - 8 * bytes;

	return (u64)((s64)(v << s) >> s);
}

/* What the prefixes say, and where the opcode starts. */
struct pfx {
	u8 n; /* prefix bytes, REX included */
	bool opsize, addrsize, lock;
	u8 seg; /* enum insn_seg */
	u8 rex; /* the REX right before the opcode, else 0 */
};

static void scan_prefixes(const u8 *b, size_t avail, u8 mode, struct pfx *p)
{
	static const u8 seg_byte[] = {
		[INSN_SEG_ES] = 0x26, [INSN_SEG_CS] = 0x2e, [INSN_SEG_SS] = 0x36,
		[INSN_SEG_DS] = 0x3e, [INSN_SEG_FS] = 0x64, [INSN_SEG_GS] = 0x65
	};

	memset(p, 0, sizeof(*p));
	p->seg = INSN_SEG_NONE;
	while (p->n < avail && (legacy_prefix(b[p->n]) || is_rex(b[p->n], mode))) {
		u8 c = b[p->n++];

		p->opsize |= c == 0x66;
		p->addrsize |= c == 0x67;
		p->lock |= c == 0xf0;
		for (u8 s = 0; s < INSN_SEG_NONE; s++) {
			/* APM 3 1.2.4 (Intel's XED agrees): in 64-bit mode ES, CS, SS
			 * and DS overrides are null prefixes, they neither take
			 * effect nor cancel an FS or GS override */
			if (c == seg_byte[s] &&
			    (mode != INSN_MODE_64 || s == INSN_SEG_FS || s == INSN_SEG_GS))
				p->seg = s;
		}
	}
	/* SDM 2 2.2.1: REX counts only right before the opcode */
	p->rex = p->n && is_rex(b[p->n - 1], mode) ? b[p->n - 1] : 0;
}

/* The parts of the encoding after the prefixes, from the decoded opcode. */
static void check_encoding(const struct insn *d, const u8 *b, u8 mode)
{
	static const u8 def_op[] = { 2, 4, 4 }, alt_op[] = { 4, 2, 2 };
	static const u8 def_ad[] = { 2, 4, 8 }, alt_ad[] = { 4, 2, 4 };
	struct pfx p;
	u8 at, opc, op_size, addr_size, imm_len = 0, disp_len = 0;
	bool modrm, byte_op, group, test_form;

	scan_prefixes(b, d->len, mode, &p);
	CHECK(d->rex == p.rex && d->seg == p.seg);
	CHECK(((d->flags & INSN_F_LOCK) != 0) == p.lock);
	at = p.n;
	CHECK(d->twobyte == (b[at] == 0x0f));
	at += d->twobyte;
	opc = b[at++];
	CHECK(d->opcode == opc);

	/* SDM 1 table 3-4, SDM 2 2.2.1.2: operand size; REX.W wins over 66 */
	/* the w bit, bit 0: of the one-byte map, and of CMPXCHG and XADD in the
	 * 0F map (0F B6/BE read a byte but write the whole register) */
	byte_op = d->twobyte ? opc == 0xb0 || opc == 0xc0 : !(opc & 1);
	op_size = p.opsize ? alt_op[mode] : def_op[mode];
	if (p.rex & 0x08)
		op_size = 8;
	/* INS, OUTS (6C-6F): 8, 16 or 32 bits, REX.W notwithstanding (SDM 2B) */
	if (!d->twobyte && (opc & 0xfc) == 0x6c && op_size == 8)
		op_size = 4;
	CHECK(d->reg_size == (byte_op ? 1 : op_size));
	addr_size = p.addrsize ? alt_ad[mode] : def_ad[mode];
	CHECK(d->addr_size == addr_size);

	modrm = !(d->flags & (INSN_F_MOFFS | INSN_F_STRING));
	/* SDM 2 table A-6: ModRM.reg extends the opcode */
	group = d->twobyte ?
			opc == 0xba || opc == 0xc7 :
			(opc >= 0x80 && opc <= 0x83) || opc == 0x8f || opc == 0xc0 || opc == 0xc1 ||
				opc == 0xc6 || opc == 0xc7 || (opc >= 0xd0 && opc <= 0xd3) ||
				opc == 0xf6 || opc == 0xf7 || opc == 0xfe || opc == 0xff;
	if (modrm) {
		u8 m = b[at++], mod = m >> 6, rm = m & 7;

		CHECK(d->modrm == m && mod != 3);
		/* SDM 2 tables 2-1 to 2-3 */
		if (addr_size == 2) {
			disp_len = mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 6) ? 2 : 0;
		} else {
			if (rm == 4) {
				CHECK(d->sib == b[at]);
				disp_len = mod == 0 && (b[at] & 7) == 5 ? 4 : 0;
				at++;
			}
			disp_len = mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 5) ? 4 : disp_len;
			CHECK(((d->flags & INSN_F_RIP_REL) != 0) ==
			      (mode == INSN_MODE_64 && mod == 0 && rm == 5));
		}
		CHECK(d->disp == (s64)(disp_len ? sext(le(b + at, disp_len), disp_len) : 0));
		at += disp_len;
		if (!group) {
			u8 reg = ((m >> 3) & 7) | (p.rex & 0x04 ? 8 : 0);

			/* SDM 2 2.1.5: byte registers 4..7 without REX are AH..BH */
			if (byte_op && !p.rex && reg >= 4)
				CHECK(d->reg_high8 && d->reg == reg - 4);
			else
				CHECK(!d->reg_high8 && d->reg == reg);
		}
	} else if (d->flags & INSN_F_MOFFS) {
		CHECK((u64)d->disp == le(b + at, addr_size));
		at += addr_size;
	}
	if (!modrm || group)
		CHECK(d->reg == 0 && !d->reg_high8);

	/* Ib: 80 82 83 C0 C1 C6, F6 /0-1 (TEST), 0F BA; Iz: 81 C7, F7 /0-1 (imm32
	 * at most). ModRM.reg < 2 is TEST in group 3. */
	test_form = modrm && ((d->modrm >> 3) & 7) < 2;
	if (!d->twobyte && (opc == 0x80 || opc == 0x82 || opc == 0x83 || opc == 0xc0 ||
			    opc == 0xc1 || opc == 0xc6 || (opc == 0xf6 && test_form)))
		imm_len = 1;
	else if (d->twobyte && opc == 0xba)
		imm_len = 1;
	else if (!d->twobyte && (opc == 0x81 || opc == 0xc7 || (opc == 0xf7 && test_form)))
		imm_len = op_size > 4 ? 4 : op_size;
	CHECK(((d->flags & INSN_F_IMM) != 0) == (imm_len != 0));
	if (imm_len)
		CHECK(d->imm == sext(le(b + at, imm_len), imm_len));
	at += imm_len;
	CHECK(d->len == at);
}

/* The fields every decoded instruction has, whatever it is. */
static void check_fields(const struct insn *d, size_t avail, u8 mode)
{
	CHECK(d->len >= 1 && d->len <= INSN_MAX_LEN && d->len <= avail);
	CHECK(d->mode == mode);
	CHECK(d->op > INSN_OP_NONE && d->op < INSN_OP_COUNT);
	CHECK(d->dir == INSN_READ || d->dir == INSN_WRITE || d->dir == INSN_RMW);
	CHECK(d->size == 1 || d->size == 2 || d->size == 4 || d->size == 8);
	CHECK(d->reg_size == 1 || d->reg_size == 2 || d->reg_size == 4 || d->reg_size == 8);
	CHECK(d->size <= d->reg_size);
	CHECK(d->size == d->reg_size || (d->flags & (INSN_F_ZX | INSN_F_SX)));
	CHECK(mode == INSN_MODE_64 ? d->addr_size == 4 || d->addr_size == 8 :
				     d->addr_size == 2 || d->addr_size == 4);
	CHECK(d->reg < (mode == INSN_MODE_64 ? GPR_COUNT : 8));
	CHECK(!d->reg_high8 || (d->reg < 4 && d->reg_size == 1 && !d->rex));
	CHECK(d->seg <= INSN_SEG_NONE);
	CHECK(mode != INSN_MODE_64 || d->seg >= INSN_SEG_FS);
	CHECK(!(d->rex && mode != INSN_MODE_64));
	CHECK((d->flags & (INSN_F_REP | INSN_F_REPNE)) != (INSN_F_REP | INSN_F_REPNE));
	CHECK(!(d->flags & INSN_F_LOCK) || (d->dir & INSN_WRITE));
}

/* Field by field: the struct has padding. */
static bool same(const struct insn *a, const struct insn *b)
{
	return a->len == b->len && a->mode == b->mode && a->op == b->op && a->dir == b->dir &&
	       a->size == b->size && a->reg_size == b->reg_size && a->addr_size == b->addr_size &&
	       a->reg == b->reg && a->reg_high8 == b->reg_high8 && a->seg == b->seg &&
	       a->rex == b->rex && a->opcode == b->opcode && a->twobyte == b->twobyte &&
	       a->modrm == b->modrm && a->sib == b->sib && a->flags == b->flags &&
	       a->disp == b->disp && a->imm == b->imm;
}

/* ---- the host CPU as the arithmetic oracle ---- */

/* Over the red zone, the flags in, OP src, dst, the flags out. */
#define HOST_PRE "lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopf\n\t"
#define HOST_POST "\n\tpushf\n\tpop %[f]\n\tlea 128(%%rsp), %%rsp"
#define HOST_ONE(mnem, sfx, t, cx, cs, mod)                                                  \
	do {                                                                                 \
		t x_ = (t)dst;                                                               \
		__asm__ __volatile__(HOST_PRE mnem sfx " %" mod "[s], %" mod "[x]" HOST_POST \
				     : [x] "+" cx(x_), [f] "+r"(f)                           \
				     : [s] cs((t)src)                                        \
				     : "cc", "memory");                                      \
		dst = x_;                                                                    \
	} while (0)
#define HOST_FN(name, mnem)                                      \
	static u64 name(u8 size, u64 dst, u64 src, u64 *flags)   \
	{                                                        \
		u64 f = (*flags & ARITH) | RFLAGS_FIXED;         \
		switch (size) {                                  \
		case 1:                                          \
			HOST_ONE(mnem, "b", u8, "q", "q", "b");  \
			break;                                   \
		case 2:                                          \
			HOST_ONE(mnem, "w", u16, "r", "r", "w"); \
			break;                                   \
		case 4:                                          \
			HOST_ONE(mnem, "l", u32, "r", "r", "k"); \
			break;                                   \
		default:                                         \
			HOST_ONE(mnem, "q", u64, "r", "r", "q"); \
			break;                                   \
		}                                                \
		*flags = (*flags & ~ARITH) | (f & ARITH);        \
		return dst;                                      \
	}

HOST_FN(host_add, "add")
HOST_FN(host_or, "or")
HOST_FN(host_adc, "adc")
HOST_FN(host_sbb, "sbb")
HOST_FN(host_and, "and")
HOST_FN(host_sub, "sub")
HOST_FN(host_xor, "xor")
HOST_FN(host_cmp, "cmp")
HOST_FN(host_test, "test")

typedef u64 (*host_fn)(u8 size, u64 dst, u64 src, u64 *flags);

static const host_fn host_alu[INSN_OP_COUNT] = {
	[INSN_OP_ADD] = host_add, [INSN_OP_OR] = host_or,   [INSN_OP_ADC] = host_adc,
	[INSN_OP_SBB] = host_sbb, [INSN_OP_AND] = host_and, [INSN_OP_SUB] = host_sub,
	[INSN_OP_XOR] = host_xor, [INSN_OP_CMP] = host_cmp, [INSN_OP_TEST] = host_test,
};

/* ---- fake devices: every access is checked and recorded ---- */

struct fake {
	const struct insn *d;
	u64 gpa;
	u64 values[2];	 /* what reads return (full 64 bits: the emulator truncates) */
	u64 xlat_gpa[2]; /* what translations return */
	u8 fail;	 /* FAIL_* */
	u32 reads, writes, xlats;
	u64 read_gpa[MAX_ACCESS], write_gpa[MAX_ACCESS], write_val[MAX_ACCESS];
	u64 xlat_off[MAX_XLAT], xlat_out[MAX_XLAT];
	u8 xlat_seg[MAX_XLAT];
	u32 xlat_acc[MAX_XLAT];
	bool failed, xlat_failed;
};

#define FAIL_READ BIT(0)
#define FAIL_WRITE BIT(1)
#define FAIL_XLAT0 BIT(2)
#define FAIL_XLAT1 BIT(3)
#define NO_XLAT BIT(4)

/* An address the emulator may touch: the faulting one, or one it was given. */
static bool allowed(const struct fake *f, u64 gpa)
{
	if (gpa == f->gpa)
		return true;
	for (u32 i = 0; i < f->xlats && i < MAX_XLAT; i++)
		if (f->xlat_out[i] == gpa)
			return true;
	return false;
}

static int fake_read(void *ctx, u64 gpa, u32 size, u64 *val)
{
	struct fake *f = ctx;

	CHECK(!f->xlat_failed);
	CHECK(size == 1 || size == 2 || size == 4 || size == 8);
	CHECK(allowed(f, gpa));
	CHECK(f->reads < MAX_ACCESS);
	f->read_gpa[f->reads] = gpa;
	*val = f->values[f->reads++ & 1];
	if (f->fail & FAIL_READ) {
		f->failed = true;
		return -E_NOENT;
	}
	return 0;
}

static int fake_write(void *ctx, u64 gpa, u32 size, u64 val)
{
	struct fake *f = ctx;

	CHECK(!f->xlat_failed);
	CHECK(size == 1 || size == 2 || size == 4 || size == 8);
	CHECK(allowed(f, gpa));
	CHECK(!(val & ~mask((u8)size)));
	CHECK(f->writes < MAX_ACCESS);
	f->write_gpa[f->writes] = gpa;
	f->write_val[f->writes++] = val;
	if (f->fail & FAIL_WRITE) {
		f->failed = true;
		return -E_NOENT;
	}
	return 0;
}

static int fake_translate(void *ctx, u8 seg, u64 offset, u32 access, u64 *gpa)
{
	struct fake *f = ctx;
	u32 i = f->xlats;

	/* translations come first: nothing happened on a device before */
	CHECK(!f->xlat_failed && !f->reads && !f->writes);
	CHECK(seg < INSN_SEG_NONE);
	CHECK(access == INSN_READ || access == INSN_WRITE);
	CHECK(!(offset & ~mask(f->d->addr_size)));
	CHECK(i < MAX_XLAT);
	f->xlats++;
	f->xlat_seg[i] = seg;
	f->xlat_off[i] = offset;
	f->xlat_acc[i] = access;
	if (f->fail & (i ? FAIL_XLAT1 : FAIL_XLAT0)) {
		f->failed = f->xlat_failed = true;
		*gpa = 0;
		return -E_RANGE;
	}
	f->xlat_out[i] = *gpa = f->xlat_gpa[i & 1];
	return 0;
}

/* ---- the emulator's results, op by op ---- */

/* SDM 1 3.4.1.1: a register written at size */
static u64 merge(u64 old, bool high8, u8 size, u64 val)
{
	if (high8)
		return (old & ~0xff00ULL) | ((val & 0xff) << 8);
	if (size >= 4)
		return val & mask(size);
	return (old & ~mask(size)) | (val & mask(size));
}

static u64 reg_val(const struct insn *d, const u64 *gpr)
{
	return d->reg_high8 ? (gpr[d->reg] >> 8) & 0xff : gpr[d->reg] & mask(d->reg_size);
}

static bool is_string(u8 op)
{
	return op == INSN_OP_STOS || op == INSN_OP_LODS || op == INSN_OP_MOVS;
}

/* The registers an op may write, the rest must not change. */
static u32 writable_regs(const struct insn *d)
{
	u32 rep = (d->flags & (INSN_F_REP | INSN_F_REPNE)) ? BIT(GPR_RCX) : 0;

	switch (d->op) {
	case INSN_OP_STOS:
		return BIT(GPR_RDI) | rep;
	case INSN_OP_LODS:
		return BIT(GPR_RSI) | BIT(GPR_RAX) | rep;
	case INSN_OP_MOVS:
		return BIT(GPR_RSI) | BIT(GPR_RDI) | rep;
	case INSN_OP_XCHG:
		return BIT(d->reg);
	case INSN_OP_CMP:
	case INSN_OP_TEST:
		return 0;
	default:
		return (d->flags & INSN_F_REG_DST) ? BIT(d->reg) : 0;
	}
}

static void check_string(const struct insn *d, const u64 *old, const u64 *gpr, u64 fl, int rc,
			 const struct fake *f)
{
	bool rep = d->flags & (INSN_F_REP | INSN_F_REPNE);
	u64 step = (fl & RFLAGS_DF) ? -(u64)d->size : d->size, amask = mask(d->addr_size);
	u64 rcx = merge(old[GPR_RCX], false, d->addr_size, old[GPR_RCX] - 1);

	if (rep && !(old[GPR_RCX] & amask)) {
		/* SDM 2 REP: a zero count does nothing */
		CHECK(rc == INSN_DONE && !f->reads && !f->writes && !f->xlats);
		CHECK(!memcmp(old, gpr, GPR_COUNT * sizeof(*gpr)));
		return;
	}
	CHECK(rc == (rep && (rcx & amask) ? INSN_AGAIN : INSN_DONE));
	CHECK(gpr[GPR_RCX] == (rep ? rcx : old[GPR_RCX]));
	if (d->op != INSN_OP_LODS)
		CHECK(gpr[GPR_RDI] ==
		      merge(old[GPR_RDI], false, d->addr_size, old[GPR_RDI] + step));
	if (d->op != INSN_OP_STOS)
		CHECK(gpr[GPR_RSI] ==
		      merge(old[GPR_RSI], false, d->addr_size, old[GPR_RSI] + step));
	switch (d->op) {
	case INSN_OP_STOS:
		CHECK(f->reads == 0 && f->writes == 1 && f->write_gpa[0] == f->gpa);
		CHECK(f->write_val[0] == (old[GPR_RAX] & mask(d->size)));
		break;
	case INSN_OP_LODS:
		CHECK(f->reads == 1 && f->writes == 0 && f->read_gpa[0] == f->gpa);
		CHECK(gpr[GPR_RAX] == merge(old[GPR_RAX], false, d->size, f->values[0]));
		break;
	default: /* MOVS: DS:rSI (or the override) to ES:rDI, SDM 2 MOVS */
		CHECK(f->xlats == 2 && f->reads == 1 && f->writes == 1);
		CHECK(f->xlat_seg[0] == (d->seg == INSN_SEG_NONE ? INSN_SEG_DS : d->seg));
		CHECK(f->xlat_off[0] == (old[GPR_RSI] & amask) && f->xlat_acc[0] == INSN_READ);
		CHECK(f->xlat_seg[1] == INSN_SEG_ES);
		CHECK(f->xlat_off[1] == (old[GPR_RDI] & amask) && f->xlat_acc[1] == INSN_WRITE);
		CHECK(f->read_gpa[0] == f->xlat_out[0] && f->write_gpa[0] == f->xlat_out[1]);
		CHECK(f->write_val[0] == (f->values[0] & mask(d->size)));
		break;
	}
}

static void check_result(const struct insn *d, const u64 *old, const u64 *gpr, u64 fl_in, u64 fl,
			 int rc, const struct fake *f)
{
	u64 mem = f->values[0] & mask(d->size), src, want, want_fl = fl_in;
	u32 regs = writable_regs(d);

	/* nothing outside the operands */
	for (u32 r = 0; r < GPR_COUNT; r++)
		if (!(regs & BIT(r)))
			CHECK(gpr[r] == old[r]);
	CHECK(f->reads <= 1 || d->op == INSN_OP_MOVS);
	CHECK(!f->reads || (d->dir & INSN_READ));
	CHECK(!f->writes || (d->dir & INSN_WRITE));
	if (is_string(d->op)) {
		CHECK(fl == fl_in);
		check_string(d, old, gpr, fl, rc, f);
		return;
	}
	CHECK(rc == INSN_DONE);
	CHECK(f->reads <= 1 && f->writes <= 1 && !f->xlats);
	for (u32 i = 0; i < f->reads; i++)
		CHECK(f->read_gpa[i] == f->gpa);
	for (u32 i = 0; i < f->writes; i++)
		CHECK(f->write_gpa[i] == f->gpa);
	src = (d->flags & INSN_F_IMM) ? d->imm & mask(d->size) : reg_val(d, old);

	switch (d->op) {
	case INSN_OP_MOV:
		CHECK(fl == fl_in);
		if (!(d->flags & INSN_F_REG_DST)) {
			CHECK(!f->reads && f->writes == 1 && f->write_val[0] == src);
			break;
		}
		CHECK(f->reads == 1 && !f->writes);
		want = mem;
		if ((d->flags & INSN_F_SX) && (mem >> (8 * d->size - 1)))
			want |= ~mask(d->size);
		CHECK(gpr[d->reg] == merge(old[d->reg], d->reg_high8, d->reg_size, want));
		break;
	case INSN_OP_XCHG:
		CHECK(fl == fl_in && f->reads == 1 && f->writes == 1);
		CHECK(f->write_val[0] == reg_val(d, old));
		CHECK(gpr[d->reg] == merge(old[d->reg], d->reg_high8, d->reg_size, mem));
		break;
	case INSN_OP_BT:
	case INSN_OP_BTS:
	case INSN_OP_BTR:
	case INSN_OP_BTC: {
		/* SDM 2 BT: CF = the bit (offset MOD operand size here: the
		 * faulting GPA is the unit that holds it); ZF unaffected; OF SF
		 * AF PF undefined */
		u64 bit = 1ULL << (src & (8 * d->size - 1));
		u64 undef = RFLAGS_OF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF;

		CHECK(f->reads == 1);
		CHECK(((fl & RFLAGS_CF) != 0) == ((mem & bit) != 0));
		CHECK((fl & ~(undef | RFLAGS_CF)) == (fl_in & ~(undef | RFLAGS_CF)));
		if (d->op == INSN_OP_BT) {
			CHECK(!f->writes);
			break;
		}
		want = d->op == INSN_OP_BTS ? mem | bit :
		       d->op == INSN_OP_BTR ? mem & ~bit :
					      mem ^ bit;
		CHECK(f->writes == 1 && f->write_val[0] == want);
		break;
	}
	default: {
		/* ADD..CMP, TEST: the host computes the same thing */
		bool logic = d->op == INSN_OP_OR || d->op == INSN_OP_AND || d->op == INSN_OP_XOR ||
			     d->op == INSN_OP_TEST;
		u64 defined = logic ? ARITH & ~RFLAGS_AF : ARITH; /* AF undefined */
		bool reg_dst = d->flags & INSN_F_REG_DST;
		bool no_store = d->op == INSN_OP_CMP || d->op == INSN_OP_TEST;

		want = reg_dst ? host_alu[d->op](d->size, reg_val(d, old), mem, &want_fl) :
				 host_alu[d->op](d->size, mem, src, &want_fl);
		CHECK(f->reads == 1);
		CHECK((fl & defined) == (want_fl & defined));
		CHECK((fl & ~ARITH) == (fl_in & ~ARITH));
		if (reg_dst) {
			CHECK(!f->writes);
			if (!no_store)
				CHECK(gpr[d->reg] ==
				      merge(old[d->reg], d->reg_high8, d->reg_size, want));
		} else {
			CHECK(f->writes == (no_store ? 0u : 1u));
			if (f->writes)
				CHECK(f->write_val[0] == (want & mask(d->size)));
		}
		break;
	}
	}
}

static bool known(u8 op)
{
	return (op < INSN_OP_COUNT && host_alu[op]) || op == INSN_OP_MOV || op == INSN_OP_XCHG ||
	       op == INSN_OP_BT || op == INSN_OP_BTS || op == INSN_OP_BTR || op == INSN_OP_BTC ||
	       is_string(op);
}

static void emulate(const struct insn *d, struct reader *r, u64 gpa)
{
	static const struct insn_mem_ops with_xlat = { .read = fake_read,
						       .write = fake_write,
						       .translate = fake_translate };
	static const struct insn_mem_ops without = { .read = fake_read, .write = fake_write };
	/* exactly GPR_COUNT long on the heap: AddressSanitizer sees any other */
	u64 *gpr = malloc(GPR_COUNT * sizeof(*gpr)), old[GPR_COUNT];
	struct fake f = { .d = d, .gpa = gpa };
	u64 fl, fl_in;
	int rc;

	CHECK(gpr != NULL);
	fl_in = fl = get(r, 8);
	for (u32 i = 0; i < GPR_COUNT; i++)
		old[i] = gpr[i] = get(r, 8);
	f.values[0] = get(r, 8);
	f.values[1] = get(r, 8);
	f.xlat_gpa[0] = get(r, 8);
	f.xlat_gpa[1] = get(r, 8);
	f.fail = (u8)get(r, 1);

	rc = insn_emulate(d, gpr, &fl, gpa, (f.fail & NO_XLAT) ? &without : &with_xlat, &f);
	CHECK(rc == INSN_DONE || rc == INSN_AGAIN || rc < 0);
	if (f.xlat_failed) {
		/* a #PF: no side effect at all */
		CHECK(rc < 0 && !memcmp(old, gpr, sizeof(old)) && fl == fl_in);
	} else if (f.failed) {
		CHECK(rc < 0); /* a device error is never swallowed */
	} else if (known(d->op)) {
		/* the ops this target knows; others get the checks above only */
		if (d->op == INSN_OP_MOVS && (f.fail & NO_XLAT))
			CHECK(rc == -E_NOSUPP && !f.reads && !f.writes);
		else
			check_result(d, old, gpr, fl_in, fl, rc, &f);
	}
	free(gpr);
}

/* ---- insn_match ---- */

static const struct {
	u8 len, op[3];
} match_ops[] = {
	{ 2, { 0x0f, 0xa2 } },	     /* CPUID */
	{ 1, { 0xf4 } },	     /* HLT */
	{ 3, { 0x0f, 0x01, 0xd9 } }, /* VMMCALL */
	{ 3, { 0x0f, 0x01, 0xd1 } }, /* XSETBV */
	{ 2, { 0x0f, 0x08 } },	     /* INVD */
	{ 2, { 0x0f, 0x09 } },	     /* WBINVD */
	{ 2, { 0x0f, 0x32 } },	     /* RDMSR */
	{ 2, { 0x0f, 0x30 } },	     /* WRMSR */
};

static void match(const u8 *b, size_t avail, u8 mode, u8 sel)
{
	const u8 *op = match_ops[sel % ARRAY_SIZE(match_ops)].op;
	u8 oplen = match_ops[sel % ARRAY_SIZE(match_ops)].len;
	struct pfx p;
	int n = insn_match(b, avail, (enum insn_mode)mode, op, oplen), want;
	bool differs = false;
	size_t end;

	/* SDM 2 2.1.1, 2.2.1: any legacy prefixes and REX bytes in 64-bit mode
	 * (a REX not right before the opcode is ignored), then the opcode, all
	 * within 15 bytes */
	scan_prefixes(b, avail, mode, &p);
	end = MIN(avail, (size_t)INSN_MAX_LEN);
	for (size_t i = 0; i < oplen && p.n + i < end; i++)
		differs |= b[p.n + i] != op[i];
	if (p.n + oplen > end) /* cut short: no length; "differs" if it does */
		want = differs && n == -E_NOENT ? -E_NOENT : -E_INVAL;
	else
		want = differs ? -E_NOENT : p.n + oplen;
	if (n != want)
		fprintf(stderr, "fuzz_insn: insn_match %d, want %d\n", n, want);
	CHECK(n == want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = { data, size };
	u8 ctl = (u8)get(&r, 1), bytes[INSN_MAX_LEN] = { 0 }, mode = ctl & 3;
	size_t have = MIN(r.left, (size_t)INSN_MAX_LEN), cut = (ctl >> 2) & 0xf, avail;
	struct insn d, again;
	int rc;
	u64 gpa;

	if (mode > INSN_MODE_64)
		mode = INSN_MODE_64;
	for (size_t i = 0; i < have; i++)
		bytes[i] = (u8)get(&r, 1);
	avail = cut ? MIN(cut, have) : have;

	rc = insn_decode(&d, bytes, avail, (enum insn_mode)mode);
	CHECK(rc == 0 || rc == -E_INVAL || rc == -E_TOOBIG || rc == -E_NOSUPP);
	/* with the whole 15 bytes, running out is not possible */
	CHECK(rc != -E_INVAL || avail < INSN_MAX_LEN);
	if (rc == 0) {
		check_fields(&d, avail, mode);
		check_encoding(&d, bytes, mode);
		/* exactly its bytes decode the same; any fewer run out */
		CHECK(insn_decode(&again, bytes, d.len, (enum insn_mode)mode) == 0);
		CHECK(same(&d, &again));
		for (u8 n = 0; n < d.len; n++)
			CHECK(insn_decode(&again, bytes, n, (enum insn_mode)mode) == -E_INVAL);
		/* more bytes change nothing */
		CHECK(insn_decode(&again, bytes, INSN_MAX_LEN, (enum insn_mode)mode) == 0);
		CHECK(same(&d, &again));
	}
	CHECK(insn_decode(&again, bytes, avail, (enum insn_mode)(INSN_MODE_64 + 1)) == -E_INVAL);

	match(bytes, avail, mode, (u8)get(&r, 1));
	gpa = get(&r, 8);
	if (rc == 0)
		emulate(&d, &r, gpa);
	return 0;
}
