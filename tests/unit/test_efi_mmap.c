/* The UEFI front-end's memory map conversion: types, sorting, merging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "boot/efi/mmap_convert.h"

static struct boot_info bi;

static void reset(void)
{
	memset(&bi, 0, sizeof(bi));
}

static void expect_range(u32 i, u64 base, u64 len, u32 type)
{
	assert_true(i < bi.mmap_count);
	assert_int_equal(bi.mmap[i].base, base);
	assert_int_equal(bi.mmap[i].len, len);
	assert_int_equal(bi.mmap[i].type, type);
}

static void test_types(void **state)
{
	(void)state;
	assert_int_equal(efi_mmap_type(EFI_MEM_CONVENTIONAL), BOOT_MEM_RAM);
	assert_int_equal(efi_mmap_type(EFI_MEM_BS_CODE), BOOT_MEM_RAM);
	assert_int_equal(efi_mmap_type(EFI_MEM_BS_DATA), BOOT_MEM_RAM);
	assert_int_equal(efi_mmap_type(EFI_MEM_LOADER_CODE), BOOT_MEM_RAM);
	assert_int_equal(efi_mmap_type(EFI_MEM_LOADER_DATA), BOOT_MEM_RAM);
	assert_int_equal(efi_mmap_type(EFI_MEM_ACPI_RECLAIM), BOOT_MEM_ACPI);
	assert_int_equal(efi_mmap_type(EFI_MEM_ACPI_NVS), BOOT_MEM_NVS);
	assert_int_equal(efi_mmap_type(EFI_MEM_RT_CODE), BOOT_MEM_FW_RUNTIME);
	assert_int_equal(efi_mmap_type(EFI_MEM_RT_DATA), BOOT_MEM_FW_RUNTIME);
	assert_int_equal(efi_mmap_type(EFI_MEM_UNUSABLE), BOOT_MEM_UNUSABLE);
	assert_int_equal(efi_mmap_type(EFI_MEM_RESERVED), BOOT_MEM_RESERVED);
	assert_int_equal(efi_mmap_type(EFI_MEM_MMIO), BOOT_MEM_RESERVED);
	assert_int_equal(efi_mmap_type(EFI_MEM_MMIO_PORT), BOOT_MEM_RESERVED);
	assert_int_equal(efi_mmap_type(EFI_MEM_PAL_CODE), BOOT_MEM_RESERVED);
	assert_int_equal(efi_mmap_type(EFI_MEM_PERSISTENT), BOOT_MEM_RESERVED);
	assert_int_equal(efi_mmap_type(0x80000000), BOOT_MEM_RESERVED); /* OS range */
}

static void test_merge_in_order(void **state)
{
	(void)state;
	reset();
	assert_true(efi_mmap_add(&bi, 0x0, 0x1000, BOOT_MEM_RAM));
	assert_true(efi_mmap_add(&bi, 0x1000, 0x1000, BOOT_MEM_RAM));
	assert_true(efi_mmap_add(&bi, 0x2000, 0x1000, BOOT_MEM_ACPI));
	assert_true(efi_mmap_add(&bi, 0x4000, 0x1000, BOOT_MEM_ACPI)); /* gap */
	assert_true(efi_mmap_add(&bi, 0x5000, 0, BOOT_MEM_RAM));       /* empty */
	assert_int_equal(bi.mmap_count, 3);
	expect_range(0, 0x0, 0x2000, BOOT_MEM_RAM);
	expect_range(1, 0x2000, 0x1000, BOOT_MEM_ACPI);
	expect_range(2, 0x4000, 0x1000, BOOT_MEM_ACPI);
}

static void test_sorted_and_bridged(void **state)
{
	(void)state;
	reset();
	/* MMIO first, then RAM out of order, then the piece that joins two */
	assert_true(efi_mmap_add(&bi, 0xffc00000, 0x400000, BOOT_MEM_RESERVED));
	assert_true(efi_mmap_add(&bi, 0x3000, 0x1000, BOOT_MEM_RAM));
	assert_true(efi_mmap_add(&bi, 0x0, 0x1000, BOOT_MEM_RAM));
	assert_int_equal(bi.mmap_count, 3);
	assert_true(efi_mmap_add(&bi, 0x1000, 0x1000, BOOT_MEM_RAM)); /* grows [0] */
	assert_true(efi_mmap_add(&bi, 0x2000, 0x1000, BOOT_MEM_RAM)); /* bridges */
	assert_int_equal(bi.mmap_count, 2);
	expect_range(0, 0x0, 0x4000, BOOT_MEM_RAM);
	expect_range(1, 0xffc00000, 0x400000, BOOT_MEM_RESERVED);
	/* a range that a later one continues: merged from below */
	assert_true(efi_mmap_add(&bi, 0xff000000, 0xc00000, BOOT_MEM_RESERVED));
	assert_int_equal(bi.mmap_count, 2);
	expect_range(1, 0xff000000, 0x1000000, BOOT_MEM_RESERVED);
}

static void test_full(void **state)
{
	(void)state;
	reset();
	/* alternating types never merge */
	for (u32 i = 0; i < BOOT_MMAP_MAX; i++)
		assert_true(efi_mmap_add(&bi, (u64)i << 12, 0x1000,
					 i % 2 ? BOOT_MEM_RAM : BOOT_MEM_RESERVED));
	assert_false(efi_mmap_add(&bi, 0x10000000, 0x1000, BOOT_MEM_ACPI));
	/* a merge still works on a full table */
	assert_true(efi_mmap_add(&bi, (u64)BOOT_MMAP_MAX << 12, 0x1000, BOOT_MEM_RAM));
	assert_int_equal(bi.mmap_count, BOOT_MMAP_MAX);
	expect_range(BOOT_MMAP_MAX - 1, (u64)(BOOT_MMAP_MAX - 1) << 12, 0x2000, BOOT_MEM_RAM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_merge_in_order),
		cmocka_unit_test(test_sorted_and_bridged),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests_name("efi_mmap", tests, NULL, NULL);
}
