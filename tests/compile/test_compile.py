"""End to end: a connectome compiled for each technology decodes back from /cells."""

import numpy as np
import pytest

from connectome.compile import CompileOptions, compile_connectome
from connectome.errors import ConfigError, ConnectomeFormatError, TechnologyError
from connectome.graph import Connectome
from connectome.io.progmap import check_map

TECHS = {"flash": (64, 64, 4), "mram": (64, 64, 1), "pcm": (64, 64, 4), "rram": (64, 64, 8)}


def _compile(c, tech, **kw):
    rows, cols, layers = TECHS[tech]
    kw = {"rows": rows, "cols": cols, "layers": layers, **kw}
    return compile_connectome(c, CompileOptions(technology=tech, **kw))


def decode(pm):
    """{(group, pre, post): weight} from /cells alone (the contract's formula)."""
    a, cells, tiles = pm.attrs, pm.tables["cells"], pm.tables["tiles"]
    w = (cells["polarity"] * cells["significance"].astype(float) * (cells["g_target_us"] - a["g_min_us"])
         * a["mv_per_us"])
    g = tiles["group"][cells["tile"]]
    key = np.stack([g, cells["pre"], cells["post"]])
    u, inv = np.unique(key, axis=1, return_inverse=True)
    return u, np.bincount(inv.reshape(-1), weights=w)


def assert_decodes(pm, c):
    """Every source synapse within half a step of its decoded weight, or listed as clipped."""
    u, dec = decode(pm)
    syn = pm.tables["synapses"]
    # the synapse table is the source edges, parallel edges of one group merged
    assert np.array_equal(u, np.stack([syn["group"], syn["pre"], syn["post"]]))
    src = {}
    for p, q, wt, k in zip(c.edges["pre"], c.edges["post"], c.edges["weight_mv"], c.edges["kind"]):
        src.setdefault((int(p), int(q), int(k) == 3), []).append(wt)
    grp_cls = pm.tables["groups"]["cls"]
    step = pm.summary["step_mv"]
    clipped = syn["clipped"].astype(bool)
    fs = pm.attrs["full_scale_mv"]
    seen = set()
    for i in range(u.shape[1]):
        key = (int(u[1, i]), int(u[2, i]), bool(grp_cls[u[0, i]]))
        seen.add(key)
        if pm.attrs["scheme"] == "split":  # sign-split groups: sum of this sign only
            want = sum(x for x in src[key] if (x < 0) == (syn["weight_mv"][i] < 0))
        else:
            want = sum(src[key])
        assert syn["weight_mv"][i] == pytest.approx(want)
        if clipped[i]:
            assert abs(want) > fs and dec[i] == pytest.approx(np.sign(want) * fs)
        else:
            assert abs(dec[i] - want) <= step / 2 * (1 + 1e-9) + 1e-12
    assert seen == set(src)  # no cell for a non-synapse, no synapse without cells


@pytest.mark.parametrize("tech", sorted(TECHS))
def test_every_technology_decodes_and_holds_invariants(small_connectome, tech):
    pm = _compile(small_connectome, tech)
    assert check_map(pm) is None
    assert_decodes(pm, small_connectome)
    s = pm.summary
    assert s["technology"] == tech and s["synapses"] == small_connectome.n_edges
    assert s["tiles"] >= s["tiles_lower_bound"] >= 1
    by = s["tiles_by_ordering"]
    assert s["partitioner"] == "spectral" and by["spectral"] == s["tiles"] <= by["metis"] <= by["naive_identity_grid"]
    assert s["programming_time_s"] > 0 and s["programming_energy_uj"] > 0 and s["area_footprint_mm2"] > 0
    assert 0 < s["expected_weight_error_rel_full_scale"] < 0.2
    t = pm.tables["tiles"]
    pos = np.stack([t["layer"], t["y"], t["x"]])
    assert np.unique(pos, axis=1).shape[1] == len(t["tile"])  # no collisions
    assert t["layer"].max() < TECHS[tech][2]
    # tiles of one stack (shared vertical lines) are never programmed at the same time
    sc = pm.tables["schedule"]
    stack = (t["y"] * (t["x"].max() + 1) + t["x"])[sc["tile"]]
    for k in np.unique(stack):
        a, b = sc["t_start_us"][stack == k], sc["t_end_us"][stack == k]
        o = np.argsort(a, kind="stable")
        assert np.all(a[o][1:] >= b[o][:-1] - 1e-9)
    cells = pm.tables["cells"]
    # within a tile a row carries one presynaptic neuron, a column one postsynaptic neuron
    assert np.array_equal(t["row_neuron"][cells["tile"], cells["row"]], cells["pre"])
    assert np.array_equal(t["col_neuron"][cells["tile"], cells["col"]], cells["post"])


@pytest.mark.parametrize("scheme", ["differential", "split", "bitslice"])
def test_schemes_on_mixed_kinds(mixed_connectome, scheme):
    pm = compile_connectome(mixed_connectome, CompileOptions(technology="rram", rows=32, cols=32, layers=4,
                                                             scheme=scheme, levels=4 if scheme == "bitslice" else None))
    assert check_map(pm) is None
    assert_decodes(pm, mixed_connectome)
    groups = pm.tables["groups"]
    assert set(groups["cls"].tolist()) == {0, 1}  # electrical synapses in their own tile groups
    if scheme == "split":
        assert set(groups["polarity"].tolist()) == {-1, 1}
        tiles, cells = pm.tables["tiles"], pm.tables["cells"]
        assert np.array_equal(groups["polarity"][tiles["group"][cells["tile"]]], cells["polarity"])
    else:
        assert set(groups["polarity"].tolist()) == {0}
    if scheme == "bitslice":
        assert pm.attrs["slices"] == 1 and pm.attrs["levels"] == 4  # rram default: 1 slice, 4 levels asked
    assert pm.summary["parallel_edges_merged"] == 0  # the chemical+electrical pair is in two groups


def test_bitslice_binary_cells(small_connectome):
    pm = _compile(small_connectome, "mram", slices=3)
    cells = pm.tables["cells"]
    assert pm.attrs["levels"] == 2 and set(np.unique(cells["level"]).tolist()) <= {0, 1}
    assert set(np.unique(cells["significance"]).tolist()) == {1, 2, 4}
    assert len(cells["tile"]) == 3 * small_connectome.n_edges
    assert_decodes(pm, small_connectome)


def test_clipping_is_reported(small_connectome):
    pm = _compile(small_connectome, "pcm", clip="p90")
    syn = pm.tables["synapses"]
    n_clip = int(syn["clipped"].sum())
    assert n_clip == pm.summary["clipped"] > 0
    assert 0.05 < pm.summary["clipped_fraction"] < 0.11
    assert len(pm.summary["clipped_examples"]) == 10
    assert_decodes(pm, small_connectome)
    assert check_map(pm) is None


def test_parallel_edges_merged(small_connectome):
    c = small_connectome
    e = {k: np.concatenate([v, v[:5]]) for k, v in c.edges.items()}
    c2 = Connectome(neurons=dict(c.neurons), edges=e)
    pm = _compile(c2, "rram")
    assert pm.summary["parallel_edges_merged"] == 5 and pm.summary["synapses"] == c.n_edges
    assert_decodes(pm, c2)


def test_delay_buckets(small_connectome):
    one = _compile(small_connectome, "rram")
    four = _compile(small_connectome, "rram", delay_buckets=4)
    assert check_map(four) is None
    g, syn = four.tables["groups"], four.tables["synapses"]
    assert len(g["group"]) == 4
    lo, hi = g["delay_lo_ms"][syn["group"]], g["delay_hi_ms"][syn["group"]]
    assert np.all((lo <= syn["delay_ms"]) & (syn["delay_ms"] <= hi))
    assert np.all(g["delay_hi_ms"][:-1] <= g["delay_lo_ms"][1:])  # disjoint, ordered ranges
    assert np.bincount(syn["group"]).min() > 0.2 * len(syn["group"])  # quantile buckets: balanced
    assert four.summary["tiles"] >= one.summary["tiles"]
    # delays are carried per synapse in both cases
    src = dict(zip(zip(small_connectome.edges["pre"].tolist(), small_connectome.edges["post"].tolist()),
                   small_connectome.edges["delay_ms"].tolist()))
    for pm in (one, four):
        s = pm.tables["synapses"]
        assert all(src[(p, q)] == d for p, q, d in zip(s["pre"].tolist(), s["post"].tolist(), s["delay_ms"].tolist()))


def test_many_delay_buckets(small_connectome):
    pm = _compile(small_connectome, "rram", delay_buckets=40, scheme="split")
    assert check_map(pm) is None
    g, syn = pm.tables["groups"], pm.tables["synapses"]
    assert len(g["group"]) > 16
    lo, hi = g["delay_lo_ms"][syn["group"]], g["delay_hi_ms"][syn["group"]]
    assert np.all((lo <= syn["delay_ms"]) & (syn["delay_ms"] <= hi))


def test_partitioner_reduces_tiles(small_connectome):
    s = _compile(small_connectome, "rram").summary
    assert s["tiles"] < s["tiles_by_ordering"]["identity"] < s["tiles_by_ordering"]["naive_identity_grid"]


def test_seed_changes_pulses_not_structure(small_connectome):
    a = _compile(small_connectome, "rram", seed=1)
    b = _compile(small_connectome, "rram", seed=1)
    for t in a.tables:
        for k in a.tables[t]:
            assert np.array_equal(a.tables[t][k], b.tables[t][k], equal_nan=True)
    assert a.summary == b.summary


def test_empty_connectome_gives_valid_empty_map():
    c = Connectome.from_edges([], [], weight_mv=[], neuron_id=[1, 2, 3])
    pm = compile_connectome(c, CompileOptions(technology="pcm"))
    assert check_map(pm) is None
    s = pm.summary
    assert (s["tiles"], s["cells"], s["synapses"], s["tiles_lower_bound"], s["programming_time_s"]) == (0, 0, 0, 0, 0)
    assert pm.tables["tiles"]["row_neuron"].shape == (0, 256)


def test_nan_weights_name_the_edges():
    c = Connectome.from_edges([1, 2, 3, 4], [2, 3, 4, 1], weight_mv=[0.5, np.nan, 0.2, np.inf])
    with pytest.raises(ConnectomeFormatError) as exc:
        compile_connectome(c, CompileOptions(technology="rram"), source_path="edges.csv")
    msg = str(exc.value)
    assert "2 edge(s) have a non-finite weight_mv" in msg and "2→3" in msg and "4→1" in msg
    assert msg.startswith("edges.csv:")


def test_negative_neuron_ids_refused():
    c = Connectome.from_edges([-1, 1], [1, -1], weight_mv=[0.5, -0.3])
    with pytest.raises(ConnectomeFormatError, match="negative"):
        compile_connectome(c, CompileOptions(technology="rram"))


def test_self_loops_odd_columns_and_tiny_weights():
    c = Connectome.from_edges([0, 1, 1, 2, 3], [0, 1, 2, 3, 0], weight_mv=[0.5, -0.3, 0.2, 0.0, 1e-6])
    pm = compile_connectome(c, CompileOptions(technology="rram", rows=2, cols=5, layers=2))
    assert check_map(pm) is None
    assert_decodes(pm, c)
    assert np.all(pm.tables["tiles"]["col_neuron"][:, 4] == -1)  # 5th column of a 2-column-per-neuron tile unused
    assert len(pm.tables["cells"]["tile"]) == 5  # zero and tiny weights keep their (level-0) cell


def test_nan_delays_only_matter_for_buckets():
    c = Connectome.from_edges([1, 2], [2, 1], weight_mv=[0.5, -0.5], delay_ms=[1.0, np.nan])
    assert check_map(compile_connectome(c, CompileOptions(technology="rram"))) is None
    with pytest.raises(ConnectomeFormatError, match="delay_ms.*2→1"):
        compile_connectome(c, CompileOptions(technology="rram", delay_buckets=2))


@pytest.mark.parametrize("opts, phrase", [
    ({"technology": "mram", "rows": 512, "cols": 512}, "exceeds the mram limit of 256x256"),
    ({"technology": "rram", "rows": 256, "cols": 2048}, "exceeds the rram limit of 1024x1024"),
    ({"technology": "pcm", "layers": 8}, "8 layers exceed the pcm limit of 4"),
    ({"technology": "rram", "rows": 0, "cols": 4}, "compile option rows: must be an integer in 1…65536"),
    ({"technology": "mram", "rows": 64, "cols": 4}, "4 columns cannot hold one postsynaptic neuron"),
    ({"technology": "rram", "levels": 4096}, "2 to 2048 levels"),
    ({"technology": "rram", "power_budget_mw": -1.0}, "compile option power_budget_mw"),
    ({"technology": "rram", "power_budget_mw": 1e-6}, "power budget"),
    ({"technology": "rram", "delay_buckets": 0}, "compile option delay_buckets"),
    ({"technology": "rram", "clip": "p0"}, "clip: a full-scale percentile must be in (0, 100]"),
    ({"technology": "quantum"}, "accepted names: flash (nand"),
])
def test_bad_options(small_connectome, opts, phrase):
    with pytest.raises((TechnologyError, ConfigError)) as exc:
        compile_connectome(small_connectome, CompileOptions(**opts))
    assert phrase in str(exc.value)
