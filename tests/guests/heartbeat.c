/*
 * heartbeat: prints "HEARTBEAT n" every 200 ms of TSC time (lib/tsc.h says
 * where the frequency comes from; tsc_khz= sets it), forever, or with
 * count=N, N times and then the verdict.
 *
 * PASS details: beats=N tsc_khz=K (SOURCE)
 */
#include "cmdline.h"
#include "console.h"
#include "guest.h"
#include "tsc.h"

const char guest_name[] = "heartbeat";

void guest_main(void)
{
	u32 count = (u32)cmdline_u64("count", 0);

	con_printf("heartbeat: every %u ms, TSC %u kHz (%s), %s\n", HEARTBEAT_MS, tsc_khz(),
		   tsc_khz_source(), count ? "then stop" : "forever");
	heartbeat_run(count);
	guest_pass("beats=%u tsc_khz=%u (%s)", count, tsc_khz(), tsc_khz_source());
}
