/*
 * lowload: a Multiboot1 kernel linked below 1 MiB (at 64 KiB, guests.mk),
 * as low-linked kernels are, to show that a loader takes it (Multiboot
 * 0.6.96 3.1.3 puts no floor under the load address; GRUB and QEMU's
 * -kernel load it). It checks that:
 *   - it runs at its link address, below 1 MiB, and the map says all of
 *     its image is RAM;
 *   - its initialised data and read-only data are what was linked (a
 *     table of 64 words from a formula, a string);
 *   - what the loader placed lies clear of the image: the information
 *     structure (EBX), and each module, which also stays out of the
 *     reserved area below 1 MiB ([mem_lower, 1 MiB)).
 *
 * PASS details: image=[0xS-0xE) info=0xI modules=N
 */
#include "console.h"
#include "guest.h"
#include "lib.h"
#include "multiboot.h"

#define ONE_MIB 0x100000U
#define TABLE_WORDS 64
#define WORD(i) (0x9e3779b9U * (u32)(i) + 0x7f4a7c15U)
#define ROW(i) WORD(i), WORD(i + 1), WORD(i + 2), WORD(i + 3)
#define ROWS16(i) ROW(i), ROW(i + 4), ROW(i + 8), ROW(i + 12)

const char guest_name[] = "lowload";

/* .data: not const, so it is in the writable segment the loader copies */
static u32 table[TABLE_WORDS] = { ROWS16(0), ROWS16(16), ROWS16(32), ROWS16(48) };
static const char linked_text[] = "linked below 1 MiB, loaded where linked";

static bool overlaps(u32 a, u32 a_end, u32 b, u32 b_end)
{
	return a < b_end && b < a_end;
}

static void check_image(u32 start, u32 end)
{
	if (start >= ONE_MIB || end > ONE_MIB)
		guest_fail("image [0x%x-0x%x) is not below 1 MiB: linked wrong", start, end);
	for (u32 a = start; a < end; a += PAGE_SIZE)
		if (!mb_is_ram(a))
			guest_fail("image page 0x%x is not RAM in the memory map", a);
	for (u32 i = 0; i < TABLE_WORDS; i++)
		if (table[i] != WORD(i))
			guest_fail("data word %u at 0x%x is 0x%x, linked as 0x%x", i,
				   (u32)(uintptr_t)&table[i], table[i], WORD(i));
	if (strcmp(linked_text, "linked below 1 MiB, loaded where linked") != 0)
		guest_fail("read-only data at 0x%x differs from what was linked",
			   (u32)(uintptr_t)linked_text);
}

static void check_placed(u32 start, u32 end)
{
	u32 reserved = mb.has_mem ? mb.mem_lower_kib * KiB : ONE_MIB;

	if (overlaps(mb.info_addr, mb.info_addr + sizeof(struct mb1_info), start, end))
		guest_fail("the Multiboot information at 0x%x is inside the image", mb.info_addr);
	if (mb.nr_modules > MB_MODS_MAX)
		guest_fail("%u modules, this guest looks at %u", mb.nr_modules, MB_MODS_MAX);
	for (u32 i = 0; i < mb.nr_modules; i++) {
		u32 ms = mb.modules[i].start, me = mb.modules[i].end;

		con_printf("lowload: module %u at [0x%x-0x%x)\n", i, ms, me);
		if (me < ms || overlaps(ms, me, start, end))
			guest_fail("module %u [0x%x-0x%x) overlaps the image", i, ms, me);
		if (overlaps(ms, me, reserved, ONE_MIB))
			guest_fail("module %u [0x%x-0x%x) is in the reserved [0x%x-0x%x)", i, ms,
				   me, reserved, ONE_MIB);
		if (!mb_is_ram(ms) || (me > ms && !mb_is_ram(me - 1)))
			guest_fail("module %u [0x%x-0x%x) is not RAM in the map", i, ms, me);
	}
}

void guest_main(void)
{
	u32 start = (u32)guest_image_start(), end = (u32)guest_image_end();

	check_image(start, end);
	check_placed(start, end);
	guest_pass("image=[0x%x-0x%x) info=0x%x modules=%u", start, end, mb.info_addr,
		   mb.nr_modules);
}
