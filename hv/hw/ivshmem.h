/*
 * The inter-VM shared memory device (QEMU's docs/specs/ivshmem-spec.rst,
 * the ABI Linux's and others' ivshmem users speak): PCI 1af4:1110, BAR 0
 * registers, BAR 1 the MSI-X table, BAR 2 the shared region.
 */
#pragma once

#include "hv/lib/types.h"

#define IVSHMEM_VENDOR 0x1af4
#define IVSHMEM_DEVICE 0x1110
#define IVSHMEM_REVISION 1
#define IVSHMEM_REGS_BAR 0
#define IVSHMEM_MSIX_BAR 1
#define IVSHMEM_SHM_BAR 2
#define IVSHMEM_REGS_SIZE 256

/* BAR 0 registers, 32 bits each */
#define IVSHMEM_INTR_MASK 0x00
#define IVSHMEM_INTR_STATUS 0x04
#define IVSHMEM_IV_POSITION 0x08 /* read-only: this peer's ID */
#define IVSHMEM_DOORBELL 0x0c	 /* write-only: peer << 16 | vector */
#define IVSHMEM_DOORBELL_PEER_SHIFT 16
#define IVSHMEM_DOORBELL_VECTOR_MASK 0xffffU
