"""Management (SPEC 7, docs/control.md): hvctl in a Linux partition with
`manage = yes` lists, starts, stops (the ACPI power button, and by force),
restarts and inspects the others through its control device, under QEMU
(AMD-V with NPT) and Bochs (VT-x with EPT); a partition without it has no
control device, and hvctl says so; the console's `hv> ` prompt takes the
same commands. An untouched partition's heartbeat goes on without a gap.

One QEMU boot serves the test_qemu_* tests, in file order:

- mgmt: Linux, manage = yes, hvctl typed into its shell;
- lin: Linux, stopped gracefully (its acpid powers off on the button),
  restarted, and where hvctl is tried without the right to manage;
- pulse: Linux with a heartbeat, untouched;
- later: the heartbeat test guest, autostart = no: started, stopped by
  force, started again.

TESSERA_TIMEOUT_SCALE multiplies the timeouts.
"""
from __future__ import annotations

import json
import re
import subprocess
import time

import pytest
from harness import linux_guest as g
from harness.hv_console import BANNER, CONFIG_ACCEPTED, CONFIG_PROBLEM, CONFIG_REJECTED, HV_ERROR
from harness.tessera_vm import BUILD, ROOT, bochs, hv_elf

import test_linux_partitions as lp

BOOT_TIMEOUT = 300
STOP_TIMEOUT = 60      # the power button, then at most 30 s to the forced stop
HEARTBEAT_ELF = BUILD / "guests" / "heartbeat.elf"

QEMU_CONF = """\
# tests/linux/test_manage.py
[partition mgmt]
cpus    = 0
memory  = 320M
kernel  = vmlinuz
initrd  = initrd-test
cmdline = console=ttyS0
manage  = yes

[partition lin]
cpus    = 1
memory  = 256M
kernel  = vmlinuz
initrd  = initrd-test
cmdline = console=ttyS0

[partition pulse]
cpus    = 2
memory  = 256M
kernel  = vmlinuz
initrd  = initrd-test
cmdline = console=ttyS0

[partition later]
cpus      = 3
memory    = 16M
kernel    = heartbeat.elf
autostart = no
"""
LINUX = ("mgmt", "lin", "pulse")


def modules(conf, text: str) -> list:
    """hv.conf, the Linux images and the heartbeat guest."""
    linux_only = conf.with_name("linux-only.conf")
    linux_only.write_text(re.sub(r"(?m)^kernel\s*=\s*heartbeat\.elf$", "", text))
    files = [(conf, "hv.conf")] + lp.demo_modules(linux_only)[1:]
    return files + [(HEARTBEAT_ELF, "heartbeat.elf")]


@pytest.fixture(scope="module")
def mb(linux_images) -> lp.Boot:
    """The QEMU boot, every Linux shell answering, pulse's heartbeat on."""
    if not HEARTBEAT_ELF.exists():
        subprocess.run(["make", "-s", "guests"], cwd=ROOT, check=True, timeout=300)
    b = lp.launch_qemu("manage-qemu", QEMU_CONF, lambda conf: modules(conf, QEMU_CONF))
    m = b.m
    try:
        banner = m.wait_for(BANNER, 60, mark="banner")
        m.check(banner["vendor"] == "AMD-V with NPT", f"the banner says {banner['vendor']!r}")
        m.wait_for(CONFIG_ACCEPTED, 30, fail_on=(CONFIG_PROBLEM, CONFIG_REJECTED, HV_ERROR))
        m.wait_for(r"^hv: partition later: not started \(autostart = no\)$", 30)
        for name in LINUX:
            m.wait_for(g.check_done(name), BOOT_TIMEOUT, anywhere=True,
                       fail_on=lp.no_stop(*LINUX), mark=f"{name} checked")
        for name in LINUX:
            b.shells.ready(name)
        lp.start_heartbeat(b, "pulse")
        b.shells.focus("mgmt")
    except BaseException:
        b.close()
        raise
    yield b
    b.close()


def hvctl(b: lp.Boot, args: str, timeout: float = 60, where: str = "mgmt") -> tuple[int, list]:
    """hvctl ARGS in WHERE's shell: its exit status and its lines."""
    lines = b.shells.run(where, f"hvctl {args} 2>&1; echo HVCTL-RC=$?", timeout)
    rc = next((int(x[9:]) for x in lines if x.startswith("HVCTL-RC=")), None)
    b.m.check(rc is not None, f"hvctl {args}: no exit status in {lines!r}")
    return rc, [x for x in lines if not x.startswith("HVCTL-RC=")]


def listing(b: lp.Boot) -> dict[str, list[str]]:
    """hvctl list: NAME -> [STATE, CPUS, MEMORY, UPTIME, RESTARTS]."""
    rc, lines = hvctl(b, "list")
    b.m.check(rc == 0, f"hvctl list: status {rc}: {lines!r}")
    rows = {}
    for line in lines:
        words = line.split()
        b.m.check(len(words) == 6, f"hvctl list: a line not NAME STATE CPUS MEMORY UPTIME "
                                   f"RESTARTS: {line!r}")
        rows[words[0]] = words[1:]
    return rows


def test_qemu_list(mb):
    """list: every partition with its state, CPUs and memory; the one with
    autostart = no is stopped; --json parses and says the same."""
    mb.require()
    rows = listing(mb)
    want = {"mgmt": ["running", "0", "320M"], "lin": ["running", "1", "256M"],
            "pulse": ["running", "2", "256M"], "later": ["stopped", "3", "16M"]}
    got = {k: v[:3] for k, v in rows.items()}
    mb.m.check(got == want, f"hvctl list: {got}, expected {want}")
    rc, lines = hvctl(mb, "--json list")
    mb.m.check(rc == 0, f"hvctl --json list: status {rc}")
    doc = json.loads("".join(lines))
    states = {p["name"]: (p["state"], p["manage"], p["autostart"], p["self"])
              for p in doc["partitions"]}
    mb.m.check(states == {"mgmt": ("running", True, True, True),
                          "lin": ("running", False, True, False),
                          "pulse": ("running", False, True, False),
                          "later": ("stopped", False, False, False)},
               f"hvctl --json list: {states}")


def test_qemu_info(mb):
    """info: the version, the machine, the vendor path; --json too."""
    mb.require()
    rc, lines = hvctl(mb, "info")
    text = "\n".join(lines)
    mb.m.check(rc == 0 and "vendor path: AMD-V with NPT" in text and "4 CPUs" in text,
               f"hvctl info: status {rc}: {lines!r}")
    rc, lines = hvctl(mb, "--json info")
    doc = json.loads("".join(lines))
    mb.m.check(doc["vendor"] == "AMD-V" and doc["cpus"] == 4 and doc["partitions"] == 4,
               f"hvctl --json info: {doc}")


def test_qemu_errors(mb):
    """Unknown partitions and states: exit 1 with a message; usage: 2."""
    mb.require()
    for args, status, text in (("start nosuch", 1, "nosuch: no such partition"),
                               ("start pulse", 1, "pulse: it is running already"),
                               ("stop later", 1, "later: it is not running"),
                               ("stats", 2, "a partition name is needed"),
                               ("frobnicate", 2, "unknown command")):
        rc, lines = hvctl(mb, args)
        mb.m.check(rc == status and any(text in x for x in lines),
                   f"hvctl {args}: status {rc}, {lines!r}; expected {status} and {text!r}")


def test_qemu_start_console_stats_force_stop(mb):
    """start boots the autostart = no test guest; console shows its
    output; stats its exits; stop --force stops it at once."""
    mb.require()
    m = mb.m
    start = g.line_start(m)
    rc, lines = hvctl(mb, "start later")
    m.check(rc == 0 and lines == ["later started"], f"hvctl start later: {rc} {lines!r}")
    g.wait_from(m, start, r"^\[later\] HEARTBEAT 3$", 60, fail_on=lp.no_stop(*LINUX))
    m.check(listing(mb)["later"][0] == "running", "later is not listed running")
    rc, lines = hvctl(mb, "console later")
    m.check(rc == 0 and any(x.startswith("HEARTBEAT ") for x in lines),
            f"hvctl console later: {rc} {lines[-5:]!r}")
    rc, lines = hvctl(mb, "stats later")
    m.check(rc == 0 and lines and lines[0].startswith("later: running, uptime ")
            and any(x.startswith("exits: ") and "I/O " in x for x in lines),
            f"hvctl stats later: {rc} {lines!r}")
    rc, lines = hvctl(mb, "--json stats later")
    doc = json.loads("".join(lines))
    m.check(doc["exits"] and doc["console_bytes"] > 0, f"hvctl --json stats later: {doc}")
    stop = g.line_start(m)
    rc, lines = hvctl(mb, "stop later --force")
    m.check(rc == 0 and lines == ["later stopped"], f"hvctl stop --force later: {rc} {lines!r}")
    g.wait_from(m, stop, lp.g.part_stopped("later", r"stopped by request \(forced\)"), 10)
    m.check(listing(mb)["later"][0] == "stopped", "later is not listed stopped")


def test_qemu_graceful_stop_and_restart(mb):
    """stop of a Linux partition: the power button; its acpid powers it
    off (ACPI S5). restart boots it again, fresh."""
    mb.require()
    m = mb.m
    stop = g.line_start(m)
    rc, lines = hvctl(mb, "stop lin", STOP_TIMEOUT + 30)
    m.check(rc == 0 and lines == ["lin stopped"], f"hvctl stop lin: {rc} {lines!r}")
    g.wait_from(m, stop, g.part_stopped("lin", r"powered off \(ACPI S5\)"), 5)
    mb.stopped.add("lin")
    start = g.line_start(m)
    rc, lines = hvctl(mb, "restart lin", 60)
    m.check(rc == 0 and lines == ["lin restarted"], f"hvctl restart lin: {rc} {lines!r}")
    g.wait_from(m, start, g.check_done("lin"), BOOT_TIMEOUT, fail_on=lp.no_stop("mgmt", "pulse"))
    mb.stopped.discard("lin")
    rows = listing(mb)
    m.check(rows["lin"][0] == "running" and rows["lin"][4] == "1",
            f"after the restart hvctl list says lin {rows['lin']}")


def test_qemu_restart_running(mb):
    """restart --force of a running partition: stopped at once, started
    fresh (RAM zeroed, image reloaded): it boots again."""
    mb.require()
    m = mb.m
    start = g.line_start(m)
    rc, lines = hvctl(mb, "restart lin --force", 60)
    m.check(rc == 0 and lines == ["lin restarted"], f"hvctl restart --force lin: {rc} {lines!r}")
    g.wait_from(m, start, g.part_stopped("lin", r"stopped by request \(forced\)"), 10)
    g.wait_from(m, start, g.check_done("lin"), BOOT_TIMEOUT, fail_on=lp.no_stop("mgmt", "pulse"))
    mb.shells.ready("lin")


def test_qemu_without_manage(mb):
    """hvctl in lin (no manage = yes): no control device; it says so and
    exits 1; nothing changes."""
    mb.require()
    before = {k: v[:3] for k, v in listing(mb).items()}
    rc, lines = hvctl(mb, "stop pulse --force", where="lin")
    mb.m.check(rc == 1 and any("no control device here" in x for x in lines),
               f"hvctl in lin: {rc} {lines!r}")
    lspci = mb.shells.value("lin", "cat /sys/bus/pci/devices/*/vendor | grep -c 0x7e55")
    mb.m.check(lspci == "0", f"lin has {lspci} control devices")
    after = {k: v[:3] for k, v in listing(mb).items()}
    mb.m.check(after == before, f"hvctl list changed: {before} -> {after}")


def prompt(mb: lp.Boot, line: str, expect: str, timeout: float = 30) -> re.Match:
    """Ctrl-A ':' and LINE typed at the console's `hv> ` prompt; waits for
    EXPECT (a regex for a whole console line) after the echoed line."""
    m = mb.m
    start = g.line_start(m)
    mb.tty.type("\x01:")
    time.sleep(0.5)
    mb.tty.type_paced(line + "\r")
    echo = g.wait_from(m, start, rf"^hv> {re.escape(line)}$", timeout)
    return g.wait_from(m, echo.end(), expect, timeout)


def test_qemu_console_prompt(mb):
    """The console's command mode: Ctrl-A ':' opens `hv> `; list, start,
    stats, stop --force as hvctl's; backspace edits; the heartbeat that
    arrives while the prompt is open is kept and shown after it."""
    mb.require()
    m = mb.m
    prompt(mb, "list", r"^later +stopped +3 +16M +\d+s \d+$")
    start = g.line_start(m)
    prompt(mb, "start later", r"^later: starting$")
    g.wait_from(m, start, r"^\[later\] HEARTBEAT 3$", 60)
    prompt(mb, "stats later", r"^exits: .*I/O \d+.*$")
    start = g.line_start(m)
    prompt(mb, "stop later --force", r"^later: stopping$")
    g.wait_from(m, start, g.part_stopped("later", r"stopped by request \(forced\)"), 10)
    # backspace, and output held while the prompt is open
    start = g.line_start(m)
    mb.tty.type("\x01:")
    time.sleep(0.5)
    mb.tty.type_paced("infx\x7fo")
    time.sleep(4)  # pulse beats meanwhile: held
    held = m.transcript()[start:]
    m.check("TESSERA-BEAT" not in held, f"output went out while the prompt was open: {held!r}")
    mb.tty.type("\r")
    info = g.wait_from(m, start, r"^vendor path: AMD-V with NPT$", 30)
    g.wait_from(m, info.end(), r"^\[pulse\] TESSERA-BEAT \d+ [0-9.]+$", 10)
    mb.shells.focus("mgmt")


def test_qemu_restarts_itself(mb):
    """The managing partition restarts itself (--force): it stops, boots
    again fresh, and manages again."""
    mb.require()
    m = mb.m
    start = g.line_start(m)
    mb.shells.focus("mgmt")
    mb.shells.type("hvctl restart mgmt --force\n")
    g.wait_from(m, start, g.part_stopped("mgmt", r"stopped by request \(forced\)"), 30)
    g.wait_from(m, start, r"^hv: partition mgmt: restarting \(restart 1\)$", 30)
    g.wait_from(m, start, g.check_done("mgmt"), BOOT_TIMEOUT, fail_on=lp.no_stop("pulse"))
    mb.shells.ready("mgmt")
    rows = listing(mb)
    m.check(rows["mgmt"][0] == "running" and rows["mgmt"][4] == "1",
            f"after restarting itself, hvctl list says mgmt {rows['mgmt']}")


def test_qemu_heartbeat_unbroken(mb):
    """pulse, untouched, beat on through everything above without a gap."""
    mb.require()
    time.sleep(3)
    lp.beats_unbroken(mb, "pulse")


# -- Bochs: VT-x with EPT --------------------------------------------------------

BOCHS_MODEL = "corei7_skylake_x"
BOCHS_MEMORY_MIB = 768
BOCHS_TIMEOUT = 2400

BOCHS_CONF = """\
# tests/linux/test_manage.py, under Bochs: nothing is typed, mgmt runs
# /bin/manage-check (autorun=), which stops mgmt itself at the end
[partition mgmt]
cpus    = 0
memory  = 448M
kernel  = vmlinux
initrd  = initrd-test
cmdline = console=ttyS0 hostname=mgmt autorun=manage-check manage_guest=later
manage  = yes

[partition later]
cpus      = 1
memory    = 16M
kernel    = heartbeat.elf
autostart = no

[partition beat]
cpus    = 2
memory  = 16M
kernel  = heartbeat.elf
"""


def manage_steps(m, name: str = "mgmt") -> dict[str, tuple[int, list[str]]]:
    """What manage-check printed: STEP -> (status, its lines)."""
    lines: dict[str, list[str]] = {}
    status: dict[str, int] = {}
    for x in m.find_all(rf"^\[{name}\] MANAGE (?P<step>[a-z-]+)(?P<rest>(\| .*| rc=\d+))$"):
        if x["rest"].startswith("|"):
            lines.setdefault(x["step"], []).append(x["rest"][2:])
        else:
            status[x["step"]] = int(x["rest"][4:])
    return {k: (v, lines.get(k, [])) for k, v in status.items()}


@pytest.mark.slow
@pytest.mark.bochs
def test_bochs_vmx_manage(linux_vmlinux, partition_times):
    """Under Bochs corei7_skylake_x (VT-x with EPT), a Linux management
    partition (vmlinux, PVH) runs hvctl without anything typed: list shows
    the others and their states, --json parses, info names the vendor
    path, start boots the autostart = no test guest, console shows its
    output, stats its exits, restart --force boots it again, stop --force
    stops it, errors exit 1 and 2;
    then the partition stops itself gracefully (its own power button).
    The untouched heartbeat guest beats on without a gap."""
    t0 = time.monotonic()
    times: dict = {}
    if not HEARTBEAT_ELF.exists():
        subprocess.run(["make", "-s", "guests"], cwd=ROOT, check=True, timeout=300)
    workdir = lp.fresh_dir("manage-bochs-vmx")
    conf = workdir / "hv.conf"
    conf.write_text(BOCHS_CONF)
    files = [f"{path}:{name}" for path, name in modules(conf, BOCHS_CONF)]
    iso = workdir / "manage.iso"
    proc = subprocess.run([str(ROOT / "tools" / "mkiso.sh"), "-o", str(iso), "-k",
                           str(hv_elf()), "-t", "0", "-d", "0"] + files, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        pytest.fail(f"tools/mkiso.sh failed:\n{proc.stdout}{proc.stderr}")
    m = g.GuestMachine.adopt(bochs("manage-bochs-vmx", workdir, model=BOCHS_MODEL, cpus=3,
                                   memory_mib=BOCHS_MEMORY_MIB, cdrom=iso, ips=lp.BOCHS_IPS))
    try:
        m.start()
        banner = m.wait_for(BANNER, 300, mark="banner")
        m.check(banner["vendor"] == "VT-x with EPT",
                f"the banner says {banner['vendor']!r}, expected 'VT-x with EPT'")
        m.wait_for(CONFIG_ACCEPTED, 60, fail_on=(CONFIG_PROBLEM, CONFIG_REJECTED, HV_ERROR))
        m.wait_for(r"^\[mgmt\] MANAGE DONE$", BOCHS_TIMEOUT, anywhere=True,
                   fail_on=lp.no_stop("mgmt", "beat"), mark="done")
        m.wait_for(g.part_stopped("mgmt", r"powered off \(ACPI S5\)"), 300,
                   anywhere=True, fail_on=lp.no_stop("beat"), mark="self-stop")
        steps = manage_steps(m)
        problems = []

        def want(step: str, rc: int, text: str | None = None) -> list[str]:
            got = steps.get(step)
            if not got or got[0] != rc or (text and not any(text in x for x in got[1])):
                problems.append(f"{step}: {got!r}, expected status {rc}"
                                + (f" and {text!r}" if text else ""))
            return got[1] if got else []

        rows = {x.split()[0]: x.split()[1:] for x in want("list", 0) if x.split()}
        if {k: v[:3] for k, v in rows.items()} != {"mgmt": ["running", "0", "448M"],
                                                     "later": ["stopped", "1", "16M"],
                                                     "beat": ["running", "2", "16M"]}:
            problems.append(f"hvctl list: {rows}")
        try:
            doc = json.loads("".join(want("json-list", 0)))
            if [p["name"] for p in doc["partitions"]] != ["mgmt", "later", "beat"]:
                problems.append(f"hvctl --json list: {doc}")
        except ValueError as e:
            problems.append(f"hvctl --json list does not parse: {e}")
        want("info", 0, "vendor path: VT-x with EPT")
        want("start", 0, "later started")
        want("console", 0, "HEARTBEAT 1")
        want("stats", 0, "exits: ")
        want("restart", 0, "later restarted")
        want("stop-force", 0, "later stopped")
        after = {x.split()[0]: x.split()[1] for x in want("list-after", 0) if x.split()}
        if after.get("later") != "stopped":
            problems.append(f"after stop --force: {after}")
        want("unknown", 1, "no such partition")
        want("usage", 2, "a partition name is needed")
        stops = m.find_all(g.part_stopped("later", r"stopped by request \(forced\)"))
        m.check(len(stops) == 2, f"{len(stops)} 'partition later stopped' lines, expected 2 "
                                 "(restart --force, stop --force)")
        # the restart was a fresh boot: the guest counted its heartbeats from 1 again
        ones = m.find_all(r"^\[later\] HEARTBEAT 1$")
        m.check(len(ones) == 2, f"later's HEARTBEAT 1 seen {len(ones)} times, expected 2 "
                                "(its boot, its restart)")
        m.check(not problems, "; ".join(problems))
        beats = [int(x[1]) for x in m.find_all(r"^\[beat\] HEARTBEAT (\d+)$")]
        m.check(len(beats) > 10 and beats == list(range(1, len(beats) + 1)),
                f"beat's heartbeats not 1, 2, 3... ({len(beats)}): jumps "
                f"{[(a, b) for a, b in zip(beats, beats[1:]) if b != a + 1][:5]}")
    finally:
        times.update(m.marks)
        times["total"] = time.monotonic() - t0
        partition_times("test_bochs_vmx_manage", times)
        m.kill()
