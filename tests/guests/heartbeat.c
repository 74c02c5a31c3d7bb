/*
 * heartbeat: prints "HEARTBEAT n" every 200 ms of TSC time (lib/tsc.h says
 * where the frequency comes from; tsc_khz= sets it), forever, or with
 * count=N, N times and then the verdict.
 *
 * stamps=1: "HEARTBEAT n tsc=T" instead, T the TSC when beat n came, and
 * each beat comes 200 ms after the one before it was written out: a write
 * that had to wait delays the next stamp, so the stamps' spacing shows the
 * jitter the guest lives with (the console-stall test).
 *
 * PASS details: beats=N tsc_khz=K (SOURCE)
 */
#include "cmdline.h"
#include "console.h"
#include "guest.h"
#include "hv/hw/x86.h"
#include "tsc.h"

const char guest_name[] = "heartbeat";

static void stamped_run(u32 count)
{
	u64 period = tsc_ticks_ms(HEARTBEAT_MS), next = rdtsc() + period;

	for (u32 n = 1; !count || n <= count; n++) {
		u64 at;

		while ((s64)(rdtsc() - next) < 0)
			cpu_relax();
		at = rdtsc();
		con_printf("HEARTBEAT %u tsc=%llu\n", n, at);
		next = rdtsc() + period;
	}
}

void guest_main(void)
{
	u32 count = (u32)cmdline_u64("count", 0);

	con_printf("heartbeat: every %u ms, TSC %u kHz (%s), %s\n", HEARTBEAT_MS, tsc_khz(),
		   tsc_khz_source(), count ? "then stop" : "forever");
	if (cmdline_u64("stamps", 0))
		stamped_run(count);
	else
		heartbeat_run(count);
	guest_pass("beats=%u tsc_khz=%u (%s)", count, tsc_khz(), tsc_khz_source());
}
