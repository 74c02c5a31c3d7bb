/*
 * PCI: reaching configuration space, configuration mechanism #1 through
 * ports 0xCF8/0xCFC (PCI Local Bus 3.0 3.2.2.3.2) and the memory-mapped
 * ECAM window (PCI Express Base 3.0 7.2.2); the type 0 header, BARs,
 * capabilities and MSI-X (PCI Local Bus 3.0 chapter 6); MSI messages to
 * local APICs (Intel SDM 3A 11.11).
 */
#pragma once

#include "hv/lib/types.h"

/* Device 4:0 and function 2:0 as one 8-bit devfn */
#define DEVFN(dev, fn) ((u32)(dev) << 3 | (fn))
#define DEVFN_DEV(devfn) ((devfn) >> 3)

/* CONFIG_ADDRESS: enable 31, bus 23:16, device 15:11, function 10:8, dword
 * register 7:2; 30:24 and 1:0 read 0 */
#define PCI_CONF_ADDR_PORT 0xcf8
#define PCI_CONF_DATA_PORT 0xcfc
#define CF8_ENABLE BIT(31)
#define CF8_MASK 0x80fffffcU
#define CF8_BUS_SHIFT 16
#define CF8_DEVFN_SHIFT 8
#define CF8_REG_MASK 0xfcU
#define CFC_PORTS 4 /* the data window: one dword, any byte of it */

/* ECAM offset: bus 27:20, device 19:15, function 14:12, register 11:0 */
#define ECAM_BUS_SHIFT 20
#define ECAM_DEVFN_SHIFT 12
#define ECAM_REG_MASK 0xfffU

/* Type 0 configuration header (6.1) */
#define PCI_CFG_VENDOR 0x00
#define PCI_CFG_DEVICE 0x02
#define PCI_CFG_COMMAND 0x04
#define PCI_CFG_STATUS 0x06
#define PCI_CFG_REVISION 0x08
#define PCI_CFG_CLASS_PROG 0x09 /* prog-if, subclass, class: 3 bytes */
#define PCI_CFG_HEADER_TYPE 0x0e
#define PCI_CFG_BAR0 0x10
#define PCI_CFG_SUBSYS_VENDOR 0x2c
#define PCI_CFG_ROM 0x30
#define PCI_CFG_CAP_PTR 0x34
#define PCI_CFG_INT_LINE 0x3c
#define PCI_CFG_HEADER_SIZE 0x40 /* capabilities follow */
#define PCI_CFG_SPACE_SIZE 0x100 /* conventional PCI */

#define PCI_CMD_IO BIT(0)
#define PCI_CMD_MEMORY BIT(1)
#define PCI_CMD_MASTER BIT(2)
#define PCI_CMD_PARITY BIT(6)
#define PCI_CMD_SERR BIT(8)
#define PCI_CMD_INTX_DISABLE BIT(10)
#define PCI_STATUS_INTX BIT(3)
#define PCI_STATUS_CAP_LIST BIT(4)
#define PCI_HEADER_TYPE_NORMAL 0x00 /* type 0, single function */
#define PCI_INT_PIN_A 1		    /* interrupt pin register: INTA# */
#define PCI_INT_PINS 4

/* Class codes (class, subclass, prog-if), PCI Code and ID Assignment 1.11 */
#define PCI_CLASS_HOST_BRIDGE 0x060000U
#define PCI_CLASS_ETHERNET 0x020000U
#define PCI_CLASS_STORAGE_OTHER 0x018000U
#define PCI_CLASS_MEMORY_RAM 0x050000U

/* Base address registers (6.2.5.1) */
#define PCI_BARS 6
#define PCI_BAR_IO BIT(0)
#define PCI_BAR_MEM64 BIT(2) /* type 10b: 64-bit, the next BAR is the high half */
#define PCI_BAR_PREFETCH BIT(3)
#define PCI_BAR_MEM_FLAGS 0xfU
#define PCI_BAR_IO_FLAGS 0x3U

/* Capabilities (6.7; IDs from the PCI Code and ID Assignment) */
#define PCI_CAP_ID_VENDOR 0x09
#define PCI_CAP_ID_MSIX 0x11
#define PCI_CAP_ALIGN 4

/* MSI-X (6.8.2): the capability, the table entries, the pending bits */
#define PCI_MSIX_CTRL 2	 /* message control, in the capability */
#define PCI_MSIX_TABLE 4 /* table offset and BIR */
#define PCI_MSIX_PBA 8	 /* PBA offset and BIR */
#define PCI_MSIX_CAP_SIZE 12
#define PCI_MSIX_CTRL_MASKALL BIT(14)
#define PCI_MSIX_CTRL_ENABLE BIT(15)
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_DWORDS 4 /* address low, address high, data, vector control */
#define PCI_MSIX_ENTRY_ADDR_LO 0
#define PCI_MSIX_ENTRY_ADDR_HI 1
#define PCI_MSIX_ENTRY_DATA 2
#define PCI_MSIX_ENTRY_CTRL 3
#define PCI_MSIX_ENTRY_MASKED BIT(0)

/* An MSI message to local APICs (SDM 3A 11.11.1, 11.11.2) */
#define MSI_ADDR_BASE 0xfee00000U
#define MSI_ADDR_BASE_MASK 0xfff00000U
#define MSI_ADDR_DEST_SHIFT 12
#define MSI_ADDR_DEST_MASK 0xffU
#define MSI_ADDR_DEST_LOGICAL BIT(2)
#define MSI_DATA_VECTOR_MASK 0xffU
#define MSI_DATA_MODE_SHIFT 8
#define MSI_DATA_MODE_MASK 0x7U
