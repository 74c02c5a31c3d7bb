/*
 * The PCI configuration space of a partition: configuration mechanism #1
 * (ports 0xCF8 address, 0xCFC-0xCFF data; PCI Local Bus 3.0 3.2.2.3.2) and
 * ECAM at PLAT_ECAM_BASE (PCI Express Base 4.0 7.2.2), one bus.
 *
 * Bus 0 holds a host bridge at 00:00.0, the functions added with
 * vpci_add_func (the devices the partition owns, once pass-through
 * exists) and the declared functions of vpci_add_dev (virtual devices,
 * hv/vdev/vpci_dev.h: the bus places their BARs at reset and sends the
 * accesses in its MMIO and I/O windows to them); every other function
 * reads all-ones and ignores writes, as an empty slot does.
 *
 * The host bridge identifies itself as Intel 8086:29C0, the Q35 chipset's
 * DRAM controller, the host bridge QEMU's q35 machine shows to millions of
 * Linux guests: Linux has no quirk that needs more than this header (its
 * intel-agp driver binds to it, finds no graphics device and lets go). It
 * is a plain type 0 header of class 06 00 00 without BARs or
 * capabilities; only its command register is writable.
 */
#pragma once

#include "hv/lib/types.h"
#include "hv/vdev/vdev.h"

struct vpci;

#define VPCI_HB_VENDOR 0x8086
#define VPCI_HB_DEVICE 0x29c0
#define VPCI_DEVS 32
#define VPCI_FNS 8
#define VPCI_CFG_SIZE 4096 /* PCI Express configuration space of a function */
#define VPCI_MAX_FUNCS 16

/*
 * A function on the virtual bus. Accesses reach it as 1, 2 or 4 bytes
 * naturally aligned (never across a dword), reg below VPCI_CFG_SIZE.
 */
struct vpci_func_ops {
	u32 (*read)(void *ctx, u32 reg, u32 size);
	void (*write)(void *ctx, u32 reg, u32 size, u32 val);
	void (*reset)(void *ctx); /* the partition restarts; may be NULL */
};

/* Reset: the host bridge to power-on state, every added function's
 * reset, CF8 = 0. */
extern const struct vdev_type vpci_type;

struct vpci_dev;

/* Puts a function at 00:dev.fn. -E_INVAL: no such slot; -E_EXIST: taken;
 * -E_NOMEM: VPCI_MAX_FUNCS reached. */
int vpci_add_func(struct vpci *pci, u8 dev, u8 fn, const struct vpci_func_ops *ops, void *ctx);

/*
 * Puts a declared function (hv/vdev/vpci_dev.h) in the lowest free slot,
 * function 0. -E_INVAL: a bad declaration; -E_NOMEM: no slot, or no room
 * for the I/O window. Its BARs get addresses at the next bus reset.
 */
int vpci_add_dev(struct vpci *pci, struct vpci_dev *d);
