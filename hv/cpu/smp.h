/* Bringing up the other CPUs, and stopping them. */
#pragma once

#include "hv/lib/types.h"

struct percpu;

/* Starts every enabled CPU of the MADT, each of which goes on in ap_main
 * once it runs on the hypervisor's tables; returns how many are online. */
u32 smp_start_aps(__noreturn void (*ap_main)(struct percpu *c));
/* Set once the machine is stopping: an NMI then parks the CPU for good. */
extern volatile bool smp_stopping;

/* Sends an NMI to every other online CPU (stopping the machine) and waits
 * a while for them to park; returns how many did not in time. */
u32 smp_stop_others(void);
