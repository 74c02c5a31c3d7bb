/*
 * Split virtqueues (OASIS virtio v1.1, 2.6) as a device sees them, for a
 * hostile driver (docs/virtio.md, section 3): the rings are checked and
 * resolved once when the driver enables the queue; each chain is walked
 * at most queue-size descriptors, each descriptor copied once, each buffer
 * checked to lie wholly in the partition's RAM. Guest memory is reached
 * only through a struct virtq_mem (the partition's region table; a fake
 * RAM in the tests and the fuzzer). The caller locks the queue.
 */
#pragma once

#include "hv/hw/virtio.h"
#include "hv/lib/types.h"

struct partition;

#define VIRTQ_MAX 256 /* the largest queue the devices offer */

/* The partition's RAM: a pointer to [gpa, gpa + len), NULL unless all RAM. */
struct virtq_mem {
	void *(*ptr)(const struct partition *p, u64 gpa, u64 len);
	const struct partition *part;
};

struct virtq_buf {
	u8 *ptr; /* NULL for a zero-length buffer */
	u32 len;
};

/* A chain: its out (device-readable) buffers, then its in (writable) ones. */
struct virtq_chain {
	u16 head;
	u32 out, in;
	u64 out_len, in_len;
	struct virtq_buf buf[VIRTQ_MAX];
};

struct virtq {
	/* what the driver sets while the queue is not ready (4.1.4.3) */
	u16 size, msix;
	u64 desc_gpa, avail_gpa, used_gpa;
	/* once enabled */
	bool ready;
	volatile struct virtq_desc *desc;
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	u16 last_avail, used_idx;
};

/* Back to its reset state: size max, no vector, not ready. */
void virtq_reset(struct virtq *q, u16 max);
/* The driver enables it: 0, or -E_INVAL (a size that is not a power of two
 * up to max, a ring misaligned or not wholly in RAM); then not ready. */
int virtq_enable(struct virtq *q, u16 max, const struct virtq_mem *m);
/* The next available chain into *c: 1, 0 when there is none (or the queue
 * is not ready), -E_INVAL when the driver broke the queue. */
int virtq_pop(struct virtq *q, const struct virtq_mem *m, struct virtq_chain *c);
/* Puts the last chain popped back (the device could not use it now). */
void virtq_unpop(struct virtq *q);
/* Returns chain head to the driver with len bytes written. */
void virtq_push(struct virtq *q, u16 head, u32 len);
/* Whether the driver wants an interrupt for used buffers (2.6.7). */
bool virtq_irq_wanted(const struct virtq *q);
/* Copies out of the chain's readable bytes from offset off / into its
 * writable bytes at off; returns the bytes copied (fewer at its end). */
u64 virtq_read(const struct virtq_chain *c, u64 off, void *dst, u64 len);
u64 virtq_write(const struct virtq_chain *c, u64 off, const void *src, u64 len);
