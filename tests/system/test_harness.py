"""The system-test harness itself, on a stand-in "emulator" (a shell script
that writes the console file): waiting, failing fast with the transcript,
and always stopping the process. Fast; needs no image."""
from __future__ import annotations

import re
from pathlib import Path
import time

import pytest

from harness.hv_console import BANNER, STARTING, parse_features
from harness.tessera_vm import BootFailure, Machine, Pxe, qemu, render_template

KILL_SETTLE_S = 10  # a killed process ends within this, however loaded the machine


def fake(workdir, script: str) -> Machine:
    """A Machine whose 'emulator' runs SCRIPT with its console on fd 3."""
    return Machine("fake", ["/bin/sh", "-c", f"exec 3>>console.txt; {script}"], workdir)


def test_wait_for_returns_the_match_and_moves_on(workdir, machines):
    m = fake(workdir, "echo 'hv: one 1' >&3; sleep 0.3; echo 'hv: two 2' >&3; sleep 30")
    machines.append(m)
    with m:
        first = m.wait_for(r"^hv: (\w+) (\d)$", 10)
        second = m.wait_for(r"^hv: (\w+) (\d)$", 10)
        assert (first[1], second[1]) == ("one", "two")
        again = m.wait_for(r"^hv: one 1$", 10, anywhere=True)
        assert again.group(0) == "hv: one 1"
    assert not m.running()


def test_half_a_line_never_matches(workdir, machines):
    m = fake(workdir, "printf 'hv: apic id 1' >&3; sleep 0.5; echo 2 >&3; sleep 30")
    machines.append(m)
    with m:
        assert m.wait_for(r"apic id (\d+)$", 10)[1] == "12"


def test_fails_fast_on_a_panic_with_the_transcript(workdir, machines):
    m = fake(workdir, "echo 'hv: starting' >&3; echo 'hv: PANIC: out of cheese' >&3; sleep 30")
    machines.append(m)
    m.start()
    t0 = time.monotonic()
    with pytest.raises(BootFailure) as err:
        m.wait_for(r"^never$", 60)
    assert time.monotonic() - t0 < 10
    msg = str(err.value)
    assert "hv: PANIC: out of cheese" in msg and "hv: starting" in msg
    assert "console transcript" in msg
    assert not m.running(), "a failure stops the emulator"


def test_fails_fast_on_an_exception_line(workdir, machines):
    m = fake(workdir, "echo 'hv: EXCEPTION #GP at 0x1234' >&3; sleep 30")
    machines.append(m)
    with m, pytest.raises(BootFailure, match="EXCEPTION #GP"):
        m.wait_for(r"^never$", 60)


def test_extra_fail_patterns(workdir, machines):
    m = fake(workdir, "echo 'hv: cannot run partitions: no VT-x or AMD-V' >&3; sleep 30")
    machines.append(m)
    with m, pytest.raises(BootFailure, match="cannot run partitions"):
        m.wait_for(r"^never$", 60, fail_on=(r"^hv: cannot run partitions: .*$",))


def test_timeout_attaches_the_transcript(workdir, machines):
    m = fake(workdir, "echo 'SeaBIOS (fake)' >&3; sleep 30")
    machines.append(m)
    with m, pytest.raises(BootFailure) as err:
        m.wait_for(r"^hv: banner$", 0.5)
    assert "did not appear" in str(err.value) and "SeaBIOS (fake)" in str(err.value)


def test_emulator_exit_ends_the_wait(workdir, machines):
    m = fake(workdir, "echo 'bye' >&3; echo 'emulator: fatal' >&2; exit 3")
    machines.append(m)
    with m, pytest.raises(BootFailure) as err:
        m.wait_for(r"^hv: banner$", 60)
    assert "status 3" in str(err.value) and "emulator: fatal" in str(err.value)


def test_wait_exit_and_marks(workdir, machines):
    m = fake(workdir, "echo 'hv: on_idle: poweroff' >&3; sleep 0.2; exit 0")
    machines.append(m)
    with m:
        m.wait_for(r"^hv: on_idle: (\w+)$", 10, mark="on_idle")
        assert m.wait_exit(10) == 0
    assert "on_idle" in m.marks


def test_kill_ends_the_process_group(workdir):
    m = fake(workdir, "sleep 60 & sleep 60")
    with m:
        pid = m.proc.pid
    assert not m.running()
    # no process of the group survives: killed members may linger as
    # zombies until whoever inherited them reaps them (here PID 1 need not
    # be quick about it), but none may still be running once SIGKILL has
    # been delivered (asynchronously: on a loaded machine a member may run a
    # moment longer)
    deadline = time.monotonic() + KILL_SETTLE_S
    while live_group_members(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not live_group_members(pid), "processes of the group still run"


def live_group_members(pgid):
    """PIDs in process group pgid that are not zombies (from /proc)."""
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # gone meanwhile
        state, pgrp = fields[0], int(fields[2])
        if pgrp == pgid and state not in ("Z", "X"):
            live.append(int(stat.parent.name))
    return live


def test_contract_patterns():
    assert re.match(STARTING, "hv: Tessera 0.1 starting (multiboot1, image at 0x200000)")
    assert re.match(STARTING, "hv: Tessera 0.1 starting (uefi, image at 0x7e000000)")
    b = re.match(BANNER, "hv: Tessera 0.1: booted via multiboot2 (BIOS), 4 CPUs online, "
                 "2047 MiB RAM, AMD-V with NPT on all CPUs")
    assert b and (b["loader"], b["firmware"], b["cpus"], b["ram"], b["vendor"]) == \
        ("multiboot2", "BIOS", "4", "2047", "AMD-V with NPT")
    assert parse_features("AMD-V, NPT yes, next-RIP save no, decode assists no, "
                          "flush-by-ASID no") == \
        ("AMD-V", {"NPT": "yes", "next-RIP save": "no", "decode assists": "no",
                   "flush-by-ASID": "no"})
    assert parse_features("VT-x, EPT yes, VPID yes, unrestricted guest yes, EPT A/D yes")[1] \
        == {"EPT": "yes", "VPID": "yes", "unrestricted guest": "yes", "EPT A/D": "yes"}


def test_qemu_stays_off_the_network(workdir, tmp_path):
    kernel = tmp_path / "k"
    kernel.write_bytes(b"")
    argv = qemu("x", workdir, kernel=kernel).argv
    assert argv[argv.index("-nic") + 1] == "none"
    (tmp_path / "boot").mkdir()
    (tmp_path / "boot" / "core.0").write_bytes(b"")
    argv = qemu("x", workdir, pxe=Pxe(tmp_path, "boot/core.0")).argv
    netdev = argv[argv.index("-netdev") + 1]
    assert "restrict=on" in netdev and "net=169.254.10.0/24" in netdev


def test_template_needs_every_value(tmp_path):
    t = tmp_path / "t.in"
    t.write_text("a=@A@ b=@B@\n")
    assert render_template(t, {"A": "1", "B": "2"}) == "a=1 b=2\n"
    with pytest.raises(KeyError):
        render_template(t, {"A": "1"})


def test_first_line_after_firmware_output(workdir, machines):
    """SeaBIOS ends "Booting from ROM.." without a newline, GRUB and OVMF
    paint with escape sequences: the first line is found all the same, and
    the transcript is plain text, once."""
    m = fake(workdir, r"printf '\033c\033[?7l\033[2JSeaBIOS\r\nBooting from ROM..' >&3; "
             r"printf 'hv: Tessera 0.1 starting (multiboot1, image at 0x200000)\n' >&3; "
             r"sleep 0.5; printf '\033[0m\033[37m\033[40mhv: PANIC: later\n' >&3; sleep 30")
    machines.append(m)
    with m, pytest.raises(BootFailure) as err:
        assert m.wait_for(STARTING, 10, anywhere=True)["loader"] == "multiboot1"
        m.wait_for(r"^never$", 10)
    text = m.transcript()
    assert "\033" not in text and "\r" not in text
    console = str(err.value).split("--- console transcript")[1]
    assert text.count("SeaBIOS") == 1 and console.count("SeaBIOS") == 1
    assert "hv: PANIC: later" in str(err.value)
