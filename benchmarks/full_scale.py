"""Full-scale policy of ``connectome compile``: weight error for max vs percentiles, per technology.

    python benchmarks/full_scale.py                      # the table of docs/compile.md ("Full scale")
    python benchmarks/full_scale.py --synapses 20000 --sigma 0.6 0.9 1.2

Input: a random connectome that the project's simulator did not make —
2,000 neurons, 40,000 synapses drawn uniformly (no self loops), 80 %
excitatory neurons (Dale's law), |w| lognormal with median 0.5 mV and
σ_ln = 0.6, 0.9 and 1.2 (cortical EPSP amplitudes are lognormal with
σ_ln ≈ 0.9–1.0: Song et al. 2005, PLoS Biology; Buzsáki & Mizuseki 2014,
Nature Reviews Neuroscience), inhibitory weights −2 × |w|. Each case is
also run with one outlier weight of 10³ × the largest (a corrupted or
mis-scaled edge).

Each (technology, σ_ln, policy) is compiled with the technology's default
crossbar, layers, scheme and levels and read back through verify's device
model at t = 0 (programming spread after write-verify and read noise,
seed 0, no drift): Pearson correlation of copied and effective weights,
median |Δw|/|w| over the synapses, the count quantised to zero and the
count clipped. The outlier itself is left out of Pearson and the median
(it is clipped by any percentile policy; with ``max`` it sets the scale).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as H  # noqa: E402

TECHS = ["flash", "mram", "pcm", "rram"]
POLICIES = ["max", "p99.9", "p99", "p95"]


def lognormal_connectome(n_neurons: int, n_synapses: int, sigma_ln: float, outlier: bool, seed: int = 0):
    """The random lognormal connectome described in the module docstring."""
    from connectome.graph import Connectome

    rng = np.random.default_rng(seed)
    keys = np.zeros(0, np.int64)
    while len(keys) < n_synapses:
        pre = rng.integers(0, n_neurons, 2 * n_synapses)
        post = rng.integers(0, n_neurons, 2 * n_synapses)
        keys = np.unique(np.concatenate([keys, (pre * n_neurons + post)[pre != post]]))
    keys = keys[np.sort(rng.permutation(len(keys))[:n_synapses])]
    pre, post = keys // n_neurons, keys % n_neurons
    exc = rng.random(n_neurons) < 0.8
    mag = rng.lognormal(np.log(0.5), sigma_ln, len(pre))
    w = np.where(exc[pre], mag, -2.0 * mag)
    out = -1
    if outlier:
        out = int(rng.integers(0, len(w)))
        w[out] = 1e3 * np.abs(w).max()
    con = Connectome.from_edges(pre, post, weight_mv=w, kind=np.where(exc[pre], 1, 2),
                                delay_ms=np.full(len(pre), 1.0), neuron_id=np.arange(n_neurons))
    return con, out


def measure(con, outlier: int, tech: str, policy: str) -> dict:
    from connectome.compile import CompileOptions, compile_connectome
    from connectome.io.progmap import _canonical
    from connectome.verify.effective import NonIdealities, effective_weights, physical_cells
    from connectome.verify.report import join

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = compile_connectome(con, CompileOptions(technology=tech, full_scale=policy, baselines=False))
    _canonical(pm)
    eff = effective_weights(pm, physical_cells(pm), NonIdealities(), seed=0)
    J = join(con, pm, eff)
    keep = np.ones(len(J.w_copy), bool)
    if outlier >= 0:
        keep &= np.abs(J.w_copy) < np.abs(con.edges["weight_mv"][outlier])
    w, e = J.w_copy[keep], J.w_eff[keep]
    rel = np.abs(e - w) / np.abs(w)
    s = pm.summary
    with np.errstate(all="ignore"):  # every weight zero: Pearson undefined (nan)
        pearson = float(np.corrcoef(w, e)[0, 1]) if np.std(e) > 0 else float("nan")
    return {"pearson": pearson, "median_rel": float(np.median(rel)),
            "zero": int(s["quantised_to_zero"]), "zero_pct": 100 * s["quantised_to_zero_fraction"],
            "clipped": int(s["clipped"])}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--neurons", type=int, default=2000)
    ap.add_argument("--synapses", type=int, default=40000)
    ap.add_argument("--sigma", type=float, nargs="+", default=[0.6, 0.9, 1.2])
    ap.add_argument("--technologies", nargs="+", default=TECHS)
    ap.add_argument("--policies", nargs="+", default=POLICIES)
    args = ap.parse_args(argv)
    rows = []
    mean = {}
    for outlier in (False, True):
        for sig in args.sigma:
            con, out = lognormal_connectome(args.neurons, args.synapses, sig, outlier)
            for tech in args.technologies:
                for pol in args.policies:
                    r = measure(con, out, tech, pol)
                    rows.append({"tech": tech, "sigma": f"{sig:g}", "outlier": "yes" if outlier else "no",
                                 "policy": pol, "pearson": f"{r['pearson']:.4f}",
                                 "median_rel": f"{r['median_rel']:.4f}",
                                 "zero": f"{r['zero']} ({r['zero_pct']:.2f} %)", "clipped": r["clipped"]})
                    mean.setdefault((outlier, pol), []).append(r)
    print(f"Machine: {H.machine()}; {args.neurons} neurons, {args.synapses} synapses per case\n")
    print(H.table(rows, [("tech", "technology"), ("sigma", "σ_ln"), ("outlier", "outlier"), ("policy", "full scale"),
                         ("pearson", "Pearson"), ("median_rel", "median |Δw|/|w|"), ("zero", "quantised to 0"),
                         ("clipped", "clipped")]))
    print("\nMean over technologies and σ_ln:\n")
    summ = []
    for (outlier, pol), rs in sorted(mean.items(), key=lambda kv: (kv[0][0], args.policies.index(kv[0][1]))):
        summ.append({"outlier": "yes" if outlier else "no", "policy": pol,
                     "pearson": f"{np.mean([r['pearson'] for r in rs]):.4f}",
                     "min_pearson": f"{np.min([r['pearson'] for r in rs]):.4f}",
                     "median_rel": f"{np.mean([r['median_rel'] for r in rs]):.4f}",
                     "zero_pct": f"{np.mean([r['zero_pct'] for r in rs]):.2f}",
                     "clipped": f"{np.mean([r['clipped'] for r in rs]):.0f}"})
    print(H.table(summ, [("outlier", "outlier"), ("policy", "full scale"), ("pearson", "mean Pearson"),
                         ("min_pearson", "worst Pearson"), ("median_rel", "mean median |Δw|/|w|"),
                         ("zero_pct", "mean % quantised to 0"), ("clipped", "mean clipped")]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
