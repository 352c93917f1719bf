"""Small synthetic connectomes for the compile tests (fast: a few thousand synapses)."""

import numpy as np
import pytest

from connectome.graph import Connectome


def clustered_connectome(n_neurons=600, n_synapses=6000, column_size=40, p_local=0.6, seed=0,
                         electrical=0.0, shuffle_ids=True):
    """Neurons in minicolumns on a torus; synapses mostly inside a column, else to nearby columns.

    Dale's law (80 % excitatory neurons), lognormal |w|, gamma-distributed
    delays; neuron ids are shuffled so the neuron-table order carries no
    structure (partitioning has something to find).
    """
    rng = np.random.default_rng(seed)
    n_cols = -(-n_neurons // column_size)
    side = int(np.ceil(np.sqrt(n_cols)))
    col_of = np.arange(n_neurons) // column_size
    m = int(n_synapses * 1.5) + 10
    pre = rng.integers(0, n_neurons, m)
    local = rng.random(m) < p_local
    dy = np.where(local, 0, np.rint(rng.normal(0, 1.0, m))).astype(np.int64)
    dx = np.where(local, 0, np.rint(rng.normal(0, 1.0, m))).astype(np.int64)
    t = ((col_of[pre] // side + dy) % side) * side + (col_of[pre] % side + dx) % side
    t = np.where(t < n_cols, t, col_of[pre])
    size = np.minimum(column_size, n_neurons - t * column_size)
    post = t * column_size + (rng.random(m) * size).astype(np.int64)
    key = np.unique((pre * n_neurons + post)[pre != post])[: n_synapses]
    key = key[rng.permutation(len(key))][:n_synapses]
    pre, post = key // n_neurons, key % n_neurons
    ids = rng.permutation(n_neurons) * 3 + 7 if shuffle_ids else np.arange(n_neurons)
    exc = rng.random(n_neurons) < 0.8
    mag = rng.lognormal(np.log(0.5), 0.6, len(pre))
    w = np.where(exc[pre], mag, -2 * mag)
    kind = np.where(exc[pre], 1, 2)
    if electrical:
        el = rng.random(len(pre)) < electrical
        kind = np.where(el, 3, kind)
        w = np.where(el, np.abs(w) * 0.3, w)
    delay = 0.5 + rng.gamma(2.0, 0.5, len(pre))
    return Connectome.from_edges(ids[pre], ids[post], weight_mv=w, kind=kind, delay_ms=delay,
                                 neuron_id=np.sort(ids))


@pytest.fixture(scope="session")
def small_connectome():
    return clustered_connectome()


@pytest.fixture(scope="session")
def mixed_connectome():
    """With electrical synapses and a parallel chemical+electrical pair."""
    c = clustered_connectome(n_neurons=300, n_synapses=2500, electrical=0.1, seed=3)
    e = c.edges
    extra = {k: np.concatenate([v, v[:1]]) for k, v in e.items()}
    extra["kind"][-1] = 3 if e["kind"][0] != 3 else 1
    return Connectome(neurons=dict(c.neurons), edges=extra)
