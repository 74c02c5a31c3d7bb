"""Linux in partitions: Debian's stock kernel with the test initramfs
(docs/linux.md) in Tessera's partitions, under QEMU (AMD-V with NPT) and
Bochs (VT-x with EPT).

The tests type into the guests' shells through the hypervisor's console
(SPEC.md 4: the partition with the focus gets the input, Ctrl-A three times
moves the focus) and read each partition's `[NAME] ` lines. Boots are
few, since each costs seconds (QEMU) or minutes (Bochs):

- one QEMU boot of the demo configuration (the repository's hv.conf as it
  is, the test initramfs passed under the demo's module name) serves the
  tests test_qemu_* that come first in this file, in file order: what each
  guest sees, the console focus, the clock, the workload, the kernel log,
  a 256 KiB console flood, a reboot of one partition, and the power-off of
  all. Each of them needs only a booted machine, so any one of them can be
  run alone (-k); run together they share the boot, and a failed check
  leaves the machine running for the next test;
- one QEMU boot for crashes (on_crash = stop and restart);
- one Bochs boot (corei7_skylake_x: VT-x with EPT) of one two-CPU partition
  booting the uncompressed vmlinux through its PVH entry.

The end of the run prints each test's times. TESSERA_TIMEOUT_SCALE
multiplies the timeouts.
"""
from __future__ import annotations

import hashlib
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import linux_guest as g
import pytest
from harness.hv_console import BANNER, CONFIG_ACCEPTED, CONFIG_PROBLEM, CONFIG_REJECTED, HV_ERROR
from harness.tessera_vm import BUILD, ROOT, BootFailure, Machine, bochs, hv_elf, qemu

RUNS_DIR = BUILD / "test-runs" / "linux"
MEDIA_DIR = BUILD / "test-media"
DEMO_CONF = ROOT / "hv.conf"

# The demo's machine (SPEC.md 1, make demo).
QEMU_CPUS = 4
QEMU_MEMORY = "2G"

BOOT_TIMEOUT = 120        # hypervisor start to both READY lines: ~5-10 s here
COMMAND_TIMEOUT = 60      # a short command typed at a shell
WORKLOAD_TIMEOUT = 240
FLOOD_TIMEOUT = 600       # 256 KiB at COM1's 115200 baud: 23 s at least, 50-120 s here
SETTLE_UPTIME = 8.0       # guest seconds after which the clocksource is final
CLOCK_SLEEP = 5           # seconds the guest sleeps in the clock test
CLOCK_BOUNDS = (4.0, 8.0)  # what the guest's clock may advance meanwhile
CLOCK_SKEW = 1.5          # guest against host over the same interval, seconds
BEAT_PERIOD = 1           # seconds between a heartbeat's lines
BEAT_LOOP_WORK = 1.1      # ... and the loop's own work on top (forks under TCG)
BEAT_GAP_MAX = 4.0        # guest seconds between two heartbeats, at most

# Bochs (PLATFORMS.md): 10 M instructions per emulated second boots fastest.
BOCHS_MODEL = "corei7_skylake_x"
BOCHS_CPUS = 2
BOCHS_MEMORY_MIB = 1024
BOCHS_PART_MIB = 448
BOCHS_IPS = 10_000_000
BOCHS_TIMEOUT = 600
# The workload, smaller than QEMU's 8 chunks of 2 MiB (about 110 s of
# Bochs): a chunk of 1 MiB for each CPU.
BOCHS_WORKLOAD = (BOCHS_CPUS, 1)


# -- configurations ----------------------------------------------------------

@dataclass
class PartConf:
    """A [partition NAME] section as the tests need it."""
    name: str
    cpus: int
    mib: int
    keys: dict = field(default_factory=dict)


def _size_mib(text: str) -> int:
    units = {"K": 1 / 1024, "M": 1, "G": 1024}
    return int(int(text[:-1]) * units[text[-1].upper()])


def _cpu_count(text: str) -> int:
    n = 0
    for item in text.split(","):
        lo, _, hi = item.strip().partition("-")
        n += int(hi or lo) - int(lo) + 1
    return n


def parse_conf(text: str) -> list[PartConf]:
    """The partitions of an hv.conf, in order (SPEC.md 3)."""
    parts: list[PartConf] = []
    current = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("["):
            sec = re.fullmatch(r"\[partition\s+(\S+)\]", line)
            current = PartConf(sec[1], 0, 0) if sec else None
            if current:
                parts.append(current)
        elif current and "=" in line:
            key, _, value = line.partition("=")
            current.keys[key.strip()] = value.strip()
    for p in parts:
        p.cpus = _cpu_count(p.keys["cpus"])
        p.mib = _size_mib(p.keys["memory"])
    return parts


def rewrite_conf(text: str, changes: dict[str, dict[str, str]]) -> str:
    """TEXT with, in each [partition NAME] of CHANGES, the keys given set
    to the values given (comments kept; keys missing are added)."""
    out, section, pending = [], None, {}

    def flush():
        for k, v in pending.items():
            out.append(f"{k} = {v}")
    for raw in text.splitlines():
        sec = re.match(r"\s*\[partition\s+(\S+)\]", raw)
        if sec or re.match(r"\s*\[", raw):
            flush()
            section = sec[1] if sec else None
            pending = dict(changes.get(section, {}))
            out.append(raw)
            continue
        m = re.match(r"(\s*)([a-z_]+)(\s*=\s*)([^#]*?)(\s*#.*)?$", raw)
        if m and m[2] in pending:
            out.append(f"{m[1]}{m[2]}{m[3]}{pending.pop(m[2])}{m[5] or ''}")
            continue
        out.append(raw)
    flush()
    return "\n".join(out) + "\n"


def demo_modules(conf: Path) -> list[tuple[Path, str]]:
    """hv.conf and the images the demo configuration names, the test
    initramfs standing in for the demo's."""
    images = {"vmlinuz": g.KERNEL, "vmlinux": g.VMLINUX,
              "initrd-demo": g.INITRD_TEST, "initrd-test": g.INITRD_TEST}
    files = [(conf, "hv.conf")]
    for p in parse_conf(conf.read_text()):
        for key in ("kernel", "initrd"):
            name = p.keys.get(key)
            if name and all(n != name for _, n in files):
                files.append((images[name], name))
    return files


# -- one boot -----------------------------------------------------------------

def socket_path(workdir: Path) -> Path:
    """A Unix socket's path must fit in 108 bytes: in WORKDIR if it does."""
    path = workdir / "serial.sock"
    if len(str(path)) < 100:
        return path
    return Path(tempfile.mkdtemp(prefix="tessera-")) / "serial.sock"


def fresh_dir(name: str) -> Path:
    import shutil
    path = RUNS_DIR / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


def no_stop(*names: str) -> tuple[str, ...]:
    return (HV_ERROR,) + tuple(g.part_stopped(n) for n in names)


@dataclass
class Boot:
    """A running hypervisor with Linux partitions and their shells."""
    m: g.GuestMachine
    tty: object
    shells: g.PartitionShells
    parts: list[PartConf]
    beating: str | None = None      # the partition running the heartbeat
    stopped: set = field(default_factory=set)

    def part(self, name: str) -> PartConf:
        return next(p for p in self.parts if p.name == name)

    def running(self) -> list[PartConf]:
        return [p for p in self.parts if p.name not in self.stopped]

    def require(self) -> None:
        if not self.m.running():
            pytest.fail("the machine is no longer running (an earlier test ended it: "
                        f"see {self.m.console_path})")

    def close(self) -> None:
        self.m.kill()
        self.tty.close()


def launch_qemu(name: str, conf_text: str, modules=None) -> Boot:
    """Starts the hypervisor under QEMU (the demo's machine) with CONF_TEXT
    as hv.conf, its console on the serial socket. MODULES(conf) gives the
    boot modules (by default demo_modules: hv.conf and the images it names)."""
    workdir = fresh_dir(name)
    conf = workdir / "hv.conf"
    conf.write_text(conf_text)
    parts = parse_conf(conf_text)
    sock = socket_path(workdir)
    base = qemu(name, workdir, smp=QEMU_CPUS, memory=QEMU_MEMORY, kernel=hv_elf(),
                modules=(modules or demo_modules)(conf), serial_socket=sock)
    m = g.GuestMachine.adopt(base)
    m.start()
    try:
        tty = g.ConsoleSocket(sock, m.console_path)
    except OSError as e:
        m.fail(f"cannot connect to the serial socket {sock}: {e}")
    m.recorder = tty
    return Boot(m, tty, g.PartitionShells(m, tty, [p.name for p in parts]), parts)


def boot_qemu(name: str, conf_text: str, *, vendor: str = "AMD-V with NPT",
              timeout: float = BOOT_TIMEOUT, modules=None) -> Boot:
    """launch_qemu(), then waits until every partition's shell answers."""
    b = launch_qemu(name, conf_text, modules)
    try:
        start_up(b, vendor, timeout)
    except BaseException:
        b.close()
        raise
    return b


def start_up(b: Boot, vendor: str, timeout: float = BOOT_TIMEOUT) -> None:
    m = b.m
    banner = m.wait_for(BANNER, 60, mark="banner")
    m.check(banner["vendor"] == vendor,
            f"the banner says {banner['vendor']!r}, expected {vendor!r}")
    m.wait_for(CONFIG_ACCEPTED, 30, fail_on=(CONFIG_PROBLEM, CONFIG_REJECTED, HV_ERROR))
    names = [p.name for p in b.parts]
    for p in b.parts:
        m.wait_for(g.check_done(p.name), timeout, anywhere=True, fail_on=no_stop(*names),
                   mark=f"{p.name} checked")
    for p in b.parts:
        b.shells.ready(p.name)


@dataclass(frozen=True)
class KernelNoise:
    """Kernel log lines that an emulator's own defect causes, bare as much
    as in a partition: a block from a line matching FIRST to the next one
    matching LAST, whose lines matching the regexes BAD the kernel-log
    checks would count."""
    why: str
    first: str
    last: str
    bad: tuple


def strip_noise(log: list[str], noise: tuple = ()) -> list[str]:
    """LOG without the blocks NOISE describes."""
    kept, inside = [], None
    for line in log:
        if inside is None:
            inside = next((n for n in noise if re.search(n.first, line)), None)
            if inside is None:
                kept.append(line)
        elif re.search(inside.last, line):
            inside = None
    return kept


def boot_checks(b: Boot, p: PartConf, begin: int = 0, noise: tuple = ()) -> list[str]:
    """What is wrong in the check lines P's guest printed at boot (after
    offset BEGIN). Kernel log lines that NOISE explains are left to
    kernel_log_problems(), which sees the whole log."""
    text = b.m.transcript()[begin:]
    checks = g.parse_checks(text, p.name)
    problems = g.check_problems(checks, cpus=p.cpus, ram_mib=p.mib)
    shown = checks.get("dmesg_bad_line", [])
    if noise and checks.get("dmesg_bad") == str(len(shown)) and all(
            any(re.search(r, line) for n in noise for r in n.bad) for line in shown):
        problems = [x for x in problems if not x.startswith("dmesg_bad=")]
    try:
        mem = g.memtotal_problem(int(checks.get("memtotal_kb", "")), p.mib)
        if mem:
            problems.append(mem)
    except ValueError:
        pass  # check_problems says so
    if checks.get("cpu_hypervisor") != "1":
        problems.append(f"cpu_hypervisor={checks.get('cpu_hypervisor')}: CPUID does not "
                        "say a hypervisor runs")
    version = (g.LINUX_DIR / "version").read_text().strip()
    if checks.get("kernel") != version:
        problems.append(f"kernel={checks.get('kernel')}, build/linux/version says {version}")
    if checks.get("cmdline") != p.keys.get("cmdline"):
        problems.append(f"cmdline={checks.get('cmdline')!r}, configured "
                        f"{p.keys.get('cmdline')!r}")
    return [f"{p.name}: {x}" for x in problems]


def not_beat(line: str) -> bool:
    return not re.search(r"TESSERA-BEAT \d+ ", line)


def beats(m: Machine, name: str, start: int = 0, end: int | None = None) -> list[tuple]:
    """The heartbeats of partition NAME: (offset, number, guest uptime). A
    beat may end a line that began with something typed (the shell's echo);
    one that a kernel message cut in two is read whole (g.LineJoiner)."""
    beat = re.compile(r"TESSERA-BEAT (\d+) ([0-9.]+)$")
    return [(at, int(x[1]), float(x[2])) for at, text in g.partition_lines(m, name, start, end)
            if (x := beat.search(text))]


def start_heartbeat(b: Boot, name: str) -> None:
    """A background loop in NAME's shell: a numbered line with the uptime
    every second."""
    if b.beating == name:
        return
    b.shells.run(name, "(i=0; while :; do i=$((i + 1)); "
                       "echo \"TESSERA-BEAT $i $(cut -d' ' -f1 /proc/uptime)\"; "
                       f"sleep {BEAT_PERIOD}; done) & true")
    b.beating = name
    b.m.wait_for(rf"^\[{re.escape(name)}\] .*TESSERA-BEAT 2 ", 30, anywhere=True)


def beats_unbroken(b: Boot, name: str, start: int = 0) -> list[tuple]:
    """NAME's heartbeats from the first: numbered without a gap, each
    uptime later than the one before and not much later (a restart of the
    guest would start the uptime again, a lost line shows as a gap)."""
    seen = beats(b.m, name)
    nums = [n for _, n, _ in seen]
    jumps = [(x, y) for x, y in zip(seen, seen[1:]) if y[1] != x[1] + 1]
    if jumps or (nums and nums[0] != 1):
        # what the console had between, to say where the beat went
        at = (jumps[0][0][0], jumps[0][1][0]) if jumps else (0, seen[0][0])
        between = [x for x in b.m.transcript()[at[0]:at[1]].split("\n")
                   if x.startswith(f"[{name}] ") or x.startswith("hv: ")]
        b.m.check(False, f"partition {name}: heartbeats not numbered 1, 2, 3...: jumps "
                         f"{[(x[1], y[1]) for x, y in jumps][:5]}; its lines and the "
                         f"hypervisor's around the first: {between[-12:]!r}")
    ups = [u for _, _, u in seen]
    bad = [(x, y) for x, y in zip(ups, ups[1:]) if not 0 < y - x <= BEAT_GAP_MAX]
    b.m.check(not bad, f"partition {name}: heartbeat uptimes not steadily increasing: "
                       f"{bad[:5]}")
    return [x for x in seen if x[0] >= start]


# -- the demo configuration under QEMU: one boot for the tests test_qemu_* -------

@pytest.fixture(scope="module")
def demo(linux_images, partition_times) -> Boot:
    """The demo configuration booted under QEMU, both shells answering."""
    t0 = time.monotonic()
    b = boot_qemu("partitions-qemu-demo", DEMO_CONF.read_text())
    partition_times("QEMU demo boot, to both shells", {**b.m.marks,
                                                      "shells": time.monotonic() - t0})
    yield b
    b.close()


@pytest.fixture
def timer(request, partition_times):
    """Records the test's time (and steps) in the table at the end."""
    steps: dict = {}
    t0 = time.monotonic()
    yield steps
    steps["total"] = time.monotonic() - t0
    partition_times(request.node.name, steps)


def test_qemu_both_boot_to_user_space(demo, timer):
    """Both partitions of the demo configuration boot to user space at once;
    each guest's check lines show exactly its CPUs (nproc, the online
    list), its RAM (MemTotal 85-100 % of it), a real clocksource, a
    hypervisor in CPUID, its own command line, and a clean kernel log."""
    demo.require()
    m = demo.m
    for p in demo.parts:
        ready = m.find_all(g.ready(p.name))
        m.check(len(ready) == 1, f"partition {p.name}: {len(ready)} READY lines, expected 1")
        m.check(ready[0]["hostname"] == "tessera",
                f"partition {p.name}: banner names host {ready[0]['hostname']!r}")
    problems = [x for p in demo.parts for x in boot_checks(demo, p)]
    m.check(not problems, "the guests' checks: " + "; ".join(problems))
    timer.update({k: v for k, v in m.marks.items() if k.endswith("checked")})


def test_qemu_console_focus(demo, timer):
    """Ctrl-A three times moves the console's input to the next partition
    (`hv: console -> linux-b`): a command typed then runs in linux-b (its
    output has linux-b's prefix and linux-b's CPU count); three more move
    it on, back to linux-a here."""
    demo.require()
    m, sh = demo.m, demo.shells
    names = [p.name for p in demo.parts]
    sh.focus(names[0])
    order = names[1:] + names[:1]
    for want in order:
        got = sh.switch()
        m.check(got == want, f"Ctrl-A x3: the focus went to {got}, expected {want}")
        p = demo.part(want)
        start = g.line_start(m)
        sh.serial += 1
        tag = f"TESSERA-FOCUS-{sh.serial * 7}"
        sh.type(f"echo TESSERA-FOCUS-$(({sh.serial} * 7)) nproc=$(nproc)\n")
        line = g.wait_from(m, start, rf"^\[(?P<name>[a-z0-9_-]+)\] {tag} nproc=(?P<n>\d+)$",
                           COMMAND_TIMEOUT)
        m.check(line["name"] == want and int(line["n"]) == p.cpus,
                f"a command typed with the focus on {want} ran in {line['name']} "
                f"(nproc={line['n']}, {want} has {p.cpus})")
        others = [x for x in m.find_all(rf"^\[[a-z0-9_-]+\] {tag}", start)
                  if not x.group(0).startswith(f"[{want}] ")]
        m.check(not others, f"the command typed for {want} also ran elsewhere: "
                            f"{[x.group(0) for x in others]}")


TYPED_AT_ONCE = 900  # bytes of one command line sent without a pause


def test_qemu_typed_line_arrives_whole(demo, timer):
    """A long command line sent in one go (no pacing: QEMU's UART holds
    what the hypervisor has not read yet) reaches each shell byte for byte:
    console input waits in the partition's queue until the guest reads it,
    however late that is, instead of overrunning a 16-byte FIFO. The shell
    echoes it whole and md5sum in the guest agrees with the test's."""
    demo.require()
    m, sh = demo.m, demo.shells
    for p in demo.parts:
        sh.focus(p.name)
        sh.serial += 1
        n = sh.serial
        text = "".join(chr(ord("a") + (i * 7 + n) % 26) for i in range(TYPED_AT_ONCE))
        line = f"echo TS-B-$(({n} * 7)); echo {text} | md5sum; echo TS-E-$(({n} * 7))"
        sh.typed[n] = (p.name, line, g.line_start(m))
        demo.tty.type(line + "\n")
        got = sh.collect(p.name, n, COMMAND_TIMEOUT)
        want = hashlib.md5((text + "\n").encode()).hexdigest()
        m.check(any(x.startswith(want) for x in got),
                f"{p.name}: md5sum of the {TYPED_AT_ONCE} typed bytes printed {got}, "
                f"expected {want}")
        m.check(f"partition {p.name}: console input lost" not in m.complete(),
                f"{p.name}: the hypervisor dropped console input")


CLOCKSOURCE = "/sys/devices/system/clocksource/clocksource0"


def clocksource_problems(b: Boot, p: PartConf, timeout: float = 60,
                         command_timeout: float = COMMAND_TIMEOUT) -> list[str]:
    """What is wrong with the clocksource P's guest settles on: once its
    uptime is past SETTLE_UPTIME and it has left tsc-early (the TSC's
    clocksource until the kernel has checked it), it must be the TSC with
    one CPU or an invariant TSC, else the ACPI PM timer."""
    sh = b.shells
    deadline = time.monotonic() + timeout
    while True:
        out = sh.value(p.name, f"cut -d' ' -f1 /proc/uptime; cat {CLOCKSOURCE}/"
                               "current_clocksource", command_timeout).split()
        up, cs = float(out[0]), out[1]
        if (up >= SETTLE_UPTIME and cs != "tsc-early") or time.monotonic() > deadline:
            break
        time.sleep(max(1.0, min(SETTLE_UPTIME - up, 5.0)))
    invariant = sh.value(p.name, "grep -cw nonstop_tsc /proc/cpuinfo || true",
                         command_timeout) != "0"
    want = g.expected_clocksource(p.cpus, invariant)
    if cs == want:
        return []
    avail = sh.value(p.name, f"cat {CLOCKSOURCE}/available_clocksource", command_timeout)
    return [f"{p.name} ({p.cpus} CPUs, invariant TSC {invariant}): clocksource {cs!r} at "
            f"uptime {up:.1f} s, expected {want!r} (available: {avail})"]


def test_qemu_clocksource(demo, timer):
    """Once boot has settled, each guest runs on a real clocksource: the
    TSC with one CPU or an invariant TSC, else the ACPI PM timer; never
    jiffies."""
    demo.require()
    problems = [x for p in demo.running() for x in clocksource_problems(demo, p)]
    demo.m.check(not problems, "; ".join(problems))


def clock_run(b: Boot, names: list[str], timeout: float) -> dict:
    """In each partition NAMES at once: the guest's date and uptime, a
    sleep, the same again; the host notes when each line arrives (on the
    console connection, as it comes). Returns name -> ((host0, date0, up0),
    (host1, date1, up1))."""
    m, sh = b.m, b.shells
    seen = b.tty.watch(r"^\[(?P<name>[a-z0-9_-]+)\] TESSERA-CLOCK-(?P<k>[01]) "
                       r"(?P<date>\d+) (?P<up>[0-9.]+)$")
    try:
        jobs = {}
        for name in names:
            jobs[name] = sh.launch(name, "c() { echo \"TESSERA-CLOCK-$1 $(date +%s) "
                                        "$(cut -d' ' -f1 /proc/uptime)\"; }; "
                                        f"c 0; sleep {CLOCK_SLEEP}; c 1")
        for name, n in jobs.items():
            sh.collect(name, n, timeout)
    finally:
        b.tty.unwatch(seen)
    got = {(x["name"], int(x["k"])): (t, int(x["date"]), float(x["up"])) for t, x in seen}
    missing = [(n, k) for n in names for k in (0, 1) if (n, k) not in got]
    if missing:
        m.fail(f"the clock lines {missing} did not come")
    return {n: (got[(n, 0)], got[(n, 1)]) for n in names}


def clock_problems(results: dict, *, host_reference: bool) -> list[str]:
    problems = []
    lo, hi = CLOCK_BOUNDS
    for name, ((h0, d0, u0), (h1, d1, u1)) in results.items():
        date, up, host = d1 - d0, u1 - u0, h1 - h0
        if not lo <= date <= hi:
            problems.append(f"{name}: `date +%s` advanced {date} s over `sleep "
                            f"{CLOCK_SLEEP}`, expected {lo:.0f}-{hi:.0f}")
        if not lo <= up <= hi:
            problems.append(f"{name}: the uptime advanced {up:.2f} s over `sleep "
                            f"{CLOCK_SLEEP}`, expected {lo:.0f}-{hi:.0f}")
        if abs(date - up) > 1.5:
            problems.append(f"{name}: date advanced {date} s, the uptime {up:.2f} s")
        if host_reference and abs(up - host) > CLOCK_SKEW:
            problems.append(f"{name}: the guest's clock advanced {up:.2f} s while the "
                            f"host's advanced {host:.2f} s")
    return problems


def test_qemu_sleep_keeps_time(demo, timer):
    """`sleep 5` in each guest (both at once) lasts 4-8 s by the guest's own
    clocks (`date +%s` and the uptime) and within 1.5 s of what the host's
    clock measures over the same interval."""
    demo.require()
    names = [p.name for p in demo.running()]
    results = clock_run(demo, names, COMMAND_TIMEOUT)
    for name, ((h0, _, u0), (h1, _, u1)) in results.items():
        timer[f"{name} guest"] = u1 - u0
        timer[f"{name} host"] = h1 - h0
    problems = clock_problems(results, host_reference=True)
    demo.m.check(not problems, "; ".join(problems))


def run_workloads(b: Boot, names: list[str], timeout: float, timer: dict,
                  chunks: int = g.WORKLOAD_CHUNKS, mib: int = g.WORKLOAD_MIB) -> list[str]:
    """`workload CHUNKS MIB` in each partition NAMES at once; returns the
    problems."""
    sh = b.shells
    started = time.monotonic()
    jobs = {name: sh.launch(name, f"workload {chunks} {mib}") for name in names}
    problems = []
    want = g.workload_checksum(chunks, mib)
    for name, n in jobs.items():
        out = [x for x in sh.collect(name, n, timeout) if not_beat(x)]
        timer[f"{name} workload"] = time.monotonic() - started
        done = [d for d in (re.match(g.workload_done(), x) for x in out) if d]
        if not done:
            problems.append(f"{name}: no WORKLOAD DONE line: {out}")
            continue
        timer[f"{name} guest s"] = float(done[0]["seconds"])
        if done[0]["checksum"] != want:
            problems.append(f"{name}: workload checksum {done[0]['checksum']}, "
                            f"expected {want}")
        fails = [x for x in out if x.startswith("WORKLOAD FAIL")]
        if fails:
            problems.append(f"{name}: {fails}")
        starts = [x for x in out if x.startswith("WORKLOAD START")]
        cpus = b.part(name).cpus
        if not starts or f"cpus={cpus} " not in starts[0] + " ":
            problems.append(f"{name}: {starts}, expected cpus={cpus}")
    return problems


def test_qemu_workload(demo, timer):
    """The CPU-and-memory workload runs in both partitions at once, on all
    of each one's CPUs, and gives the checksum it gives bare."""
    demo.require()
    problems = run_workloads(demo, [p.name for p in demo.running()], WORKLOAD_TIMEOUT, timer)
    demo.m.check(not problems, "; ".join(problems))


def kernel_log_problems(b: Boot, names: list[str], noise: tuple = (),
                        timeout: float = COMMAND_TIMEOUT) -> list[str]:
    """The whole `dmesg`, grepped here, and `check` again (its dmesg_bad
    count): no line that is never normal, but for the blocks NOISE
    explains."""
    problems = []
    for name in names:
        log = [x for x in b.shells.run(name, "dmesg", timeout) if not_beat(x)]
        if len(log) < 50:
            problems.append(f"{name}: dmesg printed {len(log)} lines only")
        bad = g.dmesg_problems(strip_noise(log, noise))
        if bad:
            problems.append(f"{name}: the kernel log has {len(bad)} bad lines: "
                            + " | ".join(bad[:8]))
        explained = len(g.dmesg_problems(log)) - len(bad)
        out = b.shells.run(name, "check", timeout)
        checks = dict(x.split("=", 1) for x in out if "=" in x and not_beat(x))
        if checks.get("dmesg_bad") != str(explained):
            problems.append(f"{name}: check says dmesg_bad={checks.get('dmesg_bad')}"
                            + (f" ({explained} explained by emulator defects)"
                               if explained else ""))
    return problems


def test_qemu_kernel_log_clean(demo, timer):
    """After all that work, neither kernel has logged a warning, a BUG, an
    oops, a call trace or an unstable clocksource: `check`'s count and a
    grep here of the whole `dmesg`."""
    demo.require()
    problems = kernel_log_problems(demo, [p.name for p in demo.running()])
    demo.m.check(not problems, "; ".join(problems))


def test_qemu_console_flood(demo, timer):
    """A partition that prints 256 KiB to its console as fast as it can loses
    no byte: the lines rebuilt from the console have the MD5 the guest
    computes (and the one computed here), and meanwhile the other
    partition's heartbeat lines keep coming."""
    demo.require()
    m, sh = demo.m, demo.shells
    flooder, beater = demo.parts[0].name, demo.parts[-1].name
    start_heartbeat(demo, beater)
    want = hashlib.md5(g.flood_text().encode()).hexdigest()
    made = sh.run(flooder, g.flood_make_command() + f"; md5sum {g.FLOOD_FILE}; "
                  f"wc -c <{g.FLOOD_FILE}", COMMAND_TIMEOUT)
    guest_md5 = [x.split()[0] for x in made if x.endswith(g.FLOOD_FILE)]
    m.check(guest_md5 == [want] and str(g.FLOOD_LINES * g.FLOOD_WIDTH) in made,
            f"{flooder}: the flood file came out as {made}, expected MD5 {want}")

    t0 = time.monotonic()
    n = sh.launch(flooder, f"cat {g.FLOOD_FILE}")
    lines = sh.collect(flooder, n, FLOOD_TIMEOUT, slow=True)
    timer["flood"] = time.monotonic() - t0
    timer["KiB/s"] = g.FLOOD_LINES * g.FLOOD_WIDTH / 1024 / timer["flood"]
    text = "".join(x + "\n" for x in lines)
    got = hashlib.md5(text.encode()).hexdigest()
    if got != want:
        expect = g.flood_text().splitlines()
        first = next((i for i, (a, e) in enumerate(zip(lines, expect)) if a != e),
                     min(len(lines), len(expect)))
        m.check(False, f"{flooder}: the console carried {len(text)} bytes in {len(lines)} "
                       f"lines, MD5 {got}, expected {len(expect) * g.FLOOD_WIDTH} bytes, "
                       f"MD5 {want}; first difference at line {first}: "
                       f"{lines[first:first + 1]!r} against {expect[first:first + 1]!r}")

    # The other partition's heartbeat went on during the flood.
    during = beats(m, beater, *sh.span(n))
    timer["beats during"] = len(during)
    expected = max(1, int(timer["flood"] / (BEAT_PERIOD * BEAT_LOOP_WORK)) - 3)
    m.check(len(during) >= expected,
            f"{beater}: {len(during)} heartbeats during the {timer['flood']:.1f} s flood "
            f"of {flooder}, expected at least {expected}")
    beats_unbroken(demo, beater)


def test_qemu_reboot_one_partition(demo, timer):
    """`reboot` in linux-a restarts it alone: it boots again to READY with
    the same checks passing, while linux-b keeps running (its heartbeat
    goes on, numbered without a gap, its uptime never restarting) and
    answers commands after."""
    demo.require()
    m, sh = demo.m, demo.shells
    target, other = demo.parts[0], demo.parts[-1]
    start_heartbeat(demo, other.name)
    up_before = float(sh.value(other.name, "cut -d' ' -f1 /proc/uptime"))
    restarts = len(m.find_all(g.part_restarting(target.name)))
    start = g.line_start(m)
    t0 = time.monotonic()
    sh.focus(target.name)
    sh.type("reboot\n")
    g.wait_from(m, start, g.announced("REBOOT", target.name), 30, fail_on=no_stop(other.name))
    stop = g.wait_from(m, start, g.part_stopped(target.name), 30, fail_on=no_stop(other.name))
    m.check(stop["reason"] == "reboot (reset register)",
            f"{target.name} stopped: {stop['reason']!r}, expected 'reboot (reset register)'")
    again = g.wait_from(m, start, g.part_restarting(target.name), 30,
                        fail_on=no_stop(other.name))
    m.check(int(again["count"]) == restarts + 1,
            f"{target.name}: restart {again['count']}, expected {restarts + 1}")
    ready = g.wait_from(m, start, g.ready(target.name), BOOT_TIMEOUT,
                        fail_on=no_stop(other.name))
    timer["to READY"] = time.monotonic() - t0
    g.wait_from(m, ready.end(), g.check_done(target.name), 60, fail_on=no_stop(other.name))
    problems = boot_checks(demo, target, begin=stop.start())
    m.check(not problems, "after the reboot: " + "; ".join(problems))
    sh.ready(target.name)

    # linux-b was not touched.
    m.check(not m.find_all(g.ready(other.name), start),
            f"{other.name} booted again while {target.name} rebooted")
    during = beats_unbroken(demo, other.name, stop.start())
    during = [x for x in during if x[0] < ready.start()]
    timer["beats during"] = len(during)
    m.check(len(during) >= 1, f"{other.name}: no heartbeat while {target.name} restarted")
    up_after = float(sh.value(other.name, "cut -d' ' -f1 /proc/uptime"))
    m.check(up_after > up_before + timer["to READY"] - 2,
            f"{other.name}: uptime {up_before} before the reboot of {target.name}, "
            f"{up_after} after ({timer['to READY']:.1f} s later)")
    problems = kernel_log_problems(demo, [target.name])
    m.check(not problems, "after the reboot: " + "; ".join(problems))


def test_qemu_poweroff_all(demo, timer):
    """`poweroff` stops each partition (ACPI S5); the other keeps answering;
    once none runs the hypervisor powers the machine off and QEMU exits
    with status 0."""
    demo.require()
    m, sh = demo.m, demo.shells
    order = list(reversed(demo.running()))
    for i, p in enumerate(order):
        rest = [q.name for q in order[i + 1:]]
        start = g.line_start(m)
        sh.focus(p.name)
        sh.type("poweroff\n")
        g.wait_from(m, start, g.announced("POWEROFF", p.name), 30, fail_on=no_stop(*rest))
        stop = g.wait_from(m, start, g.part_stopped(p.name), 30, fail_on=no_stop(*rest))
        m.check(stop["reason"] == "powered off (ACPI S5)",
                f"{p.name} stopped: {stop['reason']!r}, expected 'powered off (ACPI S5)'")
        demo.stopped.add(p.name)
        if rest:
            m.check(not m.find_all(g.ON_IDLE_POWEROFF, start),
                    f"on_idle followed while {rest} still ran")
            for name in rest:
                out = sh.value(name, "nproc")
                m.check(out == str(demo.part(name).cpus), f"{name} answered {out!r}")
    m.wait_for(g.ON_IDLE_POWEROFF, 30, anywhere=True)
    status = m.wait_exit(30)
    timer["exit"] = m.elapsed()
    m.check(status == 0, f"QEMU exited with status {status} after poweroff, expected 0")


# -- crashes --------------------------------------------------------------------

def crash(b: Boot, name: str, other: str) -> re.Match:
    """Types `crash` in NAME's shell: the guest announces it, its kernel
    panics (sysrq) and the partition stops, "guest panicked"; OTHER must not
    stop meanwhile. Returns the stop line."""
    m, start = b.m, g.line_start(b.m)
    b.shells.focus(name)
    b.shells.type("crash\n")
    g.wait_from(m, start, g.announced("CRASH", name), 30, fail_on=no_stop(other))
    panic = g.wait_from(m, start, g.kernel_panic(name), 30, fail_on=no_stop(other))
    m.check("sysrq" in panic["why"].lower(), f"{name} panicked for another reason: {panic['why']}")
    stop = g.wait_from(m, start, g.part_stopped(name), 30, fail_on=no_stop(other))
    m.check(stop["reason"] == "guest panicked",
            f"{name} stopped: {stop['reason']!r}, expected 'guest panicked'")
    return stop


def test_qemu_crash_on_crash(linux_images, partition_times):
    """A kernel panic (`crash`) follows on_crash: linux-b (restart) boots
    again and passes its checks, linux-a (stop) stops and stays stopped,
    the other partition running on each time; then powering off the last
    one ends QEMU."""
    t0 = time.monotonic()
    times: dict = {}
    base = DEMO_CONF.read_text()
    parts = parse_conf(base)
    stopper, restarter = parts[0], parts[-1]
    conf = rewrite_conf(base, {stopper.name: {"on_crash": "stop"},
                               restarter.name: {"on_crash": "restart"}})
    b = boot_qemu("partitions-qemu-crash", conf)
    times["boot"] = time.monotonic() - t0
    m, sh = b.m, b.shells
    try:
        # on_crash = restart
        start = g.line_start(m)
        t1 = time.monotonic()
        stop = crash(b, restarter.name, stopper.name)
        g.wait_from(m, start, g.part_restarting(restarter.name), 30,
                    fail_on=no_stop(stopper.name))
        g.wait_from(m, start, g.check_done(restarter.name), BOOT_TIMEOUT,
                    fail_on=no_stop(stopper.name))
        times["restart to READY"] = time.monotonic() - t1
        problems = boot_checks(b, restarter, begin=stop.start())
        m.check(not problems, "after the restart: " + "; ".join(problems))
        sh.ready(restarter.name)
        m.check(sh.value(stopper.name, "nproc") == str(stopper.cpus),
                f"{stopper.name} did not answer after {restarter.name}'s crash")

        # on_crash = stop
        start = g.line_start(m)
        crash(b, stopper.name, restarter.name)
        m.check(sh.value(restarter.name, "nproc") == str(restarter.cpus),
                f"{restarter.name} did not answer after {stopper.name}'s crash")
        time.sleep(2)
        m.check(not m.find_all(g.part_restarting(stopper.name), start),
                f"{stopper.name} restarted with on_crash = stop")
        m.check(not m.find_all(g.ON_IDLE_POWEROFF),
                "on_idle followed while a partition still ran")

        # the last one powers off: the machine follows on_idle
        start = g.line_start(m)
        sh.focus(restarter.name)
        sh.type("poweroff\n")
        g.wait_from(m, start, g.part_stopped(restarter.name, r"powered off \(ACPI S5\)"), 30)
        g.wait_from(m, start, g.ON_IDLE_POWEROFF, 30)
        status = m.wait_exit(30)
        m.check(status == 0, f"QEMU exited with status {status}, expected 0")
    finally:
        times["total"] = time.monotonic() - t0
        partition_times("test_qemu_crash_on_crash", times)
        b.close()


# -- bad images -------------------------------------------------------------------

BAD_IMAGES_CONF = """\
# written by tests/linux/test_linux_partitions.py: a good Linux partition
# beside two whose kernels are broken
[hypervisor]
on_idle = poweroff

[partition good]
cpus = 0
memory = 384M
kernel = vmlinuz
initrd = initrd-test
cmdline = console=ttyS0,115200

[partition truncated]
cpus = 1
memory = 64M
kernel = truncated
cmdline = console=ttyS0,115200

[partition oldproto]
cpus = 2
memory = 64M
kernel = oldproto
cmdline = console=ttyS0,115200
"""
TRUNCATED_BYTES = 1 << 20
SETUP_VERSION_OFFSET = 0x206   # the boot protocol's version (Linux boot protocol)
OLD_PROTOCOL = 0x0200


def test_qemu_bad_images_stop_only_their_partition(linux_images, partition_times):
    """A truncated bzImage and one whose setup header states boot protocol
    2.00 are refused with a line that says what is wrong with each, and
    only their partitions stop ("bad kernel image"); the good partition
    boots Linux to user space with clean checks, and on_idle does not
    follow while it runs."""
    t0 = time.monotonic()
    workdir = fresh_dir("partitions-qemu-bad-images")
    conf = workdir / "hv.conf"
    conf.write_text(BAD_IMAGES_CONF)
    image = g.KERNEL.read_bytes()
    truncated = workdir / "truncated"
    truncated.write_bytes(image[:TRUNCATED_BYTES])
    old = bytearray(image)
    old[SETUP_VERSION_OFFSET:SETUP_VERSION_OFFSET + 2] = OLD_PROTOCOL.to_bytes(2, "little")
    oldproto = workdir / "oldproto"
    oldproto.write_bytes(bytes(old))
    modules = [(conf, "hv.conf"), (g.KERNEL, "vmlinuz"), (g.INITRD_TEST, "initrd-test"),
               (truncated, "truncated"), (oldproto, "oldproto")]
    base = qemu("partitions-qemu-bad-images", workdir, smp=QEMU_CPUS, memory=QEMU_MEMORY,
                kernel=hv_elf(), modules=modules)
    m = g.GuestMachine.adopt(base)
    m.start()
    try:
        m.wait_for(BANNER, 60, mark="banner")
        m.wait_for(CONFIG_ACCEPTED, 30, fail_on=(CONFIG_PROBLEM, CONFIG_REJECTED))
        refused = {
            "truncated": r"the file is truncated: .*",
            "oldproto": r"its boot protocol 2\.00 is too old: 2\.12 or later is needed",
        }
        for name, why in refused.items():
            line = m.wait_for(rf"^hv: error: partition {name}: kernel {name}: (?P<why>.*)$",
                              30, anywhere=True)
            m.check(re.fullmatch(why, line["why"]) is not None,
                    f"partition {name}: refused with {line['why']!r}, expected /{why}/")
            stop = m.wait_for(g.part_stopped(name), 30, anywhere=True)
            m.check(stop["reason"] == "bad kernel image",
                    f"partition {name} stopped: {stop['reason']!r}, expected 'bad kernel image'")
        m.check(not m.find_all(r"^hv: partition (truncated|oldproto): starting$"),
                "a partition with a bad kernel image started")
        m.wait_for(g.check_done("good"), BOOT_TIMEOUT, anywhere=True,
                   fail_on=(g.part_stopped("good"),), mark="good checked")
        text = m.transcript()
        problems = g.check_problems(g.parse_checks(text, "good"), cpus=1, ram_mib=384)
        m.check(not problems, "partition good: " + "; ".join(problems))
        m.check(not m.find_all(g.ON_IDLE_POWEROFF), "on_idle followed while good ran")
    finally:
        m.kill()
        partition_times("test_qemu_bad_images_stop_only_their_partition",
                        {**m.marks, "total": time.monotonic() - t0})


# -- Bochs: VT-x with EPT -------------------------------------------------------

BOCHS_CONF = f"""\
# written by tests/linux/test_linux_partitions.py: one Linux partition on
# every CPU of a {BOCHS_CPUS}-CPU Bochs, booting the uncompressed kernel
# through its PVH entry
[hypervisor]
on_idle = poweroff

[partition linux-vmx]
cpus = 0-{BOCHS_CPUS - 1}
memory = {BOCHS_PART_MIB}M
kernel = vmlinux
initrd = initrd-test
cmdline = console=ttyS0,115200
"""


def bochs_iso(conf: Path) -> Path:
    """A GRUB ISO with the hypervisor, CONF and the images it names (made
    once for each set of inputs)."""
    files = [f"{path}:{name}" for path, name in demo_modules(conf)]
    key = hashlib.sha1(repr([hv_elf().stat().st_mtime_ns, conf.read_text(),
                             [(f, Path(f.split(':')[0]).stat().st_mtime_ns)
                              for f in files]]).encode()).hexdigest()[:10]
    out = MEDIA_DIR / f"linux-part-{key}.iso"
    if not out.exists():
        MEDIA_DIR.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([str(ROOT / "tools" / "mkiso.sh"), "-o", str(out), "-k",
                               str(hv_elf()), "-t", "0", "-d", "0"] + files, cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            pytest.fail(f"tools/mkiso.sh failed:\n{proc.stdout}{proc.stderr}")
    return out


@pytest.mark.slow
@pytest.mark.bochs
def test_bochs_vmx_linux(linux_vmlinux, partition_times):
    """Under Bochs corei7_skylake_x (VT-x with EPT), one partition with two
    vCPUs, on both of the machine's CPUs, boots Debian's kernel (vmlinux,
    through its PVH entry) to user space and passes the same checks as
    under QEMU: its CPUs and RAM, a real clocksource, `sleep` by the
    guest's clocks (Bochs's emulated time is not the host's: no host
    comparison), a clean kernel log (bare Bochs's XSAVE warning included:
    the partition's CPUID leaf 0xD is the hypervisor's, consistent), the
    workload's checksum (a smaller workload: a 1 MiB chunk for each CPU);
    then `poweroff` stops it and the hypervisor follows on_idle. Every
    check runs, and the test fails at the end with all that was wrong."""
    t0 = time.monotonic()
    times: dict = {}
    problems: list[str] = []
    workdir = fresh_dir("partitions-bochs-vmx")
    conf = workdir / "hv.conf"
    conf.write_text(BOCHS_CONF)
    (part,) = parse_conf(BOCHS_CONF)
    iso = bochs_iso(conf)
    times["iso"] = time.monotonic() - t0
    # Slow typing (linux_guest.PtyConsole), slower after a garbled line.
    console = g.PtyConsole(workdir / "console.txt", burst=4, gap=0.25)
    base = bochs("partitions-bochs-vmx", workdir, model=BOCHS_MODEL, cpus=BOCHS_CPUS,
                 memory_mib=BOCHS_MEMORY_MIB, cdrom=iso, ips=BOCHS_IPS,
                 serial_tty=console.slave_path)
    m = g.GuestMachine.adopt(base)
    m.recorder = console
    # Bochs's UART has no flow control, and the guest's timers run slow while
    # it trusts the TSC frequency Bochs's CPUID gives: typed bytes may be lost
    # (linux_guest.PtyConsole); a line that arrives garbled is typed again.
    b = Boot(m, console, g.PartitionShells(m, console, [part.name], retries=3,
                                           echo_timeout=60), [part])
    sh = b.shells
    try:
        m.start()
        banner = m.wait_for(BANNER, 300, mark="banner")
        if banner["vendor"] != "VT-x with EPT":
            problems.append(f"the banner says {banner['vendor']!r}, expected 'VT-x with EPT'")
        m.wait_for(CONFIG_ACCEPTED, 60, fail_on=(CONFIG_PROBLEM, CONFIG_REJECTED, HV_ERROR))
        m.wait_for(g.ready(part.name), BOCHS_TIMEOUT, fail_on=no_stop(part.name),
                   mark="ready")
        m.wait_for(g.check_done(part.name), 120, fail_on=no_stop(part.name), mark="checked")
        problems += boot_checks(b, part)
        sh.ready(part.name, timeout=300)
        sh.run(part.name, g.KEEPALIVE, 300)
        console.burst, console.gap = g.TYPE_BURST, g.TYPE_GAP
        times["shell"] = m.elapsed()

        problems += clocksource_problems(b, part, timeout=180, command_timeout=120)

        t1 = time.monotonic()
        results = clock_run(b, [part.name], 300)
        times["sleep 5"] = time.monotonic() - t1
        (_, _, u0), (_, _, u1) = results[part.name]
        times["guest s"] = u1 - u0
        problems += clock_problems(results, host_reference=False)

        t1 = time.monotonic()
        problems += run_workloads(b, [part.name], BOCHS_TIMEOUT, times, *BOCHS_WORKLOAD)
        times["workload"] = time.monotonic() - t1
        problems += kernel_log_problems(b, [part.name], timeout=300)

        start = g.line_start(m)
        sh.type("poweroff\n")
        stop = g.wait_from(m, start, g.part_stopped(part.name), 120)
        if stop["reason"] != "powered off (ACPI S5)":
            problems.append(f"{part.name} stopped: {stop['reason']!r}, expected "
                            "'powered off (ACPI S5)'")
        g.wait_from(m, start, g.ON_IDLE_POWEROFF, 60)
        times["on_idle"] = m.elapsed()
        m.check(not problems, "; ".join(problems))
    except BootFailure as e:
        if problems and not str(e).startswith("; ".join(problems)):
            raise BootFailure("before that: " + "; ".join(problems) + "\n" + str(e)) from None
        raise
    finally:
        times.update(m.marks)
        times["total"] = time.monotonic() - t0
        times["lines typed again"] = sh.retried
        partition_times("test_bochs_vmx_linux", times)
        b.close()
