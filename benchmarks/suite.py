"""Run the whole benchmark suite and write one Markdown report.

Each benchmark runs as a user would run it, in its own process; its table
goes into the report under its command. Inputs are simulated once and cached
outside the repository (``_harness.py``).

    python benchmarks/suite.py --out docs/performance-latest.md      # everything (≈ 1–2 h on 2 cores)
    python benchmarks/suite.py --quick --out /tmp/suite.md            # small sizes only (≈ 10 min)

A benchmark that fails (e.g. the Elephant peer without ``pip install -e
".[bench]"``) is reported as failed with its last error line; the others
still run, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine  # noqa: E402

HERE = Path(__file__).resolve().parent

#: (title, full arguments, quick arguments)
SUITE = [
    ("Copy at scale: infer vs size, with the I/O floor", ["bench_infer.py", "--sizes",
     "256x30,256x60,256x120,1024x30,1024x60,1024x120,4096x30,4096x60,4096x120"],
     ["bench_infer.py", "--sizes", "256x30,256x60", "--runs", "3"]),
    ("Against a peer: Elephant spike-triggered averages", ["bench_peer.py"], ["bench_peer.py", "--quick"]),
    ("Paste at scale: compile 10^5–10^7 synapses", ["bench_compile.py"], ["bench_compile.py", "--sizes", "1e5", "1e6"]),
    ("Scale-out: a batch on threads and on a LocalCluster", ["bench_pipeline.py"],
     ["bench_pipeline.py", "--files", "2", "--seconds", "10", "--runs", "1"]),
    ("Verify: functional fidelity simulation", ["bench_verify.py"], ["bench_verify.py", "--quick"]),
    ("Accuracy against ground truth", ["accuracy.py"], ["accuracy.py", "--quick"]),
]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--out", type=Path, help="write the report here (default: print it)")
    ap.add_argument("--only", help="comma-separated script names to run (e.g. bench_infer.py,bench_compile.py)")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    parts = [f"# Benchmark suite ({'quick' if args.quick else 'full'})\n",
             f"Machine: {machine()}. Started {time.strftime('%Y-%m-%d %H:%M')}. "
             f"Command: `python benchmarks/suite.py{' --quick' if args.quick else ''}`.\n"]
    failed = []
    for title, full, quick in SUITE:
        argv = quick if args.quick else full
        if only and argv[0] not in only:
            continue
        script = HERE / argv[0]
        if not script.exists():
            failed.append(argv[0])
            parts.append(f"## {title}\n\n`{argv[0]}` is not in this checkout.\n")
            continue
        print(f"running {' '.join(argv)}", file=sys.stderr, flush=True)
        t = time.perf_counter()
        r = subprocess.run([sys.executable, str(script), *argv[1:]], capture_output=True, text=True)
        took = time.perf_counter() - t
        cmd = "python benchmarks/" + " ".join(argv)
        if r.returncode != 0:
            failed.append(argv[0])
            last = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
            parts.append(f"## {title}\n\n`{cmd}` **failed** after {took:.0f} s: {last}\n")
            continue
        parts.append(f"## {title}\n\n`{cmd}` ({took:.0f} s)\n\n{r.stdout.strip()}\n")
    report = "\n".join(parts)
    if args.out:
        args.out.write_text(report)
        print(f"report → {args.out}", file=sys.stderr)
    else:
        print(report)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
