/* The IDT and the exception dispatcher (SDM 3A 6.10-6.14). */
#include "trap.h"
#include "guest.h"
#include "hv/hw/x86.h"

/* Opcodes the #GP handler may skip (SDM 2B RDMSR, WRMSR, XSETBV, MOV to CR) */
#define OPC_TWO_BYTE 0x0f
#define OPC_WRMSR 0x30
#define OPC_RDMSR 0x32
#define OPC_GROUP7 0x01
#define MODRM_XSETBV 0xd1
#define OPC_MOV_TO_CR 0x22
#define MODRM_MOD_REG 0xc0

struct idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 zero;
	u8 type;
	u16 offset_hi;
} __packed;

struct idt_desc {
	u16 limit;
	u32 base;
} __packed;

extern const u32 trap_stubs[X86_EXC_COUNT];

static struct idt_gate idt[X86_EXC_COUNT] __aligned(8);
static trap_hook_fn trap_hooks[X86_EXC_COUNT];
static volatile u32 probe_armed;
static volatile u32 probe_faults;

static const char *const trap_names[X86_EXC_COUNT] = {
	"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "CSO", "#TS",
	"#NP", "#SS", "#GP", "#PF", "15",  "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

void trap_load(void)
{
	struct idt_desc d = { .limit = sizeof(idt) - 1, .base = (u32)(uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(d) : "memory");
}

void trap_set_gate(u32 vector, u32 offset, u16 sel, u8 type)
{
	idt[vector] = (struct idt_gate){
		.offset_lo = (u16)offset,
		.selector = sel,
		.type = type,
		.offset_hi = (u16)(offset >> 16),
	};
}

void trap_init(void)
{
	for (u32 v = 0; v < X86_EXC_COUNT; v++)
		trap_set_gate(v, trap_stubs[v], SEL_CODE, IDT_TYPE_INTR32);
	trap_load();
}

void trap_set_hook(u32 vector, trap_hook_fn fn)
{
	__atomic_store_n(&trap_hooks[vector], fn, __ATOMIC_RELEASE);
}

/* The length of the instruction of an armed probe that raised this #GP:
 * RDMSR/WRMSR (0F 3x), XSETBV (0F 01 D1), MOV CRn, r32 (0F 22 /r, mod 11);
 * 0 for any other fault. */
static u32 probe_len(const struct trap_frame *f)
{
	const u8 *insn = (const u8 *)(uintptr_t)f->eip;

	if (f->vector != X86_EXC_GP || !probe_armed || insn[0] != OPC_TWO_BYTE)
		return 0;
	if (insn[1] == OPC_RDMSR || insn[1] == OPC_WRMSR)
		return 2;
	if ((insn[1] == OPC_GROUP7 && insn[2] == MODRM_XSETBV) ||
	    (insn[1] == OPC_MOV_TO_CR && (insn[2] & MODRM_MOD_REG) == MODRM_MOD_REG))
		return 3;
	return 0;
}

void trap_dispatch(struct trap_frame *f)
{
	trap_hook_fn hook = __atomic_load_n(&trap_hooks[f->vector], __ATOMIC_ACQUIRE);
	u32 len;

	if (hook && hook(f))
		return;
	len = probe_len(f);
	if (len) {
		probe_faults++;
		f->eip += len;
		return;
	}
	guest_fail("exception %u (%s) error=0x%x eip=0x%x eflags=0x%x eax=0x%x ebx=0x%x "
		   "ecx=0x%x edx=0x%x esi=0x%x edi=0x%x ebp=0x%x",
		   f->vector, trap_names[f->vector] ? trap_names[f->vector] : "reserved", f->error,
		   f->eip, f->eflags, f->eax, f->ebx, f->ecx, f->edx, f->esi, f->edi, f->ebp);
}

bool msr_read_safe(u32 msr, u64 *val)
{
	u32 lo = 0, hi = 0, before = probe_faults;

	probe_armed = 1;
	__asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
	probe_armed = 0;
	*val = ((u64)hi << 32) | lo;
	return probe_faults == before;
}

bool msr_write_safe(u32 msr, u64 val)
{
	u32 before = probe_faults;

	probe_armed = 1;
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
	probe_armed = 0;
	return probe_faults == before;
}

bool xsetbv_safe_probe(u32 xcr, u64 val)
{
	u32 before = probe_faults;

	probe_armed = 1;
	__asm__ volatile("xsetbv" : : "c"(xcr), "a"((u32)val), "d"((u32)(val >> 32)) : "memory");
	probe_armed = 0;
	return probe_faults == before;
}

bool cr0_write_safe(u32 val)
{
	u32 before = probe_faults;

	probe_armed = 1;
	__asm__ volatile("mov %0, %%cr0" : : "r"(val) : "memory");
	probe_armed = 0;
	return probe_faults == before;
}

bool cr4_write_safe(u32 val)
{
	u32 before = probe_faults;

	probe_armed = 1;
	__asm__ volatile("mov %0, %%cr4" : : "r"(val) : "memory");
	probe_armed = 0;
	return probe_faults == before;
}
