"""How the Linux tests read a console (linux_guest.LineJoiner): a program's
line that a kernel message cut in two is read whole, the message as a line
of its own, and nothing else moves. Fast; needs no image."""
from __future__ import annotations

from harness import linux_guest as g


def joined(*chunks: str) -> str:
    """What the joiner makes of a transcript that grew by CHUNKS."""
    j, raw, out = g.LineJoiner(), "", ""
    for c in chunks:
        raw += c
        out = j.join(raw)
    return out


def test_a_cut_line_is_joined_where_its_second_half_comes():
    raw = ("[b] TESSERA-BE[   66.100000] clocksource: Long readout interval\n"
           "[a] 016383 pqrstu\n"
           "[b] AT 31 67.26\n")
    assert joined(raw) == ("[b] [   66.100000] clocksource: Long readout interval\n"
                           "[a] 016383 pqrstu\n"
                           "[b] TESSERA-BEAT 31 67.26\n")


def test_the_halves_wait_per_partition_and_across_messages():
    raw = ("[a] nproc=[    2.243897] tsc: Refined TSC clocksource calibration\n"
           "[b] echo hi\n"
           "[a] [    2.250000] clocksource: Switched to clocksource tsc\n"
           "[a] 1\n"
           "hv: console -> linux-b\n")
    assert joined(raw) == ("[a] [    2.243897] tsc: Refined TSC clocksource calibration\n"
                           "[b] echo hi\n"
                           "[a] [    2.250000] clocksource: Switched to clocksource tsc\n"
                           "[a] nproc=1\n"
                           "hv: console -> linux-b\n")


def test_a_bare_guest_line_too():
    assert joined("uptime=[    1.000000] msg\n3.02\n") == "[    1.000000] msg\nuptime=3.02\n"


def test_offsets_of_what_came_before_stay():
    """Read in pieces (an unfinished last line left as it is) or at once,
    the same text; what was read before is a prefix of what is read after."""
    chunks = ["[b] TESSERA-BE", "[  1.000000] m", "sg\n[b] AT 1 ", "2.0\n[a] x\n", "[b] tail"]
    whole = joined("".join(chunks))
    j, raw, before = g.LineJoiner(), "", ""
    for c in chunks:
        raw += c
        now = j.join(raw)
        done = before[:before.rfind("\n") + 1]
        assert now.startswith(done)
        before = now
    assert before == whole
    assert whole.endswith("[b] TESSERA-BEAT 1 2.0\n[a] x\n[b] tail")
