/*
 * TSC calibration: CPUID leaf 0x15 when it states the crystal frequency
 * (SDM 3B 19.7.3), else the ACPI PM timer (3.579545 MHz, ACPI 6.4 4.8.3.3),
 * else PIT channel 2 (1.193182 MHz).
 */
#include "drivers/tsc.h"
#include "hv/hw/acpi.h"
#include "hv/hw/cpuid.h"
#include "hv/hw/pit.h"
#include "hv/hw/x86.h"

/* control word: channel 2, low then high byte, mode 0 */
#define PIT_CMD_CH2_MODE0_WORD                                                                    \
	(PIT_SPEAKER_CHANNEL << PIT_CMD_CHANNEL_SHIFT | PIT_ACCESS_WORD << PIT_CMD_ACCESS_SHIFT | \
	 PIT_MODE_TERMINAL_COUNT << PIT_CMD_MODE_SHIFT)
#define CALIBRATE_MS 20
#define CALIBRATE_ROUNDS 3

static u64 hz;
static enum tsc_source source;

static u64 calibrate_cpuid(void)
{
	struct cpuid_regs r;

	if (cpuid(CPUID_VENDOR_LEAF).eax < CPUID_TSC_LEAF)
		return 0;
	r = cpuid(CPUID_TSC_LEAF);
	/* EAX/EBX: TSC/crystal ratio; ECX: crystal Hz (0 = not enumerated) */
	if (!r.eax || !r.ebx || !r.ecx)
		return 0;
	return (u64)r.ecx * r.ebx / r.eax;
}

static u64 calibrate_pmtimer(u16 port, bool is32)
{
	u32 mask = is32 ? ACPI_PM_TIMER_MASK_32 : ACPI_PM_TIMER_MASK_24;
	u64 want = ACPI_PM_TIMER_HZ * CALIBRATE_MS / 1000;
	u32 start = inl(port) & mask, now;
	u64 t0 = rdtsc(), t1, ticks;

	do {
		now = inl(port) & mask;
		ticks = (now - start) & mask;
	} while (ticks < want);
	t1 = rdtsc();
	return (t1 - t0) * ACPI_PM_TIMER_HZ / ticks;
}

static u64 calibrate_pit(void)
{
	u64 count = PIT_HZ * CALIBRATE_MS / 1000;
	u8 b = inb(PIT_PORT_B);
	u64 t0, t1;

	/* gate on, speaker off; mode 0 raises OUT2 when the count expires */
	outb(PIT_PORT_B, (b & ~PORTB_SPEAKER) | PORTB_GATE2);
	outb(PIT_PORT_BASE + PIT_CMD, PIT_CMD_CH2_MODE0_WORD);
	outb(PIT_PORT_BASE + PIT_SPEAKER_CHANNEL, count & 0xff);
	outb(PIT_PORT_BASE + PIT_SPEAKER_CHANNEL, (count >> 8) & 0xff);
	t0 = rdtsc();
	while (!(inb(PIT_PORT_B) & PORTB_OUT2))
		cpu_relax();
	t1 = rdtsc();
	outb(PIT_PORT_B, b);
	return (t1 - t0) * 1000 / CALIBRATE_MS;
}

int tsc_calibrate(u16 pm_port, bool pm_32bit)
{
	hz = calibrate_cpuid();
	source = TSC_SRC_CPUID;
	if (!hz) {
		/* the lowest of a few rounds: interruptions only lengthen one */
		u64 best = ~0ULL;

		for (int i = 0; i < CALIBRATE_ROUNDS; i++) {
			u64 f = pm_port ? calibrate_pmtimer(pm_port, pm_32bit) : calibrate_pit();

			best = MIN(best, f);
		}
		hz = best;
		source = pm_port ? TSC_SRC_PMTIMER : TSC_SRC_PIT;
	}
	return hz ? 0 : -E_NODEV;
}

u64 tsc_hz(void)
{
	return hz;
}

const char *tsc_source_name(void)
{
	static const char *const names[] = {
		[TSC_SRC_NONE] = "none",
		[TSC_SRC_CPUID] = "CPUID 0x15",
		[TSC_SRC_PMTIMER] = "ACPI PM timer",
		[TSC_SRC_PIT] = "PIT",
	};
	return names[source];
}

void udelay(u64 us)
{
	u64 end = rdtsc() + hz * us / 1000000;

	while ((s64)(rdtsc() - end) < 0)
		cpu_relax();
}

void mdelay(u64 ms)
{
	udelay(ms * 1000);
}

u64 tsc_ns(void)
{
	u64 t = rdtsc();

	/* split to avoid overflow: whole seconds, then the remainder */
	return t / hz * 1000000000ULL + (t % hz) * 1000000000ULL / hz;
}
