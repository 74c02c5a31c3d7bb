/* The console's input side: the physical UART's bytes go to the focus (SPEC 4). */
#pragma once

#include "hv/lib/types.h"

/* Polls the physical console for input (rate-limited; any CPU may call);
 * returns the TSC at which the next poll is due. */
u64 console_input_poll(u64 now);
