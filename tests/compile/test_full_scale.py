"""Full scale: outliers, synapses that quantise to zero, the policy option and its validation."""

import json
import warnings

import numpy as np
import pytest

from connectome.cli import main
from connectome.compile import CompileOptions, compile_connectome, mapping
from connectome.compile.compiler import DEFAULT_FULL_SCALE
from connectome.errors import ConfigError, ConnectomeFormatError
from connectome.graph import Connectome
from connectome.graph.formats import write_csv
from connectome.pipeline.config import config_from_dict


def _lognormal(n=200, m=2000, outlier=None, seed=1):
    rng = np.random.default_rng(seed)
    key = np.unique(rng.integers(0, n, 3 * m) * n + rng.integers(0, n, 3 * m))
    key = key[(key // n) != (key % n)][:m]
    w = rng.lognormal(np.log(0.5), 0.6, len(key))
    if outlier is not None:
        w[7] = outlier
    return Connectome.from_edges(key // n, key % n, weight_mv=w, delay_ms=np.ones(len(key)),
                                 neuron_id=np.arange(n))


def _compile(con, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pm = compile_connectome(con, CompileOptions(technology="rram", rows=64, cols=64, layers=2,
                                                    baselines=False, **kw))
    return pm, [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


def test_outlier_with_max_reports_and_warns_zeroed():
    con = _lognormal(outlier=1e30)
    pm, warned = _compile(con, full_scale="max")
    s = pm.summary
    m = s["synapses"]
    assert s["full_scale_mv"] == pytest.approx(1e30) and s["clipped"] == 0
    assert s["quantised_to_zero"] == m - 1 and s["quantised_to_zero_fraction"] == pytest.approx((m - 1) / m)
    assert len(s["quantised_to_zero_examples"]) == 10 and s["full_scale_policy"] == "max"
    assert len(warned) == 1
    assert f"{m - 1} of {m} synapses" in warned[0] and "quantise to zero on rram" in warned[0]
    assert "programmed as 0 mV" in warned[0] and "the largest |weight|" in warned[0]


def test_default_percentile_clips_the_outlier_and_keeps_the_rest():
    con = _lognormal(outlier=1e30)
    pm, warned = _compile(con)
    s = pm.summary
    assert DEFAULT_FULL_SCALE == "p99" and s["full_scale_policy"] == "p99"
    assert s["clipped"] >= 1 and warned == []
    assert s["quantised_to_zero"] < 0.01 * s["synapses"]
    syn = pm.tables["synapses"]
    assert syn["clipped"][np.flatnonzero(syn["weight_mv"] == 1e30)[0]] == 1
    assert s["full_scale_mv"] == pytest.approx(np.percentile(np.abs(con.edges["weight_mv"]), 99))


def test_numeric_full_scale_and_clip_alias():
    con = _lognormal()
    pm, _ = _compile(con, full_scale=1.0)
    assert pm.summary["full_scale_mv"] == 1.0 and pm.summary["full_scale_policy"] == "1 mV"
    assert pm.summary["clipped"] == int(np.sum(np.abs(con.edges["weight_mv"]) > 1.0 + 1.0 / 62))
    o = CompileOptions(clip="none")
    assert o.full_scale == "max" and o.clip is None
    assert CompileOptions(full_scale=" P99.90 ").full_scale == "p99.9"
    assert CompileOptions(full_scale="2.5mV").full_scale == 2.5


def test_no_zeroed_report_for_exact_zero_weights():
    q = mapping.quantise(np.array([0.0, 0.1, 1.0]), full_scale_mv=1.0, levels=4, slices=1)
    assert q.zeroed.tolist() == [False, True, False]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_weight_names_the_file(tmp_path, capsys, bad):
    c = Connectome.from_edges([0, 1, 2], [1, 2, 0], weight_mv=[0.5, bad, 0.2], delay_ms=[1.0, 1.0, 1.0])
    d = tmp_path / "c"
    write_csv(c, d)
    with pytest.raises(ConnectomeFormatError) as exc:
        compile_connectome(c, CompileOptions(), source_path=d)
    assert str(d) in str(exc.value) and "non-finite weight_mv" in str(exc.value)
    rc = main(["compile", str(d), "--out", str(tmp_path / "m.h5"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("connectome: error: ") and "non-finite weight_mv" in err
    assert not (tmp_path / "m.h5").exists()


def test_parallel_edges_that_overflow_are_an_error(tmp_path):
    c = Connectome.from_edges([0, 0], [1, 1], weight_mv=[1.7e308, 1.7e308], delay_ms=[1.0, 1.0])
    with pytest.raises(ConnectomeFormatError, match="once parallel edges are summed"):
        compile_connectome(c, CompileOptions(), source_path=tmp_path / "x.csv")


def test_cli_reports_zeroed_and_warns(tmp_path, capsys):
    d = tmp_path / "c"
    write_csv(_lognormal(outlier=1e30), d)
    rc = main(["compile", str(d), "--crossbar", "64x64", "--full-scale", "max", "--out", str(tmp_path / "m.h5")])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert "connectome: warning: 1999 of 2000 synapses (100.0 %) quantise to zero on rram" in out.err
    assert "Traceback" not in out.err and "UserWarning" not in out.err
    assert "quantised to zero 1999 (99.950 %)" in out.out and "clipped 0" in out.out
    side = json.loads((tmp_path / "m.summary.json").read_text())
    assert side["quantised_to_zero"] == 1999
    rc = main(["compile", str(d), "--crossbar", "64x64", "--clip", "p99", "--out", str(tmp_path / "n.h5"), "-q"])
    assert rc == 0 and json.loads((tmp_path / "n.summary.json").read_text())["full_scale_policy"] == "p99"
    rc = main(["compile", str(d), "--full-scale", "p0", "--out", str(tmp_path / "o.h5"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2 and "full-scale percentile must be in (0, 100]" in err


@pytest.mark.parametrize("opts, phrase", [
    ({"technology": "pram3"}, "compile option technology: unknown technology 'pram3'"),
    ({"technology": None}, "compile option technology: no technology"),
    ({"rows": 0}, "compile option rows: must be an integer in 1…65536, got 0"),
    ({"cols": 1 << 20}, "compile option cols"),
    ({"rows": 2.5}, "compile option rows"),
    ({"layers": 0}, "compile option layers"),
    ({"layers": True}, "compile option layers"),
    ({"levels": 1}, "compile option levels"),
    ({"bits": 99}, "compile option bits"),
    ({"slices": 0}, "compile option slices"),
    ({"delay_buckets": 0}, "compile option delay_buckets"),
    ({"seed": -1}, "compile option seed"),
    ({"scheme": "quadrature"}, "compile option scheme: must be one of differential, split, bitslice"),
    ({"partitioner": "kahip"}, "compile option partitioner: must be one of"),
    ({"power_budget_mw": float("nan")}, "compile option power_budget_mw"),
    ({"power_budget_mw": 0}, "compile option power_budget_mw"),
    ({"baselines": "yes"}, "compile option baselines"),
    ({"full_scale": "p101"}, "full_scale: a full-scale percentile must be in (0, 100]"),
    ({"full_scale": "pxx"}, "full_scale must be"),
    ({"full_scale": -2.0}, "full_scale: a full scale in mV must be a positive finite number"),
    ({"full_scale": float("inf")}, "full_scale: a full scale in mV"),
    ({"full_scale": True}, "full_scale must be"),
    ({"full_scale": [99]}, "full_scale must be"),
    ({"clip": "p0"}, "clip: a full-scale percentile"),
])
def test_options_validated_on_construction(opts, phrase):
    with pytest.raises(ConfigError) as exc:
        CompileOptions(**opts)
    assert phrase in str(exc.value)


def test_pipeline_full_scale_key(tmp_path):
    base = {"run": {"inputs": []}, "compile": [{"technology": "rram", "full_scale": "p99.9"}]}
    cfg = config_from_dict(base, base=tmp_path)
    assert CompileOptions(**cfg.compile[0].options).full_scale == "p99.9"
    base["compile"][0]["full_scale"] = "p0"
    with pytest.raises(ConfigError, match=r"\[\[compile\]\] entry 1 \(rram\): compile option full_scale"):
        config_from_dict(base, base=tmp_path)
