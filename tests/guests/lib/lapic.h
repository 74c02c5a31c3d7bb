/* The local APIC in xAPIC (MMIO) mode (SDM 3A chapter 11; registers in
 * hv/hw/apic.h). */
#pragma once

#include "hv/hw/apic.h"
#include "types.h"

#define LAPIC_SVR_VECTOR 0xff /* the spurious-interrupt vector */

uintptr_t lapic_base(void);
u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 val);
u32 lapic_id(void);
void lapic_enable(void);
/* Sends an IPI to one physical APIC ID; false if it stayed pending. */
bool lapic_send_ipi(u32 apic_id, u32 icr_lo);
