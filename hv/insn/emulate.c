/*
 * The MMIO instruction emulator: performs a decoded instruction (insn.c)
 * against device callbacks, with the register and flag rules of the SDM.
 * One handler per kind of instruction, chosen through a table.
 */
#include "hv/insn/emulate.h"
#include "hv/hw/x86.h"
#include "hv/vcpu/vcpu.h"

/* The arithmetic flags (SDM 1 3.4.3.1) */
#define RFLAGS_ARITH (RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_OF)

#define HIGH8_SHIFT 8
#define LOW8_MASK 0xffULL
#define AF_BIT 4 /* AF is the carry out of bit 3 */

struct emul {
	const struct insn *d;
	u64 *gpr;
	u64 *rflags;
	u64 gpa;
	const struct insn_mem_ops *ops;
	void *ctx;
};

static u64 size_mask(u8 size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static u64 sign_bit(u8 size)
{
	return 1ULL << (8 * size - 1);
}

static u64 reg_read(const u64 *gpr, u8 reg, bool high8, u8 size)
{
	if (high8)
		return (gpr[reg] >> HIGH8_SHIFT) & LOW8_MASK;
	return gpr[reg] & size_mask(size);
}

/* SDM 1 3.4.1.1: 32-bit results zero-extend, 8/16-bit results merge. */
static void reg_write(u64 *gpr, u8 reg, bool high8, u8 size, u64 val)
{
	if (high8) {
		gpr[reg] = (gpr[reg] & ~(LOW8_MASK << HIGH8_SHIFT)) |
			   ((val & LOW8_MASK) << HIGH8_SHIFT);
	} else if (size >= 4) {
		gpr[reg] = val & size_mask(size);
	} else {
		gpr[reg] = (gpr[reg] & ~size_mask(size)) | (val & size_mask(size));
	}
}

/* The register operand (ModRM.reg, or the accumulator) */
static u64 op_reg(const struct emul *e)
{
	return reg_read(e->gpr, e->d->reg, e->d->reg_high8, e->d->reg_size);
}

static void set_op_reg(const struct emul *e, u64 val)
{
	reg_write(e->gpr, e->d->reg, e->d->reg_high8, e->d->reg_size, val);
}

/* The non-memory source: the immediate or the register */
static u64 op_src(const struct emul *e)
{
	if (e->d->flags & INSN_F_IMM)
		return e->d->imm & size_mask(e->d->size);
	return op_reg(e);
}

static int mem_read(const struct emul *e, u64 gpa, u64 *val)
{
	int err;

	*val = 0;
	err = e->ops->read(e->ctx, gpa, e->d->size, val);

	*val &= size_mask(e->d->size);
	return err;
}

static int mem_write(const struct emul *e, u64 gpa, u64 val)
{
	return e->ops->write(e->ctx, gpa, e->d->size, val & size_mask(e->d->size));
}

/* PF: even parity of the low byte of the result */
static bool parity_even(u64 v)
{
	v &= LOW8_MASK;
	v ^= v >> 4;
	v ^= v >> 2;
	v ^= v >> 1;
	return !(v & 1);
}

/* Sets CF PF AF ZF SF OF from a result and the carry/overflow/adjust bits. */
static void set_arith_flags(u64 *rflags, u64 res, u8 size, bool cf, bool of, bool af)
{
	u64 f = *rflags & ~RFLAGS_ARITH;

	res &= size_mask(size);
	f |= cf ? RFLAGS_CF : 0;
	f |= of ? RFLAGS_OF : 0;
	f |= af ? RFLAGS_AF : 0;
	f |= parity_even(res) ? RFLAGS_PF : 0;
	f |= res == 0 ? RFLAGS_ZF : 0;
	f |= (res & sign_bit(size)) ? RFLAGS_SF : 0;
	*rflags = f;
}

/*
 * a OP b at the given size, flags per the SDM 2 page of each instruction:
 * ADD/ADC carry and signed overflow, SUB/SBB/CMP borrow and overflow, AF the
 * carry/borrow out of bit 3; logic ops clear CF and OF (AF undefined: 0).
 */
static u64 alu(u8 op, u8 size, u64 a, u64 b, u64 *rflags)
{
	u64 m = size_mask(size), sb = sign_bit(size);
	u64 cin = (*rflags & RFLAGS_CF) ? 1 : 0;
	u64 res;
	bool cf, of;

	a &= m;
	b &= m;
	switch (op) {
	case INSN_OP_ADD:
	case INSN_OP_ADC:
		if (op == INSN_OP_ADD)
			cin = 0;
		res = (a + b + cin) & m;
		cf = res < a || (cin && res == a);
		of = ((a ^ res) & (b ^ res) & sb) != 0;
		break;
	case INSN_OP_SUB:
	case INSN_OP_SBB:
	case INSN_OP_CMP:
		if (op != INSN_OP_SBB)
			cin = 0;
		res = (a - b - cin) & m;
		cf = a < b || (cin && a == b);
		of = ((a ^ b) & (a ^ res) & sb) != 0;
		break;
	case INSN_OP_AND:
	case INSN_OP_TEST:
		res = a & b;
		set_arith_flags(rflags, res, size, false, false, false);
		return res;
	case INSN_OP_OR:
		res = a | b;
		set_arith_flags(rflags, res, size, false, false, false);
		return res;
	default: /* INSN_OP_XOR */
		res = a ^ b;
		set_arith_flags(rflags, res, size, false, false, false);
		return res;
	}
	set_arith_flags(rflags, res, size, cf, of, ((a ^ b ^ res) >> AF_BIT) & 1);
	return res;
}

/* ADD..CMP and TEST, memory on either side */
static int emul_alu(const struct emul *e)
{
	const struct insn *d = e->d;
	u64 mem, res;
	int err;

	err = mem_read(e, e->gpa, &mem);
	if (err)
		return err;
	if (d->flags & INSN_F_REG_DST) {
		res = alu(d->op, d->size, op_reg(e), mem, e->rflags);
		if (d->op != INSN_OP_CMP)
			set_op_reg(e, res);
		return INSN_DONE;
	}
	res = alu(d->op, d->size, mem, op_src(e), e->rflags);
	if (d->op == INSN_OP_CMP || d->op == INSN_OP_TEST)
		return INSN_DONE;
	return mem_write(e, e->gpa, res);
}

/*
 * BT/BTS/BTR/BTC on memory. With a register offset the processor addresses
 * the operand-sized unit that holds the bit (SDM 2 BT: EA + size * (offset
 * DIV bits)), which is the faulting gpa; the bit inside it is offset MOD bits.
 * Only CF is defined; the other flags are left as they were.
 */
static int emul_bt(const struct emul *e)
{
	const struct insn *d = e->d;
	u64 mem, bit;
	int err;

	err = mem_read(e, e->gpa, &mem);
	if (err)
		return err;
	bit = 1ULL << (op_src(e) & (8 * d->size - 1));
	*e->rflags = (*e->rflags & ~RFLAGS_CF) | ((mem & bit) ? RFLAGS_CF : 0);
	switch (d->op) {
	case INSN_OP_BTS:
		return mem_write(e, e->gpa, mem | bit);
	case INSN_OP_BTR:
		return mem_write(e, e->gpa, mem & ~bit);
	case INSN_OP_BTC:
		return mem_write(e, e->gpa, mem ^ bit);
	default:
		return INSN_DONE;
	}
}

/* The value read, extended to the register for MOVZX/MOVSX/MOVSXD */
static u64 extend(const struct insn *d, u64 val)
{
	if ((d->flags & INSN_F_SX) && (val & sign_bit(d->size)))
		val |= ~size_mask(d->size);
	return val;
}

static int emul_mov(const struct emul *e)
{
	u64 val;
	int err;

	if (!(e->d->flags & INSN_F_REG_DST))
		return mem_write(e, e->gpa, op_src(e));
	err = mem_read(e, e->gpa, &val);
	if (!err)
		set_op_reg(e, extend(e->d, val));
	return err;
}

static int emul_xchg(const struct emul *e)
{
	u64 mem;
	int err;

	err = mem_read(e, e->gpa, &mem);
	if (!err)
		err = mem_write(e, e->gpa, op_reg(e));
	if (!err)
		set_op_reg(e, mem);
	return err;
}

/* XADD: the sum to memory, the old value to the register (SDM 2 XADD). */
static int emul_xadd(const struct emul *e)
{
	u64 mem, sum;
	int err;

	err = mem_read(e, e->gpa, &mem);
	if (err)
		return err;
	sum = alu(INSN_OP_ADD, e->d->size, mem, op_reg(e), e->rflags);
	err = mem_write(e, e->gpa, sum);
	if (!err)
		set_op_reg(e, mem);
	return err;
}

/*
 * CMPXCHG: flags of accumulator - memory; equal: the register to memory;
 * not: memory to the accumulator, and memory written back with its own
 * value (SDM 2 CMPXCHG: the destination always gets a write cycle).
 */
static int emul_cmpxchg(const struct emul *e)
{
	const struct insn *d = e->d;
	u64 mem;
	int err;

	err = mem_read(e, e->gpa, &mem);
	if (err)
		return err;
	alu(INSN_OP_CMP, d->size, reg_read(e->gpr, GPR_RAX, false, d->size), mem, e->rflags);
	if (*e->rflags & RFLAGS_ZF)
		return mem_write(e, e->gpa, op_reg(e));
	err = mem_write(e, e->gpa, mem);
	if (!err)
		reg_write(e->gpr, GPR_RAX, false, d->size, mem);
	return err;
}

/* NOT (no flags), NEG (0 - x), INC and DEC (x + 1, x - 1, CF kept): SDM 2. */
static int emul_unary(const struct emul *e)
{
	const struct insn *d = e->d;
	u64 mem, res, cf = *e->rflags & RFLAGS_CF;
	int err;

	err = mem_read(e, e->gpa, &mem);
	if (err)
		return err;
	switch (d->op) {
	case INSN_OP_NOT:
		res = ~mem;
		break;
	case INSN_OP_NEG:
		res = alu(INSN_OP_SUB, d->size, 0, mem, e->rflags);
		break;
	default:
		res = alu(d->op == INSN_OP_INC ? INSN_OP_ADD : INSN_OP_SUB, d->size, mem, 1,
			  e->rflags);
		*e->rflags = (*e->rflags & ~RFLAGS_CF) | cf;
		break;
	}
	return mem_write(e, e->gpa, res);
}

/* Steps an address-sized string register (SI, DI, CX; SDM 2 STOS, MOVS). */
static void step_reg(u64 *gpr, u8 reg, u8 addr_size, s64 delta)
{
	reg_write(gpr, reg, false, addr_size, gpr[reg] + (u64)delta);
}

/*
 * The common part of the string instructions: REP with a zero count does nothing;
 * after one element the pointers move by size (backwards with DF) and a REP
 * count drops by one.
 */
static bool string_skip(const struct emul *e)
{
	const struct insn *d = e->d;

	return (d->flags & (INSN_F_REP | INSN_F_REPNE)) &&
	       !reg_read(e->gpr, GPR_RCX, false, d->addr_size);
}

static int string_next(const struct emul *e, bool src, bool dst)
{
	const struct insn *d = e->d;
	s64 delta = (*e->rflags & RFLAGS_DF) ? -(s64)d->size : d->size;

	if (src)
		step_reg(e->gpr, GPR_RSI, d->addr_size, delta);
	if (dst)
		step_reg(e->gpr, GPR_RDI, d->addr_size, delta);
	if (!(d->flags & (INSN_F_REP | INSN_F_REPNE)))
		return INSN_DONE;
	step_reg(e->gpr, GPR_RCX, d->addr_size, -1);
	return reg_read(e->gpr, GPR_RCX, false, d->addr_size) ? INSN_AGAIN : INSN_DONE;
}

static int emul_stos(const struct emul *e)
{
	int err;

	if (string_skip(e))
		return INSN_DONE;
	err = mem_write(e, e->gpa, op_reg(e));
	return err ? err : string_next(e, false, true);
}

static int emul_lods(const struct emul *e)
{
	u64 val;
	int err;

	if (string_skip(e))
		return INSN_DONE;
	err = mem_read(e, e->gpa, &val);
	if (err)
		return err;
	set_op_reg(e, val);
	return string_next(e, true, false);
}

/* CMPS, SCAS: REPE / REPNE also end when the comparison says so. */
static int string_next_cmp(const struct emul *e, bool src)
{
	int rc = string_next(e, src, true);
	bool zf = *e->rflags & RFLAGS_ZF;

	if (rc == INSN_AGAIN && ((e->d->flags & INSN_F_REP) ? !zf : zf))
		return INSN_DONE;
	return rc;
}

/* The source DS:rSI (or the override) or the destination ES:rDI, which
 * cannot be overridden, as a guest-physical address (SDM 2 MOVS). */
static int string_addr(const struct emul *e, bool src, u32 access, u64 *gpa)
{
	const struct insn *d = e->d;
	u64 amask = size_mask(d->addr_size);

	if (src)
		return e->ops->translate(e->ctx, d->seg == INSN_SEG_NONE ? INSN_SEG_DS : d->seg,
					 e->gpr[GPR_RSI] & amask, access, gpa);
	return e->ops->translate(e->ctx, INSN_SEG_ES, e->gpr[GPR_RDI] & amask, access, gpa);
}

static int emul_movs(const struct emul *e)
{
	u64 src, dst, val;
	int err;

	if (!e->ops->translate)
		return -E_NOSUPP;
	if (string_skip(e))
		return INSN_DONE;
	err = string_addr(e, true, INSN_READ, &src);
	if (!err)
		err = string_addr(e, false, INSN_WRITE, &dst);
	if (!err)
		err = mem_read(e, src, &val);
	if (!err)
		err = mem_write(e, dst, val);
	return err ? err : string_next(e, true, true);
}

/* CMPS: flags of source - destination (SDM 2 CMPS). */
static int emul_cmps(const struct emul *e)
{
	u64 src, dst, a, b;
	int err;

	if (!e->ops->translate)
		return -E_NOSUPP;
	if (string_skip(e))
		return INSN_DONE;
	err = string_addr(e, true, INSN_READ, &src);
	if (!err)
		err = string_addr(e, false, INSN_READ, &dst);
	if (!err)
		err = mem_read(e, src, &a);
	if (!err)
		err = mem_read(e, dst, &b);
	if (err)
		return err;
	alu(INSN_OP_CMP, e->d->size, a, b, e->rflags);
	return string_next_cmp(e, true);
}

/* SCAS: flags of the accumulator - ES:rDI, which is gpa. */
static int emul_scas(const struct emul *e)
{
	u64 mem;
	int err;

	if (string_skip(e))
		return INSN_DONE;
	err = mem_read(e, e->gpa, &mem);
	if (err)
		return err;
	alu(INSN_OP_CMP, e->d->size, op_reg(e), mem, e->rflags);
	return string_next_cmp(e, false);
}

/* INS: port DX -> ES:rDI; the destination is checked first, so that a
 * fault leaves the port unread. */
static int emul_ins(const struct emul *e)
{
	u64 dst, val = 0;
	int err;

	if (!e->ops->translate || !e->ops->port_in)
		return -E_NOSUPP;
	if (string_skip(e))
		return INSN_DONE;
	err = string_addr(e, false, INSN_WRITE, &dst);
	if (!err)
		err = e->ops->port_in(e->ctx, (u16)e->gpr[GPR_RDX], e->d->size, &val);
	if (!err)
		err = mem_write(e, dst, val);
	return err ? err : string_next(e, false, true);
}

/* OUTS: DS:rSI (or the override) -> port DX. */
static int emul_outs(const struct emul *e)
{
	u64 src, val;
	int err;

	if (!e->ops->translate || !e->ops->port_out)
		return -E_NOSUPP;
	if (string_skip(e))
		return INSN_DONE;
	err = string_addr(e, true, INSN_READ, &src);
	if (!err)
		err = mem_read(e, src, &val);
	if (!err)
		err = e->ops->port_out(e->ctx, (u16)e->gpr[GPR_RDX], e->d->size, val);
	return err ? err : string_next(e, true, false);
}

typedef int (*emul_fn)(const struct emul *e);

static const emul_fn handlers[INSN_OP_COUNT] = {
	[INSN_OP_ADD] = emul_alu,   [INSN_OP_OR] = emul_alu,	[INSN_OP_ADC] = emul_alu,
	[INSN_OP_SBB] = emul_alu,   [INSN_OP_AND] = emul_alu,	[INSN_OP_SUB] = emul_alu,
	[INSN_OP_XOR] = emul_alu,   [INSN_OP_CMP] = emul_alu,	[INSN_OP_TEST] = emul_alu,
	[INSN_OP_BT] = emul_bt,	    [INSN_OP_BTS] = emul_bt,	[INSN_OP_BTR] = emul_bt,
	[INSN_OP_BTC] = emul_bt,    [INSN_OP_MOV] = emul_mov,	[INSN_OP_XCHG] = emul_xchg,
	[INSN_OP_STOS] = emul_stos, [INSN_OP_LODS] = emul_lods, [INSN_OP_MOVS] = emul_movs,
	[INSN_OP_CMPS] = emul_cmps, [INSN_OP_SCAS] = emul_scas, [INSN_OP_INS] = emul_ins,
	[INSN_OP_OUTS] = emul_outs, [INSN_OP_XADD] = emul_xadd, [INSN_OP_CMPXCHG] = emul_cmpxchg,
	[INSN_OP_NOT] = emul_unary, [INSN_OP_NEG] = emul_unary, [INSN_OP_INC] = emul_unary,
	[INSN_OP_DEC] = emul_unary,
};

int insn_emulate(const struct insn *d, u64 *gpr, u64 *rflags, u64 gpa,
		 const struct insn_mem_ops *ops, void *ctx)
{
	const struct emul e = {
		.d = d,
		.gpr = gpr,
		.rflags = rflags,
		.gpa = gpa,
		.ops = ops,
		.ctx = ctx,
	};

	if (d->op >= INSN_OP_COUNT || !handlers[d->op])
		return -E_NOSUPP;
	return handlers[d->op](&e);
}
