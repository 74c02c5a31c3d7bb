/*
 * ACPI fixed hardware and the power actions of a partition.
 *
 * PM1a event block (ACPI 6.4 4.8.3.1): PM1_STS (16 bits, write 1 to clear)
 * then PM1_EN (16 bits). The SCI is a level line: asserted while an
 * enabled event's status bit is set (4.8.2.1); the only event raised here
 * is the power button (vpm_power_button). TMR_STS never sets: the PM
 * timer's carry interrupt is not modelled (Linux does not use it).
 *
 * PM1a control (4.8.3.2): SCI_EN always reads 1 (the FADT has no SMI_CMD:
 * the platform is in ACPI mode from power-on, no SMM); SLP_TYP is kept;
 * SLP_EN (write-only) with SLP_TYP = \_S5's value powers the partition
 * off. Other sleep states are refused: their request is ignored (logged
 * once) and WAK_STS set, so a guest that waits for the wake-up resumes.
 *
 * Reset: the FADT reset register (0xCF9, Intel's RST_CNT) resets when a
 * write sets RST_CPU; the 8042's "pulse output port" command with the
 * reset bit (0xFE) does too. Both are what Linux's reboot path tries.
 * The 8042 is otherwise absent (the FADT says so): its status reads 0,
 * so a driver polling for "input buffer empty" proceeds at once, and its
 * data port 0x60 is left unclaimed (reads 0xFF).
 *
 * A management stop (vpm_shutdown) presses the button and arms a
 * deadline: the partition's timer stops it by force when the guest has
 * not powered off by then (a guest without ACPI, or one that ignores it).
 */
#include "hv/vdev/vpm.h"
#include "hv/console/console.h"
#include "hv/lib/spinlock.h"
#include "hv/vdev/acpi_tables.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vclock.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/virq.h"

#define PM1_EVT_LEN 4
#define PM1_EN_SHIFT 16 /* PM1_EN at byte 2 of the block */
#define PM1_CNT_LEN 2
#define PM1_STS_MASK                                                                            \
	(PM1_TMR | PM1_BM_STS | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC | PM1_PCIEXP_WAKE | \
	 PM1_WAK_STS)
#define PM1_EN_MASK (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC | PM1_PCIEXP_WAKE)
#define PM1_SCI_EVENTS (PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC)
#define PM1_CNT_KEPT (PM1_CNT_BM_RLD | PM1_CNT_SLP_TYP_MASK)
#define KBC_STATUS_IDLE 0x00 /* no data for the guest, ready for a command */

enum pm_action { PM_NONE, PM_POWEROFF, PM_REBOOT_RST, PM_REBOOT_KBC };

struct vpm {
	struct vdev_registry *reg;
	struct spinlock lock;
	u16 sts, en, cnt;
	u8 rst_cnt;
	bool sci; /* the level last put on the SCI line */
	bool sleep_logged;
	struct vclock clk;
	u64 force_at; /* clock value of a forced stop; 0: none due */
};

/* The bytes an access of size at byte offset off covers in a register. */
static u64 lane_mask(u32 off, u8 size)
{
	u64 m = size >= 8 ? ~0ULL : BIT(size * 8) - 1;

	return off < 8 ? m << (8 * off) : 0;
}

/* Called with the lock held; the I/O APIC never calls back into us. */
static void update_sci(struct vpm *pm)
{
	bool level = pm->sts & pm->en & PM1_SCI_EVENTS;

	if (level != pm->sci) {
		pm->sci = level;
		virq_set_level(pm->reg, PLAT_IRQ_SCI, level);
	}
}

static void act(struct vpm *pm, enum pm_action what)
{
	switch (what) {
	case PM_POWEROFF:
		vdev_stop(pm->reg, VDEV_STOP_POWER_OFF, "powered off (ACPI S5)");
		break;
	case PM_REBOOT_RST:
		vdev_stop(pm->reg, VDEV_STOP_REBOOT, "reboot (reset register)");
		break;
	case PM_REBOOT_KBC:
		vdev_stop(pm->reg, VDEV_STOP_REBOOT, "reboot (keyboard controller)");
		break;
	case PM_NONE:
		break;
	}
}

static int evt_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	struct vpm *pm = dev;
	u32 off = (u32)(a->addr - PLAT_PM1A_EVT_PORT);
	u64 lanes = lane_mask(off, a->size), val = a->val << (8 * off);

	(void)v;
	spin_lock(&pm->lock);
	if (a->write) {
		pm->sts &= (u16) ~(val & lanes & PM1_STS_MASK);
		lanes >>= PM1_EN_SHIFT;
		val >>= PM1_EN_SHIFT;
		pm->en = (u16)((pm->en & ~lanes) | (val & lanes & PM1_EN_MASK));
		update_sci(pm);
	} else {
		a->val = ((u64)pm->sts | (u64)pm->en << PM1_EN_SHIFT) >> (8 * off);
	}
	spin_unlock(&pm->lock);
	return 0;
}

static u16 cnt_read(const struct vpm *pm)
{
	return pm->cnt | PM1_CNT_SCI_EN;
}

/* ACPI 6.4 4.8.3.2.1 (and 7.4.2): SLP_EN starts the sleep state in SLP_TYP. */
static enum pm_action cnt_write(struct vpm *pm, u16 val)
{
	u32 typ = (val & PM1_CNT_SLP_TYP_MASK) >> PM1_CNT_SLP_TYP_SHIFT;

	pm->cnt = val & PM1_CNT_KEPT;
	if (!(val & PM1_CNT_SLP_EN))
		return PM_NONE;
	if (typ == PLAT_SLP_TYP_S5)
		return PM_POWEROFF;
	if (!pm->sleep_logged) {
		pm->sleep_logged = true;
		pr_info("partition %s: sleep type %u not supported: ignored\n", pm->reg->owner.name,
			typ);
	}
	pm->sts |= PM1_WAK_STS;
	return PM_NONE;
}

static int cnt_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	struct vpm *pm = dev;
	u32 off = (u32)(a->addr - PLAT_PM1A_CNT_PORT);
	u64 lanes = lane_mask(off, a->size);
	enum pm_action what = PM_NONE;

	(void)v;
	spin_lock(&pm->lock);
	if (a->write)
		what = cnt_write(pm,
				 (u16)((cnt_read(pm) & ~lanes) | ((a->val << (8 * off)) & lanes)));
	else
		a->val = (u64)cnt_read(pm) >> (8 * off);
	spin_unlock(&pm->lock);
	act(pm, what);
	return 0;
}

static int rst_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	struct vpm *pm = dev;
	enum pm_action what = PM_NONE;

	(void)v;
	spin_lock(&pm->lock);
	if (!a->write) {
		a->val = pm->rst_cnt;
	} else {
		/* RST_CPU is self-clearing: a write that sets it resets */
		pm->rst_cnt = (u8)a->val & (u8)~RST_CNT_RST_CPU;
		if (a->val & RST_CNT_RST_CPU)
			what = PM_REBOOT_RST;
	}
	spin_unlock(&pm->lock);
	act(pm, what);
	return 0;
}

static int kbc_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	u8 cmd = (u8)a->val;

	(void)v;
	if (!a->write)
		a->val = KBC_STATUS_IDLE;
	else if (cmd >= KBC_CMD_PULSE_BASE && !(cmd & KBC_OUT_RESET))
		act(dev, PM_REBOOT_KBC);
	return 0;
}

static void vpm_reset(void *dev)
{
	struct vpm *pm = dev;

	spin_lock(&pm->lock);
	pm->sts = pm->en = pm->cnt = 0;
	pm->rst_cnt = 0;
	pm->force_at = 0;
	update_sci(pm);
	spin_unlock(&pm->lock);
}

void vpm_power_button(struct vpm *pm)
{
	spin_lock(&pm->lock);
	pm->sts |= PM1_PWRBTN;
	update_sci(pm);
	spin_unlock(&pm->lock);
}

void vpm_shutdown(struct vpm *pm, u64 timeout_ms)
{
	u64 at = pm->clk.read() + pm->clk.hz / 1000 * timeout_ms;

	spin_lock(&pm->lock);
	if (!pm->force_at)
		pm->force_at = at;
	spin_unlock(&pm->lock);
	vpm_power_button(pm);
	vdev_timer_changed(pm->reg);
}

static u64 vpm_timer(void *dev, u64 now)
{
	struct vpm *pm = dev;
	bool force;

	if (!pm->force_at)
		return 0;
	spin_lock(&pm->lock);
	force = pm->force_at && now >= pm->force_at;
	if (force)
		pm->force_at = 0;
	spin_unlock(&pm->lock);
	if (force)
		vdev_stop(pm->reg, VDEV_STOP_POWER_OFF,
			  "stopped by force: no power-off after the power button");
	return pm->force_at;
}

static int vpm_create(struct vdev_registry *reg, void *dev)
{
	struct vpm *pm = dev;

	pm->reg = reg;
	reg->host->clock(&pm->clk);
	if (vdev_add_io(reg, PLAT_PM1A_EVT_PORT, PM1_EVT_LEN, evt_access, pm) ||
	    vdev_add_io(reg, PLAT_PM1A_CNT_PORT, PM1_CNT_LEN, cnt_access, pm) ||
	    vdev_add_io(reg, PLAT_RESET_PORT, 1, rst_access, pm) ||
	    vdev_add_io(reg, PLAT_KBD_STATUS_PORT, 1, kbc_access, pm))
		return -E_NOMEM;
	return 0;
}

/* PM1 has the fixed-feature power button (vpm_power_button). */
static void vpm_firmware(void *dev, struct acpi_build_cfg *cfg)
{
	(void)dev;
	cfg->power_button = true;
}

const struct vdev_type vpm_type = {
	.name = "ACPI PM1",
	.size = sizeof(struct vpm),
	.create = vpm_create,
	.reset = vpm_reset,
	.timer = vpm_timer,
	.firmware = vpm_firmware,
};
