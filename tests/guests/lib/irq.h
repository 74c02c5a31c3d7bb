/*
 * Interrupts for the guests that need them: the IDT grows to 256 vectors,
 * the exceptions of trap.h stay as they are, and every vector from
 * IRQ_FIRST up counts its arrivals and may call a handler (which sends the
 * EOI if it wants one). The handlers run with interrupts off. The legacy
 * PICs are masked: the local APIC is the guests' interrupt controller.
 */
#pragma once

#include "types.h"

#define IRQ_FIRST 32
#define IRQ_VECTORS 256

typedef void (*irq_fn)(u8 vector);

/* Arrivals per vector since irq_init() (all CPUs together). */
extern volatile u32 irq_counts[IRQ_VECTORS];

void irq_init(void); /* builds the 256-vector IDT (after trap_init) and loads it */
void irq_load(void); /* loads it on another CPU */
void irq_set_handler(u8 vector, irq_fn fn);

void irq_dispatch(u32 vector); /* from irq.asm */
