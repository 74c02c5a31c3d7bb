/* Reading the guest's code: its mode, its page tables, its instruction bytes. */
#pragma once

#include "hv/insn/gpt.h"
#include "hv/insn/insn.h"
#include "hv/vcpu/vcpu.h"

extern const struct gpt_mem_ops guest_gpt_mem; /* ctx: the struct partition */

void guest_gpt_regs(const struct vcpu_state *st, struct gpt_regs *r);
bool guest_long_mode(const struct vcpu_state *st);
bool guest_user_mode(const struct vcpu_state *st);
enum insn_mode guest_insn_mode(const struct vcpu_state *st);
/* Loads what it needs (VS_RIP, VS_RFLAGS, VS_CR, VS_SEG) and fetches up to
 * INSN_MAX_LEN bytes at CS:RIP; gpt_fetch's results. */
int guest_fetch_insn(struct vcpu *v, u8 *buf, u32 *got, u32 *pf_err, u64 *fault_gla);
