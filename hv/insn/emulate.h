/* Emulating a decoded instruction's memory access (MMIO exits). */
#pragma once

#include "hv/insn/insn.h"
#include "hv/lib/types.h"

/*
 * Device callbacks for insn_emulate. read stores the value in the low
 * `size` bytes of *val; write takes it from the low `size` bytes of val.
 * translate is optional and used only by MOVS: it turns SEG:offset into a
 * guest-physical address for `access` (INSN_READ or INSN_WRITE), applying
 * the segment base and the guest's paging (hv/insn/gpt.h); when it fails it
 * returns a negative error (and records a #PF to inject in ctx, if that is
 * the reason). With MOVS, read and write see both sides, one of which is
 * usually guest RAM. All return 0 or a negative error, which
 * insn_emulate returns.
 */
struct insn_mem_ops {
	int (*read)(void *ctx, u64 gpa, u32 size, u64 *val);
	int (*write)(void *ctx, u64 gpa, u32 size, u64 val);
	int (*translate)(void *ctx, u8 seg, u64 offset, u32 access, u64 *gpa);
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
 * Arithmetic sets CF PF AF ZF SF OF as the hardware does; CMP and TEST only
 * set flags; logic ops clear AF (architecturally undefined); BTx set only CF.
 *
 * REP strings: one element per call. The instruction is restarted by the
 * guest (INSN_AGAIN) until RCX reaches 0, so each element gets its own exit
 * at its own address, interrupts are taken between elements as on hardware,
 * and elements that land in RAM run natively. RSI/RDI step by size, down
 * when RFLAGS.DF is set; RCX, RSI and RDI are addr_size wide.
 * MOVS ignores gpa and translates both of its addresses with ops->translate.
 */
int insn_emulate(const struct insn *d, u64 *gpr, u64 *rflags, u64 gpa,
		 const struct insn_mem_ops *ops, void *ctx);
