/*
 * Reaching PCI configuration space: configuration mechanism #1 through
 * ports 0xCF8/0xCFC (PCI Local Bus 3.0 3.2.2.3.2) and the memory-mapped
 * ECAM window (PCI Express Base 3.0 7.2.2).
 */
#pragma once

#include "hv/lib/types.h"

/* Device 4:0 and function 2:0 as one 8-bit devfn */
#define DEVFN(dev, fn) ((u32)(dev) << 3 | (fn))

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
