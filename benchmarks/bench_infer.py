"""Speed and memory of ``connectome infer`` against recording size, with the
I/O floor measured in the same run.

For each (channels, seconds) it generates a recording with ``connectome
simulate`` (cached outside the repository, see ``_harness.py``; neurons ≈
channels / 2, as on the microhole array), then measures, each in its own
process under ``/usr/bin/time``:

- the I/O floor: reading the whole recording once, chunk by chunk;
- ``connectome infer REC --out DIR --quiet``, ``--runs`` times.

Prints a Markdown table: median, min–max wall time, peak RSS, real-time
factor (recorded seconds per wall second) and infer ÷ floor.

    python benchmarks/bench_infer.py                 # 256 & 1,024 ch × 30, 60 s; 4,096 ch × 60 s
    python benchmarks/bench_infer.py --sizes 4096x60,4096x120 --runs 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine, repeat, run_measured, simulated, table  # noqa: E402

GRIDS = {256: "16x16", 1024: "32x32", 4096: "64x64"}
READ_ONCE = ("import sys; from connectome.io import open_recording; r = open_recording(sys.argv[1]); "
             "c = r.chunks[0]\nfor s in range(0, r.n_samples, c): r.store.read(s, min(r.n_samples, s + c))")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="256x30,256x60,1024x30,1024x60,4096x60",
                    help="comma-separated CHANNELSxSECONDS (channels: 256, 1024 or 4096)")
    ap.add_argument("--runs", type=int, default=3, help="infer runs per size (median reported)")
    args = ap.parse_args()
    rows = []
    for item in args.sizes.split(","):
        ch, sec = (int(v) for v in item.lower().split("x"))
        rec = simulated(f"perf-{ch}ch-{sec}s", neurons=ch // 2, grid=GRIDS[ch], duration=sec, seed=1)
        floor = run_measured([sys.executable, "-c", READ_ONCE, str(rec)])
        with tempfile.TemporaryDirectory() as tmp:
            r = repeat([sys.executable, "-m", "connectome.cli", "infer", str(rec), "--out",
                        str(Path(tmp) / "out"), "--quiet"], n=args.runs)
        rows.append({"size": f"{ch} ch × {sec} s", "runs": r["runs"], "median_s": r["median_s"],
                     "range": f"{r['min_s']:.1f}–{r['max_s']:.1f}", "rss_gb": r["rss_mb"] / 1024,
                     "rtf": sec / r["median_s"], "floor_s": floor["wall_s"],
                     "ratio": r["median_s"] / floor["wall_s"]})
        print(f"{item}: {r['median_s']:.1f} s, {r['rss_mb'] / 1024:.2f} GB", file=sys.stderr, flush=True)
    print(f"\nMachine: {machine()}\n")
    print(table(rows, [("size", "recording"), ("runs", "runs"), ("median_s", "infer median s"),
                       ("range", "min–max s"), ("rss_gb", "peak RSS GB"), ("rtf", "real-time factor"),
                       ("floor_s", "I/O floor s"), ("ratio", "infer ÷ floor")]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
