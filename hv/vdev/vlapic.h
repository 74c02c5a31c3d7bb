/* The local APIC of each vCPU (SDM 3A ch. 11), xAPIC MMIO at 0xFEE00000. */
#pragma once

#include "hv/types.h"

struct vcpu;
struct partition;

#define VLAPIC_MMIO_SIZE 0x1000

int vlapic_create(struct vcpu *v);
void vlapic_reset(struct vcpu *v);
/* The MMIO range is the partition's; the access goes to the calling vCPU's APIC. */
int vlapic_register(struct partition *p);
/* Raises vector on v's APIC (fixed delivery) from any CPU. */
void vlapic_set_irq(struct vcpu *v, u8 vector);
/* The highest vector the vCPU should take now, or -1. */
int vlapic_pending_irq(struct vcpu *v);
/* The vCPU took vector: IRR -> ISR. */
void vlapic_ack_irq(struct vcpu *v, u8 vector);
/* An NMI is pending (and clears it). */
bool vlapic_take_nmi(struct vcpu *v);
