/*
 * marker: writes the 64-byte isolation marker (lib/marker.h, built from
 * marker=HEX) at the start of every 1 MiB of its RAM that is not its own
 * image (every=SIZE, a power of two, changes the spacing), prints "MARKER placed", then the
 * verdict, then heartbeats: forever, or count=N of them and stops. The
 * scanner guest, in another partition, must not find the marker.
 *
 * PASS details: placed=N every=BYTES marker=HEX
 */
#include "marker.h"
#include "cmdline.h"
#include "console.h"
#include "cpu.h"
#include "guest.h"
#include "lib.h"
#include "multiboot.h"
#include "paging.h"
#include "tsc.h"

const char guest_name[] = "marker";

static u8 block[MARKER_SIZE];

static bool overlaps_image(u64 pa)
{
	return pa + MARKER_SIZE > guest_image_start() && pa < guest_image_end();
}

static void place(u64 pa)
{
	uintptr_t va = (uintptr_t)pa;

	if (pa >= FOUR_GIB && !(va = phys_window(pa)))
		guest_fail("RAM at 0x%llx is beyond the physical address width", pa);
	for (u32 i = 0; i < MARKER_SIZE; i += 4) {
		u32 w;

		memcpy(&w, block + i, sizeof(w));
		mmio_write32(va + i, w);
	}
}

void guest_main(void)
{
	char hex[MARKER_HEX_MAX + 1];
	u64 every = cmdline_size("every", 1 * MiB);
	u32 placed = 0, count = (u32)cmdline_u64("count", 0);

	marker_from_cmdline(block, hex);
	if (every < MARKER_SIZE || (every & (every - 1)))
		guest_fail("every=%llu: want a power of two of at least %u", every, MARKER_SIZE);

	/* below 4 GiB with paging off first, then the rest through the window */
	for (u32 high = 0; high < 2; high++) {
		for (u32 i = 0; i < mb.nr_regions; i++) {
			const struct mb_region *r = &mb.regions[i];
			u64 end = r->base + r->len;

			if (r->type != E820_RAM)
				continue;
			for (u64 pa = ALIGN_UP(r->base, every); pa + MARKER_SIZE <= end;
			     pa += every) {
				if ((pa >= FOUR_GIB) != high || overlaps_image(pa))
					continue;
				place(pa);
				placed++;
			}
		}
	}
	phys_window_off();
	if (!placed)
		guest_fail("no room for a single marker");
	con_printf("MARKER placed %u times, every %llu bytes\n", placed, every);
	guest_pass_continue("placed=%u every=%llu marker=%s", placed, every, hex);
	heartbeat_run(count);
	guest_exit(GUEST_EXIT_PASS);
}
