"""How inference accuracy moves with recording length, noise and burst strength,
and what each of the method's defences against culture confounds is worth.

All rows use the 120-neuron, 16×16 scenario of ``accuracy.py`` (default
simulator parameters, seed 3) and change one thing; the truth is read only by
the scorer (:mod:`connectome.evaluate`). Sweeps:

- ``length``: 1, 2, 5, 10 minutes of recording;
- ``noise``: background membrane fluctuation σ_Vm (default 1–3 mV) and
  electrode noise (default 30 µV median);
- ``bursts``: none, default, strong, very strong network bursts (burst-locked
  depolarisation and spikes) with more hidden common input;
- ``defences``: the default 2-min recording (and the strong-burst one) with one
  of inference's defences switched off — own after-potential subtraction
  (``own_template_ms=0``), own-spike masking as well
  (``mask_after_ms=0 mask_before_ms=0``), artefact-tail masking
  (``artefact_mask_ms=0``), distance-weighted BH (``distance_weighted=false``),
  and with the line detrend switched on (``detrend=true``).

    python benchmarks/accuracy_sweep.py                    # every sweep (≈ 20 min on 2 cores, inputs cached)
    python benchmarks/accuracy_sweep.py --sweep length --json length.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine, table  # noqa: E402
from accuracy import COLUMNS, score  # noqa: E402

BASE = dict(neurons=120, grid="16x16", duration=120, seed=3)
STRONG = ["burst_interval_s=[6.0, 4.0]", "burst_depol_mv_range=[3.0, 10.0]", "common_groups=0.15"]

SWEEPS = {
    "length": [
        ("1 min", {**BASE, "duration": 60}, ()),
        ("2 min", BASE, ()),
        ("5 min", {**BASE, "duration": 300}, ()),
        ("10 min", {**BASE, "duration": 600}, ()),
    ],
    "noise": [
        ("σ_Vm 0.5–1.5 mV", {**BASE, "param": ["vm_noise_mv_range=[0.5, 1.5]"]}, ()),
        ("σ_Vm 1–3 mV (default)", BASE, ()),
        ("σ_Vm 2–6 mV", {**BASE, "param": ["vm_noise_mv_range=[2.0, 6.0]"]}, ()),
        ("electrode noise 60 µV", {**BASE, "param": ["noise_uv_median=60.0"]}, ()),
        ("electrode noise 120 µV", {**BASE, "param": ["noise_uv_median=120.0"]}, ()),
    ],
    "bursts": [
        ("no bursts", {**BASE, "param": ["burst_interval_s=[100000.0, 4.0]"]}, ()),
        ("default bursts (every ≈ 12 s, 1–5 mV)", BASE, ()),
        ("strong (every ≈ 6 s, 3–10 mV, 15 % common input)", {**BASE, "seed": 4, "param": STRONG}, ()),
        ("very strong (every ≈ 3 s, 5–15 mV, 30 % common input)",
         {**BASE, "seed": 4, "param": ["burst_interval_s=[3.0, 4.0]", "burst_depol_mv_range=[5.0, 15.0]",
                                      "common_groups=0.3"]}, ()),
    ],
    "defences": [
        ("all defences (default)", BASE, ()),
        ("no own after-potential subtraction", BASE, ("own_template_ms=0",)),
        ("… and no own-spike mask", BASE, ("own_template_ms=0", "mask_after_ms=0", "mask_before_ms=0")),
        ("no artefact-tail mask", BASE, ("artefact_mask_ms=0",)),
        ("plain BH (no distance weights)", BASE, ("distance_weighted=false",)),
        ("line detrend on", BASE, ("detrend=true",)),
        ("boxcar windows instead of the whitened matched filter", BASE, ("matched_filter=false",)),
        ("strong bursts: all defences", {**BASE, "seed": 4, "param": STRONG}, ()),
        ("strong bursts: no own after-potential subtraction", {**BASE, "seed": 4, "param": STRONG},
         ("own_template_ms=0",)),
        ("strong bursts: line detrend on", {**BASE, "seed": 4, "param": STRONG}, ("detrend=true",)),
        ("strong bursts: boxcar windows", {**BASE, "seed": 4, "param": STRONG}, ("matched_filter=false",)),
    ],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sweep", choices=[*SWEEPS, "all"], default="all")
    ap.add_argument("--json", type=Path, help="write all results here")
    args = ap.parse_args()
    names = list(SWEEPS) if args.sweep == "all" else [args.sweep]
    results = {}
    print(f"Machine: {machine()}")
    for sweep in names:
        rows = []
        for label, opts, params in SWEEPS[sweep]:
            row = score(label, opts, params)
            row["infer parameters"] = " ".join(params) or "defaults"
            rows.append(row)
        results[sweep] = rows
        cols = COLUMNS[:1] + ([("infer parameters", "infer parameters")] if sweep == "defences" else []) + COLUMNS[1:]
        print(f"\n### {sweep}\n")
        print(table(rows, cols), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
