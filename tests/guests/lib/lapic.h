/* The local APIC in xAPIC (MMIO) mode (SDM 3A chapter 10). */
#pragma once

#include "types.h"

#define LAPIC_DEFAULT_BASE 0xfee00000U
#define LAPIC_PAGE_SIZE 0x1000

/* Registers, offsets from the base (SDM 3A table 10-1) */
#define LAPIC_ID 0x020
#define LAPIC_VERSION 0x030
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310

#define LAPIC_ID_SHIFT 24
#define LAPIC_SVR_ENABLE BIT(8)
#define LAPIC_SPURIOUS_VECTOR 0xff

/* ICR (SDM 3A 10.6.1) */
#define ICR_DELIVERY_FIXED (0U << 8)
#define ICR_DELIVERY_INIT (5U << 8)
#define ICR_DELIVERY_STARTUP (6U << 8)
#define ICR_DELIVERY_STATUS BIT(12)
#define ICR_LEVEL_ASSERT BIT(14)
#define ICR_TRIGGER_LEVEL BIT(15)
#define ICR_DEST_SHIFT 24

uintptr_t lapic_base(void);
u32 lapic_read(u32 reg);
void lapic_write(u32 reg, u32 val);
u32 lapic_id(void);
void lapic_enable(void);
/* Sends an IPI to one physical APIC ID; false if it stayed pending. */
bool lapic_send_ipi(u32 apic_id, u32 icr_lo);
