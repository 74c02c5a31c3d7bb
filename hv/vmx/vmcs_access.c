/*
 * VMX instructions with their results checked (STYLE.md: VMWRITE fails
 * silently otherwise). SDM 3C 31.2: success clears CF and ZF; VMfailInvalid
 * sets CF (no current VMCS), VMfailValid sets ZF and leaves the error number
 * in the VM-instruction error field (31.4).
 */
#include "hv/console/console.h"
#include "hv/cpu/panic.h"
#include "hv/vmx/vmx.h"

/* The INVEPT / INVVPID descriptors (SDM 3C 31.3) */
struct invept_desc {
	u64 eptp;
	u64 reserved;
};

struct invvpid_desc {
	u64 vpid; /* bits 15:0; the rest must be 0 */
	u64 linear_addr;
};

static bool raw_vmread(u32 field, u64 *val)
{
	u8 ok;

	__asm__ volatile("vmread %[field], %[val]\n\t"
			 "seta %[ok]"
			 : [val] "=rm"(*val), [ok] "=qm"(ok)
			 : [field] "r"((u64)field)
			 : "cc");
	return ok;
}

u32 vmcs_insn_error(void)
{
	u64 err = 0;

	return raw_vmread(VMCS_INSN_ERROR, &err) ? (u32)err : 0;
}

static void report(const char *insn, u32 field, void *caller)
{
	u32 err = vmcs_insn_error();

	pr_err("vmx: %s %#x failed (VM-instruction error %u: %s) from %p\n", insn, field, err,
	       err ? vmx_insn_error_name(err) : "no current VMCS", caller);
}

bool vmcs_write(u32 field, u64 val)
{
	u8 ok;

	__asm__ volatile("vmwrite %[val], %[field]\n\t"
			 "seta %[ok]"
			 : [ok] "=qm"(ok)
			 : [val] "rm"(val), [field] "r"((u64)field)
			 : "cc", "memory");
	if (!ok)
		report("VMWRITE", field, __builtin_return_address(0));
	return ok;
}

bool vmcs_read(u32 field, u64 *val)
{
	bool ok = raw_vmread(field, val);

	if (!ok) {
		*val = 0;
		report("VMREAD", field, __builtin_return_address(0));
	}
	return ok;
}

void vmcs_access_failed(const char *insn, u32 field)
{
	report(insn, field, __builtin_return_address(0));
	panic("vmx: %s of field %#x failed", insn, field);
}

bool vmx_vmclear(u64 pa)
{
	u8 ok;

	__asm__ volatile("vmclear %[pa]\n\t"
			 "seta %[ok]"
			 : [ok] "=qm"(ok)
			 : [pa] "m"(pa)
			 : "cc", "memory");
	return ok;
}

bool vmx_vmptrld(u64 pa)
{
	u8 ok;

	__asm__ volatile("vmptrld %[pa]\n\t"
			 "seta %[ok]"
			 : [ok] "=qm"(ok)
			 : [pa] "m"(pa)
			 : "cc", "memory");
	return ok;
}

/* A failed invalidation would leave stale translations: a hypervisor bug
 * that breaks isolation, so it stops the machine. */
void vmx_invept(u64 type, u64 eptp)
{
	struct invept_desc d = { .eptp = eptp, .reserved = 0 };
	u8 ok;

	__asm__ volatile("invept %[desc], %[type]\n\t"
			 "seta %[ok]"
			 : [ok] "=qm"(ok)
			 : [desc] "m"(d), [type] "r"(type)
			 : "cc", "memory");
	if (!ok)
		panic("vmx: INVEPT type %lu failed (VM-instruction error %u)", type,
		      vmcs_insn_error());
}

void vmx_invvpid(u64 type, u16 vpid)
{
	struct invvpid_desc d = { .vpid = vpid, .linear_addr = 0 };
	u8 ok;

	__asm__ volatile("invvpid %[desc], %[type]\n\t"
			 "seta %[ok]"
			 : [ok] "=qm"(ok)
			 : [desc] "m"(d), [type] "r"(type)
			 : "cc", "memory");
	if (!ok)
		panic("vmx: INVVPID type %lu failed (VM-instruction error %u)", type,
		      vmcs_insn_error());
}
