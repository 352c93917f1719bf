"""Technology presets: shipped as TOML, every value sourced, overridable, validated."""

import re
from importlib import resources

import numpy as np
import pytest

from connectome.devices import known_technologies, load_technology
from connectome.devices.noise import programming_sigma_us
from connectome.errors import TechnologyError

TECHS = ["flash", "mram", "pcm", "rram"]


def test_known_technologies():
    assert known_technologies() == TECHS


@pytest.mark.parametrize("name", TECHS)
def test_preset_loads_and_every_value_has_a_source(name):
    tech = load_technology(name)
    assert tech.name == name and tech.source == f"preset:{name}"
    assert 0 <= tech.conductance.g_min_us < tech.conductance.g_max_us
    text = (resources.files("connectome.devices") / "presets" / f"{name}.toml").read_text()
    for line in text.splitlines():
        if re.match(r"^\s*[a-z_0-9]+\s*=", line) and not line.startswith(("name", "description")):
            value, _, comment = line.partition("#")
            # a value is either cited (an author/year or a datasheet) or marked as an assumption;
            # zero-valued fields of another mechanism are allowed to stay uncommented
            if re.search(r"=\s*0(\.0)?\s*$", value.strip()):
                continue
            assert comment.strip(), f"{name}.toml: no source for {line.strip()!r}"
            assert re.search(r"(19|20)\d\d|datasheet|assumption|derived|same", comment), line


def test_binary_technology_has_two_levels():
    tech = load_technology("mram")
    assert tech.conductance.levels == tech.conductance.max_levels == 2
    assert tech.conductance.default_slices > 1


def test_unknown_technology_lists_known():
    with pytest.raises(TechnologyError) as exc:
        load_technology("fefet")
    msg = str(exc.value)
    assert "fefet" in msg and all(n in msg for n in ("flash", "mram", "pcm", "rram"))


def test_override_file_changes_only_given_keys(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('base = "rram"\nname = "my-rram"\n[conductance]\ng_max_us = 80.0\nlevels = 64\n'
                 '[array]\nmax_rows = 2048\nmax_cols = 2048\n')
    tech = load_technology(None, f)
    ref = load_technology("rram")
    assert tech.name == "my-rram" and tech.source == "preset:rram+mine.toml"
    assert tech.conductance.g_max_us == 80.0 and tech.conductance.levels == 64
    assert tech.conductance.g_min_us == ref.conductance.g_min_us
    assert tech.write == ref.write


@pytest.mark.parametrize("body, phrase", [
    ("[conductance]\ng_maxx_us = 3.0\n", "unknown key(s) in [conductance]: g_maxx_us"),
    ("[conductance]\ng_max_us = 1.0\n", "g_min_us < g_max_us"),
    ("[conductance]\nlevels = 5000\n", "levels ≤ max_levels"),
    ("[write]\nmechanism = \"magic\"\n", "unknown write mechanism"),
    ("[colour]\nhue = 1\n", "unknown key 'colour'"),
    ("this is = not toml [", "cannot read technology file"),
])
def test_bad_override_file(tmp_path, body, phrase):
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(TechnologyError) as exc:
        load_technology("rram", f)
    assert phrase in str(exc.value) and str(f) in str(exc.value)


def test_override_base_conflicting_with_technology(tmp_path):
    f = tmp_path / "x.toml"
    f.write_text('base = "pcm"\n[conductance]\nlevels = 8\n')
    with pytest.raises(TechnologyError, match="based on 'pcm' but --technology is 'rram'"):
        load_technology("rram", f)
    assert load_technology("pcm", f).conductance.levels == 8


def test_override_without_base_needs_technology(tmp_path):
    f = tmp_path / "x.toml"
    f.write_text("[conductance]\nlevels = 8\n")
    with pytest.raises(TechnologyError, match="no 'base' preset"):
        load_technology(None, f)
    assert load_technology("pcm", f).conductance.levels == 8


def test_pcm_noise_model_matches_published_polynomial():
    tech = load_technology("pcm")
    g = np.array([0.0, 12.5, 25.0])
    gh = g / 25.0
    want = np.maximum(-1.1731 * gh ** 2 + 1.9650 * gh + 0.2635, 0)
    np.testing.assert_allclose(programming_sigma_us(tech, g, 12), want)


def test_other_noise_models():
    rram = load_technology("rram")
    np.testing.assert_allclose(programming_sigma_us(rram, np.array([10.0]), 32), [0.5])
    flash = load_technology("flash")
    dg = (flash.conductance.g_max_us - flash.conductance.g_min_us) / 7
    np.testing.assert_allclose(programming_sigma_us(flash, np.array([0.5]), 8), [0.15 / (6.0 / 7) * dg])
    mram = load_technology("mram")
    assert programming_sigma_us(mram, np.array([200.0]), 2)[0] < 1e-6
