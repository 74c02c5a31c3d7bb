/*
 * ACPI soft-off and machine reset (see drivers/acpi_power.h). Runs on the
 * way down, with interrupts off: no locks, no allocation, bounded waits.
 */
#include "drivers/acpi_power.h"
#include "hv/hw/acpi.h"
#include "hv/hw/pc.h"
#include "hv/hw/pci.h"
#include "hv/hw/x86.h"

/* ACPI 6.4 5.2.3.2: a PCI configuration GAS address is device (bits
 * 32-47), function (bits 16-31), register offset (bits 0-15); the device
 * is on bus 0 */
#define GAS_PCI_DEV(a) (((a) >> 32) & 0x1f)
#define GAS_PCI_FN(a) (((a) >> 16) & 0x7)
#define GAS_PCI_REG(a) (0xffff & (a))

#define KBC_WAIT_TRIES 100000

#define ACPI_ENABLE_WAIT_MS 1000 /* SMM hands over the PM registers */
#define POWEROFF_WAIT_MS 500	 /* then S5 should have happened */
#define RESET_WAIT_MS 100	 /* per reset method */
#define IO_DELAY_PER_MS 1000	 /* an ISA-bus port 0x80 write: about 1 us */

/* Busy-waits about ms milliseconds: by the PM timer when there is one,
 * else by port 0x80 writes. */
static void acpi_delay_ms(const struct acpi_info *ai, u32 ms)
{
	if (ai && ai->pm_tmr_port) {
		u64 mask = ai->pm_tmr_32bit ? ACPI_PM_TIMER_MASK_32 : ACPI_PM_TIMER_MASK_24;
		u64 ticks = ACPI_PM_TIMER_HZ * ms / 1000;
		u64 start = inl((u16)ai->pm_tmr_port) & mask;

		while (((inl((u16)ai->pm_tmr_port) - start) & mask) < ticks)
			cpu_relax();
		return;
	}
	for (u32 i = 0; i < ms * IO_DELAY_PER_MS; i++)
		io_delay();
}

static int gas_io_port(const struct acpi_gas *g, u16 *port)
{
	if (g->address > 0xffff)
		return -E_RANGE;
	*port = (u16)g->address;
	return 0;
}

/*
 * One access of size bytes (1 or 2) to a generic address (ACPI 6.4 5.2.3.2).
 * PM1 control registers take byte and word accesses, word covering SLP_TYP
 * and SLP_EN (4.8.3.2.1); the reset and sleep control registers are 8 bits
 * at bit offset 0 (4.8.3.6, 4.8.3.7), the reset one possibly in PCI
 * configuration space (byte writes only).
 */
static int gas_access(const struct acpi_gas *g, hv_ioremap_fn ioremap, u32 size, bool write,
		      u16 *val)
{
	u16 port;

	switch (g->space_id) {
	case ACPI_GAS_SYSTEM_IO:
		if (gas_io_port(g, &port))
			return -E_RANGE;
		if (size == 1 && write)
			outb(port, (u8)*val);
		else if (size == 1)
			*val = inb(port);
		else if (write)
			outw(port, *val);
		else
			*val = inw(port);
		return 0;
	case ACPI_GAS_SYSTEM_MEMORY: {
		volatile void *p = ioremap ? ioremap(g->address, size) : NULL;

		if (!p)
			return -E_NOSUPP;
		if (size == 1 && write)
			*(volatile u8 *)p = (u8)*val;
		else if (size == 1)
			*val = *(volatile u8 *)p;
		else if (write)
			*(volatile u16 *)p = *val;
		else
			*val = *(volatile u16 *)p;
		return 0;
	}
	case ACPI_GAS_PCI_CONFIG: {
		u64 a = g->address;

		if (size != 1 || !write)
			return -E_NOSUPP;
		outl(PCI_CONF_ADDR_PORT,
		     (u32)(CF8_ENABLE | DEVFN(GAS_PCI_DEV(a), GAS_PCI_FN(a)) << CF8_DEVFN_SHIFT |
			   (GAS_PCI_REG(a) & CF8_REG_MASK)));
		outb((u16)(PCI_CONF_DATA_PORT + GAS_PCI_REG(a) % CFC_PORTS), (u8)*val);
		return 0;
	}
	default:
		return -E_NOSUPP;
	}
}

static int gas_read16(const struct acpi_gas *g, hv_ioremap_fn ioremap, u16 *val)
{
	return gas_access(g, ioremap, sizeof(u16), false, val);
}

static int gas_write16(const struct acpi_gas *g, hv_ioremap_fn ioremap, u16 val)
{
	return gas_access(g, ioremap, sizeof(u16), true, &val);
}

static int gas_write8(const struct acpi_gas *g, hv_ioremap_fn ioremap, u8 val)
{
	u16 v = val;

	return gas_access(g, ioremap, sizeof(u8), true, &v);
}

/*
 * ACPI 6.4 5.2.9 (SMI_CMD, ACPI_ENABLE) and 16.3.1: while SCI_EN is clear
 * the firmware's SMM code owns the PM registers; writing ACPI_ENABLE to
 * SMI_CMD hands them over, as an OS does at boot.
 */
static void acpi_enable_mode(const struct acpi_info *ai, hv_ioremap_fn ioremap)
{
	u16 v;

	if (!ai->smi_cmd || !ai->acpi_enable || ai->smi_cmd > 0xffff)
		return;
	if (gas_read16(&ai->pm1a_cnt, ioremap, &v) || (v & PM1_CNT_SCI_EN))
		return;
	outb((u16)ai->smi_cmd, ai->acpi_enable);
	for (u32 ms = 0; ms < ACPI_ENABLE_WAIT_MS; ms++) {
		if (!gas_read16(&ai->pm1a_cnt, ioremap, &v) && (v & PM1_CNT_SCI_EN))
			return;
		acpi_delay_ms(ai, 1);
	}
}

/* ACPI 6.4 7.4.2 and 16.1.6: SLP_TYP first, then SLP_TYP with SLP_EN,
 * keeping the register's other bits. */
static int pm1_sleep(const struct acpi_info *ai, hv_ioremap_fn ioremap)
{
	const struct acpi_gas *reg[2] = { &ai->pm1a_cnt, &ai->pm1b_cnt };
	const u8 typ[2] = { ai->s5_slp_typ_a, ai->s5_slp_typ_b };
	u16 val[2] = { 0, 0 };
	int rc;

	for (int i = 0; i < 2; i++) {
		if (!reg[i]->address)
			continue;
		rc = gas_read16(reg[i], ioremap, &val[i]);
		if (rc)
			return rc;
		val[i] &= (u16) ~(PM1_CNT_SLP_TYP_MASK | PM1_CNT_SLP_EN);
		val[i] |= (u16)(typ[i] << PM1_CNT_SLP_TYP_SHIFT);
		rc = gas_write16(reg[i], ioremap, val[i]);
		if (rc)
			return rc;
	}
	for (int i = 0; i < 2; i++) {
		if (!reg[i]->address)
			continue;
		rc = gas_write16(reg[i], ioremap, (u16)(val[i] | PM1_CNT_SLP_EN));
		if (rc)
			return rc;
	}
	return 0;
}

int acpi_poweroff(const struct acpi_info *ai, hv_ioremap_fn ioremap)
{
	int rc;

	if (!ai->have_fadt)
		return -E_NODEV;
	if (!ai->have_s5)
		return -E_NOENT;
	irq_disable();
	if (ai->pm1a_cnt.address && !ai->hw_reduced) {
		acpi_enable_mode(ai, ioremap);
		rc = pm1_sleep(ai, ioremap);
	} else if (ai->sleep_control.address) {
		rc = gas_write8(&ai->sleep_control, ioremap,
				(u8)(((ai->s5_slp_typ_a << SLEEP_CNT_SLP_TYP_SHIFT) &
				      SLEEP_CNT_SLP_TYP_MASK) |
				     SLEEP_CNT_SLP_EN));
	} else {
		return -E_NOSUPP;
	}
	if (rc)
		return rc;
	acpi_delay_ms(ai, POWEROFF_WAIT_MS);
	return -E_IO;
}

static void kbc_reset(const struct acpi_info *ai)
{
	/* bounded: without a controller the status port reads all-ones */
	for (u32 i = 0; i < KBC_WAIT_TRIES; i++) {
		if (!(inb(KBC_STATUS_PORT) & KBC_STATUS_IBF))
			break;
		io_delay();
	}
	outb(KBC_CMD_PORT, KBC_CMD_PULSE_RESET);
	acpi_delay_ms(ai, RESET_WAIT_MS);
}

int acpi_reset(const struct acpi_info *ai, hv_ioremap_fn ioremap)
{
	irq_disable();
	if (ai && ai->reset_supported && gas_write8(&ai->reset_reg, ioremap, ai->reset_value) == 0)
		acpi_delay_ms(ai, RESET_WAIT_MS);
	outb(RST_CNT_PORT, RST_CNT_SYS_RST);
	io_delay();
	outb(RST_CNT_PORT, RST_CNT_SYS_RST | RST_CNT_RST_CPU);
	acpi_delay_ms(ai, RESET_WAIT_MS);
	kbc_reset(ai);
	return -E_IO;
}
