"""Pipeline configs (``pipelines/*.toml``): read, validate, resolve.

A config has up to four tables; every key is documented in
``pipelines/README.md``. Unknown keys are errors naming the key and the
closest valid one. Relative paths resolve against the config file's folder,
so a config works from any working directory.

Examples
--------
>>> import pathlib, tempfile
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "p.toml").write_text('[run]\\ninputs = ["*.h5"]\\noutput = "out"\\n'
...                               '[[compile]]\\ntechnology = "rram"\\ncrossbar = "64x64"\\n')
>>> cfg = load_config(d / "p.toml")
>>> cfg.stages, cfg.compile[0].name, cfg.output == d / "out"
(('infer', 'compile'), 'rram', True)
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import ConfigError, check_known_keys

STAGES = ("infer", "compile", "verify")

#: keys of ``[run]`` and what they mean (the README of pipelines/ says the same).
RUN_KEYS = {
    "inputs": "recording files or glob patterns (list or one string), relative to the config's folder",
    "output": "output root; each recording gets OUTPUT/<name>/ and the run a manifest, run-manifest.json",
    "stages": 'stages to run, in order: a prefix-closed subset of ["infer", "compile", "verify"]',
    "workers": "0: run files one after another in this process (dask threads inside each file); "
               "N > 0: start a local dask.distributed cluster with N worker processes",
    "scheduler": "address of an existing dask.distributed scheduler (e.g. tcp://10.0.0.5:8786); overrides workers",
    "threads": "threads per file for the chunked passes of infer (default 2)",
    "series": "NWB series to read from each recording (default: the highest-rate ElectricalSeries)",
    "segment": "segment (0-based) to read from recordings with gaps in time",
}
#: keys of each ``[[compile]]`` table (the options of ``connectome compile``).
COMPILE_KEYS = {
    "name": "output name: OUTPUT/<recording>/<name>.map.h5 (default: the technology)",
    "technology": "flash | mram | pcm | rram (default rram)",
    "technology_file": "a TOML technology file (see docs/technologies.md)",
    "crossbar": 'crossbar size "ROWSxCOLS" (default: the technology\'s)',
    "layers": "3D stack depth (default: the technology's)",
    "scheme": "weight encoding: differential | split | bitslice (default: the technology's)",
    "levels": "conductance levels per cell",
    "bits": "bits per weight for bitslice",
    "slices": "bit slices for bitslice",
    "full_scale": 'the |w| mapped to the top code: "max", "pNN" (percentile of |w|) or a value in mV (default "p99")',
    "clip": 'older name of full_scale ("none" = "max")',
    "partitioner": "spectral | metis | rcm | identity (default spectral)",
    "delay_buckets": "delay-bucket tile groups",
    "power_budget_mw": "largest summed power of tiles programmed at once (mW)",
    "seed": "seed for METIS and the write simulation",
    "baselines": "also count tiles for the identity and RCM orderings (true/false)",
    "weight": 'the weight programmed: "mean" (weight_mv) or "rested" (weight_rested_mv, else weight_mv)',
    "format": "map format: h5 | zarr (default h5)",
}
#: keys of ``[verify]`` (the options of ``connectome verify``).
VERIFY_KEYS = {
    "after": 'time after programming: "0", "1s", "1h", "1d", "10y" …',
    "seed": "seed for device noise",
    "drift_compensation": "global drift compensation (true/false)",
    "functional": "also compare simulated network activity (true/false)",
}
TOP_KEYS = ("run", "infer", "compile", "verify")

def parse_duration_s(value, path=None) -> float:
    """``"1d"`` → 86400.0; numbers are seconds (the parser of ``connectome verify --after``).

    >>> parse_duration_s("10y") == 10 * 365.25 * 86400
    True
    >>> parse_duration_s(0)
    0.0
    """
    from ..verify import parse_duration

    try:
        return parse_duration(value)
    except ConfigError as exc:
        raise ConfigError(f"[verify] after: {exc.reason}", path) from None


@dataclass(frozen=True)
class CompileTarget:
    """One ``[[compile]]`` table: a technology and geometry to compile every connectome for."""

    name: str
    options: dict = field(default_factory=dict)
    format: str = "h5"

    def __post_init__(self):
        if self.format not in ("h5", "zarr"):
            raise ConfigError(f"[[compile]] format must be h5 or zarr, not {self.format!r}")
        if not isinstance(self.name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", self.name):
            raise ConfigError(f"[[compile]] name {self.name!r} must be letters, digits, '_', '-' or '.'")

    def map_name(self) -> str:
        return f"{self.name}.map.{self.format}"


@dataclass(frozen=True)
class PipelineConfig:
    """A validated pipeline config (see :func:`load_config`)."""

    path: Path | None
    inputs: tuple = ()
    output: Path = Path("out")
    stages: tuple = ("infer",)
    workers: int = 0
    scheduler: str = ""
    threads: int = 2
    infer: dict = field(default_factory=dict)
    compile: tuple = ()
    verify: dict = field(default_factory=dict)
    #: which data of each recording to read (``open_recording`` keywords ``series``, ``segment``)
    read: dict = field(default_factory=dict)

    def __post_init__(self):
        """The run-level rules (the tables' own keys are checked by :func:`config_from_dict`)."""
        stages = list(self.stages)
        if stages != list(STAGES[: len(stages)]):
            raise ConfigError(f"[run] stages must be one of {[list(STAGES[:k]) for k in (1, 2, 3)]}, not {stages}",
                              self.path)
        if "compile" in stages and not self.compile:
            raise ConfigError("stage 'compile' needs at least one [[compile]] table", self.path)
        for key, lo in (("workers", 0), ("threads", 1)):
            v = getattr(self, key)
            if not isinstance(v, int) or isinstance(v, bool) or v < lo:
                raise ConfigError(f"[run] {key} must be an integer ≥ {lo}, not {v!r}", self.path)
        if not isinstance(self.scheduler, str):
            raise ConfigError("[run] scheduler must be an address string", self.path)
        if not all(isinstance(t, CompileTarget) for t in self.compile):
            raise ConfigError("[[compile]] entries must be CompileTarget objects", self.path)

    def stage_params(self, stage: str, target: CompileTarget | None = None) -> dict:
        """The parameters that decide one stage's outputs (the key for resuming)."""
        if stage == "infer":
            from ..infer import InferParams

            d = InferParams.from_dict({"workers": self.threads, **self.infer}).to_dict()
            d.pop("workers", None)  # threads change speed, not results
            return {**d, **self.read}
        if stage == "compile":
            assert target is not None, "the compile stage needs its target"
            return {"name": target.name, "format": target.format, **target.options}
        if stage == "verify":
            return dict(self.verify)
        raise ValueError(stage)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["path"] = str(self.path) if self.path else None
        d["output"] = str(self.output)
        d["compile"] = [asdict(t) for t in self.compile]
        return d


def _table(doc: dict, key: str, path) -> dict:
    v = doc.get(key, {})
    if not isinstance(v, dict):
        raise ConfigError(f"[{key}] must be a table", path)
    return v


def _compile_target(t: dict, k: int, path) -> CompileTarget:
    if not isinstance(t, dict):
        raise ConfigError(f"[[compile]] entry {k + 1} must be a table", path)
    check_known_keys(t, COMPILE_KEYS, f"key in [[compile]] entry {k + 1}:", path)
    t = dict(t)
    fmt = str(t.pop("format", "h5")).lstrip(".")  # checked by CompileTarget
    tech = t.get("technology")
    if tech is None and "technology_file" not in t:
        t["technology"] = tech = "rram"
    if "technology_file" in t and path is not None:
        t["technology_file"] = str((Path(path).parent / t["technology_file"]).resolve())
    name = str(t.pop("name", tech or Path(t["technology_file"]).stem))
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise ConfigError(f"[[compile]] name {name!r} must be letters, digits, '_', '-' or '.'", path)
    if "crossbar" in t:  # options are CompileOptions' own keys from here on
        from ..compile import parse_crossbar

        t["rows"], t["cols"] = parse_crossbar(t.pop("crossbar"), "[[compile]] crossbar", path)
    _check_compile_options(t, f"[[compile]] entry {k + 1} ({name})", path)
    try:
        return CompileTarget(name=name, options=t, format=fmt)
    except ConfigError as exc:
        raise ConfigError(exc.reason, path) from None


def _check_compile_options(opts: dict, where: str, path) -> None:
    """Everything ``compile`` would reject about these options, found before any stage runs.

    Calls the compiler's own checks (technology lookup, weight encoding,
    crossbar geometry against the technology's limits, clip, partitioner)
    without a connectome.
    """
    import math

    from ..errors import ConnectomeError

    def bad(msg):
        raise ConfigError(f"{where}: {msg}", path)

    for key in ("layers", "levels", "bits", "slices", "delay_buckets"):
        v = opts.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v < 1):
            bad(f"{key} must be a positive integer, not {v!r}")
    if "seed" in opts and (not isinstance(opts["seed"], int) or isinstance(opts["seed"], bool) or opts["seed"] < 0):
        bad(f"seed must be an integer ≥ 0, not {opts['seed']!r}")
    if "baselines" in opts and not isinstance(opts["baselines"], bool):
        bad(f"baselines must be true or false, not {opts['baselines']!r}")
    pw = opts.get("power_budget_mw")
    if pw is not None and (isinstance(pw, bool) or not isinstance(pw, (int, float)) or not math.isfinite(pw)
                           or pw <= 0):
        bad(f"power_budget_mw must be a positive number, not {pw!r}")
    for key in ("technology", "scheme", "partitioner", "weight"):
        if key in opts and not isinstance(opts[key], str):
            bad(f"{key} must be a string, not {opts[key]!r}")
    if "clip" in opts and (isinstance(opts["clip"], bool) or not isinstance(opts["clip"], (str, int, float))):
        bad(f"clip must be \"none\", \"pNN\" or a number of mV, not {opts['clip']!r}")
    try:
        from ..compile import CompileOptions
        from ..compile import compiler as _c
        from ..compile.tiling import PARTITIONERS
        from ..devices import load_technology

        o = CompileOptions(**opts)
        if o.partitioner not in PARTITIONERS:
            bad(f"unknown partitioner {o.partitioner!r}; expected one of {', '.join(PARTITIONERS)}")
        if o.scheme is not None and o.scheme not in ("differential", "split", "bitslice"):
            bad(f"unknown scheme {o.scheme!r}; expected differential, split or bitslice")
        tech = load_technology(o.technology, o.technology_file)
        enc = _c.mapping.resolve_encoding(tech, o.scheme, o.levels, o.bits, o.slices)
        a = tech.array
        rows = int(a.default_rows if o.rows is None else o.rows)
        cols = int(a.default_cols if o.cols is None else o.cols)
        layers = int(a.default_layers if o.layers is None else o.layers)
        _c.check_geometry(tech, rows, cols, layers, enc)
        _c.mapping.parse_clip(str(o.clip) if isinstance(o.clip, (int, float)) else o.clip)
    except ConfigError as exc:
        if exc.reason.startswith(where):
            raise
        bad(exc.reason)
    except ConnectomeError as exc:  # TechnologyError, …: name the table, keep the reason
        bad(str(exc))
    except (TypeError, ValueError) as exc:
        bad(str(exc))


def config_from_dict(doc: dict, path=None, base: Path | None = None) -> PipelineConfig:
    """Validate a parsed config; relative paths resolve against ``base``."""
    check_known_keys(doc, TOP_KEYS, "table", path)
    base = Path(base) if base is not None else Path.cwd()
    run = _table(doc, "run", path)
    check_known_keys(run, RUN_KEYS, "key in [run]:", path)
    inputs = run.get("inputs", [])
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not all(isinstance(s, str) for s in inputs):
        raise ConfigError("[run] inputs must be a list of paths or glob patterns", path)
    output = run.get("output", "out")
    if not isinstance(output, str) or not output:
        raise ConfigError("[run] output must be a path", path)
    infer = _table(doc, "infer", path)
    verify = _table(doc, "verify", path)
    check_known_keys(verify, VERIFY_KEYS, "key in [verify]:", path)
    if "after" in verify:
        parse_duration_s(verify["after"], path)
    if "seed" in verify and (not isinstance(verify["seed"], int) or isinstance(verify["seed"], bool)
                             or verify["seed"] < 0):
        raise ConfigError(f"[verify] seed must be an integer ≥ 0, not {verify['seed']!r}", path)
    for key in ("drift_compensation", "functional"):
        if key in verify and not isinstance(verify[key], bool):
            raise ConfigError(f"[verify] {key} must be true or false, not {verify[key]!r}", path)
    raw_compile = doc.get("compile", [])
    if isinstance(raw_compile, dict):
        raw_compile = [raw_compile]
    targets = tuple(_compile_target(t, k, path) for k, t in enumerate(raw_compile))
    names = [t.name for t in targets]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ConfigError(f"two [[compile]] tables have the name {sorted(dup)[0]!r}; give each a distinct name", path)
    default_stages = ["infer"] + (["compile"] if targets else []) + (["verify"] if "verify" in doc else [])
    stages = run.get("stages", default_stages)
    if isinstance(stages, str):
        stages = [stages]
    for s in stages:
        check_known_keys([s], STAGES, "stage", path)
    workers = run.get("workers", 0)
    threads = run.get("threads", 2)
    scheduler = run.get("scheduler", "")
    # PipelineConfig checks stages, workers, threads and scheduler
    cfg = PipelineConfig(path=Path(path) if path else None,
                         inputs=tuple(inputs), output=(base / output).resolve() if not Path(output).is_absolute()
                         else Path(output), stages=tuple(stages), workers=workers, scheduler=scheduler,
                         threads=threads, infer=dict(infer), compile=targets, verify=dict(verify),
                         read=_read_keys(run, path))
    try:
        cfg.stage_params("infer")  # validates [infer] against InferParams
    except ConfigError as exc:
        raise ConfigError(exc.reason.replace("inference parameter", "key in [infer]:"), path) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"[infer]: {exc}", path) from None
    return cfg


def _read_keys(run: dict, path) -> dict:
    """``series``/``segment`` of ``[run]``, checked (the keywords of ``open_recording``)."""
    out: dict[str, str | int] = {}
    if "series" in run:
        if not isinstance(run["series"], str) or not run["series"]:
            raise ConfigError(f"[run] series must be a series name, not {run['series']!r}", path)
        out["series"] = run["series"]
    if "segment" in run:
        if not isinstance(run["segment"], int) or isinstance(run["segment"], bool) or run["segment"] < 0:
            raise ConfigError(f"[run] segment must be an integer ≥ 0, not {run['segment']!r}", path)
        out["segment"] = run["segment"]
    return out


def load_config(path) -> PipelineConfig:
    """Read and validate a pipeline TOML file."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError("no such pipeline config", path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read pipeline config ({exc})", path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", path) from None
    return config_from_dict(doc, path, base=path.resolve().parent)


def resolve_inputs(cfg: PipelineConfig, files=None) -> list[Path]:
    """Input files: ``files`` if given (command line), else the config's paths and globs, sorted, unique.

    A pattern that matches nothing is kept as a literal path, so that the run
    reports it as a missing file instead of silently doing less.
    """
    import glob

    base = cfg.path.resolve().parent if cfg.path else Path.cwd()
    out = []
    if files:
        out = [Path(f).resolve() for f in files]
    else:
        for pat in cfg.inputs:
            full = pat if Path(pat).is_absolute() else str(base / pat)
            hits = sorted(glob.glob(full, recursive=True)) if glob.has_magic(pat) else [full]
            out += [Path(h).resolve() for h in hits] if hits else [Path(full)]
    seen, uniq = set(), []
    for p in out:
        if p not in seen:
            seen.add(p)
            uniq.append(p)
    return uniq


def stage_key(*parts) -> str:
    """A stable digest of JSON-able parts (input fingerprint, stage parameters, upstream key, version, code)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


#: the packages (below ``connectome/``) whose code decides each stage's outputs; a stage's key
#: digests their source files, so any change to them (an upgrade, a patch) makes the stage run again
STAGE_CODE = {  # api.py: the runner calls each stage through the Python API
    "infer": ("__init__.py", "errors.py", "api.py", "io", "spikes", "infer", "graph"),
    "compile": ("__init__.py", "errors.py", "api.py", "io", "spikes", "infer", "graph", "devices", "compile"),
    "verify": ("__init__.py", "errors.py", "api.py", "io", "spikes", "infer", "graph", "devices", "compile",
               "verify", "simulate"),
}
_CODE_SUFFIXES = (".py", ".toml")


def _package_root() -> Path:
    return Path(__file__).resolve().parent.parent


def _source_bytes(path: Path) -> bytes:
    """The bytes of one source file (a seam for tests)."""
    return path.read_bytes()


def _source_files(part: str) -> list[Path]:
    p = _package_root() / part
    if p.is_file():
        return [p]
    return sorted(f for f in p.rglob("*") if f.is_file() and f.suffix in _CODE_SUFFIXES
                  and "__pycache__" not in f.parts)


_digests: dict = {}


def code_digest(stage: str) -> str:
    """sha256 of the installed source files of the packages ``stage`` depends on (:data:`STAGE_CODE`).

    Computed from the files' bytes once per process and stage. A stage's
    resume key includes it, so ``connectome run`` never serves a result made
    by other code as up to date.
    """
    stage = stage.partition(":")[0]
    if stage not in _digests:
        h = hashlib.sha256()
        root = _package_root()
        for part in STAGE_CODE[stage]:
            for f in _source_files(part):
                h.update(f.relative_to(root).as_posix().encode() + b"\0")
                h.update(hashlib.sha256(_source_bytes(f)).digest())
        _digests[stage] = h.hexdigest()
    return _digests[stage]
