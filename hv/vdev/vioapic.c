/* Placeholder until the I/O APIC model lands: no level-triggered sources yet. */
#include "hv/vdev/virq.h"

void vioapic_eoi(struct partition *p, u8 vector)
{
	(void)p;
	(void)vector;
}

void virq_set_level(struct partition *p, u32 gsi, bool asserted)
{
	(void)p;
	(void)gsi;
	(void)asserted;
}

void virq_pulse(struct partition *p, u32 gsi)
{
	(void)p;
	(void)gsi;
}
