"""Spike trains of the simulated culture.

Spikes are a point process, not the threshold crossings of a membrane
equation: background Poisson firing, culture-like network bursts, hidden
common inputs, and synaptically triggered spikes (strong excitatory
synapses raise the postsynaptic firing probability at their latency). The
membrane potentials written later are built around these spikes, so the
spike times are exact ground truth by construction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .network import KIND_EXC, Network
from .params import SimParams

#: Dead time between spikes of one neuron (s).
REFRACTORY_S = 0.003
#: Synaptically triggered spikes follow the PSP onset by U(1, 4) ms (the PSP rise).
TRIGGER_RISE_S = (0.001, 0.004)
#: Generations of triggered spikes followed (chains longer than this are rare).
TRIGGER_GENERATIONS = 3
#: Spikes expanded over their outgoing trigger edges at a time (bounds memory).
TRIGGER_BATCH = 20_000


@dataclass
class Activity:
    """Spike trains (CSR by neuron, sample-aligned) and the hidden drives."""

    spike_ptr: np.ndarray
    spike_samples: np.ndarray        # int64, per neuron ascending
    rate_hz: np.ndarray              # background rate of each neuron
    burst_start_s: np.ndarray
    burst_stop_s: np.ndarray
    common_ptr: np.ndarray           # CSR: members of each hidden common source
    common_member: np.ndarray
    common_psp_mv: np.ndarray        # per membership
    common_delay_ms: np.ndarray      # per membership
    common_event_ptr: np.ndarray     # CSR: event samples of each source
    common_event_samples: np.ndarray
    trigger_p: np.ndarray            # per network edge


def trigger_probability(p: SimParams, weight_mv: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Probability that one presynaptic spike makes the postsynaptic cell fire."""
    w = np.where(kind == KIND_EXC, np.maximum(weight_mv, 0.0), 0.0)
    return p.trigger_p_max * (1.0 - np.exp(-(w / p.trigger_w50_mv) ** 2))


def _bursts(p: SimParams, rng):
    mean, shape = p.burst_interval_s
    starts = []
    t = rng.uniform(0.2, 1.0) * mean
    while t < p.duration_s:
        starts.append(t)
        t += rng.gamma(shape, mean / shape)
    starts = np.asarray(starts)
    stops = starts + rng.uniform(*p.burst_duration_s, size=len(starts))
    return starts, np.minimum(stops, p.duration_s)


def _common_inputs(p: SimParams, net: Network, rng):
    n = net.n_neurons
    n_groups = int(round(p.common_groups * n))
    members, psp, delay = [], [], []
    ptr = [0]
    for _ in range(n_groups):
        c = int(rng.integers(n))
        d2 = (net.x_um - net.x_um[c]) ** 2 + (net.y_um - net.y_um[c]) ** 2
        k = int(min(n, rng.integers(3, 11)))
        m = np.sort(np.argsort(d2, kind="stable")[:k])
        members.append(m)
        psp.append(rng.uniform(*p.common_psp_mv, size=k))
        delay.append(rng.uniform(1.0, 4.0, size=k))
        ptr.append(ptr[-1] + k)

    def cat(a, dt):
        return np.concatenate(a).astype(dt) if a else np.zeros(0, dt)

    ev_ptr = [0]
    ev = []
    for _ in range(n_groups):
        k = rng.poisson(p.common_rate_hz * p.duration_s)
        s = np.sort(rng.integers(0, p.n_samples, size=k))
        ev.append(s)
        ev_ptr.append(ev_ptr[-1] + k)
    return (np.asarray(ptr, np.int64), cat(members, np.int64), cat(psp, np.float64),
            cat(delay, np.float64), np.asarray(ev_ptr, np.int64), cat(ev, np.int64))


def _refractory(neuron: np.ndarray, t: np.ndarray):
    """Sort by (neuron, time) and drop spikes closer than the dead time."""
    order = np.lexsort((t, neuron))
    neuron, t = neuron[order], t[order]
    while True:
        close = np.zeros(len(t), bool)
        if len(t) > 1:
            close[1:] = (neuron[1:] == neuron[:-1]) & (t[1:] - t[:-1] < REFRACTORY_S)
        if not close.any():
            return neuron, t
        # drop only spikes whose predecessor is kept, so chains thin out correctly
        first = close.copy()
        first[1:] &= ~close[:-1]
        neuron, t = neuron[~first], t[~first]


def generate_activity(p: SimParams, net: Network, rng: np.random.Generator) -> Activity:
    n = net.n_neurons
    T = p.duration_s
    lo, hi = p.rate_hz_range
    rate = rng.uniform(lo, hi, size=n)
    counts = rng.poisson(rate * T)
    nrn = [np.repeat(np.arange(n), counts)]
    tt = [rng.uniform(0, T, size=counts.sum())]
    # network bursts
    b0, b1 = _bursts(p, rng)
    smin, smax = p.burst_spikes
    for s, e in zip(b0, b1):
        part = rng.random(n) < rng.uniform(*p.burst_participation)
        who = np.flatnonzero(part)
        k = rng.integers(smin, smax + 1, size=len(who))
        nrn.append(np.repeat(who, k))
        tt.append(s + (e - s) * rng.beta(1.5, 3.0, size=k.sum()))
    # hidden common inputs: each source event may make a member fire
    cptr, cmem, cpsp, cdel, eptr, ev = _common_inputs(p, net, rng)
    fs = p.sampling_rate_hz
    for g in range(len(cptr) - 1):
        events = ev[eptr[g]:eptr[g + 1]] / fs
        for j in range(cptr[g], cptr[g + 1]):
            hit = events[rng.random(len(events)) < p.common_trigger_p]
            nrn.append(np.full(len(hit), cmem[j]))
            tt.append(hit + cdel[j] / 1000 + rng.uniform(*TRIGGER_RISE_S, size=len(hit)))
    neuron = np.concatenate(nrn).astype(np.int64)
    t = np.concatenate(tt)
    # synaptically triggered spikes, a few generations deep
    tp = trigger_probability(p, net.weight_mv, net.kind)
    trig = np.flatnonzero(tp > 1e-4)
    tpre = net.pre[trig]
    order = np.argsort(tpre, kind="stable")
    trig = trig[order]
    tptr = np.zeros(n + 1, np.int64)
    np.add.at(tptr, net.pre[trig] + 1, 1)
    tptr = np.cumsum(tptr)
    new_n, new_t = neuron, t
    for _ in range(TRIGGER_GENERATIONS):
        out_n, out_t = [], []
        # (spike, trigger edge) candidates grow with duration × out-degree:
        # expand them a bounded batch of spikes at a time
        for a in range(0, len(new_n), TRIGGER_BATCH):
            bn, bt = new_n[a:a + TRIGGER_BATCH], new_t[a:a + TRIGGER_BATCH]
            deg = tptr[bn + 1] - tptr[bn]
            tot = int(deg.sum())
            if tot == 0:
                continue
            rep = np.repeat(np.arange(len(bn)), deg)
            start = np.repeat(np.cumsum(deg) - deg, deg)
            e = trig[tptr[bn[rep]] + (np.arange(tot) - start)]
            fire = rng.random(tot) < tp[e]
            e, src = e[fire], rep[fire]
            out_n.append(net.post[e])
            out_t.append(bt[src] + net.delay_ms[e] / 1000 + rng.uniform(*TRIGGER_RISE_S, size=len(e)))
        if not out_n:
            break
        new_n, new_t = np.concatenate(out_n), np.concatenate(out_t)
        neuron = np.concatenate([neuron, new_n])
        t = np.concatenate([t, new_t])
    samples = np.round(t * fs).astype(np.int64)
    keep = (samples >= 0) & (samples < p.n_samples)
    neuron, samples = neuron[keep], samples[keep]
    neuron, samples_f = _refractory(neuron, samples / fs)
    samples = np.round(samples_f * fs).astype(np.int64)
    ptr = np.zeros(n + 1, np.int64)
    np.add.at(ptr, neuron + 1, 1)
    return Activity(spike_ptr=np.cumsum(ptr), spike_samples=samples, rate_hz=rate,
                    burst_start_s=b0, burst_stop_s=b1, common_ptr=cptr, common_member=cmem,
                    common_psp_mv=cpsp, common_delay_ms=cdel, common_event_ptr=eptr,
                    common_event_samples=ev, trigger_p=tp)
