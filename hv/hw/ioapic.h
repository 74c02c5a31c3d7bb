/*
 * The I/O APIC (Intel 82093AA datasheet, "Register description"; the EOI
 * register of version 0x20 I/O APICs from the Intel ICH datasheets).
 */
#pragma once

#include "hv/lib/types.h"

#define IOAPIC_DEFAULT_BASE 0xfec00000ULL /* the PC's first I/O APIC */
#define IOAPIC_MMIO_SIZE 0x1000

/* Direct (MMIO) registers, each at the start of a 16-byte slot */
#define IOAPIC_IOREGSEL 0x00
#define IOAPIC_IOWIN 0x10
#define IOAPIC_EOI 0x40

/* Indirect registers, selected by IOREGSEL */
#define IOAPIC_ID 0x00
#define IOAPIC_VER 0x01
#define IOAPIC_ARB 0x02
#define IOAPIC_REDTBL 0x10 /* + 2 * pin: low dword, + 1: high dword */

/* Redirection entry (82093AA 3.2.4); the delivery modes are the local
 * APIC's ICR_MODE_* (hv/hw/apic.h) */
#define RTE_VECTOR_MASK 0xffULL
#define RTE_MODE_SHIFT 8
#define RTE_MODE_MASK 0x7ULL
#define RTE_DEST_LOGICAL BIT(11)
#define RTE_DELIVERY_STATUS BIT(12) /* read-only */
#define RTE_POLARITY_LOW BIT(13)
#define RTE_REMOTE_IRR BIT(14) /* read-only */
#define RTE_LEVEL BIT(15)
#define RTE_MASKED BIT(16)
#define RTE_DEST_SHIFT 56
#define RTE_DEST_MASK 0xffULL
