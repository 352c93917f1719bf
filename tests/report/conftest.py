"""Shared data for the report tests: the bundled sample, inferred once per session."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "sample.h5"


@pytest.fixture(scope="session")
def sample_infer(tmp_path_factory):
    """``connectome infer sample_data/sample.h5`` (10 neurons, 8 synapses)."""
    import warnings

    from connectome.infer import infer_recording

    out = tmp_path_factory.mktemp("report-sample") / "infer"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sample has saturated samples on purpose
        infer_recording(SAMPLE, out)
    return out


@pytest.fixture(scope="session")
def bench():
    """benchmarks/bench_report.py as a module (synthetic output folders, headless Chromium loader)."""
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "benchmarks" / "bench_report.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
