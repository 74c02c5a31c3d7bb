/*
 * Learning switches (see vswitch.h): unicast to the port that last sent
 * from the destination address, everything else (broadcast, multicast,
 * unknown addresses) to every other port.
 */
#include "hv/vdev/vswitch.h"
#include "hv/lib/lib.h"
#include "hv/lib/spinlock.h"
#include "hv/lib/strlcpy.h"

#define FDB_VALID BIT_ULL(63)
#define FDB_PORT_SHIFT 48
#define FDB_PORT_MASK 0xffULL
#define MAC_MASK 0xffffffffffffULL
#define ETH_MULTICAST BIT(0) /* IEEE 802: the group bit of the first byte */

static struct vswitch switches[VSWITCH_MAX];
static struct spinlock lock = SPINLOCK_INIT;

struct vswitch *vswitch_get(const char *name)
{
	struct vswitch *sw = NULL;

	spin_lock(&lock);
	for (u32 i = 0; i < VSWITCH_MAX && !sw; i++) {
		if (!strcmp(switches[i].name, name))
			sw = &switches[i];
		else if (!switches[i].name[0])
			sw = &switches[i];
	}
	if (sw && !sw->name[0])
		hv_strlcpy(sw->name, name, sizeof(sw->name));
	spin_unlock(&lock);
	return sw;
}

int vswitch_attach(struct vswitch *sw, void *dev)
{
	int port = -E_NOMEM;

	spin_lock(&lock);
	for (u32 i = 0; i < VSWITCH_PORTS && port < 0; i++) {
		if (!sw->port[i]) {
			__atomic_store_n(&sw->port[i], dev, __ATOMIC_RELEASE);
			port = (int)i;
		}
	}
	spin_unlock(&lock);
	return port;
}

void vswitch_detach(struct vswitch *sw, u32 port)
{
	__atomic_store_n(&sw->port[port], NULL, __ATOMIC_RELEASE);
}

static u64 mac(const u8 *p)
{
	u64 v = 0;

	for (u32 i = 0; i < ETH_ALEN; i++)
		v = v << 8 | p[i];
	return v;
}

static u64 *slot(struct vswitch *sw, u64 addr)
{
	return &sw->fdb[fnv1a64(FNV1A64_INIT, &addr, ETH_ALEN) & (VSWITCH_FDB - 1)];
}

u32 vswitch_route(struct vswitch *sw, u32 from, const u8 *frame)
{
	u64 dst = mac(frame), src = mac(frame + ETH_ALEN), e;
	u32 others = 0;

	for (u32 i = 0; i < VSWITCH_PORTS; i++)
		if (i != from && __atomic_load_n(&sw->port[i], __ATOMIC_ACQUIRE))
			others |= BIT(i);
	if (!(frame[ETH_ALEN] & ETH_MULTICAST)) /* a group address is no source */
		__atomic_store_n(slot(sw, src), FDB_VALID | (u64)from << FDB_PORT_SHIFT | src,
				 __ATOMIC_RELAXED);
	if (frame[0] & ETH_MULTICAST)
		return others;
	e = __atomic_load_n(slot(sw, dst), __ATOMIC_RELAXED);
	if ((e & FDB_VALID) && (e & MAC_MASK) == dst)
		return others & BIT((e >> FDB_PORT_SHIFT) & FDB_PORT_MASK);
	return others;
}
