"""Spike trains of one neuron and spike-triggered windows, read back from a recording.

Two building blocks that need only a :class:`~connectome.io.Recording` and the
detector of this package: :func:`neuron_spike_train` re-detects one neuron's
action potentials on its channels with the inference's detector, and
:func:`spike_triggered_windows` cuts another channel into windows around
them. The recording is read one chunk at a time — one column per read, only
the chunks that hold spikes in the second — so memory depends on the chunk
size, never on the recording's length. The pair-level view (which neurons,
which parameters, somatic scaling) is :mod:`connectome.traces`.
"""

from __future__ import annotations

import numpy as np

from .detect import detect_block
from .kernels import prepare_block
from .neurons import clean_spikes, drop_copies


# ----------------------------------------------------------------- detection
def neuron_spike_train(rec, channels, p, progress=None) -> np.ndarray:
    """AP peaks (sample indices, sorted) of one neuron recorded on ``channels``.

    The inference's detector (:func:`connectome.spikes.detect.detect_block`)
    on each channel, one file chunk at a time with margins of
    max(15 ms, ``p.artefact_mask_ms`` + 1 ms); candidates below
    ``p.min_ap_fraction`` of the running median amplitude are dropped and the
    channels' trains merged (copies within ``p.merge_window_ms`` count once),
    as in :mod:`connectome.spikes.neurons`.

    Parameters
    ----------
    rec : Recording
    channels : list of int
    p : InferParams or any object with its detection attributes
        ``bin_ms, artefact_mask_ms, chunk_s, spike_threshold, refractory_ms,
        min_ap_fraction, merge_window_ms`` (read, never imported here: this
        module sits below :mod:`connectome.infer`).
    progress : tqdm-like, optional
    """

    fs = rec.sampling_rate_hz
    bin_len = max(1, int(round(p.bin_ms * fs / 1000.0)))
    pad = int(round(max(15.0, p.artefact_mask_ms + 1.0) * 1e-3 * fs))
    lim = np.iinfo(rec.dtype) if rec.dtype.kind in "iu" else None
    bounds = rec.chunk_bounds(int(round(p.chunk_s * fs)))
    if progress is not None:
        progress.reset(total=len(bounds))
        progress.set_description("pair: presynaptic spikes")
    found: dict[int, tuple[list, list]] = {c: ([], []) for c in channels}
    for s, e in bounds:
        a, b = max(0, s - pad), min(rec.n_samples, e + pad)
        for c in channels:
            raw = rec.store.read(a, b, c, c + 1)
            sc = np.atleast_1d(rec.scale[c] if rec.scale.ndim else rec.scale).astype(np.float32)
            of = np.atleast_1d(rec.offset[c] if rec.offset.ndim else rec.offset).astype(np.float32)
            x, xb, badb, _ = prepare_block(
                raw,
                sc,
                of,
                lim.min if lim else 0,
                lim.max if lim else 0,
                lim is not None,
                bin_len,
                s - a,
                e - a,
                int(round(1e-3 * fs)),
                int(round(p.artefact_mask_ms * 1e-3 * fs)),
            )
            rows, _, _, _ = detect_block(
                x,
                fs,
                threshold=p.spike_threshold,
                refractory_ms=p.refractory_ms,
                valid=slice(s - a, e - a),
                bad_bins=(badb, s - a, bin_len),
            )
            offset = float(np.median(xb[:: max(1, xb.shape[0] // 200), 0])) if xb.shape[0] else 0.0
            found[c][0].append(rows + a)
            found[c][1].append(x[rows, 0] - offset)
        if progress is not None:
            progress.update(1)
    trains = []
    for c in channels:
        smp = np.concatenate(found[c][0]) if found[c][0] else np.zeros(0, np.int64)
        amp = np.concatenate(found[c][1]) if found[c][1] else np.zeros(0, np.float32)
        _, smp, _ = clean_spikes(
            np.zeros(smp.size, np.int64), smp, amp.astype(np.float32), p.min_ap_fraction, 1
        )
        trains.append(smp)
    t = np.sort(np.concatenate(trains)) if trains else np.zeros(0, np.int64)
    t = drop_copies(t, max(1, int(round(p.merge_window_ms * 1e-3 * fs))))
    return t.astype(np.int64)


# ------------------------------------------------------------------- windows
def spike_triggered_windows(
    rec,
    spikes,
    channel: int,
    *,
    window_ms=(-10.0, 30.0),
    baseline_ms=(-5.0, -0.5),
    scale: float = 1.0,
    reject_above_mv: float | None = None,
    n_examples: int = 5,
    seed: int = 0,
    progress=None,
) -> dict:
    """Mean, SEM and a few single windows of ``channel`` around ``spikes`` (sample indices).

    Reads the channel once per file chunk that holds spikes, over that
    chunk's spikes' windows only. Each window has its mean over
    ``baseline_ms`` subtracted and is multiplied by ``scale``; windows past
    the file's ends, holding a saturated/non-finite sample or rising above
    ``reject_above_mv`` (electrode mV, after baseline subtraction) are left
    out and counted in ``excluded``. Examples are a uniform reservoir sample
    (same ``seed`` → same windows).
    """
    fs = rec.sampling_rate_hz
    l0 = int(np.floor(window_ms[0] * fs / 1000.0))
    l1 = int(np.ceil(window_ms[1] * fs / 1000.0))
    lags = np.arange(l0, l1 + 1)
    L = lags.size
    b_sel = (lags >= baseline_ms[0] * fs / 1000.0) & (lags <= baseline_ms[1] * fs / 1000.0)
    if not b_sel.any():
        b_sel = lags < 0
    lim = np.iinfo(rec.dtype) if rec.dtype.kind in "iu" else None
    sc = float(rec.scale[channel] if rec.scale.ndim else rec.scale)
    of = float(rec.offset[channel] if rec.offset.ndim else rec.offset)
    s1 = np.zeros(L)
    s2 = np.zeros(L)
    n = 0
    excluded = {"recording_edge": 0, "bad_samples": 0, "post_spike": 0}
    rng = np.random.default_rng(seed)
    examples: list = []
    ex_times: list = []
    seen = 0
    spikes = np.asarray(spikes, np.int64)
    inside = (spikes + l0 >= 0) & (spikes + l1 < rec.n_samples)
    excluded["recording_edge"] = int((~inside).sum())
    spikes = spikes[inside]
    step = int(rec.chunks[0]) or 65536
    groups = spikes // step
    ugroups = np.unique(groups)
    if progress is not None:
        progress.reset(total=len(ugroups))
    for g in ugroups:
        sp_g = spikes[groups == g]
        a, b = int(sp_g[0] + l0), int(sp_g[-1] + l1 + 1)
        raw = rec.store.read(a, b, channel, channel + 1)[:, 0]
        x = raw.astype(np.float64) * sc + of
        bad = ~np.isfinite(x)
        if lim is not None:
            bad |= (raw <= lim.min) | (raw >= lim.max)
        idx = (sp_g - a)[:, None] + lags[None, :]
        w = x[idx]
        badw = bad[idx].any(axis=1)
        w = w - w[:, b_sel].mean(axis=1, keepdims=True)
        spike_w = np.zeros(len(sp_g), bool)
        if reject_above_mv is not None:
            with np.errstate(invalid="ignore"):
                spike_w = np.nanmax(w, axis=1) > reject_above_mv
        use = ~badw & ~spike_w
        excluded["bad_samples"] += int(badw.sum())
        excluded["post_spike"] += int((spike_w & ~badw).sum())
        w = w[use] * scale
        s1 += w.sum(axis=0)
        s2 += (w * w).sum(axis=0)
        n += len(w)
        for r, t in zip(w, sp_g[use]):  # reservoir sample of single windows
            seen += 1
            if len(examples) < n_examples:
                examples.append(r)
                ex_times.append(t)
            else:
                k = int(rng.integers(0, seen))
                if k < n_examples:
                    examples[k], ex_times[k] = r, t
        if progress is not None:
            progress.update(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n if n else np.full(L, np.nan)
        var = (s2 - n * mean * mean) / (n - 1) if n > 1 else np.full(L, np.nan)
        sem = np.sqrt(np.maximum(var, 0) / n) if n > 1 else np.full(L, np.nan)
    order = np.argsort(ex_times) if ex_times else np.zeros(0, np.int64)
    return {
        "lags_ms": lags * 1000.0 / fs,
        "mean": mean,
        "sem": sem,
        "n": n,
        "excluded": excluded,
        "examples": np.array([examples[i] for i in order]).reshape(-1, L),
        "example_times_s": np.array([ex_times[i] for i in order], np.float64) / fs,
    }
