/*
 * The control device (docs/control.md, SPEC 7): the interface between
 * hvctl in a `manage = yes` partition and the hypervisor, shared by both.
 *
 * A PCI function (CTL_PCI_VENDOR:CTL_PCI_DEVICE) with two memory BARs:
 * BAR 0, 32-bit registers (each access exits to the hypervisor), and
 * BAR 2, the mailbox: plain memory of its own (nothing else of the
 * hypervisor's), the request at offset 0, the response at
 * CTL_RESP_OFFSET. Writing the request's length to the doorbell runs it:
 * the response is complete when the write is. Little-endian throughout.
 */
#pragma once

#include "hv/lib/types.h"

/* Not assigned by the PCI-SIG: hvctl finds the function by ID and class. */
#define CTL_PCI_VENDOR 0x7e55
#define CTL_PCI_DEVICE 0x0001
#define CTL_PCI_REVISION 1
#define CTL_PCI_CLASS 0x088000 /* base class 08 (system peripheral), 80 (other) */

#define CTL_REGS_BAR 0
#define CTL_REGS_SIZE 0x1000
#define CTL_MAILBOX_BAR 2
#define CTL_MAILBOX_SIZE 0x10000
#define CTL_REQ_MAX 0x1000 /* the request area: [0, 4K) of the mailbox */
#define CTL_RESP_OFFSET CTL_REQ_MAX
#define CTL_RESP_MAX (CTL_MAILBOX_SIZE - CTL_RESP_OFFSET)

/* BAR 0 registers, 32 bits each, read-only but for the doorbell */
#define CTL_REG_MAGIC 0x00    /* CTL_DEV_MAGIC */
#define CTL_REG_VERSION 0x04  /* CTL_VERSION: the protocol it speaks */
#define CTL_REG_DOORBELL 0x08 /* write: the request's length; reads 0 */
#define CTL_REG_RESULT 0x0c   /* the last response's length (0: none yet) */

#define CTL_DEV_MAGIC 0x4c435354U  /* "TSCL" */
#define CTL_REQ_MAGIC 0x51524354U  /* "TCRQ" */
#define CTL_RESP_MAGIC 0x53524354U /* "TCRS" */
#define CTL_VERSION 1

#define CTL_NAME_MAX 16	 /* a partition name: 1-16 of a-z 0-9 - _ (SPEC 3) */
#define CTL_NAME_SIZE 24 /* the field: the name, NUL-padded */
#define CTL_TEXT_SIZE 24 /* other text fields, NUL-terminated */
#define CTL_CPUS_SIZE 64 /* a CPU list as hv.conf writes it */

enum ctl_op {
	CTL_OP_INFO = 1,
	CTL_OP_LIST,
	CTL_OP_START,
	CTL_OP_STOP,
	CTL_OP_RESTART,
	CTL_OP_CONSOLE,
	CTL_OP_STATS,
	CTL_OP_COUNT,
};

/* Request flags */
#define CTL_F_FORCE BIT(0) /* stop, restart: stop at once, no power button */
#define CTL_F_ALL CTL_F_FORCE

enum ctl_status {
	CTL_OK = 0,
	CTL_E_MAGIC,	    /* not a request */
	CTL_E_VERSION,	    /* another protocol version */
	CTL_E_LENGTH,	    /* length not that of this version's request */
	CTL_E_OP,	    /* no such operation */
	CTL_E_FLAGS,	    /* a flag this operation does not take */
	CTL_E_NAME,	    /* not a partition name */
	CTL_E_NO_PARTITION, /* no partition of that name */
	CTL_E_RUNNING,	    /* start: it runs already */
	CTL_E_STOPPED,	    /* stop: it is not running */
	CTL_E_BUSY,	    /* it is starting or stopping */
	CTL_E_NO_CONSOLE,   /* console: it has none (console = none) */
	CTL_E_OFFSET,	    /* console: an offset beyond what was written */
	CTL_E_PERM,	    /* the asking partition may not manage */
	CTL_E_COUNT,
};

/* Every request: exactly this, version CTL_VERSION. */
struct ctl_request {
	u32 magic;   /* CTL_REQ_MAGIC */
	u16 version; /* CTL_VERSION */
	u16 op;	     /* enum ctl_op */
	u32 length;  /* sizeof(struct ctl_request), and the doorbell's value */
	u32 flags;   /* CTL_F_* */
	char name[CTL_NAME_SIZE];
	u64 offset; /* console: the first byte wanted, counted since boot */
};

/* Every response begins so; length counts this header and the body. */
struct ctl_response {
	u32 magic;   /* CTL_RESP_MAGIC */
	u16 version; /* CTL_VERSION */
	u16 op;	     /* the request's */
	u32 status;  /* enum ctl_status; no body unless CTL_OK */
	u32 length;
};

/* info */
struct ctl_info {
	char version[CTL_TEXT_SIZE]; /* the hypervisor's */
	char vendor[CTL_TEXT_SIZE];  /* "VT-x", "AMD-V" */
	char slat[CTL_TEXT_SIZE];    /* "EPT", "NPT" */
	char iommu[CTL_TEXT_SIZE];   /* "none", ... */
	u32 cpus;		     /* online */
	u32 partitions;
	u64 ram_bytes;
	u64 free_bytes;
};

enum ctl_state {
	CTL_STATE_STOPPED,
	CTL_STATE_RUNNING,
	CTL_STATE_STARTING,
	CTL_STATE_STOPPING,
};

#define CTL_PART_MANAGE BIT(0)
#define CTL_PART_AUTOSTART BIT(1)
#define CTL_PART_SELF BIT(2) /* the asking partition */

/* list: a u32 count, a u32 0, then count of these */
struct ctl_part {
	char name[CTL_NAME_SIZE];
	char cpus[CTL_CPUS_SIZE];
	u32 state; /* enum ctl_state */
	u32 flags; /* CTL_PART_* */
	u64 memory;
	u64 uptime_ms; /* since its last start; 0 when stopped */
	u32 restarts;
	u32 vcpus;
};

struct ctl_list {
	u32 count;
	u32 pad;
	struct ctl_part part[];
};

/* stats: then exit_count of struct ctl_exit */
struct ctl_exit {
	char reason[CTL_TEXT_SIZE];
	u64 count;
};

struct ctl_stats {
	char name[CTL_NAME_SIZE];
	u32 state;
	u32 restarts;
	u64 uptime_ms;
	u64 irqs_injected, exceptions_injected;
	u64 timer_fired, timer_late_avg_us, timer_late_max_us;
	u64 console_bytes;	 /* written since boot */
	u64 console_overwritten; /* of those, no longer in its ring */
	u64 console_input_lost;	 /* typed bytes dropped: its queue was full */
	u64 open_bus;		 /* accesses to addresses it does not own */
	u32 exit_count;		 /* reasons with a non-zero count */
	u32 pad;
	struct ctl_exit exit[];
};

/* console: data[length], the bytes [start, start + length) of its output */
struct ctl_console {
	u64 start; /* the first byte returned, counted since boot */
	u64 end;   /* bytes written so far */
	u64 lost;  /* asked for but overwritten: start - the offset asked */
	u32 length;
	u32 pad;
	u8 data[];
};
