"""An independent ground truth for spike-train mode: a current-based LIF network.

Not the project's voltage simulator (:mod:`connectome.simulate.run`, PSP
kernels on electrodes) but a second, differently built generator of sorted
spike trains with a known connectivity: leaky integrate-and-fire neurons
(Brunel 2000, J Comput Neurosci 8:183, current-based, exponential synaptic
currents) with

- Dale's law (80 % excitatory), random connections of lognormal PSP size and
  1–3 ms synaptic delays;
- rate heterogeneity: each neuron's mean drive is drawn separately;
- shared input: hidden Poisson sources (not recorded) each driving a random
  subset of neurons with its own delays — the classic false-positive maker;
- network bursts: a slow global depolarisation at random times, on top of
  which recurrent excitation makes population bursts — rate co-modulation
  that a plain correlogram mistakes for connectivity;
- optionally duplicate units (a copy of a neuron's spikes, thinned and
  jittered, as a spike sorter's split cluster).

Writes a CNEA-HDF5 spike file (``/spikes/times_s``, ``/spikes/unit_id``,
``/units/id``, ``x_um``, ``y_um``) and a truth file in the simulator's layout
(``<stem>.truth.h5``: ``/neurons``, ``/edges`` with ``weight_mv`` the PSP peak,
``/bursts``, ``/common_inputs``), readable by ``connectome compare``.
Deterministic: same parameters and seed → identical bytes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numba
import numpy as np

from ..io.atomic import atomic_path


@dataclass(frozen=True)
class LIFParams:
    """Parameters of :func:`simulate_lif_spikes` (units in the names)."""

    n_neurons: int = 40
    duration_s: float = 600.0
    seed: int = 0
    frac_excitatory: float = 0.8
    p_connect: float = 0.1
    epsp_median_mv: float = 1.0  # lognormal PSP peaks
    ipsp_median_mv: float = 2.0
    psp_sigma_ln: float = 0.5
    delay_ms: tuple = (1.0, 3.0)
    tau_m_ms: float = 20.0
    tau_syn_e_ms: float = 2.0
    tau_syn_i_ms: float = 5.0
    threshold_mv: float = 15.0  # above rest
    reset_mv: float = 0.0
    refractory_ms: float = 2.0
    drive_mv: tuple = (7.0, 12.0)  # per-neuron mean drive (rate heterogeneity)
    noise_mv: float = 4.0  # SD of the free membrane fluctuation
    n_common: int = 8  # hidden shared sources
    common_rate_hz: float = 4.0
    common_fanout: float = 0.2
    common_psp_mv: float = 2.0
    common_delay_ms: tuple = (1.0, 6.0)
    burst_rate_hz: float = 0.1  # network bursts per second
    burst_drive_mv: float = 8.0
    burst_tau_ms: float = 150.0
    n_duplicates: int = 0
    dt_ms: float = 0.1
    pitch_um: float = 20.0

    def to_dict(self):
        return asdict(self)


def psp_peak_per_unit(tau_m: float, tau_s: float) -> float:
    """Peak of the membrane response to a unit current jump decaying with ``tau_s`` (τm V' = −V + I)."""
    t = np.log(tau_m / tau_s) * tau_m * tau_s / (tau_m - tau_s)
    return tau_s / (tau_m - tau_s) * (np.exp(-t / tau_m) - np.exp(-t / tau_s))


@numba.njit(cache=True)
def _run(
    n,
    steps,
    dt,
    tau_m,
    tau_se,
    tau_si,
    theta,
    v_reset,
    ref_steps,
    mu,
    sigma,
    out_ptr,
    out_post,
    out_w,
    out_d,
    out_exc,
    com_times,
    com_ptr,
    com_post,
    com_w,
    com_d,
    burst_on,
    burst_amp,
    burst_tau,
    seed,
    max_delay,
):
    np.random.seed(seed)
    v = np.random.random(n) * theta
    ie = np.zeros(n)
    ii = np.zeros(n)
    ref = np.zeros(n, np.int64)
    D = max_delay + 1
    ring_e = np.zeros((D, n))
    ring_i = np.zeros((D, n))
    de, di = np.exp(-dt / tau_se), np.exp(-dt / tau_si)
    noise = sigma * np.sqrt(2.0 * dt / tau_m)
    cap = 1 << 20
    sp_t = np.empty(cap, np.int64)
    sp_u = np.empty(cap, np.int32)
    ns = 0
    burst = 0.0
    db = np.exp(-dt / burst_tau)
    bi = 0
    nb = burst_on.size
    ci = 0
    nc = com_times.shape[0]
    for s in range(steps):
        slot = s % D
        while bi < nb and burst_on[bi] <= s:
            burst += burst_amp
            bi += 1
        burst *= db
        while ci < nc and com_times[ci, 0] <= s:
            src = com_times[ci, 1]
            for k in range(com_ptr[src], com_ptr[src + 1]):
                ring_e[(s + com_d[k]) % D, com_post[k]] += com_w[k]
            ci += 1
        for j in range(n):
            ie[j] = ie[j] * de + ring_e[slot, j]
            ii[j] = ii[j] * di + ring_i[slot, j]
            ring_e[slot, j] = 0.0
            ring_i[slot, j] = 0.0
            if ref[j] > 0:
                ref[j] -= 1
                continue
            v[j] += dt / tau_m * (-v[j] + mu[j] + burst + ie[j] - ii[j]) + noise * np.random.standard_normal()
            if v[j] >= theta:
                v[j] = v_reset
                ref[j] = ref_steps
                if ns == sp_t.size:
                    sp_t = np.concatenate((sp_t, np.empty(sp_t.size, np.int64)))
                    sp_u = np.concatenate((sp_u, np.empty(sp_u.size, np.int32)))
                sp_t[ns] = s
                sp_u[ns] = j
                ns += 1
                for k in range(out_ptr[j], out_ptr[j + 1]):
                    if out_exc[j]:
                        ring_e[(s + out_d[k]) % D, out_post[k]] += out_w[k]
                    else:
                        ring_i[(s + out_d[k]) % D, out_post[k]] += out_w[k]
    return sp_t[:ns], sp_u[:ns]


def simulate_lif_spikes(params: LIFParams, out) -> tuple[Path, Path]:
    """Simulate; write ``out`` (CNEA-HDF5 spike file) and ``<stem>.truth.h5``; return both paths."""
    import h5py

    p = params
    rng = np.random.default_rng(p.seed)
    n = p.n_neurons
    n_e = int(round(p.frac_excitatory * n))
    is_exc = np.zeros(n, bool)
    is_exc[rng.permutation(n)[:n_e]] = True
    side = int(np.ceil(np.sqrt(n)))
    x_um = (np.arange(n) % side) * 3 * p.pitch_um + rng.uniform(-10, 10, n)
    y_um = (np.arange(n) // side) * 3 * p.pitch_um + rng.uniform(-10, 10, n)
    # connections (no autapses), PSP peak in mV, delay in ms
    conn = rng.random((n, n)) < p.p_connect
    np.fill_diagonal(conn, False)
    pre, post = np.nonzero(conn)
    med = np.where(is_exc[pre], p.epsp_median_mv, p.ipsp_median_mv)
    psp = med * np.exp(p.psp_sigma_ln * rng.standard_normal(pre.size))
    delay = rng.uniform(p.delay_ms[0], p.delay_ms[1], pre.size)
    dt = p.dt_ms
    unit_e = psp_peak_per_unit(p.tau_m_ms, p.tau_syn_e_ms)
    unit_i = psp_peak_per_unit(p.tau_m_ms, p.tau_syn_i_ms)
    w = np.where(is_exc[pre], psp / unit_e, psp / unit_i)
    d_steps = np.maximum(1, np.round(delay / dt)).astype(np.int64)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(pre, minlength=n), out=ptr[1:])
    mu = rng.uniform(p.drive_mv[0], p.drive_mv[1], n)
    steps = int(round(p.duration_s * 1000.0 / dt))
    # hidden common sources
    c_post, c_src, c_w, c_d = [], [], [], []
    for c in range(p.n_common):
        members = np.flatnonzero(rng.random(n) < p.common_fanout)
        c_post.append(members)
        c_src.append(np.full(members.size, c))
        c_w.append(np.full(members.size, p.common_psp_mv / unit_e))
        c_d.append(rng.uniform(p.common_delay_ms[0], p.common_delay_ms[1], members.size))
    c_post = np.concatenate(c_post) if c_post else np.zeros(0, np.int64)
    c_src = np.concatenate(c_src) if c_src else np.zeros(0, np.int64)
    c_w = np.concatenate(c_w) if c_w else np.zeros(0)
    c_dms = np.concatenate(c_d) if c_d else np.zeros(0)
    c_ptr = np.zeros(p.n_common + 1, np.int64)
    np.cumsum(np.bincount(c_src, minlength=p.n_common), out=c_ptr[1:])
    ev = []
    for c in range(p.n_common):
        k = rng.poisson(p.common_rate_hz * p.duration_s)
        ev.append(np.stack([np.sort(rng.integers(0, steps, k)), np.full(k, c)], 1))
    com = np.concatenate(ev) if ev else np.zeros((0, 2), np.int64)
    com = com[np.lexsort((com[:, 1], com[:, 0]))].astype(np.int64)
    nb = rng.poisson(p.burst_rate_hz * p.duration_s)
    burst_on = np.sort(rng.integers(0, steps, nb)).astype(np.int64)
    c_dsteps = np.maximum(1, np.round(c_dms / dt)).astype(np.int64)
    max_delay = int(max(d_steps.max(initial=1), c_dsteps.max(initial=1)))
    sp_t, sp_u = _run(
        n,
        steps,
        dt,
        p.tau_m_ms,
        p.tau_syn_e_ms,
        p.tau_syn_i_ms,
        p.threshold_mv,
        p.reset_mv,
        int(round(p.refractory_ms / dt)),
        mu,
        p.noise_mv,
        ptr,
        post.astype(np.int64),
        w,
        d_steps,
        is_exc,
        com,
        c_ptr,
        c_post.astype(np.int64),
        c_w,
        c_dsteps,
        burst_on,
        p.burst_drive_mv,
        p.burst_tau_ms,
        int(p.seed) % (2**31),
        max_delay,
    )
    # spike times: step + uniform sub-step jitter (deterministic)
    times = (sp_t + rng.random(sp_t.size)) * dt / 1000.0
    units = sp_u.astype(np.int64)
    dup_of = np.full(0, -1, np.int64)
    if p.n_duplicates:
        src = rng.choice(n, size=p.n_duplicates, replace=False)
        dup_of = src
        add_t, add_u = [], []
        for k, s in enumerate(src):
            ts = times[units == s]
            keep = rng.random(ts.size) < 0.5
            add_t.append(ts[keep] + rng.normal(0, 5e-5, keep.sum()))
            add_u.append(np.full(keep.sum(), n + k))
        times = np.concatenate([times] + add_t)
        units = np.concatenate([units] + add_u)
    times = np.maximum(times, 0.0)
    o = np.lexsort((units, times))
    times, units = times[o], units[o]
    n_units = n + p.n_duplicates
    # drop exact repeats a jittered copy could create
    keep = np.ones(times.size, bool)
    same = (units[1:] == units[:-1]) & (times[1:] == times[:-1])
    keep[1:][same] = False
    times, units = times[keep], units[keep]
    ux = np.r_[x_um, x_um[dup_of] + 5.0] if p.n_duplicates else x_um
    uy = np.r_[y_um, y_um[dup_of]] if p.n_duplicates else y_um
    out = Path(out)
    truth = (
        out.with_name(out.name[: -len(out.suffix)] + ".truth.h5")
        if out.suffix
        else out.with_name(out.name + ".truth.h5")
    )
    ds = dict(track_times=False)
    with atomic_path(out) as tmp, atomic_path(truth) as ttmp:
        with h5py.File(tmp, "w", track_order=True) as fh:
            fh.attrs["format"] = "cnea"
            fh.attrs["format_version"] = 1
            fh.attrs["generator"] = "connectome.simulate.lif_spikes"
            g = fh.create_group("spikes")
            g.attrs["duration_s"] = float(p.duration_s)
            g.create_dataset("times_s", data=times, **ds)
            g.create_dataset("unit_id", data=units, **ds)
            u = fh.create_group("units")
            u.create_dataset("id", data=np.arange(n_units, dtype=np.int64), **ds)
            u.create_dataset("x_um", data=ux, **ds)
            u.create_dataset("y_um", data=uy, **ds)
        with h5py.File(ttmp, "w", track_order=True) as fh:
            fh.attrs["format"] = "cnea-truth"
            fh.attrs["format_version"] = 1
            fh.attrs["recording"] = out.name
            fh.attrs["simulator"] = "connectome.simulate.lif_spikes"
            fh.attrs["seed"] = int(p.seed)
            fh.attrs["params"] = json.dumps(p.to_dict(), sort_keys=True)
            g = fh.create_group("neurons")
            g.create_dataset("id", data=np.arange(n, dtype=np.int64), **ds)
            g.create_dataset("is_excitatory", data=is_exc.astype(np.int8), **ds)
            g.create_dataset("x_um", data=x_um, **ds)
            g.create_dataset("y_um", data=y_um, **ds)
            g.create_dataset("drive_mv", data=mu, **ds)
            own = units < n
            cnt = np.bincount(units[own], minlength=n)
            o2 = np.argsort(units[own], kind="stable")
            g.create_dataset("spike_ptr", data=np.r_[0, np.cumsum(cnt)].astype(np.int64), **ds)
            g.create_dataset("spike_times_s", data=times[own][o2], **ds)
            g.create_dataset("rate_hz", data=cnt / p.duration_s, **ds)
            e = fh.create_group("edges")
            e.create_dataset("pre", data=pre.astype(np.int64), **ds)
            e.create_dataset("post", data=post.astype(np.int64), **ds)
            e.create_dataset("weight_mv", data=np.where(is_exc[pre], psp, -psp), **ds)
            e.create_dataset("delay_ms", data=d_steps * dt, **ds)
            e.create_dataset("kind", data=np.where(is_exc[pre], 1, 2).astype(np.int8), **ds)
            b = fh.create_group("bursts")
            b.create_dataset("start_s", data=burst_on * dt / 1000.0, **ds)
            b.create_dataset("stop_s", data=burst_on * dt / 1000.0 + 3 * p.burst_tau_ms / 1000.0, **ds)
            c = fh.create_group("common_inputs")
            c.create_dataset("member_ptr", data=c_ptr, **ds)
            c.create_dataset("member", data=c_post.astype(np.int64), **ds)
            c.create_dataset("delay_ms", data=c_dsteps * dt, **ds)
            c.create_dataset("event_times_s", data=com[:, 0] * dt / 1000.0, **ds)
            c.create_dataset("event_source", data=com[:, 1], **ds)
            if p.n_duplicates:
                dd = fh.create_group("duplicates")
                dd.create_dataset("unit", data=np.arange(n, n_units, dtype=np.int64), **ds)
                dd.create_dataset("copy_of", data=dup_of.astype(np.int64), **ds)
    return out, truth
