"""Weights → conductance levels: quantisation, slicing, clipping, column patterns."""

import numpy as np
import pytest

from connectome.compile import mapping
from connectome.devices import load_technology
from connectome.errors import ConfigError, TechnologyError


@pytest.mark.parametrize("levels, slices", [(2, 1), (2, 4), (8, 1), (12, 2), (32, 1)])
def test_quantise_within_half_a_step(levels, slices):
    rng = np.random.default_rng(levels * 10 + slices)
    w = rng.normal(0, 1, 2000)
    q = mapping.quantise(w, full_scale_mv=1.5, levels=levels, slices=slices)
    err = np.abs(q.decoded_mv() - w)
    assert np.all(err[~q.clipped] <= q.step_mv / 2 + 1e-12)
    assert np.array_equal(q.clipped, np.abs(w) > 1.5 + q.step_mv / 2 - 1e-12) or \
        np.all(np.abs(w[q.clipped]) > 1.5)
    assert np.all(np.abs(q.decoded_mv()[q.clipped]) == pytest.approx(1.5))
    # digits reconstruct the magnitude
    d = mapping.digits(q.q, levels, slices)
    assert d.min() >= 0 and d.max() < levels
    np.testing.assert_array_equal((d * levels ** np.arange(slices)).sum(axis=1), q.q)


def test_encode_cells_side_and_significance():
    enc = mapping.Encoding("bitslice", levels=2, slices=3, differential=True)
    q = mapping.quantise(np.array([5.0, -3.0, 0.0]), full_scale_mv=7.0, levels=2, slices=3)
    cells = mapping.encode_cells(q, enc)
    assert cells["synapse"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert cells["level"].tolist() == [1, 0, 1, 1, 1, 0, 0, 0, 0]
    assert cells["col_offset"].tolist() == [0, 1, 2, 3, 4, 5, 0, 1, 2]
    assert cells["polarity"].tolist() == [1, 1, 1, -1, -1, -1, 1, 1, 1]
    assert cells["significance"].tolist() == [1, 2, 4] * 3


def test_column_pattern_differential_and_split():
    enc = mapping.Encoding("differential", levels=8, slices=1, differential=True)
    slot, pol, sig = mapping.column_pattern(enc, 5)
    assert slot.tolist() == [0, 0, 1, 1, -1] and pol.tolist() == [1, -1, 1, -1, 0] and sig.tolist() == [1, 1, 1, 1, 0]
    enc = mapping.Encoding("split", levels=4, slices=2, differential=False)
    slot, pol, sig = mapping.column_pattern(enc, 4, polarity=-1)
    assert slot.tolist() == [0, 0, 1, 1] and pol.tolist() == [-1] * 4 and sig.tolist() == [1, 4, 1, 4]


def test_full_scale_policies():
    w = np.linspace(-10, 10, 201)
    assert mapping.full_scale_mv(w, "none") == 10
    assert mapping.full_scale_mv(w, "p50") == pytest.approx(5.0)
    assert mapping.full_scale_mv(w, "2.5") == 2.5
    assert mapping.full_scale_mv(w, "2.5mV") == 2.5
    assert mapping.full_scale_mv(np.zeros(3), "none") == 1.0
    assert mapping.full_scale_mv(np.zeros(0), "p99") == 1.0


@pytest.mark.parametrize("clip", ["p0", "p101", "-1", "abc", "nan"])
def test_bad_clip_policy(clip):
    with pytest.raises(ConfigError):
        mapping.parse_clip(clip)


def test_resolve_encoding_defaults_and_limits():
    assert mapping.resolve_encoding(load_technology("mram")).scheme == "bitslice"
    assert mapping.resolve_encoding(load_technology("mram")).slices == 4
    e = mapping.resolve_encoding(load_technology("rram"))
    assert (e.scheme, e.levels, e.slices, e.cols_per_neuron) == ("differential", 32, 1, 2)
    e = mapping.resolve_encoding(load_technology("pcm"), scheme="split", bits=3)
    assert (e.levels, e.cols_per_neuron, e.differential) == (8, 1, False)
    with pytest.raises(TechnologyError, match="2 to 2 levels"):
        mapping.resolve_encoding(load_technology("mram"), levels=4)
    with pytest.raises(TechnologyError, match="unknown scheme"):
        mapping.resolve_encoding(load_technology("rram"), scheme="ternary")
    with pytest.raises(TechnologyError, match="disagree"):
        mapping.resolve_encoding(load_technology("rram"), levels=8, bits=4)
