/*
 * The virtual PC each partition sees (DESIGN.md, guest layout; SPEC 6):
 * addresses, ports and interrupt lines that the devices, the ACPI tables
 * and the boot loaders must all agree on.
 */
#pragma once

#include "hv/lib/types.h"

/* Guest-physical layout (DESIGN.md): RAM from 0, a hole for devices below
 * 4 GiB, the rest of RAM from 4 GiB. */
#define GUEST_LOW_RAM_TOP 0xc0000000ULL	   /* 3 GiB */
#define GUEST_HIGH_RAM_BASE 0x100000000ULL /* 4 GiB */
#define GUEST_LAPIC_BASE 0xfee00000ULL
#define GUEST_IOAPIC_BASE 0xfec00000ULL
#define GUEST_BIOS_HOLE_START 0x9fc00ULL /* e820: reserved up to 1 MiB */
#define GUEST_BIOS_HOLE_END 0x100000ULL

/* Memory map below 4 GiB (RAM ends at GUEST_LOW_RAM_TOP at most) */
#define PLAT_ACPI_BASE 0xe0000ULL	 /* RSDP and tables, in the BIOS area */
#define PLAT_ACPI_SIZE 0x20000ULL	 /* up to 1 MiB; e820-reserved */
#define PLAT_PCI_MMIO_BASE 0xc0000000ULL /* window for BARs of owned devices */
#define PLAT_PCI_MMIO_SIZE 0x20000000ULL
#define PLAT_ECAM_BASE 0xe0000000ULL /* PCI Express config space, bus 0 */
#define PLAT_ECAM_BUSES 1
#define PLAT_ECAM_SIZE (PLAT_ECAM_BUSES * 0x100000ULL)
#define PLAT_IOAPIC_BASE GUEST_IOAPIC_BASE
#define PLAT_IOAPIC_SIZE 0x1000
#define PLAT_IOAPIC_PINS 24
#define PLAT_LAPIC_BASE GUEST_LAPIC_BASE

/* I/O ports */
#define PLAT_PIC1_PORT 0x20	  /* 0x20-0x21 */
#define PLAT_PIC2_PORT 0xa0	  /* 0xa0-0xa1 */
#define PLAT_ELCR_PORT 0x4d0	  /* 0x4d0-0x4d1 */
#define PLAT_RTC_PORT 0x70	  /* 0x70-0x71 */
#define PLAT_KBD_STATUS_PORT 0x64 /* only the reset command (0xfe) */
#define PLAT_PM1A_EVT_PORT 0x600  /* 4 bytes: PM1 status, enable */
#define PLAT_PM1A_CNT_PORT 0x604  /* 2 bytes */
#define PLAT_PM_TMR_PORT 0x608	  /* 4 bytes, 24-bit timer, when emulated */
#define PLAT_RESET_PORT 0xcf9	  /* FADT reset register */
#define PLAT_RESET_VALUE 0x06
#define PLAT_PCI_CONF_ADDR 0xcf8
#define PLAT_PCI_CONF_DATA 0xcfc /* 0xcfc-0xcff */
#define PLAT_COM1_PORT 0x3f8
#define PLAT_PVPANIC_PORT 0x505 /* guest panic notification (QEMU0001) */
#define PLAT_PCI_IO_BASE 0xc000 /* I/O BARs, where SeaBIOS puts them */
#define PLAT_PCI_IO_SIZE 0x4000

/* ACPI fixed hardware */
#define PLAT_SLP_TYP_S5 5	  /* \_S5 package value (SLP_TYPa = b) */
#define PLAT_PM_TMR_HZ 3579545ULL /* ACPI 6.4 4.8.3.3 */

/* Interrupt lines: ISA IRQs identity-mapped to I/O APIC pins, except the
 * timer (IRQ 0 -> GSI 2, the usual override) */
#define PLAT_IRQ_COM1 4
#define PLAT_IRQ_RTC 8
#define PLAT_IRQ_SCI 9 /* level, active high (MADT override) */
#define PLAT_GSI_TIMER 2
/* PCI INTx: pin P (0 = INTA) of slot S raises GSI BASE + (S + P) % COUNT,
 * level-triggered, as the DSDT's _PRT says */
#define PLAT_PCI_GSI_BASE 16
#define PLAT_PCI_GSI_COUNT 8
