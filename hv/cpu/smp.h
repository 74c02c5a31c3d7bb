/* Bringing up the other CPUs, and stopping them. */
#pragma once

#include "hv/lib/types.h"

/* Starts every enabled CPU of the MADT; returns how many are online. */
u32 smp_start_aps(void);
/* Set once the machine is stopping: an NMI then parks the CPU for good. */
extern volatile bool smp_stopping;

/* Sends an NMI to every other online CPU (used when stopping the machine). */
void smp_stop_others(void);
