/* 8259A programmable interrupt controllers (Intel 8259A data sheet). */
#include "drivers/i8259.h"
#include "hv/hw/pic.h"
#include "hv/hw/x86.h"

/* ICW1: edge-triggered, cascaded, ICW4 follows */
#define ICW1_EDGE_CASCADE_ICW4 (ICW1_INIT | ICW1_IC4)

void i8259_disable(void)
{
	outb(PIC1_CMD, ICW1_EDGE_CASCADE_ICW4);
	io_delay();
	outb(PIC2_CMD, ICW1_EDGE_CASCADE_ICW4);
	io_delay();
	outb(PIC1_DATA, PIC_VECTOR_BASE);
	io_delay();
	outb(PIC2_DATA, PIC_VECTOR_BASE + PIC_LINES);
	io_delay();
	outb(PIC1_DATA, BIT(PIC_CASCADE_LINE)); /* ICW3: the slave's input */
	io_delay();
	outb(PIC2_DATA, PIC_CASCADE_LINE); /* ICW3: the slave's ID */
	io_delay();
	outb(PIC1_DATA, ICW4_8086);
	io_delay();
	outb(PIC2_DATA, ICW4_8086);
	io_delay();
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
}
