/* What any CPU may do to a vCPU: post it a request, put it in its INIT state. */
#include "hv/vcpu/vcpu.h"
#include "drivers/lapic.h"
#include "hv/cpu/percpu.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"

/* SDM 3A 9.1.1, table 9-1: the state after INIT */
#define INIT_CR0 0x60000010ULL /* CD, NW, ET */
#define INIT_RIP 0xfff0
#define INIT_CS_SEL 0xf000
#define INIT_CS_BASE 0xffff0000ULL
#define REALMODE_LIMIT 0xffff
#define PAT_POWER_ON 0x0007040600070406ULL
#define ATTR_CODE (SEG_ATTR_P | SEG_ATTR_S | SEG_TYPE_CODE_RX)
#define ATTR_DATA (SEG_ATTR_P | SEG_ATTR_S | SEG_TYPE_DATA_RW)
#define ATTR_LDT (SEG_ATTR_P | SEG_TYPE_LDT)
#define ATTR_TSS (SEG_ATTR_P | SEG_TYPE_TSS_BUSY)
void vcpu_kick(struct vcpu *v, u32 req)
{
	vcpu_request(v, req);
	if (v->cpu != this_cpu())
		lapic_send_fixed(v->cpu->apic_id, VECTOR_KICK);
}

void vcpu_init_state(struct vcpu *v)
{
	struct vcpu_state *st = &v->state;
	const struct seg data = { 0, ATTR_DATA, REALMODE_LIMIT, 0 };

	memset(v->gpr, 0, sizeof(v->gpr));
	v->gpr[GPR_RDX] = cpuid(1).eax; /* processor signature */
	memset(st, 0, sizeof(*st));
	st->rip = INIT_RIP;
	st->rflags = RFLAGS_FIXED;
	st->cr0 = INIT_CR0;
	st->dr6 = DR6_INIT;
	st->dr7 = DR7_INIT;
	st->pat = PAT_POWER_ON;
	st->cs = (struct seg){ INIT_CS_SEL, ATTR_CODE, REALMODE_LIMIT, INIT_CS_BASE };
	st->ds = st->es = st->fs = st->gs = st->ss = data;
	st->ldtr = (struct seg){ 0, ATTR_LDT, REALMODE_LIMIT, 0 };
	st->tr = (struct seg){ 0, ATTR_TSS, REALMODE_LIMIT, 0 };
	st->gdtr.limit = st->idtr.limit = REALMODE_LIMIT;
}
