"""``CompileOptions.weight``: program the mean PSP per spike (default) or the rested PSP (``weight_rested_mv``)."""

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import connectome
from connectome.compile import CompileOptions, compile_connectome
from connectome.compile.compiler import programmed_weights
from connectome.errors import ConfigError, ConnectomeFormatError
from connectome.graph import Connectome
from connectome.graph.formats import write_csv, write_graphml
from connectome.io.progmap import check_map, read_map
from connectome.verify.run import map_weight_choice, verify_objects

ROOT = Path(__file__).resolve().parents[2]
OPTS = dict(technology="rram", rows=16, cols=16, layers=2, full_scale="max", baselines=False)


def _connectome(rested=True, n=30, m=150, seed=0):
    """Dale's-law edges with every 10th electrical; rested = 1.5…3.5 × mean, NaN on electrical and ~30 % of the rest."""
    rng = np.random.default_rng(seed)
    key = rng.choice(n * (n - 1), m, replace=False)
    pre, post = key // (n - 1), key % (n - 1)
    post = post + (post >= pre)  # no self-loops, no parallel edges
    exc = rng.random(n) < 0.8
    mag = rng.lognormal(np.log(0.5), 0.5, m)
    w = np.where(exc[pre], mag, -2 * mag)
    kind = np.where(exc[pre], 1, 2)
    kind[::10] = 3
    w[::10] = np.abs(w[::10]) * 0.3
    r = w * rng.uniform(1.5, 3.5, m)
    r[(rng.random(m) < 0.3) | (kind == 3)] = np.nan
    extra = {"weight_rested_mv": r} if rested else {}
    return Connectome.from_edges(pre, post, weight_mv=w, kind=kind, delay_ms=rng.uniform(0.5, 3.0, m),
                                 neuron_id=np.arange(n), **extra)


def _expected(con):
    r = con.edges["weight_rested_mv"]
    return np.where(np.isfinite(r), r, con.edges["weight_mv"])


def _synapse_weights(pm):
    """{(pre, post): weight} from /synapses, and the same decoded from /cells (the map's weight formula)."""
    syn, cells, a = pm.tables["synapses"], pm.tables["cells"], pm.attrs
    table = {(int(p), int(q)): float(w) for p, q, w in zip(syn["pre"], syn["post"], syn["weight_mv"])}
    contrib = cells["polarity"] * cells["significance"] * (cells["g_target_us"] - a["g_min_us"]) * a["mv_per_us"]
    decoded: dict = {}
    for p, q, v in zip(cells["pre"], cells["post"], contrib):
        decoded[(int(p), int(q))] = decoded.get((int(p), int(q)), 0.0) + float(v)
    return table, decoded


def _compile(con, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pm = compile_connectome(con, CompileOptions(**{**OPTS, **kw}))
    return pm, [str(w.message) for w in caught]


def test_default_ignores_the_rested_column_and_records_nothing():
    with_col, _ = _compile(_connectome(rested=True))
    without, _ = _compile(_connectome(rested=False))
    explicit, _ = _compile(_connectome(rested=True), weight="mean")
    for pm in (with_col, explicit):
        assert pm.attrs == without.attrs and pm.summary == without.summary
        assert pm.manifest == without.manifest
        for g, t in without.tables.items():
            for k, v in t.items():
                np.testing.assert_array_equal(pm.tables[g][k], v)
    params = json.loads(with_col.attrs["parameters"])["options"]
    assert "weight" not in params and "weight_source" not in with_col.summary
    assert map_weight_choice(with_col) == "mean"


def test_default_map_bytes_do_not_depend_on_the_rested_column(tmp_path):
    for rested in (True, False):
        pm, _ = _compile(_connectome(rested=rested))
        pm.write(tmp_path / f"{rested}.h5")
    assert (tmp_path / "True.h5").read_bytes() == (tmp_path / "False.h5").read_bytes()


def test_rested_programs_weight_rested_where_finite_and_weight_mv_elsewhere():
    con = _connectome()
    pm, msgs = _compile(con, weight="rested")
    assert check_map(pm) is None
    exp = {(int(p), int(q)): float(w) for p, q, w in zip(con.edges["pre"], con.edges["post"], _expected(con))}
    table, decoded = _synapse_weights(pm)
    assert table == pytest.approx(exp, rel=0, abs=1e-12)
    step = pm.summary["step_mv"]
    assert set(decoded) == set(exp)
    assert max(abs(decoded[k] - exp[k]) for k in exp) <= 0.5 * step + 1e-9  # full scale "max": nothing clipped
    # the rested weights are 1.5–3.5 × larger: the default map decodes to weight_mv instead
    mean_pm, _ = _compile(con)
    _, mean_decoded = _synapse_weights(mean_pm)
    k = next(k for k, r in zip(zip(con.edges["pre"].tolist(), con.edges["post"].tolist()),
                               con.edges["weight_rested_mv"]) if np.isfinite(r) and abs(r) > 4 * step)
    assert abs(decoded[k]) > 1.4 * abs(mean_decoded[k])


def test_fallbacks_are_counted_and_warned():
    con = _connectome()
    r, kind = con.edges["weight_rested_mv"], con.edges["kind"]
    n_fb, n_el = int((~np.isfinite(r)).sum()), int((kind == 3).sum())
    assert 0 < n_el < n_fb < con.n_edges
    pm, msgs = _compile(con, weight="rested")
    ws = pm.summary["weight_source"]
    assert ws == {"weight": "rested", "column": "weight_rested_mv", "fallback_column": "weight_mv",
                  "edges_rested": con.n_edges - n_fb, "edges_fallback": n_fb, "fallback_electrical": n_el,
                  "fallback_unmeasured": n_fb - n_el}
    assert any(f"{n_fb} of {con.n_edges} edges have no finite weight_rested_mv" in m for m in msgs)
    w, info = programmed_weights(con, "rested")
    np.testing.assert_array_equal(w, _expected(con))
    assert info["edges_fallback"] == n_fb


def test_no_fallback_no_warning():
    con = _connectome()
    e = dict(con.edges)
    keep = np.isfinite(e["weight_rested_mv"])
    c = Connectome(neurons=dict(con.neurons), edges={k: v[keep] for k, v in e.items()})
    pm, msgs = _compile(c, weight="rested")
    assert not any("weight_rested_mv" in m for m in msgs)
    assert pm.summary["weight_source"]["edges_fallback"] == 0


def test_rested_without_the_column_is_an_error_naming_the_file(tmp_path):
    con = _connectome(rested=False)
    with pytest.raises(ConnectomeFormatError, match="no weight_rested_mv column"):
        _compile(con, weight="rested")
    d = tmp_path / "old"
    write_csv(con, d)
    gml = tmp_path / "old.graphml"
    write_graphml(con, gml)
    for src, named in ((d, d / "edges.csv"), (d / "edges.csv", d / "edges.csv"), (gml, gml)):
        with pytest.raises(ConnectomeFormatError, match="weight_rested_mv") as exc:
            connectome.compile(src, weight="rested", **{k: v for k, v in OPTS.items() if k != "technology"})
        assert exc.value.path == os.fspath(named)


def test_rested_from_graphml_and_csv_agree(tmp_path):
    con = _connectome()
    write_csv(con, tmp_path / "d")
    write_graphml(con, tmp_path / "c.graphml")
    opts = {k: v for k, v in OPTS.items() if k != "technology"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = connectome.compile(tmp_path / "d", weight="rested", **opts)
        b = connectome.compile(tmp_path / "c.graphml", weight="rested", **opts)
    np.testing.assert_allclose(a.tables["synapses"]["weight_mv"], b.tables["synapses"]["weight_mv"], rtol=1e-6)
    assert a.summary["weight_source"] == b.summary["weight_source"]


def test_a_non_numeric_rested_column_is_an_error():
    con = _connectome(rested=False)
    e = {**con.edges, "weight_rested_mv": np.array(["big"] * con.n_edges, dtype=object)}
    c = Connectome(neurons=dict(con.neurons), edges=e)
    with pytest.raises(ConnectomeFormatError, match="weight_rested_mv must hold numbers"):
        _compile(c, weight="rested")


@pytest.mark.parametrize("bad", ["Rested", "bogus", None, 1])
def test_bad_weight_option(bad):
    with pytest.raises(ConfigError, match="compile option weight: must be one of mean, rested"):
        CompileOptions(weight=bad)
    with pytest.raises(ConfigError, match="weight"):
        connectome.compile(_connectome(), weight=bad)


def test_recorded_in_the_map_file(tmp_path):
    con = _connectome()
    pm, _ = _compile(con, weight="rested")
    pm.write(tmp_path / "m.h5")
    back = read_map(tmp_path / "m.h5")
    assert json.loads(back.attrs["parameters"])["options"]["weight"] == "rested"
    assert back.summary["weight_source"]["column"] == "weight_rested_mv"
    assert len(back.manifest["source"]["weight_rested_mv_sha256"]) == 64
    assert map_weight_choice(back) == "rested"


def test_verify_compares_with_the_column_the_map_was_compiled_from():
    con = _connectome()
    pm, _ = _compile(con, weight="rested")
    r = verify_objects(pm, con, programming_noise_scale=0.0, read_noise_scale=0.0, readout=False)
    c = r["connectome"]
    assert c["weight_column"] == "weight_rested_mv" and c["matches_map_source"]
    assert c["edges_fallback"] == int((~np.isfinite(con.edges["weight_rested_mv"])).sum())
    q = r["quantisation_only"]
    assert q["pearson"] > 0.999 and q["lost"] == 0
    # the same map against a connectome with other rested values: not its source
    e = dict(con.edges)
    e["weight_rested_mv"] = e["weight_rested_mv"] * 2
    other = Connectome(neurons=dict(con.neurons), edges=e)
    assert not verify_objects(pm, other)["connectome"]["matches_map_source"]
    # a connectome without the column (e.g. a truth file): weight_mv, with a warning
    with pytest.warns(UserWarning, match="no weight_rested_mv column"):
        r2 = verify_objects(pm, _connectome(rested=False))
    assert r2["connectome"]["weight_column"] == "weight_mv"
    mean_pm, _ = _compile(con)
    assert verify_objects(mean_pm, con)["connectome"]["weight_column"] == "weight_mv"


def test_pipeline_compile_table_takes_weight():
    from connectome.pipeline.config import config_from_dict

    cfg = config_from_dict({"run": {"inputs": []}, "compile": [{"technology": "rram", "weight": "rested"}]})
    assert cfg.compile[0].options["weight"] == "rested"
    with pytest.raises(ConfigError, match="weight"):
        config_from_dict({"run": {"inputs": []}, "compile": [{"technology": "rram", "weight": "peak"}]})


def _cli(*args):
    env = {**os.environ, "CONNECTOME_DEBUG": ""}
    return subprocess.run([sys.executable, "-m", "connectome.cli", *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli_round_trip(tmp_path):
    con = _connectome()
    write_csv(con, tmp_path / "in")
    write_csv(_connectome(rested=False), tmp_path / "old")
    out = tmp_path / "m.h5"
    p = _cli("compile", tmp_path / "in", "-t", "rram", "--crossbar", "16x16", "--layers", "2", "--full-scale", "max",
             "--weight", "rested", "--json", "-o", out)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    n_fb = int((~np.isfinite(con.edges["weight_rested_mv"])).sum())
    assert s["weight_source"]["edges_fallback"] == n_fb
    assert f"warning: weight = \"rested\": {n_fb} of {con.n_edges} edges" in p.stderr
    table, _ = _synapse_weights(read_map(out))
    exp = {(int(a), int(b)): float(w) for a, b, w in zip(con.edges["pre"], con.edges["post"], _expected(con))}
    assert table == pytest.approx(exp, rel=1e-6)
    p = _cli("map-info", out)
    assert p.returncode == 0, p.stderr
    assert f"weight source   weight_rested_mv (weight = rested) for {con.n_edges - n_fb} edges" in p.stdout
    p = _cli("compile", tmp_path / "old", "--weight", "rested", "-q", "-o", tmp_path / "x.h5")
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1].startswith(
        f"connectome: error: {tmp_path / 'old' / 'edges.csv'}: no weight_rested_mv column")
    assert not (tmp_path / "x.h5").exists()
