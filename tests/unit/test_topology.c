/*
 * Hyperthread siblings from CPUID (drivers/topology.c): the SMT width of the
 * APIC ID from leaf 1Fh, else 0Bh (SDM 3A 8.9), else AMD's Fn8000_001E
 * (threads per core, with TOPOEXT); 0 when CPUID shows none of them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "drivers/topology.h"

#define MAX_LEAVES 16

struct leaf {
	u32 leaf, sub;
	struct cpuid_regs r;
};

static struct leaf table[MAX_LEAVES];
static u32 count;

static void set(u32 leaf, u32 sub, u32 eax, u32 ebx, u32 ecx, u32 edx)
{
	assert_true(count < MAX_LEAVES);
	table[count++] = (struct leaf){ leaf, sub, { eax, ebx, ecx, edx } };
}

/* Unknown leaves read 0, like leaves past the maximum on most CPUs. */
static void fake_cpuid(u32 leaf, u32 sub, struct cpuid_regs *r)
{
	memset(r, 0, sizeof(*r));
	for (u32 i = 0; i < count; i++)
		if (table[i].leaf == leaf && table[i].sub == sub)
			*r = table[i].r;
}

static int setup(void **state)
{
	(void)state;
	count = 0;
	return 0;
}

/* Leaf 0Bh: subleaf 0 is the SMT level (type 1 in ECX 15:8), EAX 4:0 its width. */
static void test_leaf_0b(void **state)
{
	(void)state;
	set(0x0, 0, 0xd, 0, 0, 0);
	set(0xb, 0, 1, 2, 0x100, 0);  /* 2 threads: 1 bit */
	set(0xb, 1, 4, 8, 0x201, 0);  /* core level */
	set(0x1f, 0, 3, 8, 0x100, 0); /* beyond the maximum leaf: not read */
	assert_int_equal(topology_smt_bits(fake_cpuid), 1);
	count = 0;
	set(0x0, 0, 0xb, 0, 0, 0);
	set(0xb, 0, 0, 1, 0x100, 0); /* one thread per core */
	assert_int_equal(topology_smt_bits(fake_cpuid), 0);
}

/* Leaf 1Fh first when valid (EBX not 0), else 0Bh. */
static void test_leaf_1f(void **state)
{
	(void)state;
	set(0x0, 0, 0x20, 0, 0, 0);
	set(0x1f, 0, 2, 4, 0x100, 0);
	set(0xb, 0, 1, 2, 0x100, 0);
	assert_int_equal(topology_smt_bits(fake_cpuid), 2);
	count = 0;
	set(0x0, 0, 0x20, 0, 0, 0);
	set(0x1f, 0, 0, 0, 0, 0); /* invalid: all zero */
	set(0xb, 0, 1, 2, 0x100, 0);
	assert_int_equal(topology_smt_bits(fake_cpuid), 1);
}

/* AMD without leaf 0Bh: Fn8000_001E EBX 15:8 is threads per core - 1, with
 * TOPOEXT (Fn8000_0001 ECX bit 22) only. */
static void test_amd(void **state)
{
	(void)state;
	set(0x0, 0, 0xd, 0, 0, 0);
	set(0x80000000, 0, 0x8000001f, 0, 0, 0);
	set(0x80000001, 0, 0, 0, 1u << 22, 0);
	set(0x8000001e, 0, 0, 0x0100, 0, 0); /* 2 threads */
	assert_int_equal(topology_smt_bits(fake_cpuid), 1);
	table[2].r.ecx = 0; /* no TOPOEXT */
	assert_int_equal(topology_smt_bits(fake_cpuid), 0);
	table[2].r.ecx = 1u << 22;
	table[3].r.ebx = 0x0300; /* 4 threads (a compute unit's cores on family 15h) */
	assert_int_equal(topology_smt_bits(fake_cpuid), 2);
	table[1].r.eax = 0x8000001d; /* leaf not there */
	assert_int_equal(topology_smt_bits(fake_cpuid), 0);
}

/* Nothing said: one thread per core. */
static void test_none(void **state)
{
	(void)state;
	assert_int_equal(topology_smt_bits(fake_cpuid), 0);
	set(0x0, 0, 0xd, 0, 0, 0);
	set(0xb, 0, 1, 2, 0x200, 0); /* subleaf 0 is not the SMT level */
	assert_int_equal(topology_smt_bits(fake_cpuid), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_leaf_0b, setup),
		cmocka_unit_test_setup(test_leaf_1f, setup),
		cmocka_unit_test_setup(test_amd, setup),
		cmocka_unit_test_setup(test_none, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
