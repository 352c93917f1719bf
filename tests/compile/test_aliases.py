"""Technology names as users write them: pram, reram, stt-mram, nand … (any case) name one preset."""

import json

import pytest

from connectome.cli import main
from connectome.compile import CompileOptions, compile_connectome
from connectome.devices import canonical_technology, load_technology
from connectome.errors import ConfigError, TechnologyError
from connectome.graph import Connectome
from connectome.graph.formats import write_csv

CASES = [("pram", "pcm"), ("PCM", "pcm"), ("Pram", "pcm"), ("rram", "rram"), ("ReRAM", "rram"),
         ("mram", "mram"), ("STT-MRAM", "mram"), ("stt_mram", "mram"), ("flash", "flash"), ("NAND", "flash")]


@pytest.mark.parametrize("name,canon", CASES)
def test_alias_loads_the_canonical_preset(name, canon):
    assert canonical_technology(name) == canon
    assert load_technology(name) == load_technology(canon)
    assert load_technology(name).name == canon
    assert CompileOptions(technology=name).technology == canon


def test_unknown_name_lists_every_accepted_name():
    with pytest.raises(TechnologyError) as e:
        load_technology("unobtainium")
    for word in ("pram", "pcm", "rram", "reram", "mram", "stt-mram", "flash", "nand"):
        assert word in e.value.reason
    with pytest.raises(ConfigError, match="accepted names: .*pcm \\(pram"):
        CompileOptions(technology="pram3")


def test_technology_file_base_alias_matches_option(tmp_path):
    f = tmp_path / "t.toml"
    f.write_text('base = "PRAM"\n[conductance]\nlevels = 8\n')
    assert load_technology("pcm", f).conductance.levels == 8
    assert load_technology(None, f).name == "pcm"
    with pytest.raises(TechnologyError, match="based on"):
        load_technology("rram", f)


def test_cli_compile_with_pram_and_help_lists_aliases(tmp_path, capsys):
    c = Connectome.from_edges([0, 1, 2, 3], [1, 2, 3, 0], weight_mv=[0.5, -0.25, 1.0, 0.1])
    d = tmp_path / "in"
    d.mkdir()
    write_csv(c, d)
    out = tmp_path / "m.h5"
    rc = main(["compile", str(d), "-t", "pram", "--crossbar", "64x64", "--layers", "1", "--out", str(out),
               "--json"])
    text = capsys.readouterr().out
    assert rc == 0
    assert json.loads(text)["technology"] == "pcm"
    rc = main(["compile", str(d), "-t", "pram9", "--out", str(tmp_path / "x.h5")])
    err = capsys.readouterr().err
    assert rc == 2 and "accepted names" in err and "Traceback" not in err
    assert main(["compile", "--help"]) == 0
    helptext = " ".join(capsys.readouterr().out.split())
    for word in ("pram", "reram", "stt-mram", "nand"):
        assert word in helptext


def test_compile_connectome_accepts_alias():
    c = Connectome.from_edges([0, 1], [1, 0], weight_mv=[0.5, -0.25])
    pm = compile_connectome(c, CompileOptions(technology="ReRAM", rows=4, cols=4, layers=1))
    assert pm.attrs["technology"] == "rram"
