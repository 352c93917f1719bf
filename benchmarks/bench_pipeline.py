"""Scale-out: the same batch of recordings on the default scheduler and on a
local dask.distributed cluster, with identical outputs checked.

The batch is ``--files`` simulated recordings (cached outside the
repository, see ``_harness.py``) of ``--channels`` channels × ``--seconds``.
Each configuration runs ``connectome run CONFIG --quiet`` in its own process
(``--runs`` times, fresh output root each time):

- ``threads``: files one after another in one process, inference on 2 threads;
- ``cluster W×T``: a LocalCluster of W worker processes, one file per worker
  at a time, inference on T threads each (2×1 and 1×2 use the same 2 cores;
  1×2 isolates the cluster's own overhead: worker start-up, imports, numba
  cache loads, task shipping).

Prints a Markdown table (median, min–max wall, peak RSS of the largest
process, files per minute, speed-up against ``threads`` from the same run)
and whether every output file (except timings in summary.json) is
byte-identical between the configurations.

    python benchmarks/bench_pipeline.py                          # 4 files of 256 ch × 30 s
    python benchmarks/bench_pipeline.py --files 4 --channels 1024 --seconds 30 --runs 3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine, repeat, simulated, table  # noqa: E402

GRIDS = {256: "16x16", 1024: "32x32", 4096: "64x64"}


def _checksums(root: Path) -> dict:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and ".state" not in rel.parts and p.name not in ("summary.json", "run-manifest.json") \
                and not p.name.startswith("."):
            out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--channels", type=int, default=256, choices=sorted(GRIDS))
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--clusters", default="2x1,1x2",
                    help="comma-separated LocalCluster shapes WORKERSxTHREADS (threads: inference threads per file)")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    recs = [simulated(f"batch-{args.channels}ch-{args.seconds}s-seed{s}", neurons=args.channels // 2,
                      grid=GRIDS[args.channels], duration=args.seconds, seed=100 + s) for s in range(args.files)]
    configs = [("threads", 0, 2)]
    for shape in args.clusters.split(","):
        w, t = (int(v) for v in shape.lower().split("x"))
        configs.append((f"cluster {w}×{t}", w, t))
    rows, sums = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name, workers, threads in configs:
            tag = f"{workers}x{threads}"
            cfg = tmp / f"{tag}.toml"
            cfg.write_text("[run]\n" + f"inputs = {json.dumps([str(r) for r in recs])}\n"
                           + f'output = "{tmp / f"out-{tag}"}"\nworkers = {workers}\nthreads = {threads}\n'
                           + '[[compile]]\ntechnology = "rram"\ncrossbar = "256x256"\nlayers = 8\n')
            out = tmp / f"out-{tag}"
            # every run starts from an empty output root (a re-run would skip everything)
            cmd = [sys.executable, "-c",
                   "import shutil, sys; from connectome.cli import main; shutil.rmtree(sys.argv[1], True); "
                   "sys.exit(main(sys.argv[2:]))", str(out), "run", str(cfg), "--quiet"]
            r = repeat(cmd, n=args.runs)
            sums[name] = _checksums(out)
            rows.append({"configuration": name, "files": args.files, "runs": r["runs"], "median_s": r["median_s"],
                         "range": f"{r['min_s']:.1f}–{r['max_s']:.1f}", "rss_gb": r["rss_mb"] / 1024,
                         "files_per_min": 60 * args.files / r["median_s"]})
    base = rows[0]["median_s"]
    for row in rows:
        row["speedup"] = base / row["median_s"]
        row["identical"] = "yes" if sums[row["configuration"]] == sums["threads"] else "NO"
    print(f"Batch of {args.files} × {args.channels} ch × {args.seconds} s recordings (infer + compile rram); "
          f"{machine()}\n")
    for row in rows:
        row.update(median_s=f"{row['median_s']:.1f}", rss_gb=f"{row['rss_gb']:.2f}",
                   files_per_min=f"{row['files_per_min']:.2f}", speedup=f"{row['speedup']:.2f}")
    print(table(rows, [("configuration", "configuration"), ("files", "files"), ("runs", "runs"),
                       ("median_s", "wall median (s)"), ("range", "min–max (s)"),
                       ("rss_gb", "peak RSS (GB, largest process)"), ("files_per_min", "files / min"),
                       ("speedup", "speed-up vs threads"), ("identical", "outputs identical to threads")]))
    print(f"\n{len(sums['threads'])} output files compared byte for byte (summary.json timings excluded).")
    return 0 if all(r["identical"] == "yes" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
