/* 8259A programmable interrupt controllers (Intel 8259A data sheet). */
#include "drivers/i8259.h"
#include "hv/cpu/trap.h"
#include "hv/hw/x86.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define ICW1_INIT_ICW4 0x11 /* edge, cascade, ICW4 follows */
#define ICW3_MASTER_CASCADE 0x04 /* slave on IRQ 2 */
#define ICW3_SLAVE_ID 0x02
#define ICW4_8086 0x01
#define MASK_ALL 0xff
#define PIC_IRQS 16

/* A masked PIC can still raise its spurious IRQ 7 / 15: nothing to do. */
static void ignore(struct trap_frame *f)
{
	(void)f;
}

void i8259_disable(void)
{
	outb(PIC1_CMD, ICW1_INIT_ICW4);
	io_delay();
	outb(PIC2_CMD, ICW1_INIT_ICW4);
	io_delay();
	outb(PIC1_DATA, PIC_VECTOR_BASE);
	io_delay();
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	io_delay();
	outb(PIC1_DATA, ICW3_MASTER_CASCADE);
	io_delay();
	outb(PIC2_DATA, ICW3_SLAVE_ID);
	io_delay();
	outb(PIC1_DATA, ICW4_8086);
	io_delay();
	outb(PIC2_DATA, ICW4_8086);
	io_delay();
	outb(PIC1_DATA, MASK_ALL);
	outb(PIC2_DATA, MASK_ALL);
	for (int irq = 0; irq < PIC_IRQS; irq++)
		trap_set_handler((u8)(PIC_VECTOR_BASE + irq), ignore);
}
