/*
 * Split virtqueues (see virtq.h), OASIS virtio v1.1 2.6.
 */
#include "hv/vdev/virtq.h"
#include "hv/lib/lib.h"

/* 2.6: the three parts' sizes for a queue of n, with the event fields */
#define DESC_BYTES(n) (sizeof(struct virtq_desc) * (u64)(n))
#define AVAIL_BYTES(n) (sizeof(struct virtq_avail) + sizeof(u16) * ((u64)(n) + 1))
#define USED_BYTES(n) \
	(sizeof(struct virtq_used) + sizeof(struct virtq_used_elem) * (u64)(n) + sizeof(u16))

void virtq_reset(struct virtq *q, u16 max)
{
	*q = (struct virtq){ .size = max, .msix = VIRTIO_MSI_NO_VECTOR };
}

int virtq_enable(struct virtq *q, u16 max, const struct virtq_mem *m)
{
	u16 n = q->size;

	q->ready = false;
	if (!n || n > max || (n & (n - 1)) || !IS_ALIGNED(q->desc_gpa, VIRTQ_DESC_ALIGN) ||
	    !IS_ALIGNED(q->avail_gpa, VIRTQ_AVAIL_ALIGN) ||
	    !IS_ALIGNED(q->used_gpa, VIRTQ_USED_ALIGN))
		return -E_INVAL;
	q->desc = m->ptr(m->part, q->desc_gpa, DESC_BYTES(n));
	q->avail = m->ptr(m->part, q->avail_gpa, AVAIL_BYTES(n));
	q->used = m->ptr(m->part, q->used_gpa, USED_BYTES(n));
	if (!q->desc || !q->avail || !q->used)
		return -E_INVAL;
	q->last_avail = q->used_idx = 0;
	q->ready = true;
	return 0;
}

/* One descriptor into the chain: the buffer must be all RAM, and no
 * readable one may follow a writable one (2.6.4.2). */
static int add_buf(struct virtq_chain *c, const struct virtq_mem *m, u64 addr, u32 len, u16 flags)
{
	u8 *p = len ? m->ptr(m->part, addr, len) : NULL;
	u32 n = c->out + c->in;

	if ((len && !p) || (flags & VIRTQ_DESC_F_INDIRECT))
		return -E_INVAL;
	c->buf[n] = (struct virtq_buf){ p, len };
	if (flags & VIRTQ_DESC_F_WRITE) {
		c->in++;
		c->in_len += len;
		return 0;
	}
	if (c->in)
		return -E_INVAL;
	c->out++;
	c->out_len += len;
	return 0;
}

int virtq_pop(struct virtq *q, const struct virtq_mem *m, struct virtq_chain *c)
{
	u16 avail, i, mask = q->size - 1;

	if (!q->ready)
		return 0;
	avail = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
	if (avail == q->last_avail)
		return 0;
	/* 2.6.6: never more outstanding than the ring holds */
	if ((u16)(avail - q->last_avail) > q->size)
		return -E_INVAL;
	i = q->avail->ring[q->last_avail & mask];
	*c = (struct virtq_chain){ .head = i };
	for (u32 n = 0;; n++) {
		u64 addr;
		u32 len;
		u16 flags, next;

		/* a chain longer than the queue has a loop */
		if (i >= q->size || n == q->size)
			return -E_INVAL;
		addr = q->desc[i].addr;
		len = q->desc[i].len;
		flags = q->desc[i].flags;
		next = q->desc[i].next;
		if (add_buf(c, m, addr, len, flags))
			return -E_INVAL;
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		i = next;
	}
	q->last_avail++;
	return 1;
}

void virtq_unpop(struct virtq *q)
{
	q->last_avail--;
}

void virtq_push(struct virtq *q, u16 head, u32 len)
{
	volatile struct virtq_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];

	e->id = head;
	e->len = len;
	q->used_idx++;
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
}

bool virtq_irq_wanted(const struct virtq *q)
{
	return q->ready && !(q->avail->flags & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/* Copies between the buffers [first, first + count) at offset off and mem. */
static u64 copy(const struct virtq_chain *c, u32 first, u32 count, u64 off, u8 *mem, u64 len,
		bool to_chain)
{
	u64 done = 0;

	for (u32 i = first; i < first + count && done < len; i++) {
		const struct virtq_buf *b = &c->buf[i];
		u64 n;

		if (off >= b->len) {
			off -= b->len;
			continue;
		}
		n = MIN(b->len - off, len - done);
		if (to_chain)
			memcpy(b->ptr + off, mem + done, n);
		else
			memcpy(mem + done, b->ptr + off, n);
		done += n;
		off = 0;
	}
	return done;
}

u64 virtq_read(const struct virtq_chain *c, u64 off, void *dst, u64 len)
{
	return copy(c, 0, c->out, off, dst, len, false);
}

u64 virtq_write(const struct virtq_chain *c, u64 off, const void *src, u64 len)
{
	return copy(c, c->out, c->in, off, (u8 *)(uintptr_t)src, len, true);
}
