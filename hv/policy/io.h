/* Port I/O exits: to the partition's devices, or open bus (DESIGN.md: default deny). */
#pragma once

#include "hv/vcpu/exit.h"

enum exit_action io_handle(struct vcpu *v, struct vm_exit *e);
