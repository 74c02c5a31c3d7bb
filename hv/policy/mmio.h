/* Second-level faults: MMIO emulation for the partition's devices, or open bus. */
#pragma once

#include "hv/vcpu/vm_exit.h"

struct vcpu;

enum exit_action mmio_handle(struct vcpu *v, struct vm_exit *e);
