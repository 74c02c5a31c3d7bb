/*
 * The MMIO instruction decoder (SDM 2 chapter 2, opcode maps in appendix A).
 * Table-driven: one descriptor per supported opcode of the one-byte map
 * (table A-2) and the 0F map (table A-3), and the opcode-extension groups
 * (table A-6) that ModRM.reg indexes.
 */
#include "hv/insn/insn.h"

/* Legacy prefixes (SDM 2 2.1.1) */
#define PFX_LOCK 0xf0
#define PFX_REPNE 0xf2
#define PFX_REP 0xf3
#define PFX_OPSIZE 0x66
#define PFX_ADDRSIZE 0x67
#define PFX_ES 0x26
#define PFX_CS 0x2e
#define PFX_SS 0x36
#define PFX_DS 0x3e
#define PFX_FS 0x64
#define PFX_GS 0x65
#define OPC_ESCAPE 0x0f

/* REX (SDM 2 2.2.1.2): 0100WRXB, 64-bit mode only */
#define REX_MASK 0xf0
#define REX_BASE 0x40
#define REX_W BIT(3)
#define REX_R BIT(2)

/* ModRM and SIB fields (SDM 2 2.1.5) */
#define MODRM_MOD(m) ((m) >> 6)
#define MODRM_REG(m) (((m) >> 3) & 7)
#define MODRM_RM(m) (7 & (m))
#define MOD_REG 3	/* register operand, no memory */
#define RM_SIB 4	/* 32/64-bit: a SIB byte follows */
#define RM_DISP32 5	/* mod 0: disp32 (RIP-relative in 64-bit mode) */
#define RM16_DISP16 6	/* 16-bit, mod 0: disp16 alone */
#define SIB_BASE_NONE 5 /* mod 0: no base, disp32 */
#define HIGH8_FIRST 4	/* byte regs 4..7 without REX are AH..BH */

/* Operand forms of a table entry */
#define F_MODRM BIT(0)	 /* a ModRM byte with a memory operand */
#define F_BYTE BIT(1)	 /* 8-bit operand, else the operand size */
#define F_REG_DST BIT(2) /* the register is written (load forms) */
#define F_IMM BIT(3)	 /* Ib for byte forms, else Iz */
#define F_IMM8 BIT(4)	 /* Ib whatever the operand size */
#define F_GROUP BIT(5)	 /* ModRM.reg picks the op from groups[] */
#define F_MOFFS BIT(6)	 /* A0-A3 */
#define F_SRC8 BIT(7)	 /* memory operand is a byte (MOVZX/MOVSX Eb) */
#define F_SRC16 BIT(8)	 /* memory operand is at most a word (Ew) */
#define F_SRC32 BIT(9)	 /* memory operand is at most a dword (MOVSXD) */
#define F_ZX BIT(10)
#define F_SX BIT(11)
#define F_STRING BIT(12)
#define F_ONLY64 BIT(13) /* valid in 64-bit mode only (63 = ARPL otherwise) */
#define F_NO64 BIT(14)	 /* invalid in 64-bit mode (82) */

struct opdesc {
	u8 op; /* enum insn_op, or enum group with F_GROUP */
	u16 flags;
};

enum group { GRP_1, GRP_3, GRP_4, GRP_5, GRP_8, GRP_11, GRP_COUNT };

/*
 * SDM 2 table A-6: opcode extensions by ModRM.reg (only what we support),
 * with the operand forms the member adds to its opcode's (group 3: only
 * TEST has an immediate).
 */
/* clang-format off */
static const struct opdesc groups[GRP_COUNT][8] = {
	[GRP_1] = { { INSN_OP_ADD, 0 }, { INSN_OP_OR, 0 }, { INSN_OP_ADC, 0 }, { INSN_OP_SBB, 0 },
		    { INSN_OP_AND, 0 }, { INSN_OP_SUB, 0 }, { INSN_OP_XOR, 0 }, { INSN_OP_CMP, 0 } },
	[GRP_3] = { [0] = { INSN_OP_TEST, F_IMM }, [2] = { INSN_OP_NOT, 0 },
		    [3] = { INSN_OP_NEG, 0 } },
	[GRP_4] = { [0] = { INSN_OP_INC, 0 }, [1] = { INSN_OP_DEC, 0 } },
	[GRP_5] = { [0] = { INSN_OP_INC, 0 }, [1] = { INSN_OP_DEC, 0 } },
	[GRP_8] = { [4] = { INSN_OP_BT, 0 }, { INSN_OP_BTS, 0 }, { INSN_OP_BTR, 0 }, { INSN_OP_BTC, 0 } },
	[GRP_11] = { [0] = { INSN_OP_MOV, 0 } },
};
/* clang-format on */

/* What each op does to memory when it is the destination; LOCK legality. */
/* clang-format off */
static const struct {
	u8 dir;
	bool lockable;		/* SDM 2 LOCK: #UD unless one of these, on memory */
} op_info[INSN_OP_COUNT] = {
	[INSN_OP_ADD] = { INSN_RMW, true },  [INSN_OP_OR] = { INSN_RMW, true },
	[INSN_OP_ADC] = { INSN_RMW, true },  [INSN_OP_SBB] = { INSN_RMW, true },
	[INSN_OP_AND] = { INSN_RMW, true },  [INSN_OP_SUB] = { INSN_RMW, true },
	[INSN_OP_XOR] = { INSN_RMW, true },  [INSN_OP_CMP] = { INSN_READ, false },
	[INSN_OP_TEST] = { INSN_READ, false },
	[INSN_OP_BT] = { INSN_READ, false }, [INSN_OP_BTS] = { INSN_RMW, true },
	[INSN_OP_BTR] = { INSN_RMW, true },  [INSN_OP_BTC] = { INSN_RMW, true },
	[INSN_OP_MOV] = { INSN_WRITE, false },
	[INSN_OP_XCHG] = { INSN_RMW, true },
	[INSN_OP_STOS] = { INSN_WRITE, false },
	[INSN_OP_LODS] = { INSN_READ, false },
	[INSN_OP_MOVS] = { INSN_RMW, false },	/* reads one side, writes the other */
	[INSN_OP_CMPS] = { INSN_READ, false },	/* reads both sides */
	[INSN_OP_SCAS] = { INSN_READ, false },
	[INSN_OP_INS] = { INSN_WRITE, false },	/* port -> memory */
	[INSN_OP_OUTS] = { INSN_READ, false },
	[INSN_OP_XADD] = { INSN_RMW, true },    [INSN_OP_CMPXCHG] = { INSN_RMW, true },
	[INSN_OP_NOT] = { INSN_RMW, true },     [INSN_OP_NEG] = { INSN_RMW, true },
	[INSN_OP_INC] = { INSN_RMW, true },     [INSN_OP_DEC] = { INSN_RMW, true },
};
/* clang-format on */

/*
 * The arithmetic rows of the one-byte map (table A-2, 00-3F): in each row of
 * eight, Eb,Gb / Ev,Gv / Gb,Eb / Gv,Ev; the AL/eAX,imm forms have no memory
 * operand.
 */
/* clang-format off */
#define ALU_ROW(op_)                                                              \
	[((op_) - INSN_OP_ADD) * 8 + 0] = { op_, F_MODRM | F_BYTE },             \
	[((op_) - INSN_OP_ADD) * 8 + 1] = { op_, F_MODRM },                      \
	[((op_) - INSN_OP_ADD) * 8 + 2] = { op_, F_MODRM | F_BYTE | F_REG_DST }, \
	[((op_) - INSN_OP_ADD) * 8 + 3] = { op_, F_MODRM | F_REG_DST }

static const struct opdesc map1[256] = {
	ALU_ROW(INSN_OP_ADD), ALU_ROW(INSN_OP_OR), ALU_ROW(INSN_OP_ADC),
	ALU_ROW(INSN_OP_SBB), ALU_ROW(INSN_OP_AND), ALU_ROW(INSN_OP_SUB),
	ALU_ROW(INSN_OP_XOR), ALU_ROW(INSN_OP_CMP),
	[0x63] = { INSN_OP_MOV, F_MODRM | F_REG_DST | F_SRC32 | F_SX | F_ONLY64 },
	/* INS/OUTS: 8, 16 or 32 bits, whatever REX.W says */
	[0x6c] = { INSN_OP_INS, F_STRING | F_BYTE },
	[0x6d] = { INSN_OP_INS, F_STRING | F_SRC32 },
	[0x6e] = { INSN_OP_OUTS, F_STRING | F_BYTE },
	[0x6f] = { INSN_OP_OUTS, F_STRING | F_SRC32 },
	[0x80] = { GRP_1, F_MODRM | F_GROUP | F_BYTE | F_IMM },
	[0x81] = { GRP_1, F_MODRM | F_GROUP | F_IMM },
	[0x82] = { GRP_1, F_MODRM | F_GROUP | F_BYTE | F_IMM | F_NO64 },
	[0x83] = { GRP_1, F_MODRM | F_GROUP | F_IMM8 },
	[0x84] = { INSN_OP_TEST, F_MODRM | F_BYTE },
	[0x85] = { INSN_OP_TEST, F_MODRM },
	[0x86] = { INSN_OP_XCHG, F_MODRM | F_BYTE },
	[0x87] = { INSN_OP_XCHG, F_MODRM },
	[0x88] = { INSN_OP_MOV, F_MODRM | F_BYTE },
	[0x89] = { INSN_OP_MOV, F_MODRM },
	[0x8a] = { INSN_OP_MOV, F_MODRM | F_BYTE | F_REG_DST },
	[0x8b] = { INSN_OP_MOV, F_MODRM | F_REG_DST },
	[0xa0] = { INSN_OP_MOV, F_MOFFS | F_BYTE | F_REG_DST },
	[0xa1] = { INSN_OP_MOV, F_MOFFS | F_REG_DST },
	[0xa2] = { INSN_OP_MOV, F_MOFFS | F_BYTE },
	[0xa3] = { INSN_OP_MOV, F_MOFFS },
	[0xa4] = { INSN_OP_MOVS, F_STRING | F_BYTE },
	[0xa5] = { INSN_OP_MOVS, F_STRING },
	[0xa6] = { INSN_OP_CMPS, F_STRING | F_BYTE },
	[0xa7] = { INSN_OP_CMPS, F_STRING },
	[0xaa] = { INSN_OP_STOS, F_STRING | F_BYTE },
	[0xab] = { INSN_OP_STOS, F_STRING },
	[0xac] = { INSN_OP_LODS, F_STRING | F_BYTE | F_REG_DST },
	[0xad] = { INSN_OP_LODS, F_STRING | F_REG_DST },
	[0xae] = { INSN_OP_SCAS, F_STRING | F_BYTE },
	[0xaf] = { INSN_OP_SCAS, F_STRING },
	[0xc6] = { GRP_11, F_MODRM | F_GROUP | F_BYTE | F_IMM },
	[0xc7] = { GRP_11, F_MODRM | F_GROUP | F_IMM },
	[0xf6] = { GRP_3, F_MODRM | F_GROUP | F_BYTE },
	[0xf7] = { GRP_3, F_MODRM | F_GROUP },
	[0xfe] = { GRP_4, F_MODRM | F_GROUP | F_BYTE },
	[0xff] = { GRP_5, F_MODRM | F_GROUP },
};
/* clang-format on */

/* The two-byte map, 0F xx (table A-3) */
static const struct opdesc map2[256] = {
	[0xa3] = { INSN_OP_BT, F_MODRM },
	[0xab] = { INSN_OP_BTS, F_MODRM },
	[0xb0] = { INSN_OP_CMPXCHG, F_MODRM | F_BYTE },
	[0xb1] = { INSN_OP_CMPXCHG, F_MODRM },
	[0xb3] = { INSN_OP_BTR, F_MODRM },
	[0xbb] = { INSN_OP_BTC, F_MODRM },
	[0xba] = { GRP_8, F_MODRM | F_GROUP | F_IMM8 },
	[0xb6] = { INSN_OP_MOV, F_MODRM | F_REG_DST | F_SRC8 | F_ZX },
	[0xb7] = { INSN_OP_MOV, F_MODRM | F_REG_DST | F_SRC16 | F_ZX },
	[0xbe] = { INSN_OP_MOV, F_MODRM | F_REG_DST | F_SRC8 | F_SX },
	[0xbf] = { INSN_OP_MOV, F_MODRM | F_REG_DST | F_SRC16 | F_SX },
	[0xc0] = { INSN_OP_XADD, F_MODRM | F_BYTE },
	[0xc1] = { INSN_OP_XADD, F_MODRM },
};

/* Segment override prefixes -> enum insn_seg */
static const struct {
	u8 prefix, seg;
} seg_prefixes[] = {
	{ PFX_ES, INSN_SEG_ES }, { PFX_CS, INSN_SEG_CS }, { PFX_SS, INSN_SEG_SS },
	{ PFX_DS, INSN_SEG_DS }, { PFX_FS, INSN_SEG_FS }, { PFX_GS, INSN_SEG_GS },
};

/* Default operand and address sizes per mode (SDM 2 table 2-4 and 3A 3.4.5) */
static const struct {
	u8 opsize, addrsize, alt_opsize, alt_addrsize;
} mode_sizes[] = {
	[INSN_MODE_16] = { 2, 2, 4, 4 },
	[INSN_MODE_32] = { 4, 4, 2, 2 },
	[INSN_MODE_64] = { 4, 8, 2, 4 },
};

/* The bytes being decoded: never read past avail nor past INSN_MAX_LEN. */
struct cursor {
	const u8 *bytes;
	size_t avail;
	u8 pos;
};

static int take(struct cursor *c, u8 n, u64 *val)
{
	u64 v = 0;

	*val = 0;
	if (c->pos + n > INSN_MAX_LEN)
		return -E_TOOBIG;
	if (c->pos + n > c->avail)
		return -E_INVAL;
	for (u8 i = 0; i < n; i++)
		v |= (u64)c->bytes[c->pos + i] << (8 * i);
	c->pos += n;
	*val = v;
	return 0;
}

static int take_byte(struct cursor *c, u8 *b)
{
	u64 v;
	int err = take(c, 1, &v);

	*b = (u8)v;
	return err;
}

static s64 sign_extend(u64 v, u8 bytes)
{
	u8 shift = 64 - 8 * bytes;

	return (s64)(v << shift) >> shift;
}

static bool seg_prefix(u8 b, u8 *seg)
{
	for (size_t i = 0; i < ARRAY_SIZE(seg_prefixes); i++) {
		if (seg_prefixes[i].prefix == b) {
			*seg = seg_prefixes[i].seg;
			return true;
		}
	}
	return false;
}

/*
 * APM 3 1.2.4: in 64-bit mode only the FS and GS overrides count; ES, CS, SS
 * and DS are null prefixes, which do not replace an FS or GS override before
 * them either.
 */
static u8 seg_override(const struct insn *d, u8 seg)
{
	if (d->mode == INSN_MODE_64 && seg != INSN_SEG_FS && seg != INSN_SEG_GS)
		return d->seg;
	return seg;
}

/*
 * Legacy prefixes in any order, then REX in 64-bit mode. A REX that is not
 * directly before the opcode is ignored (SDM 2 2.2.1); the last of
 * several segment or REP prefixes wins. Leaves the opcode byte in *opc.
 */
static int decode_prefixes(struct cursor *c, struct insn *d, bool *opsize_pfx, bool *addrsize_pfx,
			   u8 *opc)
{
	int err;
	u8 b, seg;

	for (;;) {
		err = take_byte(c, &b);
		if (err)
			return err;
		if (d->mode == INSN_MODE_64 && (b & REX_MASK) == REX_BASE) {
			d->rex = b;
			continue;
		}
		if (b == PFX_OPSIZE)
			*opsize_pfx = true;
		else if (b == PFX_ADDRSIZE)
			*addrsize_pfx = true;
		else if (b == PFX_LOCK)
			d->flags |= INSN_F_LOCK;
		else if (b == PFX_REP)
			d->flags = (d->flags & ~INSN_F_REPNE) | INSN_F_REP;
		else if (b == PFX_REPNE)
			d->flags = (d->flags & ~INSN_F_REP) | INSN_F_REPNE;
		else if (seg_prefix(b, &seg))
			d->seg = seg_override(d, seg);
		else
			break;
		d->rex = 0;
	}
	*opc = b;
	return 0;
}

/* The lengths of ModRM, SIB and displacement (SDM 2 tables 2-1, 2-2, 2-3). */
static int decode_modrm(struct cursor *c, struct insn *d)
{
	static const u8 disp16[] = { 0, 1, 2 }; /* by mod */
	static const u8 disp32[] = { 0, 1, 4 };
	u8 mod, rm, len;
	u64 v;
	int err;

	err = take_byte(c, &d->modrm);
	if (err)
		return err;
	mod = MODRM_MOD(d->modrm);
	rm = MODRM_RM(d->modrm);
	if (mod == MOD_REG)
		return -E_NOSUPP; /* register operand: not a memory access */

	if (d->addr_size == 2) {
		len = (mod == 0 && rm == RM16_DISP16) ? 2 : disp16[mod];
	} else {
		len = disp32[mod];
		if (rm == RM_SIB) {
			err = take_byte(c, &d->sib);
			if (err)
				return err;
			if (mod == 0 && MODRM_RM(d->sib) == SIB_BASE_NONE)
				len = 4;
		} else if (mod == 0 && rm == RM_DISP32) {
			len = 4;
			/* SDM 2 2.2.1.6 */
			if (d->mode == INSN_MODE_64)
				d->flags |= INSN_F_RIP_REL;
		}
	}
	if (!len)
		return 0;
	err = take(c, len, &v);
	if (err)
		return err;
	d->disp = sign_extend(v, len);
	return 0;
}

/* The register operand of ModRM.reg, with REX.R and the AH..BH rule. */
static void decode_reg(struct insn *d, bool byte)
{
	u8 reg = MODRM_REG(d->modrm) | ((d->rex & REX_R) ? 8 : 0);

	/* SDM 2 2.1.5 table 2-2 note and 2.2.1.2: without REX, 4..7 are AH..BH */
	if (byte && !d->rex && reg >= HIGH8_FIRST) {
		reg -= HIGH8_FIRST;
		d->reg_high8 = true;
	}
	d->reg = reg;
}

static int decode_imm(struct cursor *c, struct insn *d, u16 flags)
{
	u8 len;
	u64 v;
	int err;

	if (flags & F_IMM8)
		len = 1;
	else if (flags & F_IMM)
		len = MIN(d->size, 4); /* Iz: imm32 sign-extended for 64-bit */
	else
		return 0;
	err = take(c, len, &v);
	if (err)
		return err;
	d->imm = (u64)sign_extend(v, len);
	d->flags |= INSN_F_IMM;
	return 0;
}

/* The opcode descriptor for the byte(s) at the cursor, op resolved. */
static int decode_opcode(struct cursor *c, struct insn *d, u8 opc, struct opdesc *out)
{
	const struct opdesc *desc = &map1[opc];
	int err;

	if (opc == OPC_ESCAPE) {
		err = take_byte(c, &opc);
		if (err)
			return err;
		d->twobyte = true;
		desc = &map2[opc];
	}
	d->opcode = opc;
	*out = *desc;
	if (!out->op && !(out->flags & F_GROUP))
		return -E_NOSUPP;
	if ((out->flags & F_ONLY64) && d->mode != INSN_MODE_64)
		return -E_NOSUPP;
	if ((out->flags & F_NO64) && d->mode == INSN_MODE_64)
		return -E_NOSUPP;
	return 0;
}

static u8 access_size(const struct insn *d, u16 flags)
{
	if (flags & (F_BYTE | F_SRC8))
		return 1;
	if (flags & F_SRC16)
		return MIN(d->reg_size, 2);
	if (flags & F_SRC32)
		return MIN(d->reg_size, 4);
	return d->reg_size;
}

int insn_decode(struct insn *d, const u8 *bytes, size_t avail, enum insn_mode mode)
{
	struct cursor c = { .bytes = bytes, .avail = avail };
	bool opsize_pfx = false, addrsize_pfx = false;
	struct opdesc desc;
	u8 opc;
	u64 v;
	int err;

	*d = (struct insn){ .mode = mode, .seg = INSN_SEG_NONE };
	if (mode > INSN_MODE_64)
		return -E_INVAL;
	err = decode_prefixes(&c, d, &opsize_pfx, &addrsize_pfx, &opc);
	if (!err)
		err = decode_opcode(&c, d, opc, &desc);
	if (err)
		return err;

	/* SDM 2 2.2.1.2 and table 2-4: REX.W wins over 66 */
	d->reg_size = opsize_pfx ? mode_sizes[mode].alt_opsize : mode_sizes[mode].opsize;
	if (d->rex & REX_W)
		d->reg_size = 8;
	d->addr_size = addrsize_pfx ? mode_sizes[mode].alt_addrsize : mode_sizes[mode].addrsize;
	if (desc.flags & F_BYTE)
		d->reg_size = 1;
	d->size = access_size(d, desc.flags);
	if (desc.op == INSN_OP_INS || desc.op == INSN_OP_OUTS)
		d->reg_size =
			d->size; /* no register operand: REX.W does not widen (SDM 2B INS, OUTS) */

	if (desc.flags & F_MODRM) {
		err = decode_modrm(&c, d);
		if (err)
			return err;
		if (desc.flags & F_GROUP) {
			const struct opdesc *m = &groups[desc.op][MODRM_REG(d->modrm)];

			if (!m->op)
				return -E_NOSUPP;
			desc.op = m->op;
			desc.flags |= m->flags;
		} else {
			decode_reg(d, desc.flags & F_BYTE);
		}
	} else if (desc.flags & F_MOFFS) {
		err = take(&c, d->addr_size, &v);
		if (err)
			return err;
		d->disp = (s64)v;
		d->flags |= INSN_F_MOFFS;
	}
	/* string and moffs forms use the accumulator: d->reg = GPR_RAX = 0 */

	err = decode_imm(&c, d, desc.flags);
	if (err)
		return err;

	d->op = desc.op;
	d->dir = (desc.flags & F_REG_DST) ? INSN_READ : op_info[desc.op].dir;
	if (desc.flags & F_REG_DST)
		d->flags |= INSN_F_REG_DST;
	if (desc.flags & F_ZX)
		d->flags |= INSN_F_ZX;
	if (desc.flags & F_SX)
		d->flags |= INSN_F_SX;
	if (desc.flags & F_STRING)
		d->flags |= INSN_F_STRING;
	/* LOCK: #UD unless a lockable op with a memory destination (SDM 2 LOCK) */
	if ((d->flags & INSN_F_LOCK) && (!op_info[d->op].lockable || (d->flags & INSN_F_REG_DST)))
		return -E_NOSUPP;
	d->len = c.pos;
	return 0;
}
