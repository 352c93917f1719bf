"""Shared data for the graph tests: the bundled sample, inferred once per session."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_data" / "sample.h5"
SAMPLE_TRUTH = ROOT / "sample_data" / "sample.truth.h5"


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """``connectome infer sample_data/sample.h5`` (10 neurons, 8 synapses; ≈ 2 s)."""
    import warnings

    from connectome.infer import infer_recording

    out = tmp_path_factory.mktemp("sample") / "sample"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the sample has saturated samples on purpose
        infer_recording(SAMPLE, out)
    return out


@pytest.fixture(scope="session")
def sample_truth():
    return SAMPLE_TRUTH


@pytest.fixture(scope="session")
def sample_recording():
    return SAMPLE
