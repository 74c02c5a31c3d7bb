/* The console's input side: poll the physical UART, deliver to the focus. */
#include "hv/console/input.h"
#include "drivers/tsc.h"
#include "hv/console/command.h"
#include "hv/console/console.h"
#include "hv/console/focus.h"
#include "hv/cpu/percpu.h"
#include "hv/hw/x86.h"
#include "hv/lib/spinlock.h"
#include "hv/partition/partition.h"
#include "hv/vcpu/vcpu.h"
#include "hv/vdev/vdev.h"
#include "hv/vdev/vuart.h"

#define POLL_INTERVAL_US 1000
#define OPEN_LINE_WAIT_MS 50 /* the focus's unfinished line is shown after */

static struct focus_state focus_state;
static struct command_line command; /* the hv> prompt, SPEC 7 */
static u32 focus_index;
static struct vuart *focus_uart; /* focused(), kept between polls */
static volatile u64 next_poll;
/* Held across one drain of the physical UART: two CPUs reading it at once
 * could hand a partition two neighbouring bytes in the wrong order. */
static struct spinlock poll_lock = SPINLOCK_INIT;

/* The console (COM1) of the partition with the focus; NULL: none has one. */
static struct vuart *focused(void)
{
	for (u32 i = 0; i < partition_count; i++) {
		struct partition *p = &partitions[(focus_index + i) % partition_count];
		struct vuart *u = vdev_find(&p->vdevs, &vuart_type);

		if (u) {
			focus_index = p->index;
			return u;
		}
	}
	return NULL;
}

/* The focus moves on from partition FROM (or stays there): the new
 * focus's CPUs take the polling over, and they may be waiting. */
static void set_focus(u32 from, bool announce)
{
	struct partition *p;

	focus_index = from % (partition_count ? partition_count : 1);
	focus_uart = focused();
	if (!focus_uart)
		return;
	p = &partitions[focus_index];
	if (announce)
		pr_info("console -> %s\n", p->name);
	for (u32 i = 0; i < p->vcpu_count; i++)
		vcpu_kick(p->vcpus[i], 0);
}

static u64 poll_input(u64 now)
{
	u64 due = next_poll, next = now + tsc_hz() / 1000000 * POLL_INTERVAL_US;
	struct vcpu *mine = this_cpu()->vcpu;
	int c;

	if (!mine || mine->part->index != focus_index)
		return 0;
	/* one CPU polls per interval, and never two at once */
	if (now < due)
		return due;
	if (!__atomic_compare_exchange_n(&next_poll, &due, next, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_RELAXED))
		return due;
	if (!spin_trylock(&poll_lock))
		return next;
	if (!focus_uart)
		set_focus(focus_index, false);
	while ((c = console_getc()) >= 0) {
		u8 out[FOCUS_SWITCH_PRESSES];
		u32 n;

		if (command_open(&command)) {
			command_feed(&command, (u8)c);
			continue;
		}
		if (focus_command(&focus_state, (u8)c)) {
			command_start(&command);
			continue;
		}
		if (focus_feed(&focus_state, (u8)c, out, &n)) {
			set_focus(focus_index + 1, true);
			continue;
		}
		for (u32 i = 0; focus_uart && i < n; i++)
			vuart_input(focus_uart, out[i]);
	}
	if (focus_uart && !command_open(&command))
		vuart_show_open(focus_uart, now, tsc_hz() / 1000 * OPEN_LINE_WAIT_MS);
	spin_unlock(&poll_lock);
	return next;
}

u64 console_poll(bool idle, u64 now)
{
	u64 out = console_service(NULL, idle, now), in = poll_input(now);

	return out && (!in || out < in) ? out : in;
}
