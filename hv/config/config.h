/*
 * The partition configuration, hv.conf (SPEC.md 3): parse the text into a
 * struct config (the plan), then validate the plan against the machine.
 *
 * Pure code: no allocation, no hardware, bounded stack. It is compiled into
 * the hypervisor image and, with -DHV_HOST, into the host tool
 * build/tools/hvconf, the unit tests and the fuzzer, so that all of them
 * print the same messages for the same file.
 *
 * Every problem is delivered through a config_report_fn as a line number and
 * a message; the caller prints it as "hv.conf:LINE: MESSAGE"
 * (config_format_report): the hypervisor after its "hv: " prefix, the host
 * tool alone on its line, so both show the same text. One call per problem:
 * parsing problems in file order, then the machine's, partition by
 * partition. A missing key is reported on its section's header line.
 *
 * Lexical rules (tests/unit/test_config.c and tests/configs/ check them):
 *  - UTF-8 text; an optional UTF-8 byte-order mark at the start is skipped.
 *    A NUL byte stops parsing ("not a text file"); invalid UTF-8 and control
 *    characters other than tab are errors for the line they are on.
 *  - Lines end with LF or CR LF. A line longer than CONFIG_LINE_MAX bytes is
 *    an error.
 *  - A '#' that begins a line or follows a space or tab starts a comment to
 *    the end of the line; a '#' inside a word is an ordinary character. This
 *    applies to every value, cmdline included: "cmdline = a=1 # note" gives
 *    "a=1", "cmdline = a=#1" gives "a=#1".
 *  - Values are trimmed of spaces and tabs at both ends; cmdline keeps the
 *    rest of the line verbatim between those ends.
 *  - An empty file, or one with only comments, is valid: no partitions.
 *
 * The code, in hv/config/: config.c the entry points below; parser.c lines,
 * sections and keys; value.c each key's value; validate.c the checks
 * against the machine; format.c the plan as text (format.h, included
 * here); text.c spans, numbers and UTF-8; report.c the problem budget.
 */
#pragma once

#include "boot/boot_info.h"
#include "hv/config/format.h"
#include "hv/lib/types.h"

/* The name the messages carry, whatever the file is called on the host. */
#define CONFIG_FILE_NAME "hv.conf"

#define CONFIG_MAX_PARTITIONS 16
#define CONFIG_NAME_MAX 16   /* partition name, characters */
#define CONFIG_CPU_LIMIT 256 /* logical CPU numbers 0..255 */
#define CONFIG_CPU_WORDS (CONFIG_CPU_LIMIT / 64)
#define CONFIG_MAX_PARTITION_CPUS 64
#define CONFIG_MAX_PCI 16 /* PCI functions per partition */
#define CONFIG_MAX_NET 4  /* virtio-net interfaces per partition */
#define CONFIG_MAX_DISK 4 /* virtio-blk disks per partition */
#define CONFIG_MAX_SHM 4  /* shared-memory regions per partition */
#define CONFIG_SHM_MIN PAGE_SIZE
#define CONFIG_SHM_MAX (256 * MiB)	    /* each, and all of one partition's */
#define CONFIG_DISK_BLOCK 512		    /* disk sizes are multiples of a sector */
#define CONFIG_CMDLINE_MAX 256		    /* bytes with the NUL: 255 characters */
#define CONFIG_IMAGE_NAME_MAX BOOT_NAME_MAX /* with the NUL: 63 characters */
#define CONFIG_LINE_MAX 1024		    /* bytes, without the line ending */
#define CONFIG_MAX_ERRORS 32		    /* then one "too many problems" line */
#define CONFIG_MSG_MAX 192		    /* one message, with the NUL */
#define CONFIG_MEMORY_ALIGN LARGE_PAGE_SIZE
/* Intel SDM 3A 4.1.4 / AMD APM2 5.1: physical addresses are at most 52 bits. */
#define CONFIG_SIZE_MAX (1ULL << 52)

/* [hypervisor] console */
enum config_hv_console {
	CONFIG_HV_CONSOLE_COM1 = 0, /* default */
	CONFIG_HV_CONSOLE_COM2,
	CONFIG_HV_CONSOLE_COM3,
	CONFIG_HV_CONSOLE_COM4,
	CONFIG_HV_CONSOLE_NONE,
};

/* [hypervisor] on_idle */
enum config_on_idle {
	CONFIG_IDLE_POWEROFF = 0, /* default */
	CONFIG_IDLE_HALT,
	CONFIG_IDLE_REBOOT,
};

/* [partition] console */
enum config_part_console {
	CONFIG_CONSOLE_VUART = 0, /* default */
	CONFIG_CONSOLE_NONE,
};

/* [partition] on_crash (default stop) and on_reboot (default restart) */
enum config_action {
	CONFIG_ACTION_STOP = 0,
	CONFIG_ACTION_RESTART,
};

/* The keys of [hypervisor]; config_hypervisor.key_line[] is indexed by these. */
enum config_hv_key {
	CONFIG_KEY_HV_CONSOLE,
	CONFIG_KEY_ON_IDLE,
	CONFIG_KEY_ALLOW_SHARED_CORES,
	CONFIG_KEY_HV_COUNT,
};

/* The keys of [partition NAME]; config_partition.key_line[] is indexed by these. */
enum config_part_key {
	CONFIG_KEY_CPUS,
	CONFIG_KEY_MEMORY,
	CONFIG_KEY_KERNEL,
	CONFIG_KEY_INITRD,
	CONFIG_KEY_CMDLINE,
	CONFIG_KEY_CONSOLE,
	CONFIG_KEY_PCI,
	CONFIG_KEY_NET,
	CONFIG_KEY_DISK,
	CONFIG_KEY_SHM,
	CONFIG_KEY_ON_CRASH,
	CONFIG_KEY_ON_REBOOT,
	CONFIG_KEY_MANAGE,
	CONFIG_KEY_AUTOSTART,
	CONFIG_KEY_PART_COUNT,
};

struct config_pci {
	u8 bus;
	u8 dev;
	u8 fn;
	u8 pad;
};

/* disk = NAME [ro]: a module or file */
struct config_disk {
	char name[CONFIG_IMAGE_NAME_MAX];
	bool ro;
};

/* shm = NAME SIZE */
struct config_shm {
	char name[CONFIG_NAME_MAX + 1];
	u64 size; /* a power of two, CONFIG_SHM_MIN..CONFIG_SHM_MAX */
};

struct config_hypervisor {
	u32 console;			   /* enum config_hv_console */
	u32 on_idle;			   /* enum config_on_idle */
	u32 allow_shared_cores;		   /* 1: partitions may share a core */
	u32 line;			   /* of [hypervisor]; 0 when absent */
	u32 key_line[CONFIG_KEY_HV_COUNT]; /* 0: key not given */
};

struct config_partition {
	char name[CONFIG_NAME_MAX + 1];
	u64 cpus[CONFIG_CPU_WORDS]; /* bitmap of logical CPU numbers */
	u32 cpu_count;
	u64 memory; /* bytes, a multiple of 2M */
	char kernel[CONFIG_IMAGE_NAME_MAX];
	char initrd[CONFIG_IMAGE_NAME_MAX]; /* "" when none */
	char cmdline[CONFIG_CMDLINE_MAX];
	u32 console;   /* enum config_part_console */
	u32 on_crash;  /* enum config_action */
	u32 on_reboot; /* enum config_action */
	u32 manage;    /* 1: it may manage the others (SPEC 7), default 0 */
	u32 autostart; /* 0: built at boot, started on request; default 1 */
	u32 pci_count;
	struct config_pci pci[CONFIG_MAX_PCI];
	u32 net_count;
	char net[CONFIG_MAX_NET][CONFIG_NAME_MAX + 1]; /* switch names */
	u32 disk_count;
	struct config_disk disk[CONFIG_MAX_DISK];
	u32 shm_count;
	struct config_shm shm[CONFIG_MAX_SHM];
	u32 line;			     /* of [partition NAME] */
	u32 key_line[CONFIG_KEY_PART_COUNT]; /* 0: key not given */
};

/* The plan. Only meaningful when parsing and validation found no problem.
 * About 17 KiB: keep it static, never on the 16 KiB hypervisor stack. */
struct config {
	struct config_hypervisor hv;
	u32 partition_count;
	struct config_partition partitions[CONFIG_MAX_PARTITIONS];
};

/* One problem: line is 1-based; msg has no "hv.conf:" prefix, no newline. */
typedef void (*config_report_fn)(void *ctx, u32 line, const char *msg);

/* Whether the machine has something; UNKNOWN skips the check (host tool). */
enum config_known {
	CONFIG_UNKNOWN = 0,
	CONFIG_ABSENT,
	CONFIG_PRESENT,
};

/*
 * What validation needs to know about the machine. Zero or NULL means
 * "unknown": the check that needs it is skipped.
 */
struct config_machine {
	u32 cpu_count; /* enabled logical CPUs */
	u64 ram_bytes; /* RAM free for partitions */
	u32 iommu;     /* enum config_known */
	/* A module (Multiboot) or file (UEFI, host) called name; its size. */
	bool (*find_file)(void *ctx, const char *name, u64 *size);
	/* Whether PCI function bus:dev.fn exists. */
	bool (*have_pci)(void *ctx, u8 bus, u8 dev, u8 fn);
	/* The core logical CPU cpu (< cpu_count) runs on: hyperthread siblings
	 * share it. */
	u32 (*core_of)(void *ctx, u32 cpu);
	void *ctx;
};

/*
 * Parses len bytes of text (need not be NUL-terminated) into *c, which it
 * clears first. Besides the syntax it checks everything that does not
 * depend on the machine: required keys, sizes and alignment, unique names,
 * no CPU or PCI device in two partitions. Returns the number of problems
 * reported (0: *c is a usable plan, pending config_validate).
 */
int config_parse(struct config *c, const char *text, size_t len, config_report_fn report,
		 void *ctx);

/*
 * Checks the plan against the machine: CPUs exist, no two partitions share
 * a core (unless allow_shared_cores), memory fits, images are present, PCI
 * devices exist and have an IOMMU. Fields that failed to parse are skipped.
 * Returns the number of problems reported.
 */
int config_validate(const struct config *c, const struct config_machine *m, config_report_fn report,
		    void *ctx);

/*
 * config_parse, then config_validate, sharing one CONFIG_MAX_ERRORS budget:
 * what the hypervisor (once it knows the machine) and the host tool call.
 */
int config_load(struct config *c, const char *text, size_t len, const struct config_machine *m,
		config_report_fn report, void *ctx);

/*
 * A size with a K, M or G suffix ("512M"), as in memory = and the tool's
 * --memory. Returns false on bad syntax or a size above CONFIG_SIZE_MAX.
 */
bool config_parse_size(const char *s, size_t len, u64 *bytes);

static inline bool config_cpu_isset(const struct config_partition *p, u32 cpu)
{
	return cpu < CONFIG_CPU_LIMIT && (p->cpus[cpu / 64] & BIT(cpu % 64));
}
