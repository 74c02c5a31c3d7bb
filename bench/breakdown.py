"""Where a partition's time goes (`make bench`, docs/performance.md): the
difference between a Linux boot (or workload) in a Tessera partition and the
same bare, split into

  (a) exits: the partition's exits by reason times what an exit of that
      reason costs under the emulator, measured by the exitcost guest
      bare and in a partition (EXIT_OPS);
  (b) second-level translation: the nested page walks, from the same
      partition with its RAM mapped by 4 KiB, 2 MiB and 1 GiB pages (4, 3
      and 2 levels of the nested walk): the time grows with the levels, and
      the slope times the levels the measured partition walks is the
      estimate (a nested TLB refill reads (g + 1) * n + g table entries for
      g guest levels and n nested levels, linear in n; Bhargava et al.,
      ASPLOS 2008, docs/performance.md);
  (c) the hypervisor's own boot and the partition's build: from its first
      console line to "partition NAME: starting";
  (d) the rest: what (a)-(c) leave of the difference.

Pure functions of the measurements, so that they can be checked on their
own (bench/test_breakdown.py).
"""
from __future__ import annotations

# The exitcost guest's operations (tests/guests/exitcost.c), and which
# exits of a Linux partition each prices.
EXIT_OPS = ("cpuid", "io", "apic", "rdmsr", "hlt")
REASON_OP = {
    "CPUID": "cpuid",
    "I/O": "io",
    "second-level fault": "apic",  # MMIO: the xAPIC page, the I/O APIC, ECAM
    "RDMSR": "rdmsr",
    "WRMSR": "rdmsr",
    "HLT": "hlt",
}
# Every other reason (external interrupt, interrupt window, ...) is priced
# as the plainest exit, a CPUID round trip.
DEFAULT_OP = "cpuid"
# op=hlt times one timer write, the HLT, the interrupt and one EOI: the two
# APIC writes are exits of their own in a Linux partition's counts.
HLT_APIC_WRITES = 2

# Published costs of one exit round trip on hardware, in cycles, by the
# kind of work (docs/performance.md has the sources): cited estimates, not
# measurements of Tessera.
HW_GHZ = 3.0
HW_CYCLES = {
    "cpuid": 1300,   # KVM, kvm-unit-tests vmexit "cpuid", Intel, 2017: 1291-1313
    "io": 2400,      # same, "inl_from_kernel" (an in-kernel emulated port): 2339-2435
    "apic": 2400,    # assumed like a port read: an MMIO exit decodes one instruction
    "rdmsr": 1300,   # assumed like CPUID: a table look-up
    "hlt": 1300,     # the transition only: the time halted is the guest's idle time
}
NPT_LEVELS = {"4k": 4, "2m": 3, "1g": 2}


def exit_costs(per_op: dict) -> dict:
    """PER_OP: op -> (bare TSC per op, partition TSC per op, TSC kHz).
    Returns op -> seconds one exit of that kind adds under the emulator
    (None when not measured)."""
    cost = {}
    for op in EXIT_OPS:
        got = per_op.get(op)
        if not got or None in got or not got[2]:
            cost[op] = None
            continue
        bare, part, khz = got
        cost[op] = max(part - bare, 0) / (khz * 1000.0)
    if cost.get("hlt") is not None and cost.get("apic") is not None:
        cost["hlt"] = max(cost["hlt"] - HLT_APIC_WRITES * cost["apic"], 0.0)
    return cost


def reason_op(reason: str) -> str:
    return REASON_OP.get(reason, DEFAULT_OP)


def exit_time(counts: dict, cost: dict) -> tuple[float | None, list]:
    """COUNTS: reason -> exits; COST from exit_costs(). Returns the seconds
    they add in all, and per reason (reason, count, op, seconds), the
    costliest first; None if a cost needed is missing."""
    rows = []
    total = 0.0
    for reason, n in counts.items():
        op = reason_op(reason)
        if cost.get(op) is None:
            return None, []
        rows.append((reason, n, op, n * cost[op]))
        total += n * cost[op]
    rows.sort(key=lambda r: -r[3])
    return total, rows


def hw_exit_time(counts: dict) -> float:
    """What the same exits would cost on hardware at HW_GHZ (cited cycle
    counts, HW_CYCLES)."""
    return sum(n * HW_CYCLES[reason_op(r)] for r, n in counts.items()) / (HW_GHZ * 1e9)


def phase_counts(full: dict, boot: dict) -> dict:
    """The exits of what follows the boot: a whole run's less a boot-only
    run's, reason by reason, none below 0."""
    return {r: max(full.get(r, 0) - boot.get(r, 0), 0) for r in set(full) | set(boot)}


def slat_slope(points: dict) -> float | None:
    """POINTS: page size ("4k", "2m", "1g") -> seconds. The least-squares
    slope of the seconds against the levels of the nested walk (seconds
    per level); None with fewer than two points."""
    xy = [(NPT_LEVELS[k], v) for k, v in points.items() if v is not None and k in NPT_LEVELS]
    if len(xy) < 2:
        return None
    mx = sum(x for x, _ in xy) / len(xy)
    my = sum(y for _, y in xy) / len(xy)
    sxx = sum((x - mx) ** 2 for x, _ in xy)
    if not sxx:
        return None
    return sum((x - mx) * (y - my) for x, y in xy) / sxx


def split(delta: float | None, exits: float | None, slat: float | None,
          hv: float | None) -> dict:
    """The difference DELTA (partition - bare, s) as (a) exits, (b) SLAT,
    (c) the hypervisor's boot and build, (d) the rest. A part not measured
    is None and counts as 0 in the rest."""
    parts = {"exits": exits, "slat": slat, "hv": hv}
    rest = None
    if delta is not None:
        rest = delta - sum(v for v in parts.values() if v is not None)
    return {"delta": delta, **parts, "rest": rest}
