/*
 * The guest page-table walker (SDM 3A chapter 4): translates a guest-linear
 * address through the guest's own paging structures, read from guest-physical
 * memory through a callback, for the MMIO emulator (fetching the faulting
 * instruction, MOVS operands).
 *
 * It only reads: accessed and dirty bits are not set (the guest's access
 * that follows, or the re-executed instruction, sets them on hardware), and
 * paging-structure caches are not modelled. When a translation fails the
 * caller injects #PF with the error code returned here and CR2 = gla.
 * Protection keys (CR4.PKE/PKS) and shadow stacks are not checked.
 */
#pragma once

#include "hv/lib/types.h"

/* The guest state that paging depends on */
struct gpt_regs {
	u64 cr0, cr3, cr4, efer;
	u64 rflags;	  /* only AC, for SMAP (SDM 3A 4.6.1) */
	u8 maxphyaddr;	  /* the guest's MAXPHYADDR (CPUID 80000008h); 0: 52 */
	const u64 *pdpte; /* PAE: the four PDPTE registers when the backend
				   has them (VT-x with EPT); NULL: read from CR3 */
};

/*
 * Access kinds, the bits the #PF error code uses for them (SDM 3A 4.7);
 * no bit set is a supervisor data read.
 */
#define GPT_ACC_WRITE BIT(1)
#define GPT_ACC_USER BIT(2) /* CPL 3 */
#define GPT_ACC_EXEC BIT(4)

/* #PF error code (SDM 3A 4.7, figure 4-12) */
#define PF_ERR_P BIT(0) /* a protection violation, not a missing page */
#define PF_ERR_W BIT(1)
#define PF_ERR_U BIT(2)
#define PF_ERR_RSVD BIT(3)
#define PF_ERR_I BIT(4)

/* Physical reads of the guest's memory: 0, or -E_NOENT when gpa is not RAM. */
struct gpt_mem_ops {
	int (*read_phys)(void *ctx, u64 gpa, void *buf, size_t len);
};

/* gpt_translate / gpt_fetch result: inject #PF(*pf_error_code) */
#define GPT_PAGE_FAULT 1

/*
 * Translates gla for `access` (GPT_ACC_*). Returns 0 with *gpa set,
 * GPT_PAGE_FAULT with *pf_error_code set, -E_RANGE for a non-canonical
 * address (#GP or #SS on hardware, not #PF), or the error of read_phys when
 * a paging structure is not in RAM (the guest cannot be continued).
 */
int gpt_translate(const struct gpt_regs *r, u64 gla, u32 access, const struct gpt_mem_ops *mem,
		  void *ctx, u64 *gpa, u32 *pf_error_code);

/*
 * Reads len (at most 15) instruction bytes at gla into buf, translating each
 * page that the range touches; access is GPT_ACC_USER or 0 (GPT_ACC_EXEC is
 * added). Returns 0 with *got = len, or the first failure's result
 * (GPT_PAGE_FAULT with *pf_error_code and *fault_gla, or a negative error)
 * with *got the bytes read before it. A failure on the second page need not
 * matter: if the instruction decodes from the first *got bytes, the
 * hardware never touched the second page.
 */
int gpt_fetch(const struct gpt_regs *r, u64 gla, u32 access, const struct gpt_mem_ops *mem,
	      void *ctx, u8 *buf, u32 len, u32 *got, u32 *pf_error_code, u64 *fault_gla);
