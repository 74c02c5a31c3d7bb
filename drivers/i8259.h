/* The legacy 8259A pair: remapped away from the exception vectors and masked. */
#pragma once

#define PIC_VECTOR_BASE 0x20 /* IRQ 0-15 -> vectors 0x20-0x2f, all masked */
#define PIC_IRQS 16

/* Firmware may leave the PICs delivering IRQ 0 as vector 8 (a real-mode
 * layout); the hypervisor uses only its local APIC. A masked PIC can still
 * raise its spurious IRQ 7 or 15: the caller ignores the PIC_IRQS vectors
 * from PIC_VECTOR_BASE. */
void i8259_disable(void);
