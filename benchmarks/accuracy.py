"""Accuracy of ``connectome infer`` against simulator ground truth.

Generates recordings with ``connectome simulate`` (cached outside the
repository, see ``_harness.py``), runs ``connectome infer`` on each as a user
would, and scores the output against the ``.truth.h5`` file, which the
pipeline never reads (:mod:`connectome.evaluate`). Prints a Markdown table;
``--json FILE`` keeps every number.

    python benchmarks/accuracy.py            # all scenarios (≈ 15 min on 2 cores)
    python benchmarks/accuracy.py --quick    # the small ones (≈ 2 min)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine, run_measured, simulated, table  # noqa: E402

# name: (simulate options, quick?)
SCENARIOS = {
    "120 neurons, 16×16, 120 s": (dict(neurons=120, grid="16x16", duration=120, seed=3), True),
    "120 neurons, 16×16, 120 s, strong bursts": (
        dict(neurons=120, grid="16x16", duration=120, seed=4,
             param=["burst_interval_s=[6.0, 4.0]", "burst_depol_mv_range=[3.0, 10.0]", "common_groups=0.15"]), True),
    "400 neurons, 32×32, 120 s": (dict(neurons=400, grid="32x32", duration=120, seed=5), False),
    "2,000 neurons, 64×64, 60 s": (dict(neurons=2000, grid="64x64", duration=60, seed=0), False),
}


def slug_for(opts: dict) -> str:
    """The cache name of a simulated scenario."""
    slug = "acc-" + "-".join(f"{k}{v}" for k, v in opts.items() if k != "param").replace("x", "by")
    if "param" in opts:
        slug += "-p" + hashlib.sha256("\n".join(opts["param"]).encode()).hexdigest()[:8]
    return slug


def score(name: str, opts: dict, infer_params=()) -> dict:
    """Simulate (cached), run ``connectome infer`` with ``--param`` items, score against the truth."""
    from connectome.evaluate import evaluate

    rec = simulated(slug_for(opts), **opts)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        cmd = [sys.executable, "-m", "connectome.cli", "infer", str(rec), "--out", str(out), "--quiet"]
        for item in infer_params:
            cmd += ["--param", item]
        m = run_measured(cmd)
        r = evaluate(out, rec.with_name(rec.stem + ".truth.h5"))
    bins = r.pop("recall_by_psp_mv")
    row = {"scenario": name, **r, "wall_s": m["wall_s"], "rss_mb": m["rss_mb"]}
    for k, b in bins.items():
        row[f"recall {k} mV"] = "–" if b["recall"] is None else f"{b['recall']:.2f} ({b['true']})"
    print(f"{name}: precision {r['precision']:.3f}, recall(detectable) {r['recall_detectable']:.3f}",
          file=sys.stderr, flush=True)
    return row


COLUMNS = [("scenario", "scenario"), ("neurons_recovered_fraction", "neurons found"),
           ("reported_synapses", "reported"), ("precision", "precision"),
           ("detectable_synapses", "detectable"), ("recall_detectable", "recall (SNR ≥ 5)"),
           ("recall 0.1-0.3 mV", "recall 0.1–0.3 mV"), ("recall 0.3-1 mV", "0.3–1 mV"),
           ("recall 1-3 mV", "1–3 mV"), ("recall 3-inf mV", "> 3 mV"),
           ("roc_auc", "ROC AUC"), ("kind_correct", "kind correct"),
           ("median_latency_error_ms", "latency err (ms)"), ("weight_pearson_r", "weight r"),
           ("wall_s", "infer wall (s)")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the small scenarios")
    ap.add_argument("--json", type=Path, help="write all results here")
    args = ap.parse_args()
    rows = []
    for name, (opts, quick) in SCENARIOS.items():
        if args.quick and not quick:
            continue
        rows.append(score(name, opts))
    print(f"\nMachine: {machine()}\n")
    print(table(rows, COLUMNS))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
