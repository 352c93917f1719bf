"""Physical imprinting against recording length and device nonlinearity (the table and figure of docs/fidelity.md).

    python benchmarks/bench_imprint.py                  # 120 neurons, 600 s; lengths 30–600 s; 6 devices
    python benchmarks/bench_imprint.py --quick          # 60-s recording, lengths 30 and 60 s, 3 devices

The recording is simulated once (``connectome simulate --neurons 120 --grid
16x16 --duration 600 --seed 7``, default culture parameters: median EPSP
0.3 mV, IPSP 0.4 mV) and cached; seed 7 is not the recording the imprint
defaults were chosen on (seed 1, 60 s). Pass 1 (neurons, traces) runs once;
the crossbar is then imprinted with the first T seconds for each length T
and each device (RRAM window 2–40 µS; NL_LTP/NL_LTD and cycle-to-cycle σ as
listed), seed 0, and scored against the truth file and against ``connectome
infer`` run on the whole recording (:mod:`connectome.verify.imprint_eval`).
One full ``connectome imprint`` run is timed under ``/usr/bin/time``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as H  # noqa: E402

DEVICES = [("linear, no c2c noise", dict(nl_ltp=0.0, nl_ltd=0.0, c2c_sigma=0.0)),
           ("linear (NL 0)", dict(nl_ltp=0.0, nl_ltd=0.0)),
           ("NL 1", dict(nl_ltp=1.0, nl_ltd=1.0)),
           ("NeuroSim Ag:a-Si (2.4 / 4.88)", dict()),
           ("NL 5", dict(nl_ltp=5.0, nl_ltd=5.0)),
           ("NL 8", dict(nl_ltp=8.0, nl_ltd=8.0))]
FIG = Path(__file__).resolve().parents[1] / "docs" / "figures"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-figure", action="store_true")
    args = ap.parse_args()
    from connectome.devices import load_technology
    from connectome.verify.imprint import ImprintParams, device_for, imprint_crossbar, prepare
    from connectome.verify.imprint_eval import Reference, score_imprint

    dur = 60 if args.quick else 600
    lengths = [30, 60] if args.quick else [30, 60, 120, 300, 600]
    devices = DEVICES[1:4:1] if args.quick else DEVICES
    rec = H.simulated(f"imprint-120-{dur}s-s7", neurons=120, grid="16x16", duration=dur, seed=7)
    truth = rec.with_name(rec.name[:-3] + ".truth.h5")
    inf = rec.with_name(rec.name[:-3] + ".infer")
    if not (inf / "edges.csv").exists():
        H.run_measured([sys.executable, "-m", "connectome.cli", "infer", str(rec), "--out", str(inf), "--quiet"])
    from connectome.evaluate import evaluate

    base = evaluate(inf, truth)
    ref_t, ref_i = Reference(truth), Reference(inf)
    tech = load_technology("rram")
    rows = []
    t0 = time.perf_counter()
    with prepare(rec) as inp:
        t_prep = time.perf_counter() - t0
        for name, dev in devices:
            for T in lengths:
                t = time.perf_counter()
                r = imprint_crossbar(inp, device_for(tech, **dev), ImprintParams(max_duration_s=float(T)))
                dt = time.perf_counter() - t
                st, si = score_imprint(r, ref_t), score_imprint(r, ref_i)
                rows.append({"device": name, "T": T, "auc": st["auc"], "auc_det": st["auc_detectable"],
                             "auc_e": st["auc_excitatory"], "auc_i": st["auc_inhibitory"],
                             "rk": st["recall_at_matched_count"], "sp": st["spearman_synapses"],
                             "auc_inf": si["auc"], "sp_inf": si["spearman_all_pairs"], "sp_inf_syn": si["spearman_synapses"],
                             "pulses": float((r.n_potentiating + r.n_depressing).mean()), "s": dt})
    n = inp.neurons.n
    print(f"Machine: {H.machine()}\n")
    print(f"Recording {rec.name}: {n} neurons found, {dur} s; truth {st['reference_synapses_scored']} synapses among "
          f"{st['pairs_scored']} scored pairs ({st.get('detectable_synapses_scored')} detectable at SNR ≥ 5); "
          f"infer: {base['reported_synapses']} synapses, precision {base['precision']:.3f}, recall on detectable "
          f"{base['recall_detectable']:.3f}, ROC AUC of its scores against the truth {base.get('roc_auc', float('nan')):.3f}."
          f" Pass 1 (once): {t_prep:.1f} s.\n")
    print(H.table(rows, [("device", "device"), ("T", "imprinted s"), ("auc", "AUC"), ("auc_det", "AUC detectable"),
                         ("auc_e", "AUC exc."), ("auc_i", "AUC inh."), ("rk", "recall @ matched count"),
                         ("sp", "Spearman (true synapses)"), ("auc_inf", "AUC vs infer"),
                         ("sp_inf_syn", "Spearman vs infer (its synapses)"),
                         ("sp_inf", "Spearman vs infer (all pairs)"), ("pulses", "pulses/cell"),
                         ("s", "crossbar s")]))
    with tempfile.TemporaryDirectory() as tmp:
        m = H.run_measured([sys.executable, "-m", "connectome.cli", "imprint", str(rec), "--out",
                            str(Path(tmp) / "m.h5"), "--quiet"])
    print(f"\nOne `connectome imprint` run on the whole recording ({dur} s, {n} neurons): "
          f"{m['wall_s']:.1f} s, peak RSS {m['rss_mb']:.0f} MB.")
    if not args.no_figure and not args.quick:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        FIG.mkdir(parents=True, exist_ok=True)
        plt.rcParams.update({"svg.hashsalt": "connectome", "font.size": 9})
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=False)
        for k, (name, _) in enumerate(devices):
            sel = [r for r in rows if r["device"] == name]
            axes[0].plot([r["T"] for r in sel], [r["auc_det"] for r in sel], "o-", ms=3, color=f"C{k}", label=name)
            axes[1].plot([r["T"] for r in sel], [r["sp_inf_syn"] for r in sel], "o-", ms=3, color=f"C{k}")
        for ax in axes:
            ax.set_xscale("log")
            ax.set_xticks(lengths, [str(x) for x in lengths])
            ax.minorticks_off()
            ax.set_xlabel("imprinted recording (s)")
        axes[0].set_ylabel("AUC, detectable true synapses")
        axes[1].set_ylabel("Spearman vs infer (its synapses)")
        fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", ncol=3, frameon=False, fontsize=7)
        fig.tight_layout(rect=(0, 0, 1, 0.86))
        for ext in ("png", "svg"):
            fig.savefig(FIG / f"imprint_length_nl.{ext}", dpi=150, metadata={"Date": None} if ext == "svg" else None)
        print(f"figure: {FIG / 'imprint_length_nl.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
