/*
 * The virtio 1.x PCI transport (OASIS virtio v1.1, 4.1; docs/virtio.md,
 * section 2) over a declared PCI function (vpci_dev.h): the vendor
 * capabilities, the common configuration (feature negotiation, status,
 * reset, queue set-up), ISR status, notifications, the device
 * configuration, MSI-X vectors or INTx. A device (vnet.c, vblk.c) embeds a
 * struct virtio_pci, fills what it declares and gets its queues' notifies.
 *
 * Locks (docs/virtio.md, section 7): lock, the function's (common
 * configuration); then a queue's qlock[q], which a device takes to use the
 * queue and which may be taken from another partition's CPU (a switch
 * delivering into a receive queue); the ISR's isr_lock is a leaf.
 */
#pragma once

#include "hv/hw/virtio.h"
#include "hv/lib/spinlock.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/virtq.h"
#include "hv/vdev/vpci_dev.h"

#define VIRTIO_PCI_QUEUES 2
#define VIRTIO_QUEUE_SIZE VIRTQ_MAX
#define VIRTIO_CONFIG_IRQ VIRTIO_PCI_QUEUES /* the configuration's "queue" */

struct virtio_pci;

struct virtio_dev_ops {
	/* The driver notified queue q (no lock held; the device takes qlock). */
	void (*notify)(struct virtio_pci *vp, u32 q);
	/* Device reset (status 0, bus reset): forget requests in flight.
	 * lock and every qlock held. */
	void (*reset)(struct virtio_pci *vp);
};

struct virtio_pci {
	struct vpci_dev pci; /* first: the transport's callbacks get it */
	/* declared by the device before virtio_pci_add */
	u16 type; /* VIRTIO_ID_* */
	u32 class_code;
	u64 features; /* offered, VIRTIO_F_VERSION_1 added */
	const void *config;
	u32 config_len;
	u32 queue_count; /* at most VIRTIO_PCI_QUEUES */
	const struct virtio_dev_ops *ops;

	/* kept by the transport */
	struct spinlock lock, isr_lock;
	struct spinlock qlock[VIRTIO_PCI_QUEUES];
	struct virtq vq[VIRTIO_PCI_QUEUES];
	struct virtq_mem mem; /* its partition's RAM */
	u32 dfselect, gfselect;
	u64 driver_features;
	volatile u8 status;
	u8 isr;
	u16 queue_select, config_msix;
	u32 pci_cfg_cap; /* where the PCI configuration access capability is */
	u64 broken;	 /* times the driver broke it (NEEDS_RESET) */
};

/* Declares the PCI function and puts it on the partition's bus. */
int virtio_pci_add(struct virtio_pci *vp, struct vdev_registry *reg);
/* Whether the device may work on its queues: the driver is done setting
 * it up, it is not broken, and it may master the bus. */
bool virtio_live(struct virtio_pci *vp);
/* The used buffers of queue q are worth an interrupt (if the driver
 * wants one), by MSI-X or INTx. */
void virtio_queue_irq(struct virtio_pci *vp, u32 q);
/* The driver broke the device: DEVICE_NEEDS_RESET and the configuration
 * interrupt (2.1.1); the device stops until the driver resets it. */
void virtio_broken(struct virtio_pci *vp);
/* Resets the device as status 0 does (a partition stops: quiesce). */
void virtio_reset(struct virtio_pci *vp);
