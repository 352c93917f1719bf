"""Run a pipeline config over many recordings: ingest → infer → compile (→ verify).

Each recording gets ``OUTPUT/<name>/`` holding ``infer/`` (the inference
directory), ``<target>.map.h5`` per ``[[compile]]`` table and
``<target>.verify.json`` when verify runs. Every stage writes its outputs
atomically and then a small state record (``.state/<stage>.json``: the
stage's key and the sha256 of each output). The key digests the input's
fingerprint, the stage's parameters, the upstream stage's key, the
package version and the source code of the packages the stage depends on
(:func:`~connectome.pipeline.config.code_digest`), so a re-run skips exactly the stages whose record matches
and whose outputs are intact, and redoes the rest — after a crash or
``kill -9`` too. One file's failure never stops the others; the run
manifest (``OUTPUT/run-manifest.json``, rewritten atomically after every
file) lists each file's status, timings, checksums and error.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
import traceback
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import ConfigError, ConnectomeError, EnvironmentFault
from ..io.atomic import atomic_path, check_output
from ..io.checksum import sha256_file
from .config import PipelineConfig, code_digest, parse_duration_s, resolve_inputs, stage_key

MANIFEST = "run-manifest.json"
MANIFEST_FORMAT = "connectome-run-manifest"
STATE_FORMAT = "connectome-stage-state"
_SUFFIXES = (".h5", ".hdf5", ".zarr", ".nwb")


def output_names(paths) -> list[str]:
    """A folder name per input: the file's stem, made unique with a digest of its path when stems collide."""
    import hashlib

    stems = []
    for p in paths:
        name = Path(p).name
        for suf in _SUFFIXES:
            if name.lower().endswith(suf):
                name = name[: -len(suf)]
                break
        stems.append(name or "recording")
    out = []
    for p, s in zip(paths, stems):
        if stems.count(s) > 1:
            s = f"{s}-{hashlib.sha256(str(Path(p).resolve()).encode()).hexdigest()[:8]}"
        out.append(s)
    return out


#: the files ``infer`` writes (other files a user adds there, e.g. ``inspect`` figures, are not its outputs)
INFER_FILES = ("neurons.csv", "edges.csv", "connectivity.h5", "connectome.graphml", "summary.json")


def output_sha256(file_dir: Path, outputs: list[Path]) -> dict:
    """sha256 per output, keyed by its path below ``file_dir``; a directory output (zarr) by each of its files."""
    sums = {}
    for out in outputs:
        files = sorted(f for f in out.rglob("*") if f.is_file()) if out.is_dir() else [out]
        for f in files:
            sums[str(f.relative_to(file_dir))] = sha256_file(f)
    return sums


def _write_json(path: Path, obj) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=1, sort_keys=True, default=str) + "\n")


def _state_ok(state_file: Path, key: str, file_dir: Path, outputs: list[Path]) -> dict | None:
    """The stage's state record if its key matches and every output is intact, else None."""
    try:
        state = json.loads(state_file.read_text())
    except (OSError, ValueError):
        return None
    if state.get("key") != key or not all(out.exists() for out in outputs):
        return None
    return state if state.get("outputs") == output_sha256(file_dir, outputs) else None


def _drop_recorded_outputs(state_file: Path, file_dir: Path, outputs: list[Path]) -> None:
    """Remove a stage's damaged outputs that its own state record proves it wrote.

    A damaged output (e.g. a truncated map) no longer carries the marker that
    lets :func:`~connectome.io.atomic.atomic_path` replace it; the record of
    the run that wrote it (the sha256 of every file, by path) is the proof
    instead. Files not named in the record are never touched.
    """
    from ..io.atomic import recognise

    try:
        state = json.loads(state_file.read_text())
        recorded = set(state.get("outputs") or {})
    except (OSError, ValueError, AttributeError):
        return
    if not recorded:
        return

    def listed(p: Path) -> bool:
        if p.is_symlink():
            return False
        if p.is_dir():
            return all(listed(q) for q in p.iterdir())
        return str(p.relative_to(file_dir)) in recorded

    for out in outputs:
        if (out.exists() or out.is_symlink()) and recognise(out) is None and listed(out):
            shutil.rmtree(out) if out.is_dir() and not out.is_symlink() else out.unlink()
    parents = {o.parent for o in outputs if o.parent != file_dir}
    for d in parents:  # the infer folder: replaced as a whole
        if d.is_dir() and recognise(d) is None and listed(d):
            shutil.rmtree(d)


def _clean_stale(file_dir: Path) -> None:
    """Remove temporaries a killed run left behind (``.NAME.tmp-*``, infer work folders)."""
    if not file_dir.is_dir():
        return
    for p in file_dir.iterdir():
        if (p.name.startswith(".") and ".tmp-" in p.name) or p.name.startswith("connectome-infer-"):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def process_file(path, file_dir, cfg: PipelineConfig, progress=None, log=None) -> dict:
    """Run the configured stages on one recording; never raises for a bad file.

    Returns the file's manifest entry: ``status`` (``done`` | ``failed``),
    per stage ``ran`` | ``skipped`` with seconds, key and output checksums,
    and ``error`` (one line) and ``failed_stage`` when it failed.
    """
    path, file_dir = Path(path), Path(file_dir)
    say = log or (lambda msg: None)
    entry: dict[str, Any] = {"input": str(path), "output": str(file_dir), "status": "failed", "stages": {},
                             "error": None}
    t_file = time.perf_counter()
    stage_name = "ingest"
    try:
        fingerprint = _ingest(path, file_dir, entry, cfg.read)
        keys: dict[str, str] = {}  # stage label → key; a stage's key includes its upstream's
        for stage_name, target in _plan(cfg):
            label = stage_name if target is None else f"{stage_name}:{target.name}"
            upstream = {"infer": None, "compile": keys.get("infer"),
                        "verify": keys.get(f"compile:{label.partition(':')[2]}")}[stage_name]
            key = keys[label] = stage_key(label, fingerprint, cfg.stage_params(stage_name, target), upstream,
                                          __version__, code_digest(stage_name))
            stage_name = label  # named in the manifest if it fails
            entry["stages"][label] = _run_or_skip(label, target, key, path, file_dir, cfg, progress, say)
        entry["status"] = "done"
    except EnvironmentFault:
        raise  # the machine failed, not this file: stop the run (exit status 4)
    except ConnectomeError as exc:
        entry["error"] = str(exc)
        entry["failed_stage"] = stage_name
    except (OSError, RuntimeError) as exc:
        env = _environment_fault(exc, file_dir)
        if env is None and not isinstance(exc, OSError):
            entry["error"] = f"{path}: {type(exc).__name__}: {exc}"
            entry["failed_stage"] = stage_name
            entry["traceback"] = traceback.format_exc()
        if env is not None:
            raise env from exc
        elif isinstance(exc, OSError):
            entry["error"] = f"{exc.filename or path}: {exc.strerror or exc}"
            entry["failed_stage"] = stage_name
    except MemoryError:
        entry["error"] = f"{path}: out of memory in {stage_name} (try fewer workers or a smaller chunk_s)"
        entry["failed_stage"] = stage_name
    except Exception as exc:  # a bug or an unreadable file: keep going, keep the traceback in the manifest
        entry["error"] = f"{path}: {type(exc).__name__}: {exc}"
        entry["failed_stage"] = stage_name
        entry["traceback"] = traceback.format_exc()
    entry["seconds"] = round(time.perf_counter() - t_file, 3)
    if entry["error"]:
        say(f"FAILED in {entry['failed_stage']}: {entry['error']}")
    return entry


def _ingest(path: Path, file_dir: Path, entry: dict, read: dict | None = None) -> str:
    """Check the recording (the format's rules, before any stage runs) and prepare its folder; its fingerprint."""
    from ..io import open_recording
    from ..io.checksum import file_fingerprint

    if not path.exists():
        raise ConfigError("no such recording", path)
    entry["fingerprint"] = fingerprint = file_fingerprint(path)
    from ..spiketrains import is_spike_input, read_spike_trains

    if is_spike_input(path):  # sorted spike trains (docs/spiketrains.md): the readers' checks
        st = read_spike_trains(path)
        entry["recording"] = {"units": st.n_units, "spikes": st.n_spikes, "duration_s": st.duration_s}
    else:
        rec = open_recording(path, **(read or {}))  # the [run] series/segment choice
        entry["recording"] = {"channels": rec.n_channels, "duration_s": rec.duration_s,
                              "sampling_rate_hz": rec.sampling_rate_hz}
        getattr(rec.store, "close", lambda: None)()
    file_dir.mkdir(parents=True, exist_ok=True)
    _clean_stale(file_dir)
    return fingerprint


def _run_or_skip(label: str, target, key: str, path: Path, file_dir: Path, cfg: PipelineConfig, progress,
                 say) -> dict:
    """One stage of one recording: skipped if its state record matches and its outputs are intact, else run."""
    stage = label.partition(":")[0]
    outputs = _outputs(stage, target, file_dir)
    state_file = file_dir / ".state" / f"{label.replace(':', '-')}.json"
    t = time.perf_counter()
    state = _state_ok(state_file, key, file_dir, outputs)
    if state is not None:
        say(f"{label}: up to date, skipped")
        return {"status": "skipped", "seconds": 0.0, "key": key, "outputs": state["outputs"],
                "result": state.get("result", {})}
    _drop_recorded_outputs(state_file, file_dir, outputs)
    result = _run_stage(stage, path, file_dir / "infer", target, cfg, file_dir, progress)
    sums = output_sha256(file_dir, outputs)
    _write_json(state_file, {"format": STATE_FORMAT, "key": key, "stage": label, "input": str(path),
                             "outputs": sums, "result": result})
    seconds = time.perf_counter() - t
    say(f"{label}: {_describe(label, result)} ({seconds:.1f} s)")
    return {"status": "ran", "seconds": round(seconds, 3), "key": key, "outputs": sums, "result": result}


def _environment_fault(exc: Exception, file_dir: Path) -> EnvironmentFault | None:
    """A disk-full, quota, read-only or permission fault while writing ``file_dir`` (None otherwise)."""
    import errno

    from ..errors import fault_errno

    code = fault_errno(exc)
    reasons = {errno.ENOSPC: "disk full (no space left on device)", errno.EDQUOT: "disk quota exceeded",
               errno.EROFS: "read-only file system"}
    if code in reasons:
        return EnvironmentFault(reasons[code], getattr(exc, "filename", None) or file_dir)
    name = getattr(exc, "filename", None)
    if code in (errno.EACCES, errno.EPERM) and (name is None or os.path.abspath(name).startswith(str(file_dir))):
        return EnvironmentFault("permission denied (cannot write the output)", name or file_dir)
    return None


def _plan(cfg: PipelineConfig):
    if "infer" in cfg.stages:
        yield "infer", None
    if "compile" in cfg.stages:
        for t in cfg.compile:
            yield "compile", t
    if "verify" in cfg.stages:
        for t in cfg.compile:
            yield "verify", t


def _outputs(stage: str, target, file_dir: Path) -> list[Path]:
    if stage == "infer":
        return [file_dir / "infer" / n for n in INFER_FILES]
    if stage == "compile":
        out = [file_dir / target.map_name()]
        if target.format == "h5":
            out.append(file_dir / f"{target.name}.map.summary.json")
        return out
    return [file_dir / f"{target.name}.verify.json"]


def _run_stage(stage, path: Path, infer_dir: Path, target, cfg: PipelineConfig, file_dir: Path, progress) -> dict:
    """Run one stage through the Python API (:mod:`connectome.api`) and write its outputs; its result summary."""
    from .. import api

    if stage == "infer":
        import warnings

        from ..spiketrains import SpikeParams, infer_spike_trains_to, is_spike_input

        if is_spike_input(path):  # spike-train mode: [infer] q_threshold applies, the rest is voltage-only
            q = cfg.infer.get("q_threshold", SpikeParams.q_threshold)
            s = infer_spike_trains_to(path, infer_dir, SpikeParams(q_threshold=q, workers=cfg.threads)).summary
            return {"neurons": s["neurons"], "synapses": s["synapses"], "by_kind": s["by_kind"]}
        params = {"workers": cfg.threads, **cfg.infer}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # the summary keeps the QC counts
            from ..io import open_recording

            rec = open_recording(path, **cfg.read) if cfg.read else path
            inference = api.infer(rec, params, progress=progress, tmp_dir=infer_dir.resolve().parent)
        inference.write(infer_dir)
        s = inference.summary
        return {"neurons": s["neurons"], "synapses": s["synapses"], "by_kind": s["by_kind"]}
    if stage == "compile":
        pm = api.compile(infer_dir, target.options)
        pm.save(file_dir / target.map_name(), timings=False)  # no wall-clock values: a re-run writes the same bytes
        keys = ("tiles", "tiles_lower_bound", "groups", "cells", "synapses", "programming_time_s",
                "programming_energy_uj")
        return {k: pm.summary[k] for k in keys if k in pm.summary}
    if stage == "verify":
        v = dict(cfg.verify)
        report = api.verify(file_dir / target.map_name(), infer_dir, after_s=parse_duration_s(v.pop("after", 0)),
                            seed=v.pop("seed", 0), **v)
        report.write(file_dir / f"{target.name}.verify.json")
        scores = ("pearson", "spearman", "sign_flips", "synapses_lost", "functional_fidelity")
        return {k: report[k] for k in scores if k in report}
    raise ValueError(stage)


def _describe(label: str, r: dict) -> str:
    if label == "infer":
        return f"{r['neurons']} neurons, {r['synapses']} synapses"
    if label.startswith("compile"):
        groups = r.get("groups", 1)
        kept = f"; {groups} tile groups, kept apart" if groups > 1 else ""
        return (f"{r.get('tiles', '?')} tiles (bound {r.get('tiles_lower_bound', '?')}{kept}), "
                f"{r.get('cells', '?')} cells")
    return ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items() if v is not None)


# --------------------------------------------------------------------------- the run


class _Lock:
    """``OUTPUT/.run.lock``: one run per output root at a time (a stale lock from a killed run is taken over)."""

    def __init__(self, root: Path):
        self.path = root / ".run.lock"
        self.me = f"{socket.gethostname()} {os.getpid()}"

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                host, _, pid = self.path.read_text().partition(" ")
                if host == socket.gethostname() and pid.strip().isdigit() and _alive(int(pid)):
                    raise EnvironmentFault(f"another run (pid {pid.strip()}) is writing to this output root "
                                           f"(lock {self.path.name})", self.path.parent) from None
                self.path.unlink(missing_ok=True)  # stale: its run was killed
                continue
            os.write(fd, self.me.encode())
            os.close(fd)
            return self
        raise EnvironmentFault("cannot take the run lock", self.path)

    def __exit__(self, *exc):
        self.path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_pipeline(cfg: PipelineConfig, files=None, *, workers: int | None = None, scheduler: str | None = None,
                 log=None, file_progress=None, chunk_progress=None) -> dict:
    """Run ``cfg`` over its inputs (or ``files``); return the run manifest (also written to disk).

    Parameters
    ----------
    files : list of paths, optional
        Recordings to process instead of the config's ``inputs``.
    workers, scheduler :
        Override the config: ``scheduler`` is a dask.distributed address;
        ``workers > 0`` starts a local cluster of that many processes;
        otherwise files run one after another here (threads inside each).
    log : callable(str), optional
        Receives one line per stage and file.
    file_progress, chunk_progress : tqdm-like, optional
        Bars over files and over one file's chunks (in-process runs only).

    Examples
    --------
    >>> from connectome.pipeline import load_config, run_pipeline     # doctest: +SKIP
    >>> m = run_pipeline(load_config("pipelines/demo.toml"))          # doctest: +SKIP
    >>> m["counts"]                                                   # doctest: +SKIP
    {'done': 1, 'failed': 0}
    """
    from .cluster import executor

    inputs = resolve_inputs(cfg, files)
    if not inputs:
        raise ConfigError("no input recordings (set [run] inputs or name files on the command line)", cfg.path)
    workers = cfg.workers if workers is None else workers
    scheduler = cfg.scheduler if scheduler is None else scheduler
    root = cfg.output
    check_output(root, "run", inputs=[*inputs, cfg.path, *(t.options.get("technology_file") for t in cfg.compile)],
                 folder=True)
    names = output_names(inputs)
    say = log or (lambda msg: None)
    manifest = {"format": MANIFEST_FORMAT, "format_version": 1, "connectome_version": __version__,
                "config": cfg.to_dict(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "files": [None] * len(inputs)}
    t0 = time.perf_counter()
    with _Lock(root), executor(workers, scheduler) as (client, where):
        manifest["scheduler"] = where
        _write_manifest(root, manifest, t0)  # from now on the root is provably a run's (docs/outputs.md)
        say(f"{len(inputs)} recording(s) → {root} ({where})")
        if file_progress is not None:
            file_progress.reset(total=len(inputs))

        def finished(k, entry):
            manifest["files"][k] = entry
            _write_manifest(root, manifest, t0)
            if file_progress is not None:
                file_progress.update(1)

        if client is None:
            for k, (path, name) in enumerate(zip(inputs, names)):
                if file_progress is not None:
                    file_progress.set_description(name)
                entry = process_file(path, root / name, cfg, progress=chunk_progress,
                                     log=lambda msg, n=name: say(f"[{n}] {msg}"))
                finished(k, entry)
        else:
            from distributed import as_completed

            futures = {client.submit(process_file, str(p), str(root / n), cfg, key=f"connectome-file-{k}-{n}",
                                     pure=False): k for k, (p, n) in enumerate(zip(inputs, names))}
            for fut in as_completed(list(futures), loop=client.loop):
                k = futures[fut]
                try:
                    entry = fut.result()
                except Exception as exc:  # the worker died (memory, kill): record it, keep going
                    entry = {"input": str(inputs[k]), "output": str(root / names[k]), "status": "failed",
                             "stages": {}, "error": f"{inputs[k]}: worker failed: {type(exc).__name__}: {exc}",
                             "failed_stage": "worker"}
                for label, st in entry["stages"].items():
                    say(f"[{names[k]}] {label}: " + ("up to date, skipped" if st["status"] == "skipped" else
                                                     f"{_describe(label, st['result'])} ({st['seconds']:.1f} s)"))
                if entry["error"]:
                    say(f"[{names[k]}] FAILED in {entry['failed_stage']}: {entry['error']}")
                finished(k, entry)
    return manifest


def _write_manifest(root: Path, manifest: dict, t0: float) -> None:
    done = [f for f in manifest["files"] if f is not None]
    manifest["counts"] = {"done": sum(f["status"] == "done" for f in done),
                          "failed": sum(f["status"] == "failed" for f in done),
                          "pending": sum(f is None for f in manifest["files"])}
    manifest["seconds"] = round(time.perf_counter() - t0, 3)
    manifest["finished"] = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    _write_json(root / MANIFEST, {**manifest, "files": [f for f in manifest["files"] if f is not None]})
