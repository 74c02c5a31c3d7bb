/* The guest's code as the hypervisor reads it, through the guest's own paging. */
#include "hv/vcpu/guest_code.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/partition/partition.h"
#include "hv/virt.h"

#define MAXPHYADDR_MASK 0xff

static int read_phys(void *ctx, u64 gpa, void *buf, size_t len)
{
	const void *src = part_gpa_ptr(ctx, gpa, len);

	if (!src)
		return -E_NOENT;
	memcpy(buf, src, len);
	return 0;
}

const struct gpt_mem_ops guest_gpt_mem = { .read_phys = read_phys };

/* The guest sees the host's physical address width (hv/policy/cpuid.c). Asked of
 * CPUID once: an MMIO exit walks the guest's page tables twice. */
static u8 host_maxphyaddr(void)
{
	static u8 bits;

	if (!bits)
		bits = (u8)(cpuid(CPUID_ADDR_SIZES).eax & MAXPHYADDR_MASK);
	return bits;
}

void guest_gpt_regs(const struct vcpu_state *st, struct gpt_regs *r)
{
	memset(r, 0, sizeof(*r));
	r->cr0 = st->cr0;
	r->cr3 = st->cr3;
	r->cr4 = st->cr4;
	r->efer = st->efer;
	r->rflags = st->rflags;
	r->maxphyaddr = host_maxphyaddr();
}

bool guest_long_mode(const struct vcpu_state *st)
{
	return (st->efer & EFER_LMA) && (st->cs.attr & SEG_ATTR_L);
}

bool guest_user_mode(const struct vcpu_state *st)
{
	return ((st->ss.attr >> SEG_ATTR_DPL_SHIFT) & 3) == 3;
}

enum insn_mode guest_insn_mode(const struct vcpu_state *st)
{
	return insn_cpu_mode(st->rflags & RFLAGS_VM, st->efer & EFER_LMA, st->cs.attr & SEG_ATTR_L,
			     st->cs.attr & SEG_ATTR_DB);
}

int guest_fetch_insn(struct vcpu *v, u8 *buf, u32 *got, u32 *pf_err, u64 *fault_gla)
{
	const struct vcpu_state *st = &v->state;
	struct gpt_regs regs;
	u64 rip;

	vcpu_ops->load_state(v, VS_RIP | VS_RFLAGS | VS_CR | VS_SEG_CODE);
	guest_gpt_regs(st, &regs);
	/* SDM 3A 3.4.4: no CS base in 64-bit mode */
	rip = (guest_long_mode(st) ? 0 : st->cs.base) + st->rip;
	*got = 0;
	return gpt_fetch(&regs, rip, guest_user_mode(st) ? GPT_ACC_USER : 0, &guest_gpt_mem,
			 v->part, buf, INSN_MAX_LEN, got, pf_err, fault_gla);
}
