/*
 * The device registry (hv/vdev/vdev.c) with fake device types that log
 * every hook they get: creation in list order, per-vCPU instances in their
 * vCPU's slot, a type that declines, the reverse order of reset, stop,
 * statistics and free, everything freed when a creation fails, the
 * earliest timer deadline and who keeps which timer, lookups and ranges;
 * and the firmware tables built from what the devices say (firmware.c).
 */
#include "drivers/acpi.h"
#include "hv/vdev/acpi_tables.h"
#include "hv/vdev/firmware.h"
#include "hv/vdev/platform.h"
#include "tests/unit/test_vdev_fakes.h"

/* --- the log ---------------------------------------------------------------- */

#define LOG_MAX 32
#define LOG_LEN 24
static char log_lines[LOG_MAX][LOG_LEN];
static u32 log_count;

static void log_event(const char *fmt, ...)
{
	va_list ap;

	assert_true(log_count < LOG_MAX);
	va_start(ap, fmt);
	vsnprintf(log_lines[log_count++], LOG_LEN, fmt, ap);
	va_end(ap);
}

/* The log is exactly these lines (NULL-terminated), and is emptied. */
static void expect_log(const char *const *lines)
{
	u32 n = 0;

	for (; lines[n]; n++) {
		assert_true(n < log_count);
		assert_string_equal(log_lines[n], lines[n]);
	}
	assert_int_equal(log_count, n);
	log_count = 0;
}

#define EXPECT_LOG(...) expect_log((const char *const[]){ __VA_ARGS__, NULL })

/* --- fake device types -------------------------------------------------------- */

struct fake_dev {
	char name[8];  /* "A", or "P0" for P's instance in vCPU 0 */
	u64 deadline;  /* what its timer returns */
	u64 timer_now; /* what its timer was last given */
};

static const char *decline; /* the type whose create declines */
static const char *fail;    /* the type whose create fails */
static int fail_vcpu = -1;  /* the vCPU where P's vcpu_create fails */
static u8 range_dev;	    /* what the ranges' access function points at */

static int fake_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	(void)dev;
	(void)v;
	(void)a;
	return 0;
}

/* A partition device named name, with one port at port (0: none). */
static int make(struct vdev_registry *reg, const char *name, u16 port, struct fake_dev *d)
{
	assert_ptr_equal(reg, &test_part.vdevs);
	log_event("%s.create", name);
	/* a zeroed instance of the type's size, to set up */
	assert_non_null(d);
	assert_int_equal(d->name[0] | d->deadline | d->timer_now, 0);
	snprintf(d->name, sizeof(d->name), "%s", name);
	if (decline && !strcmp(decline, name))
		return VDEV_DECLINED;
	if (fail && !strcmp(fail, name))
		return -E_BUSY;
	if (port && vdev_add_io(reg, port, 1, fake_access, &range_dev))
		return -E_NOMEM;
	return 0;
}

static int create_a(struct vdev_registry *reg, void *dev)
{
	return make(reg, "A", 0x100, dev);
}

static int create_b(struct vdev_registry *reg, void *dev)
{
	return make(reg, "B", 0x200, dev);
}

static int create_c(struct vdev_registry *reg, void *dev)
{
	return make(reg, "C", 0, dev);
}

static int create_f(struct vdev_registry *reg, void *dev)
{
	return make(reg, "F", 0, dev);
}

/* P's shared part: an MMIO page, no instance of its own. */
static int create_p_shared(struct vdev_registry *reg, void *dev)
{
	log_event("P.share");
	assert_null(dev);
	if (decline && !strcmp(decline, "P"))
		return VDEV_DECLINED;
	return vdev_add_mmio(reg, PLAT_LAPIC_BASE, 0x1000, fake_access, NULL);
}

static int create_p(struct vdev_registry *reg, struct vcpu *v, void *dev)
{
	struct fake_dev *d = dev;

	assert_ptr_equal(reg, &test_part.vdevs);
	log_event("P.vcpu_create %u", v->id);
	assert_non_null(d);
	snprintf(d->name, sizeof(d->name), "P%u", v->id);
	return fail_vcpu == (int)v->id ? -E_NOMEM : 0;
}

static void fake_reset(void *dev)
{
	log_event("%s.reset", ((struct fake_dev *)dev)->name);
}

/* What it holds besides its memory, which the registry frees after. */
static void fake_give_back(void *dev)
{
	log_event("%s.free", ((struct fake_dev *)dev)->name);
}

static u64 fake_timer(void *dev, u64 now)
{
	struct fake_dev *d = dev;

	log_event("%s.timer", d->name);
	d->timer_now = now;
	return d->deadline;
}

static void fake_stopped(void *dev)
{
	log_event("%s.stopped", ((struct fake_dev *)dev)->name);
}

static void fake_stats(void *dev)
{
	log_event("%s.stats", ((struct fake_dev *)dev)->name);
}

#define FAKE_HOOKS                                                                    \
	.size = sizeof(struct fake_dev), .reset = fake_reset, .free = fake_give_back, \
	.stopped = fake_stopped, .stats = fake_stats

static const struct vdev_type type_a = { .name = "A",
					 .create = create_a,
					 FAKE_HOOKS,
					 .timer = fake_timer };
static const struct vdev_type type_b = { .name = "B",
					 .create = create_b,
					 FAKE_HOOKS,
					 .timer = fake_timer };
/* no hooks at all but create */
static const struct vdev_type type_c = { .name = "C",
					 .size = sizeof(struct fake_dev),
					 .create = create_c };
static const struct vdev_type type_f = { .name = "F", .create = create_f, FAKE_HOOKS };
static const struct vdev_type type_p = { .name = "P",
					 .create = create_p_shared,
					 .vcpu_create = create_p,
					 .vcpu_slot = VCPU_DEV_IRQCHIP,
					 FAKE_HOOKS,
					 .timer = fake_timer };
/* another per-vCPU type that wants the same slot */
static const struct vdev_type type_q = { .name = "Q",
					 .size = sizeof(struct fake_dev),
					 .vcpu_create = create_p,
					 .vcpu_slot = VCPU_DEV_IRQCHIP };
static const struct vdev_type type_bad_slot = { .name = "S",
						.size = sizeof(struct fake_dev),
						.vcpu_create = create_p,
						.vcpu_slot = VCPU_DEV_SLOTS };

/* --- the partition: two vCPUs ------------------------------------------------ */

#define VCPUS 2
static struct vcpu cpus[VCPUS];
static struct vdev_registry *reg = &test_part.vdevs;

static u32 kicks, kicked_req;
static struct vcpu *kicked;

static void fake_kick(struct vcpu *v, u32 req)
{
	kicks++;
	kicked = v;
	kicked_req = req;
}

static int setup(void **state)
{
	(void)state;
	part_init(VCPUS);
	memset(cpus, 0, sizeof(cpus));
	for (u32 i = 0; i < VCPUS; i++) {
		cpus[i].id = i;
		cpus[i].part = &test_part;
		test_part.vcpus[i] = &cpus[i];
	}
	fake_host.kick = fake_kick;
	kicks = kicked_req = 0;
	kicked = NULL;
	log_count = 0;
	decline = fail = NULL;
	fail_vcpu = -1;
	return 0;
}

#define CREATE(...)                                                      \
	create_devices((const struct vdev_type *const[]){ __VA_ARGS__ }, \
		       ARRAY_SIZE(((const struct vdev_type *const[]){ __VA_ARGS__ })))

static struct fake_dev *dev_of(const struct vdev_type *t)
{
	return vdev_find(reg, t);
}

static struct fake_dev *vcpu_dev(u32 i)
{
	return cpus[i].dev[VCPU_DEV_IRQCHIP];
}

/* --- creation --------------------------------------------------------------- */

static void test_create_in_list_order(void **state)
{
	(void)state;
	assert_int_equal(CREATE(&type_a, &type_p, &type_b), 0);
	EXPECT_LOG("A.create", "P.share", "P.vcpu_create 0", "P.vcpu_create 1", "B.create");
	assert_int_equal(reg->count, 3);
	assert_string_equal(dev_of(&type_a)->name, "A");
	assert_string_equal(dev_of(&type_b)->name, "B");
	/* a per-vCPU type's instances are in its vCPUs' slot, not in the registry */
	assert_null(dev_of(&type_p));
	assert_string_equal(vcpu_dev(0)->name, "P0");
	assert_string_equal(vcpu_dev(1)->name, "P1");
	/* their ranges: A's and B's ports, P's shared page */
	assert_int_equal(reg->io_count, 2);
	assert_int_equal(reg->mmio_count, 1);
	assert_ptr_equal(vdev_find_io(reg, 0x100)->dev, &range_dev);
	assert_ptr_equal(vdev_find_io(reg, 0x200)->dev, &range_dev);
	assert_null(vdev_find_io(reg, 0x101));
	assert_non_null(vdev_find_mmio(reg, PLAT_LAPIC_BASE + 0xfff));
	assert_null(vdev_find_mmio(reg, PLAT_LAPIC_BASE + 0x1000));
}

static void test_a_type_may_decline(void **state)
{
	(void)state;
	decline = "B";
	assert_int_equal(CREATE(&type_a, &type_b, &type_c), 0);
	EXPECT_LOG("A.create", "B.create", "C.create");
	assert_int_equal(reg->count, 2);
	assert_null(dev_of(&type_b));
	assert_null(vdev_find_io(reg, 0x200));
	/* nothing of it is reset or freed later */
	vdev_reset_all(reg);
	EXPECT_LOG("A.reset");
	vdev_free_all(reg);
	EXPECT_LOG("A.free");
	/* the declined one's memory went at once, the others' now; C has
	 * nothing to give back but its memory */
	assert_int_equal(fake_alloc_count, 0);

	/* a per-vCPU type that declines has no instance in any vCPU */
	decline = "P";
	assert_int_equal(CREATE(&type_p, &type_c), 0);
	EXPECT_LOG("P.share", "C.create");
	assert_int_equal(reg->count, 1);
	assert_null(vcpu_dev(0));
	assert_null(vcpu_dev(1));
	assert_int_equal(reg->mmio_count, 0);
	vdev_reset_all(reg);
	EXPECT_LOG(NULL);
}

/* --- undoing, in reverse ---------------------------------------------------- */

static void test_reset_stop_stats_in_reverse(void **state)
{
	(void)state;
	assert_int_equal(CREATE(&type_p, &type_a, &type_c, &type_b), 0);
	log_count = 0;
	/* the last created first; the interrupt controllers, first in the
	 * list, last; a type without the hook is skipped */
	vdev_reset_all(reg);
	EXPECT_LOG("B.reset", "A.reset", "P0.reset", "P1.reset");
	vdev_stopped(reg);
	EXPECT_LOG("B.stopped", "A.stopped", "P0.stopped", "P1.stopped");
	vdev_stats(reg);
	EXPECT_LOG("B.stats", "A.stats", "P0.stats", "P1.stats");
	/* an INIT resets one vCPU's own devices only */
	vdev_vcpu_reset(reg, &cpus[1]);
	EXPECT_LOG("P1.reset");
	vdev_free_all(reg);
	EXPECT_LOG("B.free", "A.free", "P0.free", "P1.free");
	assert_int_equal(fake_alloc_count, 0); /* C's memory too, without a free hook */
	assert_int_equal(reg->count, 0);
	assert_int_equal(reg->io_count, 0);
	assert_int_equal(reg->mmio_count, 0);
	assert_null(vcpu_dev(0));
	assert_null(vcpu_dev(1));
}

static void test_free_all_when_a_create_fails(void **state)
{
	(void)state;
	fail = "F";
	assert_int_equal(CREATE(&type_a, &type_p, &type_b, &type_f, &type_c), -E_BUSY);
	EXPECT_LOG("A.create", "P.share", "P.vcpu_create 0", "P.vcpu_create 1", "B.create",
		   "F.create", "B.free", "P0.free", "P1.free", "A.free");
	assert_int_equal(fake_alloc_count, 0);
	assert_int_equal(reg->count, 0);
	assert_int_equal(reg->io_count, 0);
	assert_int_equal(reg->mmio_count, 0);
	assert_null(vdev_find_io(reg, 0x100));
	assert_null(dev_of(&type_a));
	assert_null(vcpu_dev(0));
	assert_null(vcpu_dev(1));

	/* a per-vCPU instance that cannot be made: the ones before it go too */
	fail = NULL;
	fail_vcpu = 1;
	assert_int_equal(CREATE(&type_a, &type_p, &type_b), -E_NOMEM);
	EXPECT_LOG("A.create", "P.share", "P.vcpu_create 0", "P.vcpu_create 1", "P0.free",
		   "A.free");
	assert_int_equal(fake_alloc_count, 0);
	assert_int_equal(reg->count, 0);
	assert_null(vcpu_dev(0));
	assert_null(vcpu_dev(1));

	/* no memory for an instance (A's, P0's, then P1's) */
	fail_vcpu = -1;
	fake_alloc_calls = 0;
	fake_alloc_fail_at = 2;
	assert_int_equal(CREATE(&type_a, &type_p, &type_b), -E_NOMEM);
	EXPECT_LOG("A.create", "P.share", "P.vcpu_create 0", "P0.free", "A.free");
	assert_int_equal(fake_alloc_count, 0);
	assert_int_equal(reg->count, 0);
}

static void test_bad_lists(void **state)
{
	const struct vdev_type *many[VDEV_MAX + 1];

	(void)state;
	/* two per-vCPU types in one slot */
	assert_int_equal(CREATE(&type_a, &type_p, &type_q), -E_INVAL);
	EXPECT_LOG("A.create", "P.share", "P.vcpu_create 0", "P.vcpu_create 1", "P0.free",
		   "P1.free", "A.free");
	/* a slot that is not there */
	assert_int_equal(CREATE(&type_bad_slot), -E_INVAL);
	EXPECT_LOG(NULL);
	/* more than the registry holds: what fitted is freed */
	for (u32 i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = &type_c;
	assert_int_equal(create_devices(many, ARRAY_SIZE(many)), -E_NOMEM);
	assert_int_equal(log_count, VDEV_MAX);
	assert_int_equal(reg->count, 0);
	assert_int_equal(fake_alloc_count, 0);
	log_count = 0;
}

/* --- timers ------------------------------------------------------------------- */

static void test_timers_earliest_deadline(void **state)
{
	(void)state;
	assert_int_equal(CREATE(&type_p, &type_a, &type_c, &type_b), 0);
	log_count = 0;
	dev_of(&type_a)->deadline = 5000;
	dev_of(&type_b)->deadline = 3000;
	vcpu_dev(0)->deadline = 4000;
	vcpu_dev(1)->deadline = 2000;

	/* the first vCPU keeps the partition's timers: the earliest of all */
	assert_int_equal(vdev_timers(reg, &cpus[0], 1234), 3000);
	EXPECT_LOG("P0.timer", "A.timer", "B.timer");
	assert_int_equal(dev_of(&type_a)->timer_now, 1234);
	assert_int_equal(dev_of(&type_b)->timer_now, 1234);
	assert_int_equal(vcpu_dev(0)->timer_now, 1234);
	/* another vCPU, its own devices' only */
	assert_int_equal(vdev_timers(reg, &cpus[1], 99), 2000);
	EXPECT_LOG("P1.timer");
	assert_int_equal(vcpu_dev(1)->timer_now, 99);

	/* 0 is "none", never the earliest */
	dev_of(&type_b)->deadline = 0;
	vcpu_dev(0)->deadline = 0;
	assert_int_equal(vdev_timers(reg, &cpus[0], 1), 5000);
	dev_of(&type_a)->deadline = 0;
	assert_int_equal(vdev_timers(reg, &cpus[0], 1), 0);
	vcpu_dev(0)->deadline = 7;
	assert_int_equal(vdev_timers(reg, &cpus[0], 1), 7);
	log_count = 0;
}

static void test_timer_changed_kicks_the_keeper(void **state)
{
	(void)state;
	cpus[0].timer_dirty = 0;
	vdev_timer_changed(reg);
	assert_int_equal(cpus[0].timer_dirty, 1);
	assert_int_equal(cpus[1].timer_dirty, 0);
	assert_int_equal(kicks, 1);
	assert_ptr_equal(kicked, &cpus[0]);
	assert_int_equal(kicked_req, 0); /* no request: just look at the timers */

	/* a partition without vCPUs has nobody to tell */
	part_init(0);
	vdev_timer_changed(reg);
	assert_int_equal(kicks, 1);
}

/* --- lookup and ranges -------------------------------------------------------- */

static void test_lookup_and_ranges(void **state)
{
	struct vdev_registry empty;

	(void)state;
	assert_int_equal(CREATE(&type_a, &type_c), 0);
	assert_string_equal(dev_of(&type_a)->name, "A");
	assert_string_equal(dev_of(&type_c)->name, "C");
	assert_null(dev_of(&type_b)); /* not in the list */
	memset(&empty, 0, sizeof(empty));
	assert_null(vdev_find(&empty, &type_a));

	/* ranges: a port range covers [base, base + count) */
	assert_int_equal(vdev_add_io(reg, 0x3f8, 8, fake_access, &range_dev), 0);
	assert_null(vdev_find_io(reg, 0x3f7));
	assert_non_null(vdev_find_io(reg, 0x3f8));
	assert_non_null(vdev_find_io(reg, 0x3ff));
	assert_null(vdev_find_io(reg, 0x400));
	/* until the table is full */
	while (reg->io_count < VDEV_MAX_IO)
		assert_int_equal(vdev_add_io(reg, 0x1000, 1, fake_access, NULL), 0);
	assert_int_equal(vdev_add_io(reg, 0x2000, 1, fake_access, NULL), -E_NOMEM);
	while (reg->mmio_count < VDEV_MAX_MMIO)
		assert_int_equal(vdev_add_mmio(reg, 0xd0000000, 0x1000, fake_access, NULL), 0);
	assert_int_equal(vdev_add_mmio(reg, 0xd0001000, 0x1000, fake_access, NULL), -E_NOMEM);
	/* an MMIO range ending at the top of the address space */
	vdev_free_all(reg);
	assert_int_equal(vdev_add_mmio(reg, ~0ULL - 0xfff, 0x1000, fake_access, NULL), 0);
	assert_non_null(vdev_find_mmio(reg, ~0ULL));
	assert_null(vdev_find_mmio(reg, ~0ULL - 0x1000));
	log_count = 0;
}

/* --- firmware tables --------------------------------------------------------- */

static void firmware_timer(void *dev, struct acpi_build_cfg *cfg)
{
	(void)dev;
	log_event("T.firmware");
	cfg->pm_tmr_port = 0x1808;
	cfg->pm_tmr_32bit = true;
}

static void firmware_rtc(void *dev, struct acpi_build_cfg *cfg)
{
	(void)dev;
	log_event("R.firmware");
	assert_int_equal(cfg->pm_tmr_port, 0x1808); /* in list order */
	cfg->rtc_century = true;
}

static int create_t(struct vdev_registry *r, void *dev)
{
	return make(r, "T", 0, dev);
}

static int create_r(struct vdev_registry *r, void *dev)
{
	return make(r, "R", 0, dev);
}

static const struct vdev_type type_t = { .name = "T",
					 .size = sizeof(struct fake_dev),
					 .create = create_t,
					 .firmware = firmware_timer };
static const struct vdev_type type_r = { .name = "R",
					 .size = sizeof(struct fake_dev),
					 .create = create_r,
					 .firmware = firmware_rtc };

static u8 *fake_ram;

static void *ram_ptr(const struct partition *p, u64 gpa, u64 len)
{
	assert_ptr_equal(p, &test_part);
	if (!fake_ram || gpa < PLAT_ACPI_BASE || gpa + len > PLAT_ACPI_BASE + PLAT_ACPI_SIZE)
		return NULL;
	return fake_ram + (gpa - PLAT_ACPI_BASE);
}

static const void *ram_map(u64 pa, u64 len, void *ctx)
{
	(void)ctx;
	return ram_ptr(&test_part, pa, len);
}

static void test_firmware_from_the_devices(void **state)
{
	struct acpi_info *ai = calloc(1, sizeof(*ai));
	u64 rsdp = 0;

	(void)state;
	assert_non_null(ai);
	fake_host.gpa_ptr = ram_ptr;
	assert_int_equal(CREATE(&type_a, &type_t, &type_r), 0);
	log_count = 0;

	/* no RAM where the tables go */
	fake_ram = NULL;
	assert_int_equal(firmware_build(reg, &rsdp), -E_RANGE);
	log_count = 0;

	fake_ram = calloc(1, PLAT_ACPI_SIZE);
	assert_non_null(fake_ram);
	assert_int_equal(firmware_build(reg, &rsdp), 0);
	EXPECT_LOG("T.firmware", "R.firmware");
	assert_int_equal(rsdp, PLAT_ACPI_BASE);
	assert_int_equal(acpi_parse(ai, rsdp, NULL, 0, ram_map, NULL), 0);
	/* the partition's vCPUs and what the devices said */
	assert_int_equal(ai->cpu_count, VCPUS);
	assert_int_equal(ai->pm_tmr_port, 0x1808);
	assert_true(ai->pm_tmr_32bit);
	free(fake_ram);
	fake_ram = NULL;
	free(ai);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_in_list_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_type_may_decline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_stop_stats_in_reverse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_all_when_a_create_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_lists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timers_earliest_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_changed_kicks_the_keeper, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_lookup_and_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_firmware_from_the_devices, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
