/*
 * The local APIC (SDM 3A chapter 11): xAPIC register offsets in its 4 KiB
 * MMIO page (x2APIC: MSR MSR_X2APIC_BASE + offset / 16, hv/hw/msr.h), and
 * the fields of the interrupt command, LVT and timer registers.
 */
#pragma once

#include "hv/lib/types.h"

#define LAPIC_DEFAULT_BASE 0xfee00000ULL /* SDM 3A 11.4.1: after reset */
#define LAPIC_MMIO_SIZE 0x1000

/* Register offsets (SDM 3A table 11-1) */
#define APIC_ID 0x020
#define APIC_VERSION 0x030
#define APIC_TPR 0x080
#define APIC_APR 0x090
#define APIC_PPR 0x0a0
#define APIC_EOI 0x0b0
#define APIC_RRD 0x0c0
#define APIC_LDR 0x0d0
#define APIC_DFR 0x0e0
#define APIC_SVR 0x0f0
#define APIC_ISR 0x100
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_ESR 0x280
#define APIC_LVT_CMCI 0x2f0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF 0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_ICR 0x380
#define APIC_TIMER_CCR 0x390
#define APIC_TIMER_DCR 0x3e0
#define APIC_REG_END 0x400
#define X2APIC_SELF_IPI 0x3f0 /* x2APIC only: the offset of MSR 0x83f */

#define APIC_ID_SHIFT 24    /* xAPIC: the ID is in bits 31:24 */
#define APIC_SVR_RESET 0xff /* SDM 3A 11.4.7.1 */
#define APIC_SVR_ENABLE BIT(8)
#define APIC_DFR_FLAT 0xffffffffU     /* SDM 3A 11.6.2.2: the flat model */
#define APIC_VECTOR_WORDS 8	      /* ISR, TMR, IRR: 256 bits in 32-bit words */
#define APIC_PRIO_CLASS(v) ((v) >> 4) /* SDM 3A 11.8.3.1 */
#define APIC_BROADCAST 0xff	      /* xAPIC destination: all */
#define X2APIC_BROADCAST 0xffffffffU
#define X2APIC_CLUSTER_SHIFT 16 /* x2APIC logical ID: cluster in 31:16 */

/* Local vector table entries (SDM 3A 11.5.1) */
#define APIC_LVT_VECTOR_MASK 0xff
#define APIC_LVT_MASKED BIT(16)
#define APIC_LVT_TIMER_MODE_SHIFT 17
#define APIC_LVT_TIMER_MODE_MASK 0x3
#define APIC_LVT_TIMER_TSC_DEADLINE (2U << APIC_LVT_TIMER_MODE_SHIFT)

/* Timer divide configuration (SDM 3A figure 11-10): bits 3, 1, 0 */
#define APIC_DCR_MASK 0xb
#define APIC_DCR_DIV1 0xb
#define APIC_DCR_DIV128 0xa /* SDM 3A figure 11-10 */

/* Interrupt command register (SDM 3A 11.6.1) */
#define ICR_VECTOR_MASK 0xff
#define ICR_MODE_SHIFT 8
#define ICR_MODE_MASK 0x7
#define ICR_MODE_FIXED 0
#define ICR_MODE_LOWEST 1
#define ICR_MODE_SMI 2
#define ICR_MODE_NMI 4
#define ICR_MODE_INIT 5
#define ICR_MODE_STARTUP 6
#define ICR_DEST_LOGICAL BIT(11)
#define ICR_DELIVERY_STATUS BIT(12) /* xAPIC only: send pending */
#define ICR_LEVEL_ASSERT BIT(14)
#define ICR_TRIGGER_LEVEL BIT(15)
#define ICR_SHORTHAND_SHIFT 18
#define ICR_SHORTHAND_MASK 0x3
#define ICR_SH_NONE 0
#define ICR_SH_SELF 1
#define ICR_SH_ALL 2
#define ICR_SH_OTHERS 3
#define ICR_DEST_SHIFT 24 /* xAPIC: destination in bits 63:56, 31:24 of ICR_HI */
