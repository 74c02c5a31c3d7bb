/* The UEFI front-end's scan of hv.conf for the files it must load. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "boot/efi/conf_files.h"

static struct conf_file_list list;

static void scan(const char *text)
{
	memset(&list, 0x5a, sizeof(list)); /* the scan must initialise it */
	conf_files_scan(text, strlen(text), &list);
}

static void test_spec_example(void **state)
{
	(void)state;
	scan("[hypervisor]\n"
	     "console  = com1           # com1..com4 | none\n"
	     "\n"
	     "[partition linux-a]\n"
	     "cpus     = 0-1\n"
	     "kernel   = bzImage        # a Linux bzImage\n"
	     "initrd   = initrd-a       # optional\n"
	     "cmdline  = console=ttyS0 initrd=not-this\n"
	     "[partition linux-b]\n"
	     "kernel = bzImage\n"
	     "initrd = initrd-b\n");
	assert_int_equal(list.count, 3);
	assert_int_equal(list.dropped, 0);
	assert_string_equal(list.names[0], "bzImage");
	assert_string_equal(list.names[1], "initrd-a");
	assert_string_equal(list.names[2], "initrd-b");
}

static void test_blanks_and_line_ends(void **state)
{
	(void)state;
	/* a BOM, CRLF, tabs, no blanks at all, no final newline */
	scan("\xef\xbb\xbf"
	     "kernel=a\r\n"
	     "\t initrd \t=\t b c \r\n"
	     "   # kernel = commented\n"
	     "kernel = d");
	assert_int_equal(list.count, 3);
	assert_string_equal(list.names[0], "a");
	assert_string_equal(list.names[1], "b c");
	assert_string_equal(list.names[2], "d");
}

static void test_not_file_keys(void **state)
{
	(void)state;
	scan("kernels = x\n"
	     "xkernel = y\n"
	     "kernel\n" /* no '=': the parser's problem */
	     "kernel =   # empty value\n"
	     "kernel = \n"
	     "Kernel = z\n"   /* keys are lower case */
	     "[kernel = w]\n" /* inside a section header: not a key */
	     "# initrd = v\n"
	     "memory = 512M\n");
	assert_int_equal(list.count, 0);
	assert_int_equal(list.dropped, 0);
}

static void test_empty(void **state)
{
	(void)state;
	scan("");
	assert_int_equal(list.count, 0);
	scan("\n\n# only comments\n[hypervisor]\n");
	assert_int_equal(list.count, 0);
}

static void test_length_bounds_the_text(void **state)
{
	const char text[] = "kernel = abcdef";

	(void)state;
	conf_files_scan(text, strlen("kernel = abc"), &list);
	assert_int_equal(list.count, 1);
	assert_string_equal(list.names[0], "abc");
}

static void test_name_too_long(void **state)
{
	char text[BOOT_NAME_MAX + 64];

	(void)state;
	snprintf(text, sizeof(text), "kernel = %0*d\ninitrd = ok\n", BOOT_NAME_MAX, 7);
	scan(text);
	assert_int_equal(list.count, 1);
	assert_int_equal(list.dropped, 1);
	assert_string_equal(list.names[0], "ok");

	/* the longest name that fits */
	snprintf(text, sizeof(text), "kernel = %0*d\n", BOOT_NAME_MAX - 1, 7);
	scan(text);
	assert_int_equal(list.count, 1);
	assert_int_equal(strlen(list.names[0]), BOOT_NAME_MAX - 1);
}

static void test_table_full(void **state)
{
	static char text[64 * (CONF_FILES_MAX + 8)];
	size_t off = 0;

	(void)state;
	for (int i = 0; i < CONF_FILES_MAX + 5; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"[partition p%d]\nkernel = k%d\n", i, i);
	/* a repeated name costs nothing even when the table is full */
	snprintf(text + off, sizeof(text) - off, "initrd = k0\n");
	scan(text);
	assert_int_equal(list.count, CONF_FILES_MAX);
	assert_int_equal(list.dropped, 5);
	assert_string_equal(list.names[CONF_FILES_MAX - 1], "k30");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_blanks_and_line_ends),
		cmocka_unit_test(test_not_file_keys),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_length_bounds_the_text),
		cmocka_unit_test(test_name_too_long),
		cmocka_unit_test(test_table_full),
	};

	return cmocka_run_group_tests_name("efi_conf_files", tests, NULL, NULL);
}
