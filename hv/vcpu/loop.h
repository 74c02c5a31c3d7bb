/* The vCPU loop: each physical CPU runs its one vCPU (DESIGN.md, data flow 5). */
#pragma once

#include "hv/lib/types.h"
#include "hv/vcpu/vcpu.h"

struct percpu;

/* The physical CPU's timer, armed for its vCPU's next timer deadline. */
#define VECTOR_TIMER 0xef

/* What every CPU does after start-up: wait for its vCPU's partition to run,
 * run it, and wait again. */
__noreturn void cpu_idle_loop(struct percpu *c);
/* Installs the kick handler (once, on the boot CPU). */
void vcpu_loop_init(void);
