"""A neighbour can never stall another partition's CPU through the console
(issue 11, item 6): output to the physical UART waits in each writer's
queue and goes out as the UART takes it, so a partition that prints long
lines without a newline as fast as it can does not make another
partition's CPU wait for the line.

Under Bochs corei7_skylake_x (VT-x), whose 16550 is paced at its baud
rate: partition `beat` runs the heartbeat guest with stamps=1 (each beat
carries the TSC at which it came, 200 ms after the one before was written
out), partition `flood` runs constall (no newline, forever), one CPU each
and none left idle. A write that had to wait for the console delays the
next stamp: the spread of the stamps' spacing is the jitter the heartbeat
lives with, and must stay under 5 ms (the old console sent the flooder's
1024-byte lines out whole under one lock, ~90 ms each at 115200 baud).
The flooder's bytes all come out, in order.
"""
from __future__ import annotations

import re

import pytest

from harness.hv_console import part_line
from test_partitions import (BOCHS_TSC_KHZ, BOCHS_VMX, Part, _emu_param, boot,
                             no_hypervisor_fault, no_stop)
from test_partitions import env  # noqa: F401 (fixture)

BEATS = 12
JITTER_MS = 5
PATTERN_FIRST, PATTERN_SPAN = ord("!"), 94   # constall's bytes


def stamps(text: str) -> list[int]:
    return [int(x) for x in re.findall(part_line("beat", r"HEARTBEAT \d+ tsc=(\d+)$"), text,
                                       re.M)]


def flood_bytes(text: str) -> str:
    """The flooder's output after its header line, lines joined: the
    console cuts a line without a newline every 1024 bytes."""
    lines = re.findall(part_line("flood", r"(.*)$"), text, re.M)
    start = next(i for i, x in enumerate(lines) if x.startswith("constall: 0 bytes")) + 1
    return "".join(lines[start:])


@pytest.mark.parametrize("emu", [_emu_param(BOCHS_VMX)])
def test_a_flooding_neighbour_does_not_stall_the_heartbeat(emu, env):
    parts = [Part("beat", "0", "32M", "heartbeat",
                  f"tsc_khz={BOCHS_TSC_KHZ} stamps=1 count={BEATS}"),
             Part("flood", "1", "32M", "constall")]
    m = boot(env, emu, 2, parts)
    m.wait_for(part_line("beat", r"VERDICT heartbeat: PASS.*$"),
               emu.guest_timeout + BEATS * 5, anywhere=True, fail_on=no_stop("beat", "flood"))
    text = m.transcript()
    no_hypervisor_fault(m)

    got = stamps(text)
    if len(got) != BEATS:
        m.fail(f"beat: {len(got)} stamped heartbeats, expected {BEATS}")
    gaps = [(b - a) / BOCHS_TSC_KHZ for a, b in zip(got, got[1:])]   # ms
    spread = max(gaps) - min(gaps)
    print(f"heartbeat spacing {min(gaps):.2f}-{max(gaps):.2f} ms, jitter {spread:.2f} ms")
    if spread >= JITTER_MS:
        m.fail(f"beat: the heartbeat's spacing varies by {spread:.2f} ms "
               f"(>= {JITTER_MS} ms) while flood prints: {[round(g, 2) for g in gaps]}")

    # the flooder went on meanwhile, and nothing of it was lost
    sent = flood_bytes(text)
    want = "".join(chr(PATTERN_FIRST + i % PATTERN_SPAN) for i in range(len(sent)))
    if len(sent) < 4 * 1024 or sent != want:
        first = next((i for i, (a, b) in enumerate(zip(sent, want)) if a != b), len(sent))
        m.fail(f"flood: {len(sent)} bytes came out, differing from its pattern at {first}")
