"""Structural and functional fidelity of the four technologies, and the figures of docs/fidelity.md.

    python benchmarks/fidelity.py                       # tables on stdout, figures to docs/figures/
    python benchmarks/fidelity.py --no-functional       # weights only (≈ 1 min)
    python benchmarks/fidelity.py --tile-sizes          # read-out table: fidelity vs tile size 64…1024 (≈ 10 min)

Input: the simulator's 2,000-neuron network (``bench_verify.network_dir``:
150,066 synapses, lognormal PSPs), compiled once per technology with its
default crossbar, layers, scheme and levels, with ``--clip none`` (compile's
default: full scale = the largest |w|) and with ``--clip p99`` (full scale =
the 99th percentile of |w|; the largest 1 % saturate). Every number
is ``connectome.verify.verify_map`` (seed 0) at 0, 1 day and 10 years after
programming, with global drift compensation unless said otherwise;
functional fidelity simulates 30 s of both networks (the default).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's package, not an installed one
import _harness as H  # noqa: E402
from bench_verify import compiled_map, network_dir  # noqa: E402

TECHS = ["flash", "mram", "pcm", "rram"]
CLIPS = ["none", "p99"]
AFTER = [("0", 0.0), ("1d", 86400.0), ("10y", 10 * 365.25 * 86400.0)]
FIG = Path(__file__).resolve().parents[1] / "docs" / "figures"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-functional", action="store_true")
    ap.add_argument("--no-figures", action="store_true")
    ap.add_argument("--figures-only", action="store_true", help="only redraw the figures")
    ap.add_argument("--tile-sizes", action="store_true",
                    help="only the read-out table: weight Pearson and functional fidelity vs tile size per technology")
    ap.add_argument("--sizes", type=int, nargs="+", default=SIZES)
    ap.add_argument("--targets", action="store_true",
                    help="only issue 17's targets: RRAM and PCM at 4 bits (t = 0; PCM also 10 years)")
    ap.add_argument("--functional-s", type=float, default=30.0, help="simulated seconds for --tile-sizes")
    args = ap.parse_args()
    if args.tile_sizes:
        return tile_size_table(args.sizes, None if args.no_functional else args.functional_s)
    if args.targets:
        return targets(None if args.no_functional else args.functional_s)
    from connectome.verify import verify_map

    net = network_dir(2000)
    maps = {(t, c): compiled_map(net, t, c) for t in TECHS for c in CLIPS}
    if args.figures_only:
        figures(maps, net)
        return 0
    cases = [(t, c, label, sec, comp) for t in TECHS for c in CLIPS for label, sec in AFTER
             for comp in ((True, False) if t == "pcm" and sec > 0 and c == "none" else (True,))]
    rows, reps = [], {}
    for t, c, label, sec, comp in cases:
        r = verify_map(maps[t, c], net, after_s=sec, drift_compensation=comp)
        reps[t, c, label, comp] = r
        rows.append(_row(r["weights"], tech=t, clip=c, after=label, comp="on" if comp else "off"))
        if label == "10y" and comp:
            rows.append(_row(r["quantisation_only"], tech=t, clip=c, after="quantisation only", comp=""))
    print(f"Machine: {H.machine()}; network {net.name}: {reps['rram', 'none', '0', True]['weights']['synapses']} "
          "synapses\n")
    print(H.table(rows, [("tech", "technology"), ("clip", "clip"), ("after", "after"), ("comp", "compensation"),
                         ("pearson", "Pearson"), ("spearman", "Spearman"), ("flips", "sign flips %"),
                         ("lost", "lost %"), ("rel", "mean |Δw|/|w|"), ("rms", "rms Δw mV")]))
    for c in CLIPS:
        drows = [{"tech": t, **{f"d{x['decile']}": x["mean_abs_rel_error"] for x in reps[t, c, "1d", True]["deciles"]}}
                 for t in TECHS]
        print(f"\nMean |Δw|/|w| by decile of |w| (clip {c}, 1 day, compensation on):\n")
        print(H.table(drows, [("tech", "technology")] + [(f"d{k}", f"D{k}") for k in range(1, 11)]))
    edges = [f"{x['abs_w_min_mv']:.2g}–{x['abs_w_max_mv']:.2g}" for x in reps["rram", "none", "1d", True]["deciles"]]
    print("\nDecile bounds (mV): " + ", ".join(edges))
    if not args.no_functional:
        from connectome.verify.functional import LIFParams

        frows = []
        for t, c, label, sec, comp in cases:
            if label == "1d":
                continue
            r = verify_map(maps[t, c], net, after_s=sec, drift_compensation=comp, functional=True,
                           functional_params=LIFParams())
            f = r["functional"]
            frows.append({"tech": t, "clip": c, "after": label, "comp": "on" if comp else "off", "score": f["score"],
                          "ref": f["reference_score"], **f["components"],
                          "ra": f["mean_rate_copied_hz"], "rb": f["mean_rate_pasted_hz"],
                          "ba": f["bursts_copied"]["count"], "bb": f["bursts_pasted"]["count"]})
        print("\nFunctional fidelity (30 s, 2,000 neurons; reference = the copied network under another drive seed):\n")
        print(H.table(frows, [("tech", "technology"), ("clip", "clip"), ("after", "after"), ("comp", "compensation"),
                              ("score", "fidelity"), ("ref", "reference"), ("rates", "rate corr."),
                              ("rate_level", "1 − rate diff"), ("correlations", "corr. of corr."),
                              ("bursts", "bursts"), ("ra", "rate copied Hz"), ("rb", "rate pasted Hz"),
                              ("ba", "bursts copied"), ("bb", "bursts pasted")]))
    if not args.no_figures:
        figures(maps, net)
    return 0


SIZES = [64, 128, 256, 512, 1024]


def tile_size_table(sizes, functional_s) -> int:
    """Fidelity vs tile size with the read-out non-idealities (docs/fidelity.md, "Read-out and tile size").

    Each technology's default levels, scheme, layers and full scale (p99);
    square tiles up to the technology's limit; verify at t = 0 (seed 0) with
    the technology's programming and read noise, plus: read-out off (ideal
    wires and converters), read-out with every row driven (the worst IR drop,
    the default) and with 1 % of the rows driven (sparse spiking input).
    Functional fidelity (with the default read-out) over ``functional_s``
    simulated seconds, raw and normalised by the copy-vs-itself reference;
    and the read-out alone (programming and read noise off): Pearson and
    functional fidelity, which isolate what the tile size costs.
    """
    import time
    import warnings

    from connectome.compile import CompileOptions, compile_connectome
    from connectome.devices import load_technology
    from connectome.graph.formats import read_connectome
    from connectome.verify import verify_objects
    from connectome.verify.functional import LIFParams

    net = network_dir(2000)
    con = read_connectome(net)
    rows = []
    for t in TECHS:
        a = load_technology(t).array
        for n in sizes:
            if n > a.max_rows or n > a.max_cols:
                continue
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pm = compile_connectome(con, CompileOptions(technology=t, rows=n, cols=n, baselines=False))
            ideal = verify_objects(pm, con, readout=False)["weights"]
            sparse = verify_objects(pm, con, input_activity=0.01)
            fp = LIFParams(duration_s=functional_s) if functional_s else None
            full = verify_objects(pm, con, functional=bool(functional_s), functional_params=fp)
            ro = full["device"]["readout"]
            f = full.get("functional") or {}
            # the read-out alone (no programming or read noise): what the tile size costs by itself
            only = verify_objects(pm, con, programming_noise_scale=0.0, read_noise_scale=0.0,
                                  functional=bool(functional_s), functional_params=fp)
            fo = only.get("functional") or {}
            rows.append({"tech": t, "tile": f"{n}×{n}", "tiles": pm.summary["tiles"],
                         "fmin": ro.get("line_factor_min"), "fmed": ro.get("line_factor_median"),
                         "p_ideal": ideal["pearson"], "p_all": full["weights"]["pearson"],
                         "p_sparse": sparse["weights"]["pearson"], "flips": full["weights"]["sign_flips"],
                         "func": f.get("score", ""), "ref": f.get("reference_score", ""),
                         "norm": f.get("score_normalised", ""), "p_ro": only["weights"]["pearson"],
                         "func_ro": fo.get("score", ""), "norm_ro": fo.get("score_normalised", ""),
                         "s": round(time.perf_counter() - t0, 1)})
            print(rows[-1], flush=True)
    print(f"\nMachine: {H.machine()}; network {net.name}: {con.n_edges} edges, {con.n_neurons} neurons; "
          f"functional {functional_s or 0:g} s simulated\n")
    print(H.table(rows, [("tech", "technology"), ("tile", "tile"), ("tiles", "tiles"),
                         ("fmin", "IR factor min"), ("fmed", "IR factor median"),
                         ("p_ideal", "Pearson, ideal read-out"), ("p_all", "Pearson, all rows driven"),
                         ("p_sparse", "Pearson, 1 % rows driven"), ("flips", "sign flips"),
                         ("func", "functional"), ("ref", "reference"), ("norm", "functional normalised"),
                         ("p_ro", "Pearson, read-out only"), ("func_ro", "functional, read-out only"),
                         ("norm_ro", "normalised, read-out only"), ("s", "wall s")]))
    return 0


def targets(functional_s) -> int:
    """RRAM and PCM at 4 bits (16 levels), default crossbar and full scale: Pearson, sign flips and the
    normalised functional fidelity at t = 0, and PCM's Pearson after 10 years with drift compensation
    (targets: ≥ 0.99, 0, ≥ 0.95; ≥ 0.95)."""
    import warnings

    from connectome.compile import CompileOptions, compile_connectome
    from connectome.graph.formats import read_connectome
    from connectome.verify import verify_objects
    from connectome.verify.functional import LIFParams

    net = network_dir(2000)
    con = read_connectome(net)
    rows = []
    for t in ("rram", "pcm"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pm = compile_connectome(con, CompileOptions(technology=t, bits=4, baselines=False))
        for label, sec in (("0", 0.0),) + ((("10y", AFTER[2][1]),) if t == "pcm" else ()):
            fp = LIFParams(duration_s=functional_s) if functional_s and sec == 0 else None
            for ro in (True, False):
                r = verify_objects(pm, con, after_s=sec, functional=fp is not None, functional_params=fp,
                                   readout=ro)
                f = r.get("functional") or {}
                rows.append({"tech": t, "after": label, "readout": "on" if ro else "off",
                             "pearson": r["weights"]["pearson"], "flips": r["weights"]["sign_flips"],
                             "func": f.get("score", ""), "norm": f.get("score_normalised", ""),
                             "q": r["quantisation_only"]["pearson"]})
                print(rows[-1], flush=True)
    print(f"\nMachine: {H.machine()}; network {net.name}: {con.n_edges} edges; 4 bits (16 levels)\n")
    print(H.table(rows, [("tech", "technology"), ("after", "after"), ("readout", "read-out"),
                         ("pearson", "Pearson"), ("q", "Pearson, quantisation only"), ("flips", "sign flips"),
                         ("func", "functional"), ("norm", "functional normalised")]))
    return 0


def _row(w: dict, **keys) -> dict:
    return {**keys, "pearson": w["pearson"], "spearman": w["spearman"],
            "flips": f"{100 * (w['sign_flip_fraction'] or 0):.2f}", "lost": f"{100 * w['lost_fraction']:.2f}",
            "rel": w["mean_abs_rel_error"], "rms": w["rms_error_mv"]}


def figures(maps, net):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from connectome.graph import Connectome
    from connectome.io.progmap import read_map
    from connectome.verify.effective import NonIdealities, effective_weights, physical_cells
    from connectome.verify.report import join

    FIG.mkdir(parents=True, exist_ok=True)
    plt.rcParams.update({"svg.hashsalt": "connectome", "font.size": 9})
    con = Connectome.read(net)
    pm = read_map(maps["pcm", "none"])
    cells = physical_cells(pm)
    fig, axes = plt.subplots(1, 3, figsize=(10, 3.4), sharex=True, sharey=True)
    for ax, (label, sec, comp) in zip(axes, [("right after programming", 0.0, True),
                                             ("10 years, no compensation", AFTER[2][1], False),
                                             ("10 years, global drift compensation", AFTER[2][1], True)]):
        e = effective_weights(pm, cells, NonIdealities(after_s=sec, drift_compensation=comp), seed=0)
        J = join(con, pm, e)
        sel = np.random.default_rng(0).permutation(len(J.w_copy))[:20000]
        ax.plot(J.w_copy[sel], J.w_eff[sel], ".", ms=1, alpha=0.3, color="C0", rasterized=True)
        lim = float(np.abs(J.w_copy).max())
        ax.plot([-lim, lim], [-lim, lim], "k-", lw=0.6)
        ax.set_title(f"PCM, {label}")
        ax.set_xlabel("copied weight (mV)")
    axes[0].set_ylabel("effective pasted weight (mV)")
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(FIG / f"fidelity_pcm_drift.{ext}", dpi=150, metadata={"Date": None} if ext == "svg" else None)
    plt.close(fig)

    from connectome.verify import verify_map

    fig, ax = plt.subplots(figsize=(7.0, 3.4))
    for k, t in enumerate(TECHS):
        for clip, style in (("none", "o-"), ("p99", "s--")):
            d = verify_map(maps[t, clip], net, after_s=86400.0)["deciles"]
            ax.plot([x["decile"] for x in d], [x["mean_abs_rel_error"] for x in d], style, color=f"C{k}", ms=3,
                    label=f"{t}, clip {clip}", lw=1)
    ax.set_yscale("log")
    ax.set_xlabel("decile of copied |w| (1 = smallest)")
    ax.set_ylabel("mean |Δw| / |w|")
    ax.set_title("relative weight error, 1 day after programming")
    ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(FIG / f"fidelity_deciles.{ext}", dpi=150, metadata={"Date": None} if ext == "svg" else None)
    plt.close(fig)
    print(f"\nfigures: {FIG / 'fidelity_pcm_drift.png'}, {FIG / 'fidelity_deciles.png'}")


if __name__ == "__main__":
    sys.exit(main())
