/*
 * The MMIO instruction decoder and emulator.
 *
 * An EPT violation (VT-x) or nested page fault (AMD-V without decode
 * assists, as under QEMU TCG) tells the hypervisor the guest-physical address
 * of an access to an emulated device, but not the instruction. The caller
 * fetches up to INSN_MAX_LEN bytes at CS:RIP (hv/insn/gpt.h: gpt_fetch),
 * decodes them with insn_decode() in the guest's current mode, and lets
 * insn_emulate() perform the access through its device callbacks, update the
 * registers and RFLAGS; then it advances RIP by insn.len when told to.
 *
 * Only the instructions that kernels and conformance tests use on device
 * memory are decoded: MOV in all its memory forms (incl. moffs, MOVZX,
 * MOVSX, MOVSXD), the group-1 arithmetic (ADD OR ADC SBB AND SUB XOR CMP)
 * in every memory form, TEST, XCHG, XADD, CMPXCHG, NOT, NEG, INC, DEC,
 * BT/BTS/BTR/BTC, the string instructions STOS, LODS, MOVS, CMPS, SCAS with
 * or without REP/REPE/REPNE, and INS/OUTS (string I/O, whose memory side
 * the I/O exit emulates). Anything else (and every register-only form,
 * which cannot fault on memory) is -E_NOSUPP: the caller gives the guest
 * #UD, as a processor without the instruction would (hv/policy/mmio.c).
 */
#pragma once

#include "hv/lib/types.h"

/* SDM 2 2.3.11: an instruction is at most 15 bytes, prefixes included. */
#define INSN_MAX_LEN 15

/* The code size the guest executes in (SDM 3A 3.4.5, 5.2.1; SDM 2 2.2.1). */
enum insn_mode {
	INSN_MODE_16 = 0, /* real, virtual-8086, or a 16-bit code segment */
	INSN_MODE_32,	  /* protected or compatibility mode, CS.D = 1 */
	INSN_MODE_64,	  /* 64-bit mode: EFER.LMA = 1 and CS.L = 1 */
};

/*
 * What the instruction does; the arithmetic ones in group-1 ModRM.reg order
 * (SDM 2 table A-6) and the bit tests in group-8 order, so that the opcode
 * extension indexes them.
 */
enum insn_op {
	INSN_OP_NONE = 0,
	INSN_OP_ADD,
	INSN_OP_OR,
	INSN_OP_ADC,
	INSN_OP_SBB,
	INSN_OP_AND,
	INSN_OP_SUB,
	INSN_OP_XOR,
	INSN_OP_CMP,
	INSN_OP_TEST,
	INSN_OP_BT,
	INSN_OP_BTS,
	INSN_OP_BTR,
	INSN_OP_BTC,
	INSN_OP_MOV, /* load (INSN_F_REG_DST) or store */
	INSN_OP_XCHG,
	INSN_OP_STOS,
	INSN_OP_LODS,
	INSN_OP_MOVS,
	INSN_OP_CMPS,
	INSN_OP_SCAS,
	INSN_OP_INS,
	INSN_OP_OUTS,
	INSN_OP_XADD,
	INSN_OP_CMPXCHG,
	INSN_OP_NOT,
	INSN_OP_NEG,
	INSN_OP_INC,
	INSN_OP_DEC,
	INSN_OP_COUNT
};

/* Direction of the memory access, struct insn.dir */
#define INSN_READ BIT(0)
#define INSN_WRITE BIT(1)
#define INSN_RMW (INSN_READ | INSN_WRITE)

/* struct insn.flags */
#define INSN_F_REG_DST BIT(0) /* the register is the destination (loads, r,r/m) */
#define INSN_F_IMM BIT(1)     /* the source is insn.imm, not a register */
#define INSN_F_ZX BIT(2)      /* MOVZX: zero-extend size -> reg_size */
#define INSN_F_SX BIT(3)      /* MOVSX/MOVSXD: sign-extend size -> reg_size */
#define INSN_F_STRING BIT(4)  /* string ops: RSI/RDI/RCX in addr_size */
#define INSN_F_REP BIT(5)     /* F3 (REP; REPE on CMPS/SCAS) */
#define INSN_F_REPNE BIT(6)   /* F2 (REPNE); acts as REP on STOS/LODS/MOVS/INS/OUTS */
#define INSN_F_LOCK BIT(7)    /* F0 */
#define INSN_F_RIP_REL BIT(8) /* 64-bit RIP-relative memory operand */
#define INSN_F_MOFFS BIT(9)   /* A0-A3: no ModRM, an address-sized offset */

/* Segment override prefixes, in the encoding order of Sreg (SDM 2 3.1.1.3) */
enum insn_seg {
	INSN_SEG_ES = 0,
	INSN_SEG_CS,
	INSN_SEG_SS,
	INSN_SEG_DS,
	INSN_SEG_FS,
	INSN_SEG_GS,
	INSN_SEG_NONE,
};

/* A decoded instruction. */
struct insn {
	u8 len;		/* bytes, prefixes included */
	u8 mode;	/* enum insn_mode it was decoded for */
	u8 op;		/* enum insn_op */
	u8 dir;		/* INSN_READ / INSN_WRITE / INSN_RMW */
	u8 size;	/* bytes accessed in memory: 1, 2, 4 or 8 */
	u8 reg_size;	/* the register operand's size; differs from size only
			   for MOVZX/MOVSX/MOVSXD */
	u8 addr_size;	/* 2, 4 or 8 */
	u8 reg;		/* the register operand, a GPR index (enum gpr order);
			   string and moffs forms use RAX; CMPXCHG's source
			   (its accumulator is RAX) */
	bool reg_high8; /* the register is AH, CH, DH or BH: bits 15:8 of
			   gpr[reg], reg being 0..3 (no REX prefix) */
	u8 seg;		/* enum insn_seg; in 64-bit mode only FS and GS count,
			   the others are recorded as INSN_SEG_NONE */
	u8 rex;		/* the REX prefix in effect, 0 if none */
	u8 opcode;	/* the last opcode byte */
	bool twobyte;	/* opcode is in the 0F map */
	u8 modrm, sib;	/* when present */
	u16 flags;	/* INSN_F_* */
	s64 disp;	/* ModRM displacement (sign-extended), or the moffs */
	u64 imm;	/* immediate, sign-extended to 64 bits as the opcode
			   defines; the emulator truncates it to size */
};

/*
 * The guest's code size from its state: vm86 = RFLAGS.VM, lma = EFER.LMA,
 * cs_l / cs_db = the L and D/B attributes of the CS descriptor cache. The
 * processor decodes by the cached CS.D in real mode too; after reset and any
 * real-mode CS load it is 0, giving 16-bit code.
 */
static inline enum insn_mode insn_cpu_mode(bool vm86, bool lma, bool cs_l, bool cs_db)
{
	if (lma && cs_l)
		return INSN_MODE_64;
	if (vm86 || !cs_db)
		return INSN_MODE_16;
	return INSN_MODE_32;
}

/*
 * Decodes the instruction in bytes[0..avail). Returns 0, -E_INVAL when avail
 * ends inside the instruction (nothing past avail is read), -E_TOOBIG when
 * it would exceed INSN_MAX_LEN bytes (#GP on hardware), -E_NOSUPP when it is
 * not one of the instructions above, has no memory operand, or is invalid
 * (LOCK where #UD; 82h or 63h in the wrong mode).
 */
int insn_decode(struct insn *d, const u8 *bytes, size_t avail, enum insn_mode mode);
