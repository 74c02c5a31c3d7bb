/* A console ring with offsets since boot (ring.h). */
#include "hv/console/ring.h"
#include "hv/lib/lib.h"

void ring_init(struct ring *r, u8 *buf, u32 size)
{
	r->buf = buf;
	r->size = size;
	r->total = 0;
}

void ring_put(struct ring *r, u8 byte)
{
	r->buf[r->total++ & (r->size - 1)] = byte;
}

u64 ring_oldest(const struct ring *r)
{
	return r->total > r->size ? r->total - r->size : 0;
}

u32 ring_read(const struct ring *r, u64 from, u8 *out, u32 max, u64 *start)
{
	u64 first = MAX(from, ring_oldest(r));
	u32 n, at, head;

	*start = first;
	if (from > r->total)
		return 0;
	n = (u32)MIN((u64)max, r->total - first);
	at = (u32)(first & (r->size - 1));
	head = MIN(n, r->size - at);
	memcpy(out, r->buf + at, head);
	memcpy(out + head, r->buf, n - head);
	return n;
}
