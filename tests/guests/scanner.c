/*
 * scanner: looks for the isolation marker (lib/marker.h, from marker=HEX)
 * in the whole guest-physical address space it can reach: it reads the
 * first 64 bytes at every stride=SIZE (default 1 MiB) from 0 to
 * scan_top=SIZE (default 4G; above 4 GiB through a PAE window), skipping
 * only the pages of the local APIC and the I/O APIC (registers that a
 * 64-byte sweep would read at offsets they do not define: Bochs stops on
 * it) and not counting matches inside its own image. Reads outside its
 * RAM are counted, and so are those that returned all-ones, which inside a
 * partition is what memory it does not own reads.
 * plant=ADDR first writes the marker at ADDR itself: the scanner's self-test
 * (it must then FAIL, naming ADDR).
 *
 * Bare under QEMU the reads outside RAM hit QEMU's devices: a smoke test.
 *
 * PASS: marker not found, scanned N addresses, M outside RAM read all-ones
 */
#include "cmdline.h"
#include "console.h"
#include "cpu.h"
#include "guest.h"
#include "hv/hw/ioapic.h"
#include "lapic.h"
#include "lib.h"
#include "marker.h"
#include "multiboot.h"
#include "paging.h"

#define ALL_ONES 0xffffffffU
#define REPORT_MAX 8

const char guest_name[] = "scanner";

static u8 block[MARKER_SIZE];

struct scan {
	u64 points, outside, outside_ones, found;
	u64 first_found;
	u32 reported;
};

static bool in_image(u64 pa)
{
	return pa + MARKER_SIZE > guest_image_start() && pa < guest_image_end();
}

static bool is_apic(u64 pa)
{
	return (pa >= lapic_base() && pa < lapic_base() + LAPIC_MMIO_SIZE) ||
	       (pa >= IOAPIC_DEFAULT_BASE && pa < IOAPIC_DEFAULT_BASE + IOAPIC_MMIO_SIZE);
}

static void scan_point(struct scan *s, u64 pa)
{
	uintptr_t va = (uintptr_t)pa;
	u32 words[MARKER_SIZE / 4];
	bool ones = true, ram = mb_is_ram(pa) && mb_is_ram(pa + MARKER_SIZE - 1);

	if (pa >= FOUR_GIB && !(va = phys_window(pa)))
		guest_fail("0x%llx is beyond the physical address width", pa);
	for (u32 i = 0; i < ARRAY_SIZE(words); i++) {
		words[i] = mmio_read32(va + i * 4);
		ones &= words[i] == ALL_ONES;
	}
	s->points++;
	if (!ram) {
		s->outside++;
		if (ones)
			s->outside_ones++;
		else if (s->reported++ < REPORT_MAX)
			con_printf("scanner: 0x%llx is outside RAM and reads 0x%08x 0x%08x ...\n",
				   pa, words[0], words[1]);
	}
	if (!memcmp(words, block, MARKER_SIZE) && !in_image(pa)) {
		if (!s->found++)
			s->first_found = pa;
		con_printf("scanner: MARKER FOUND at 0x%llx\n", pa);
	}
}

static void plant(u64 pa)
{
	u32 w;

	if (pa >= FOUR_GIB || !mb_is_ram(pa) || in_image(pa))
		guest_fail("plant=0x%llx: not RAM below 4 GiB outside the image", pa);
	for (u32 i = 0; i < MARKER_SIZE; i += 4) {
		memcpy(&w, block + i, sizeof(w));
		mmio_write32((uintptr_t)pa + i, w);
	}
	con_printf("scanner: planted the marker at 0x%llx (self-test)\n", pa);
}

void guest_main(void)
{
	char hex[MARKER_HEX_MAX + 1];
	u64 stride = cmdline_size("stride", 1 * MiB), top = cmdline_size("scan_top", FOUR_GIB);
	struct scan s = { 0 };

	marker_from_cmdline(block, hex);
	if (stride < MARKER_SIZE || stride % 4)
		guest_fail("stride=%llu: want a multiple of 4 of at least %u", stride, MARKER_SIZE);
	if (top > phys_addr_limit()) {
		con_printf("scanner: scan_top 0x%llx is beyond the physical address width, "
			   "scanning to 0x%llx\n",
			   top, phys_addr_limit());
		top = phys_addr_limit();
	}
	if (cmdline_has("plant"))
		plant(cmdline_u64("plant", 0));
	con_printf("scanner: scanning [0, 0x%llx) every 0x%llx bytes for marker %s\n", top, stride,
		   hex);

	for (u64 pa = 0; pa + MARKER_SIZE <= top; pa += stride)
		if (!is_apic(pa))
			scan_point(&s, pa);
	phys_window_off();

	if (s.found)
		guest_fail("marker found at 0x%llx (%llu times in all), scanned %llu addresses",
			   s.first_found, s.found, s.points);
	guest_pass("marker not found, scanned %llu addresses, %llu outside RAM read all-ones "
		   "(%llu outside RAM in all; stride 0x%llx, top 0x%llx)",
		   s.points, s.outside_ones, s.outside, stride, top);
}
