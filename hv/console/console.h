/*
 * The hypervisor console (SPEC 4): the physical UART carries the
 * hypervisor's own "hv: " lines and every partition's lines, "[NAME] "
 * first. Nobody waits for the UART: each writer's bytes wait in its own
 * queue, and the CPUs that pass by send what the UART takes at that moment
 * (a FIFO's worth at most), whole lines at a time: the hypervisor's lines
 * from any CPU and ahead of the others, a partition's from its own CPUs,
 * anyone's from a CPU with nothing to run.
 */
#pragma once

#include "hv/lib/log.h"
#include "hv/lib/types.h"

#define CONSOLE_QUEUE_SIZE (16 * KiB) /* a power of two */
#define CONSOLE_LINE_MAX 1024	      /* a longer line goes on on a new console line */

/*
 * A writer's queue: its bytes in order, until the console has sent them
 * (and after: the recent output stays in buf). One writer at a time (a
 * partition's UART under its lock); the console reads.
 */
struct console_src {
	const char *name;  /* NULL: the hypervisor's own lines */
	volatile u64 head; /* bytes written, ever */
	volatile u64 tail; /* bytes the console has taken */
	volatile u64 ends; /* just after the last line end written */
	volatile u64 show; /* the unfinished line may go out up to here */
	u32 wcol;	   /* the writer's: bytes of its unfinished line */
	u32 col;	   /* the console's: bytes of that line sent */
	u32 slot;
	u64 seen; /* TSC when its own CPU last came by (console_service) */
	u64 lost; /* bytes given up: the UART stayed busy */
	u8 buf[CONSOLE_QUEUE_SIZE];
};

/* Picks the UART named by "console=com1..com4|none" (default com1). */
void console_init(const char *cmdline);
/* [hypervisor] console = com1..com4 (index 0-3) or none (-1). */
void console_select(int com_index);
/* printk's: the hypervisor's bytes. Before any partition has a queue
 * they go out at once; then they wait in the hypervisor's queue. */
void console_write(const char *s, size_t len);

/* A partition's queue joins the console as NAME (-E_NOMEM: no room), and
 * leaves it (a failed build). */
int console_add(struct console_src *q, const char *name);
void console_remove(struct console_src *q);
/* Queues one byte. Only with the queue full does the writer wait (for the
 * UART, helping it along); false when it stayed full for
 * CONSOLE_TX_WAIT_MS: the byte is given up, and the loss told later. */
bool console_put(struct console_src *q, u8 c);
/* How many bytes console_put takes now without waiting. */
u64 console_room(const struct console_src *q);
/* The unfinished line goes out as it is and stays open on the console,
 * going on as it is written, until another line ends it: then its rest
 * waits for its end (a prompt, and the echo of what is typed). */
void console_show(struct console_src *q);
/* Ends the unfinished line (the partition stopped). */
void console_end_line(struct console_src *q);
/*
 * Sends what the UART takes now (bounded) of the lines this CPU may send:
 * the hypervisor's, OWN's (NULL: none), and anyone's when IDLE. Returns
 * the TSC at which to come again while any of those wait, else 0.
 */
u64 console_service(struct console_src *own, bool idle, u64 now);
/* Everything queued goes out (what the hv> prompt holds too: the
 * machine goes); waits as long as the UART takes it. */
void console_flush(void);
/*
 * Tier 3: from now on only this CPU writes, straight to the UART and
 * waiting for it (at most CONSOLE_TX_WAIT_MS a byte), whatever another CPU
 * was doing with the console: the line on the UART is ended, the
 * hypervisor's queued lines go first. The others' output is dropped.
 */
void console_panic(void);
/* Writes text straight to the UART without any lock or formatting: the
 * last words of a CPU that faulted again while dumping. */
void console_emergency(const char *text);
/* The hv> prompt (hv/console/command.c) opens (on) or closes: while it
 * is open, and until its last bytes are out, everyone else's lines wait
 * in their queues (the hypervisor's until half of its queue is used), and
 * go out after. */
void console_hold(bool on);
/* The prompt's own output, queued and shown as it comes (an unfinished
 * line too); one writer at a time. */
void console_prompt_write(const char *s, size_t len);
/* Returns -1 when no input is waiting. */
int console_getc(void);
