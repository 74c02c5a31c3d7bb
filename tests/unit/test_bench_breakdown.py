"""The arithmetic of `make bench`'s breakdown (bench/breakdown.py): exit
costs from the exitcost guest's numbers, the time exits add, the slope of
the nested-walk cost, the split of a difference."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import breakdown as b  # noqa: E402

KHZ = 1_000_000  # a 1 GHz TSC: 1000 ticks a microsecond


def test_exit_cost_is_partition_less_bare():
    cost = b.exit_costs({"cpuid": (100, 10_100, KHZ), "io": (600, 20_600, KHZ)})
    assert cost["cpuid"] == pytest.approx(10e-6)
    assert cost["io"] == pytest.approx(20e-6)
    assert cost["apic"] is None


def test_hlt_cost_leaves_out_its_two_apic_writes():
    cost = b.exit_costs({"apic": (0, 5_000, KHZ), "hlt": (50_000, 70_000, KHZ)})
    assert cost["hlt"] == pytest.approx((20_000 - 2 * 5_000) * 1e-9)


def test_exit_time_prices_each_reason_by_its_operation():
    cost = {"cpuid": 1e-6, "io": 2e-6, "apic": 3e-6, "rdmsr": 4e-6, "hlt": 5e-6}
    total, rows = b.exit_time({"I/O": 10, "second-level fault": 1, "interrupt window": 100},
                              cost)
    assert total == pytest.approx(10 * 2e-6 + 3e-6 + 100 * 1e-6)
    assert rows[0] == ("interrupt window", 100, "cpuid", pytest.approx(100e-6))


def test_exit_time_needs_every_cost():
    assert b.exit_time({"HLT": 1}, {"cpuid": 1e-6, "hlt": None}) == (None, [])


def test_phase_counts_never_negative():
    assert b.phase_counts({"I/O": 10, "HLT": 1}, {"I/O": 4, "HLT": 3, "CPUID": 2}) == \
        {"I/O": 6, "HLT": 0, "CPUID": 0}


def test_slat_slope_per_level():
    # 4 levels 7 s, 3 levels 6 s, 2 levels 5 s: 1 s per level
    assert b.slat_slope({"4k": 7.0, "2m": 6.0, "1g": 5.0}) == pytest.approx(1.0)
    assert b.slat_slope({"4k": 7.0, "2m": None}) is None


def test_split_rest_is_what_is_left():
    s = b.split(10.0, 3.0, 2.0, None)
    assert s["rest"] == pytest.approx(5.0)
    assert b.split(None, 1.0, 1.0, 1.0)["rest"] is None


def test_hw_exit_time():
    assert b.hw_exit_time({"CPUID": 3000}) == pytest.approx(3000 * 1300 / 3e9)
