/*
 * 16550A UART model (National Semiconductor PC16550D data sheet): the
 * registers Linux's 8250 driver probes (scratch, FIFO detection through
 * IIR, loopback through MCR/MSR), interrupts on IRQ 4 (received data and
 * transmitter empty, by priority through IIR), and the console join of
 * SPEC 4: each finished line goes to the console as "[NAME] line", every
 * byte is kept in a ring buffer of recent output, and console input for the
 * partition with the focus arrives in the receive FIFO. The unfinished line
 * of the partition with the focus is shown once its writer has stopped and
 * waits (its shell's prompt; then the echo of what is typed, as it comes):
 * vuart_show_open.
 *
 * Transmission completes inside the THR write (the console line is written
 * before the guest continues), so the transmitter is always ready when the
 * guest looks again and no byte is ever dropped.
 */
#include "hv/vdev/vuart.h"
#include "hv/config/config.h"
#include "hv/console/console.h"
#include "hv/console/ring.h"
#include "hv/hw/uart.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/lib/spinlock.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/virq.h"

/* Console input waits for the guest in a queue behind the receive FIFO, as
 * keys wait in a terminal under flow control: a guest that is slow to read
 * (a busy partition, an emulator's CPU not scheduled) gets every byte late
 * rather than a 16-byte FIFO's overrun. Only a full queue drops (counted). */
#define RX_QUEUE_SIZE 4096
#define LINE_MAX 1024 /* longer lines continue on a new console line */

struct vuart {
	struct vdev_registry *reg;
	struct spinlock lock;
	u8 ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_int; /* THRE interrupt pending (cleared by IIR read or THR write) */
	bool irq_line;
	u8 rx[RX_QUEUE_SIZE];
	u32 rx_head, rx_count;
	u64 rx_lost;	 /* input dropped on a full queue */
	bool rx_blocked; /* ... since the guest last read, and said so */
	char line[LINE_MAX];
	u32 line_len;
	u32 line_shown;	     /* its first bytes already on the console (still open) */
	u64 last_tx;	     /* TSC of the last byte sent */
	struct vcpu *writer; /* the vCPU that sent it */
	struct ring ring;    /* recent output, for management (hvctl console) */
	u8 ring_buf[RING_CONSOLE_SIZE];
};

static void emit_line(struct vuart *u)
{
	console_partition_text(u->reg->owner.name, u->line + u->line_shown,
			       u->line_len - u->line_shown, true);
	u->line_len = u->line_shown = 0;
}

/* What is new in the line, shown: the line stays open on the console. */
static void show_open(struct vuart *u)
{
	console_partition_text(u->reg->owner.name, u->line + u->line_shown,
			       u->line_len - u->line_shown, false);
	u->line_shown = u->line_len;
}

static void rx_push(struct vuart *u, u8 byte)
{
	if (u->rx_count == RX_QUEUE_SIZE) {
		u->rx_lost++;
		if (!u->rx_blocked)
			pr_warn("partition %s: console input lost: %u bytes wait unread on "
				"its COM1\n",
				u->reg->owner.name, RX_QUEUE_SIZE);
		u->rx_blocked = true;
		return;
	}
	u->rx[(u->rx_head + u->rx_count) % RX_QUEUE_SIZE] = byte;
	u->rx_count++;
}

static u8 rx_pop(struct vuart *u)
{
	u8 byte;

	if (!u->rx_count)
		return 0;
	byte = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % RX_QUEUE_SIZE;
	u->rx_count--;
	u->rx_blocked = false;
	return byte;
}

/* PC16550D table 4: the highest-priority pending interrupt */
static u8 pending_iir(const struct vuart *u)
{
	if ((u->ier & UART_IER_RDI) && u->rx_count)
		return UART_IIR_RDI;
	if ((u->ier & UART_IER_THRI) && u->thr_int)
		return UART_IIR_THRI;
	return UART_IIR_NO_INT;
}

/* IRQ 4 follows the pending interrupts, gated by OUT2 as on a PC. */
static void update_irq(struct vuart *u)
{
	bool line = pending_iir(u) != UART_IIR_NO_INT && (u->mcr & UART_MCR_OUT2);

	if (line != u->irq_line) {
		u->irq_line = line;
		virq_set_level(u->reg, PLAT_IRQ_COM1, line);
	}
}

static void transmit(struct vuart *u, u8 byte)
{
	if (u->mcr & UART_MCR_LOOP) {
		rx_push(u, byte);
		return;
	}
	ring_put(&u->ring, byte);
	if (byte == '\r')
		return; /* the console ends lines itself */
	if (byte == '\n') {
		emit_line(u);
		return;
	}
	u->line[u->line_len++] = (char)byte;
	u->last_tx = rdtsc();
	if (u->line_len == LINE_MAX)
		emit_line(u);
	else if (u->line_shown &&
		 console_partition_more(u->reg->owner.name, u->line + u->line_shown,
					u->line_len - u->line_shown))
		u->line_shown = u->line_len; /* a shown line goes on as it is written */
	/* ... until other output ends it: then the rest waits to go whole (or
	 * to be shown again, vuart_show_open), never in pieces among others */
}

static u8 modem_status(const struct vuart *u)
{
	u8 m = u->mcr;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS; /* a terminal is attached */
	/* loopback: the outputs feed the inputs (PC16550D, MCR bit 4) */
	return (u8)(((m & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
		    ((m & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
		    ((m & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
		    ((m & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
}

static u8 read_reg(struct vuart *u, u32 reg)
{
	bool dlab = u->lcr & UART_LCR_DLAB;
	u8 iir;

	switch (reg) {
	case UART_RBR:
		return dlab ? u->dll : rx_pop(u);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		iir = pending_iir(u);
		if (iir == UART_IIR_THRI)
			u->thr_int = false; /* reading IIR clears a THRE interrupt */
		return iir | ((u->fcr & UART_FCR_ENABLE) ? UART_IIR_FIFO_ENABLED : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT | (u->rx_count ? UART_LSR_DR : 0);
	case UART_MSR:
		return modem_status(u);
	default:
		return u->scr;
	}
}

static void write_reg(struct vuart *u, u32 reg, u8 val)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR:
		if (dlab) {
			u->dll = val;
		} else {
			transmit(u, val);
			u->thr_int = true; /* sent at once: the holding register is empty */
		}
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = val;
		} else {
			/* enabling THRE interrupts with an empty THR raises one */
			if ((val & UART_IER_THRI) && !(u->ier & UART_IER_THRI))
				u->thr_int = true;
			u->ier = val & UART_IER_MASK;
		}
		break;
	case UART_IIR:
		u->fcr = val;
		if (val & UART_FCR_CLEAR_RX)
			u->rx_count = 0;
		break;
	case UART_LCR:
		u->lcr = val;
		break;
	case UART_MCR:
		u->mcr = val & UART_MCR_MASK;
		break;
	case UART_LSR:
	case UART_MSR:
		break; /* read-only */
	default:
		u->scr = val;
		break;
	}
}

static int vuart_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	struct vuart *u = dev;
	u32 reg = (u32)(a->addr - VUART_COM1_BASE);

	spin_lock(&u->lock);
	if (a->write && reg == UART_RBR)
		u->writer = v;
	if (a->write)
		write_reg(u, reg, (u8)a->val);
	else
		a->val = read_reg(u, reg);
	update_irq(u);
	spin_unlock(&u->lock);
	return 0;
}

static void vuart_reset(void *dev)
{
	struct vuart *u = dev;

	spin_lock(&u->lock);
	u->ier = u->lcr = u->mcr = u->scr = u->fcr = u->dll = u->dlm = 0;
	u->rx_head = u->rx_count = 0;
	u->rx_lost = 0;
	u->thr_int = u->irq_line = u->rx_blocked = false;
	spin_unlock(&u->lock);
}

/* The partition stopped: a partial line goes out. */
static void vuart_flush(void *dev)
{
	struct vuart *u = dev;

	spin_lock(&u->lock);
	if (u->line_len)
		emit_line(u);
	spin_unlock(&u->lock);
}

void vuart_show_open(struct vuart *u, u64 now, u64 wait)
{
	if (!spin_trylock(&u->lock))
		return;
	/* a line that pauses while its writer runs on (a busy guest, or an
	 * emulator's CPU not scheduled) is not a prompt: it stays whole */
	if (u->line_len > u->line_shown && now - u->last_tx >= wait && u->writer &&
	    u->writer->run_state == VCPU_HALTED)
		show_open(u);
	spin_unlock(&u->lock);
}

void vuart_input(struct vuart *u, u8 byte)
{
	spin_lock(&u->lock);
	rx_push(u, byte);
	update_irq(u);
	spin_unlock(&u->lock);
}

u64 vuart_input_lost(const struct vuart *u)
{
	return u->rx_lost;
}

u32 vuart_console_read(struct vuart *u, u64 from, u8 *out, u32 max, u64 *start, u64 *total)
{
	u32 n;

	spin_lock(&u->lock);
	*total = u->ring.total;
	n = ring_read(&u->ring, from, out, max, start);
	spin_unlock(&u->lock);
	return n;
}

/* Only a partition whose console is its COM1 (SPEC 4) has one. */
static int vuart_create(struct vdev_registry *reg, void *dev)
{
	struct vuart *u = dev;

	if (reg->owner.cfg->console != CONFIG_CONSOLE_VUART)
		return VDEV_DECLINED;
	u->reg = reg;
	ring_init(&u->ring, u->ring_buf, sizeof(u->ring_buf));
	return vdev_add_io(reg, VUART_COM1_BASE, VUART_PORTS, vuart_access, u);
}

static void vuart_stats(void *dev)
{
	const struct vuart *u = dev;

	if (vuart_input_lost(u))
		pr_info("partition %s: console input lost %lu bytes\n", u->reg->owner.name,
			vuart_input_lost(u));
}

const struct vdev_type vuart_type = {
	.name = "COM1",
	.size = sizeof(struct vuart),
	.create = vuart_create,
	.reset = vuart_reset,
	.stopped = vuart_flush,
	.stats = vuart_stats,
};
