"""Small connectomes, maps and a simulated recording for the verify and imprint tests."""

import numpy as np
import pytest

from connectome.compile import CompileOptions, compile_connectome
from connectome.graph import Connectome
from connectome.io.progmap import write_map


def grid_connectome(n_neurons=300, n_synapses=3000, q_max=31, seed=0, electrical=0.0):
    """Sparse random connectome whose |weights| are whole steps 1…q_max mV (Dale's law, 80 % excitatory).

    With a full scale of q_max mV and q_max + 1 levels every weight is exactly
    representable, so an ideal paste decodes it without quantisation error.
    """
    rng = np.random.default_rng(seed)
    key = np.unique(rng.integers(0, n_neurons * n_neurons, int(n_synapses * 1.3)))
    pre, post = key // n_neurons, key % n_neurons
    keep = pre != post
    pre, post = pre[keep][:n_synapses], post[keep][:n_synapses]
    exc = rng.random(n_neurons) < 0.8
    mag = rng.integers(1, q_max + 1, len(pre)).astype(float)
    mag[0] = q_max  # the full scale
    w = np.where(exc[pre], mag, -mag)
    kind = np.where(exc[pre], 1, 2)
    if electrical:
        el = rng.random(len(pre)) < electrical
        kind = np.where(el, 3, kind)
        w = np.where(el, np.abs(w), w)
    delay = 0.8 + rng.gamma(2.0, 0.6, len(pre))
    return Connectome.from_edges(pre, post, weight_mv=w, kind=kind, delay_ms=delay, neuron_id=np.arange(n_neurons))


def write_edges(con, directory):
    from connectome.graph.formats import write_csv

    directory.mkdir(parents=True, exist_ok=True)
    write_csv(con, directory)
    return directory


@pytest.fixture(scope="session")
def con_dir(tmp_path_factory):
    return write_edges(grid_connectome(), tmp_path_factory.mktemp("con") / "infer")


@pytest.fixture(scope="session")
def grid_con(con_dir):
    """The grid connectome as read back from its edges.csv (what the maps are compiled from)."""
    return Connectome.read(con_dir)


def _compile(con, tmp, name, **kw):
    path = tmp / name
    write_map(compile_connectome(con, CompileOptions(**{"rows": 64, "cols": 64, "layers": 1, **kw})), path)
    return path


@pytest.fixture(scope="session")
def maps(tmp_path_factory, grid_con):
    """Maps of the grid connectome: rram (32 levels, exact), pcm (12 levels), rram split, mram bit-sliced."""
    tmp = tmp_path_factory.mktemp("maps")
    return {"rram": _compile(grid_con, tmp, "rram.h5", technology="rram"),
            "pcm": _compile(grid_con, tmp, "pcm.h5", technology="pcm"),
            "rram-split": _compile(grid_con, tmp, "split.h5", technology="rram", scheme="split"),
            "mram": _compile(grid_con, tmp, "mram.h5", technology="mram", slices=5)}


@pytest.fixture(scope="session")
def strong_recording(tmp_path_factory):
    """24 neurons × 60 s with strong synapses (median PSP 1.5 mV), and its truth (≈ 3 s)."""
    from connectome.simulate import SimParams, simulate

    out = tmp_path_factory.mktemp("rec") / "r24.h5"
    res = simulate(SimParams(n_neurons=24, grid=(8, 8), duration_s=60.0, seed=3, epsp_median_mv=1.5,
                             ipsp_median_mv=1.5), out)
    return res.recording, res.truth
