/*
 * The minimal PC platform of a partition (platform.h has the layout): the
 * I/O APIC, the 8259 pair, the ACPI PM timer and PM1 registers with the
 * reset paths, the RTC and the PCI host bridge. Each device registers its
 * own ranges in the partition's vdev table; this file creates them, keeps
 * them together for restart, and gives them the host's clock.
 */
#include "hv/vdev/platform.h"
#include "drivers/rtc.h"
#include "drivers/tsc.h"
#include "drivers/acpi.h"
#include "hv/main.h"
#include "hv/mm/mm.h"
#include "hv/virt.h"
#include "hv/vdev/vioapic.h"
#include "hv/vdev/vpci.h"
#include "hv/vdev/vpic.h"
#include "hv/vdev/vpm.h"
#include "hv/vdev/vpmtimer.h"
#include "hv/vdev/vrtc.h"
#include "hv/hw/x86.h"

struct platform {
	struct vioapic *ioapic;
	struct vpic *pic;
	struct vpm *pm;
	struct vpmtimer *pmtimer; /* NULL: the machine's own is passed through */
	u16 pm_tmr_port;
	bool pm_tmr_32bit;
	struct vrtc *rtc;
	struct vpci *pci;
};

#define IO_PORT_LAST 0xffffU

static struct platform *platform_of[CONFIG_MAX_PARTITIONS];

static struct platform *of(const struct partition *p)
{
	return p->index < CONFIG_MAX_PARTITIONS ? platform_of[p->index] : NULL;
}

static u64 host_tsc(void)
{
	return rdtsc();
}

/*
 * Creates the partition's platform devices and registers their ports and
 * MMIO ranges. Call once per partition, after its vCPUs exist (the I/O
 * APIC's ID is the vCPU count, as in the MADT). Returns 0, -E_NOMEM (out
 * of memory or of vdev table slots) or -E_INVAL (index out of range).
 */
int platform_create(struct partition *p)
{
	struct vclock clk = { host_tsc, tsc_hz() };
	struct platform *pl;
	u64 epoch, epoch_tsc;

	if (p->index >= CONFIG_MAX_PARTITIONS)
		return -E_INVAL;
	pl = mm_alloc(sizeof(*pl), 8, 0);
	if (!pl)
		return -E_NOMEM;
	rtc_boot_time(&epoch, &epoch_tsc);
	pl->ioapic = vioapic_create(p);
	pl->pic = pl->ioapic ? vpic_create(p) : NULL;
	pl->pm = pl->pic ? vpm_create(p) : NULL;
	pl->rtc = pl->pm ? vrtc_create(p, &clk, epoch, epoch_tsc) : NULL;
	pl->pci = pl->rtc ? vpci_create(p) : NULL;
	if (!pl->pci)
		return -E_NOMEM;
	platform_of[p->index] = pl;
	return 0;
}

/*
 * The ACPI PM timer (ACPI 6.4 4.8.3.3) is a free-running counter that
 * writes do not change: the machine's own, when it has one in I/O space,
 * can be shared by every partition without one seeing anything of another
 * but the time. Each reads it without an exit, which matters to Linux: it
 * refines its TSC calibration against this timer with three reads in a
 * row, and gives up when they take longer than an SMI would (tens of
 * microseconds); three exits take that long under an emulator (14 us a
 * read measured under QEMU's TCG), and the guest then never leaves its
 * early TSC clocksource. The emulated timer (vpmtimer.c, at
 * PLAT_PM_TMR_PORT) stands in when the machine has none, or when its ports
 * are ones the partition's devices claim.
 */
static bool pass_pm_timer(struct partition *p, struct platform *pl)
{
	const struct acpi_info *ai = hv_acpi();
	u32 port = ai ? ai->pm_tmr_port : 0;

	if (!port || port > IO_PORT_LAST + 1 - VPMTIMER_PORTS)
		return false;
	for (u32 i = 0; i < VPMTIMER_PORTS; i++)
		if (vdev_find_io(&p->vdevs, (u16)(port + i)))
			return false;
	for (u32 i = 0; i < VPMTIMER_PORTS; i++)
		vcpu_ops->set_io_intercept(p, (u16)(port + i), false);
	pl->pm_tmr_port = (u16)port;
	pl->pm_tmr_32bit = ai->pm_tmr_32bit;
	return true;
}

/* Once all the partition's devices are in place: its PM timer. */
int platform_pm_timer_setup(struct partition *p)
{
	struct vclock clk = { host_tsc, tsc_hz() };
	struct platform *pl = of(p);

	if (!pl)
		return -E_INVAL;
	if (pass_pm_timer(p, pl))
		return 0;
	pl->pmtimer = vpmtimer_create(p, &clk);
	pl->pm_tmr_port = PLAT_PM_TMR_PORT;
	pl->pm_tmr_32bit = false;
	return pl->pmtimer ? 0 : -E_NOMEM;
}

void platform_pm_timer(const struct partition *p, u16 *port, bool *is_32bit)
{
	const struct platform *pl = of(p);

	*port = pl ? pl->pm_tmr_port : PLAT_PM_TMR_PORT;
	*is_32bit = pl && pl->pm_tmr_32bit;
}

/* Puts the devices in their power-on state for a restart (SPEC 5); the
 * RTC keeps its time and CMOS RAM, the PM timer keeps counting. */
void platform_reset(struct partition *p)
{
	struct platform *pl = of(p);

	if (!pl)
		return;
	vpm_reset(pl->pm);
	vrtc_reset(pl->rtc);
	vpic_reset(pl->pic);
	vpci_reset(pl->pci);
	vioapic_reset(pl->ioapic); /* last: every line is low again */
}

/* The ACPI power button: a clean shutdown request to an ACPI guest. */
void platform_power_button(struct partition *p)
{
	struct platform *pl = of(p);

	if (pl)
		vpm_power_button(pl->pm);
}

/* Raises the platform's due timer interrupts (the RTC's: vrtc_check) and
 * returns the TSC deadline of the next one, 0 for none. */
u64 platform_check(struct partition *p)
{
	struct platform *pl = of(p);

	return pl ? vrtc_check(pl->rtc) : 0;
}
