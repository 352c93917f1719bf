"""The Python API (connectome/api.py, re-exported lazily by connectome/__init__.py) and docs/api.md."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import connectome
from connectome.errors import ConfigError, ConnectomeError, ConnectomeFormatError

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_data" / "sample.h5"


@pytest.fixture(scope="module")
def inference():
    return connectome.infer(SAMPLE, {"q_threshold": 0.01})


def test_docs_api_examples_run_as_written(tmp_path, monkeypatch):
    """Every ``>>>`` example of docs/api.md, run from a folder that holds the sample like the repository."""
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data")
    monkeypatch.chdir(tmp_path)
    res = doctest.testfile(
        str(ROOT / "docs" / "api.md"),
        module_relative=False,
        report=True,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert res.failed == 0 and res.attempted >= 20


def _modules_with_examples() -> list[str]:
    """Every module of the package whose source holds a ``>>>`` example (read from the files, not imported)."""
    pkg = ROOT / "connectome"
    out = []
    for path in sorted(pkg.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


@pytest.mark.parametrize("name", _modules_with_examples())
def test_module_examples_run(name, monkeypatch):
    """Every ``>>>`` example of the package runs as written (the equivalent of ``--doctest-modules``)."""
    import importlib

    monkeypatch.chdir(ROOT)  # examples name the bundled sample by its path in the repository
    res = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert res.failed == 0


def test_examples_are_found():
    found = _modules_with_examples()
    assert len(found) >= 30
    wanted = {"connectome", "connectome.spikes.neurons", "connectome.spikes.detect", "connectome.io.scratch"}
    assert wanted <= set(found)


def test_import_is_lazy_and_names_are_listed():
    code = (
        "import sys, connectome; heavy = [m for m in ('numpy', 'numba', 'h5py', 'connectome.api') "
        "if m in sys.modules]; print(heavy); print(sorted(set(connectome.__all__) - set(dir(connectome))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "[]" and out[1] == "[]"
    assert {
        "infer",
        "compile",
        "verify",
        "simulate",
        "compare",
        "detect_spikes",
        "open_recording",
        "read_connectome",
        "Connectome",
    } <= set(connectome.__all__)
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        connectome.nonsense  # noqa: B018


def test_functions_keep_their_names_after_the_subpackages_are_imported():
    import connectome.compile.compiler  # noqa: F401
    import connectome.infer.run  # noqa: F401
    import connectome.simulate.run  # noqa: F401
    import connectome.verify.run  # noqa: F401

    for name in ("infer", "compile", "verify", "simulate"):
        assert (
            callable(getattr(connectome, name)) and getattr(connectome, name).__module__ == "connectome.api"
        )
    from connectome.infer import InferParams

    assert connectome.InferParams is InferParams


def test_infer_accepts_a_path_a_recording_and_the_same_result(inference):
    rec = connectome.open_recording(SAMPLE)
    again = connectome.infer(rec, connectome.InferParams(q_threshold=0.01))
    for k, v in inference.connectome.edges.items():
        assert np.array_equal(v, again.connectome.edges[k], equal_nan=v.dtype.kind == "f"), k
    assert inference.score.shape == (inference.connectome.n_neurons,) * 2
    assert inference.summary["neurons"] == inference.connectome.n_neurons


def test_infer_on_a_float_array_masks_non_finite_samples(inference):
    rec = connectome.open_recording(SAMPLE)
    x = rec.get_traces()
    x[1000:1010, 3] = np.nan
    res = connectome.infer(
        x,
        {"q_threshold": 0.01},
        sampling_rate_hz=rec.sampling_rate_hz,
        geometry={"rows": rec.rows, "cols": rec.cols, "x_um": rec.x_um, "y_um": rec.y_um},
    )
    assert res.summary["input"]["path"] == "<array>"
    assert res.summary["qc"]["saturated_or_nonfinite_samples"] == 10
    assert res.connectome.n_neurons == inference.connectome.n_neurons


def test_infer_refuses_bad_arrays_and_parameters():
    with pytest.raises(ConfigError, match="sampling_rate_hz"):
        connectome.infer(np.zeros((100, 4), np.float32))
    with pytest.raises(ConfigError, match="2-D"):
        connectome.infer(np.zeros(100, np.float32), sampling_rate_hz=1e4)
    with pytest.raises(ConfigError, match="geometry: unknown"):
        connectome.infer(np.zeros((100, 4), np.float32), sampling_rate_hz=1e4, geometry={"row": [0]})
    with pytest.raises(ConfigError, match="q_treshold.*did you mean 'q_threshold'"):
        connectome.infer(SAMPLE, {"q_treshold": 0.1})
    with pytest.raises(ConfigError, match="only for an array"):
        connectome.infer(SAMPLE, sampling_rate_hz=1e4)
    with pytest.raises(ConnectomeError, match="no such file"):
        connectome.infer("no/such/recording.h5")


def test_detect_spikes_alone_matches_the_inferred_neurons(inference):
    sp = connectome.detect_spikes(SAMPLE)
    con = inference.connectome
    assert sp.neurons.n == con.n_neurons
    assert np.array_equal(sp.neurons.counts(), con.neurons["n_spikes"].astype(np.int64))
    assert sp.n_spikes == sp.sample.size and np.all(np.diff(sp.channel) >= 0)
    assert np.allclose(sp.neuron_times_s(0), sp.neurons.spikes(0) / 1e4)


def test_compile_save_and_verify_on_objects_equal_the_files(inference, tmp_path):
    con = inference.connectome
    pm = connectome.compile(con, {"technology": "rram", "rows": 64, "cols": 64}, layers=2)
    assert isinstance(pm, connectome.ProgrammingMap) and pm.summary["synapses"] == con.n_edges
    rep = connectome.verify(pm, con, seed=3)
    assert rep["connectome"]["matches_map_source"] and rep["map"]["path"] == "<in memory>"
    d = json.loads(rep.to_json())
    assert d["pearson"] == rep["pearson"] and "pearson" in str(rep).lower()
    # the same through files, as the command line does
    inference.write(tmp_path / "inf")
    pm.save(tmp_path / "m.map.h5")
    assert (tmp_path / "m.map.summary.json").exists()
    from_files = connectome.verify(tmp_path / "m.map.h5", tmp_path / "inf", seed=3)
    # a map in memory was never a file: verified as it is (nothing written), so it has no file checksum
    assert rep["map"]["file_sha256"] is None and len(from_files["map"]["file_sha256"]) == 64
    # the connectome as edges.csv holds it (weights to 7 digits), once as an object, once as files
    mixed = connectome.verify(pm, connectome.read_connectome(tmp_path / "inf"), seed=3)
    for key in ("weights", "device", "deciles", "quantisation_only", "parameters"):
        assert from_files[key] == mixed[key], key
    assert abs(from_files["pearson"] - rep["pearson"]) < 1e-5
    rep.write(tmp_path / "v.json")
    assert json.loads((tmp_path / "v.json").read_text()) == d


def test_compile_names_a_bad_option(inference):
    with pytest.raises(ConfigError, match="unknown compile option 'row'"):
        connectome.compile(inference.connectome, row=64)
    with pytest.raises(ConfigError, match="compile option technology"):
        connectome.compile(inference.connectome, {"technology": "nope"})
    with pytest.raises(ConfigError, match="expected a Connectome"):
        connectome.compile(42)


def test_verify_refuses_a_map_that_is_not_one(inference):
    with pytest.raises(ConfigError, match="ProgrammingMap"):
        connectome.verify(42, inference.connectome)


def test_compare_objects_and_paths_agree(inference, tmp_path):
    truth = ROOT / "sample_data" / "sample.truth.h5"
    by_object = connectome.compare(inference, truth)
    inference.write(tmp_path / "inf")
    by_path = connectome.compare(tmp_path / "inf", truth)
    assert by_object["edges"] == by_path["edges"] and by_object["matching"]["method"] == "channels"
    self_cmp = connectome.compare(inference.connectome, inference.connectome)
    assert self_cmp["edges"]["precision"] == 1.0 and self_cmp["edges"]["recall"] == 1.0
    with pytest.raises(ConfigError, match="max_distance_um"):
        connectome.compare(inference, truth, max_distance_um=0)
    with pytest.raises(ConnectomeFormatError):
        connectome.compare(tmp_path / "missing", truth)


def test_simulate_writes_a_recording_and_its_truth(tmp_path):
    sim = connectome.simulate(tmp_path / "tiny.h5", n_neurons=6, grid=(3, 3), duration_s=2.0, seed=5)
    assert sim.recording_path.exists() and sim.truth_path.exists()
    assert sim.recording.n_channels == 9 and sim.truth.n_neurons == 6
    assert "channels" in sim.truth.neurons
    with pytest.raises(ConfigError, match="simulation parameter"):
        connectome.simulate(tmp_path / "x.h5", n_neuron=3)
    with pytest.raises(ConfigError, match="'psp' or 'hh'"):
        connectome.simulate(tmp_path / "x.h5", model="lif")


def test_connectome_pandas_round_trip_and_missing_pandas(monkeypatch):
    c = connectome.Connectome.from_edges(
        [0, 1, 2],
        [1, 2, 0],
        weight_mv=[0.5, -0.3, 0.2],
        kind=["excitatory", "inhibitory", "electrical"],
        delay_ms=[1, 2, 0],
    )
    c.neurons["channels"] = np.array(["0", "1;2", "3"], dtype=object)
    pytest.importorskip("pandas")
    neurons, edges = c.to_pandas()
    assert list(edges.columns[:5]) == ["pre", "post", "kind", "weight_mv", "delay_ms"]
    assert edges["kind"].tolist() == ["excitatory", "inhibitory", "electrical"]
    back = connectome.Connectome.from_pandas(edges, neurons)
    for k in c.edges:
        assert np.array_equal(back.edges[k], c.edges[k]), k
    assert back.neurons["channels"].tolist() == ["0", "1;2", "3"]
    with pytest.raises(ValueError, match="no column 'weight_mv'"):
        connectome.Connectome.from_pandas(edges.drop(columns=["weight_mv"]))
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match="needs pandas.*pip install pandas"):
        c.to_pandas()


def test_connectome_networkx_round_trip():
    c = connectome.Connectome.from_edges([0, 1], [1, 0], weight_mv=[0.5, -0.3])
    back = connectome.Connectome.from_networkx(c.to_networkx())
    assert np.array_equal(back.edges["weight_mv"], c.edges["weight_mv"])
    assert back.kind_names().tolist() == ["excitatory", "inhibitory"]


def test_edge_kind_is_the_one_definition():
    from connectome.graph import KIND_CODES, KIND_NAMES

    assert KIND_CODES == {k.label: int(k) for k in connectome.EdgeKind}
    assert KIND_NAMES[connectome.EdgeKind.ELECTRICAL] == "electrical"
    with pytest.raises(ValueError, match="unknown edge kind"):
        connectome.EdgeKind.parse("chemical")


def test_readme_python_api_example_runs(tmp_path, monkeypatch, capsys):
    text = (ROOT / "README.md").read_text()
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len(code.strip().splitlines()) <= 10
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.startswith("0.9988")
