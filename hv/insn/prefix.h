/* Matching an instruction's opcode past its prefixes. */
#pragma once

#include "hv/insn/insn.h"
#include "hv/lib/types.h"

/*
 * Whether bytes hold opcode (after any legacy prefixes, and a REX prefix in
 * 64-bit mode); returns the instruction's length, -E_NOENT when the opcode
 * differs, -E_INVAL when avail is too short. For exits that name the
 * instruction but not its length (AMD-V without next-RIP save).
 */
int insn_match(const u8 *bytes, size_t avail, enum insn_mode mode, const u8 *opcode, size_t oplen);
