/* The legacy 8259A pair: remapped away from the exception vectors and masked. */
#pragma once

#define PIC_VECTOR_BASE 0x20 /* IRQ 0-15 -> vectors 0x20-0x2f, all masked */

/* Firmware may leave the PICs delivering IRQ 0 as vector 8 (a real-mode
 * layout); the hypervisor uses only its local APIC. */
void i8259_disable(void);
