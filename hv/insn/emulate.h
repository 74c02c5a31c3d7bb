/* Emulating a decoded instruction's memory access (MMIO exits). */
#pragma once

#include "hv/insn/insn.h"
#include "hv/lib/types.h"

/*
 * Device callbacks for insn_emulate. read stores the value in the low
 * `size` bytes of *val; write takes it from the low `size` bytes of val.
 * translate is optional and used by MOVS, CMPS, INS and OUTS: it turns
 * SEG:offset into a guest-physical address for `access` (INSN_READ or
 * INSN_WRITE), applying the segment base and the guest's paging
 * (hv/insn/gpt.h); when it fails it returns a negative error (and records a
 * #PF to inject in ctx, if that is the reason). With these, read and write
 * see both sides, one of which is usually guest RAM. port_in and port_out
 * (optional, for INS and OUTS) access I/O port `port`. All return 0 or a
 * negative error, which insn_emulate returns; without an optional callback
 * the instruction that needs it is -E_NOSUPP.
 */
struct insn_mem_ops {
	int (*read)(void *ctx, u64 gpa, u32 size, u64 *val);
	int (*write)(void *ctx, u64 gpa, u32 size, u64 val);
	int (*translate)(void *ctx, u8 seg, u64 offset, u32 access, u64 *gpa);
	int (*port_in)(void *ctx, u16 port, u32 size, u64 *val);
	int (*port_out)(void *ctx, u16 port, u32 size, u64 val);
};

/* insn_emulate results besides negative errors */
/* finished: advance RIP by d->len */
#define INSN_DONE 0
/* one REP iteration done, RCX != 0: leave RIP, the guest re-executes the
 * instruction */
#define INSN_AGAIN 1

/*
 * Performs the access at gpa (the faulting guest-physical address) for the
 * decoded instruction, on gpr[GPR_COUNT] (RAX, RCX, ... R15, enum gpr) and
 * *rflags. Registers follow SDM 1 3.4.1.1: 32-bit results zero-extend to 64
 * bits, 8/16-bit results merge into the low bits (AH..BH into bits 15:8).
 * Arithmetic sets CF PF AF ZF SF OF as the hardware does; CMP, TEST, CMPS
 * and SCAS only set flags; logic ops clear AF (architecturally undefined);
 * BTx set only CF; INC and DEC leave CF, NOT all flags; CMPXCHG writes the
 * destination back when the comparison fails, as the processor does (SDM 2
 * CMPXCHG).
 *
 * REP strings: one element per call. The instruction is restarted by the
 * guest (INSN_AGAIN) until RCX reaches 0 (or, for CMPS and SCAS, ZF says
 * REPE/REPNE stops), so each element gets its own exit at its own address,
 * interrupts are taken between elements as on hardware, and elements that
 * land in RAM run natively. RSI/RDI step by size, down when RFLAGS.DF is
 * set; RCX, RSI and RDI are addr_size wide. MOVS, CMPS, INS and OUTS
 * ignore gpa and translate their addresses with ops->translate; INS and
 * OUTS use port DX.
 */
int insn_emulate(const struct insn *d, u64 *gpr, u64 *rflags, u64 gpa,
		 const struct insn_mem_ops *ops, void *ctx);
