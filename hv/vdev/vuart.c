/*
 * 16550A UART model (National Semiconductor PC16550D data sheet): the
 * registers Linux's 8250 driver probes (scratch, FIFO detection through
 * IIR, loopback through MCR/MSR), interrupts on IRQ 4 (received data and
 * transmitter empty, by priority through IIR), and the console join of
 * SPEC 4: every byte sent goes to the partition's console queue
 * (hv/console/console.h), which the console sends line by line as
 * "[NAME] line", and to its console ring (hv/console/ring.h, 64 KiB with
 * offsets since boot: hvctl console reads it); console input for the
 * partition with the focus arrives in the receive FIFO. The unfinished
 * line of the partition with the focus is shown once its writer has
 * stopped and waits (its shell's prompt; then the echo of what is typed,
 * as it comes): vuart_show_open.
 *
 * The transmitter: LSR says it is ready whenever the console queue has a
 * FIFO's worth of room, so polled output (the kernel's console) goes on at
 * once, and a full queue is the only wait (SPEC 4: not ready rather than
 * lost). The transmitter-empty interrupt comes when a 16550 would raise
 * it: once the bytes written have taken their time on the line at the
 * divisor latch's baud rate (or the physical console's, if faster). An interrupt-driven driver then writes at
 * that rate and its CPU is free in between; an interrupt at once had
 * Linux's 8250 handler refill the FIFO for as long as the output lasted.
 */
#include "hv/vdev/vuart.h"
#include "drivers/uart16550.h"
#include "hv/config/config.h"
#include "hv/console/console.h"
#include "hv/console/ring.h"
#include "hv/hw/uart.h"
#include "hv/hw/x86.h"
#include "hv/lib/lib.h"
#include "hv/lib/spinlock.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vdev/platform.h"
#include "hv/vdev/vclock.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/virq.h"

/* Console input waits for the guest in a queue behind the receive FIFO, as
 * keys wait in a terminal under flow control: a guest that is slow to read
 * (a busy partition, an emulator's CPU not scheduled) gets every byte late
 * rather than a 16-byte FIFO's overrun. Only a full queue drops (counted). */
#define RX_QUEUE_SIZE 4096
#define UART_OVERSAMPLE 16 /* baud = clock / (16 * divisor) (PC16550D) */
#define TX_GAP_CHARS 1	   /* on schedule, the interrupt never comes sooner after a write */
/* How far behind its schedule a stream may catch up at once (about 90 ms
 * at 115200 baud): the time a vCPU may take to come to its interrupt on a
 * busy emulator's host. */
#define TX_CATCH_UP_CHARS 1024

struct vuart {
	struct vdev_registry *reg;
	struct spinlock lock;
	u8 ier, lcr, mcr, scr, fcr, dll, dlm;
	bool thr_int; /* THRE interrupt pending (cleared by IIR read or THR write) */
	bool irq_line;
	u64 thr_due; /* the transmitter empties then (TSC), 0: it is empty */
	u64 tx_end;  /* when the bytes written have left at the baud rate */
	bool stream; /* the guest refills on the paced interrupt (see transmit) */
	u64 timer;   /* what its timer was last set for, 0: nothing */
	struct vclock clk;
	u8 rx[RX_QUEUE_SIZE];
	u32 rx_head, rx_count;
	u64 rx_lost;		/* input dropped on a full queue */
	bool rx_blocked;	/* ... since the guest last read, and said so */
	u64 last_tx;		/* TSC of the last byte sent */
	struct vcpu *writer;	/* the vCPU that sent it */
	struct console_src out; /* what it sent: queued for the console */
	struct ring ring;	/* recent output, for management (hvctl console) */
	u8 ring_buf[RING_CONSOLE_SIZE];
};

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

/* The transmitter takes bytes while the console queue has a FIFO's room. */
static bool tx_ready(const struct vuart *u)
{
	return console_room(&u->out) >= UART_FIFO_SIZE;
}

/* One character's time on the line (PC16550D: a start bit, the data bits,
 * parity, the stop bits; baud = UART_CLOCK_HZ / (16 * divisor)), at the
 * divisor latch's rate or the physical console's, whichever is faster: the
 * bytes go out on that line, and a guest left at Linux's default 9600 baud
 * (plain console=ttyS0) is not held to a twelfth of what the line takes. */
static u64 char_ticks(const struct vuart *u)
{
	u64 bits = 1 + 5 + (u->lcr & UART_LCR_WLEN_MASK) + ((u->lcr & UART_LCR_STOP2) ? 2 : 1) +
		   ((u->lcr & UART_LCR_PARITY) ? 1 : 0);
	u64 divisor =
		MIN(MAX((u64)(u->dll | u->dlm << 8), 1ULL), (u64)UART_DIVISOR(UART_DEFAULT_BAUD));

	return u->clk.hz * bits * UART_OVERSAMPLE * divisor / UART_CLOCK_HZ;
}

/* The transmitter has emptied by now: the interrupt that says so. */
static void tx_update(struct vuart *u, u64 now)
{
	if (u->thr_due && now >= u->thr_due && tx_ready(u)) {
		u->thr_due = 0;
		u->thr_int = true;
		u->stream = u->ier & UART_IER_THRI; /* an interrupt the driver waits for */
	}
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

static void transmit(struct vuart *u, u8 byte, u64 now)
{
	u64 c, slack;

	if (u->mcr & UART_MCR_LOOP) {
		rx_push(u, byte);
		return;
	}
	ring_put(&u->ring, byte);
	console_put(&u->out, byte);
	u->last_tx = now;
	/*
	 * The line goes on from where the last byte left it. A guest that
	 * refills on the interrupt the schedule raised gets up to
	 * TX_CATCH_UP_CHARS of its lateness back (the interrupt's way to it:
	 * a vCPU to wake, on an emulator's busy host): while it is behind the
	 * schedule the interrupt comes at once, so the stream keeps the baud
	 * rate however slowly its vCPU is woken. On the schedule it never
	 * comes sooner than TX_GAP_CHARS after a write: the handler's loop
	 * ends after at most the catch-up's FIFOs, and the CPU runs.
	 */
	c = char_ticks(u);
	slack = u->stream ? MIN(now, TX_CATCH_UP_CHARS * c) : 0;
	u->tx_end = MAX(u->tx_end, now - slack) + c;
	u->thr_due = u->tx_end <= now ? now : MAX(u->tx_end, now + TX_GAP_CHARS * c);
	u->thr_int = false;
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
		return (tx_ready(u) ? UART_LSR_THRE | UART_LSR_TEMT : 0) |
		       (u->rx_count ? UART_LSR_DR : 0);
	case UART_MSR:
		return modem_status(u);
	default:
		return u->scr;
	}
}

static void write_reg(struct vuart *u, u32 reg, u8 val, u64 now)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_RBR:
		if (dlab) {
			u->dll = val;
		} else {
			transmit(u, val, now);
		}
		break;
	case UART_IER:
		if (dlab) {
			u->dlm = val;
		} else {
			/* enabling THRE interrupts with an empty THR raises one */
			if ((val & UART_IER_THRI) && !(u->ier & UART_IER_THRI) && !u->thr_due &&
			    tx_ready(u))
				u->thr_int = true;
			if (!(val & UART_IER_THRI))
				u->stream = false; /* the driver has nothing more to send */
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

/* Its timer (see vuart_timer) must come by NEED at the latest. */
static void timer_by(struct vuart *u, u64 need)
{
	if (need && (!u->timer || need < u->timer)) {
		u->timer = need;
		vdev_timer_changed(u->reg);
	}
}

static int vuart_access(void *dev, struct vcpu *v, struct vdev_access *a)
{
	struct vuart *u = dev;
	u32 reg = (u32)(a->addr - VUART_COM1_BASE);
	u64 now = u->clk.read();

	spin_lock(&u->lock);
	tx_update(u, now);
	if (a->write && reg == UART_RBR)
		u->writer = v;
	if (a->write)
		write_reg(u, reg, (u8)a->val, now);
	else
		a->val = read_reg(u, reg);
	update_irq(u);
	/* what the console takes now goes on this exit, the rest on the
	 * timer, which also raises the transmitter-empty interrupt when due */
	if (a->write && reg == UART_RBR && !(u->lcr & UART_LCR_DLAB))
		timer_by(u, console_service(&u->out, false, now));
	if (a->write && (u->ier & UART_IER_THRI))
		timer_by(u, u->thr_due);
	spin_unlock(&u->lock);
	return 0;
}

/*
 * On the CPU of the partition's first vCPU: its queued output goes on to
 * the console, and the transmitter-empty interrupt comes when it is due.
 */
static u64 vuart_timer(void *dev, u64 now)
{
	struct vuart *u = dev;
	u64 next = __atomic_load_n(&u->timer, __ATOMIC_RELAXED);

	if (!next)
		return 0; /* nothing to do (the registry calls on every tick) */
	spin_lock(&u->lock);
	/* first the console: the room it makes may be what the interrupt
	 * waits for, and a driver waiting for it does not come back itself */
	next = console_service(&u->out, false, now);
	tx_update(u, now);
	update_irq(u);
	if ((u->ier & UART_IER_THRI) && u->thr_due > now && (!next || u->thr_due < next))
		next = u->thr_due;
	u->timer = next;
	spin_unlock(&u->lock);
	return next;
}

static void vuart_reset(void *dev)
{
	struct vuart *u = dev;

	spin_lock(&u->lock);
	u->ier = u->lcr = u->mcr = u->scr = u->fcr = u->dll = u->dlm = 0;
	u->rx_head = u->rx_count = 0;
	u->rx_lost = 0;
	u->thr_int = u->irq_line = u->rx_blocked = u->stream = false;
	u->thr_due = u->tx_end = 0;
	spin_unlock(&u->lock);
}

/* The partition stopped: a partial line goes out. */
static void vuart_flush(void *dev)
{
	struct vuart *u = dev;

	spin_lock(&u->lock);
	console_end_line(&u->out);
	spin_unlock(&u->lock);
}

void vuart_show_open(struct vuart *u, u64 now, u64 wait)
{
	if (!spin_trylock(&u->lock))
		return;
	/* a line that pauses while its writer runs on (a busy guest, or an
	 * emulator's CPU not scheduled), or while its driver waits for the
	 * transmitter (IER.THRI: interrupt-driven output goes on), is not a
	 * prompt: it stays whole */
	if (u->out.wcol && now - u->last_tx >= wait && u->writer &&
	    u->writer->run_state == VCPU_HALTED && !(u->ier & UART_IER_THRI))
		console_show(&u->out);
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

	int err;

	if (reg->owner.cfg->console != CONFIG_CONSOLE_VUART)
		return VDEV_DECLINED;
	u->reg = reg;
	reg->host->clock(&u->clk);
	ring_init(&u->ring, u->ring_buf, sizeof(u->ring_buf));
	err = console_add(&u->out, reg->owner.name);
	if (err)
		return err;
	err = vdev_add_io(reg, VUART_COM1_BASE, VUART_PORTS, vuart_access, u);
	if (err)
		console_remove(&u->out);
	return err;
}

static void vuart_free(void *dev)
{
	struct vuart *u = dev;

	if (u->reg)
		console_remove(&u->out);
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
	.free = vuart_free,
	.reset = vuart_reset,
	.timer = vuart_timer,
	.stopped = vuart_flush,
	.stats = vuart_stats,
};
