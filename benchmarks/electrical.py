"""Electrical synapses and the weight scale, on both simulators (issue 13, items 2 and 3).

Runs ``connectome infer`` (default settings, or ``--param KEY=VALUE`` items)
on the quick point-process scenarios and the three Hodgkin–Huxley networks of
``benchmarks/accuracy.py`` (cached recordings, generated once), and prints
one table: kind correct (electrical included), electrical recall and
kind-precision (unordered pairs, :func:`connectome.evaluate.evaluate`), and
the weight scale against two definitions of the truth:

- ``weight_mv`` (mean PSP per presynaptic spike) against the truth's PSP
  times the mean Tsodyks–Markram resources at the presynaptic spikes
  (:func:`connectome.evaluate.release_factor`, 1 without depression);
- ``weight_rested_mv`` (PSP after ≥ ``weight_rested_isi_s`` of presynaptic
  silence) against the truth's first, undepressed PSP (``weight_mv`` of the
  truth file);

each as the median |estimated| / |true| and Pearson r over the true positives
of the right chemical kind (``n``: edges with a finite estimate).

"AP height" is the somatic AP height the simulator's electrode model implies:
per detected neuron, its AP amplitude on the best channel (``neurons.csv``)
over that channel's true gain at mid-recording (gain × exp(−T/2τ) of the
resealing), median over neurons. ``weight_mv`` assumes ``ap_amplitude_mv``
(80 mV): a simulator whose APs are higher reads weights smaller by that ratio.

    python benchmarks/electrical.py                 # ≈ 6 min on 2 cores, inputs cached
    python benchmarks/electrical.py --param electrical_q=0.001
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine, run_measured, simulated, table  # noqa: E402
from accuracy import HH_SCENARIOS, SCENARIOS, slug_for  # noqa: E402


def weight_scale(out: Path, truth: Path) -> dict:
    """Median |est|/|true| and r of weight_mv vs the mean PSP, and of weight_rested_mv vs the first PSP."""
    from connectome.evaluate import match_neurons, read_truth_arrays, release_factor
    from connectome.graph.formats import read_csv_dir

    t = read_truth_arrays(truth)
    con = read_csv_dir(out)
    m = match_neurons([[int(c) for c in str(ch).split(";") if c] for ch in con.neurons["channels"]], t)
    rf = release_factor(t)
    pairs = zip(t.pre.tolist(), t.post.tolist(), t.kind.tolist())
    key = {(a, b): (k, i) for i, (a, b, k) in enumerate(pairs) if k != 3}
    e = con.edges
    rested = e.get("weight_rested_mv", np.full(len(e["pre"]), np.nan))
    rows = []
    for j, (a, b, k) in enumerate(zip(e["pre"].tolist(), e["post"].tolist(), e["kind"].tolist())):
        h = key.get((int(m[a]), int(m[b])))
        if h is None or h[0] != k:
            continue
        w = float(t.weight_mv[h[1]])
        rows.append((e["weight_mv"][j], rested[j], w * rf[h[1]], w))
    R = np.array(rows, float).reshape(-1, 4)
    res = {}
    for name, est, tru in (("mean", 0, 2), ("rested", 1, 3)):
        ok = np.isfinite(R[:, est]) & (np.abs(R[:, tru]) > 0)
        res[f"{name}_ratio"] = float(np.median(np.abs(R[ok, est]) / np.abs(R[ok, tru]))) if ok.any() else None
        res[f"{name}_r"] = float(np.corrcoef(R[ok, est], R[ok, tru])[0, 1]) if ok.sum() >= 3 else None
        res[f"{name}_n"] = int(ok.sum())
    res["first_ratio_of_mean"] = (float(np.median(np.abs(R[:, 0]) / np.abs(R[:, 3]))) if len(R) else None)
    res["ap_height_mv"] = implied_ap_height(con, t)
    return res


def implied_ap_height(con, t) -> float | None:
    """Median over detected neurons of electrode AP amplitude / the best channel's true gain at mid-recording."""
    h = []
    for ch, amp in zip(con.neurons["channels"], con.neurons["ap_amplitude_mv"]):
        c = int(str(ch).split(";")[0])
        tau = float(t.coupling_tau_s[c]) if t.coupling_tau_s is not None else np.inf
        gain = float(t.attenuation[c]) * (np.exp(-t.duration_s / 2.0 / tau) if np.isfinite(tau) and tau > 0 else 1.0)
        if gain > 0:
            h.append(float(amp) / gain)
    return float(np.median(h)) if h else None


COLUMNS = [("scenario", "scenario"), ("kind_correct_incl_electrical", "kind (incl. electrical)"),
           ("electrical", "electrical found / true pairs"), ("electrical_recall", "electrical recall"),
           ("electrical_kind_precision", "electrical kind-precision"), ("precision", "precision"),
           ("mean_ratio", "weight_mv / mean PSP"), ("mean_r", "r"),
           ("rested_ratio", "weight_rested_mv / first PSP"), ("rested_r", "r "), ("rested_n", "n rested"),
           ("first_ratio_of_mean", "weight_mv / first PSP"), ("ap_height_mv", "AP height (mV)"),
           ("wall_s", "infer wall (s)")]


def main() -> int:
    from connectome.evaluate import evaluate

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--param", action="append", default=[], help="inference parameter KEY=VALUE (repeatable)")
    ap.add_argument("--json", type=Path, help="write all results here")
    args = ap.parse_args()
    todo = {k: v for k, v in SCENARIOS.items() if v[1]} | HH_SCENARIOS
    rows = []
    for name, (opts, _quick) in todo.items():
        rec = simulated(slug_for(opts), **opts)
        truth = rec.with_name(rec.stem + ".truth.h5")
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "out"
            cmd = [sys.executable, "-m", "connectome.cli", "infer", str(rec), "--out", str(out), "--quiet"]
            for item in args.param:
                cmd += ["--param", item]
            m = run_measured(cmd)
            r = evaluate(out, truth)
            r.update(weight_scale(out, truth))
        found = round((r.get("electrical_recall") or 0) * r["true_electrical_pairs"])
        n_rep = r["reported_electrical_pairs"]
        row = {"scenario": name, **{k: r.get(k) for k, _ in COLUMNS if k in r},
               "electrical": f"{found} / {r['true_electrical_pairs']} ({n_rep} reported)",
               "wall_s": m["wall_s"]}
        rows.append(row)
        print(name, json.dumps({k: v for k, v in row.items() if k != "scenario"}, default=float),
              file=sys.stderr, flush=True)
    print(f"\nMachine: {machine()}" + (f"; parameters {' '.join(args.param)}" if args.param else "") + "\n")
    print(table(rows, COLUMNS))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
