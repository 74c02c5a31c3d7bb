/* MSR policy: default deny with an allow-list (DESIGN.md). */
#pragma once

#include "hv/lib/types.h"

struct vcpu;
struct partition;

/* Clears the intercepts of the MSRs the guest owns outright. */
void msr_setup_partition(struct partition *p);
/* The MSRs kept per vCPU at their RESET values (the partition starts). */
void msr_reset_vcpu(struct vcpu *v);
/* 0 and *val, or -E_INVAL: the guest gets #GP(0) as on hardware. */
int msr_read(struct vcpu *v, u32 msr, u64 *val);
/* RDPMC's counter ECX (-E_INVAL: the partition has no such counter) */
int msr_read_pmc(struct vcpu *v, u32 counter, u64 *val);
int msr_write(struct vcpu *v, u32 msr, u64 val);
