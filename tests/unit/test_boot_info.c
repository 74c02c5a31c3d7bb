/* The module-name rule of SPEC 2 and the boot_info tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "boot/boot_info.h"

static void expect_name(const char *cmdline, const char *name)
{
	char out[BOOT_NAME_MAX];

	boot_module_name(cmdline, out, sizeof(out));
	assert_string_equal(out, name);
}

static void test_module_name_rule(void **state)
{
	(void)state;
	expect_name("bzImage", "bzImage");
	expect_name("/boot/vmlinuz-6.1 bzImage", "bzImage");
	expect_name("build/guest/vmlinuz bzImage", "bzImage");
	expect_name("/boot/hv.conf", "hv.conf");
	expect_name("/a/b/c/initrd-a", "initrd-a");
	expect_name("x  y  ", "y");
	expect_name("dir/sub/ name/with/dirs", "dirs");
	expect_name("", "");
	expect_name("   ", "");
	expect_name("/", "");
}

static void test_module_name_truncates(void **state)
{
	char out[4];

	(void)state;
	boot_module_name("/x/abcdefgh", out, sizeof(out));
	assert_string_equal(out, "abc");
}

static void test_tables_bounded(void **state)
{
	static struct boot_info bi;

	(void)state;
	for (int i = 0; i < BOOT_MODULES_MAX; i++)
		assert_true(boot_add_module(&bi, 0x1000 * i, 10, "m"));
	assert_false(boot_add_module(&bi, 0, 10, "overflow"));
	for (int i = 0; i < BOOT_MMAP_MAX; i++)
		assert_true(boot_add_mem(&bi, 0x1000 * i, 0x1000, BOOT_MEM_RAM));
	assert_false(boot_add_mem(&bi, 0, 1, BOOT_MEM_RAM));
	assert_int_equal(bi.module_count, BOOT_MODULES_MAX);
	assert_int_equal(bi.mmap_count, BOOT_MMAP_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_module_name_rule),
		cmocka_unit_test(test_module_name_truncates),
		cmocka_unit_test(test_tables_bounded),
	};

	return cmocka_run_group_tests_name("boot_info", tests, NULL, NULL);
}
