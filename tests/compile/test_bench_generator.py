"""The benchmark's synthetic connectome is what its docstring says (so the benchmark keeps meaning)."""

import importlib.util
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_compile.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_compile", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_clustered_edges_sparse_unique_dale():
    e = _bench().clustered_edges(2000, 20_000, seed=1)
    pre, post = e["pre"], e["post"]
    assert len(pre) == 20_000 and np.unique(pre * 2000 + post).size == 20_000 and not np.any(pre == post)
    # Dale's law: every neuron's outgoing weights share one sign, matching its kind
    sign = np.sign(e["weight_mv"])
    assert np.all((sign > 0) == (e["kind"] == 1))
    for n in np.unique(pre)[:50]:
        assert np.unique(sign[pre == n]).size == 1
    assert np.all(e["delay_ms"] >= 0.5)
