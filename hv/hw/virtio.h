/*
 * Virtio 1.x (OASIS "Virtual I/O Device (VIRTIO) Version 1.1"; section
 * numbers below are that document's, and match 1.2's): device status and
 * feature bits (2.1, 2.2, 6), split virtqueues (2.6), the PCI transport's
 * capabilities and common configuration (4.1), the network (5.1) and
 * block (5.2) devices. All fields are little-endian, as x86 is.
 */
#pragma once

#include "hv/lib/types.h"

/* 2.1 Device status field */
#define VIRTIO_STATUS_ACKNOWLEDGE BIT(0)
#define VIRTIO_STATUS_DRIVER BIT(1)
#define VIRTIO_STATUS_DRIVER_OK BIT(2)
#define VIRTIO_STATUS_FEATURES_OK BIT(3)
#define VIRTIO_STATUS_NEEDS_RESET BIT(6)
#define VIRTIO_STATUS_FAILED BIT(7)

/* 6 Reserved feature bits */
#define VIRTIO_F_VERSION_1 32

/* 2.6.5 The virtqueue descriptor table */
#define VIRTQ_DESC_F_NEXT BIT(0)
#define VIRTQ_DESC_F_WRITE BIT(1)
#define VIRTQ_DESC_F_INDIRECT BIT(2)
#define VIRTQ_DESC_ALIGN 16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN 4
/* 2.6.6, 2.6.8: the driver and device areas */
#define VIRTQ_AVAIL_F_NO_INTERRUPT BIT(0)
#define VIRTQ_USED_F_NO_NOTIFY BIT(0)
#define VIRTQ_SIZE_MAX 32768 /* 2.6: queue sizes are powers of 2 up to this */

struct virtq_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct virtq_avail {
	u16 flags;
	u16 idx;
	u16 ring[]; /* then used_event, with VIRTIO_F_EVENT_IDX */
};

struct virtq_used_elem {
	u32 id;
	u32 len;
};

struct virtq_used {
	u16 flags;
	u16 idx;
	struct virtq_used_elem ring[]; /* then avail_event */
};

/* 4.1.2 PCI device discovery: vendor, and device 0x1040 + device type */
#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040
#define VIRTIO_PCI_REVISION 1 /* 4.1.2.1: a non-transitional device */
#define VIRTIO_PCI_SUBSYS_DEVICE 0x1100

/* 4.1.4 Virtio structure PCI capabilities: cfg_type */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* struct virtio_pci_cap, after cap_vndr and cap_next (4.1.4): cap_len,
 * cfg_type, bar, id, padding[2], offset, length; the notify capability
 * adds notify_off_multiplier, the PCI configuration access one
 * pci_cfg_data[4] */
struct virtio_pci_cap_body {
	u8 cap_len;
	u8 cfg_type;
	u8 bar;
	u8 id;
	u8 padding[2];
	u32 offset;
	u32 length;
	u32 extra; /* notify_off_multiplier, or pci_cfg_data */
} __packed;

#define VIRTIO_PCI_CAP_LEN 16	     /* struct virtio_pci_cap, with its first two bytes */
#define VIRTIO_PCI_NOTIFY_CAP_LEN 20 /* struct virtio_pci_notify_cap */
#define VIRTIO_PCI_CFG_CAP_LEN 20    /* struct virtio_pci_cfg_cap */
#define VIRTIO_PCI_CAP_BAR 4	     /* offsets of the fields in the capability */
#define VIRTIO_PCI_CAP_OFFSET 8
#define VIRTIO_PCI_CAP_LENGTH 12
#define VIRTIO_PCI_CFG_DATA 16

/* 4.1.4.3 struct virtio_pci_common_cfg */
#define VIRTIO_COMMON_DFSELECT 0x00
#define VIRTIO_COMMON_DF 0x04
#define VIRTIO_COMMON_GFSELECT 0x08
#define VIRTIO_COMMON_GF 0x0c
#define VIRTIO_COMMON_MSIX 0x10
#define VIRTIO_COMMON_NUMQ 0x12
#define VIRTIO_COMMON_STATUS 0x14
#define VIRTIO_COMMON_CFGGENERATION 0x15
#define VIRTIO_COMMON_Q_SELECT 0x16
#define VIRTIO_COMMON_Q_SIZE 0x18
#define VIRTIO_COMMON_Q_MSIX 0x1a
#define VIRTIO_COMMON_Q_ENABLE 0x1c
#define VIRTIO_COMMON_Q_NOFF 0x1e
#define VIRTIO_COMMON_Q_DESCLO 0x20
#define VIRTIO_COMMON_Q_DESCHI 0x24
#define VIRTIO_COMMON_Q_AVAILLO 0x28
#define VIRTIO_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_COMMON_Q_USEDLO 0x30
#define VIRTIO_COMMON_Q_USEDHI 0x34
#define VIRTIO_COMMON_SIZE 0x40 /* 1.2 adds queue_notify_data, queue_reset */
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* 4.1.4.5 ISR status */
#define VIRTIO_ISR_QUEUE BIT(0)
#define VIRTIO_ISR_CONFIG BIT(1)

/* 5.1 Network device: ID 1, its feature bits, config and header */
#define VIRTIO_ID_NET 1
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_S_LINK_UP BIT(0)
#define VIRTIO_NET_Q_RX 0
#define VIRTIO_NET_Q_TX 1
#define VIRTIO_NET_HDR_LEN 12 /* struct virtio_net_hdr, with num_buffers */
#define VIRTIO_NET_HDR_NUM_BUFFERS 10

struct virtio_net_config {
	u8 mac[6];
	u16 status;
} __packed;

/* 5.2 Block device: ID 2, its feature bits, config, requests */
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_SECTOR_SIZE 512
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

struct virtio_blk_config {
	u64 capacity; /* in 512-byte sectors */
	u32 size_max;
	u32 seg_max;
} __packed;

struct virtio_blk_req_hdr {
	u32 type;
	u32 reserved;
	u64 sector;
} __packed;
