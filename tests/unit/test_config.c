/*
 * hv.conf parser and validator (hv/config/, SPEC.md 3): a table of bad
 * configurations with the exact lines they must produce, and good ones with
 * the plan they must resolve to. tests/configs/ holds the same kind of cases
 * as files, for the host tool and the boot-time system tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hv/config/config.h"
#include "tests/unit/test_support.h"

#define OUT_MAX 8192

/* Every problem, as the console prints it after "hv: ", one per line. */
struct transcript {
	char text[OUT_MAX];
	size_t len;
	u32 calls;
};

static void record(void *ctx, u32 line, const char *msg)
{
	struct transcript *t = ctx;
	char buf[CONFIG_MSG_MAX + 32];
	int n = config_format_report(buf, sizeof(buf), line, msg);

	assert_true(n > 0 && (size_t)n < sizeof(buf));
	assert_true(strlen(msg) < CONFIG_MSG_MAX);
	assert_null(strchr(msg, '\n'));
	assert_true(t->len + (size_t)n + 2 < sizeof(t->text));
	memcpy(t->text + t->len, buf, (size_t)n);
	t->len += (size_t)n;
	t->text[t->len++] = '\n';
	t->text[t->len] = '\0';
	t->calls++;
}

/* The fake machine: 4 CPUs, 2G free, two PCI functions, a few images. */
static bool fake_find_file(void *ctx, const char *name, u64 *size)
{
	static const struct {
		const char *name;
		u64 size;
	} files[] = {
		{ "bzImage", 8 * MiB },
		{ "initrd-a", 20 * MiB },
		{ "vmlinuz", 6 * MiB },
		{ "empty", 0 },
	};

	(void)ctx;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		if (!strcmp(name, files[i].name)) {
			*size = files[i].size;
			return true;
		}
	}
	return false;
}

static bool fake_have_pci(void *ctx, u8 bus, u8 dev, u8 fn)
{
	(void)ctx;
	return bus == 0 && (dev == 3 || dev == 4) && fn == 0;
}

/* Two hyperthreads per core: CPUs 0-1 on core 0, 2-3 on core 1 (APIC IDs
 * as logical numbers, one SMT bit). */
static u32 fake_core_of(void *ctx, u32 cpu)
{
	(void)ctx;
	assert_true(cpu < 4);
	return cpu >> 1;
}

enum machine_kind {
	M_UNKNOWN,  /* like hvconf without options: syntax and plan only */
	M_NO_IOMMU, /* 4 CPUs, 2G, files, no IOMMU */
	M_IOMMU,    /* the same with an IOMMU and 00:03.0, 00:04.0 */
	M_SMT,	    /* M_NO_IOMMU with two threads per core (the hypervisor at boot) */
};

static void make_machine(enum machine_kind kind, struct config_machine *m)
{
	memset(m, 0, sizeof(*m));
	if (kind == M_UNKNOWN)
		return;
	m->cpu_count = 4;
	m->ram_bytes = 2 * GiB;
	m->iommu = kind == M_IOMMU ? CONFIG_PRESENT : CONFIG_ABSENT;
	m->find_file = fake_find_file;
	m->have_pci = fake_have_pci;
	if (kind == M_SMT)
		m->core_of = fake_core_of;
}

static struct config cfg;

static int load(const char *text, size_t len, enum machine_kind kind, struct transcript *t)
{
	struct config_machine m;
	/* Exact-size heap copy: ASan catches any read past the end. */
	char *copy = malloc(len ? len : 1);
	int n;

	make_machine(kind, &m);
	memcpy(copy, text, len);
	memset(t, 0, sizeof(*t));
	n = config_load(&cfg, copy, len, &m, record, t);
	free(copy);
	assert_int_equal((u32)n, t->calls);
	return n;
}

/* A partition that is fine on the fake machine: 4 lines. */
#define PART(name, cpus) "[partition " name "]\ncpus = " cpus "\nmemory = 64M\nkernel = bzImage\n"

#define NUL_TEXT PART("a", "0") "cmd\0line = x\n" PART("b", "1")

struct bad_case {
	const char *what;
	const char *text;
	size_t len; /* 0: strlen(text) */
	enum machine_kind machine;
	const char *expect; /* every line, in order */
};

static const struct bad_case bad_cases[] = {
	{ "unknown key", PART("a", "0") "foo = 1\n", 0, M_UNKNOWN,
	  "hv.conf:5: unknown key \"foo\" in [partition]\n" },
	{ "unknown key in [hypervisor]", "[hypervisor]\nverbose = yes\n", 0, M_UNKNOWN,
	  "hv.conf:2: unknown key \"verbose\" in [hypervisor]\n" },
	{ "key of the other section",
	  "[hypervisor]\nkernel = bzImage\n" PART("a", "0") "on_idle = halt\n", 0, M_UNKNOWN,
	  "hv.conf:2: key \"kernel\" belongs in [partition], not in [hypervisor]\n"
	  "hv.conf:7: key \"on_idle\" belongs in [hypervisor], not in [partition]\n" },
	{ "unknown section", "[guest a]\ncpus = 0\n" PART("b", "1"), 0, M_UNKNOWN,
	  "hv.conf:1: unknown section [guest a]: expected [hypervisor] or [partition NAME]\n" },
	{ "section without ]", "[partition a\ncpus = 0\n", 0, M_UNKNOWN,
	  "hv.conf:1: section header without a closing ']'\n" },
	{ "[hypervisor] with a name", "[hypervisor x]\n", 0, M_UNKNOWN,
	  "hv.conf:1: [hypervisor] takes no name\n" },
	{ "[hypervisor] twice", "[hypervisor]\non_idle = halt\n\n[hypervisor]\non_idle = halt\n", 0,
	  M_UNKNOWN, "hv.conf:4: [hypervisor] given twice (first at line 1)\n" },
	{ "CPU does not exist", PART("a", "0-1") PART("b", "5"), 0, M_NO_IOMMU,
	  "hv.conf:6: cpus: CPU 5 does not exist (this machine has 4)\n" },
	{ "CPU out of range", PART("a", "256"), 0, M_UNKNOWN,
	  "hv.conf:2: cpus: CPU 256 is out of range (CPU numbers go up to 255)\n" },
	{ "CPU far out of range", PART("a", "1-99999999999999999999") PART("b", "300-2"), 0,
	  M_UNKNOWN,
	  "hv.conf:2: cpus: CPU 99999999999999999999 is out of range (CPU numbers go up to 255)\n"
	  "hv.conf:6: cpus: CPU 300 is out of range (CPU numbers go up to 255)\n" },
	{ "long text is echoed in part, whole characters only",
	  PART("a", "0") "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijk\xc3\xa9\xc3\xa9 = 1\n", 0,
	  M_UNKNOWN,
	  "hv.conf:5: unknown key \"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijk\" "
	  "in [partition]\n" },
	{ "CPU in two partitions", PART("linux-a", "0-1") PART("linux-b", "1-2"), 0, M_UNKNOWN,
	  "hv.conf:6: cpus: CPU 1 is in both \"linux-a\" and \"linux-b\"\n" },
	{ "CPUs in three partitions", PART("a", "0-2") PART("b", "3") PART("c", "0-1,3"), 0,
	  M_UNKNOWN,
	  "hv.conf:10: cpus: CPUs 0-1 are in both \"a\" and \"c\"\n"
	  "hv.conf:10: cpus: CPU 3 is in both \"b\" and \"c\"\n" },
	{ "CPU listed twice", PART("a", "0-2,1"), 0, M_UNKNOWN,
	  "hv.conf:2: cpus: CPU 1 is listed twice\n" },
	{ "CPU range backwards", PART("a", "3-1"), 0, M_UNKNOWN,
	  "hv.conf:2: cpus: range 3-1 is backwards\n" },
	{ "CPU list syntax", PART("a", "0,,1") PART("b", "two") PART("c", "2-"), 0, M_UNKNOWN,
	  "hv.conf:2: cpus: \"0,,1\" is not a CPU list (like 0-3,5)\n"
	  "hv.conf:6: cpus: \"two\" is not a CPU list (like 0-3,5)\n"
	  "hv.conf:10: cpus: \"2-\" is not a CPU list (like 0-3,5)\n" },
	{ "too many CPUs", PART("a", "0-64"), 0, M_UNKNOWN,
	  "hv.conf:2: cpus: 65 CPUs, more than 64 in one partition\n" },
	{ "memory too large", "[partition a]\ncpus = 0\nmemory = 4G\nkernel = bzImage\n", 0,
	  M_NO_IOMMU, "hv.conf:3: memory: 4G is more than the 2G available\n" },
	{ "memory total too large",
	  "[partition a]\ncpus = 0\nmemory = 1G\nkernel = bzImage\n"
	  "[partition b]\ncpus = 1\nmemory = 1026M\nkernel = bzImage\n"
	  "[partition c]\ncpus = 2\nmemory = 2M\nkernel = bzImage\n",
	  0, M_NO_IOMMU,
	  "hv.conf:7: memory: 1026M brings the total to 2050M, more than the 2G available\n" },
	{ "memory misaligned", "[partition a]\ncpus = 0\nmemory = 3M\nkernel = bzImage\n", 0,
	  M_UNKNOWN, "hv.conf:3: memory: 3M is not a multiple of 2M\n" },
	{ "memory misaligned in K", "[partition a]\ncpus = 0\nmemory = 1025K\nkernel = k\n", 0,
	  M_UNKNOWN, "hv.conf:3: memory: 1025K is not a multiple of 2M\n" },
	{ "memory zero", "[partition a]\ncpus = 0\nmemory = 0M\nkernel = bzImage\n", 0, M_UNKNOWN,
	  "hv.conf:3: memory: must be more than 0\n" },
	{ "memory bad suffix",
	  "[partition a]\ncpus = 0\nmemory = 512MB\nkernel = bzImage\n"
	  "[partition b]\ncpus = 1\nmemory = 1.5G\nkernel = bzImage\n",
	  0, M_UNKNOWN,
	  "hv.conf:3: memory: \"512MB\" is not a size (like 512M or 2G)\n"
	  "hv.conf:7: memory: \"1.5G\" is not a size (like 512M or 2G)\n" },
	{ "memory without unit", "[partition a]\ncpus = 0\nmemory = 512\nkernel = bzImage\n", 0,
	  M_UNKNOWN, "hv.conf:3: memory: \"512\" needs a unit: K, M or G (like 512M)\n" },
	{ "memory absurd", "[partition a]\ncpus = 0\nmemory = 99999999999999G\nkernel = k\n", 0,
	  M_UNKNOWN, "hv.conf:3: memory: \"99999999999999G\" is too large\n" },
	{ "missing kernel image", "[partition a]\ncpus = 0\nmemory = 64M\nkernel = bzImage-6.1\n",
	  0, M_NO_IOMMU, "hv.conf:4: kernel: no module or file named \"bzImage-6.1\"\n" },
	{ "missing initrd image", PART("a", "0") "initrd = initrd-b\n", 0, M_NO_IOMMU,
	  "hv.conf:5: initrd: no module or file named \"initrd-b\"\n" },
	{ "empty image", PART("a", "0") "initrd = empty\n", 0, M_NO_IOMMU,
	  "hv.conf:5: initrd: \"empty\" is empty\n" },
	{ "kernel with a directory",
	  "[partition a]\ncpus = 0\nmemory = 2M\nkernel = /boot/vmlinuz\n", 0, M_UNKNOWN,
	  "hv.conf:4: kernel: \"/boot/vmlinuz\": give the module or file name, without a "
	  "directory\n" },
	{ "kernel two words", "[partition a]\ncpus = 0\nmemory = 2M\nkernel = bz Image\n", 0,
	  M_UNKNOWN, "hv.conf:4: kernel: \"bz Image\" is more than one name\n" },
	{ "kernel quoted", "[partition a]\ncpus = 0\nmemory = 2M\nkernel = \"bzImage\"\n", 0,
	  M_UNKNOWN, "hv.conf:4: kernel: write the name without quotes\n" },
	{ "kernel name too long",
	  "[partition a]\ncpus = 0\nmemory = 2M\nkernel = "
	  "k123456789012345678901234567890123456789012345678901234567890123\n",
	  0, M_UNKNOWN, "hv.conf:4: kernel: name longer than 63 characters\n" },
	{ "duplicate partition name", PART("a", "0") PART("a", "1"), 0, M_UNKNOWN,
	  "hv.conf:5: partition \"a\" is defined twice (first at line 1)\n" },
	{ "bad name characters", PART("Linux", "0") PART("a.b", "1"), 0, M_UNKNOWN,
	  "hv.conf:1: partition name \"Linux\": use only a-z 0-9 - _\n"
	  "hv.conf:5: partition name \"a.b\": use only a-z 0-9 - _\n" },
	{ "name too long", PART("abcdefghijklmnopq", "0"), 0, M_UNKNOWN,
	  "hv.conf:1: partition name \"abcdefghijklmnopq\" is longer than 16 characters\n" },
	{ "partition without a name", "[partition]\ncpus = 0\n", 0, M_UNKNOWN,
	  "hv.conf:1: [partition] needs a name: [partition NAME]\n" },
	{ "too many partitions",
	  PART("p0", "0") PART("p1", "1") PART("p2", "2") PART("p3", "3") PART("p4", "4")
		  PART("p5", "5") PART("p6", "6") PART("p7", "7") PART("p8", "8") PART("p9", "9")
			  PART("p10", "10") PART("p11", "11") PART("p12", "12") PART("p13", "13")
				  PART("p14", "14") PART("p15", "15") PART("p16", "16"),
	  0, M_UNKNOWN, "hv.conf:65: too many partitions (at most 16)\n" },
	{ "binary garbage",
	  "\x7f"
	  "ELF\x02\x01\x01\n",
	  0, M_UNKNOWN, "hv.conf:1: control character 0x7f at column 1\n" },
	{ "NUL byte", NUL_TEXT, sizeof(NUL_TEXT) - 1, M_UNKNOWN,
	  "hv.conf:5: NUL byte at column 4: this is not a text file\n" },
	{ "invalid UTF-8",
	  "# caf\xe9\n[partition a]\ncpus = 0\n# \xc0\xaf\n# \xed\xa0\x80\n"
	  "memory = 2M\nkernel = k\n",
	  0, M_UNKNOWN,
	  "hv.conf:1: invalid UTF-8 at column 6: save the file as UTF-8\n"
	  "hv.conf:4: invalid UTF-8 at column 3: save the file as UTF-8\n"
	  "hv.conf:5: invalid UTF-8 at column 3: save the file as UTF-8\n" },
	{ "control character", PART("a", "0") "cmdline = a\033[0m\n", 0, M_UNKNOWN,
	  "hv.conf:5: control character 0x1b at column 12\n" },
	{ "lone CR", PART("a", "0") "cmdline = a\rb\n", 0, M_UNKNOWN,
	  "hv.conf:5: control character 0xd at column 12\n" },
	{ "duplicate key", PART("a", "0") "memory = 128M\n", 0, M_UNKNOWN,
	  "hv.conf:5: memory: given twice (first at line 3)\n" },
	{ "key outside any section", "# hv.conf\nconsole = com1\n" PART("a", "0"), 0, M_UNKNOWN,
	  "hv.conf:2: outside any section: start with [hypervisor] or [partition NAME]\n" },
	{ "missing =", PART("a", "0") "initrd initrd-a\n", 0, M_UNKNOWN,
	  "hv.conf:5: expected key = value\n" },
	{ "missing = before a value with =", PART("a", "0") "cmdline console=ttyS0\n", 0, M_UNKNOWN,
	  "hv.conf:5: expected '=' after \"cmdline\"\n" },
	{ "key with a blank", PART("a", "0") "on crash = stop\n", 0, M_UNKNOWN,
	  "hv.conf:5: unknown key \"on crash\" in [partition]\n" },
	{ "nothing before =", PART("a", "0") "= 1\n", 0, M_UNKNOWN,
	  "hv.conf:5: expected key = value, found nothing before '='\n" },
	{ "value missing", "[partition a]\ncpus = 0\nmemory = 2M\nkernel =   # later\n", 0,
	  M_UNKNOWN, "hv.conf:4: kernel: value missing\n" },
	{ "missing cpus", "[partition a]\nmemory = 64M\nkernel = bzImage\n", 0, M_UNKNOWN,
	  "hv.conf:1: partition \"a\" has no cpus\n" },
	{ "missing memory", "[partition a]\ncpus = 0\nkernel = bzImage\n", 0, M_UNKNOWN,
	  "hv.conf:1: partition \"a\" has no memory\n" },
	{ "missing kernel", "[partition a]\ncpus = 0\nmemory = 64M\n\n[partition b]\n", 0,
	  M_UNKNOWN,
	  "hv.conf:1: partition \"a\" has no kernel\n"
	  "hv.conf:5: partition \"b\" has no cpus\n"
	  "hv.conf:5: partition \"b\" has no memory\n"
	  "hv.conf:5: partition \"b\" has no kernel\n" },
	{ "bad on_idle", "[hypervisor]\non_idle = sleep\n", 0, M_UNKNOWN,
	  "hv.conf:2: on_idle: \"sleep\" is not one of poweroff, halt or reboot\n" },
	{ "bad hypervisor console", "[hypervisor]\nconsole = com5\n", 0, M_UNKNOWN,
	  "hv.conf:2: console: \"com5\" is not one of com1, com2, com3, com4 or none\n" },
	{ "bad partition console", PART("a", "0") "console = com1\n", 0, M_UNKNOWN,
	  "hv.conf:5: console: \"com1\" is not one of vuart or none\n" },
	{ "bad on_crash and on_reboot", PART("a", "0") "on_crash = reboot\non_reboot = Stop\n", 0,
	  M_UNKNOWN,
	  "hv.conf:5: on_crash: \"reboot\" is not one of stop or restart\n"
	  "hv.conf:6: on_reboot: \"Stop\" is not one of restart or stop\n" },
	{ "bad manage and autostart", PART("a", "0") "manage = true\nautostart = 0\n", 0, M_UNKNOWN,
	  "hv.conf:5: manage: \"true\" is not one of no or yes\n"
	  "hv.conf:6: autostart: \"0\" is not one of no or yes\n" },
	{ "bad pci syntax",
	  PART("a", "0") "pci = 0000:00:03.0\n" PART("b", "1") "pci = 00:03\n" PART(
		  "c", "2") "pci = 00:03.0,\n",
	  0, M_UNKNOWN,
	  "hv.conf:5: pci: \"0000:00:03.0\" is not a PCI address BB:DD.F (like 00:03.0)\n"
	  "hv.conf:10: pci: \"00:03\" is not a PCI address BB:DD.F (like 00:03.0)\n"
	  "hv.conf:15: pci: \"\" is not a PCI address BB:DD.F (like 00:03.0)\n" },
	{ "pci numbers out of range",
	  PART("a", "0") "pci = 00:20.0\n" PART("b", "1") "pci = 00:1f.8\n", 0, M_UNKNOWN,
	  "hv.conf:5: pci: 00:20.0: device numbers go up to 1f\n"
	  "hv.conf:10: pci: 00:1f.8: function numbers go up to 7\n" },
	{ "pci without IOMMU", PART("a", "0") "pci = 00:03.0, 00:04.0\n", 0, M_NO_IOMMU,
	  "hv.conf:5: pci: needs an IOMMU, and this machine has none\n" },
	{ "pci device missing", PART("a", "0") "pci = 00:03.0, 01:00.1\n", 0, M_IOMMU,
	  "hv.conf:5: pci: no device 01:00.1 on this machine\n" },
	{ "pci listed twice", PART("a", "0") "pci = 00:03.0, 0:3.0\n", 0, M_UNKNOWN,
	  "hv.conf:5: pci: 00:03.0 is listed twice\n" },
	{ "pci in two partitions",
	  PART("a", "0") "pci = 00:03.0\n" PART("b", "1") "pci = 00:04.0,00:03.0\n", 0, M_UNKNOWN,
	  "hv.conf:10: pci: 00:03.0 is in both \"a\" and \"b\"\n" },
	{ "too many pci",
	  PART("a", "0") "pci = 0:0.0,0:1.0,0:2.0,0:3.0,0:4.0,0:5.0,0:6.0,"
			 "0:7.0,0:8.0,0:9.0,0:a.0,0:b.0,0:c.0,0:d.0,0:e.0,0:f.0,0:10.0\n",
	  0, M_UNKNOWN, "hv.conf:5: pci: more than 16 devices\n" },
	/* hyperthread siblings in two partitions, named at the later one's
	 * cpus line with the sibling and its partition */
	{ "siblings in two partitions", PART("a", "0") PART("b", "1"), 0, M_SMT,
	  "hv.conf:6: cpus: CPU 1 is a hyperthread sibling of CPU 0 of \"a\" "
	  "(allow_shared_cores = yes in [hypervisor] allows it)\n" },
	{ "siblings in three partitions", PART("a", "0") PART("b", "2") PART("c", "1,3"), 0, M_SMT,
	  "hv.conf:10: cpus: CPU 1 is a hyperthread sibling of CPU 0 of \"a\" "
	  "(allow_shared_cores = yes in [hypervisor] allows it)\n"
	  "hv.conf:10: cpus: CPU 3 is a hyperthread sibling of CPU 2 of \"b\" "
	  "(allow_shared_cores = yes in [hypervisor] allows it)\n" },
	/* a CPU given twice is not also its own sibling */
	{ "same CPU in two partitions with siblings", PART("a", "0") PART("b", "0"), 0, M_SMT,
	  "hv.conf:6: cpus: CPU 0 is in both \"a\" and \"b\"\n" },
	{ "allow_shared_cores = no",
	  "[hypervisor]\nallow_shared_cores = no\n" PART("a", "1") PART("b", "0"), 0, M_SMT,
	  "hv.conf:8: cpus: CPU 0 is a hyperthread sibling of CPU 1 of \"a\" "
	  "(allow_shared_cores = yes in [hypervisor] allows it)\n" },
	{ "allow_shared_cores not yes or no", "[hypervisor]\nallow_shared_cores = 1\n", 0,
	  M_UNKNOWN, "hv.conf:2: allow_shared_cores: \"1\" is not one of no or yes\n" },
	{ "CRLF line endings", "[partition a]\r\ncpus = 0\r\nmemory = 3M\r\nkernel = k\r\n", 0,
	  M_UNKNOWN, "hv.conf:3: memory: 3M is not a multiple of 2M\n" },
	{ "cmdline too long",
	  PART("a", "0") "cmdline = "
			 "0123456789012345678901234567890123456789012345678901234567890123456789"
			 "0123456789012345678901234567890123456789012345678901234567890123456789"
			 "0123456789012345678901234567890123456789012345678901234567890123456789"
			 "01234567890123456789012345678901234567890123456   # 256 bytes\n",
	  0, M_UNKNOWN, "hv.conf:5: cmdline: 257 bytes, more than 255\n" },
	{ "problems are reported per line, and parsing goes on",
	  "[hypervisor]\non_idle = never\n[partition a]\ncpus = 9\nmemory = 5M\nkernel = x\n"
	  "pci = 00:03.0\n",
	  0, M_NO_IOMMU,
	  "hv.conf:2: on_idle: \"never\" is not one of poweroff, halt or reboot\n"
	  "hv.conf:5: memory: 5M is not a multiple of 2M\n"
	  "hv.conf:4: cpus: CPU 9 does not exist (this machine has 4)\n"
	  "hv.conf:6: kernel: no module or file named \"x\"\n"
	  "hv.conf:7: pci: needs an IOMMU, and this machine has none\n" },
};

static void test_bad_configs(void **state)
{
	struct transcript t;
	int failures = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *bc = &bad_cases[i];
		size_t len = bc->len ? bc->len : strlen(bc->text);
		int n = load(bc->text, len, bc->machine, &t);

		if (n == 0 || strcmp(t.text, bc->expect) != 0) {
			fprintf(stderr, "case \"%s\": expected\n%sgot (%d)\n%s\n", bc->what,
				bc->expect, n, t.text);
			failures++;
		}
	}
	assert_true(ARRAY_SIZE(bad_cases) >= 25);
	assert_int_equal(failures, 0);
}

static void test_very_long_line(void **state)
{
	static char text[4 * CONFIG_LINE_MAX];
	struct transcript t;
	size_t len;

	(void)state;
	len = (size_t)snprintf(text, sizeof(text), PART("a", "0") "cmdline = ");
	memset(text + len, 'x', 2 * CONFIG_LINE_MAX);
	len += 2 * CONFIG_LINE_MAX;
	text[len++] = '\n';
	load(text, len, M_UNKNOWN, &t);
	assert_string_equal(t.text, "hv.conf:5: line longer than 1024 bytes\n");

	/* exactly CONFIG_LINE_MAX bytes is fine: a comment */
	memset(text, '#', CONFIG_LINE_MAX);
	memcpy(text + CONFIG_LINE_MAX, "\r\n", 2);
	assert_int_equal(load(text, CONFIG_LINE_MAX + 2, M_UNKNOWN, &t), 0);
}

/* Binary garbage never crashes, never reports unbounded lines. */
static void test_garbage_is_bounded(void **state)
{
	static char text[64 * 1024];
	struct transcript t;

	(void)state;
	for (int round = 0; round < 50; round++) {
		for (size_t i = 0; i < sizeof(text); i++) {
			text[i] = (char)(rnd() >> 56);
			if (round & 1 && !text[i])
				text[i] = '\n'; /* no NUL: the invalid-UTF-8 path */
		}
		assert_true(load(text, sizeof(text), M_NO_IOMMU, &t) > 0);
		assert_true(t.calls <= CONFIG_MAX_ERRORS + 1);
	}
}

static void test_error_cap(void **state)
{
	static char text[8192];
	struct transcript t;
	size_t len = 0;
	const char *last;

	(void)state;
	len += (size_t)snprintf(text + len, sizeof(text) - len, PART("a", "0"));
	for (int i = 0; i < 50; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "bad%d = 1\n", i);
	assert_int_equal(load(text, len, M_UNKNOWN, &t), CONFIG_MAX_ERRORS + 1);
	last = strstr(t.text, "hv.conf:37: ");
	assert_non_null(last);
	assert_string_equal(last, "hv.conf:37: too many problems; stopping here\n");
}

/* The SPEC.md 3 example resolves to its plan. */
static const char spec_example[] =
	"[hypervisor]\n"
	"console  = com1           # com1..com4 | none: the hypervisor's serial console\n"
	"on_idle  = poweroff       # when no partition is running: poweroff | halt | reboot\n"
	"\n"
	"[partition linux-a]\n"
	"cpus     = 0-1            # CPUs it owns; no CPU belongs to two partitions\n"
	"memory   = 512M           # RAM it owns, in multiples of 2M\n"
	"kernel   = bzImage        # module/file name: a Linux bzImage or a Multiboot1 ELF kernel\n"
	"initrd   = initrd-a       # optional\n"
	"cmdline  = console=ttyS0  # optional; the rest of the line\n"
	"console  = vuart          # vuart (default) | none\n"
	"pci      = 00:03.0        # optional: PCI devices it owns (BB:DD.F); needs an IOMMU\n"
	"on_crash = stop           # what a triple fault or fatal guest error does: stop | restart\n"
	"on_reboot = restart       # what a guest reboot request does: restart | stop\n"
	"manage   = no             # yes: this partition may manage the others through hvctl\n"
	"autostart = yes           # no: defined, but started only by hvctl or the console\n";

static void test_spec_example(void **state)
{
	const struct config_partition *p = &cfg.partitions[0];
	struct transcript t;
	char line[512];

	(void)state;
	assert_int_equal(load(spec_example, strlen(spec_example), M_IOMMU, &t), 0);
	assert_int_equal(cfg.hv.console, CONFIG_HV_CONSOLE_COM1);
	assert_int_equal(cfg.hv.on_idle, CONFIG_IDLE_POWEROFF);
	assert_int_equal(cfg.hv.line, 1);
	assert_int_equal(cfg.partition_count, 1);
	assert_string_equal(p->name, "linux-a");
	assert_int_equal(p->line, 5);
	assert_int_equal(p->cpu_count, 2);
	assert_true(config_cpu_isset(p, 0) && config_cpu_isset(p, 1));
	assert_false(config_cpu_isset(p, 2));
	assert_true(p->memory == 512 * MiB);
	assert_string_equal(p->kernel, "bzImage");
	assert_string_equal(p->initrd, "initrd-a");
	assert_string_equal(p->cmdline, "console=ttyS0");
	assert_int_equal(p->console, CONFIG_CONSOLE_VUART);
	assert_int_equal(p->pci_count, 1);
	assert_int_equal(p->pci[0].bus, 0);
	assert_int_equal(p->pci[0].dev, 3);
	assert_int_equal(p->pci[0].fn, 0);
	assert_int_equal(p->on_crash, CONFIG_ACTION_STOP);
	assert_int_equal(p->on_reboot, CONFIG_ACTION_RESTART);
	assert_int_equal(p->key_line[CONFIG_KEY_CPUS], 6);
	assert_int_equal(p->key_line[CONFIG_KEY_ON_REBOOT], 14);
	assert_int_equal(p->manage, 0);
	assert_int_equal(p->autostart, 1);
	assert_int_equal(p->key_line[CONFIG_KEY_AUTOSTART], 16);
	config_format_partition(line, sizeof(line), p);
	assert_string_equal(line, "linux-a: cpus 0-1, memory 512M, kernel bzImage, initrd "
				  "initrd-a, console vuart, pci 00:03.0, on_crash stop, "
				  "on_reboot restart");
}

/* SPEC 3: with no partition the hypervisor reports the machine and follows
 * on_idle, so an empty file is a valid configuration, not an error. */
static void test_empty_is_valid(void **state)
{
	static const char *const empties[] = {
		"",
		"\n",
		"\r\n\r\n",
		"# nothing yet\n\n   # indented comment\n",
		"\t \n",
		"\xef\xbb\xbf",
		"\xef\xbb\xbf# BOM, then a comment",
	};
	struct transcript t;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(empties); i++) {
		assert_int_equal(load(empties[i], strlen(empties[i]), M_NO_IOMMU, &t), 0);
		assert_int_equal(cfg.partition_count, 0);
		assert_int_equal(cfg.hv.line, 0);
		assert_int_equal(cfg.hv.console, CONFIG_HV_CONSOLE_COM1);
		assert_int_equal(cfg.hv.on_idle, CONFIG_IDLE_POWEROFF);
	}
}

static void test_defaults_and_choices(void **state)
{
	static const char text[] = "[partition b]\ncpus = 2-3\nmemory = 1G\nkernel = vmlinuz\n"
				   "[hypervisor]\nconsole = none\non_idle = halt\n"
				   "[partition a_1]\ncpus = 0\nmemory = 2048K\nkernel = bzImage\n"
				   "console = none\non_crash = restart\non_reboot = stop\n";
	struct transcript t;

	(void)state;
	assert_int_equal(load(text, strlen(text), M_NO_IOMMU, &t), 0);
	assert_int_equal(cfg.hv.console, CONFIG_HV_CONSOLE_NONE);
	assert_int_equal(cfg.hv.on_idle, CONFIG_IDLE_HALT);
	assert_int_equal(cfg.partition_count, 2);
	assert_string_equal(cfg.partitions[0].name, "b");
	assert_int_equal(cfg.partitions[0].console, CONFIG_CONSOLE_VUART);
	assert_int_equal(cfg.partitions[0].on_crash, CONFIG_ACTION_STOP);
	assert_int_equal(cfg.partitions[0].on_reboot, CONFIG_ACTION_RESTART);
	assert_string_equal(cfg.partitions[0].initrd, "");
	assert_string_equal(cfg.partitions[0].cmdline, "");
	assert_int_equal(cfg.partitions[0].pci_count, 0);
	assert_string_equal(cfg.partitions[1].name, "a_1");
	assert_true(cfg.partitions[1].memory == 2 * MiB);
	assert_int_equal(cfg.partitions[1].console, CONFIG_CONSOLE_NONE);
	assert_int_equal(cfg.partitions[1].on_crash, CONFIG_ACTION_RESTART);
	assert_int_equal(cfg.partitions[1].on_reboot, CONFIG_ACTION_STOP);
	assert_string_equal(config_hv_console_name(CONFIG_HV_CONSOLE_COM3), "com3");
	assert_string_equal(config_on_idle_name(CONFIG_IDLE_REBOOT), "reboot");
}

/* '#' after a blank starts a comment, inside a word it does not; cmdline is
 * the rest of the line, trimmed, verbatim. CRLF is accepted. */
static void test_cmdline_and_comments(void **state)
{
	static const char text[] =
		"[partition a]   # the first\r\n"
		"cpus = 0 - 1 , 3\r\n"
		"memory = 64m\r\n"
		"kernel = bz#Image\r\n"
		"cmdline =  root=/dev/vda1 quiet  a=\"x y\" b=#1   # ttyS0 later\r\n"
		"[partition b]\n"
		"cpus = 2\n"
		"memory = 2M\n"
		"kernel = k\n"
		"cmdline =\n"
		"[partition c]\n"
		"cpus=4\n"
		"memory=2M\n"
		"kernel=k\n"
		"cmdline=console=ttyS0 \xc3\xa9t\xc3\xa9\t";
	struct transcript t;
	char cpus[64];

	(void)state;
	assert_int_equal(load(text, strlen(text), M_UNKNOWN, &t), 0);
	assert_int_equal(cfg.partition_count, 3);
	config_format_cpus(cpus, sizeof(cpus), cfg.partitions[0].cpus);
	assert_string_equal(cpus, "0-1,3");
	assert_true(cfg.partitions[0].memory == 64 * MiB);
	assert_string_equal(cfg.partitions[0].kernel, "bz#Image");
	assert_string_equal(cfg.partitions[0].cmdline, "root=/dev/vda1 quiet  a=\"x y\" b=#1");
	assert_string_equal(cfg.partitions[1].cmdline, "");
	assert_int_equal(cfg.partitions[1].key_line[CONFIG_KEY_CMDLINE], 10);
	assert_string_equal(cfg.partitions[2].cmdline, "console=ttyS0 \xc3\xa9t\xc3\xa9");
}

/* The limits themselves are accepted. */
static void test_limits_accepted(void **state)
{
	static char text[16384];
	struct transcript t;
	size_t len = 0;

	(void)state;
	for (int i = 0; i < CONFIG_MAX_PARTITIONS; i++)
		len += (size_t)snprintf(
			text + len, sizeof(text) - len,
			"[partition abcdefghijklm-%02d]\ncpus = %d-%d\nmemory = 2M\n"
			"kernel = %063d\n",
			i, i < 3 ? i * 64 : 240 + i, i < 3 ? i * 64 + 63 : 240 + i, i);
	assert_true(len < sizeof(text));
	assert_int_equal(load(text, len, M_UNKNOWN, &t), 0);
	assert_int_equal(cfg.partition_count, CONFIG_MAX_PARTITIONS);
	assert_int_equal(cfg.partitions[2].cpu_count, CONFIG_MAX_PARTITION_CPUS);
	assert_true(config_cpu_isset(&cfg.partitions[2], 191));
	assert_true(config_cpu_isset(&cfg.partitions[15], 255));
	assert_int_equal(strlen(cfg.partitions[15].kernel), CONFIG_IMAGE_NAME_MAX - 1);

	len = (size_t)snprintf(
		text, sizeof(text),
		PART("a", "0") "pci = 0:0.0,0:1.0,0:2.0,0:3.0,0:4.0,0:5.0,"
			       "0:6.0,0:7.0,0:8.0,0:9.0,0:a.0,0:b.0,0:c.0,0:d.0,0:e.0,ff:1F.7\n"
			       "cmdline = %0255d\n",
		7);
	assert_int_equal(load(text, len, M_UNKNOWN, &t), 0);
	assert_int_equal(cfg.partitions[0].pci_count, CONFIG_MAX_PCI);
	assert_int_equal(cfg.partitions[0].pci[15].bus, 0xff);
	assert_int_equal(cfg.partitions[0].pci[15].dev, 0x1f);
	assert_int_equal(cfg.partitions[0].pci[15].fn, 7);
	assert_int_equal(strlen(cfg.partitions[0].cmdline), CONFIG_CMDLINE_MAX - 1);
}

/* Memory that exactly fits, files and devices that exist: no problem. */
static void test_fits_machine(void **state)
{
	static const char text[] =
		"[partition a]\ncpus = 0-1\nmemory = 1G\nkernel = bzImage\ninitrd = initrd-a\n"
		"pci = 00:03.0\n"
		"[partition b]\ncpus = 2-3\nmemory = 1G\nkernel = vmlinuz\npci = 00:04.0\n";
	struct transcript t;

	(void)state;
	assert_int_equal(load(text, strlen(text), M_IOMMU, &t), 0);
	assert_int_equal(cfg.partition_count, 2);
}

/* Whole cores per partition, or siblings apart with allow_shared_cores =
 * yes, or one partition on both threads of a core: no problem. */
static void test_shared_cores(void **state)
{
	static const char *const ok[] = {
		PART("a", "0-1") PART("b", "2-3"),
		PART("a", "0-3"),
		PART("a", "0") PART("b", "2"),
		"[hypervisor]\nallow_shared_cores = yes\n" PART("a", "0,2") PART("b", "1,3"),
	};
	static const char siblings[] = PART("a", "0") PART("b", "1");
	struct transcript t;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		assert_int_equal(load(ok[i], strlen(ok[i]), M_SMT, &t), 0);
	assert_int_equal(cfg.hv.allow_shared_cores, 1);
	/* the host tool cannot see siblings: no check there */
	assert_int_equal(load(siblings, strlen(siblings), M_NO_IOMMU, &t), 0);
}

static void test_format_helpers(void **state)
{
	char buf[64];
	u64 map[CONFIG_CPU_WORDS] = { 0 };
	u64 v;

	(void)state;
	config_format_size(buf, sizeof(buf), 2 * GiB);
	assert_string_equal(buf, "2G");
	config_format_size(buf, sizeof(buf), 1536 * MiB);
	assert_string_equal(buf, "1536M");
	config_format_size(buf, sizeof(buf), 1025 * KiB);
	assert_string_equal(buf, "1025K");
	config_format_size(buf, sizeof(buf), 7);
	assert_string_equal(buf, "7");
	config_format_size(buf, sizeof(buf), 0);
	assert_string_equal(buf, "0");

	config_format_cpus(buf, sizeof(buf), map);
	assert_string_equal(buf, "");
	map[0] = BIT(0) | BIT(1) | BIT(2) | BIT(5) | BIT(63);
	map[1] = BIT(0);
	map[3] = BIT(63);
	config_format_cpus(buf, sizeof(buf), map);
	assert_string_equal(buf, "0-2,5,63-64,255");
	assert_int_equal(config_format_cpus(buf, 4, map), 15);
	assert_string_equal(buf, "0-2");

	assert_true(config_parse_size("2G", 2, &v) && v == 2 * GiB);
	assert_true(config_parse_size("512m", 4, &v) && v == 512 * MiB);
	assert_true(config_parse_size("4096K", 5, &v) && v == 4 * MiB);
	assert_false(config_parse_size("2", 1, &v));
	assert_false(config_parse_size("G", 1, &v));
	assert_false(config_parse_size("2GB", 3, &v));
	assert_false(config_parse_size("2T", 2, &v));
	assert_false(config_parse_size("-2G", 3, &v));
	assert_false(config_parse_size("4194305G", 8, &v)); /* above 2^52 */
	assert_true(config_parse_size("4194304G", 8, &v) && v == CONFIG_SIZE_MAX);

	config_format_report(buf, sizeof(buf), 7, "cpus: x");
	assert_string_equal(buf, "hv.conf:7: cpus: x");
}

/* config_parse alone checks no machine; config_validate alone re-checks it. */
static void test_parse_then_validate(void **state)
{
	static const char text[] = PART("a", "0-7") "pci = 00:05.0\n";
	struct config_machine m;
	struct transcript t;

	(void)state;
	memset(&t, 0, sizeof(t));
	assert_int_equal(config_parse(&cfg, text, strlen(text), record, &t), 0);
	make_machine(M_IOMMU, &m);
	assert_int_equal(config_validate(&cfg, &m, record, &t), 2);
	assert_string_equal(t.text, "hv.conf:2: cpus: CPU 4 does not exist (this machine has 4)\n"
				    "hv.conf:5: pci: no device 00:05.0 on this machine\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_very_long_line),
		cmocka_unit_test(test_garbage_is_bounded),
		cmocka_unit_test(test_error_cap),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_empty_is_valid),
		cmocka_unit_test(test_defaults_and_choices),
		cmocka_unit_test(test_cmdline_and_comments),
		cmocka_unit_test(test_limits_accepted),
		cmocka_unit_test(test_fits_machine),
		cmocka_unit_test(test_shared_cores),
		cmocka_unit_test(test_format_helpers),
		cmocka_unit_test(test_parse_then_validate),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
