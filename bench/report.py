"""`make bench`'s outputs besides the printed table: the results as JSON
(build/bench/bench.json) and one picture (build/bench/bench.png), drawn with
gnuplot (Debian's gnuplot-nox, bench/bench.mk): three panels,

  1. the Linux runs' times, medians: bare, Tessera, Xen side by side;
  2. where Tessera's extra time goes (bench/breakdown.py): exits, nested
     translation, the hypervisor's boot and build, the rest, for the boot
     and for the workload;
  3. exits by reason: Tessera's, for the boot and for the workload (bare
     Linux has none; Xen's are not counted, see docs/performance.md).

The data files and the gnuplot script stay beside the picture, so that it
can be drawn again (gnuplot build/bench/bench.gp).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

EXIT_REASONS_SHOWN = 6  # the most frequent; the rest is "other"
COLORS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1",
          "#9c755f")


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def _num(v) -> str:
    return "NaN" if v is None else f"{v:.4g}"


def _q(s: str) -> str:
    return '"' + s.replace('"', "'") + '"'


def _times(out: Path, times: dict) -> None:
    """TIMES: metric label -> {"bare": s, "tessera": s, "xen": s}."""
    lines = ["# metric bare tessera xen (seconds, medians)"]
    for label, v in times.items():
        lines.append(" ".join([_q(label)] + [_num(v.get(k)) for k in ("bare", "tessera",
                                                                       "xen")]))
    out.write_text("\n".join(lines) + "\n")


def _breakdown(out: Path, split: dict) -> None:
    """SPLIT: phase -> breakdown.split() dict. Negative parts are drawn as
    0 (the labels say what they were)."""
    lines = ["# phase exits slat hv rest (seconds; negatives drawn as 0)"]
    for phase, s in split.items():
        vals = [max(s.get(k) or 0.0, 0.0) for k in ("exits", "slat", "hv", "rest")]
        lines.append(" ".join([_q(phase)] + [_num(v) for v in vals]))
    out.write_text("\n".join(lines) + "\n")


def _exits(out: Path, bars: dict) -> list[str]:
    """BARS: bar label -> {reason: count} or None (not counted). Returns
    the reasons, in column order."""
    total: dict = {}
    for counts in bars.values():
        for r, n in (counts or {}).items():
            total[r] = total.get(r, 0) + n
    order = sorted(total, key=lambda r: -total[r])
    shown, rest = order[:EXIT_REASONS_SHOWN], order[EXIT_REASONS_SHOWN:]
    cols = shown + (["other"] if rest else [])
    lines = ["# bar " + " ".join(_q(c) for c in cols)]
    for label, counts in bars.items():
        counts = counts or {}
        row = [counts.get(r, 0) for r in shown]
        if rest:
            row.append(sum(counts.get(r, 0) for r in rest))
        lines.append(" ".join([_q(label)] + [str(x) for x in row]))
    out.write_text("\n".join(lines) + "\n")
    return cols


def plot(outdir: Path, *, title: str, times: dict, split: dict, exit_bars: dict,
         notes: dict) -> tuple[Path | None, str]:
    """Draws OUTDIR/bench.png; returns (its path or None, an error or '').
    NOTES: bar label -> a note under that bar of panel 3 (e.g. why it is
    empty)."""
    outdir.mkdir(parents=True, exist_ok=True)
    _times(outdir / "times.dat", times)
    _breakdown(outdir / "breakdown.dat", split)
    reasons = _exits(outdir / "exits.dat", exit_bars)
    png = outdir / "bench.png"
    # tic labels in the script, where "\\n" breaks a line
    times_tics = ", ".join(f'"{k}" {i}' for i, k in enumerate(times))
    split_tics = []
    for i, (phase, s) in enumerate(split.items()):
        text = phase
        if s.get("delta") is not None:
            text += f" {s['delta']:+.1f} s"
        for k, name in (("exits", "exits"), ("slat", "nested"), ("hv", "hv"), ("rest", "rest")):
            if s.get(k) is not None:
                text += f"\\n{name} {s[k]:+.1f}"
        split_tics.append(f'"{text}" {i}')
    exit_tics = ", ".join(f'"{b}' + (f"\\n({notes[b]})" if notes.get(b) else "") + f'" {i}'
                          for i, b in enumerate(exit_bars))
    exit_cols = ", ".join(("'exits.dat'" if i == 0 else "''") + f" using {i + 2} title {_q(r)} "
                          f"lc rgb '{COLORS[i % len(COLORS)]}'" for i, r in enumerate(reasons))
    # room above the bars for the key
    top_times = max([v for t in times.values() for v in t.values() if v is not None] or [1])
    top_split = max([sum(max(s.get(k) or 0, 0) for k in ("exits", "slat", "hv", "rest"))
                     for s in split.values()] or [1]) or 1
    top_exits = max([sum((c or {}).values()) for c in exit_bars.values()] or [1]) or 1
    script = f"""# written by bench/report.py: gnuplot {outdir / 'bench.gp'}
set terminal pngcairo size 1650,660 font 'sans,10'
set output '{png}'
set datafile missing 'NaN'
set multiplot layout 1,3 title {_q(title)} font ',12'
set style data histograms
set style fill solid 0.85 border -1
set boxwidth 0.8
set grid ytics
set key top right font ',9'
set xtics font ',9' nomirror
set bmargin 8

set title 'Linux under QEMU TCG, seconds (medians)'
set style histogram clustered gap 1
set ylabel 'seconds'
set yrange [0:{top_times * 1.3:.4g}]
set xtics ({times_tics})
plot 'times.dat' using 2 title 'bare' lc rgb '#59a14f', \\
     '' using 3 title 'Tessera' lc rgb '#4e79a7', \\
     '' using 4 title 'Xen 4.17 PVH dom0' lc rgb '#e15759'

set title 'Tessera minus bare: where the time goes (s)'
set style histogram rowstacked
set yrange [0:{top_split * 1.45:.4g}]
set xtics ({", ".join(split_tics)})
plot 'breakdown.dat' using 2 title '(a) exits x cost' lc rgb '#4e79a7', \\
     '' using 3 title '(b) nested translation' lc rgb '#f28e2b', \\
     '' using 4 title '(c) hypervisor boot, build, load' lc rgb '#76b7b2', \\
     '' using 5 title '(d) rest' lc rgb '#bab0ac'

set title 'VM exits by reason'
set ylabel 'exits'
set format y '%.0s%c'
set yrange [0:{top_exits * 1.45:.4g}]
set xtics ({exit_tics})
plot {exit_cols if exit_cols else "0 notitle"}
unset multiplot
"""
    gp = outdir / "bench.gp"
    gp.write_text(script)
    if not shutil.which("gnuplot"):
        return None, "gnuplot not found (make deps: gnuplot-nox, bench/bench.mk)"
    proc = subprocess.run(["gnuplot", str(gp)], cwd=outdir, capture_output=True, text=True,
                          timeout=120)
    if proc.returncode != 0 or not png.exists():
        return None, f"gnuplot failed: {proc.stderr.strip()[-300:]}"
    return png, ""
