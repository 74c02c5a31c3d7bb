/*
 * Second-level faults: an access to guest-physical memory that is not the
 * partition's RAM. The instruction is fetched from the guest (through its own
 * page tables), decoded and emulated against the device that claims the
 * address; an address nobody claims is open bus (reads all-ones, writes
 * dropped), so a guest that probes outside its RAM learns nothing and never
 * reaches memory it does not own. String I/O (INS/OUTS) exits come here
 * too, for their memory side.
 *
 * The guest gets what the processor would have given it instead of the
 * exit: #PF where its own paging says so, #GP(0) for an instruction over 15
 * bytes (SDM 2 2.3.11) or a non-canonical string address (SDM 3A 6.15; an
 * SS override would give #SS there), and #UD, as from a processor that
 * lacks it, for an instruction the emulator does not have (hv/insn/insn.h
 * lists those it has; the first few are reported). Only what no guest can
 * do on hardware stops the partition: executing outside its RAM, a
 * second-level fault on its own RAM, an instruction or page table that
 * lies outside its RAM.
 */
#include "hv/policy/mmio.h"
#include "hv/console/console.h"
#include "hv/hw/x86.h"
#include "hv/insn/emulate.h"
#include "hv/insn/gpt.h"
#include "hv/lib/lib.h"
#include "hv/partition/partition.h"
#include "hv/policy/io.h"
#include "hv/vcpu/exit.h"
#include "hv/vcpu/guest_code.h"
#include "hv/vdev/vdev.h"
#include "hv/virt.h"

#define OPEN_BUS_REPORTS 3 /* log the first few, count the rest */
#define UNEMULATED_REPORTS 3
#define UNEMULATED_SHOWN 8 /* instruction bytes in the report */

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

/* INS/OUTS: the partition's ports (hv/policy/io.c) */
static int port_in(void *ctx, u16 port, u32 size, u64 *val)
{
	return io_port_access(((struct mmio_ctx *)ctx)->v, port, (u8)size, false, val);
}

static int port_out(void *ctx, u16 port, u32 size, u64 val)
{
	return io_port_access(((struct mmio_ctx *)ctx)->v, port, (u8)size, true, &val);
}

static const struct insn_mem_ops mem_ops = {
	.read = mem_read,
	.write = mem_write,
	.translate = mem_translate,
	.port_in = port_in,
	.port_out = port_out,
};

static enum exit_action inject_pf(struct vcpu *v, struct vm_exit *e, u64 gla, u32 code)
{
	v->state.cr2 = gla;
	vcpu_ops->store_state(v, VS_CR);
	return exit_inject(v, e, X86_EXC_PF, true, code);
}

/* An instruction the emulator does not have: #UD (see the top). */
static enum exit_action unemulated(struct vcpu *v, struct vm_exit *e, const u8 *bytes, u32 got)
{
	static u32 reported;
	char hex[3 * UNEMULATED_SHOWN + 1] = "";

	if (__atomic_fetch_add(&reported, 1, __ATOMIC_RELAXED) < UNEMULATED_REPORTS) {
		for (u32 i = 0; i < MIN(got, (u32)UNEMULATED_SHOWN); i++)
			snprintf(hex + 3 * i, sizeof(hex) - 3 * i, " %02x", bytes[i]);
		pr_info("partition %s: vCPU %u: no emulation of the instruction at %#lx (%s): "
			"#UD\n",
			v->part->name, v->id, v->state.rip, hex + 1);
	}
	return exit_inject(v, e, X86_EXC_UD, false, 0);
}

/* Fetches, decodes and emulates the instruction at CS:RIP; gpa is the
 * faulting address (string I/O: none). */
static enum exit_action emulate(struct vcpu *v, struct vm_exit *e, u64 gpa, bool string_io)
{
	struct vcpu_state *st = &v->state;
	struct mmio_ctx m = { .v = v };
	struct insn d;
	u8 bytes[INSN_MAX_LEN];
	u32 got = 0, pf_err = 0;
	u64 fault_gla;
	int rc, drc;
	bool io_insn;

	rc = guest_fetch_insn(v, bytes, &got, &pf_err, &fault_gla);
	if (!got && rc == GPT_PAGE_FAULT) /* the code page is not mapped: its own #PF */
		return inject_pf(v, e, fault_gla, pf_err);
	drc = got ? insn_decode(&d, bytes, got, guest_insn_mode(st)) : -E_INVAL;
	/* an instruction that runs into an unmapped page faults there; into
	 * memory that is not RAM, it cannot be read */
	if (drc == -E_INVAL && rc == GPT_PAGE_FAULT)
		return inject_pf(v, e, fault_gla, pf_err);
	if (drc == -E_INVAL)
		return exit_fatal(v, EXIT_CRASH, "cannot fetch the instruction of an MMIO access");
	if (drc == -E_TOOBIG)
		return exit_inject(v, e, X86_EXC_GP, true, 0);
	io_insn = !drc && (d.op == INSN_OP_INS || d.op == INSN_OP_OUTS);
	/* not the INS/OUTS that exited: rewritten since, it runs again */
	if (string_io && !(io_insn && (d.op == INSN_OP_INS) == e->io.in && d.size == e->io.size))
		return EXIT_RESUME;
	/* at a memory fault, INS/OUTS are through a port the guest owns */
	if (drc || (io_insn && !string_io))
		return unemulated(v, e, bytes, got);
	rc = insn_emulate(&d, v->gpr, &st->rflags, gpa, &mem_ops, &m);
	if (rc < 0 && m.pf)
		return inject_pf(v, e, m.pf_gla, m.pf_code);
	if (rc == -E_RANGE)
		return exit_inject(v, e, X86_EXC_GP, true, 0);
	if (rc < 0)
		return exit_fatal(v, EXIT_CRASH, "MMIO emulation failed");
	if (rc == INSN_DONE)
		st->rip += d.len;
	vcpu_ops->store_state(v, VS_RIP | VS_RFLAGS);
	return EXIT_RESUME;
}

enum exit_action mmio_handle(struct vcpu *v, struct vm_exit *e)
{
	if (part_gpa_ptr(v->part, e->slat.gpa, 1))
		return exit_fatal(v, EXIT_CRASH, "second-level fault on the partition's own RAM");
	if (e->slat.access & EXIT_ACCESS_EXEC)
		return exit_fatal(v, EXIT_CRASH, "executing outside its RAM");
	return emulate(v, e, e->slat.gpa, false);
}

enum exit_action mmio_string_io(struct vcpu *v, struct vm_exit *e)
{
	return emulate(v, e, 0, true);
}
