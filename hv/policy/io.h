/* Port I/O exits: to the partition's devices, or open bus (DESIGN.md: default deny). */
#pragma once

#include "hv/vcpu/vm_exit.h"

struct vcpu;

enum exit_action io_handle(struct vcpu *v, struct vm_exit *e);
