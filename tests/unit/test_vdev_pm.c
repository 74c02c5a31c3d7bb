/*
 * ACPI fixed hardware and power actions (hv/vdev/vpm.c) and the PM timer
 * (hv/vdev/vpmtimer.c): the timer's exact rate and width against a fake
 * TSC, PM1 status/enable and the SCI line, S5 and the two reset paths
 * (recorded by a fake part_stop).
 */
#include "drivers/acpi.h"
#include "hv/vdev/acpi_tables.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vpm.h"
#include "hv/vdev/vpmtimer.h"
#include "tests/unit/test_vdev_fakes.h"

/* --- fakes ---------------------------------------------------------------- */

static u64 fake_tsc;

static u64 fake_clock(void)
{
	return fake_tsc;
}

static int stop_count;
static u32 stop_why;
static const char *stop_reason;

static void fake_stop(struct partition *p, enum vdev_stop why, const char *reason)
{
	assert_ptr_equal(p, &test_part);
	stop_count++;
	stop_why = why;
	stop_reason = reason;
}

static int sci_calls;
static bool sci_level;

void virq_set_level(struct vdev_registry *reg, u32 gsi, bool asserted)
{
	assert_ptr_equal(reg, &test_part.vdevs);
	assert_int_equal(gsi, PLAT_IRQ_SCI);
	sci_calls++;
	sci_level = asserted;
}

static struct vpm *pm;
static struct vpmtimer *tmr;
static u64 fake_hz;

static void fake_host_clock(struct vclock *clk)
{
	*clk = (struct vclock){ fake_clock, fake_hz };
}

/* The PM1 block and the timer, as in every partition (vdev_list.c); the
 * machine has no timer of its own to pass through (no_acpi). */
static int setup_hz(u64 hz)
{
	static const struct vdev_type *const types[] = { &vpm_type, &vpmtimer_type };

	part_init(1);
	fake_host.stop = fake_stop;
	fake_host.clock = fake_host_clock;
	fake_hz = hz;
	stop_count = sci_calls = 0;
	sci_level = false;
	fake_tsc = 1000; /* the timer counts from its creation */
	assert_int_equal(create_devices(types, ARRAY_SIZE(types)), 0);
	pm = vdev_find(&test_part.vdevs, &vpm_type);
	tmr = vdev_find(&test_part.vdevs, &vpmtimer_type);
	assert_non_null(pm);
	assert_non_null(tmr);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return setup_hz(2000000000ULL);
}

static void expect_stop(u32 why, const char *reason)
{
	assert_int_equal(stop_count, 1);
	assert_int_equal(stop_why, why);
	assert_string_equal(stop_reason, reason);
	stop_count = 0;
}

/* --- PM timer -------------------------------------------------------------- */

static u32 pmtmr(void)
{
	return (u32)io_in(PLAT_PM_TMR_PORT, 4);
}

static u32 expected(u64 delta, u64 hz)
{
	return (u32)((unsigned __int128)delta * PLAT_PM_TMR_HZ / hz) & 0xffffff;
}

static void test_pmtimer_rate(void **state)
{
	(void)state;
	assert_int_equal(pmtmr(), 0);
	fake_tsc += 2000000000ULL; /* one second */
	assert_int_equal(pmtmr(), PLAT_PM_TMR_HZ);
	fake_tsc += 2000000000ULL * 9; /* ten seconds in all: wrapped 24 bits */
	assert_int_equal(pmtmr(), (PLAT_PM_TMR_HZ * 10) & 0xffffff);
	/* one tick of the timer is 558.73 TSC cycles at 2 GHz */
	fake_tsc = 1000 + 2000000000ULL * 10 + 558;
	assert_int_equal(pmtmr(), (PLAT_PM_TMR_HZ * 10) & 0xffffff);
	fake_tsc++;
	assert_int_equal(pmtmr(), (PLAT_PM_TMR_HZ * 10 + 1) & 0xffffff);
}

/* Exact (floor of the rational product) for odd rates and huge deltas
 * where a 64-bit product would overflow. */
static void test_pmtimer_exact(void **state)
{
	static const u64 rates[] = { 1000000ULL, 2893123457ULL, 3999999999ULL, 1ULL << 39 };
	static const u64 deltas[] = { 1,	   12345,
				      1ULL << 32,  987654321987ULL,
				      1ULL << 50,  (1ULL << 62) + 12345,
				      ~0ULL - 2000 };

	(void)state;
	for (u32 r = 0; r < ARRAY_SIZE(rates); r++) {
		teardown(NULL);
		setup_hz(rates[r]);
		for (u32 d = 0; d < ARRAY_SIZE(deltas); d++) {
			/* a count past 2^64 (580,000 years at 1 MHz) is out of scope */
			if ((unsigned __int128)deltas[d] * PLAT_PM_TMR_HZ / rates[r] >> 64)
				break;
			fake_tsc = 1000 + deltas[d];
			/* the clamp keeps it monotonic: test increasing deltas only */
			assert_int_equal(pmtmr(), expected(deltas[d], rates[r]));
		}
	}
	assert_int_equal(vclock_scale(~0ULL, PLAT_PM_TMR_HZ, 1ULL << 39),
			 (u64)((unsigned __int128)~0ULL * PLAT_PM_TMR_HZ >> 39));
}

static void test_pmtimer_monotonic(void **state)
{
	u32 before;

	(void)state;
	fake_tsc += 5000000;
	before = pmtmr();
	/* another CPU's TSC a little behind: the count does not go back */
	fake_tsc -= 3000;
	assert_int_equal(pmtmr(), before);
	fake_tsc = 0; /* before the timer's start */
	assert_int_equal(pmtmr(), before);
	fake_tsc = 1000 + 5000000 + 2000000;
	assert_true(pmtmr() > before);
}

static void test_pmtimer_widths(void **state)
{
	u32 v;

	(void)state;
	fake_tsc += 2000000000ULL * 3 + 123456789;
	v = pmtmr();
	assert_true(v > 0xffff);
	assert_int_equal(io_in(PLAT_PM_TMR_PORT, 1), v & 0xff);
	assert_int_equal(io_in(PLAT_PM_TMR_PORT + 1, 1), (v >> 8) & 0xff);
	assert_int_equal(io_in(PLAT_PM_TMR_PORT + 2, 1), (v >> 16) & 0xff);
	assert_int_equal(io_in(PLAT_PM_TMR_PORT + 3, 1), 0); /* bits 31:24 */
	assert_int_equal(io_in(PLAT_PM_TMR_PORT, 2), v & 0xffff);
	assert_int_equal(io_in(PLAT_PM_TMR_PORT + 2, 2), v >> 16);
	/* writes change nothing */
	io_out(PLAT_PM_TMR_PORT, 4, 0);
	assert_int_equal(pmtmr(), v);
	assert_int_equal(vpmtimer_read(tmr), v);
}

/* --- the machine's own timer, passed through -------------------------------- */

static struct acpi_info machine;
static u32 passed[VPMTIMER_PORTS], intercepted[VPMTIMER_PORTS];
static u16 pass_base;

static const struct acpi_info *fake_acpi(void)
{
	return &machine;
}

static void fake_pass_io(struct partition *p, u16 port, bool pass)
{
	assert_ptr_equal(p, &test_part);
	assert_in_range(port, pass_base, pass_base + VPMTIMER_PORTS - 1);
	if (pass)
		passed[port - pass_base]++;
	else
		intercepted[port - pass_base]++;
}

/* The PM1 block and the timer, as in every partition (vdev_list.c); the
 * FADT's view of them. */
static struct acpi_build_cfg create_with_machine_timer(u16 port, bool is_32bit, bool alone)
{
	static const struct vdev_type *const types[] = { &vpm_type, &vpmtimer_type };
	struct acpi_build_cfg cfg = { 0 };

	teardown(NULL);
	part_init(1);
	fake_host.acpi = fake_acpi;
	fake_host.pass_io = fake_pass_io;
	fake_host.clock = fake_host_clock;
	machine.pm_tmr_port = port;
	machine.pm_tmr_32bit = is_32bit;
	machine.pm_tmr_alone = alone;
	pass_base = port;
	memset(passed, 0, sizeof(passed));
	memset(intercepted, 0, sizeof(intercepted));
	assert_int_equal(create_devices(types, ARRAY_SIZE(types)), 0);
	vdev_firmware(&test_part.vdevs, &cfg);
	assert_true(cfg.power_button); /* PM1's fixed power button */
	return cfg;
}

static void expect_emulated(const struct acpi_build_cfg *cfg)
{
	assert_int_equal(cfg->pm_tmr_port, PLAT_PM_TMR_PORT);
	assert_false(cfg->pm_tmr_32bit);
	assert_non_null(vdev_find_io(&test_part.vdevs, PLAT_PM_TMR_PORT));
	for (u32 i = 0; i < VPMTIMER_PORTS; i++)
		assert_int_equal(passed[i], 0);
}

static void test_pmtimer_machine_passthrough(void **state)
{
	struct acpi_build_cfg cfg;

	(void)state;
	/* a free port: the guest reads the machine's timer there, no exit */
	cfg = create_with_machine_timer(0x1808, true, true);
	assert_int_equal(cfg.pm_tmr_port, 0x1808);
	assert_true(cfg.pm_tmr_32bit);
	assert_null(vdev_find_io(&test_part.vdevs, PLAT_PM_TMR_PORT));
	assert_null(vdev_find_io(&test_part.vdevs, 0x1808));
	for (u32 i = 0; i < VPMTIMER_PORTS; i++) {
		assert_int_equal(passed[i], 1);
		assert_int_equal(intercepted[i], 0);
	}
	/* freed (a failed build): intercepted again */
	vdev_free_all(&test_part.vdevs);
	for (u32 i = 0; i < VPMTIMER_PORTS; i++)
		assert_int_equal(intercepted[i], 1);

	/* on a port a device claims (PM1_EN here), or running past 0xffff,
	 * or none: the emulated one */
	cfg = create_with_machine_timer(PLAT_PM1A_EVT_PORT + 2, false, true);
	expect_emulated(&cfg);
	cfg = create_with_machine_timer(0xfffd, false, true);
	expect_emulated(&cfg);
	cfg = create_with_machine_timer(0, false, true);
	expect_emulated(&cfg);
	/* a block that holds other registers than the timer's (the guest's
	 * writes would reach them): the emulated one */
	cfg = create_with_machine_timer(0x1808, true, false);
	expect_emulated(&cfg);
}

/* --- PM1 event block and the SCI ---------------------------------------- */

static void test_pm1_status_enable(void **state)
{
	(void)state;
	assert_int_equal(io_in(PLAT_PM1A_EVT_PORT, 2), 0);
	assert_int_equal(io_in(PLAT_PM1A_EVT_PORT + 2, 2), 0);
	/* ACPICA clears all status at start-up: writes of 1 to nothing set */
	io_out(PLAT_PM1A_EVT_PORT, 2, 0xffff);
	assert_int_equal(io_in(PLAT_PM1A_EVT_PORT, 2), 0);
	/* enable bits: the defined ones stick */
	io_out(PLAT_PM1A_EVT_PORT + 2, 2, 0xffff);
	assert_int_equal(io_in(PLAT_PM1A_EVT_PORT + 2, 2), 0x4721);
	io_out(PLAT_PM1A_EVT_PORT + 2, 2, PM1_PWRBTN);
	assert_int_equal(io_in(PLAT_PM1A_EVT_PORT, 4), (u32)PM1_PWRBTN << 16);
	assert_int_equal(sci_calls, 0);

	/* the power button: status set, SCI raised (enabled) */
	vpm_power_button(pm);
	assert_int_equal(io_in(PLAT_PM1A_EVT_PORT, 2), PM1_PWRBTN);
	assert_int_equal(io_in(PLAT_PM1A_EVT_PORT + 1, 1), PM1_PWRBTN >> 8);
	assert_int_equal(sci_calls, 1);
	assert_true(sci_level);
	/* writing 0 clears nothing; writing 1 clears and drops the SCI */
	io_out(PLAT_PM1A_EVT_PORT, 2, 0);
	assert_int_equal(io_in(PLAT_PM1A_EVT_PORT, 2), PM1_PWRBTN);
	io_out(PLAT_PM1A_EVT_PORT, 2, PM1_PWRBTN);
	assert_int_equal(io_in(PLAT_PM1A_EVT_PORT, 2), 0);
	assert_int_equal(sci_calls, 2);
	assert_false(sci_level);

	/* pressed while disabled: status only; enabling raises the SCI */
	io_out(PLAT_PM1A_EVT_PORT + 2, 2, 0);
	vpm_power_button(pm);
	assert_int_equal(sci_calls, 2);
	io_out(PLAT_PM1A_EVT_PORT + 3, 1, PM1_PWRBTN >> 8); /* byte write of EN's high byte */
	assert_int_equal(sci_calls, 3);
	assert_true(sci_level);
	/* a dword write: clear the status, keep the enable */
	io_out(PLAT_PM1A_EVT_PORT, 4, ((u32)PM1_PWRBTN << 16) | PM1_PWRBTN);
	assert_int_equal(io_in(PLAT_PM1A_EVT_PORT, 4), (u32)PM1_PWRBTN << 16);
	assert_false(sci_level);

	vpm_power_button(pm);
	assert_true(sci_level);
	vpm_type.reset(pm);
	assert_false(sci_level);
	assert_int_equal(io_in(PLAT_PM1A_EVT_PORT, 4), 0);
}

#define SLP_TYP(t) ((u32)(t) << PM1_CNT_SLP_TYP_SHIFT)

/* --- a management stop: the button, then force after the timeout ------------ */

static int kicks;
static struct vcpu keeper; /* vCPU 0: its CPU keeps the partition's timers */

static void count_kick(struct vcpu *v, u32 req)
{
	(void)v;
	(void)req;
	kicks++;
}

static void test_shutdown_forces_after_the_timeout(void **state)
{
	const u64 ms = fake_hz / 1000;

	(void)state;
	fake_host.kick = count_kick;
	test_part.vcpus[0] = &keeper;
	assert_int_equal(vpm_type.timer(pm, fake_tsc), 0); /* nothing due */
	io_out(PLAT_PM1A_EVT_PORT + 2, 2, PM1_PWRBTN);
	vpm_shutdown(pm, 30000);
	assert_int_equal(kicks, 1); /* its timer's CPU looks again */
	assert_true(keeper.timer_dirty);
	assert_int_equal(io_in(PLAT_PM1A_EVT_PORT, 2), PM1_PWRBTN);
	assert_true(sci_level);
	/* the guest does not power off: nothing until the deadline */
	assert_int_equal(vpm_type.timer(pm, fake_tsc + 29999 * ms), fake_tsc + 30000 * ms);
	assert_int_equal(stop_count, 0);
	/* a second request keeps the first deadline */
	vpm_shutdown(pm, 30000);
	assert_int_equal(vpm_type.timer(pm, fake_tsc + 30000 * ms), 0);
	assert_int_equal(stop_count, 1);
	assert_int_equal(stop_why, VDEV_STOP_POWER_OFF);
	assert_string_equal(stop_reason, "stopped by force: no power-off after the power button");
	assert_int_equal(vpm_type.timer(pm, fake_tsc + 60000 * ms), 0);
	assert_int_equal(stop_count, 1);
}

static void test_shutdown_of_a_guest_that_powers_off(void **state)
{
	(void)state;
	fake_host.kick = count_kick;
	test_part.vcpus[0] = &keeper;
	vpm_shutdown(pm, 30000);
	io_out(PLAT_PM1A_CNT_PORT, 2, SLP_TYP(PLAT_SLP_TYP_S5) | PM1_CNT_SLP_EN);
	assert_int_equal(stop_count, 1);
	assert_string_equal(stop_reason, "powered off (ACPI S5)");
	/* the partition's reset (its next start) forgets the deadline */
	vpm_type.reset(pm);
	assert_int_equal(vpm_type.timer(pm, fake_tsc + 31 * fake_hz), 0);
	assert_int_equal(stop_count, 1);
}

/* --- PM1 control: S5 and other sleep states -------------------------------- */

static void test_pm1_control(void **state)
{
	(void)state;
	assert_int_equal(io_in(PLAT_PM1A_CNT_PORT, 2), PM1_CNT_SCI_EN);
	/* ACPICA's first write: SLP_TYP alone; read back, SCI_EN still 1 */
	io_out(PLAT_PM1A_CNT_PORT, 2, SLP_TYP(PLAT_SLP_TYP_S5));
	assert_int_equal(io_in(PLAT_PM1A_CNT_PORT, 2), SLP_TYP(PLAT_SLP_TYP_S5) | 1);
	assert_int_equal(stop_count, 0);
	/* SCI_EN cannot be cleared; GBL_RLS reads 0 */
	io_out(PLAT_PM1A_CNT_PORT, 2, PM1_CNT_GBL_RLS | PM1_CNT_BM_RLD);
	assert_int_equal(io_in(PLAT_PM1A_CNT_PORT, 2), PM1_CNT_BM_RLD | PM1_CNT_SCI_EN);
	/* then with SLP_EN: powered off */
	io_out(PLAT_PM1A_CNT_PORT, 2, SLP_TYP(PLAT_SLP_TYP_S5) | PM1_CNT_SLP_EN);
	expect_stop(VDEV_STOP_POWER_OFF, "powered off (ACPI S5)");
	assert_false(io_in(PLAT_PM1A_CNT_PORT, 2) & PM1_CNT_SLP_EN); /* write-only */
}

static void test_s5_by_bytes(void **state)
{
	(void)state;
	io_out(PLAT_PM1A_CNT_PORT, 1, 0x00);
	assert_int_equal(stop_count, 0);
	io_out(PLAT_PM1A_CNT_PORT + 1, 1, (SLP_TYP(PLAT_SLP_TYP_S5) | PM1_CNT_SLP_EN) >> 8);
	expect_stop(VDEV_STOP_POWER_OFF, "powered off (ACPI S5)");
}

static void test_other_sleep_states(void **state)
{
	(void)state;
	for (u32 typ = 0; typ < 8; typ++) {
		if (typ == PLAT_SLP_TYP_S5)
			continue;
		io_out(PLAT_PM1A_CNT_PORT, 2, SLP_TYP(typ) | PM1_CNT_SLP_EN);
		/* ignored, but the guest that waits for WAK_STS wakes up */
		assert_int_equal(stop_count, 0);
		assert_true(io_in(PLAT_PM1A_EVT_PORT, 2) & PM1_WAK_STS);
		io_out(PLAT_PM1A_EVT_PORT, 2, PM1_WAK_STS);
		assert_false(io_in(PLAT_PM1A_EVT_PORT, 2) & PM1_WAK_STS);
	}
	assert_int_equal(printk_count, 1); /* logged once */
	assert_non_null(strstr(printk_last, "sleep type 0 not supported"));
	assert_int_equal(sci_calls, 0); /* WAK_STS raises no SCI */
}

/* --- reset register and keyboard controller ----------------------------- */

static void test_reset_register(void **state)
{
	(void)state;
	assert_int_equal(io_in(PLAT_RESET_PORT, 1), 0);
	/* Linux's CF9 sequence: SYS_RST first (no reset), then with RST_CPU */
	io_out(PLAT_RESET_PORT, 1, 0x02);
	assert_int_equal(stop_count, 0);
	assert_int_equal(io_in(PLAT_RESET_PORT, 1), 0x02);
	io_out(PLAT_RESET_PORT, 1, 0x06);
	expect_stop(VDEV_STOP_REBOOT, "reboot (reset register)");
	assert_int_equal(io_in(PLAT_RESET_PORT, 1), 0x02); /* bit 2 self-clears */
	io_out(PLAT_RESET_PORT, 1, 0x0e);
	expect_stop(VDEV_STOP_REBOOT, "reboot (reset register)");
	assert_int_equal(io_in(PLAT_RESET_PORT, 1), 0x0a);
	/* the FADT's reset value */
	io_out(PLAT_RESET_PORT, 1, PLAT_RESET_VALUE);
	expect_stop(VDEV_STOP_REBOOT, "reboot (reset register)");
	io_out(PLAT_RESET_PORT, 1, 0x08);
	assert_int_equal(stop_count, 0);
	/* 0xCF8 and 0xCFA are not the reset register */
	assert_null(vdev_find_io(&test_part.vdevs, PLAT_PCI_CONF_ADDR));
	assert_null(vdev_find_io(&test_part.vdevs, PLAT_PCI_CONF_ADDR + 2));
}

static void test_keyboard_controller(void **state)
{
	(void)state;
	/* Linux's kb_wait: status bit 1 (input buffer full) clear at once */
	assert_int_equal(io_in(PLAT_KBD_STATUS_PORT, 1) & (KBC_STATUS_IBF | KBC_STATUS_OBF), 0);
	io_out(PLAT_KBD_STATUS_PORT, 1, 0xaa); /* self-test: nobody answers */
	io_out(PLAT_KBD_STATUS_PORT, 1, 0xff); /* pulse nothing */
	io_out(PLAT_KBD_STATUS_PORT, 1, 0xfd);
	assert_int_equal(stop_count, 0);
	io_out(PLAT_KBD_STATUS_PORT, 1, 0xfe);
	expect_stop(VDEV_STOP_REBOOT, "reboot (keyboard controller)");
	io_out(PLAT_KBD_STATUS_PORT, 1, 0xf0); /* pulses all four, reset among them */
	expect_stop(VDEV_STOP_REBOOT, "reboot (keyboard controller)");
	/* the data port is not there */
	assert_null(vdev_find_io(&test_part.vdevs, 0x60));
	assert_int_equal(io_in(0x60, 1), 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pmtimer_rate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pmtimer_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pmtimer_monotonic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pmtimer_widths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pmtimer_machine_passthrough, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pm1_status_enable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pm1_control, setup, teardown),
		cmocka_unit_test_setup_teardown(test_s5_by_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_sleep_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_register, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keyboard_controller, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_forces_after_the_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_of_a_guest_that_powers_off, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("vdev_pm", tests, NULL, NULL);
}
