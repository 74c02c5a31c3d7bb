"""Runs each test guest bare under QEMU (Multiboot1 through -kernel) and
checks its verdict, so that the guests are known good before the system
tests use them inside partitions. A few also run bare under Bochs (GRUB
`multiboot` from an ISO), on an Intel and an AMD model (marked bochs, slow).

Every run must print exactly one `VERDICT NAME: PASS|FAIL ...` line (none
for triplefault) and leave QEMU through isa-debug-exit with the matching
status: (0 << 1) | 1 = 1 for PASS, (1 << 1) | 1 = 3 for FAIL. The FAIL
cases show that a check can fail. The guests are built with `make guests`
when the session starts. TESSERA_TIMEOUT_SCALE multiplies the timeouts.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GUESTS = ROOT / "build" / "guests"
QEMU = "qemu-system-x86_64"
BOCHS = "bochs-bin"
BOCHS_RUNS = GUESTS / "bochs-runs"
TIMEOUT_SCALE = float(os.environ.get("TESSERA_TIMEOUT_SCALE", "1"))

EXIT_PASS = (0 << 1) | 1  # isa-debug-exit: (value << 1) | 1
EXIT_FAIL = (1 << 1) | 1
# QEMU's own exit status after a triple fault with -no-reboot (a shutdown)
EXIT_SHUTDOWN = 0

VERDICT = re.compile(r"VERDICT (\S+): (PASS|FAIL)(?: (.*))?$", re.M)


@dataclass
class Run:
    name: str
    returncode: int
    console: str

    def verdicts(self) -> list[tuple[str, str, str]]:
        return [(m[0], m[1], m[2].strip()) for m in VERDICT.findall(self.console)]

    def verdict(self) -> tuple[str, str]:
        """The one verdict line: (PASS|FAIL, details)."""
        found = self.verdicts()
        assert len(found) == 1, f"want exactly one verdict line\n{self}"
        name, result, details = found[0]
        assert name == self.name, f"verdict names {name}\n{self}"
        return result, details

    def __str__(self) -> str:
        return f"--- {self.name}: exit status {self.returncode}, console:\n{self.console}"


@pytest.fixture(scope="session", autouse=True)
def guests_built():
    proc = subprocess.run(["make", "-s", "guests"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, f"make guests failed:\n{proc.stdout}{proc.stderr}"


def run_guest(name: str, append: str = "", *, smp: int = 1, mem: str = "64M",
              timeout: float = 30, initrd: list[Path] = (), extra: list[str] = ()) -> Run:
    kernel = GUESTS / f"{name}.elf"
    cmd = [QEMU, "-M", "q35", "-cpu", "EPYC", "-smp", str(smp), "-m", mem,
           "-display", "none", "-monitor", "none", "-serial", "stdio", "-nic", "none",
           "-no-reboot", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-kernel", str(kernel), "-append", append, *extra]
    if initrd:  # Multiboot modules
        cmd += ["-initrd", ",".join(str(p) for p in initrd)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout * TIMEOUT_SCALE)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        pytest.fail(f"{name} did not finish in {timeout * TIMEOUT_SCALE:.0f} s:\n{out}")
    console = proc.stdout.decode(errors="replace").replace("\r\n", "\n")
    run = Run(name, proc.returncode, console)
    assert f"GUEST {name}: start" in console, f"the guest did not start\n{run}"
    return run


def expect(run: Run, result: str, pattern: str = "") -> str:
    """Checks the verdict and the exit status; returns the details."""
    got, details = run.verdict()
    assert got == result, f"want {result}\n{run}"
    assert run.returncode == (EXIT_PASS if result == "PASS" else EXIT_FAIL), str(run)
    if pattern:
        assert re.search(pattern, details), f"details do not match {pattern!r}\n{run}"
    return details


# --- cpuid ---

def test_cpuid_counts_cpus():
    details = expect(run_guest("cpuid", "cpus=2", smp=2), "PASS", r"cpus=2\b")
    assert "vendor=AuthenticAMD" in details


def test_cpuid_wrong_count_fails():
    expect(run_guest("cpuid", "cpus=3", smp=2), "FAIL", r"says 2 CPUs.*cpus=3")


def test_cpuid_expect_hv_fails_bare():
    # bare QEMU's TCG signature is not TesseraHV (and SVM is visible)
    expect(run_guest("cpuid", "expect_hv=1"), "FAIL", r"signature|hypervisor bit")


# --- memory ---

def test_memory_all():
    expect(run_guest("memory", "mem=64M", mem="64M"), "PASS", r"mem=67108864 .*checked=")


def test_memory_capped():
    details = expect(run_guest("memory", "mem=128M check=8M", mem="128M"), "PASS")
    assert "checked=8388608 " in details


def test_memory_above_4g():
    # q35 puts RAM above 2 GiB at 4 GiB: the top half of check= goes through
    # the PAE window
    run = run_guest("memory", "mem=3G check=8M", mem="3G")
    expect(run, "PASS", r"mem=3221225472 ")
    assert re.search(r"will check \[0x13f[0-9a-f]+-0x140000000\)", run.console), str(run)


def test_memory_wrong_size_fails():
    expect(run_guest("memory", "mem=32M check=1M", mem="64M"), "FAIL", r"mem=33554432")


# --- smp ---

@pytest.mark.parametrize("cpus", [1, 2, 4])
def test_smp_starts_all(cpus):
    ids = ",".join(str(i) for i in range(cpus))
    expect(run_guest("smp", f"cpus={cpus}", smp=cpus), "PASS", rf"cpus={cpus} ids={ids}$")


def test_smp_wrong_count_fails():
    expect(run_guest("smp", "cpus=4", smp=2), "FAIL", r"CPUID says 2 CPUs")


# --- policy ---

def test_policy_bare():
    details = expect(run_guest("policy"), "PASS")
    for port in ("0x110", "0x2f0", "0x6f0"):
        assert f"port:{port}=ones" in details
    # the #GP handler skipped the faulting WRMSR and the guest went on
    assert "wrmsr:0x6e1=#GP" in details


def test_policy_claimed_port_fails():
    # COM1 is there: its receive buffer does not read all-ones
    expect(run_guest("policy", "ports=0x3f8"), "FAIL", r"port 0x3f8 reads")


# --- marker, scanner ---

def test_marker_places_and_beats():
    run = run_guest("marker", "marker=0x5eed1234 count=2", mem="64M")
    expect(run, "PASS", r"placed=\d+ every=1048576 marker=5eed1234")
    assert re.search(r"MARKER placed", run.console), str(run)
    assert re.findall(r"^HEARTBEAT (\d+)$", run.console, re.M) == ["1", "2"], str(run)


def test_marker_needs_value():
    expect(run_guest("marker", "count=1"), "FAIL", r"marker=HEX")


def test_scanner_clean():
    expect(run_guest("scanner", "marker=0x5eed1234"), "PASS",
           r"^marker not found, scanned \d+ addresses, \d+ outside RAM read all-ones")


def test_scanner_finds_planted_marker():
    expect(run_guest("scanner", "marker=0x5eed1234 plant=0x800000"), "FAIL",
           r"marker found at 0x800000")


def test_scanner_above_4g():
    expect(run_guest("scanner", "marker=abc scan_top=8G stride=64M"), "PASS",
           r"scanned 128 addresses")


# --- heartbeat, triplefault ---

def test_heartbeat_counts():
    run = run_guest("heartbeat", "count=3")
    expect(run, "PASS", r"beats=3 tsc_khz=\d+")
    assert re.findall(r"^HEARTBEAT (\d+)$", run.console, re.M) == ["1", "2", "3"], str(run)


def test_heartbeat_stamps():
    """stamps=1: each beat carries its TSC, increasing, at least a period
    apart (the frequency QEMU states: CPUID 0x15/0x16 or 1 GHz assumed)."""
    run = run_guest("heartbeat", "count=3 stamps=1 tsc_khz=1000000")
    expect(run, "PASS", r"beats=3 tsc_khz=1000000")
    stamps = [int(x) for x in re.findall(r"^HEARTBEAT \d+ tsc=(\d+)$", run.console, re.M)]
    assert len(stamps) == 3, str(run)
    assert all(b - a >= 200 * 1000 for a, b in zip(stamps, stamps[1:])), str(run)


# --- constall (the console-stall test's hostile writer) ---

def test_constall_writes_long_lines():
    run = run_guest("constall", "bytes=3000")
    expect(run, "PASS", r"^bytes=3000 width=0$")
    line = re.search(r"^constall: 3000 bytes, no newline\n(.*)$", run.console, re.M)
    assert line and len(line[1]) == 3000 and line[1][:3] == "!\"#", str(run)
    run = run_guest("constall", "bytes=30 width=10")
    expect(run, "PASS", r"^bytes=30 width=10$")
    assert re.search(r"^constall: 30 bytes, lines\n!\"#\$%&'\(\)\n\+,-\./0123\n56789:;<=\n"
                     r"VERDICT", run.console, re.M), str(run)


def test_triplefault_shuts_down():
    run = run_guest("triplefault", "delay=1")
    assert run.verdicts() == [], str(run)
    assert re.search(r"^HEARTBEAT 1\nTRIPLEFAULT now$", run.console, re.M), str(run)
    assert run.returncode == EXIT_SHUTDOWN, str(run)


# --- compute, exitcost ---

def test_compute_is_deterministic():
    pattern = r"iterations=200000 tsc=\d+ buf=4194304 checksum=(0x[0-9a-f]{8})$"
    a = expect(run_guest("compute", "iters=200000 buf=4M", mem="64M"), "PASS", pattern)
    b = expect(run_guest("compute", "iters=200000 buf=4M", mem="128M", smp=2), "PASS",
               pattern)
    assert re.search(pattern, a)[1] == re.search(pattern, b)[1]


def test_compute_buffer_must_fit():
    expect(run_guest("compute", "buf=64M", mem="64M"), "FAIL", r"not all RAM")


def test_exitcost():
    expect(run_guest("exitcost", "n=10000"), "PASS", r"^n=10000 tsc_per_cpuid=\d+ tsc=\d+$")


# --- apicmode ---

def test_apicmode_bare_qemu_deviates():
    # QEMU 7.2's TCG keeps the APIC page when the APIC is globally disabled
    # (and could not enable it again): the check that the page goes away
    # fails, after the self-IPI and timer checks of xAPIC mode passed
    run = run_guest("apicmode", "cpus=2", smp=2)
    expect(run, "FAIL", r"^off: the APIC page reads 0x[0-9a-f]+, not all-ones$")
    assert "apicmode: xapic: self-IPI and timer arrive" in run.console, str(run)


# --- lvtmode ---

def test_lvtmode_bare_qemu_deviates():
    # QEMU 7.2 recomputes the timer from the last initial-count write in the
    # new mode: periodic -> one-shot, after a few periods, stops at once; on
    # a loaded host its TCG timer may also come a period late first (bare
    # under Bochs the guest passes: test_bochs_lvtmode)
    run = run_guest("lvtmode", "", timeout=60)
    expect(run, "FAIL", r"^periodic -> one-shot: the count did not end with an interrupt$"
                        r"|^periodic: vector 0x[0-9a-f]+ pending at the start of a period$")
    assert "lvtmode: one-shot -> periodic: 3 periods" in run.console, str(run)


# --- devinsn ---

def test_devinsn_bare():
    # q35's ECAM is at 0xb0000000; QEMU's unassigned memory reads 0, not
    # all-ones, so the open-bus checks are for partitions
    run = run_guest("devinsn", "ecam=0xb0000000")
    expect(run, "PASS", r"^ioapic=ok ecam=ok open_bus=skipped string_io=ok$")
    assert "devinsn: this line went out by rep outsb" in run.console, str(run)


def test_devinsn_no_host_bridge_fails():
    # nothing at the ECAM address: the check notices
    expect(run_guest("devinsn", "ecam=0xe0000000"), "FAIL", r"no host bridge there")


# --- lowload: linked below 1 MiB ---

def test_lowload_runs_where_linked():
    # QEMU's -kernel loads the low ELF and puts a module after it
    run = run_guest("lowload", "", initrd=[GUESTS / "heartbeat.elf"])
    expect(run, "PASS", r"^image=\[0x10000-0x[0-9a-f]+\) info=0x[0-9a-f]+ modules=1$")


def test_xsetbv():
    # QEMU's EPYC: x87, SSE, AVX; everything else refused
    expect(run_guest("xsetbv"), "PASS", r"^supported=0x7 accepted=5 refused=\d+$")


def test_crwrite_tcg_takes_vme():
    # QEMU's TCG takes CR4.VME although its EPYC CPUID has no VME: the
    # guest's check fails bare there (it holds bare under Bochs, and in a
    # partition on VT-x, where CR writes exit)
    expect(run_guest("crwrite"), "FAIL", r"bit 0x1 \(its feature is hidden\) did not raise #GP")


@pytest.mark.parametrize("op,operand", [("io", "port=0x3fd"), ("apic", "reg=0x80"),
                                        ("rdmsr", "msr=0x1b"), ("hlt", "count=1")])
def test_exitcost_ops(op, operand):
    expect(run_guest("exitcost", f"op={op} n=1000"), "PASS",
           rf"^op={op} n=1000 tsc_per_op=\d+ tsc=\d+ {operand}$")


def test_exitcost_unknown_op_fails():
    expect(run_guest("exitcost", "op=nop"), "FAIL", r"op=nop: want cpuid, io, apic, rdmsr or hlt")


# --- events (tests/system/test_events.py runs them in partitions) ---

def test_nmi_bare():
    # after its verdict the guest resets the machine during the storm, which
    # ends QEMU (-no-reboot) with status 0
    run = run_guest("nmi", "storm=300 stop=1", smp=2, timeout=60)
    result, details = run.verdict()
    assert result == "PASS" and re.search(r"^nmis=\d+ nested=0 held=1 hlt_wake=1 storm=300$",
                                          details), str(run)
    assert run.returncode == 0 and "resetting while the storm goes on" in run.console, str(run)


def test_singlestep_bare():
    expect(run_guest("singlestep", "wbinvd=3"), "PASS", r"^steps=\d+ int1=\d+ gd=\d+ wbinvd=3$")


def test_dbloop_bare():
    # the #DB delivery loop is entered; bare, nothing stops it but the reset
    # the first CPU makes, which ends QEMU (-no-reboot) with status 0
    run = run_guest("dbloop", "", smp=2, timeout=60)
    assert run.verdict() == ("PASS", "probe=#DB loop=entered"), str(run)
    assert run.returncode == 0 and "loops on #DB delivery; resetting" in run.console, str(run)


def test_acloop_bare_qemu_deviates():
    # QEMU's TCG checks no alignment: the guest's probe sees no #AC
    expect(run_guest("acloop", "", smp=2, timeout=60), "FAIL",
           r"the probe raised 0 #AC, want 1: this CPU does not check alignment")


def test_pat_bare_qemu_deviates():
    # QEMU's TCG takes reserved PAT memory types without #GP (SDM 3A 12.12.2)
    expect(run_guest("pat"), "FAIL", r"WRMSR IA32_PAT 0x[0-9a-f]+ \(reserved\) did not raise #GP")


def test_cpustate_bare_after_firmware():
    # bare, the firmware has used the x87 before the guest: the state is not
    # the power-up one the guest checks for (a partition starts with it)
    expect(run_guest("cpustate"), "FAIL", r"^x87 at start: FCW 0x37f ")


# --- shm (tests/system/test_shm.py runs it in partitions) ---

def test_shm_bare_finds_plain_ivshmem():
    # QEMU's ivshmem-plain is the 1af4:1110 function without doorbells (its
    # doorbell variant needs an ivshmem-server, which Debian does not ship):
    # the guest finds it on bus 0 and notices that it cannot interrupt a peer
    run = run_guest("shm", "rounds=0", extra=["-object", "memory-backend-ram,id=shm,size=1M",
                                              "-device", "ivshmem-plain,memdev=shm"])
    expect(run, "FAIL", r"^no MSI-X capability$")


def test_shm_bare_absent():
    # no ivshmem device at all: the guest says so
    expect(run_guest("shm", "rounds=0"), "FAIL", r"^no ivshmem device on bus 0$")


# --- the common frame ---

def test_bad_cmdline_number_fails():
    expect(run_guest("heartbeat", "count=3x"), "FAIL", r"count=3x is not a number")


def test_every_guest_has_a_test():
    sources = sorted(p.stem for p in (ROOT / "tests" / "guests").glob("*.c"))
    text = Path(__file__).read_text()
    missing = [s for s in sources if f'run_guest("{s}"' not in text]
    assert not missing, f"guests without a bare test: {missing}"


# --- bare under Bochs: GRUB from an ISO, Multiboot1 ---

BOCHSRC = """\
memory: guest={mem}, host={mem}
cpu: model={model}, count=1:{cpus}:1, ips=10000000, reset_on_triple_fault=0, ignore_bad_msrs=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
com1: enabled=1, mode=file, dev={console}
display_library: rfb, options="timeout=0"
sound: driver=dummy
speaker: enabled=0
log: {log}
panic: action=fatal
error: action=report
clock: sync=none, time0=local
"""


def _netns() -> list[str]:
    """Bochs's only display here is VNC: keep its port in a network
    namespace of its own when the system allows one."""
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        if subprocess.run(prefix + ["true"], capture_output=True).returncode == 0:
            return prefix
    return []


def run_guest_bochs(name: str, append: str, *, model: str, cpus: int = 2, mem: int = 64,
                    timeout: float = 60) -> Run:
    """Boots NAME under Bochs (cpus cores in one package, so CPUID.1 counts
    them) and returns once the verdict line is complete; Bochs is killed."""
    for tool in (BOCHS, "grub-mkrescue"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is not installed")
    work = BOCHS_RUNS / f"{name}-{model}"
    shutil.rmtree(work, ignore_errors=True)
    (work / "iso" / "boot" / "grub").mkdir(parents=True)
    shutil.copy(GUESTS / f"{name}.elf", work / "iso" / "boot")
    (work / "iso" / "boot" / "grub" / "grub.cfg").write_text(
        f'set timeout=0\nmenuentry "{name}" {{ multiboot /boot/{name}.elf {append} }}\n')
    iso = work / "guest.iso"
    proc = subprocess.run(["grub-mkrescue", "-o", str(iso), str(work / "iso")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"grub-mkrescue failed:\n{proc.stderr}"
    console, log = work / "console.txt", work / "bochs.log"
    (work / "bochsrc").write_text(BOCHSRC.format(mem=mem, model=model, cpus=cpus, iso=iso,
                                                 console=console, log=log))
    (work / "continue.rc").write_text("c\n")  # the debugger is built in
    console.touch()
    with open(work / "emulator.txt", "wb") as out:
        bochs = subprocess.Popen(_netns() + [BOCHS, "-q", "-f", "bochsrc", "-rc",
                                             "continue.rc"],
                                 cwd=work, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        while time.monotonic() < deadline and bochs.poll() is None:
            if VERDICT.search(console.read_bytes().decode(errors="replace")
                              .replace("\r", "")):
                break
            time.sleep(0.2)
    finally:
        if bochs.poll() is None:
            os.killpg(bochs.pid, signal.SIGKILL)
        bochs.wait()
    text = console.read_bytes().decode(errors="replace").replace("\r\n", "\n")
    if not VERDICT.search(text):
        tail = log.read_text(errors="replace").splitlines()[-5:] if log.exists() else []
        pytest.fail(f"{name} under Bochs {model}: no verdict\n{text}\n--- bochs.log:\n"
                    + "\n".join(tail))
    # Bochs gives no exit status: PASS and FAIL are told by the line alone
    return Run(name, EXIT_PASS if "PASS" in VERDICT.search(text)[2] else EXIT_FAIL, text)


BOCHS_MODELS = ["corei7_skylake_x", "ryzen"]


@pytest.mark.slow
@pytest.mark.bochs
@pytest.mark.parametrize("model", BOCHS_MODELS)
def test_bochs_smp(model):
    expect(run_guest_bochs("smp", "cpus=2", model=model), "PASS", r"cpus=2 ids=0,1$")


@pytest.mark.slow
@pytest.mark.bochs
@pytest.mark.parametrize("model", BOCHS_MODELS)
def test_bochs_cpuid(model):
    vendor = "GenuineIntel" if model.startswith("corei7") else "AuthenticAMD"
    expect(run_guest_bochs("cpuid", "cpus=2", model=model), "PASS",
           rf"vendor={vendor} cpus=2\b")


@pytest.mark.slow
@pytest.mark.bochs
def test_bochs_policy():
    # Bochs, unlike QEMU's TCG, raises #GP for unknown MSRs
    run = run_guest_bochs("policy", "", model="corei7_skylake_x")
    expect(run, "PASS", r"wrmsr:0x6e1=#GP")
    assert "RDMSR unknown (0x1234): #GP" in run.console, str(run)


@pytest.mark.slow
@pytest.mark.bochs
def test_bochs_scanner():
    # Bochs reads what is not there as all-ones, as a partition should
    run = run_guest_bochs("scanner", "marker=0x5eed1234 scan_top=8G stride=16M",
                          model="ryzen")
    expect(run, "PASS", r"scanned 512 addresses, (\d+) outside RAM read all-ones")


@pytest.mark.slow
@pytest.mark.bochs
def test_bochs_lvtmode():
    # Bochs keeps the count across one-shot <-> periodic, and has TSC-deadline
    run = run_guest_bochs("lvtmode", "tsc_khz=10000", model="corei7_skylake_x", timeout=120)
    expect(run, "PASS", r"^ticks_per_ms=\d+ periodic=\d+ tsc_deadline=yes$")


def test_bochs_cpu_rules():
    # Bochs refuses what the SDM refuses: XCR0 values with AVX-512 apart
    # (its model has AVX-512), CR4 bits its CPUID lacks; reserved CR0 bits
    # are ignored
    expect(run_guest_bochs("xsetbv", "", model="corei7_skylake_x", cpus=1), "PASS",
           r"^supported=0xe7 ")
    expect(run_guest_bochs("crwrite", "", model="corei7_skylake_x", cpus=1), "PASS",
           r"^cr4_ok=0x[0-9a-f]+ cr4_gp=0x[0-9a-f]+$")


def test_xsavec_bare_qemu():
    # QEMU 7.2's TCG offers AVX without XSAVEC: nothing to round-trip
    expect(run_guest("xsavec"), "PASS", r"^xsavec=no$")


@pytest.mark.slow
@pytest.mark.bochs
def test_xsavec_bare_bochs_deviates():
    # Bochs 2.7's XSAVEC saves the upper halves of YMM0-7 at byte 416, not
    # 576, over the header, whose bytes XRSTOR then refuses (#GP): the
    # defect the partitions' CPUID keeps Linux away from (tests/system/test_xsavec.py)
    expect(run_guest_bochs("xsavec", "", model="corei7_skylake_x", cpus=1), "FAIL",
           r"^YMM0 not restored: XRSTOR of the XSAVEC area raised #GP .* saved at byte 416, ")
