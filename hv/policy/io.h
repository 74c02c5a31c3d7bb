/* Port I/O exits: to the partition's devices, or open bus (DESIGN.md: default deny). */
#pragma once

#include "hv/vcpu/vm_exit.h"

struct vcpu;

enum exit_action io_handle(struct vcpu *v, struct vm_exit *e);
/* One access to port `port` of the vCPU's partition (size 1, 2 or 4): its
 * device, or nothing (reads all-ones, writes dropped). Always 0. */
int io_port_access(struct vcpu *v, u16 port, u8 size, bool write, u64 *val);
