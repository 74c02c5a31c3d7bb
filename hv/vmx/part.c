/*
 * Per-partition VT-x state: the MSR bitmap and the I/O bitmaps A and B
 * (SDM 3C 25.6.4, 25.6.9), shared by the partition's vCPUs. Default deny:
 * every bit set, so every MSR and port access exits until the core lets one
 * through.
 */
#include "hv/lib/lib.h"
#include "hv/mm/mm.h"
#include "hv/partition/partition.h"
#include "hv/vmx/vmx.h"

static struct vmx_part *vp(struct partition *p)
{
	return p->vendor;
}

void vmx_part_free(struct partition *p)
{
	struct vmx_part *x = vp(p);

	if (!x)
		return;
	if (x->msr_bitmap)
		mm_free(x->msr_bitmap, VMX_MSR_BITMAP_SIZE);
	if (x->io_bitmap_a)
		mm_free(x->io_bitmap_a, VMX_IO_BITMAP_SIZE);
	if (x->io_bitmap_b)
		mm_free(x->io_bitmap_b, VMX_IO_BITMAP_SIZE);
	mm_free(x, sizeof(*x));
	p->vendor = NULL;
}

int vmx_part_init(struct partition *p)
{
	struct vmx_part *x = mm_alloc(sizeof(*x), sizeof(u64), 0);

	if (!x)
		return -E_NOMEM;
	p->vendor = x;
	/* each bitmap is one 4 KiB-aligned page (25.6.4, 25.6.9) */
	x->msr_bitmap = mm_alloc_page();
	x->io_bitmap_a = mm_alloc_page();
	x->io_bitmap_b = mm_alloc_page();
	if (!x->msr_bitmap || !x->io_bitmap_a || !x->io_bitmap_b) {
		vmx_part_free(p);
		return -E_NOMEM;
	}
	memset(x->msr_bitmap, 0xff, VMX_MSR_BITMAP_SIZE);
	memset(x->io_bitmap_a, 0xff, VMX_IO_BITMAP_SIZE);
	memset(x->io_bitmap_b, 0xff, VMX_IO_BITMAP_SIZE);
	x->msr_bitmap_pa = virt_to_phys(x->msr_bitmap);
	x->io_bitmap_a_pa = virt_to_phys(x->io_bitmap_a);
	x->io_bitmap_b_pa = virt_to_phys(x->io_bitmap_b);
	return 0;
}

void vmx_set_msr_intercept(struct partition *p, u32 msr, bool read, bool write)
{
	vmx_msr_bitmap_set(vp(p)->msr_bitmap, msr, read, write);
}

void vmx_set_io_intercept(struct partition *p, u16 port, bool intercept)
{
	vmx_io_bitmap_set(vp(p)->io_bitmap_a, vp(p)->io_bitmap_b, port, intercept);
}
