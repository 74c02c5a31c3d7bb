/*
 * Second-level faults: an access to guest-physical memory that is not the
 * partition's RAM. The instruction is fetched from the guest (through its own
 * page tables), decoded and emulated against the device that claims the
 * address; an address nobody claims is open bus (reads all-ones, writes
 * dropped), so a guest that probes outside its RAM learns nothing and never
 * reaches memory it does not own.
 */
#include "hv/policy/mmio.h"
#include "hv/console/console.h"
#include "hv/hw/x86.h"
#include "hv/insn/emulate.h"
#include "hv/insn/gpt.h"
#include "hv/lib/lib.h"
#include "hv/partition/partition.h"
#include "hv/vcpu/exit.h"
#include "hv/vcpu/guest_code.h"
#include "hv/vdev/vdev.h"
#include "hv/virt.h"

#define OPEN_BUS_REPORTS 3 /* log the first few, count the rest */

struct mmio_ctx {
	struct vcpu *v;
	bool pf; /* a MOVS address faulted in the guest's page tables */
	u32 pf_code;
	u64 pf_gla;
};

static void open_bus(struct vcpu *v, u64 gpa, bool write)
{
	struct partition *p = v->part;
	u64 n = __atomic_fetch_add(&p->open_bus_accesses, 1, __ATOMIC_RELAXED);

	if (n < OPEN_BUS_REPORTS)
		pr_info("partition %s: %s guest-physical %#lx: nothing there (%s)\n", p->name,
			write ? "write to" : "read of", gpa, write ? "dropped" : "reads all-ones");
}

static int dev_access(struct mmio_ctx *m, u64 gpa, u32 size, bool write, u64 *val)
{
	const struct vdev_range *r = vdev_find_mmio(&m->v->part->vdevs, gpa);
	struct vdev_access a = { gpa, (u8)size, write, write ? *val : 0 };

	if (!r || (r->access(r->dev, m->v, &a) && !write)) {
		if (!r)
			open_bus(m->v, gpa, write);
		if (!write)
			*val = vdev_size_mask(size);
		return 0;
	}
	if (!write)
		*val = a.val & vdev_size_mask(size);
	return 0;
}

static int mem_read(void *ctx, u64 gpa, u32 size, u64 *val)
{
	void *ram = part_gpa_ptr(((struct mmio_ctx *)ctx)->v->part, gpa, size);

	if (ram) { /* MOVS with one side in RAM */
		*val = 0;
		memcpy(val, ram, size);
		return 0;
	}
	return dev_access(ctx, gpa, size, false, val);
}

static int mem_write(void *ctx, u64 gpa, u32 size, u64 val)
{
	void *ram = part_gpa_ptr(((struct mmio_ctx *)ctx)->v->part, gpa, size);

	if (ram) {
		memcpy(ram, &val, size);
		return 0;
	}
	return dev_access(ctx, gpa, size, true, &val);
}

/* MOVS: segment:offset -> guest-physical through the guest's paging. */
static int mem_translate(void *ctx, u8 seg, u64 off, u32 access, u64 *gpa)
{
	struct mmio_ctx *m = ctx;
	const struct vcpu_state *st = &m->v->state;
	const struct seg *segs[] = { &st->es, &st->cs, &st->ss, &st->ds, &st->fs, &st->gs };
	u32 acc = (access & INSN_WRITE) ? GPT_ACC_WRITE : 0;
	struct gpt_regs regs;
	u64 base = 0;
	int rc;

	vcpu_ops->load_state(m->v, VS_SEG); /* the fetch loaded CS and SS only */
	/* SDM 3A 3.4.4: in 64-bit mode only FS and GS have a base */
	if (seg < ARRAY_SIZE(segs) && !(guest_long_mode(st) && seg < INSN_SEG_FS))
		base = segs[seg]->base;
	if (guest_user_mode(st))
		acc |= GPT_ACC_USER;
	guest_gpt_regs(st, &regs);
	rc = gpt_translate(&regs, base + off, acc, &guest_gpt_mem, m->v->part, gpa, &m->pf_code);
	if (rc == GPT_PAGE_FAULT) {
		m->pf = true;
		m->pf_gla = base + off;
		return -E_RANGE;
	}
	return rc;
}

static const struct insn_mem_ops mem_ops = {
	.read = mem_read,
	.write = mem_write,
	.translate = mem_translate,
};

static enum exit_action inject_pf(struct vcpu *v, struct vm_exit *e, u64 gla, u32 code)
{
	v->state.cr2 = gla;
	vcpu_ops->store_state(v, VS_CR);
	return exit_inject(v, e, X86_EXC_PF, true, code);
}

enum exit_action mmio_handle(struct vcpu *v, struct vm_exit *e)
{
	struct vcpu_state *st = &v->state;
	struct mmio_ctx m = { .v = v };
	struct insn d;
	u8 bytes[INSN_MAX_LEN];
	u32 got = 0, pf_err = 0;
	u64 fault_gla;
	int rc, drc;

	if (part_gpa_ptr(v->part, e->slat.gpa, 1))
		return exit_fatal(v, EXIT_CRASH, "second-level fault on the partition's own RAM");
	if (e->slat.access & EXIT_ACCESS_EXEC)
		return exit_fatal(v, EXIT_CRASH, "executing outside its RAM");

	rc = guest_fetch_insn(v, bytes, &got, &pf_err, &fault_gla);
	if (rc == GPT_PAGE_FAULT && !got) /* the code page is not mapped: its own #PF */
		return inject_pf(v, e, fault_gla, pf_err);
	if (rc < 0 || !got)
		return exit_fatal(v, EXIT_CRASH, "cannot fetch the instruction of an MMIO access");
	drc = insn_decode(&d, bytes, got, guest_insn_mode(st));
	/* an instruction that runs into an unmapped page faults there */
	if (drc == -E_INVAL && rc == GPT_PAGE_FAULT)
		return inject_pf(v, e, fault_gla, pf_err);
	if (drc)
		return exit_fatal(v, EXIT_CRASH, "unsupported instruction for an MMIO access");
	rc = insn_emulate(&d, v->gpr, &st->rflags, e->slat.gpa, &mem_ops, &m);
	if (rc < 0 && m.pf)
		return inject_pf(v, e, m.pf_gla, m.pf_code);
	if (rc < 0)
		return exit_fatal(v, EXIT_CRASH, "MMIO emulation failed");
	if (rc == INSN_DONE)
		st->rip += d.len;
	vcpu_ops->store_state(v, VS_RIP | VS_RFLAGS);
	return EXIT_RESUME;
}
