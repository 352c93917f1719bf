"""Pass 1 over a recording: channel QC, spike detection and binned traces.

The recording is read exactly once, chunk by chunk (dask, threads by
default), each chunk with a small margin shared with its neighbours so that
filters and peaks are exact across chunk edges. Each chunk yields:

- AP peaks per channel (:func:`connectome.spikes.detect.detect_block`);
- its samples averaged into ``bin_ms`` bins, stored as float16 relative to
  a per-chunk, per-channel offset in a temporary file (:class:`BinnedTraces`):
  everything after pass 1 (pairwise evidence, fits) reads this 1/5-size copy,
  never the recording again;
- per-channel noise (robust SD of the high-passed trace), sub-threshold
  activity (robust SD of binned trace minus its 20-ms moving mean, which
  tracks coupling), and counts of saturated or non-finite samples.

Peak memory is a few chunks (workers × chunk × channels), independent of
the recording's length.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np

from ..io.recording import Recording
from ..spikes._kernels import moving_residual_sd, prepare_block
from ..spikes.detect import detect_block
from .params import InferParams


class BinnedTraces:
    """A (bins × channels) float16 file with per-chunk float32 offsets.

    A value in mV is ``stored + offset[chunk, channel]`` (pass 2 converts while
    assembling traces, :func:`connectome.infer.sta.somatic_traces`); masked
    bins (saturation, NaN) are NaN.
    """

    def __init__(self, path: Path, n_bins: int, n_channels: int, bins_per_chunk: int, n_chunks: int):
        self.path = Path(path)
        self.n_bins, self.n_channels = n_bins, n_channels
        self.bins_per_chunk = bins_per_chunk
        self.offsets = np.zeros((n_chunks, n_channels), np.float32)
        with open(self.path, "wb") as fh:
            fh.truncate(n_bins * n_channels * 2)

    def write(self, chunk: int, b0: int, values: np.ndarray, offset: np.ndarray) -> None:
        self.offsets[chunk] = offset
        data = np.ascontiguousarray(values, dtype=np.float16)
        fd = os.open(self.path, os.O_WRONLY)
        try:
            view, at = memoryview(data).cast("B"), b0 * self.n_channels * 2  # no copy
            while view:  # pwrite may write less than asked
                n = os.pwrite(fd, view, at)
                view, at = view[n:], at + n
        finally:
            os.close(fd)

    def read_bits(self, b0: int, b1: int) -> tuple[int, np.ndarray]:
        """Bins [b0, b1) clipped to the file, all channels, as stored (float16 bit
        patterns in uint16, offsets not added); returns (first bin, array)."""
        b0, b1 = max(0, b0), min(self.n_bins, b1)
        n = max(0, b1 - b0)
        fd = os.open(self.path, os.O_RDONLY)
        try:
            buf = os.pread(fd, n * self.n_channels * 2, b0 * self.n_channels * 2)
        finally:
            os.close(fd)
        return b0, np.frombuffer(buf, dtype=np.uint16).reshape(n, self.n_channels)

    def remove(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


@dataclass
class Pass1:
    """Everything pass 1 learns about a recording."""

    fs: float
    bin_samples: int
    chunk_samples: int
    spike_channel: np.ndarray
    spike_sample: np.ndarray
    spike_amp_mv: np.ndarray
    noise_mv: np.ndarray  # (chunks, channels)
    activity_mv: np.ndarray  # (chunks, channels)
    bad_samples: np.ndarray  # (channels,)
    binned: BinnedTraces
    timings: dict = field(default_factory=dict)


_scratch: dict = {}  # (thread, name) → array; emptied when pass 1 ends


def _scratch_array(name: str, shape: tuple, dtype) -> np.ndarray:
    """A per-thread array reused from chunk to chunk (contents undefined).

    Allocating and first touching a few hundred MB per chunk costs page
    faults (pass 1 on 4,096 ch × 60 s, medians of 3 alternating runs: fresh
    arrays 28.9 s wall / 56.5 s CPU, reused 25.7 s / 50.2 s); each worker
    thread keeps its own buffers until :func:`run_pass1` returns (they must
    not outlive it: later stages need the memory).
    """
    key = (threading.get_ident(), name)
    arr = _scratch.get(key)
    if arr is None or arr.shape != tuple(shape) or arr.dtype != dtype:
        arr = _scratch[key] = np.empty(shape, dtype)
    return arr


def _read(rec: Recording, s: int, e: int) -> np.ndarray:
    return rec.store.read(s, e)


def _head(raw: np.ndarray, n: int) -> np.ndarray:
    return raw[:n].copy()


def _tail(raw: np.ndarray, n: int) -> np.ndarray:
    return raw[-n:].copy()


def _chunk_task(rec: Recording, k: int, s: int, e: int, prev_tail, raw, next_head, p: InferParams,
                bin_samples: int, store: BinnedTraces, raw_limits, threads_per_task: int = 1):
    """Process samples [s, e) given the raw chunk and its neighbours' edges (margins)."""
    fs = rec.sampling_rate_hz
    numba.set_num_threads(threads_per_task)  # per thread: dask already runs chunks in parallel
    parts = [x for x in (prev_tail, raw, next_head) if x is not None]
    lead = 0 if prev_tail is None else prev_tail.shape[0]
    if len(parts) > 1:
        joined = _scratch_array("raw", (sum(x.shape[0] for x in parts), raw.shape[1]), raw.dtype)
        np.concatenate(parts, out=joined)
        raw = joined
    a = s - lead
    x, xb, badb, nbad = prepare_block(
        raw, np.broadcast_to(rec.scale, (rec.n_channels,)).astype(np.float32),
        np.broadcast_to(rec.offset, (rec.n_channels,)).astype(np.float32),
        raw_limits[0] if raw_limits else 0, raw_limits[1] if raw_limits else 0, raw_limits is not None,
        bin_samples, s - a, e - a, int(round(1e-3 * fs)), int(round(p.artefact_mask_ms * 1e-3 * fs)),
        x=_scratch_array("x", raw.shape, np.float32))
    del raw, parts
    rows, cols, amp, sd = detect_block(x, fs, threshold=p.spike_threshold, refractory_ms=p.refractory_ms,
                                       valid=slice(s - a, e - a), bad_bins=(badb, s - a, bin_samples),
                                       scratch=_scratch_array("hp", x.shape, np.float32))
    nb = xb.shape[0]
    offset = np.median(xb[:: max(1, nb // 200)], axis=0).astype(np.float32)
    rel = xb - offset
    # sub-threshold activity: robust SD of the binned trace minus its ~20 ms moving mean
    # (every 4th bin)
    w = max(3, int(round(20e-3 * fs / bin_samples)))
    activity = moving_residual_sd(rel, w, 4)
    rel[badb] = np.nan
    store.write(k, s // bin_samples, rel, offset)
    # AP amplitude from rest: peak minus the channel's typical level in this chunk
    # (the nominal ≈ 80 mV AP amplitude of docs/background.md §6 is measured from rest too)
    amp = (x[rows, cols] - offset[cols]).astype(np.float32)
    return rows + a, cols, amp, sd, activity, nbad


def run_pass1(rec: Recording, p: InferParams, tmp_dir: Path, progress=None) -> Pass1:
    """Stream the recording once; see the module docstring."""
    import dask

    fs = rec.sampling_rate_hz
    bin_samples = max(1, int(round(p.bin_ms * fs / 1000.0)))
    want = max(bin_samples, int(round(p.chunk_s * fs)))
    # align chunks to the file's time chunks and to whole bins
    fchunk = rec.chunks[0]
    if want >= fchunk:
        want = (want // fchunk) * fchunk
    want = max(bin_samples, (want // bin_samples) * bin_samples)
    bounds = [(s, min(s + want, rec.n_samples)) for s in range(0, rec.n_samples, want)]
    n_bins = -(-rec.n_samples // bin_samples)
    store = BinnedTraces(Path(tmp_dir) / "binned.f16", n_bins, rec.n_channels, want // bin_samples, len(bounds))
    raw_limits = rec.raw_limits()  # the one definition of saturation, shared with `connectome info`
    # each chunk is read once, aligned to the file's chunks (an unaligned read
    # would decompress neighbouring file chunks again); margins for filters and
    # peaks across chunk edges come from the neighbours' reads (cf. dask's map_overlap)
    pad = int(round(max(15.0, p.artefact_mask_ms + 1.0) * 1e-3 * fs))
    reads = [dask.delayed(_read)(rec, s, e) for s, e in bounds]
    heads = [dask.delayed(_head)(r, pad) for r in reads]
    tails = [dask.delayed(_tail)(r, pad) for r in reads]
    tasks = [dask.delayed(_chunk_task)(rec, k, s, e, tails[k - 1] if k else None, reads[k],
                                       heads[k + 1] if k + 1 < len(bounds) else None,
                                       p, bin_samples, store, raw_limits,
                                       max(1, numba.config.NUMBA_NUM_THREADS // max(1, p.workers)))
             for k, (s, e) in enumerate(bounds)]
    try:
        results = _compute(tasks, p.workers, progress, "pass 1: detect + bin")
    finally:
        _scratch.clear()
    rows = np.concatenate([r[0] for r in results]) if results else np.zeros(0, np.int64)
    cols = np.concatenate([r[1] for r in results]) if results else np.zeros(0, np.int64)
    amps = np.concatenate([r[2] for r in results]) if results else np.zeros(0, np.float32)
    order = np.lexsort((rows, cols))
    return Pass1(fs=fs, bin_samples=bin_samples, chunk_samples=want,
                 spike_channel=cols[order], spike_sample=rows[order], spike_amp_mv=amps[order],
                 noise_mv=np.array([r[3] for r in results]), activity_mv=np.array([r[4] for r in results]),
                 bad_samples=np.sum([r[5] for r in results], axis=0), binned=store)


def _compute(tasks, workers: int, progress, label: str):
    """Run dask tasks on local threads, with a progress bar.

    Always the threaded scheduler, even when a dask.distributed client is
    active: chunk tasks write into this process's :class:`BinnedTraces`
    (a local file and in-memory offsets), so they must share its memory.
    The batch pipeline scales out by sending whole files to workers
    (docs/scaling.md).
    """
    import dask

    scheduler = "threads"
    if progress is None:
        return list(dask.compute(*tasks, scheduler=scheduler, num_workers=workers))
    from dask.callbacks import Callback

    class _Bar(Callback):
        def _start_state(self, dsk, state):
            progress.reset(total=len(tasks))
            progress.set_description(label)

        def _posttask(self, key, result, dsk, state, worker_id):
            name = key[0] if isinstance(key, tuple) else key
            if str(name).startswith("_chunk_task"):
                progress.update(1)

    with _Bar():
        out = list(dask.compute(*tasks, scheduler=scheduler, num_workers=workers))
    progress.n = len(tasks)
    progress.refresh()
    return out
