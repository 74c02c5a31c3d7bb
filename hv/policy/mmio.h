/* Second-level faults: MMIO emulation for the partition's devices, or open bus. */
#pragma once

#include "hv/vcpu/vm_exit.h"

struct vcpu;

enum exit_action mmio_handle(struct vcpu *v, struct vm_exit *e);
/* A string I/O exit (INS/OUTS): one element, its memory side through the
 * guest's paging and segments; RIP stays while a REP count remains. */
enum exit_action mmio_string_io(struct vcpu *v, struct vm_exit *e);
