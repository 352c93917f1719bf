"""Accuracy of ``connectome infer`` against simulator ground truth.

Generates recordings with ``connectome simulate`` (cached outside the
repository, see ``_harness.py``), runs ``connectome infer`` on each as a user
would, and scores the output against the ``.truth.h5`` file, which the
pipeline never reads (:mod:`connectome.evaluate`). Prints a Markdown table;
``--json FILE`` keeps every number.

    python benchmarks/accuracy.py            # all scenarios (≈ 15 min on 2 cores, inputs cached)
    python benchmarks/accuracy.py --quick    # the small ones (≈ 2 min)
    python benchmarks/accuracy.py --hh       # the three Hodgkin–Huxley networks only
    python benchmarks/accuracy.py --quick --hh --joint   # … each also with joint_refit=true
    python benchmarks/accuracy.py --quick --hh --off     # … each also with pre_center=false (defence off)
    python benchmarks/accuracy.py --variants  # HH parameter sets D–F the defaults were not developed on
    python benchmarks/accuracy.py --quick --hh --quiet-off   # … each also with quiet_min_fraction=0

Two simulators: the point-process PSP model (``connectome simulate``) and the
conductance-based Hodgkin–Huxley network (``connectome simulate --model hh``,
docs/simulator.md); generating each 300-s HH recording takes ≈ 20 min once.
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
#: Hodgkin–Huxley networks (``--model hh``): A with default parameters; B larger, burstier, noisier,
#: channels stored in shuffled order.
HH_SCENARIOS = {
    "HH A: 120 neurons, 16×16, 300 s": (dict(model="hh", neurons=120, grid="16x16", duration=300, seed=1), False),
    "HH B: 150 neurons, 16×16, 300 s, burstier, noisier, shuffled": (
        dict(model="hh", neurons=150, grid="16x16", duration=300, seed=2,
             param=["burstiness=1.2", "noise_ua_cm2=[0.35, 0.7, 0.55, 1.1]", "noise_uv_median=45.0",
                    "shuffle_channels=true"]), False),
    # C: no short-term depression (τ_rec 5 ms: resources recover between spikes), weaker excitation so
    # the network does not run away; every PSP is the truth's PSP, so est/true isolates the somatic scale
    "HH C: 120 neurons, 16×16, 300 s, no depression": (
        dict(model="hh", neurons=120, grid="16x16", duration=300, seed=5,
             param=["stp_tau_rec_ms=[5.0, 5.0]", "g_ee_ns=1.2", "g_ei_ns=0.4"]), False),
}

#: Hodgkin–Huxley parameter sets the method was never developed on (``--variants``): other synaptic
#: kinetics, depression, wiring, latencies, drive, junction density and electrode noise — a check that
#: the defaults hold across conductance-based networks, not only on A–C.
HH_VARIANTS = {
    "HH D: slow synapses (AMPA 1/12 ms, GABA 2/20 ms), U 0.3, τ_rec 0.8 s, in-degree 25": (
        dict(model="hh", neurons=120, grid="16x16", duration=300, seed=7,
             param=["ampa_tau_ms=[1.0, 12.0]", "gaba_tau_ms=[2.0, 20.0]", "stp_u=[0.3, 0.3]",
                    "stp_tau_rec_ms=[800.0, 800.0]", "in_degree=25.0"]), False),
    "HH E: slow axons (0.15 m/s, base 1.5 ms), dense (in-degree 60), strong shared drive": (
        dict(model="hh", neurons=120, grid="16x16", duration=300, seed=8,
             param=["conduction_m_per_s=0.15", "latency_base_ms=1.5", "in_degree=60.0", "drive_ua_cm2=0.15",
                    "drive_groups=2", "stp_u=[0.3, 0.25]", "stp_tau_rec_ms=[600.0, 400.0]"]), False),
    "HH F: 3× gap junctions, 60 µV electrode noise, shuffled": (
        dict(model="hh", neurons=120, grid="16x16", duration=300, seed=9,
             param=["gap_density=3.0", "noise_uv_median=60.0", "shuffle_channels=true"]), False),
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
    r["fp_disynaptic"] = r.get("false_positive_causes", {}).get("disynaptic", {}).get("count")
    r["fp_disynaptic_base"] = r.get("false_positive_cause_base_rate", {}).get("disynaptic")
    row = {"scenario": name + (" · " + " ".join(infer_params) if infer_params else ""), **r,
           "wall_s": m["wall_s"], "rss_mb": m["rss_mb"]}
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
#: The issue-13 scores (second table): electrical synapses, weight scale, MCC, explained false positives.
COLUMNS_13 = [("scenario", "scenario"), ("precision", "precision"), ("recall_detectable", "recall (ideal z ≥ 5)"),
              ("recall_all", "recall (all)"),
              ("recall_detectable_analytic", "recall (analytic SNR ≥ 5)"), ("mcc", "MCC"),
              ("kind_correct_incl_electrical", "kind (incl. electrical)"), ("electrical_recall", "electrical recall"),
              ("electrical_kind_precision", "electrical kind-precision"), ("weight_pearson_r", "weight r"),
              ("weight_ratio_median_all", "est/true weight"), ("weight_ratio_median_mean_psp", "est/mean-PSP weight"),
              ("weight_pearson_r_mean_psp", "weight r (mean PSP)"),
              ("roc_auc", "ROC AUC"), ("median_latency_error_ms", "latency err (ms)"), ("false_positives", "FP"),
              ("fp_disynaptic", "FP disynaptic"), ("fp_disynaptic_base", "unconnected pairs with a chain")]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only the small scenarios")
    ap.add_argument("--hh", action="store_true", help="the Hodgkin–Huxley networks only (with --quick: "
                    "the small point-process scenarios and the HH networks)")
    ap.add_argument("--joint", action="store_true", help="each scenario also with joint_refit=true")
    ap.add_argument("--off", action="store_true", help="each scenario also with pre_center=false "
                    "(the presynaptic null centre, the defence against burst-locked responses, switched off)")
    ap.add_argument("--quiet-off", action="store_true", help="each scenario also with quiet_min_fraction=0 "
                    "(the persistence-outside-network-events defence switched off)")
    ap.add_argument("--variants", action="store_true", help="only the Hodgkin–Huxley parameter variants D–F "
                    "(networks the defaults were not developed on)")
    ap.add_argument("--json", type=Path, help="write all results here")
    args = ap.parse_args()
    if args.variants:
        todo = HH_VARIANTS
    elif args.hh and args.quick:
        todo = {k: v for k, v in SCENARIOS.items() if v[1]} | HH_SCENARIOS
    elif args.hh:
        todo = HH_SCENARIOS
    else:
        todo = {k: v for k, v in (SCENARIOS | HH_SCENARIOS).items() if v[1] or not args.quick}
    variants = [()] + ([("pre_center=false",)] if args.off else [])
    variants += [("joint_refit=true",)] if args.joint else []
    variants += [("quiet_min_fraction=0",)] if args.quiet_off else []
    rows = []
    for name, (opts, _quick) in todo.items():
        for params in variants:
            rows.append(score(name, opts, params))
    print(f"\nMachine: {machine()}\n")
    print(table(rows, COLUMNS))
    print()
    print(table(rows, COLUMNS_13))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
