"""The batch pipeline: configs, a bad file among good ones, resuming, kill -9, LocalCluster."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from connectome.cli import main
from connectome.errors import ConfigError, EnvironmentFault
from connectome.io.checksum import sha256_file
from connectome.pipeline import config_from_dict, load_config, run_pipeline
from connectome.pipeline.runner import MANIFEST
from connectome.simulate import SimParams, simulate

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Three small simulated recordings (different seeds)."""
    d = tmp_path_factory.mktemp("recs")
    paths = []
    for seed in (1, 2, 3):
        p = SimParams(n_neurons=12, grid=(5, 5), duration_s=30.0, seed=seed, epsp_median_mv=2.0, ipsp_median_mv=2.0)
        paths.append(simulate(p, d / f"rec{seed}.h5").recording)
    return [Path(p) for p in paths]


def _config(tmp: Path, inputs, **run) -> Path:
    lines = ["[run]", f"inputs = {json.dumps([str(p) for p in inputs])}", 'output = "out"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in run.items()]
    lines += ["[[compile]]", 'technology = "rram"', 'crossbar = "32x32"', "layers = 2"]
    (tmp / "p.toml").write_text("\n".join(lines) + "\n")
    return tmp / "p.toml"


def _data_checksums(file_dir: Path) -> dict:
    """sha256 of every output except the summaries' timings (summary.json records wall times)."""
    sums = {}
    for p in sorted(file_dir.rglob("*")):
        rel = str(p.relative_to(file_dir))
        if p.is_file() and not rel.startswith(".state") and p.name != "summary.json":
            sums[rel] = sha256_file(p)
    return sums


# ------------------------------------------------------------------ config


@pytest.mark.parametrize("doc, needle", [
    ({"run": {"ouput": "x"}}, "unknown key in [run]: 'ouput' (did you mean 'output'?)"),
    ({"infer": {"q_treshold": 0.1}}, "'q_treshold' (did you mean 'q_threshold'?)"),
    ({"compile": [{"technolgy": "rram"}]}, "'technolgy' (did you mean 'technology'?)"),
    ({"verify": {"aftr": "1d"}}, "'aftr' (did you mean 'after'?)"),
    ({"compil": [{}]}, "unknown table 'compil' (did you mean 'compile'?)"),
    ({"run": {"stages": ["compile"]}}, "stages must be one of"),
    ({"run": {"stages": ["infer", "compile"]}}, "needs at least one [[compile]]"),
    ({"run": {"workers": -1}}, "workers must be an integer"),
    ({"verify": {"after": "3 fortnights"}}, "[verify] after: bad time"),
    ({"compile": [{"crossbar": "256 by 256"}]}, "[[compile]] crossbar expects ROWSxCOLS"),
    ({"compile": [{"technology": "rram"}, {"technology": "rram"}]}, "two [[compile]] tables have the name 'rram'"),
])
def test_config_errors_name_the_key(tmp_path, doc, needle):
    with pytest.raises(ConfigError) as e:
        config_from_dict(doc, tmp_path / "p.toml", base=tmp_path)
    assert needle in str(e.value) and str(tmp_path / "p.toml") in str(e.value)


def test_bundled_configs_are_valid():
    for name in ("demo", "cnea_rram", "cnea_all_technologies"):
        cfg = load_config(REPO / "pipelines" / f"{name}.toml")
        assert cfg.stages[0] == "infer" and cfg.compile
    assert [t.name for t in load_config(REPO / "pipelines/cnea_all_technologies.toml").compile] == \
        ["flash", "mram", "pcm", "rram"]


def test_relative_paths_follow_the_config_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "p.toml").write_text('[run]\ninputs = ["../data/*.h5"]\noutput = "../o"\n')
    (tmp_path / "data").mkdir()
    for n in ("b.h5", "a.h5"):
        (tmp_path / "data" / n).write_bytes(b"")
    from connectome.pipeline import resolve_inputs

    cfg = load_config(tmp_path / "sub" / "p.toml")
    assert cfg.output == (tmp_path / "o").resolve()
    assert [p.name for p in resolve_inputs(cfg)] == ["a.h5", "b.h5"]


# ------------------------------------------------------------------ runs


def test_bad_file_does_not_stop_the_others(tmp_path, recordings, capsys):
    bad = tmp_path / "broken.h5"
    bad.write_bytes(b"this is not an HDF5 file")
    cfg = _config(tmp_path, [recordings[0], bad, tmp_path / "missing.h5", recordings[1]])
    rc = main(["run", str(cfg), "--quiet"])
    assert rc == 1
    err = capsys.readouterr().err
    assert "broken.h5" in err and "missing.h5" in err
    m = json.loads((tmp_path / "out" / MANIFEST).read_text())
    status = {Path(f["input"]).name: f["status"] for f in m["files"]}
    assert status == {"rec1.h5": "done", "broken.h5": "failed", "missing.h5": "failed", "rec2.h5": "done"}
    assert m["counts"] == {"done": 2, "failed": 2, "pending": 0}
    failed = [f for f in m["files"] if f["status"] == "failed"]
    assert all(f["failed_stage"] in ("ingest", "infer") and f["error"] for f in failed)
    # the bad file left no outputs, not even half-written ones
    broken = tmp_path / "out" / "broken"
    assert not broken.exists() or not [p for p in broken.iterdir() if p.name != ".state"]
    for name in ("rec1", "rec2"):
        d = tmp_path / "out" / name
        assert (d / "infer" / "edges.csv").exists() and (d / "rram.map.h5").exists()
        assert m["files"][0]["stages"]["infer"]["outputs"]["infer/edges.csv"]


def test_rerun_skips_done_stages_and_redoes_changed_ones(tmp_path, recordings):
    cfg = load_config(_config(tmp_path, recordings[:1]))
    m1 = run_pipeline(cfg)
    d = cfg.output / "rec1"
    first = _data_checksums(d)
    m2 = run_pipeline(cfg)
    assert {s["status"] for s in m2["files"][0]["stages"].values()} == {"skipped"}
    assert _data_checksums(d) == first
    # a damaged output is detected and only its stage is redone
    (d / "rram.map.h5").write_bytes(b"garbage")
    m3 = run_pipeline(cfg)
    st = {k: v["status"] for k, v in m3["files"][0]["stages"].items()}
    assert st == {"infer": "skipped", "compile:rram": "ran"}
    assert _data_checksums(d) == first
    # new inference parameters redo inference and everything downstream
    cfg2 = config_from_dict({"run": {"inputs": [str(recordings[0])], "output": str(cfg.output)},
                             "infer": {"q_threshold": 0.05},
                             "compile": [{"technology": "rram", "crossbar": "32x32", "layers": 2}]})
    m4 = run_pipeline(cfg2)
    assert {s["status"] for s in m4["files"][0]["stages"].values()} == {"ran"}
    assert m1["files"][0]["stages"]["infer"]["key"] != m4["files"][0]["stages"]["infer"]["key"]


def test_kill_9_then_rerun_gives_identical_outputs(tmp_path, recordings):
    """Kill the run (SIGKILL) after the first file; a re-run finishes the rest, skipping the first."""
    cfg_path = _config(tmp_path, recordings)
    proc = subprocess.Popen([sys.executable, "-m", "connectome.cli", "run", str(cfg_path), "--quiet"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state = tmp_path / "out" / "rec1" / ".state" / "compile-rram.json"
    deadline = time.time() + 120
    while not state.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (tmp_path / "out" / ".run.lock").exists() or proc.returncode == 0  # killed runs leave a stale lock
    m = run_pipeline(load_config(cfg_path))
    assert m["counts"] == {"done": 3, "failed": 0, "pending": 0}
    assert {s["status"] for s in m["files"][0]["stages"].values()} == {"skipped"}
    assert not (tmp_path / "out" / ".run.lock").exists()
    # a clean run elsewhere gives the same bytes
    clean = config_from_dict({"run": {"inputs": [str(p) for p in recordings], "output": str(tmp_path / "clean")},
                              "compile": [{"technology": "rram", "crossbar": "32x32", "layers": 2}]})
    run_pipeline(clean)
    for name in ("rec1", "rec2", "rec3"):
        a, b = _data_checksums(tmp_path / "out" / name), _data_checksums(tmp_path / "clean" / name)
        assert a == b and len(a) >= 6, name


def test_local_cluster_gives_the_same_outputs(tmp_path, recordings):
    """Two files on a 2-process LocalCluster = the default (threaded, in-process) run."""
    pytest.importorskip("distributed")
    base = {"inputs": [str(p) for p in recordings[:2]]}
    comp = [{"technology": "pcm", "crossbar": "32x32", "layers": 2}]
    local = run_pipeline(config_from_dict({"run": {**base, "output": str(tmp_path / "threads")}, "compile": comp}))
    dist = run_pipeline(config_from_dict({"run": {**base, "output": str(tmp_path / "cluster"), "workers": 2},
                                          "compile": comp}))
    assert local["scheduler"] == "threads in this process" and "2 worker processes" in dist["scheduler"]
    assert dist["counts"] == {"done": 2, "failed": 0, "pending": 0}
    for name in ("rec1", "rec2"):
        a, b = _data_checksums(tmp_path / "threads" / name), _data_checksums(tmp_path / "cluster" / name)
        assert a == b and "infer/edges.csv" in a and "pcm.map.h5" in a


def test_a_second_run_on_the_same_output_is_refused(tmp_path, recordings):
    cfg = load_config(_config(tmp_path, recordings[:1]))
    lock = cfg.output / ".run.lock"
    cfg.output.mkdir(parents=True)
    import socket

    lock.write_text(f"{socket.gethostname()} {os.getpid()}")  # this live process "holds" it
    with pytest.raises(EnvironmentFault, match="another run"):
        run_pipeline(cfg)
    lock.write_text(f"{socket.gethostname()} 999999999")  # a dead pid: stale, taken over
    assert run_pipeline(cfg)["counts"]["done"] == 1


def test_demo_pipeline_cli(tmp_path, capsys):
    rc = main(["run", str(REPO / "pipelines" / "demo.toml"), "--out", str(tmp_path / "demo")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "1 of 1 recording(s) done" in out and "10 neurons, 8 synapses" in out
    assert (tmp_path / "demo" / "sample" / "rram.map.h5").exists()


def test_unknown_config_key_exits_2(tmp_path, capsys):
    (tmp_path / "p.toml").write_text('[run]\ninputs = []\noutptu = "x"\n')
    assert main(["run", str(tmp_path / "p.toml")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "'outptu' (did you mean 'output'?)" in err[0] and "p.toml" in err[0]


def test_verify_stage_and_truncated_file(tmp_path, recordings):
    """infer → compile → verify; a truncated recording fails at ingest, before any stage."""
    trunc = tmp_path / "trunc.h5"
    trunc.write_bytes(recordings[2].read_bytes()[:100_000])
    cfg = config_from_dict({"run": {"inputs": [str(recordings[0]), str(trunc)], "output": str(tmp_path / "o")},
                            "compile": [{"technology": "pcm", "crossbar": "32x32", "layers": 2}],
                            "verify": {"after": "1d", "seed": 3}})
    assert cfg.stages == ("infer", "compile", "verify")
    m = run_pipeline(cfg)
    good, bad = m["files"]
    assert good["status"] == "done" and list(good["stages"]) == ["infer", "compile:pcm", "verify:pcm"]
    v = json.loads((tmp_path / "o" / "rec1" / "pcm.verify.json").read_text())
    assert v["parameters"]["after"] == "1d" and v["parameters"]["seed"] == 3
    assert v["weights"]["synapses"] == good["stages"]["infer"]["result"]["synapses"] > 5
    assert 0.5 < v["pearson"] <= 1.0 and good["stages"]["verify:pcm"]["result"]["pearson"] == v["pearson"]
    assert bad["status"] == "failed" and bad["failed_stage"] == "ingest" and "trunc.h5" in bad["error"]
    # verify parameters changed → only verify re-runs
    cfg2 = config_from_dict({"run": {"inputs": [str(recordings[0])], "output": str(tmp_path / "o")},
                             "compile": [{"technology": "pcm", "crossbar": "32x32", "layers": 2}],
                             "verify": {"after": "10y", "seed": 3}})
    st = {k: v["status"] for k, v in run_pipeline(cfg2)["files"][0]["stages"].items()}
    assert st == {"infer": "skipped", "compile:pcm": "skipped", "verify:pcm": "ran"}


def test_existing_scheduler_address(tmp_path, recordings, monkeypatch):
    """--scheduler ADDRESS: files go to an already running cluster (here an in-process one)."""
    distributed = pytest.importorskip("distributed")
    cfg = load_config(_config(tmp_path, recordings[:1]))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        m = run_pipeline(cfg, scheduler=cluster.scheduler_address)
    assert m["scheduler"].startswith(f"dask.distributed scheduler {cluster.scheduler_address}")
    assert m["counts"]["done"] == 1
    monkeypatch.setattr("connectome.pipeline.cluster.CONNECT_TIMEOUT", "2s")
    assert main(["run", str(tmp_path / "p.toml"), "--scheduler", "tcp://127.0.0.1:1", "--quiet"]) == 2


@pytest.mark.parametrize(
    "kw, needle",
    [
        ({"stages": ("compile",)}, "[run] stages must be one of"),
        ({"stages": ("infer", "compile")}, "needs at least one [[compile]] table"),
        ({"workers": -1}, "[run] workers must be an integer ≥ 0"),
        ({"threads": 0}, "[run] threads must be an integer ≥ 1"),
        ({"scheduler": 8786}, "[run] scheduler must be an address string"),
    ],
)
def test_pipeline_config_is_validated_when_built(tmp_path, kw, needle):
    from connectome.pipeline.config import PipelineConfig

    with pytest.raises(ConfigError, match=re.escape(needle)) as e:
        PipelineConfig(path=tmp_path / "p.toml", **kw)
    assert e.value.path == str(tmp_path / "p.toml")


def test_compile_target_is_validated_when_built():
    from connectome.pipeline.config import CompileTarget

    assert CompileTarget("rram-64", {"technology": "rram"}).map_name() == "rram-64.map.h5"
    with pytest.raises(ConfigError, match="name 'a b' must be"):
        CompileTarget("a b")
    with pytest.raises(ConfigError, match="format must be h5 or zarr"):
        CompileTarget("x", format="npz")
