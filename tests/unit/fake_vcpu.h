/*
 * The world around the core, for the tests of its decisions (test_exit.c,
 * test_cpuid.c, test_msr.c, test_io.c). The core itself (hv/vcpu/exit.c,
 * hv/policy/, and what they use of hv/insn/, hv/vcpu/guest_code.c and
 * hv/vdev/vdev.c) is the real code; everything it calls outside that is
 * faked here, in one place, and records what it was asked:
 *
 *   the vendor backend  vcpu_ops: skip, apply, load_state, store_state,
 *                       set_msr_intercept, set_io_intercept (the other slots
 *                       stay NULL: the core's decisions never call them)
 *   the host CPU        cpuid_host, cpuid_host_xcr0, cpuid_host_set_xcr0 (which
 *                       can be made to fault)
 *   the console         printk
 *   the TSC             tsc_hz
 *   the partition       part_gpa_ptr (its RAM is a struct fake_ram)
 *   the local APIC      vlapic_is_x2apic_msr, vlapic_msr_read,
 *                       vlapic_msr_write, vlapic_set_mode,
 *                       vlapic_mode, vlapic_tsc_deadline_read,
 *                       vlapic_tsc_deadline_write
 *
 * A test calls fake_part_init() first (cmocka setup), then builds an exit
 * with fake_exit() and hands it to the code under test.
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/partition/partition.h"
#include "hv/policy/cpuid.h"
#include "hv/vcpu/exit.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vdev/vlapic.h"
#include "hv/virt.h"
#include "tests/unit/test_support.h"

/* ---- the vendor backend: a register file in place of the VMCS/VMCB ---- */

struct fake_backend {
	struct vcpu_state hw;  /* what load_state reads and store_state writes */
	u32 loads, stores;     /* calls */
	u32 loaded, stored;    /* the VS_* bits asked, all calls together */
	u32 skips;	       /* skip() calls ... */
	u32 skip_len;	       /* ... and the length of the last */
	u32 applies;	       /* apply() calls ... */
	struct vm_apply apply; /* ... and what the last asked */
};

struct fake_intercept {
	u32 index;	  /* MSR or port */
	bool read, write; /* MSR: intercepted for reads / writes */
	bool on;	  /* port: intercepted */
};

#define FAKE_INTERCEPTS 64

static struct {
	struct partition *part; /* the partition of every call so far */
	u32 msr_count, io_count;
	struct fake_intercept msr[FAKE_INTERCEPTS], io[FAKE_INTERCEPTS];
} fake_intercepts;

static inline struct fake_backend *fake_be(struct vcpu *v)
{
	return v->vendor;
}

/* Copies the VS_* parts of mask (hv/vcpu/vcpu.h) from src to dst. */
static inline void fake_copy_state(struct vcpu_state *dst, const struct vcpu_state *src, u32 mask)
{
	if (mask & VS_RIP)
		dst->rip = src->rip;
	if (mask & VS_RFLAGS)
		dst->rflags = src->rflags;
	if (mask & VS_CR) {
		dst->cr0 = src->cr0;
		dst->cr2 = src->cr2;
		dst->cr3 = src->cr3;
		dst->cr4 = src->cr4;
		dst->efer = src->efer;
	}
	if (mask & VS_SEG) {
		dst->es = src->es;
		dst->ds = src->ds;
		dst->fs = src->fs;
		dst->gs = src->gs;
		dst->tr = src->tr;
		dst->ldtr = src->ldtr;
		dst->gdtr = src->gdtr;
		dst->idtr = src->idtr;
	}
	if (mask & (VS_SEG | VS_SEG_CODE)) {
		dst->cs = src->cs;
		dst->ss = src->ss;
	}
	if (mask & VS_DR) {
		dst->dr6 = src->dr6;
		dst->dr7 = src->dr7;
	}
	if (mask & VS_SYSENTER) {
		dst->sysenter_cs = src->sysenter_cs;
		dst->sysenter_esp = src->sysenter_esp;
		dst->sysenter_eip = src->sysenter_eip;
	}
	if (mask & VS_PAT)
		dst->pat = src->pat;
	if (mask & VS_INTR)
		dst->intr_shadow = src->intr_shadow;
	if (mask & VS_MSR) {
		dst->kernel_gs_base = src->kernel_gs_base;
		dst->star = src->star;
		dst->lstar = src->lstar;
		dst->cstar = src->cstar;
		dst->sfmask = src->sfmask;
		dst->tsc_aux = src->tsc_aux;
	}
}

/* As the backends do: what is valid since the exit is not read again. */
static void fake_load_state(struct vcpu *v, u32 mask)
{
	struct fake_backend *b = fake_be(v);

	b->loads++;
	b->loaded |= mask;
	mask &= ~v->state_valid;
	fake_copy_state(&v->state, &b->hw, mask);
	v->state_valid |= mask;
}

static void fake_store_state(struct vcpu *v, u32 mask)
{
	struct fake_backend *b = fake_be(v);

	b->stores++;
	b->stored |= mask;
	fake_copy_state(&b->hw, &v->state, mask);
	v->state_valid |= mask;
}

static void fake_skip(struct vcpu *v, u32 len)
{
	fake_be(v)->skips++;
	fake_be(v)->skip_len = len;
}

static void fake_apply(struct vcpu *v, const struct vm_exit *e, const struct vm_apply *a)
{
	(void)e;
	fake_be(v)->applies++;
	fake_be(v)->apply = *a;
}

static void fake_set_msr_intercept(struct partition *p, u32 msr, bool read, bool write)
{
	assert_true(fake_intercepts.msr_count < FAKE_INTERCEPTS);
	assert_ptr_equal(p, fake_intercepts.part);
	fake_intercepts.msr[fake_intercepts.msr_count++] =
		(struct fake_intercept){ .index = msr, .read = read, .write = write };
}

static void fake_set_io_intercept(struct partition *p, u16 port, bool intercept)
{
	assert_true(fake_intercepts.io_count < FAKE_INTERCEPTS);
	assert_ptr_equal(p, fake_intercepts.part);
	fake_intercepts.io[fake_intercepts.io_count++] =
		(struct fake_intercept){ .index = port, .on = intercept };
}

static const struct vcpu_ops fake_vcpu_ops = {
	.name = "fake",
	.set_msr_intercept = fake_set_msr_intercept,
	.set_io_intercept = fake_set_io_intercept,
	.apply = fake_apply,
	.skip = fake_skip,
	.load_state = fake_load_state,
	.store_state = fake_store_state,
};

const struct vcpu_ops *vcpu_ops;

/* ---- the host CPU: a CPUID table and XCR0 ---- */

#define FAKE_CPUID_LEAVES 64
#define FAKE_ANY_SUB 0xffffffffU

static struct {
	u32 count;
	struct {
		u32 leaf, sub; /* sub FAKE_ANY_SUB: the leaf has no subleaves */
		struct cpuid_regs r;
	} leaf[FAKE_CPUID_LEAVES];
	u64 xcr0;	 /* what XGETBV reads */
	u32 xcr0_writes; /* XSETBV executed */
	bool xsetbv_gp;	 /* the next XSETBV faults (a value the CPU refuses) */
} fake_cpu;

/* What the host answers for leaf/sub (any subleaf: FAKE_ANY_SUB). */
static inline void fake_cpuid_set(u32 leaf, u32 sub, u32 eax, u32 ebx, u32 ecx, u32 edx)
{
	for (u32 i = 0; i < fake_cpu.count; i++) {
		if (fake_cpu.leaf[i].leaf == leaf && fake_cpu.leaf[i].sub == sub) {
			fake_cpu.leaf[i].r = (struct cpuid_regs){ eax, ebx, ecx, edx };
			return;
		}
	}
	assert_true(fake_cpu.count < FAKE_CPUID_LEAVES);
	fake_cpu.leaf[fake_cpu.count].leaf = leaf;
	fake_cpu.leaf[fake_cpu.count].sub = sub;
	fake_cpu.leaf[fake_cpu.count].r = (struct cpuid_regs){ eax, ebx, ecx, edx };
	fake_cpu.count++;
}

/* A leaf the table does not have reads as zeros. */
void cpuid_host(u32 leaf, u32 sub, struct cpuid_regs *r)
{
	memset(r, 0, sizeof(*r));
	for (u32 i = 0; i < fake_cpu.count; i++) {
		if (fake_cpu.leaf[i].leaf == leaf &&
		    (fake_cpu.leaf[i].sub == sub || fake_cpu.leaf[i].sub == FAKE_ANY_SUB)) {
			*r = fake_cpu.leaf[i].r;
			return;
		}
	}
}

u64 cpuid_host_xcr0(void)
{
	return fake_cpu.xcr0;
}

int cpuid_host_set_xcr0(u64 xcr0)
{
	fake_cpu.xcr0_writes++;
	if (fake_cpu.xsetbv_gp) {
		fake_cpu.xsetbv_gp = false;
		return -E_IO;
	}
	fake_cpu.xcr0 = xcr0;
	return 0;
}

/* ---- the console: counts the lines, keeps the last ---- */

static struct {
	u32 count;
	char last[256];
} fake_console;

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fake_console.last, sizeof(fake_console.last), fmt, ap);
	va_end(ap);
	fake_console.count++;
}

/* ---- the TSC ---- */

#define FAKE_TSC_HZ 2100000000ULL

static u64 fake_tsc_hz = FAKE_TSC_HZ;

u64 tsc_hz(void)
{
	return fake_tsc_hz;
}

/* ---- the local APIC, as the MSR policy reaches it ---- */

#define FAKE_X2APIC_FIRST 0x800
#define FAKE_X2APIC_LAST 0x8ff

static struct {
	struct vcpu *v;	       /* of the last call */
	enum vlapic_mode mode; /* what vlapic_mode answers (0: VLAPIC_XAPIC) */
	u32 set_mode_calls;
	enum vlapic_mode set_mode; /* the last vlapic_set_mode's argument */
	u64 deadline;		   /* IA32_TSC_DEADLINE: what a read gives, a write sets */
	u32 deadline_writes;
	u32 msr_reads, msr_writes;
	u32 msr;     /* the last x2APIC MSR asked */
	u64 msr_val; /* what a read gives; what the last write wrote */
	int err;     /* what every call that can fail returns */
} fake_lapic;

/* Mirrors vlapic.h: MSRs 0x800-0x8ff are the x2APIC's. */
bool vlapic_is_x2apic_msr(u32 msr)
{
	return msr >= FAKE_X2APIC_FIRST && msr <= FAKE_X2APIC_LAST;
}

int vlapic_msr_read(struct vcpu *v, u32 msr, u64 *val)
{
	fake_lapic.v = v;
	fake_lapic.msr_reads++;
	fake_lapic.msr = msr;
	if (!fake_lapic.err)
		*val = fake_lapic.msr_val;
	return fake_lapic.err;
}

int vlapic_msr_write(struct vcpu *v, u32 msr, u64 val)
{
	fake_lapic.v = v;
	fake_lapic.msr_writes++;
	fake_lapic.msr = msr;
	fake_lapic.msr_val = val;
	return fake_lapic.err;
}

int vlapic_set_mode(struct vcpu *v, enum vlapic_mode mode)
{
	fake_lapic.v = v;
	fake_lapic.set_mode_calls++;
	fake_lapic.set_mode = mode;
	return fake_lapic.err;
}

enum vlapic_mode vlapic_mode(struct vcpu *v)
{
	fake_lapic.v = v;
	return fake_lapic.mode;
}

u64 vlapic_tsc_deadline_read(struct vcpu *v)
{
	fake_lapic.v = v;
	return fake_lapic.deadline;
}

int vlapic_tsc_deadline_write(struct vcpu *v, u64 val)
{
	fake_lapic.v = v;
	fake_lapic.deadline_writes++;
	fake_lapic.deadline = val;
	return fake_lapic.err;
}

/* ---- the partition under test: its vCPUs and its RAM ---- */

static struct partition fake_part;
static struct vcpu fake_vcpus[PART_MAX_VCPUS];
static struct fake_backend fake_backends[PART_MAX_VCPUS];
static struct fake_ram fake_guest_ram;

void *part_gpa_ptr(const struct partition *p, u64 gpa, u64 len)
{
	assert_ptr_equal(p, &fake_part);
	return fake_ram_ptr(&fake_guest_ram, gpa, len);
}

/* A partition "test" of n vCPUs, no RAM, nothing recorded; returns vCPU 0.
 * The host CPU's table is left as it is. */
static inline struct vcpu *fake_part_init(u32 n)
{
	assert_true(n >= 1 && n <= PART_MAX_VCPUS);
	fake_ram_free(&fake_guest_ram);
	memset(&fake_part, 0, sizeof(fake_part));
	memset(fake_vcpus, 0, sizeof(fake_vcpus));
	memset(fake_backends, 0, sizeof(fake_backends));
	memset(&fake_intercepts, 0, sizeof(fake_intercepts));
	memset(&fake_console, 0, sizeof(fake_console));
	memset(&fake_lapic, 0, sizeof(fake_lapic));
	fake_part.name = "test";
	fake_part.vcpu_count = n;
	for (u32 i = 0; i < n; i++) {
		fake_vcpus[i].part = &fake_part;
		fake_vcpus[i].id = i;
		fake_vcpus[i].vendor = &fake_backends[i];
		fake_vcpus[i].run_state = VCPU_RUNNING;
		fake_part.vcpus[i] = &fake_vcpus[i];
	}
	fake_intercepts.part = &fake_part;
	fake_cpu.xcr0_writes = 0;
	vcpu_ops = &fake_vcpu_ops;
	return &fake_vcpus[0];
}

/* cmocka teardown of every test that called fake_part_init. */
static inline int fake_teardown(void **state)
{
	(void)state;
	fake_ram_free(&fake_guest_ram);
	return 0;
}

/* An exit of v as the backend's run() leaves it: nothing loaded yet. */
static inline struct vm_exit fake_exit(struct vcpu *v, u32 reason, u32 insn_len)
{
	struct fake_backend *b = fake_be(v);

	v->state_valid = 0;
	b->loads = b->stores = b->loaded = b->stored = 0;
	b->skips = b->skip_len = b->applies = 0;
	memset(&b->apply, 0, sizeof(b->apply));
	return (struct vm_exit){ .reason = reason, .raw = 0x1234, .insn_len = insn_len };
}
