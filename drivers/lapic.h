/* The local APIC of each physical CPU, in xAPIC or x2APIC mode (SDM 3A ch. 11). */
#pragma once

#include "drivers/hv_env.h"
#include "hv/lib/types.h"

/* Called once on the boot CPU: x2APIC when the CPU has it, else xAPIC,
 * whose registers ioremap maps. */
int lapic_init(hv_ioremap_fn ioremap);
/* Called on each CPU: enables its APIC in the chosen mode. */
void lapic_cpu_init(void);
bool lapic_x2apic(void);
u32 lapic_id(void);
void lapic_eoi(void);
/* Interprocessor interrupts to one destination APIC ID. */
void lapic_send_init(u32 apic_id);
void lapic_send_sipi(u32 apic_id, u8 vector_page);
void lapic_send_nmi(u32 apic_id);
void lapic_send_fixed(u32 apic_id, u8 vector);

/* This CPU's timer: one interrupt on vector at TSC value deadline (0 stops
 * it). TSC-deadline mode when the CPU has it, else one-shot counting. */
int lapic_timer_init(void);
void lapic_timer_arm(u8 vector, u64 tsc_deadline);
