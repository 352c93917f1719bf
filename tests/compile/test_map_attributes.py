"""Root attributes are covered by the manifest: a changed one is caught, in HDF5 and zarr maps."""

import json
import os
import warnings

import h5py
import numpy as np
import pytest

from connectome.cli import main
from connectome.compile import CompileOptions, compile_connectome
from connectome.errors import MapError
from connectome.graph.formats import write_csv
from connectome.io.progmap import COVERED_ATTRS, ROOT_ATTRS, check_map_file, read_map, summary_path, write_map

OPTS = CompileOptions(technology="rram", rows=64, cols=64, layers=2, baselines=False)


@pytest.fixture(scope="module")
def pm(small_connectome):
    return compile_connectome(small_connectome, OPTS)


def _changed(name, value):
    """A plausible different value of the same type."""
    if name == "technology":
        return "pcm"
    if name == "scheme":
        return "split"
    if name == "partitioner":
        return "rcm"
    if name == "format":
        return value + "-x"
    if name in ("parameters", "summary"):
        d = json.loads(value)
        d["tampered"] = 1
        return json.dumps(d, sort_keys=True)
    if isinstance(value, bool) or isinstance(value, str):
        return str(value) + "x"
    if isinstance(value, (int, np.integer)):
        return int(value) + 1
    return float(value) * 1.5 + 1.0


def _set_attr(path, name, value):
    if path.suffix == ".h5":
        with h5py.File(path, "r+") as fh:
            fh.attrs[name] = value
    else:
        import zarr

        root = zarr.open_group(os.fspath(path), mode="r+", zarr_format=3)
        root.attrs[name] = value


def _get_attr(path, name):
    if path.suffix == ".h5":
        with h5py.File(path, "r") as fh:
            v = fh.attrs[name]
            return v.decode() if isinstance(v, bytes) else (v.item() if isinstance(v, np.generic) else v)
    import zarr

    return zarr.open_group(os.fspath(path), mode="r", zarr_format=3).attrs[name]


@pytest.fixture(scope="module", params=["h5", "zarr"])
def written(request, tmp_path_factory, pm):
    d = tmp_path_factory.mktemp(f"attrs-{request.param}")
    path = d / f"map.{request.param}"
    write_map(pm, path)
    return path


def test_every_meaningful_attribute_is_covered(written):
    m = read_map(written).manifest
    assert set(m["attributes"]["digests"]) == set(COVERED_ATTRS) == set(ROOT_ATTRS) | {"summary"}
    for k in ("technology", "rows", "cols", "layers", "levels", "g_min_us", "g_max_us", "mv_per_us",
              "full_scale_mv", "format_version", "scheme", "slices", "parameters"):
        assert k in COVERED_ATTRS
    assert "manifest sha256 of every root attribute" in check_map_file(written)["checks"]


@pytest.mark.parametrize("name", COVERED_ATTRS)
def test_tampered_attribute_is_caught(tmp_path, pm, written, name):
    path = tmp_path / written.name
    write_map(pm, path)
    if path.suffix == ".h5":
        summary_path(path).unlink()  # the file checksum in summary.json would catch it first
    else:
        (path / "summary.json").unlink()
    _set_attr(path, name, _changed(name, _get_attr(path, name)))
    with pytest.raises(MapError) as exc:
        read_map(path)
    msg = str(exc.value)
    assert str(path) in msg
    if name != "format":  # a changed format is "not a programming map", naming the attribute
        assert f"root attribute {name} " in msg and "does not match its sha256" in msg
    else:
        assert "root attribute format" in msg


@pytest.mark.parametrize("fmt", ["h5", "zarr"])
def test_changed_technology_fails_map_info_and_verify(tmp_path, capsys, small_connectome, fmt):
    src = tmp_path / "c"
    write_csv(small_connectome, src)
    path = tmp_path / f"m.{fmt}"
    assert main(["compile", str(src), "--crossbar", "64x64", "--out", str(path), "-q"]) == 0
    (summary_path(path)).unlink()
    _set_attr(path, "technology", "pcm")
    for args in (["map-info", str(path)], ["verify", str(path), "--connectome", str(src), "-q",
                                           "--out", str(tmp_path / "v.json")]):
        rc = main(args)
        err = capsys.readouterr().err
        assert rc == 2 and err.startswith(f"connectome: error: {path}: root attribute technology")
        assert "Traceback" not in err
    assert not (tmp_path / "v.json").exists()


def _strip_attribute_digests(path):
    m = json.loads(_get_attr(path, "manifest"))
    del m["attributes"]
    _set_attr(path, "manifest", json.dumps(m, sort_keys=True))


@pytest.mark.parametrize("fmt", ["h5", "zarr"])
def test_older_map_without_digests_is_accepted_with_a_warning(tmp_path, capsys, pm, fmt):
    path = tmp_path / f"old.{fmt}"
    write_map(pm, path)
    summary_path(path).unlink()
    _strip_attribute_digests(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        s = check_map_file(path)
    assert "manifest sha256 of every root attribute" not in s["checks"]
    msgs = [str(w.message) for w in caught]
    assert len(msgs) == 1 and str(path) in msgs[0] and "unverified" in msgs[0]
    rc = main(["map-info", str(path)])
    out = capsys.readouterr()
    assert rc == 0 and "connectome: warning:" in out.err and "root attributes" in out.err
    assert "UserWarning" not in out.err


def test_malformed_digest_table_is_an_error(tmp_path, pm):
    path = tmp_path / "m.h5"
    write_map(pm, path)
    m = json.loads(_get_attr(path, "manifest"))
    m["attributes"] = "x"
    _set_attr(path, "manifest", json.dumps(m))
    with pytest.raises(MapError, match="manifest attributes table is malformed"):
        read_map(path)
    m["attributes"] = {"algorithm": "a", "digests": {}}
    _set_attr(path, "manifest", json.dumps(m))
    with pytest.raises(MapError, match="manifest has no digest for root attribute format"):
        read_map(path)
