/* The vCPU loop: each physical CPU runs its one vCPU (DESIGN.md, data flow 5). */
#pragma once

#include "hv/lib/types.h"
#include "hv/vcpu/vcpu.h"

struct percpu;

/* The host vector that makes a CPU leave its guest and look at requests. */
#define VECTOR_KICK 0xf0
/* The physical CPU's timer, armed for its vCPU's next timer deadline. */
#define VECTOR_TIMER 0xef

/* Posts req to v and makes its CPU notice (an IPI unless it is us). */
void vcpu_kick(struct vcpu *v, u32 req);
/* What every CPU does after start-up: wait for its vCPU's partition to run,
 * run it, and wait again. */
__noreturn void cpu_idle_loop(struct percpu *c);
/* Installs the kick handler (once, on the boot CPU). */
void vcpu_loop_init(void);
/* Architectural INIT state (SDM 3A 9.1.1, table 9-1) into v->state/gpr. */
void vcpu_init_state(struct vcpu *v);
