/* The console's periodic work on each CPU: input for the partition with
 * the focus (SPEC 4), and the lines waiting to go out. */
#pragma once

#include "hv/lib/types.h"

/*
 * Called on this CPU's way through the vCPU loop, or while it has no vCPU
 * to run (IDLE). The CPUs of the partition with the focus poll the
 * physical UART for its input (its input, its cost); waiting lines go out
 * as console_service says. Bounded. Returns the TSC at which this CPU has
 * console work again, 0: none.
 */
u64 console_poll(bool idle, u64 now);
