/*
 * Port I/O exits. A port that one of the partition's virtual devices claims
 * goes to it; any other port is not there (default deny, DESIGN.md): reads
 * return all-ones, writes are dropped, as on an ISA bus with nothing behind.
 * String I/O goes the same way, one element per exit, its memory side
 * emulated with the MMIO instructions (hv/policy/mmio.c).
 */
#include "hv/policy/io.h"
#include "hv/partition/partition.h"
#include "hv/policy/mmio.h"
#include "hv/vcpu/exit.h"
#include "hv/vdev/vdev.h"
#include "hv/virt.h"

int io_port_access(struct vcpu *v, u16 port, u8 size, bool write, u64 *val)
{
	const struct vdev_range *r = vdev_find_io(&v->part->vdevs, port);
	struct vdev_access a = { port, size, write, write ? *val & vdev_size_mask(size) : 0 };
	int err;

	if (!r) {
		if (!write)
			*val = vdev_size_mask(size);
		return 0;
	}
	err = r->access(r->dev, v, &a);
	if (!write)
		*val = err ? vdev_size_mask(size) : a.val & vdev_size_mask(size);
	return 0;
}

enum exit_action io_handle(struct vcpu *v, struct vm_exit *e)
{
	u64 val = v->gpr[GPR_RAX];

	/* INS/OUTS: decoded and emulated with their memory side */
	if (e->io.string)
		return mmio_string_io(v, e);
	io_port_access(v, e->io.port, e->io.size, !e->io.in, &val);
	if (e->io.in) {
		u64 mask = vdev_size_mask(e->io.size);

		/* SDM 1 3.4.1.1: 8/16-bit results merge; a 32-bit IN zero-extends */
		if (e->io.size == 4)
			v->gpr[GPR_RAX] = val & mask;
		else
			v->gpr[GPR_RAX] = (v->gpr[GPR_RAX] & ~mask) | (val & mask);
	}
	return exit_skip(v, e);
}
