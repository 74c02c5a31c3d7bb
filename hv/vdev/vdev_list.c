/*
 * The devices every partition gets, in creation order (hv/vdev/vdev.h:
 * undone in the reverse order). A new device is its file and a line here.
 */
#include "hv/vdev/vdev_list.h"
#include "hv/vdev/vblk.h"
#include "hv/vdev/vctl.h"
#include "hv/vdev/vioapic.h"
#include "hv/vdev/vlapic.h"
#include "hv/vdev/vnet.h"
#include "hv/vdev/vpci.h"
#include "hv/vdev/vpic.h"
#include "hv/vdev/vpit.h"
#include "hv/vdev/vpm.h"
#include "hv/vdev/vpmtimer.h"
#include "hv/vdev/vpvpanic.h"
#include "hv/vdev/vrtc.h"
#include "hv/vdev/vshm.h"
#include "hv/vdev/vuart.h"

const struct vdev_type *const vdev_list[] = {
	/* the interrupt controllers first: reset last, every line low again */
	&vlapic_type,
	&vioapic_type,
	&vpic_type,
	&vuart_type, /* early: the console input finds it on every poll */
	&vpit_type,
	&vrtc_type,
	&vpm_type,
	&vpci_type,
	&vpvpanic_type,
	/* on the PCI bus: after it */
	&vnet_type,
	&vblk_type,
	&vshm_type,
	&vctl_type,
	/* last: it passes the machine's timer through only to ports no
	 * other device claims */
	&vpmtimer_type,
};

const u32 vdev_list_count = ARRAY_SIZE(vdev_list);
