"""The command line's shared flags (README "Commands"), through click's CliRunner.

Every verb that writes something takes ``-o/--out`` (where), ``-q/--quiet``
(no progress bar, nothing on stdout) and ``--json`` (a machine-readable
summary on stdout); ``--verbose``/``--log-level`` go before the verb.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from connectome.cli import cli, configure_logging

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_data" / "sample.h5"

#: verbs that write files → the flags every one of them must take
WRITERS = ["simulate", "infer", "compile", "verify", "imprint", "report", "run"]


def _flags(verb: str) -> set[str]:
    return {opt for p in cli.commands[verb].params for opt in p.opts}


@pytest.fixture(autouse=True)
def _reset_logging():
    yield
    configure_logging(None)


@pytest.mark.parametrize("verb", WRITERS)
def test_every_writer_takes_out_quiet_and_json(verb):
    assert {"-o", "--out", "-q", "--quiet", "--json"} <= _flags(verb)


def test_same_names_for_the_same_things():
    # a flag's short form means the same thing in every command that has it
    meaning = {}
    for cmd in cli.commands.values():
        for p in cmd.params:
            for opt in p.opts:
                if len(opt) == 2:  # -x
                    meaning.setdefault(opt, set()).add(p.name)
    assert meaning["-o"] == {"out"} or meaning["-o"] <= {"out", "out_dir", "output"}
    assert meaning["-q"] == {"quiet"}
    # and the seeds, technologies and outputs are spelled alike
    for verb in ("compile", "verify", "imprint", "simulate", "inspect"):
        assert "--seed" in _flags(verb)
    for verb in ("compile", "imprint"):
        assert {"-t", "--technology", "--technology-file", "--crossbar", "--layers"} <= _flags(verb)


@pytest.fixture(scope="module")
def inferred(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "inf"
    r = CliRunner().invoke(cli, ["infer", str(SAMPLE), "-o", str(out), "--json"])
    assert r.exit_code == 0, r.output
    return out, json.loads(r.stdout)


def test_infer_json_summary_matches_summary_json(inferred):
    out, s = inferred
    on_disk = json.loads((out / "summary.json").read_text())
    assert s["neurons"] == on_disk["neurons"] == 10 and s["synapses"] == on_disk["synapses"] == 8
    assert s["by_kind"] == on_disk["by_kind"] and s["out"] == str(out)


def test_quiet_prints_nothing_but_writes(inferred, tmp_path):
    src, _ = inferred
    r = CliRunner().invoke(cli, ["compile", str(src), "-t", "rram", "--crossbar", "64x64", "-o",
                                 str(tmp_path / "m.h5"), "-q", "--no-baselines"])
    assert r.exit_code == 0 and r.stdout == ""
    assert (tmp_path / "m.h5").is_file()
    r = CliRunner().invoke(cli, ["verify", str(tmp_path / "m.h5"), "--connectome", str(src), "-q"])
    assert r.exit_code == 0 and r.stdout == "" and (tmp_path / "m.verify.json").is_file()
    r = CliRunner().invoke(cli, ["verify", str(tmp_path / "m.h5"), "--connectome", str(src), "--json",
                                 "-o", str(tmp_path / "v.json")])
    assert json.loads(r.stdout) == json.loads((tmp_path / "v.json").read_text())


def test_report_json_and_quiet(inferred, tmp_path):
    src, _ = inferred
    page = tmp_path / "r.html"
    r = CliRunner().invoke(cli, ["report", str(src), "-o", str(page), "--json", "--max-traces", "0"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["report"] == str(page) and s["bytes"] == page.stat().st_size > 0
    r = CliRunner().invoke(cli, ["report", str(src), "-o", str(tmp_path / "r2.html"), "-q", "--max-traces", "0"])
    assert r.exit_code == 0 and r.stdout == "" and (tmp_path / "r2.html").is_file()


def test_run_json_summary(tmp_path):
    cfg = tmp_path / "p.toml"
    cfg.write_text(f'[run]\ninputs = ["{SAMPLE.as_posix()}", "missing.h5"]\noutput = "out"\nstages = ["infer"]\n')
    # standalone_mode=False: the command's return value is the exit status (as connectome.cli.main does)
    r = CliRunner().invoke(cli, ["run", str(cfg), "--json", "--no-report"], standalone_mode=False)
    assert r.return_value == 1  # one file failed
    s = json.loads(r.stdout)
    assert s["counts"] == {"done": 1, "failed": 1, "pending": 0}
    ok, bad = s["files"]
    assert ok["status"] == "done" and ok["stages"]["infer"]["result"]["synapses"] == 8
    assert "infer/edges.csv" in ok["stages"]["infer"]["outputs"]
    assert bad["status"] == "failed" and "no such recording" in bad["error"]
    assert s["manifest"] == str(tmp_path / "out" / "run-manifest.json") and s["report"] is None
    # -q: nothing on stdout, the failure still on stderr
    r = CliRunner().invoke(cli, ["run", str(cfg), "-q", "--no-report"], standalone_mode=False)
    assert r.return_value == 1 and r.stdout == "" and "missing.h5" in r.stderr


def test_simulate_json_and_quiet(tmp_path):
    args = ["simulate", "--neurons", "4", "--grid", "4x4", "--duration", "2", "-o"]
    r = CliRunner().invoke(cli, [*args, str(tmp_path / "a.h5"), "--json"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["neurons"] == 4 and s["channels"] == 16 and Path(s["truth"]).is_file()
    r = CliRunner().invoke(cli, [*args, str(tmp_path / "b.h5"), "-q"])
    assert r.exit_code == 0 and r.stdout == "" and (tmp_path / "b.h5").is_file()


def test_verbose_and_log_level(inferred, tmp_path):
    r = CliRunner().invoke(cli, ["-v", "infer", str(SAMPLE), "-o", str(tmp_path / "i"), "-q"])
    assert r.exit_code == 0 and r.stdout == ""
    assert "connectome: INFO: connectome.api: infer:" in r.stderr and "10 neurons, 8 synapses" in r.stderr
    r = CliRunner().invoke(cli, ["--log-level", "warning", "compile", str(inferred[0]), "--crossbar", "64x64",
                                 "-o", str(tmp_path / "m.h5"), "-q", "--no-baselines"])
    assert r.exit_code == 0 and "INFO" not in r.stderr
    r = CliRunner().invoke(cli, ["--log-level", "loud", "info", str(SAMPLE)])
    assert r.exit_code == 2 and "loud" in r.stderr
