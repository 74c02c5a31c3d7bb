/* Counting prefixes: enough to find the length of a known instruction. */
#include "hv/insn/prefix.h"

/* SDM 2 2.1.1: the legacy prefixes, groups 1-4 */
static bool legacy_prefix(u8 b)
{
	switch (b) {
	/* clang-format off */
	case 0xf0: case 0xf2: case 0xf3:		/* LOCK, REPNE, REP */
	case 0x2e: case 0x36: case 0x3e: case 0x26:	/* CS, SS, DS, ES */
	case 0x64: case 0x65:				/* FS, GS */
	case 0x66: case 0x67:				/* operand, address size */
		/* clang-format on */
		return true;
	default:
		return false;
	}
}

/* SDM 2 2.2.1: REX (40-4F) only in 64-bit mode; one that is not right before
 * the opcode is ignored, so REX bytes may come anywhere among the prefixes */
static bool prefix(u8 b, enum insn_mode mode)
{
	return legacy_prefix(b) || (mode == INSN_MODE_64 && (b & 0xf0) == 0x40);
}

int insn_match(const u8 *bytes, size_t avail, enum insn_mode mode, const u8 *opcode, size_t oplen)
{
	size_t n = 0;

	while (n < avail && n < INSN_MAX_LEN && prefix(bytes[n], mode))
		n++;
	if (n + oplen > avail || n + oplen > INSN_MAX_LEN)
		return -E_INVAL;
	for (size_t i = 0; i < oplen; i++)
		if (bytes[n + i] != opcode[i])
			return -E_NOENT;
	return (int)(n + oplen);
}
