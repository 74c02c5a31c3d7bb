/*
 * The MMIO instruction decoder and emulator (hv/insn/).
 *
 * Decoder: a table of encodings in all three modes, each with the source
 * instruction as objdump prints it (bytes assembled by GNU as, or written by
 * hand and checked with `objdump -D -b binary -m i386:x86-64 | i386 | i8086`),
 * every truncation of each, prefix rules and the 15-byte limit.
 * Emulator: the arithmetic against the host CPU itself (the same instruction
 * run with inline assembly on random operands is the oracle for the result
 * and the flags), register merging rules on all 16 registers and AH..BH,
 * and the string instructions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/insn/emulate.h"
#include "hv/insn/prefix.h"
#include "hv/vcpu/vcpu.h"
#include "tests/unit/test_support.h"

#define M16 INSN_MODE_16
#define M32 INSN_MODE_32
#define M64 INSN_MODE_64

#define R INSN_READ
#define W INSN_WRITE
#define RMW INSN_RMW

#define RD INSN_F_REG_DST
#define IM INSN_F_IMM
#define ZX INSN_F_ZX
#define SX INSN_F_SX
#define STR INSN_F_STRING
#define REP INSN_F_REP
#define REPNE INSN_F_REPNE
#define LCK INSN_F_LOCK
#define RIP INSN_F_RIP_REL
#define MOF INSN_F_MOFFS

#define NOSEG INSN_SEG_NONE

#define ARITH_FLAGS 0x8d5ULL /* CF PF AF ZF SF OF */
#define FLAG_CF 0x1ULL
#define FLAG_AF 0x10ULL
#define FLAG_DF 0x400ULL

struct dcase {
	const char *src;
	u8 mode;
	const char *bytes;
	u8 n;
	u8 op, dir, size, reg_size, addr_size, reg;
	bool high8;
	u8 seg;
	u16 flags;
	u64 imm;
};

#define B(s) s, (u8)(sizeof(s) - 1)
/* clang-format off */
#define D(mode, src, bytes, op, dir, size, rsize, asize, reg, hi, seg, flags, imm) \
	{ src, mode, B(bytes), INSN_OP_##op, dir, size, rsize, asize, reg, hi, seg, flags, imm }
/* clang-format on */

#define P13 "\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e\x2e"

static const struct dcase dcases[] = {
	/* 64-bit mode: sizes, all register kinds, addressing forms */
	D(M64, "movl %ecx,(%rax)", "\x89\x08", MOV, W, 4, 4, 8, 1, 0, NOSEG, 0, 0),
	D(M64, "movq %rcx,(%rax)", "\x48\x89\x08", MOV, W, 8, 8, 8, 1, 0, NOSEG, 0, 0),
	D(M64, "movw %cx,(%rax)", "\x66\x89\x08", MOV, W, 2, 2, 8, 1, 0, NOSEG, 0, 0),
	D(M64, "movb %cl,(%rax)", "\x88\x08", MOV, W, 1, 1, 8, 1, 0, NOSEG, 0, 0),
	D(M64, "movb %ah,(%rax)", "\x88\x20", MOV, W, 1, 1, 8, 0, 1, NOSEG, 0, 0),
	D(M64, "movb %bh,(%rcx)", "\x88\x39", MOV, W, 1, 1, 8, 3, 1, NOSEG, 0, 0),
	D(M64, "movb %ch,0x7f(%rdx)", "\x88\x6a\x7f", MOV, W, 1, 1, 8, 1, 1, NOSEG, 0, 0),
	D(M64, "movb (%rsi),%dh", "\x8a\x36", MOV, R, 1, 1, 8, 2, 1, NOSEG, RD, 0),
	D(M64, "movb %spl,(%rax)", "\x40\x88\x20", MOV, W, 1, 1, 8, 4, 0, NOSEG, 0, 0),
	D(M64, "movb %sil,(%rax)", "\x40\x88\x30", MOV, W, 1, 1, 8, 6, 0, NOSEG, 0, 0),
	D(M64, "movb %r8b,(%rax)", "\x44\x88\x00", MOV, W, 1, 1, 8, 8, 0, NOSEG, 0, 0),
	D(M64, "movl %r15d,(%rax)", "\x44\x89\x38", MOV, W, 4, 4, 8, 15, 0, NOSEG, 0, 0),
	D(M64, "movq %r9,(%r10)", "\x4d\x89\x0a", MOV, W, 8, 8, 8, 9, 0, NOSEG, 0, 0),
	D(M64, "movl (%rax),%edx", "\x8b\x10", MOV, R, 4, 4, 8, 2, 0, NOSEG, RD, 0),
	D(M64, "movq 0x10(%rbx),%r11", "\x4c\x8b\x5b\x10", MOV, R, 8, 8, 8, 11, 0, NOSEG, RD, 0),
	D(M64, "movl 0xfee000f0,%eax", "\x8b\x04\x25\xf0\x00\xe0\xfe", MOV, R, 4, 4, 8, 0, 0, NOSEG,
	  RD, 0),
	D(M64, "movl 0x100(%rip),%eax", "\x8b\x05\x00\x01\x00\x00", MOV, R, 4, 4, 8, 0, 0, NOSEG,
	  RD | RIP, 0),
	D(M64, "movl %eax,(%r12)", "\x41\x89\x04\x24", MOV, W, 4, 4, 8, 0, 0, NOSEG, 0, 0),
	D(M64, "movl %eax,0x0(%r13)", "\x41\x89\x45\x00", MOV, W, 4, 4, 8, 0, 0, NOSEG, 0, 0),
	D(M64, "movl %eax,0x0(%rbp,%rbx,8)", "\x89\x44\xdd\x00", MOV, W, 4, 4, 8, 0, 0, NOSEG, 0,
	  0),
	D(M64, "movl %eax,0x12345678(,%rbx,8)", "\x89\x04\xdd\x78\x56\x34\x12", MOV, W, 4, 4, 8, 0,
	  0, NOSEG, 0, 0),
	D(M64, "movl %eax,%gs:0x10", "\x65\x89\x04\x25\x10\x00\x00\x00", MOV, W, 4, 4, 8, 0, 0,
	  INSN_SEG_GS, 0, 0),
	D(M64, "movl %eax,%fs:(%rax)", "\x64\x89\x00", MOV, W, 4, 4, 8, 0, 0, INSN_SEG_FS, 0, 0),
	D(M64, "ds movl %eax,(%rax)", "\x3e\x89\x00", MOV, W, 4, 4, 8, 0, 0, NOSEG, 0, 0),
	D(M64, "movl %eax,(%eax)", "\x67\x89\x00", MOV, W, 4, 4, 4, 0, 0, NOSEG, 0, 0),
	D(M64, "movl $0x12345678,0x300(%rdi)", "\xc7\x87\x00\x03\x00\x00\x78\x56\x34\x12", MOV, W,
	  4, 4, 8, 0, 0, NOSEG, IM, 0x12345678),
	D(M64, "movq $0xffffffffffffffff,(%rax)", "\x48\xc7\x00\xff\xff\xff\xff", MOV, W, 8, 8, 8,
	  0, 0, NOSEG, IM, ~0ULL),
	D(M64, "movb $0x5a,(%rax,%rcx,4)", "\xc6\x04\x88\x5a", MOV, W, 1, 1, 8, 0, 0, NOSEG, IM,
	  0x5a),
	D(M64, "movw $0x1234,(%rax)", "\x66\xc7\x00\x34\x12", MOV, W, 2, 2, 8, 0, 0, NOSEG, IM,
	  0x1234),
	D(M64, "movabsl 0xfee00020,%eax", "\xa1\x20\x00\xe0\xfe\x00\x00\x00\x00", MOV, R, 4, 4, 8,
	  0, 0, NOSEG, RD | MOF, 0),
	D(M64, "movabsb %al,0xfee00020", "\xa2\x20\x00\xe0\xfe\x00\x00\x00\x00", MOV, W, 1, 1, 8, 0,
	  0, NOSEG, MOF, 0),
	D(M64, "movabsq 0xfee00020,%rax", "\x48\xa1\x20\x00\xe0\xfe\x00\x00\x00\x00", MOV, R, 8, 8,
	  8, 0, 0, NOSEG, RD | MOF, 0),
	D(M64, "movzbl (%rax),%ecx", "\x0f\xb6\x08", MOV, R, 1, 4, 8, 1, 0, NOSEG, RD | ZX, 0),
	D(M64, "movzwl (%rax),%ecx", "\x0f\xb7\x08", MOV, R, 2, 4, 8, 1, 0, NOSEG, RD | ZX, 0),
	D(M64, "movzbw (%rax),%cx", "\x66\x0f\xb6\x08", MOV, R, 1, 2, 8, 1, 0, NOSEG, RD | ZX, 0),
	D(M64, "movsbq (%rax),%rcx", "\x48\x0f\xbe\x08", MOV, R, 1, 8, 8, 1, 0, NOSEG, RD | SX, 0),
	D(M64, "movswl (%rax),%ecx", "\x0f\xbf\x08", MOV, R, 2, 4, 8, 1, 0, NOSEG, RD | SX, 0),
	D(M64, "movslq (%rax),%rcx", "\x48\x63\x08", MOV, R, 4, 8, 8, 1, 0, NOSEG, RD | SX, 0),
	/* arithmetic, TEST, XCHG, bit tests */
	D(M64, "addl %ecx,(%rax)", "\x01\x08", ADD, RMW, 4, 4, 8, 1, 0, NOSEG, 0, 0),
	D(M64, "addl (%rax),%ecx", "\x03\x08", ADD, R, 4, 4, 8, 1, 0, NOSEG, RD, 0),
	D(M64, "adcl %ecx,(%rax)", "\x11\x08", ADC, RMW, 4, 4, 8, 1, 0, NOSEG, 0, 0),
	D(M64, "sbbl (%rax),%ecx", "\x1b\x08", SBB, R, 4, 4, 8, 1, 0, NOSEG, RD, 0),
	D(M64, "lock orl $0x1,(%rax)", "\xf0\x83\x08\x01", OR, RMW, 4, 4, 8, 0, 0, NOSEG, IM | LCK,
	  1),
	D(M64, "andl $0xfffffffe,(%rax)", "\x83\x20\xfe", AND, RMW, 4, 4, 8, 0, 0, NOSEG, IM,
	  ~1ULL),
	D(M64, "andl $0x7fffffff,(%rax)", "\x81\x20\xff\xff\xff\x7f", AND, RMW, 4, 4, 8, 0, 0,
	  NOSEG, IM, 0x7fffffff),
	D(M64, "xorb $0x80,(%rax)", "\x80\x30\x80", XOR, RMW, 1, 1, 8, 0, 0, NOSEG, IM, ~0x7fULL),
	D(M64, "orw $0x8000,(%rax)", "\x66\x81\x08\x00\x80", OR, RMW, 2, 2, 8, 0, 0, NOSEG, IM,
	  ~0x7fffULL),
	D(M64, "subq $0x10,0x8(%rsp)", "\x48\x83\x6c\x24\x08\x10", SUB, RMW, 8, 8, 8, 0, 0, NOSEG,
	  IM, 0x10),
	D(M64, "cmpl $0x0,0x30(%rbp)", "\x83\x7d\x30\x00", CMP, R, 4, 4, 8, 0, 0, NOSEG, IM, 0),
	D(M64, "cmpl %ecx,(%rax)", "\x39\x08", CMP, R, 4, 4, 8, 1, 0, NOSEG, 0, 0),
	D(M64, "lock andb %r10b,(%rdi)", "\xf0\x44\x20\x17", AND, RMW, 1, 1, 8, 10, 0, NOSEG, LCK,
	  0),
	D(M64, "testl $0x1,(%rax)", "\xf7\x00\x01\x00\x00\x00", TEST, R, 4, 4, 8, 0, 0, NOSEG, IM,
	  1),
	D(M64, "testb $0x1,(%rax)", "\xf6\x00\x01", TEST, R, 1, 1, 8, 0, 0, NOSEG, IM, 1),
	D(M64, "testl %ecx,(%rax)", "\x85\x08", TEST, R, 4, 4, 8, 1, 0, NOSEG, 0, 0),
	D(M64, "xchgl %ecx,(%rax)", "\x87\x08", XCHG, RMW, 4, 4, 8, 1, 0, NOSEG, 0, 0),
	D(M64, "btl $0x3,(%rax)", "\x0f\xba\x20\x03", BT, R, 4, 4, 8, 0, 0, NOSEG, IM, 3),
	D(M64, "btsl %ecx,(%rax)", "\x0f\xab\x08", BTS, RMW, 4, 4, 8, 1, 0, NOSEG, 0, 0),
	D(M64, "lock btsl $0x5,(%rax)", "\xf0\x0f\xba\x28\x05", BTS, RMW, 4, 4, 8, 0, 0, NOSEG,
	  IM | LCK, 5),
	/* strings */
	D(M64, "rep stosl %eax,%es:(%rdi)", "\xf3\xab", STOS, W, 4, 4, 8, 0, 0, NOSEG, STR | REP,
	  0),
	D(M64, "stosb %al,%es:(%rdi)", "\xaa", STOS, W, 1, 1, 8, 0, 0, NOSEG, STR, 0),
	D(M64, "rep stosq %rax,%es:(%rdi)", "\xf3\x48\xab", STOS, W, 8, 8, 8, 0, 0, NOSEG,
	  STR | REP, 0),
	D(M64, "repnz stosl %eax,%es:(%rdi)", "\xf2\xab", STOS, W, 4, 4, 8, 0, 0, NOSEG,
	  STR | REPNE, 0),
	D(M64, "repnz rep stosl (last wins)", "\xf2\xf3\xab", STOS, W, 4, 4, 8, 0, 0, NOSEG,
	  STR | REP, 0),
	D(M64, "movsb %ds:(%rsi),%es:(%rdi)", "\xa4", MOVS, RMW, 1, 1, 8, 0, 0, NOSEG, STR, 0),
	D(M64, "rep movsl %ds:(%rsi),%es:(%rdi)", "\xf3\xa5", MOVS, RMW, 4, 4, 8, 0, 0, NOSEG,
	  STR | REP, 0),
	D(M64, "lodsl %ds:(%rsi),%eax", "\xad", LODS, R, 4, 4, 8, 0, 0, NOSEG, STR | RD, 0),
	D(M64, "cmpsb %es:(%rdi),%ds:(%rsi)", "\xa6", CMPS, R, 1, 1, 8, 0, 0, NOSEG, STR, 0),
	D(M64, "repz cmpsl %es:(%rdi),%ds:(%rsi)", "\xf3\xa7", CMPS, R, 4, 4, 8, 0, 0, NOSEG,
	  STR | REP, 0),
	D(M64, "repnz cmpsq %es:(%rdi),%ds:(%rsi)", "\xf2\x48\xa7", CMPS, R, 8, 8, 8, 0, 0, NOSEG,
	  STR | REPNE, 0),
	D(M64, "cmpsw %es:(%rdi),%fs:(%rsi)", "\x64\x66\xa7", CMPS, R, 2, 2, 8, 0, 0, INSN_SEG_FS,
	  STR, 0),
	D(M64, "scas %es:(%rdi),%al", "\xae", SCAS, R, 1, 1, 8, 0, 0, NOSEG, STR, 0),
	D(M64, "repz scas %es:(%rdi),%eax", "\xf3\xaf", SCAS, R, 4, 4, 8, 0, 0, NOSEG, STR | REP,
	  0),
	D(M64, "repnz scas %es:(%rdi),%rax", "\xf2\x48\xaf", SCAS, R, 8, 8, 8, 0, 0, NOSEG,
	  STR | REPNE, 0),
	D(M64, "insb (%dx),%es:(%rdi)", "\x6c", INS, W, 1, 1, 8, 0, 0, NOSEG, STR, 0),
	D(M64, "rep insl (%dx),%es:(%rdi)", "\xf3\x6d", INS, W, 4, 4, 8, 0, 0, NOSEG, STR | REP, 0),
	D(M64, "insw (%dx),%es:(%rdi)", "\x66\x6d", INS, W, 2, 2, 8, 0, 0, NOSEG, STR, 0),
	D(M64, "outsb %ds:(%rsi),(%dx)", "\x6e", OUTS, R, 1, 1, 8, 0, 0, NOSEG, STR, 0),
	D(M64, "rep outsw %ds:(%rsi),(%dx)", "\x66\xf3\x6f", OUTS, R, 2, 2, 8, 0, 0, NOSEG,
	  STR | REP, 0),
	D(M64, "outsl %gs:(%rsi),(%dx)", "\x65\x6f", OUTS, R, 4, 4, 8, 0, 0, INSN_SEG_GS, STR, 0),
	D(M64, "rex.W outsl %ds:(%rsi),(%dx) (32 bits)", "\x48\x6f", OUTS, R, 4, 4, 8, 0, 0, NOSEG,
	  STR, 0),
	D(M64, "rep insb (%dx),%es:(%edi)", "\x67\xf3\x6c", INS, W, 1, 1, 4, 0, 0, NOSEG, STR | REP,
	  0),
	/* read-modify-write */
	D(M64, "lock xadd %eax,(%rax)", "\xf0\x0f\xc1\x00", XADD, RMW, 4, 4, 8, 0, 0, NOSEG, LCK,
	  0),
	D(M64, "xadd %cl,(%rbx)", "\x0f\xc0\x0b", XADD, RMW, 1, 1, 8, 1, 0, NOSEG, 0, 0),
	D(M64, "xadd %r9,0x10(%rdi)", "\x4c\x0f\xc1\x4f\x10", XADD, RMW, 8, 8, 8, 9, 0, NOSEG, 0,
	  0),
	D(M64, "lock cmpxchg %ecx,(%rax)", "\xf0\x0f\xb1\x08", CMPXCHG, RMW, 4, 4, 8, 1, 0, NOSEG,
	  LCK, 0),
	D(M64, "cmpxchg %ah,(%rdx)", "\x0f\xb0\x22", CMPXCHG, RMW, 1, 1, 8, 0, 1, NOSEG, 0, 0),
	D(M64, "cmpxchg %r8,(%rax)", "\x4c\x0f\xb1\x00", CMPXCHG, RMW, 8, 8, 8, 8, 0, NOSEG, 0, 0),
	D(M64, "cmpxchg %cx,(%rax)", "\x66\x0f\xb1\x08", CMPXCHG, RMW, 2, 2, 8, 1, 0, NOSEG, 0, 0),
	D(M64, "notb (%rax)", "\xf6\x10", NOT, RMW, 1, 1, 8, 0, 0, NOSEG, 0, 0),
	D(M64, "notl 0x8(%rax)", "\xf7\x50\x08", NOT, RMW, 4, 4, 8, 0, 0, NOSEG, 0, 0),
	D(M64, "lock negq (%rax)", "\xf0\x48\xf7\x18", NEG, RMW, 8, 8, 8, 0, 0, NOSEG, LCK, 0),
	D(M64, "negw (%rax)", "\x66\xf7\x18", NEG, RMW, 2, 2, 8, 0, 0, NOSEG, 0, 0),
	D(M64, "incl (%rax)", "\xff\x00", INC, RMW, 4, 4, 8, 0, 0, NOSEG, 0, 0),
	D(M64, "lock incb (%rax)", "\xf0\xfe\x00", INC, RMW, 1, 1, 8, 0, 0, NOSEG, LCK, 0),
	D(M64, "decq (%rax)", "\x48\xff\x08", DEC, RMW, 8, 8, 8, 0, 0, NOSEG, 0, 0),
	D(M64, "decw (%rax)", "\x66\xff\x08", DEC, RMW, 2, 2, 8, 0, 0, NOSEG, 0, 0),
	D(M64, "lock decl (%rax)", "\xf0\xff\x08", DEC, RMW, 4, 4, 8, 0, 0, NOSEG, LCK, 0),
	D(M64, "testl $0x80,(%rax)", "\xf7\x00\x80\x00\x00\x00", TEST, R, 4, 4, 8, 0, 0, NOSEG, IM,
	  0x80),
	/* prefix rules: REX only right before the opcode; REX.W beats 66 */
	D(M64, "rex.W data16 mov %cx,(%rax)", "\x48\x66\x89\x08", MOV, W, 2, 2, 8, 1, 0, NOSEG, 0,
	  0),
	D(M64, "data16 mov %rcx,(%rax)", "\x66\x48\x89\x08", MOV, W, 8, 8, 8, 1, 0, NOSEG, 0, 0),
	/* exactly 15 bytes */
	D(M64, "lock addq $0x11223344,%fs:0x55667788(%eax,%ecx,4)",
	  "\x64\x67\xf0\x48\x81\x84\x88\x88\x77\x66\x55\x44\x33\x22\x11", ADD, RMW, 8, 8, 4, 0, 0,
	  INSN_SEG_FS, IM | LCK, 0x11223344),

	/* 32-bit mode */
	D(M32, "movl %ecx,(%eax)", "\x89\x08", MOV, W, 4, 4, 4, 1, 0, NOSEG, 0, 0),
	D(M32, "movw %cx,(%eax)", "\x66\x89\x08", MOV, W, 2, 2, 4, 1, 0, NOSEG, 0, 0),
	D(M32, "movl 0xfee00020,%eax", "\xa1\x20\x00\xe0\xfe", MOV, R, 4, 4, 4, 0, 0, NOSEG,
	  RD | MOF, 0),
	D(M32, "movl %eax,0xfee00300", "\xa3\x00\x03\xe0\xfe", MOV, W, 4, 4, 4, 0, 0, NOSEG, MOF,
	  0),
	D(M32, "movl %eax,-0x11ffd00(%ebx)", "\x89\x83\x00\x03\xe0\xfe", MOV, W, 4, 4, 4, 0, 0,
	  NOSEG, 0, 0),
	D(M32, "movl %eax,(%bx,%si)", "\x67\x89\x00", MOV, W, 4, 4, 2, 0, 0, NOSEG, 0, 0),
	D(M32, "addr16 movl %eax,0x1234", "\x67\xa3\x34\x12", MOV, W, 4, 4, 2, 0, 0, NOSEG, MOF, 0),
	D(M32, "addb $0x1,(%eax)", "\x80\x00\x01", ADD, RMW, 1, 1, 4, 0, 0, NOSEG, IM, 1),
	D(M32, "addb $0x1,(%eax) (82 alias)", "\x82\x00\x01", ADD, RMW, 1, 1, 4, 0, 0, NOSEG, IM,
	  1),
	D(M32, "rep stosl %eax,%es:(%edi)", "\xf3\xab", STOS, W, 4, 4, 4, 0, 0, NOSEG, STR | REP,
	  0),
	D(M32, "movzbl (%eax),%ecx", "\x0f\xb6\x08", MOV, R, 1, 4, 4, 1, 0, NOSEG, RD | ZX, 0),
	D(M32, "movl %ecx,%es:(%eax)", "\x26\x89\x08", MOV, W, 4, 4, 4, 1, 0, INSN_SEG_ES, 0, 0),
	D(M32, "movw $0x1234,0x10(%esi)", "\x66\xc7\x46\x10\x34\x12", MOV, W, 2, 2, 4, 0, 0, NOSEG,
	  IM, 0x1234),
	D(M32, "movb %ah,(%ebx)", "\x88\x23", MOV, W, 1, 1, 4, 0, 1, NOSEG, 0, 0),
	D(M32, "movl (%esp),%edi", "\x8b\x3c\x24", MOV, R, 4, 4, 4, 7, 0, NOSEG, RD, 0),
	D(M32, "rep outsb %ds:(%esi),(%dx)", "\xf3\x6e", OUTS, R, 1, 1, 4, 0, 0, NOSEG, STR | REP,
	  0),
	D(M32, "insl (%dx),%es:(%edi)", "\x6d", INS, W, 4, 4, 4, 0, 0, NOSEG, STR, 0),
	D(M32, "lock xadd %ax,(%ebx)", "\x66\xf0\x0f\xc1\x03", XADD, RMW, 2, 2, 4, 0, 0, NOSEG, LCK,
	  0),
	D(M32, "incl (%eax)", "\xff\x00", INC, RMW, 4, 4, 4, 0, 0, NOSEG, 0, 0),
	D(M32, "decb 0x10(%ebx)", "\xfe\x4b\x10", DEC, RMW, 1, 1, 4, 0, 0, NOSEG, 0, 0),
	D(M32, "notw (%eax)", "\x66\xf7\x10", NOT, RMW, 2, 2, 4, 0, 0, NOSEG, 0, 0),
	D(M32, "cmpxchg %ebx,(%eax)", "\x0f\xb1\x18", CMPXCHG, RMW, 4, 4, 4, 3, 0, NOSEG, 0, 0),
	D(M32, "repz cmpsw %es:(%edi),%ds:(%esi)", "\x66\xf3\xa7", CMPS, R, 2, 2, 4, 0, 0, NOSEG,
	  STR | REP, 0),
	D(M32, "scas %es:(%edi),%eax", "\xaf", SCAS, R, 4, 4, 4, 0, 0, NOSEG, STR, 0),
	D(M32, "13 x cs; movl %ecx,%cs:(%eax)", P13 "\x89\x08", MOV, W, 4, 4, 4, 1, 0, INSN_SEG_CS,
	  0, 0),

	/* 16-bit mode */
	D(M16, "movw %ax,(%bx)", "\x89\x07", MOV, W, 2, 2, 2, 0, 0, NOSEG, 0, 0),
	D(M16, "movl %eax,(%bx)", "\x66\x89\x07", MOV, W, 4, 4, 2, 0, 0, NOSEG, 0, 0),
	D(M16, "movw 0x0(%bp),%ax", "\x8b\x46\x00", MOV, R, 2, 2, 2, 0, 0, NOSEG, RD, 0),
	D(M16, "movw 0x1234,%ax", "\xa1\x34\x12", MOV, R, 2, 2, 2, 0, 0, NOSEG, RD | MOF, 0),
	D(M16, "movw %ax,0x1234", "\x89\x06\x34\x12", MOV, W, 2, 2, 2, 0, 0, NOSEG, 0, 0),
	D(M16, "movw %ax,0x1234(%bx,%si)", "\x89\x80\x34\x12", MOV, W, 2, 2, 2, 0, 0, NOSEG, 0, 0),
	D(M16, "movw %ax,(%eax)", "\x67\x89\x00", MOV, W, 2, 2, 4, 0, 0, NOSEG, 0, 0),
	D(M16, "movw %ax,(%esp)", "\x67\x89\x04\x24", MOV, W, 2, 2, 4, 0, 0, NOSEG, 0, 0),
	D(M16, "movw $0x5678,(%di)", "\xc7\x05\x78\x56", MOV, W, 2, 2, 2, 0, 0, NOSEG, IM, 0x5678),
	D(M16, "movl $0x12345678,(%di)", "\x66\xc7\x05\x78\x56\x34\x12", MOV, W, 4, 4, 2, 0, 0,
	  NOSEG, IM, 0x12345678),
	D(M16, "rep stosw %ax,%es:(%di)", "\xf3\xab", STOS, W, 2, 2, 2, 0, 0, NOSEG, STR | REP, 0),
	D(M16, "movb 0x1234,%al", "\xa0\x34\x12", MOV, R, 1, 1, 2, 0, 0, NOSEG, RD | MOF, 0),
	D(M16, "movzbw (%si),%cx", "\x0f\xb6\x0c", MOV, R, 1, 2, 2, 1, 0, NOSEG, RD | ZX, 0),
	D(M16, "movb %cs:(%bx),%dl", "\x2e\x8a\x17", MOV, R, 1, 1, 2, 2, 0, INSN_SEG_CS, RD, 0),
	D(M16, "rep insw (%dx),%es:(%di)", "\xf3\x6d", INS, W, 2, 2, 2, 0, 0, NOSEG, STR | REP, 0),
	D(M16, "outsb %ds:(%si),(%dx)", "\x6e", OUTS, R, 1, 1, 2, 0, 0, NOSEG, STR, 0),
	D(M16, "repz cmpsb %es:(%di),%ds:(%si)", "\xf3\xa6", CMPS, R, 1, 1, 2, 0, 0, NOSEG,
	  STR | REP, 0),
	D(M16, "incw (%bx)", "\xff\x07", INC, RMW, 2, 2, 2, 0, 0, NOSEG, 0, 0),
	D(M16, "lock xadd %ax,(%bx,%si)", "\xf0\x0f\xc1\x00", XADD, RMW, 2, 2, 2, 0, 0, NOSEG, LCK,
	  0),
	D(M16, "andw $0xfff0,-0x2(%bp,%di)", "\x83\x63\xfe\xf0", AND, RMW, 2, 2, 2, 0, 0, NOSEG, IM,
	  ~0xfULL),
};

/* Names the case before failing, so a mismatch says which encoding. */
#define EXPECT_EQ(src, a, b)                                \
	do {                                                \
		if ((u64)(a) != (u64)(b)) {                 \
			print_message("%s: %s\n", src, #a); \
			assert_int_equal(a, b);             \
		}                                           \
	} while (0)

static void check_case(const struct dcase *c, const struct insn *d)
{
	EXPECT_EQ(c->src, d->len, c->n);
	EXPECT_EQ(c->src, d->op, c->op);
	EXPECT_EQ(c->src, d->dir, c->dir);
	EXPECT_EQ(c->src, d->size, c->size);
	EXPECT_EQ(c->src, d->reg_size, c->reg_size);
	EXPECT_EQ(c->src, d->addr_size, c->addr_size);
	EXPECT_EQ(c->src, d->reg, c->reg);
	EXPECT_EQ(c->src, d->reg_high8, c->high8);
	EXPECT_EQ(c->src, d->seg, c->seg);
	EXPECT_EQ(c->src, d->flags, c->flags);
	EXPECT_EQ(c->src, d->imm, c->imm);
	EXPECT_EQ(c->src, d->mode, c->mode);
}

/* Decodes from a heap copy of exactly n bytes, so ASan catches any overread. */
static int decode_exact(struct insn *d, const char *bytes, size_t n, u8 mode)
{
	u8 *buf = malloc(n ? n : 1);
	int ret;

	memcpy(buf, bytes, n);
	ret = insn_decode(d, buf, n, mode);
	free(buf);
	return ret;
}

static void test_decode_table(void **state)
{
	struct insn d;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dcases); i++) {
		const struct dcase *c = &dcases[i];

		EXPECT_EQ(c->src, decode_exact(&d, c->bytes, c->n, c->mode), 0);
		check_case(c, &d);
		/* trailing bytes change nothing */
		char more[32];

		memcpy(more, c->bytes, c->n);
		memset(more + c->n, 0x90, sizeof(more) - c->n);
		assert_int_equal(insn_decode(&d, (const u8 *)more, sizeof(more), c->mode), 0);
		check_case(c, &d);
	}
}

static void test_decode_truncated(void **state)
{
	struct insn d;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(dcases); i++)
		for (u8 n = 0; n < dcases[i].n; n++)
			EXPECT_EQ(dcases[i].src,
				  decode_exact(&d, dcases[i].bytes, n, dcases[i].mode), -E_INVAL);
}

static void test_decode_displacements(void **state)
{
	struct insn d;

	(void)state;
	assert_int_equal(decode_exact(&d, B("\x89\x04\xdd\x78\x56\x34\x12"), M64), 0);
	assert_int_equal(d.disp, 0x12345678);
	assert_int_equal(d.sib, 0xdd);
	assert_int_equal(decode_exact(&d, B("\x83\x63\xfe\xf0"), M16), 0);
	assert_int_equal(d.disp, -2);
	assert_int_equal(decode_exact(&d, B("\x89\x83\x00\x03\xe0\xfe"), M32), 0);
	assert_int_equal(d.disp, -0x11ffd00);
	assert_int_equal(decode_exact(&d, B("\xa1\x20\x00\xe0\xfe\x00\x00\x00\x00"), M64), 0);
	assert_int_equal(d.disp, 0xfee00020);
	assert_int_equal(decode_exact(&d, B("\x48\x89\x08"), M64), 0);
	assert_int_equal(d.rex, 0x48);
	assert_int_equal(d.opcode, 0x89);
	assert_false(d.twobyte);
	assert_int_equal(decode_exact(&d, B("\x0f\xb7\x08"), M64), 0);
	assert_int_equal(d.opcode, 0xb7);
	assert_true(d.twobyte);
}

struct ecase {
	const char *src;
	u8 mode;
	const char *bytes;
	u8 n;
	int err;
};

/* clang-format off */
#define E(mode, src, bytes, err) { src, mode, B(bytes), err }
/* clang-format on */
#define P13_66 "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66"
#define P14 "\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66\x66"

static const struct ecase ecases[] = {
	E(M64, "movl %ecx,%eax (no memory operand)", "\x89\xc8", -E_NOSUPP),
	E(M64, "addl $1,%eax (no memory operand)", "\x83\xc0\x01", -E_NOSUPP),
	E(M64, "lock movl %ecx,(%rax): #UD", "\xf0\x89\x08", -E_NOSUPP),
	E(M64, "lock cmpl %ecx,(%rax): #UD", "\xf0\x39\x08", -E_NOSUPP),
	E(M64, "lock addl (%rax),%ecx: #UD", "\xf0\x03\x08", -E_NOSUPP),
	E(M64, "lock btl $3,(%rax): #UD", "\xf0\x0f\xba\x20\x03", -E_NOSUPP),
	E(M64, "lock stosb: #UD", "\xf0\xaa", -E_NOSUPP),
	E(M64, "lock cmpsb: #UD", "\xf0\xa6", -E_NOSUPP),
	E(M64, "lock insb: #UD", "\xf0\x6c", -E_NOSUPP),
	E(M64, "lock testl $1,(%rax): #UD", "\xf0\xf7\x00\x01\x00\x00\x00", -E_NOSUPP),
	E(M64, "call *(%rax) (ff /2)", "\xff\x10", -E_NOSUPP),
	E(M64, "pushq (%rax) (ff /6)", "\xff\x30", -E_NOSUPP),
	E(M64, "mull (%rax) (f7 /4)", "\xf7\x20", -E_NOSUPP),
	E(M64, "fe /2 is not defined", "\xfe\x10", -E_NOSUPP),
	E(M64, "cmpxchg16b (%rax)", "\x48\x0f\xc7\x08", -E_NOSUPP),
	E(M64, "incl %eax (no memory operand)", "\xff\xc0", -E_NOSUPP),
	E(M64, "movups (%rax),%xmm1", "\x0f\x10\x08", -E_NOSUPP),
	E(M64, "vmovdqa (%rax),%xmm0", "\xc5\xf9\x6f\x00", -E_NOSUPP),
	E(M64, "c6 /1", "\xc6\x08\x00", -E_NOSUPP),
	E(M64, "0f ba /0", "\x0f\xba\x00\x01", -E_NOSUPP),
	E(M64, "82 is invalid in 64-bit mode", "\x82\x00\x01", -E_NOSUPP),
	E(M64, "0f 38 map", "\x0f\x38\x00\x00", -E_NOSUPP),
	E(M32, "arpl %cx,(%eax)", "\x63\x08", -E_NOSUPP),
	E(M32, "decl %eax (48 is not REX here)", "\x48\x89\x08", -E_NOSUPP),
	E(M64, "14 x 66 + movl: 16 bytes", P14 "\x89\x08", -E_TOOBIG),
	E(M64, "15 prefixes, no opcode", P14 "\x66", -E_TOOBIG),
	E(M64, "16-byte lock add",
	  "\x66\x64\x67\xf0\x48\x81\x84\x88\x88\x77\x66\x55\x44\x33\x22\x11", -E_TOOBIG),
	E(M64, "13 x 66 + movl: 15 bytes", P13_66 "\x89\x08", 0),
};

static void test_decode_errors(void **state)
{
	struct insn d;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ecases); i++) {
		EXPECT_EQ(ecases[i].src,
			  decode_exact(&d, ecases[i].bytes, ecases[i].n, ecases[i].mode),
			  (u64)ecases[i].err);
	}
	assert_int_equal(insn_decode(&d, (const u8 *)"\x89\x08", 2, 3), -E_INVAL);
}

/* --- emulation ------------------------------------------------------------ */

#define DEV_BASE 0xfee00000ULL
#define DEV_SIZE 64
#define RAM_BASE 0x10000ULL
#define RAM_SIZE 4096

static u64 size_mask_u32(u32 size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

struct fake {
	u8 dev[DEV_SIZE];
	u8 ram[RAM_SIZE];
	int reads, writes;
	u64 last_gpa;
	u32 last_size;
	int fail; /* returned by every access when non-zero */
	u64 seg_base[INSN_SEG_NONE];
	int translate_fail; /* returned by translate when non-zero */
	/* ports: what IN reads next (then + 1), what OUT wrote, in order */
	u64 port_next, port_log[64];
	u32 port_ins, port_outs;
	u16 last_port;
};

static u8 *fake_at(struct fake *f, u64 gpa, u32 size)
{
	if (gpa >= DEV_BASE && gpa + size <= DEV_BASE + DEV_SIZE)
		return f->dev + (gpa - DEV_BASE);
	if (gpa >= RAM_BASE && gpa + size <= RAM_BASE + RAM_SIZE)
		return f->ram + (gpa - RAM_BASE);
	fail_msg("access outside fake memory: %#llx+%u", (unsigned long long)gpa, size);
	return NULL;
}

static int fake_read(void *ctx, u64 gpa, u32 size, u64 *val)
{
	struct fake *f = ctx;

	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	f->reads++;
	f->last_gpa = gpa;
	f->last_size = size;
	if (f->fail)
		return f->fail;
	*val = 0;
	memcpy(val, fake_at(f, gpa, size), size);
	return 0;
}

static int fake_write(void *ctx, u64 gpa, u32 size, u64 val)
{
	struct fake *f = ctx;

	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	if (size < 8)
		assert_int_equal(val >> (8 * size), 0);
	f->writes++;
	f->last_gpa = gpa;
	f->last_size = size;
	if (f->fail)
		return f->fail;
	memcpy(fake_at(f, gpa, size), &val, size);
	return 0;
}

static int fake_translate(void *ctx, u8 seg, u64 offset, u32 access, u64 *gpa)
{
	struct fake *f = ctx;

	(void)access;
	assert_true(seg < INSN_SEG_NONE);
	if (f->translate_fail)
		return f->translate_fail;
	*gpa = f->seg_base[seg] + offset;
	return 0;
}

static int fake_port_in(void *ctx, u16 port, u32 size, u64 *val)
{
	struct fake *f = ctx;

	assert_true(size == 1 || size == 2 || size == 4);
	f->port_ins++;
	f->last_port = port;
	f->last_size = size;
	*val = f->port_next++ & size_mask_u32(size);
	return 0;
}

static int fake_port_out(void *ctx, u16 port, u32 size, u64 val)
{
	struct fake *f = ctx;

	assert_true(size == 1 || size == 2 || size == 4);
	assert_int_equal(val >> (8 * size), 0);
	assert_true(f->port_outs < ARRAY_SIZE(f->port_log));
	f->last_port = port;
	f->last_size = size;
	f->port_log[f->port_outs++] = val;
	return 0;
}

static const struct insn_mem_ops fake_ops = {
	.read = fake_read,
	.write = fake_write,
	.translate = fake_translate,
	.port_in = fake_port_in,
	.port_out = fake_port_out,
};

static u64 dev_get(struct fake *f, u32 off, u32 size)
{
	u64 v = 0;

	memcpy(&v, f->dev + off, size);
	return v;
}

static void dev_set(struct fake *f, u32 off, u32 size, u64 v)
{
	memcpy(f->dev + off, &v, size);
}

static struct insn decode_ok(const u8 *bytes, size_t n, u8 mode)
{
	struct insn d;

	assert_int_equal(insn_decode(&d, bytes, n, mode), 0);
	assert_int_equal(d.len, n);
	return d;
}

static u64 size_mask(u8 size)
{
	return size == 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

/* Random operands with a bias to the edges where flags change. */
static u64 operand(u8 size)
{
	static const u64 edges[] = { 0,
				     1,
				     2,
				     0x7f,
				     0x80,
				     0xff,
				     0x7fff,
				     0x8000,
				     0xffff,
				     0x7fffffff,
				     0x80000000,
				     0xffffffff,
				     0x7fffffffffffffffULL,
				     0x8000000000000000ULL,
				     ~0ULL,
				     0xf,
				     0x10 };
	u64 r = rnd();

	if ((r & 3) == 0)
		return edges[(r >> 8) % ARRAY_SIZE(edges)] & size_mask(size);
	if ((r & 3) == 1)
		return (edges[(r >> 8) % ARRAY_SIZE(edges)] + ((r >> 16) & 3) - 1) &
		       size_mask(size);
	return rnd() & size_mask(size);
}

/*
 * The oracle: the host executes `OP src, dst` with the given input flags and
 * returns dst and the flags after it. The stack pointer steps over the red
 * zone before pushf/popf.
 */
#define ORACLE_PRE "lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopf\n\t"
#define ORACLE_POST "\n\tpushf\n\tpop %[f]\n\tlea 128(%%rsp), %%rsp"

#define ORACLE(name, mnem)                                                                \
	static u64 name(u8 size, u64 dst, u64 src, u64 *flags)                            \
	{                                                                                 \
		u64 f = *flags;                                                           \
		switch (size) {                                                           \
		case 1: {                                                                 \
			u8 x = dst;                                                       \
			__asm__ __volatile__(ORACLE_PRE mnem "b %b[s], %b[x]" ORACLE_POST \
					     : [x] "+q"(x), [f] "+r"(f)                   \
					     : [s] "q"((u8)src)                           \
					     : "cc", "memory");                           \
			dst = x;                                                          \
			break;                                                            \
		}                                                                         \
		case 2: {                                                                 \
			u16 x = dst;                                                      \
			__asm__ __volatile__(ORACLE_PRE mnem "w %w[s], %w[x]" ORACLE_POST \
					     : [x] "+r"(x), [f] "+r"(f)                   \
					     : [s] "r"((u16)src)                          \
					     : "cc", "memory");                           \
			dst = x;                                                          \
			break;                                                            \
		}                                                                         \
		case 4: {                                                                 \
			u32 x = dst;                                                      \
			__asm__ __volatile__(ORACLE_PRE mnem "l %k[s], %k[x]" ORACLE_POST \
					     : [x] "+r"(x), [f] "+r"(f)                   \
					     : [s] "r"((u32)src)                          \
					     : "cc", "memory");                           \
			dst = x;                                                          \
			break;                                                            \
		}                                                                         \
		default: {                                                                \
			u64 x = dst;                                                      \
			__asm__ __volatile__(ORACLE_PRE mnem "q %q[s], %q[x]" ORACLE_POST \
					     : [x] "+r"(x), [f] "+r"(f)                   \
					     : [s] "r"(src)                               \
					     : "cc", "memory");                           \
			dst = x;                                                          \
			break;                                                            \
		}                                                                         \
		}                                                                         \
		*flags = f;                                                               \
		return dst;                                                               \
	}

ORACLE(host_add, "add")
ORACLE(host_or, "or")
ORACLE(host_adc, "adc")
ORACLE(host_sbb, "sbb")
ORACLE(host_and, "and")
ORACLE(host_sub, "sub")
ORACLE(host_xor, "xor")
ORACLE(host_cmp, "cmp")
ORACLE(host_test, "test")

/* BT family on a register base: the offset is taken MOD the operand size. */
#define ORACLE_BT(name, mnem)                                                             \
	static u64 name(u8 size, u64 dst, u64 src, u64 *flags)                            \
	{                                                                                 \
		u64 f = *flags;                                                           \
		switch (size) {                                                           \
		case 2: {                                                                 \
			u16 x = dst;                                                      \
			__asm__ __volatile__(ORACLE_PRE mnem "w %w[s], %w[x]" ORACLE_POST \
					     : [x] "+r"(x), [f] "+r"(f)                   \
					     : [s] "r"((u16)src)                          \
					     : "cc", "memory");                           \
			dst = x;                                                          \
			break;                                                            \
		}                                                                         \
		case 4: {                                                                 \
			u32 x = dst;                                                      \
			__asm__ __volatile__(ORACLE_PRE mnem "l %k[s], %k[x]" ORACLE_POST \
					     : [x] "+r"(x), [f] "+r"(f)                   \
					     : [s] "r"((u32)src)                          \
					     : "cc", "memory");                           \
			dst = x;                                                          \
			break;                                                            \
		}                                                                         \
		default: {                                                                \
			u64 x = dst;                                                      \
			__asm__ __volatile__(ORACLE_PRE mnem "q %q[s], %q[x]" ORACLE_POST \
					     : [x] "+r"(x), [f] "+r"(f)                   \
					     : [s] "r"(src)                               \
					     : "cc", "memory");                           \
			dst = x;                                                          \
			break;                                                            \
		}                                                                         \
		}                                                                         \
		*flags = f;                                                               \
		return dst;                                                               \
	}

ORACLE_BT(host_bt, "bt")
ORACLE_BT(host_bts, "bts")
ORACLE_BT(host_btr, "btr")
ORACLE_BT(host_btc, "btc")

typedef u64 (*oracle_fn)(u8 size, u64 dst, u64 src, u64 *flags);

/* In group-1 order: the opcode row is (op - INSN_OP_ADD) * 8 */
static const oracle_fn alu_oracles[] = {
	host_add, host_or, host_adc, host_sbb, host_and, host_sub, host_xor, host_cmp,
};

static bool is_logic(u8 op)
{
	return op == INSN_OP_OR || op == INSN_OP_AND || op == INSN_OP_XOR || op == INSN_OP_TEST;
}

/* Flags that the SDM defines for op (AF is undefined for logic ops). */
static u64 defined_flags(u8 op)
{
	return is_logic(op) ? ARITH_FLAGS & ~FLAG_AF : ARITH_FLAGS;
}

/* Builds prefix + opcode + ModRM [+ imm] for a given operand size. */
static size_t encode(u8 *buf, u8 size, const u8 *body, size_t n)
{
	size_t len = 0;

	if (size == 2)
		buf[len++] = 0x66;
	if (size == 8)
		buf[len++] = 0x48;
	memcpy(buf + len, body, n);
	return len + n;
}

/*
 * One ALU case through decode + emulate: `form` 0 = OP r,m (memory is the
 * destination), 1 = OP m,r (the register is), 2 = OP imm,m with 81 (or 80),
 * 3 = OP imm8,m with 83.
 */
static void run_alu_case(u8 op, oracle_fn oracle, u8 size, int form, u64 a, u64 b, u64 fin)
{
	static const u8 sizes_to_w[] = { [1] = 0, [2] = 1, [4] = 1, [8] = 1 };
	struct fake f = { 0 };
	u64 gpr[GPR_COUNT] = { 0 }, rflags = fin | 0x2, want_flags = fin | 0x2, want;
	u8 body[16], buf[20], row = (op - INSN_OP_ADD) * 8, w = sizes_to_w[size];
	size_t n = 0;
	struct insn d;
	int ret;

	gpr[GPR_RAX] = DEV_BASE;
	switch (form) {
	case 0:
		body[n++] = op == INSN_OP_TEST ? 0x84 + w : row + w;
		body[n++] = 0x08; /* ModRM: reg = rcx, rm = [rax] */
		dev_set(&f, 0, size, a);
		gpr[GPR_RCX] = b | (rnd() & ~size_mask(size));
		break;
	case 1:
		body[n++] = row + 2 + w;
		body[n++] = 0x08;
		gpr[GPR_RCX] = a | (rnd() & ~size_mask(size));
		dev_set(&f, 0, size, b);
		break;
	case 2:
		if (op == INSN_OP_TEST)
			body[n++] = 0xf6 + w;
		else
			body[n++] = 0x80 + w;
		body[n++] = op == INSN_OP_TEST ? 0x00 : (u8)((op - INSN_OP_ADD) << 3);
		dev_set(&f, 0, size, a);
		/* Iz: at most 32 bits, sign-extended */
		for (u8 i = 0; i < MIN(size, 4); i++)
			body[n++] = (u8)(b >> (8 * i));
		if (size == 8)
			b = (u64)(s64)(s32)b;
		break;
	default:
		body[n++] = 0x83;
		body[n++] = (u8)((op - INSN_OP_ADD) << 3);
		body[n++] = (u8)b;
		b = (u64)(s64)(s8)b & size_mask(size);
		dev_set(&f, 0, size, a);
		break;
	}
	n = encode(buf, size, body, n);
	d = decode_ok(buf, n, M64);

	want = oracle(size, a, b, &want_flags);
	ret = insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f);
	assert_int_equal(ret, INSN_DONE);
	if ((rflags ^ want_flags) & defined_flags(op)) {
		print_message("op %d form %d size %u a %#llx b %#llx fin %#llx\n", op, form, size,
			      (unsigned long long)a, (unsigned long long)b,
			      (unsigned long long)fin);
		assert_int_equal(rflags & defined_flags(op), want_flags & defined_flags(op));
	}
	assert_int_equal(rflags & ~ARITH_FLAGS, (fin | 0x2) & ~ARITH_FLAGS);
	if (form == 1) {
		u64 expect = op == INSN_OP_CMP ? a : want;

		assert_int_equal(gpr[GPR_RCX] & size_mask(size), expect);
		if (size == 4 && op != INSN_OP_CMP)
			assert_int_equal(gpr[GPR_RCX] >> 32, 0);
		assert_int_equal(f.writes, 0);
	} else {
		assert_int_equal(dev_get(&f, 0, size), want);
		bool writes = op != INSN_OP_CMP && op != INSN_OP_TEST;

		assert_int_equal(f.writes, writes);
	}
	assert_int_equal(f.reads, 1);
}

static const u8 all_sizes[] = { 1, 2, 4, 8 };

static void test_emulate_alu_vs_host(void **state)
{
	(void)state;
	for (u8 op = INSN_OP_ADD; op <= INSN_OP_CMP; op++) {
		for (size_t s = 0; s < ARRAY_SIZE(all_sizes); s++) {
			for (int form = 0; form < 4; form++) {
				if (form == 3 && all_sizes[s] == 1)
					continue; /* 83 has no byte form */
				for (int i = 0; i < 3000; i++)
					run_alu_case(op, alu_oracles[op - INSN_OP_ADD],
						     all_sizes[s], form, operand(all_sizes[s]),
						     operand(all_sizes[s]), rnd() & ARITH_FLAGS);
			}
		}
	}
}

static void test_emulate_test_vs_host(void **state)
{
	(void)state;
	for (size_t s = 0; s < ARRAY_SIZE(all_sizes); s++)
		for (int form = 0; form <= 2; form += 2)
			for (int i = 0; i < 3000; i++)
				run_alu_case(INSN_OP_TEST, host_test, all_sizes[s], form,
					     operand(all_sizes[s]), operand(all_sizes[s]),
					     rnd() & ARITH_FLAGS);
}

static void test_emulate_bt_vs_host(void **state)
{
	static const oracle_fn oracles[] = { host_bt, host_bts, host_btr, host_btc };
	static const u8 regform[] = { 0xa3, 0xab, 0xb3, 0xbb };

	(void)state;
	for (int k = 0; k < 4; k++) {
		for (u8 size = 2; size <= 8; size *= 2) {
			for (int i = 0; i < 2000; i++) {
				struct fake f = { 0 };
				u64 gpr[GPR_COUNT] = { [GPR_RAX] = DEV_BASE };
				u64 a = operand(size), off = rnd(), fin = rnd() & ARITH_FLAGS;
				u64 rflags = fin | 2, want_flags = fin | 2, want;
				bool imm = i & 1;
				u8 body[5], buf[8];
				size_t n;
				struct insn d;

				body[0] = 0x0f;
				if (imm) {
					/* 0F BA /4../7 ib: the offset is imm8 MOD size */
					body[1] = 0xba;
					body[2] = (u8)((4 + k) << 3);
					body[3] = (u8)off;
					off &= 0xff;
					n = 4;
				} else {
					body[1] = regform[k];
					body[2] = 0x08;
					gpr[GPR_RCX] = off;
					n = 3;
				}
				n = encode(buf, size, body, n);
				d = decode_ok(buf, n, M64);
				dev_set(&f, 0, size, a);
				want = oracles[k](size, a, off, &want_flags);
				assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops,
							      &f),
						 INSN_DONE);
				assert_int_equal(rflags & FLAG_CF, want_flags & FLAG_CF);
				assert_int_equal(rflags & ~FLAG_CF, (fin | 2) & ~FLAG_CF);
				assert_int_equal(dev_get(&f, 0, size), want);
				assert_int_equal(f.writes, k != 0);
			}
		}
	}
}

/*
 * Oracles with a memory destination, for the instructions whose register
 * side the processor merges or zero-extends (XADD, CMPXCHG) or that have no
 * register (NOT, NEG, INC, DEC): the host runs the instruction on a 64-bit
 * word through a pointer (never %rsp-relative: the stack moves for pushf),
 * a 64-bit register and RAX, so that what it leaves in the bytes and bits
 * beyond the operand size is seen too.
 */
#define OPS_MEM(k) "(%[p])"
#define OPS_SRC_MEM(k) "%" #k "[s], (%[p])"
#define HOST_SIZED(size, mnem, OPS, ...)                                                           \
	do {                                                                                       \
		switch (size) {                                                                    \
		case 1:                                                                            \
			__asm__ __volatile__(ORACLE_PRE mnem "b " OPS(b) ORACLE_POST __VA_ARGS__); \
			break;                                                                     \
		case 2:                                                                            \
			__asm__ __volatile__(ORACLE_PRE mnem "w " OPS(w) ORACLE_POST __VA_ARGS__); \
			break;                                                                     \
		case 4:                                                                            \
			__asm__ __volatile__(ORACLE_PRE mnem "l " OPS(k) ORACLE_POST __VA_ARGS__); \
			break;                                                                     \
		default:                                                                           \
			__asm__ __volatile__(ORACLE_PRE mnem "q " OPS(q) ORACLE_POST __VA_ARGS__); \
			break;                                                                     \
		}                                                                                  \
	} while (0)

struct host_rmw {
	u64 mem, reg, rax, flags;
};

#define HOST_UNARY(name, mnem)                                                                \
	static void name(u8 size, struct host_rmw *h)                                         \
	{                                                                                     \
		u64 *p = &h->mem, f = h->flags;                                               \
		HOST_SIZED(size, mnem, OPS_MEM, : [f] "+r"(f) : [p] "r"(p) : "cc", "memory"); \
		h->flags = f;                                                                 \
	}

HOST_UNARY(host_not, "not")
HOST_UNARY(host_neg, "neg")
HOST_UNARY(host_inc, "inc")
HOST_UNARY(host_dec, "dec")

static void host_xadd(u8 size, struct host_rmw *h)
{
	u64 *p = &h->mem, f = h->flags, s = h->reg;

	HOST_SIZED(size, "xadd", OPS_SRC_MEM,
		   : [s] "+r"(s), [f] "+r"(f)
		   : [p] "r"(p)
		   : "cc", "memory");
	h->flags = f;
	h->reg = s;
}

static void host_cmpxchg(u8 size, struct host_rmw *h)
{
	u64 *p = &h->mem, f = h->flags, a = h->rax;

	HOST_SIZED(size, "cmpxchg", OPS_SRC_MEM,
		   : [f] "+r"(f), "+a"(a)
		   : [p] "r"(p), [s] "r"(h->reg)
		   : "cc", "memory");
	h->flags = f;
	h->rax = a;
}

/*
 * One read-modify-write case through decode + emulate against the host:
 * the instruction's bytes (after the size prefixes), its oracle, and the
 * flags the SDM defines for it (the others must be left alone).
 */
struct rmw_form {
	const char *name;
	u8 byte_op, op; /* the byte form's opcode; the other sizes are op */
	bool twobyte;	/* 0F map */
	u8 modrm;	/* [rbx], with reg = rcx or the group member */
	void (*host)(u8 size, struct host_rmw *h);
	u64 defined; /* flags it sets (SDM 2); it leaves the others alone */
};

static const struct rmw_form rmw_forms[] = {
	{ "not", 0xf6, 0xf7, false, 0x13, host_not, 0 },
	{ "neg", 0xf6, 0xf7, false, 0x1b, host_neg, ARITH_FLAGS },
	{ "inc", 0xfe, 0xff, false, 0x03, host_inc, ARITH_FLAGS & ~FLAG_CF },
	{ "dec", 0xfe, 0xff, false, 0x0b, host_dec, ARITH_FLAGS & ~FLAG_CF },
	{ "xadd", 0xc0, 0xc1, true, 0x0b, host_xadd, ARITH_FLAGS },
	{ "cmpxchg", 0xb0, 0xb1, true, 0x0b, host_cmpxchg, ARITH_FLAGS },
};

static void run_rmw_case(const struct rmw_form *form, u8 size)
{
	struct fake f = { 0 };
	struct host_rmw h = { .mem = rnd(),
			      .reg = rnd(),
			      .rax = rnd(),
			      .flags = (rnd() & ARITH_FLAGS) | 0x2 };
	u64 gpr[GPR_COUNT], rflags = h.flags, fin = h.flags, mem;
	u8 body[4], buf[8];
	size_t n = 0;
	struct insn d;

	/* edge values, and an accumulator that equals memory half the time */
	h.mem = (h.mem & ~size_mask(size)) | operand(size);
	if (rnd() & 1)
		h.rax = (h.rax & ~size_mask(size)) | (h.mem & size_mask(size));
	for (int i = 0; i < GPR_COUNT; i++)
		gpr[i] = rnd();
	gpr[GPR_RAX] = h.rax;
	gpr[GPR_RCX] = h.reg;
	dev_set(&f, 0, 8, h.mem);
	if (form->twobyte)
		body[n++] = 0x0f;
	body[n++] = size == 1 ? form->byte_op : form->op;
	body[n++] = form->modrm;
	n = encode(buf, size, body, n);
	d = decode_ok(buf, n, M64);

	form->host(size, &h);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), INSN_DONE);
	mem = dev_get(&f, 0, 8);
	/* these leave no flag undefined: what they define is the host's, every
	 * other flag stays (the host's user-mode POPF keeps IF: not compared) */
	if (mem != h.mem || ((rflags ^ h.flags) & form->defined) ||
	    ((rflags ^ fin) & ~form->defined) || gpr[GPR_RCX] != h.reg || gpr[GPR_RAX] != h.rax)
		fail_msg("%s size %u: emulated mem %#llx rcx %#llx rax %#llx flags %#llx, host "
			 "%#llx %#llx %#llx %#llx",
			 form->name, size, (unsigned long long)mem,
			 (unsigned long long)gpr[GPR_RCX], (unsigned long long)gpr[GPR_RAX],
			 (unsigned long long)rflags, (unsigned long long)h.mem,
			 (unsigned long long)h.reg, (unsigned long long)h.rax,
			 (unsigned long long)h.flags);
	/* one read, one write: CMPXCHG writes back what it read when unequal */
	assert_int_equal(f.reads, 1);
	assert_int_equal(f.writes, 1);
	assert_int_equal(f.last_size, size);
}

/* NOT, NEG, INC, DEC, XADD, CMPXCHG on memory against the host CPU. */
static void test_emulate_rmw_vs_host(void **state)
{
	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(rmw_forms); k++)
		for (size_t s = 0; s < ARRAY_SIZE(all_sizes); s++)
			for (int i = 0; i < 3000; i++)
				run_rmw_case(&rmw_forms[k], all_sizes[s]);
}

/* MOV r/m, r and MOV r, r/m on all 16 registers, at every size. */
static void test_emulate_mov_all_registers(void **state)
{
	(void)state;
	for (u8 size = 1; size <= 8; size *= 2) {
		for (u8 reg = 0; reg < 16; reg++) {
			for (int load = 0; load <= 1; load++) {
				struct fake f = { 0 };
				u64 gpr[GPR_COUNT], before[GPR_COUNT], rflags = 0x202;
				u8 buf[8];
				size_t n = 0;
				u8 rex = (reg >= 8 ? 0x44 : 0) | (size == 8 ? 0x48 : 0);
				struct insn d;

				/* a REX, even empty, makes 4..7 SPL..DIL for byte forms */
				if (size == 1 && reg >= 4)
					rex |= 0x40;
				if (size == 2)
					buf[n++] = 0x66;
				if (rex)
					buf[n++] = rex;
				buf[n++] = (size == 1 ? 0x88 : 0x89) + (load ? 2 : 0);
				/* ModRM: mod 0, reg, rm = [rbx] unless reg is rbx: then [rsi] */
				buf[n++] = (u8)(((reg & 7) << 3) | ((reg & 7) == 3 ? 6 : 3));
				d = decode_ok(buf, n, M64);
				assert_int_equal(d.reg, reg);
				assert_false(d.reg_high8);

				for (int i = 0; i < GPR_COUNT; i++)
					gpr[i] = before[i] = rnd();
				dev_set(&f, 0, 8, rnd());
				u64 mem = dev_get(&f, 0, 8);

				assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops,
							      &f),
						 INSN_DONE);
				assert_int_equal(rflags, 0x202);
				for (int i = 0; i < GPR_COUNT; i++) {
					if (i == reg && load) {
						u64 want = size == 4 ?
								   mem & 0xffffffff :
								   (before[i] & ~size_mask(size)) |
									   (mem & size_mask(size));

						assert_int_equal(gpr[i], want);
					} else {
						assert_int_equal(gpr[i], before[i]);
					}
				}
				if (!load) {
					assert_int_equal(dev_get(&f, 0, size),
							 before[reg] & size_mask(size));
					assert_int_equal(f.last_size, size);
				}
			}
		}
	}
}

/* AH, CH, DH, BH (no REX): bits 15:8 of RAX..RBX, in both directions. */
static void test_emulate_high8(void **state)
{
	(void)state;
	for (u8 r = 4; r < 8; r++) {
		struct fake f = { 0 };
		u64 gpr[GPR_COUNT], rflags = 2;
		u8 st[2] = { 0x88, (u8)((r << 3) | 6) }; /* mov %Xh,(%rsi) */
		u8 ld[2] = { 0x8a, (u8)((r << 3) | 6) }; /* mov (%rsi),%Xh */
		struct insn d;

		for (int i = 0; i < GPR_COUNT; i++)
			gpr[i] = 0x1111111111111111ULL * (u64)(i + 1);
		gpr[r - 4] = 0x0123456789abcdefULL;
		d = decode_ok(st, 2, M64);
		assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE + 8, &fake_ops, &f), 0);
		assert_int_equal(dev_get(&f, 8, 1), 0xcd);
		dev_set(&f, 8, 1, 0x5a);
		d = decode_ok(ld, 2, M64);
		assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE + 8, &fake_ops, &f), 0);
		assert_int_equal(gpr[r - 4], 0x0123456789ab5aefULL);
		assert_int_equal(gpr[r], 0x1111111111111111ULL * (u64)(r + 1));
	}
}

static void test_emulate_extend(void **state)
{
	static const struct {
		const char *src;
		const char *bytes;
		u8 n;
		u8 mode;
		u64 mem, rcx_before, rcx_after;
	} cases[] = {
		{ "movzbl (%rax),%ecx", B("\x0f\xb6\x08"), M64, 0x80, ~0ULL, 0x80 },
		{ "movzwl (%rax),%ecx", B("\x0f\xb7\x08"), M64, 0xfedc, ~0ULL, 0xfedc },
		{ "movzbw (%rax),%cx", B("\x66\x0f\xb6\x08"), M64, 0x80, ~0ULL,
		  0xffffffffffff0080 },
		{ "movsbq (%rax),%rcx", B("\x48\x0f\xbe\x08"), M64, 0x80, 0, 0xffffffffffffff80 },
		{ "movsbl (%rax),%ecx", B("\x0f\xbe\x08"), M64, 0x80, ~0ULL, 0xffffff80 },
		{ "movswl (%rax),%ecx", B("\x0f\xbf\x08"), M64, 0x8000, 0, 0xffff8000 },
		{ "movswl (%rax),%ecx +", B("\x0f\xbf\x08"), M64, 0x7000, ~0ULL, 0x7000 },
		{ "movslq (%rax),%rcx", B("\x48\x63\x08"), M64, 0x80000000, 0, 0xffffffff80000000 },
		{ "movl (%rax),%ecx", B("\x8b\x08"), M64, 0x80000000, ~0ULL, 0x80000000 },
		{ "movl (%eax),%ecx (32-bit)", B("\x8b\x08"), M32, 0x12345678, ~0ULL, 0x12345678 },
		{ "movw (%bx),%cx (16-bit)", B("\x8b\x0f"), M16, 0x1234, ~0ULL,
		  0xffffffffffff1234 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fake f = { 0 };
		u64 gpr[GPR_COUNT] = { [GPR_RCX] = cases[i].rcx_before }, rflags = 2;
		struct insn d = decode_ok((const u8 *)cases[i].bytes, cases[i].n, cases[i].mode);

		dev_set(&f, 0, 8, cases[i].mem);
		assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), 0);
		EXPECT_EQ(cases[i].src, gpr[GPR_RCX], cases[i].rcx_after);
		assert_int_equal(f.last_size, d.size);
	}
}

static void test_emulate_mov_imm_moffs_xchg(void **state)
{
	struct fake f = { 0 };
	u64 gpr[GPR_COUNT] = { 0 }, rflags = 2;
	struct insn d;

	(void)state;
	/* movq $-1,(%rax): imm32 sign-extended to 64 */
	d = decode_ok((const u8 *)"\x48\xc7\x00\xff\xff\xff\xff", 7, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), 0);
	assert_int_equal(dev_get(&f, 0, 8), ~0ULL);
	/* movw $0x1234,(%rax) touches two bytes */
	dev_set(&f, 0, 8, 0);
	d = decode_ok((const u8 *)"\x66\xc7\x00\x34\x12", 5, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), 0);
	assert_int_equal(dev_get(&f, 0, 8), 0x1234);
	/* movabs 0xfee00020,%eax */
	dev_set(&f, 0x20, 4, 0xdeadbeef);
	gpr[GPR_RAX] = ~0ULL;
	d = decode_ok((const u8 *)"\xa1\x20\x00\xe0\xfe\x00\x00\x00\x00", 9, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE + 0x20, &fake_ops, &f), 0);
	assert_int_equal(gpr[GPR_RAX], 0xdeadbeef);
	/* movb %al,0xfee00300 (32-bit moffs) */
	d = decode_ok((const u8 *)"\xa2\x30\x00\xe0\xfe", 5, M32);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE + 0x30, &fake_ops, &f), 0);
	assert_int_equal(dev_get(&f, 0x30, 2), 0xef);
	/* xchgl %ecx,(%rax) */
	gpr[GPR_RCX] = 0xffffffff00000001ULL;
	dev_set(&f, 0, 4, 0xcafef00d);
	d = decode_ok((const u8 *)"\x87\x08", 2, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), 0);
	assert_int_equal(dev_get(&f, 0, 4), 1);
	assert_int_equal(gpr[GPR_RCX], 0xcafef00d);
	assert_int_equal(rflags, 2);
}

/* rep stos: one element per call, RIP stays until RCX reaches 0. */
static void test_emulate_rep_stos(void **state)
{
	struct fake f = { 0 };
	u64 gpr[GPR_COUNT] = { 0 }, rflags = 2;
	struct insn d = decode_ok((const u8 *)"\xf3\xab", 2, M64);
	int ret, calls = 0;

	(void)state;
	gpr[GPR_RAX] = 0xffffffff12345678ULL;
	gpr[GPR_RDI] = 0x1000;
	gpr[GPR_RCX] = 3;
	do {
		ret = insn_emulate(&d, gpr, &rflags, DEV_BASE + 4 * (u64)calls, &fake_ops, &f);
		calls++;
		assert_int_equal(ret, calls < 3 ? INSN_AGAIN : INSN_DONE);
	} while (ret == INSN_AGAIN);
	assert_int_equal(calls, 3);
	assert_int_equal(gpr[GPR_RCX], 0);
	assert_int_equal(gpr[GPR_RDI], 0x100c);
	for (int i = 0; i < 3; i++)
		assert_int_equal(dev_get(&f, 4 * i, 4), 0x12345678);

	/* REP with RCX = 0 does nothing */
	f.writes = 0;
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), INSN_DONE);
	assert_int_equal(f.writes, 0);
	assert_int_equal(gpr[GPR_RDI], 0x100c);

	/* std; stosb: RDI steps down, no RCX change without REP */
	rflags |= FLAG_DF;
	gpr[GPR_RCX] = 7;
	d = decode_ok((const u8 *)"\xaa", 1, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE + 0x10, &fake_ops, &f), 0);
	assert_int_equal(gpr[GPR_RDI], 0x100b);
	assert_int_equal(gpr[GPR_RCX], 7);
	assert_int_equal(dev_get(&f, 0x10, 1), 0x78);

	/* 16-bit addressing: DI and CX wrap inside 16 bits, upper bits kept */
	rflags = 2;
	gpr[GPR_RDI] = 0xabcd0000fffeULL;
	gpr[GPR_RCX] = 0x77770001ULL;
	d = decode_ok((const u8 *)"\xf3\xab", 2, M16);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), INSN_DONE);
	assert_int_equal(gpr[GPR_RDI], 0xabcd00000000ULL);
	assert_int_equal(gpr[GPR_RCX], 0x77770000ULL);
	assert_int_equal(dev_get(&f, 0, 2), 0x5678);
	assert_int_equal(f.last_size, 2);

	/* 32-bit addressing in 64-bit mode (67): ECX counts, RCX upper is not a count */
	gpr[GPR_RDI] = 0x100;
	gpr[GPR_RCX] = 0x500000000ULL;
	d = decode_ok((const u8 *)"\x67\xf3\xab", 3, M64);
	f.writes = 0;
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), INSN_DONE);
	assert_int_equal(f.writes, 0);
}

static void test_emulate_lods_movs(void **state)
{
	struct fake f = { 0 };
	u64 gpr[GPR_COUNT] = { 0 }, rflags = 2;
	struct insn d;
	int ret;

	(void)state;
	/* lodsl: device -> EAX, RSI advances */
	dev_set(&f, 0, 4, 0x89abcdef);
	gpr[GPR_RAX] = ~0ULL;
	gpr[GPR_RSI] = 0x2000;
	d = decode_ok((const u8 *)"\xad", 1, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), INSN_DONE);
	assert_int_equal(gpr[GPR_RAX], 0x89abcdef);
	assert_int_equal(gpr[GPR_RSI], 0x2004);

	/* rep movsl RAM -> device: DS base RAM_BASE, ES base DEV_BASE */
	for (int i = 0; i < 16; i++)
		f.ram[i] = (u8)(0xa0 + i);
	f.seg_base[INSN_SEG_DS] = RAM_BASE;
	f.seg_base[INSN_SEG_ES] = DEV_BASE;
	f.seg_base[INSN_SEG_FS] = RAM_BASE + 4;
	gpr[GPR_RSI] = 0;
	gpr[GPR_RDI] = 8;
	gpr[GPR_RCX] = 2;
	d = decode_ok((const u8 *)"\xf3\xa5", 2, M64);
	ret = insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f);
	assert_int_equal(ret, INSN_AGAIN);
	ret = insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f);
	assert_int_equal(ret, INSN_DONE);
	assert_memory_equal(f.dev + 8, f.ram, 8);
	assert_int_equal(gpr[GPR_RSI], 8);
	assert_int_equal(gpr[GPR_RDI], 16);
	assert_int_equal(gpr[GPR_RCX], 0);

	/* movsb with an FS override (which counts in 64-bit mode), device -> RAM */
	gpr[GPR_RSI] = 0;
	gpr[GPR_RDI] = 0;
	f.seg_base[INSN_SEG_ES] = RAM_BASE + 0x100;
	dev_set(&f, 0, 1, 0x42);
	f.seg_base[INSN_SEG_FS] = DEV_BASE;
	d = decode_ok((const u8 *)"\x64\xa4", 2, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f), INSN_DONE);
	assert_int_equal(f.ram[0x100], 0x42);

	/* without translate MOVS cannot be done */
	static const struct insn_mem_ops no_translate = { .read = fake_read, .write = fake_write };

	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &no_translate, &f), -E_NOSUPP);
}

/* --- CMPS and SCAS against the host's own REP strings ------------------- */

struct host_str {
	u64 rsi, rdi, rcx, rax, flags;
};

#define HOST_STR_ASM(insn)                                                                         \
	__asm__ __volatile__("lea -128(%%rsp), %%rsp\n\tpush %[f]\n\tpopf\n\t" insn                \
			     "\n\tpushf\n\tpop %[f]\n\tcld\n\tlea 128(%%rsp), %%rsp"               \
			     : "+S"(h->rsi), "+D"(h->rdi), "+c"(h->rcx), "+a"(h->rax), [f] "+r"(f) \
			     :                                                                     \
			     : "cc", "memory")

#define HOST_STR_SIZES(pfx, op)           \
	switch (size) {                   \
	case 1:                           \
		HOST_STR_ASM(pfx op "b"); \
		break;                    \
	case 2:                           \
		HOST_STR_ASM(pfx op "w"); \
		break;                    \
	case 4:                           \
		HOST_STR_ASM(pfx op "l"); \
		break;                    \
	default:                          \
		HOST_STR_ASM(pfx op "q"); \
		break;                    \
	}

/* rep: 0 none, 1 REPE (F3), 2 REPNE (F2); RFLAGS (with DF) from h->flags */
#define HOST_STR(name, op)                                     \
	static void name(u8 size, int rep, struct host_str *h) \
	{                                                      \
		u64 f = h->flags;                              \
		if (rep == 0) {                                \
			HOST_STR_SIZES("", op);                \
		} else if (rep == 1) {                         \
			HOST_STR_SIZES("repe ", op);           \
		} else {                                       \
			HOST_STR_SIZES("repne ", op);          \
		}                                              \
		h->flags = f;                                  \
	}

HOST_STR(host_cmps, "cmps")
HOST_STR(host_scas, "scas")

#define STR_ELEMS_MAX 8 /* elements in the 64-byte device window at any size */

/*
 * One CMPS (scas false) or SCAS case: elements of 0 or 1 at random (so that
 * REPE and REPNE stop anywhere), RAM as the source, the device as the
 * destination, a random count that stays inside them, either direction.
 * The guest re-executes the instruction while insn_emulate says
 * INSN_AGAIN; RSI, RDI, RCX and the flags must end as the host's.
 */
static void run_str_cmp_case(bool scas, u8 size, int rep, bool df)
{
	static u8 host_src[STR_ELEMS_MAX * 8], host_dst[STR_ELEMS_MAX * 8];
	static const u8 rep_prefix[] = { 0, 0xf3, 0xf2 };
	struct fake f = { 0 };
	u64 gpr[GPR_COUNT] = { 0 }, rflags, first = df ? (STR_ELEMS_MAX - 1) * (u64)size : 0;
	u32 elems = (u32)(rnd() % (STR_ELEMS_MAX + 1)), calls = 0;
	struct host_str h;
	u8 buf[4];
	size_t n = 0;
	struct insn d;
	int rc;

	for (u32 i = 0; i < sizeof(host_src); i++) {
		host_src[i] = (u8)(rnd() & 1);
		host_dst[i] = (u8)(rnd() & 1);
	}
	memcpy(f.ram, host_src, sizeof(host_src));
	memcpy(f.dev, host_dst, sizeof(host_dst));
	h = (struct host_str){ .rsi = (u64)(uintptr_t)host_src + first,
			       .rdi = (u64)(uintptr_t)host_dst + first,
			       .rcx = rep ? elems : rnd(),
			       .rax = rnd() & (rnd() & 1 ? 1 : ~0ULL),
			       .flags = (rnd() & ARITH_FLAGS) | 0x2 | (df ? FLAG_DF : 0) };
	/* the same register values address the fake RAM and device */
	f.seg_base[INSN_SEG_DS] = RAM_BASE - (u64)(uintptr_t)host_src;
	f.seg_base[INSN_SEG_ES] = DEV_BASE - (u64)(uintptr_t)host_dst;
	gpr[GPR_RSI] = h.rsi;
	gpr[GPR_RDI] = h.rdi;
	gpr[GPR_RCX] = h.rcx;
	gpr[GPR_RAX] = h.rax;
	rflags = h.flags;
	if (rep)
		buf[n++] = rep_prefix[rep];
	if (size == 2)
		buf[n++] = 0x66;
	if (size == 8)
		buf[n++] = 0x48;
	buf[n++] = (scas ? 0xae : 0xa6) + (size != 1);
	d = decode_ok(buf, n, M64);

	(scas ? host_scas : host_cmps)(size, rep, &h);
	do {
		u64 gpa = f.seg_base[INSN_SEG_ES] + gpr[GPR_RDI]; /* SCAS: the fault */

		rc = insn_emulate(&d, gpr, &rflags, gpa, &fake_ops, &f);
		assert_true(rc == INSN_DONE || rc == INSN_AGAIN);
		assert_true(++calls <= STR_ELEMS_MAX + 1);
	} while (rc == INSN_AGAIN);
	if (gpr[GPR_RSI] != h.rsi || gpr[GPR_RDI] != h.rdi || gpr[GPR_RCX] != h.rcx ||
	    gpr[GPR_RAX] != h.rax || ((rflags ^ h.flags) & (ARITH_FLAGS | FLAG_DF)))
		fail_msg("%s size %u rep %d df %d count %u: emulated rsi %+lld rdi %+lld rcx %llu "
			 "flags %#llx, host %+lld %+lld %llu %#llx",
			 scas ? "scas" : "cmps", size, rep, df, elems,
			 (long long)(gpr[GPR_RSI] - (u64)(uintptr_t)host_src),
			 (long long)(gpr[GPR_RDI] - (u64)(uintptr_t)host_dst),
			 (unsigned long long)gpr[GPR_RCX], (unsigned long long)rflags,
			 (long long)(h.rsi - (u64)(uintptr_t)host_src),
			 (long long)(h.rdi - (u64)(uintptr_t)host_dst), (unsigned long long)h.rcx,
			 (unsigned long long)h.flags);
	assert_int_equal(f.writes, 0);
}

static void test_emulate_cmps_scas_vs_host(void **state)
{
	(void)state;
	for (int scas = 0; scas <= 1; scas++)
		for (size_t s = 0; s < ARRAY_SIZE(all_sizes); s++)
			for (int rep = 0; rep <= 2; rep++)
				for (int i = 0; i < 400; i++)
					run_str_cmp_case(scas, all_sizes[s], rep, i & 1);
}

/* CMPS takes the source segment override; ES stays the destination's. */
static void test_emulate_cmps_segments(void **state)
{
	struct fake f = { 0 };
	u64 gpr[GPR_COUNT] = { 0 }, rflags = 2;
	struct insn d = decode_ok((const u8 *)"\x64\xa7", 2, M64); /* cmpsl %es:(%rdi),%fs:(%rsi) */

	(void)state;
	f.seg_base[INSN_SEG_FS] = RAM_BASE;
	f.seg_base[INSN_SEG_ES] = DEV_BASE;
	memcpy(f.ram + 8, "\x01\x00\x00\x00", 4);
	dev_set(&f, 4, 4, 2);
	gpr[GPR_RSI] = 8;
	gpr[GPR_RDI] = 4;
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f), INSN_DONE);
	/* 1 - 2: borrow, negative */
	assert_int_equal(rflags & (FLAG_CF | 0x80 | 0x40), FLAG_CF | 0x80);
	assert_int_equal(gpr[GPR_RSI], 12);
	assert_int_equal(gpr[GPR_RDI], 8);
	/* without translate, CMPS cannot be done */
	static const struct insn_mem_ops plain = { .read = fake_read, .write = fake_write };

	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &plain, &f), -E_NOSUPP);
}

/* --- INS and OUTS ------------------------------------------------------------ */

/*
 * INS and OUTS: one element per call between port DX and ES:rDI / DS:rSI
 * (or the override), the count and the direction as for the other string
 * instructions, address-size wrapping, the destination translated before
 * the port is read, and no port access at all for REP with RCX = 0.
 */
static void test_emulate_ins_outs(void **state)
{
	struct fake f = { 0 };
	u64 gpr[GPR_COUNT] = { 0 }, rflags = 2;
	struct insn d;
	int rc, calls = 0;

	(void)state;
	/* rep insw, 64-bit: three words from port 0x1f0 into ES:rDI */
	f.seg_base[INSN_SEG_ES] = RAM_BASE;
	f.port_next = 0x12345;
	gpr[GPR_RDX] = 0xffff00001f0ULL; /* DX only */
	gpr[GPR_RDI] = 0x10;
	gpr[GPR_RCX] = 3;
	d = decode_ok((const u8 *)"\x66\xf3\x6d", 3, M64);
	do {
		rc = insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f);
		assert_int_equal(rc, ++calls < 3 ? INSN_AGAIN : INSN_DONE);
		assert_int_equal(f.last_port, 0x1f0);
		assert_int_equal(f.last_size, 2);
	} while (rc == INSN_AGAIN);
	assert_memory_equal(f.ram + 0x10, "\x45\x23\x46\x23\x47\x23", 6);
	assert_int_equal(f.ram[0x16], 0);
	assert_int_equal(gpr[GPR_RDI], 0x16);
	assert_int_equal(gpr[GPR_RCX], 0);
	assert_int_equal(f.port_ins, 3);

	/* std; insb: one byte, downwards, RCX untouched without REP */
	rflags = 2 | FLAG_DF;
	gpr[GPR_RCX] = 9;
	d = decode_ok((const u8 *)"\x6c", 1, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f), INSN_DONE);
	assert_int_equal(f.ram[0x16], 0x48);
	assert_int_equal(gpr[GPR_RDI], 0x15);
	assert_int_equal(gpr[GPR_RCX], 9);

	/* rep outsl with a GS override: DS is not used */
	rflags = 2;
	f.seg_base[INSN_SEG_DS] = DEV_BASE; /* a wrong base would read the device */
	f.seg_base[INSN_SEG_GS] = RAM_BASE;
	memcpy(f.ram + 0x100, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	gpr[GPR_RSI] = 0x100;
	gpr[GPR_RCX] = 2;
	gpr[GPR_RDX] = 0x80;
	d = decode_ok((const u8 *)"\xf3\x65\x6f", 3, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f), INSN_AGAIN);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f), INSN_DONE);
	assert_int_equal(f.port_outs, 2);
	assert_int_equal(f.port_log[0], 0x44332211);
	assert_int_equal(f.port_log[1], 0x88776655);
	assert_int_equal(f.last_port, 0x80);
	assert_int_equal(f.last_size, 4);
	assert_int_equal(gpr[GPR_RSI], 0x108);

	/* REX.W does not make OUTS 64-bit */
	f.seg_base[INSN_SEG_DS] = RAM_BASE;
	gpr[GPR_RSI] = 0x100;
	d = decode_ok((const u8 *)"\x48\x6f", 2, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f), INSN_DONE);
	assert_int_equal(f.port_log[2], 0x44332211);
	assert_int_equal(gpr[GPR_RSI], 0x104);

	/* 16-bit addressing: DI wraps inside 16 bits, CX counts, upper bits kept */
	f.seg_base[INSN_SEG_ES] = RAM_BASE - 0xff00;
	gpr[GPR_RDI] = 0xabcd0000fffeULL;
	gpr[GPR_RCX] = 0x55550002ULL;
	d = decode_ok((const u8 *)"\xf3\x6c", 2, M16);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f), INSN_AGAIN);
	assert_int_equal(gpr[GPR_RDI], 0xabcd0000ffffULL);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f), INSN_DONE);
	assert_int_equal(gpr[GPR_RDI], 0xabcd00000000ULL);
	assert_int_equal(gpr[GPR_RCX], 0x55550000ULL);
	assert_int_equal(f.last_gpa, RAM_BASE + 0xff);

	/* REP with a zero count: no port access */
	f.port_ins = f.port_outs = 0;
	gpr[GPR_RCX] = 0;
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f), INSN_DONE);
	d = decode_ok((const u8 *)"\xf3\x6e", 2, M32);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f), INSN_DONE);
	assert_int_equal(f.port_ins + f.port_outs, 0);

	/* a destination that does not translate: the port is not read */
	f.translate_fail = -E_RANGE;
	gpr[GPR_RCX] = 4;
	gpr[GPR_RDI] = 0x20;
	d = decode_ok((const u8 *)"\xf3\x6d", 2, M32);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f), -E_RANGE);
	assert_int_equal(f.port_ins, 0);
	assert_int_equal(gpr[GPR_RCX], 4);
	assert_int_equal(gpr[GPR_RDI], 0x20);

	/* without port callbacks INS and OUTS cannot be done */
	static const struct insn_mem_ops no_ports = { .read = fake_read,
						      .write = fake_write,
						      .translate = fake_translate };

	f.translate_fail = 0;
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &no_ports, &f), -E_NOSUPP);
	d = decode_ok((const u8 *)"\x6e", 1, M32);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &no_ports, &f), -E_NOSUPP);
	assert_int_equal(f.port_ins + f.port_outs, 0);
}

static void test_emulate_errors(void **state)
{
	struct fake f = { .fail = -E_IO };
	u64 gpr[GPR_COUNT] = { [GPR_RCX] = 5 }, rflags = 2;
	struct insn d;

	(void)state;
	/* a device error passes through and leaves registers alone */
	d = decode_ok((const u8 *)"\x8b\x08", 2, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), -E_IO);
	assert_int_equal(gpr[GPR_RCX], 5);
	d = decode_ok((const u8 *)"\x01\x08", 2, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), -E_IO);
	assert_int_equal(rflags, 2);
	d = decode_ok((const u8 *)"\xf3\xab", 2, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), -E_IO);
	assert_int_equal(gpr[GPR_RCX], 5);
	/* a struct insn that was never decoded */
	memset(&d, 0, sizeof(d));
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), -E_NOSUPP);
	d.op = INSN_OP_COUNT;
	assert_int_equal(insn_emulate(&d, gpr, &rflags, DEV_BASE, &fake_ops, &f), -E_NOSUPP);
}

static void test_cpu_mode(void **state)
{
	(void)state;
	assert_int_equal(insn_cpu_mode(false, true, true, false), INSN_MODE_64);
	assert_int_equal(insn_cpu_mode(false, true, false, true), INSN_MODE_32);
	assert_int_equal(insn_cpu_mode(false, true, false, false), INSN_MODE_16);
	assert_int_equal(insn_cpu_mode(false, false, false, true), INSN_MODE_32);
	assert_int_equal(insn_cpu_mode(false, false, false, false), INSN_MODE_16);
	assert_int_equal(insn_cpu_mode(true, false, false, true), INSN_MODE_16);
}

/* insn_match: the length of a known instruction behind its prefixes */
static void test_match_prefixed(void **state)
{
	static const u8 cpuid_op[] = { 0x0f, 0xa2 };
	static const u8 plain[] = { 0x0f, 0xa2 };
	static const u8 prefixed[] = { 0x66, 0x2e, 0x0f, 0xa2 };
	static const u8 rex64[] = { 0xf3, 0x48, 0x0f, 0xa2 };
	static const u8 other[] = { 0x0f, 0x31 };
	static const u8 too_many[16] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
					 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x0f, 0xa2 };

	(void)state;
	assert_int_equal(insn_match(plain, sizeof(plain), INSN_MODE_32, cpuid_op, 2), 2);
	assert_int_equal(insn_match(prefixed, sizeof(prefixed), INSN_MODE_16, cpuid_op, 2), 4);
	assert_int_equal(insn_match(rex64, sizeof(rex64), INSN_MODE_64, cpuid_op, 2), 4);
	/* outside 64-bit mode 0x48 is DEC EAX, not a prefix */
	assert_int_equal(insn_match(rex64, sizeof(rex64), INSN_MODE_32, cpuid_op, 2), -E_NOENT);
	assert_int_equal(insn_match(other, sizeof(other), INSN_MODE_64, cpuid_op, 2), -E_NOENT);
	assert_int_equal(insn_match(plain, 1, INSN_MODE_64, cpuid_op, 2), -E_INVAL);
	assert_int_equal(insn_match(too_many, sizeof(too_many), INSN_MODE_64, cpuid_op, 2),
			 -E_INVAL);
}

/*
 * Found by tests/fuzz/fuzz_insn.c. In 64-bit mode ES, CS, SS and DS overrides
 * are null prefixes (APM 3 1.2.4): they neither apply nor cancel an FS or GS
 * override, whatever the order. MOVS reads its source through it.
 */
static void test_decode_null_segment_prefixes(void **state)
{
	struct fake f = { 0 };
	u64 gpr[GPR_COUNT] = { 0 }, rflags = 2;
	struct insn d;

	(void)state;
	assert_int_equal(decode_ok((const u8 *)"\x64\x3e\xa5", 3, M64).seg, INSN_SEG_FS);
	assert_int_equal(decode_ok((const u8 *)"\x65\x26\x2e\x36\x8b\x00", 6, M64).seg,
			 INSN_SEG_GS);
	assert_int_equal(decode_ok((const u8 *)"\x3e\x64\x8b\x00", 4, M64).seg, INSN_SEG_FS);
	assert_int_equal(decode_ok((const u8 *)"\x64\x65\x8b\x00", 4, M64).seg, INSN_SEG_GS);
	assert_int_equal(decode_ok((const u8 *)"\x2e\x8b\x00", 3, M64).seg, INSN_SEG_NONE);
	/* outside 64-bit mode the last override counts */
	assert_int_equal(decode_ok((const u8 *)"\x64\x3e\x8b\x00", 4, M32).seg, INSN_SEG_DS);

	/* fs ds movsb: from FS:RSI */
	f.seg_base[INSN_SEG_DS] = RAM_BASE;
	f.seg_base[INSN_SEG_FS] = DEV_BASE;
	f.seg_base[INSN_SEG_ES] = RAM_BASE + 0x100;
	dev_set(&f, 0, 1, 0x42);
	d = decode_ok((const u8 *)"\x64\x3e\xa4", 3, M64);
	assert_int_equal(insn_emulate(&d, gpr, &rflags, 0, &fake_ops, &f), INSN_DONE);
	assert_int_equal(f.ram[0x100], 0x42);
}

/*
 * Found by tests/fuzz/fuzz_insn.c: a REX prefix that is not right before the
 * opcode is ignored (SDM 2 2.2.1), so it may come anywhere among the
 * prefixes, several times; insn_match stopped at the first one.
 */
static void test_match_rex_anywhere(void **state)
{
	static const u8 rdmsr_op[] = { 0x0f, 0x32 }, cpuid_op[] = { 0x0f, 0xa2 };
	static const u8 rex_then_66[] = { 0x48, 0x66, 0x0f, 0x32 };
	static const u8 two_rex[] = { 0x40, 0x48, 0x0f, 0xa2 };
	static const u8 mixed[] = { 0x66, 0x48, 0x2e, 0x41, 0x40, 0x0f, 0xa2 };

	(void)state;
	assert_int_equal(insn_match(rex_then_66, 4, M64, rdmsr_op, 2), 4);
	assert_int_equal(insn_match(two_rex, 4, M64, cpuid_op, 2), 4);
	assert_int_equal(insn_match(mixed, 7, M64, cpuid_op, 2), 7);
	/* 40-4F are INC/DEC outside 64-bit mode */
	assert_int_equal(insn_match(rex_then_66, 4, M32, rdmsr_op, 2), -E_NOENT);
	assert_int_equal(insn_match(two_rex, 3, M64, cpuid_op, 2), -E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_truncated),
		cmocka_unit_test(test_decode_displacements),
		cmocka_unit_test(test_decode_errors),
		cmocka_unit_test(test_emulate_alu_vs_host),
		cmocka_unit_test(test_emulate_test_vs_host),
		cmocka_unit_test(test_emulate_bt_vs_host),
		cmocka_unit_test(test_emulate_rmw_vs_host),
		cmocka_unit_test(test_emulate_mov_all_registers),
		cmocka_unit_test(test_emulate_high8),
		cmocka_unit_test(test_emulate_extend),
		cmocka_unit_test(test_emulate_mov_imm_moffs_xchg),
		cmocka_unit_test(test_emulate_rep_stos),
		cmocka_unit_test(test_emulate_lods_movs),
		cmocka_unit_test(test_emulate_cmps_scas_vs_host),
		cmocka_unit_test(test_emulate_cmps_segments),
		cmocka_unit_test(test_emulate_ins_outs),
		cmocka_unit_test(test_emulate_errors),
		cmocka_unit_test(test_cpu_mode),
		cmocka_unit_test(test_match_prefixed),
		cmocka_unit_test(test_decode_null_segment_prefixes),
		cmocka_unit_test(test_match_rex_anywhere),
	};

	return cmocka_run_group_tests_name("insn", tests, NULL, NULL);
}
