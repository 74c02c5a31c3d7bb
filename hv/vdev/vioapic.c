/* Placeholder until the I/O APIC model lands: no level-triggered sources yet. */
#include "hv/vdev/virq.h"

void vioapic_eoi(struct partition *p, u8 vector)
{
	(void)p;
	(void)vector;
}
