/*
 * A declared function on the partition's virtual PCI bus (docs/virtio.md,
 * section 1): the device says what it is (header, BARs, capabilities,
 * MSI-X vectors), the transport here does the rest. Configuration space
 * (PCI Local Bus 3.0 chapter 6): the header with its writable command
 * register, BARs sized and placed by the guest, the capability list, the
 * MSI-X capability with its table and pending bits (6.8.2), and INTx.
 *
 * A BAR is emulated (accesses go to ops->bar_access) or mapped (mem, a
 * multiple of pages the device owns, put into the partition's
 * second-level table wherever the guest places it). A BAR is decoded only
 * while its command-register bit is set and it lies wholly inside the
 * bridge's window (PLAT_PCI_MMIO_BASE, PLAT_PCI_IO_BASE).
 *
 * Locks: configuration accesses, BAR changes and resets run under the
 * bus lock (hv/vdev/vpci.c); BAR accesses reach the device without it
 * (the device locks itself); the interrupt state (MSI-X table, pending
 * bits, the INTx level) has the function's own irq_lock, a leaf lock, so
 * that any CPU may raise the function's interrupts (a frame from another
 * partition's switch port).
 */
#pragma once

#include "hv/hw/pci.h"
#include "hv/lib/spinlock.h"
#include "hv/lib/types.h"
#include "hv/vdev/vdev.h"

#define VPCI_MSIX_MAX 8 /* vectors a function may declare */
/* A BAR of its own for MSI-X, as the virtual devices lay it out */
#define VPCI_MSIX_BAR_SIZE 0x1000
#define VPCI_MSIX_TABLE 0x000
#define VPCI_MSIX_PBA 0x800

enum vpci_bar_type {
	VPCI_BAR_NONE = 0,
	VPCI_BAR_MEM32,
	VPCI_BAR_MEM64, /* takes the next BAR slot too */
	VPCI_BAR_IO,
};

struct vpci_bar {
	u64 size; /* a power of two: at least 16 (memory) or 4 (I/O) bytes */
	u8 type;  /* enum vpci_bar_type */
	bool prefetch;
	void *mem; /* mapped BAR: page-aligned, size >= PAGE_SIZE; NULL: emulated */
};

struct vpci_dev;

struct vpci_dev_ops {
	/* An access at offset off of emulated BAR bar (a->addr is the guest's
	 * address); 0, or an error: a read gives all-ones. May be NULL. */
	int (*bar_access)(struct vpci_dev *d, u32 bar, u64 off, struct vdev_access *a);
	/* A configuration access at reg >= PCI_CFG_HEADER_SIZE that the device
	 * takes (its own capability bytes): true when it did. Bus lock held. */
	bool (*cfg_access)(struct vpci_dev *d, u32 reg, u32 size, bool write, u32 *val);
	/* The function's reset (bus reset, partition restart). Bus lock held. */
	void (*reset)(struct vpci_dev *d);
};

struct vpci_dev {
	/* declared by the device before vpci_add_dev */
	u16 vendor, device, subsys_vendor, subsys_device;
	u32 class_code; /* class, subclass, prog-if */
	u8 revision;
	bool intx; /* it has INTA# */
	struct vpci_bar bar[PCI_BARS];
	u16 msix_vectors; /* 0: no MSI-X */
	u8 msix_bar;	  /* an emulated memory BAR holding the table and PBA */
	u32 msix_table, msix_pba;
	const struct vpci_dev_ops *ops;

	/* kept by the transport */
	struct vdev_registry *reg; /* its partition's */
	u8 devfn;
	u16 command;
	u8 int_line;
	u64 addr[PCI_BARS];	    /* as the guest programmed them */
	u64 mapped[PCI_BARS];	    /* where a mapped BAR is in the guest; 0: nowhere */
	u8 cfg[PCI_CFG_SPACE_SIZE]; /* capabilities from PCI_CFG_HEADER_SIZE */
	u32 cap_end, cap_last;	    /* free space; the last capability */
	u32 msix_cap;
	struct spinlock irq_lock;
	u16 msix_ctrl;
	u32 msix_entry[VPCI_MSIX_MAX][PCI_MSIX_ENTRY_DWORDS];
	u32 msix_pending;
	bool intx_level, intx_out;
	u64 msi_dropped; /* messages to an address that is no local APIC */
};

/* Appends a capability: id, then len bytes of body (what follows the ID
 * and next pointer). Its config offset, or 0 when it does not fit. */
u32 vpci_add_cap(struct vpci_dev *d, u8 id, const void *body, u32 len);

/* Raises MSI-X vector vec (pending while masked). */
void vpci_msix_notify(struct vpci_dev *d, u32 vec);
bool vpci_msix_enabled(struct vpci_dev *d);
/* The device's INTA# level; out only while INTx is enabled and MSI-X off. */
void vpci_intx(struct vpci_dev *d, bool level);
/* Whether the guest lets it master the bus (DMA). */
bool vpci_bus_master(const struct vpci_dev *d);

/* --- for hv/vdev/vpci.c ----------------------------------------------------- */

/* Checks a declaration and sets the function up at devfn; -E_INVAL. */
int vpci_dev_init(struct vpci_dev *d, struct vdev_registry *reg, u8 devfn);
/* Configuration space, for the bus's function table (ctx: the vpci_dev). */
u32 vpci_dev_cfg_read(void *ctx, u32 reg, u32 size);
void vpci_dev_cfg_write(void *ctx, u32 reg, u32 size, u32 val);
/* Power-on state with the BARs at the addresses the bus placed, decoding
 * on (as firmware leaves a device), then the device's own reset. */
void vpci_dev_reset(void *ctx);
/* Whether decoded BAR bar holds addr (memory or port); its offset there. */
bool vpci_dev_claims(const struct vpci_dev *d, bool io, u64 addr, u32 *bar, u64 *off);
/* An access the bus found in BAR bar at offset off (bus lock not held). */
int vpci_dev_bar_access(struct vpci_dev *d, u32 bar, u64 off, struct vdev_access *a);
