"""Streaming synthesis of membrane potentials and electrode signals.

One block of samples at a time, with every filter's state carried from block
to block, so memory is set by ``chunk_s × channels`` and never by the
recording's length. Each block draws its random numbers from its own
generator, seeded by (seed, block index), so output is reproducible.

Membrane potential of neuron i (deviation from rest, mV):

    V_i(t) = Σ_syn w·k_E/I(t − t_pre − delay) + Σ_common w·k_E(…)      chemical PSPs
           + AP(t − t_i) + AHP(t − t_i)                                  own spikes
           + OU_i(t)                                                     background bombardment
           + G_i·burst(t)                                                burst-locked depolarisation
           + Σ_gap cc·LP(V_j)(t)                                         spikelets / electrical coupling

Electrode k over neuron i:  x_k(t) = a_k(t)·V_i(t) + b_k + drift_k + noise_k + artefacts,
with a_k(t) = a_k·exp(−t/τ_k) and, on some channels, an abrupt loss at t_loss.
Uncoupled electrodes carry noise and, next to a neuron, a small biphasic
extracellular copy of its spikes.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from ._kernels import NORMAL_TABLE, electrode_block, membrane_block, quantise, stream_key
from .activity import Activity
from .network import KIND_GAP, Network
from .params import SimParams

#: Low-rate grid (Hz) on which slow noise and drift are generated, then interpolated.
SLOW_RATE_HZ = 100.0
#: Electrical-junction low-pass time constant (ms): spikelets are AP copies filtered by the membrane.
GAP_TAU_MS = 10.0
#: Artefact shape: saturating pulse (ms), decaying tail (ms), tail amplitude (mV).
ARTEFACT_PULSE_MS, ARTEFACT_TAU_MS, ARTEFACT_TAIL_MV = 2.0, 5.0, 30.0
#: Channel status codes in the truth file.
STATUS_OK, STATUS_DEAD, STATUS_SATURATED, STATUS_NOISY = 0, 1, 2, 3


def doe_filter(tau_rise_ms: float, tau_decay_ms: float, fs: float):
    """IIR (b, a) whose impulse response is a difference of exponentials with peak 1."""
    dt = 1000.0 / fs
    d1, d2 = np.exp(-dt / tau_decay_ms), np.exp(-dt / tau_rise_ms)
    n = np.arange(int(10 * tau_decay_ms / dt) + 2)
    peak = float(np.max(d1 ** n - d2 ** n))
    b = np.array([0.0, (d1 - d2) / peak])
    a = np.array([1.0, -(d1 + d2), d1 * d2])
    return b, a


def _doe_coefs(tau_rise_ms: float, tau_decay_ms: float, fs: float):
    """(d_slow, d_fast, A) of a difference of exponentials with peak 1 (see :func:`doe_filter`)."""
    b, a = doe_filter(tau_rise_ms, tau_decay_ms, fs)
    dt = 1000.0 / fs
    d, r = np.exp(-dt / tau_decay_ms), np.exp(-dt / tau_rise_ms)
    return d, r, b[1] / (d - r)


def ap_waveform(p: SimParams):
    """Action potential (mV above the current V_m), peak at sample ``pre``.

    Asymmetric Gaussian with full width at half maximum ``ap_width_ms``
    (fast rise, slower repolarisation). Returns (waveform, pre).
    """
    fs = p.sampling_rate_hz
    sr = 0.25 * p.ap_width_ms / 1.1774
    sf = 0.75 * p.ap_width_ms / 1.1774
    pre, post = int(np.ceil(4 * sr * fs / 1000)), int(np.ceil(4 * sf * fs / 1000))
    t = np.arange(-pre, post + 1) * 1000.0 / fs
    w = np.where(t < 0, np.exp(-0.5 * (t / sr) ** 2), np.exp(-0.5 * (t / sf) ** 2))
    return (p.ap_amplitude_mv * w).astype(np.float32), pre


def extracellular_waveform(fs: float):
    """Unit biphasic extracellular spike (negative trough at sample ``pre``)."""
    t = np.arange(-int(0.001 * fs), int(0.002 * fs) + 1) * 1000.0 / fs
    w = -np.exp(-0.5 * (t / 0.25) ** 2) + 0.3 * np.exp(-0.5 * ((t - 0.8) / 0.5) ** 2)
    return w.astype(np.float32), int(0.001 * fs)


def spikelet_peak_per_cc(p: SimParams) -> float:
    """Peak (mV) of the spikelet an AP makes through a junction with cc = 1."""
    fs = p.sampling_rate_hz
    ap, pre = ap_waveform(p)
    n = int(0.2 * fs)
    x = np.zeros(n)
    x[: len(ap)] += ap
    imp = np.zeros(n)
    imp[pre] = 1.0
    b, a = doe_filter(1.5, p.ahp_tau_ms, fs)
    x += p.ahp_mv * lfilter(b, a, imp)
    d = np.exp(-1000.0 / fs / GAP_TAU_MS)
    return float(np.max(lfilter([1 - d], [1, -d], x)))


class Synthesizer:
    """Produces consecutive blocks of the recording (channels × samples, int16)."""

    def __init__(self, p: SimParams, net: Network, act: Activity, rng: np.random.Generator):
        self.p, self.net, self.act = p, net, act
        fs = p.sampling_rate_hz
        self.fs = fs
        n, C = net.n_neurons, p.n_channels
        d = np.exp(-1000.0 / fs / p.vm_noise_tau_ms)
        self.vm_noise_mv = rng.uniform(*p.vm_noise_mv_range, size=n)
        vm0 = self.vm_noise_mv * rng.standard_normal(n)
        self.burst_gain = rng.uniform(*p.burst_depol_mv_range, size=n).astype(np.float32)
        self.ap, self.ap_pre = ap_waveform(p)
        self.ex, self.ex_pre = extracellular_waveform(fs)
        # global spike list in time order
        counts = np.diff(act.spike_ptr)
        owner = np.repeat(np.arange(n), counts)
        order = np.argsort(act.spike_samples, kind="stable")
        self.g_samples = act.spike_samples[order]
        self.g_neuron = owner[order]
        # chemical out-edges (CSR by pre)
        chem = np.flatnonzero(net.kind != KIND_GAP)
        chem = chem[np.argsort(net.pre[chem], kind="stable")]
        self.c_post = net.post[chem]
        self.c_w = net.weight_mv[chem].astype(np.float32)
        self.c_delay = net.delay_ms[chem]
        self.c_inh = net.weight_mv[chem] < 0
        ptr = np.zeros(n + 1, np.int64)
        np.add.at(ptr, net.pre[chem] + 1, 1)
        self.c_ptr = np.cumsum(ptr)
        # electrical junctions (directed both ways)
        gap = np.flatnonzero(net.kind == KIND_GAP)
        self.g_pre, self.g_post, self.g_cc = net.pre[gap], net.post[gap], net.gap_cc[gap].astype(np.float32)
        self.gap_d = np.exp(-1000.0 / fs / GAP_TAU_MS)
        self.zG = np.zeros((len(gap), 1))
        # common inputs: one (source event × member) PSP each
        self.pending = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32), np.zeros(0, bool))
        # channels
        self.scale_mv = p.uv_per_count / 1000.0 * rng.uniform(0.9, 1.1, size=C)
        self.offset_mv = rng.uniform(-5.0, 5.0, size=C)
        noise = p.noise_uv_median * np.exp(0.25 * rng.standard_normal(C))
        status = np.zeros(C, np.int8)
        perm = rng.permutation(C)
        nd = int(round(p.dead_fraction * C))
        ns = int(round(p.saturated_fraction * C))
        nn = int(round(p.noisy_fraction * C))
        status[perm[:nd]] = STATUS_DEAD
        status[perm[nd:nd + ns]] = STATUS_SATURATED
        status[perm[nd + ns:nd + ns + nn]] = STATUS_NOISY
        noise[status == STATUS_NOISY] *= p.noisy_factor
        self.status, self.noise_uv = status, noise
        coupled = (net.channel_neuron >= 0) & (status == STATUS_OK)
        self.coupled = np.flatnonzero(coupled)
        self.coupled_neuron = net.channel_neuron[self.coupled]
        self.attenuation = np.where(coupled, net.attenuation, 0.0)
        lo, hi = p.coupling_tau_min
        self.coupling_tau_s = np.where(coupled, rng.uniform(lo, hi, size=C) * 60.0, np.inf)
        loss = rng.random(C) < p.abrupt_loss_fraction
        self.loss_time_s = np.where(coupled & loss, rng.uniform(0.1, 0.9, size=C) * p.duration_s, np.inf)
        # extracellular pick-up: uncoupled electrode next to a neuron's electrode
        rows, cols = p.grid
        ex_ch, ex_nrn, ex_amp = [], [], []
        for k in np.flatnonzero((net.channel_neuron < 0) & (status == STATUS_OK)):
            r, c = divmod(int(k), cols)
            for dr, dc, f in ((0, 1, 1.0), (1, 0, 1.0), (0, -1, 1.0), (-1, 0, 1.0),
                              (1, 1, 0.5), (1, -1, 0.5), (-1, 1, 0.5), (-1, -1, 0.5)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < rows and 0 <= cc < cols and net.channel_neuron[rr * cols + cc] >= 0:
                    ex_ch.append(k)
                    ex_nrn.append(net.channel_neuron[rr * cols + cc])
                    ex_amp.append(f * rng.uniform(*p.extracellular_uv_range) / 1000.0)
                    break
        ex_ch, ex_nrn, ex_amp = (np.asarray(ex_ch, np.int64), np.asarray(ex_nrn, np.int64),
                                 np.asarray(ex_amp, np.float32))
        o = np.argsort(ex_nrn, kind="stable")
        self.ex_ch, self.ex_amp = ex_ch[o], ex_amp[o]
        eptr = np.zeros(n + 1, np.int64)
        np.add.at(eptr, ex_nrn + 1, 1)
        self.ex_ptr = np.cumsum(eptr)
        # slow noise on a low-rate grid
        self.dec = max(1, int(round(fs / SLOW_RATE_HZ)))
        self.slow_state = np.zeros((3, C))   # drift level, fast and slow pink components
        self.slow_state[1:] = (p.pink_uv / 1000.0 / np.sqrt(2)) * rng.standard_normal((2, C))
        self.slow_last = self.slow_state.sum(axis=0)
        # artefacts: electroporation at t = 0 on all channels, then random patches
        n_art = rng.poisson(p.artefact_rate_hz * p.duration_s)
        a_t = np.concatenate([[0.0], np.sort(rng.uniform(0.5, p.duration_s, size=n_art))])
        patch = np.zeros((len(a_t), 4), np.int64)
        patch[0] = (0, rows, 0, cols)
        for j in range(1, len(a_t)):
            h, w = int(rng.integers(1, rows + 1)), int(rng.integers(1, cols + 1))
            r0, c0 = int(rng.integers(0, rows - h + 1)), int(rng.integers(0, cols - w + 1))
            patch[j] = (r0, r0 + h, c0, c0 + w)
        self.art_sample = np.round(a_t * fs).astype(np.int64)
        self.art_patch = patch
        self.art_len = int(round((ARTEFACT_PULSE_MS + 6 * ARTEFACT_TAU_MS) * fs / 1000))
        self.seed = p.seed
        # kernel inputs
        dE1, dE2, AE = _doe_coefs(*p.epsp_tau_ms, fs)
        dI1, dI2, AI = _doe_coefs(*p.ipsp_tau_ms, fs)
        dH1, dH2, AH = _doe_coefs(1.5, p.ahp_tau_ms, fs)
        self.vm_coef = np.array([dE1, dE2, AE, dI1, dI2, AI, dH1, dH2, AH, d])
        self.vm_state = np.zeros((n, 7))
        self.vm_state[:, 6] = vm0
        self.ou_scale = self.vm_noise_mv * np.sqrt(1 - d * d)
        self.key_vm, self.key_el = stream_key(p.seed, 11), stream_key(p.seed, 12)
        self.channel_drive = np.full(C, -1, np.int64)
        self.channel_drive[self.coupled] = self.coupled_neuron
        self.loss_sample = np.where(np.isfinite(self.loss_time_s),
                                    np.round(np.nan_to_num(self.loss_time_s, posinf=0) * fs), 2 ** 62).astype(np.int64)
        self.offset_f32 = self.offset_mv.astype(np.float32)
        self.noise_sd_f32 = (self.noise_uv / 1000.0).astype(np.float32)
        self.inv_scale = (1.0 / self.scale_mv).astype(np.float32)
        self.dead_value = np.rint(self.offset_mv / self.scale_mv).astype(np.int16)

    # ------------------------------------------------------------------ pieces
    def _synaptic_events(self, s0: int, s1: int, rng):
        """Impulses (post, sample, weight, inhibitory) arriving in [s0, s1)."""
        p, fs = self.p, self.fs
        i0, i1 = np.searchsorted(self.g_samples, [s0, s1])
        ns, nn = self.g_samples[i0:i1], self.g_neuron[i0:i1]
        deg = self.c_ptr[nn + 1] - self.c_ptr[nn]
        tot = int(deg.sum())
        rep = np.repeat(np.arange(len(nn)), deg)
        start = np.repeat(np.cumsum(deg) - deg, deg)
        e = self.c_ptr[nn[rep]] + (np.arange(tot) - start)
        lat = self.c_delay[e] + p.latency_jitter_ms * rng.standard_normal(tot)
        arr = ns[rep] + np.maximum(1, np.round(lat * fs / 1000.0)).astype(np.int64)
        posts, arrs, ws, inh = [self.c_post[e]], [arr], [self.c_w[e]], [self.c_inh[e]]
        # hidden common sources: events in [s0, s1)
        a = self.act
        for g in range(len(a.common_ptr) - 1):
            ev = a.common_event_samples[a.common_event_ptr[g]:a.common_event_ptr[g + 1]]
            ev = ev[(ev >= s0) & (ev < s1)]
            if not len(ev):
                continue
            m = slice(a.common_ptr[g], a.common_ptr[g + 1])
            mem, w, d = a.common_member[m], a.common_psp_mv[m], a.common_delay_ms[m]
            posts.append(np.tile(mem, len(ev)))
            arrs.append(np.repeat(ev, len(mem)) + np.tile(np.round(d * fs / 1000).astype(np.int64), len(ev)))
            ws.append(np.tile(w, len(ev)).astype(np.float32))
            inh.append(np.zeros(len(ev) * len(mem), bool))
        pp, pa, pw, pi = self.pending
        post = np.concatenate([pp] + posts)
        arr = np.concatenate([pa] + arrs)
        w = np.concatenate([pw] + ws)
        inh = np.concatenate([pi] + inh)
        later = arr >= s1
        self.pending = (post[later], arr[later], w[later], inh[later])
        now = ~later
        return post[now], arr[now] - s0, w[now], inh[now]

    def _burst_envelope(self, s0: int, s1: int) -> np.ndarray:
        t = np.arange(s0, s1) / self.fs
        env = np.zeros(len(t))
        a = self.act
        for b0, b1 in zip(a.burst_start_s, a.burst_stop_s):
            if b0 > t[-1] or b1 + 2.0 < t[0]:
                continue
            rise = 1.0 - np.exp(-np.clip(t - b0, 0, None) / 0.03)
            rise[t < b0] = 0.0
            at_end = 1.0 - np.exp(-(b1 - b0) / 0.03)
            env += np.where(t <= b1, rise, at_end * np.exp(-(t - b1) / 0.2))
        return env.astype(np.float32)

    def _add_waveforms(self, out: np.ndarray, rows: np.ndarray, samples: np.ndarray,
                       wave: np.ndarray, pre: int, amp=None, time_major: bool = False):
        """Add ``amp × wave`` centred (at ``pre``) on each (row, sample) into
        out (rows × T, or T × rows if ``time_major``)."""
        if not len(rows):
            return
        T = out.shape[0] if time_major else out.shape[1]
        off = np.arange(len(wave)) - pre
        idx = samples[:, None] + off[None, :]
        ok = (idx >= 0) & (idx < T)
        vals = np.broadcast_to(wave, idx.shape) if amp is None else amp[:, None] * wave[None, :]
        flat = ((idx * out.shape[1] + rows[:, None]) if time_major else (rows[:, None] * T + idx))[ok]
        np.add.at(out.reshape(-1), flat, vals[ok].astype(out.dtype))

    # ------------------------------------------------------------------- block
    def _membrane(self, b: int, s0: int, s1: int, rng) -> np.ndarray:
        """Membrane-potential deviations (neurons × T, float32) over [s0, s1)."""
        n, T = self.net.n_neurons, s1 - s0
        post, at, w, inh = self._synaptic_events(s0, s1, rng)
        i0, i1 = np.searchsorted(self.g_samples, [s0, s1])
        hn, ht = self.g_neuron[i0:i1], self.g_samples[i0:i1] - s0
        nrn = np.concatenate([post, hn])
        tt = np.concatenate([at, ht])
        ww = np.concatenate([w, np.full(len(hn), self.p.ahp_mv, np.float32)]).astype(np.float64)
        ty = np.concatenate([inh.astype(np.int8), np.full(len(hn), 2, np.int8)])
        order = np.lexsort((tt, nrn))
        ptr = np.zeros(n + 1, np.int64)
        np.add.at(ptr, nrn + 1, 1)
        vm = np.empty((n, T), np.float32)
        membrane_block(np.cumsum(ptr), tt[order].astype(np.int64), ww[order], ty[order], self.ou_scale,
                       self.key_vm, s0, NORMAL_TABLE, self.vm_state, self.vm_coef, vm)
        vm += self.burst_gain[:, None] * self._burst_envelope(s0, s1)[None, :]
        # own action potentials (windows reaching into this block)
        j0, j1 = np.searchsorted(self.g_samples, [s0 - (len(self.ap) - self.ap_pre), s1 + self.ap_pre])
        self._add_waveforms(vm, self.g_neuron[j0:j1], self.g_samples[j0:j1] - s0, self.ap, self.ap_pre)
        # electrical junctions: cc × low-passed partner potential
        if len(self.g_pre):
            y, self.zG = lfilter([1 - self.gap_d], [1, -self.gap_d], vm[self.g_pre], axis=1, zi=self.zG)
            np.add.at(vm, self.g_post, (self.g_cc[:, None] * y).astype(np.float32))
        return vm

    def block(self, b: int, s0: int, s1: int) -> np.ndarray:
        """Samples [s0, s1) as int16, time × channels."""
        p, fs = self.p, self.fs
        rng = np.random.default_rng([self.seed, 7, b])
        T, C = s1 - s0, p.n_channels
        vmT = np.ascontiguousarray(self._membrane(b, s0, s1, rng).T)
        # --- electrodes (T × channels)
        t_mid = (s0 + s1) / 2 / fs
        gain = (self.attenuation * np.exp(-t_mid / self.coupling_tau_s)).astype(np.float32)
        loss_at = np.clip(self.loss_sample - s0, 0, T).astype(np.int64)
        common = ((p.common_mode_uv / 1000.0) * rng.standard_normal(T)).astype(np.float32)
        slow = self._slow(s0, s1, rng)
        x = np.empty((T, C), np.float32)
        electrode_block(vmT, self.channel_drive, gain, loss_at, self.offset_f32, self.noise_sd_f32,
                        self.key_el, s0, NORMAL_TABLE, common, slow, self.dec, s0 % self.dec, x)
        del vmT
        # extracellular pick-up
        j0, j1 = np.searchsorted(self.g_samples, [s0 - (len(self.ex) - self.ex_pre), s1 + self.ex_pre])
        nn, ss = self.g_neuron[j0:j1], self.g_samples[j0:j1] - s0
        deg = self.ex_ptr[nn + 1] - self.ex_ptr[nn]
        tot = int(deg.sum())
        if tot:
            rep = np.repeat(np.arange(len(nn)), deg)
            start = np.repeat(np.cumsum(deg) - deg, deg)
            e = self.ex_ptr[nn[rep]] + (np.arange(tot) - start)
            self._add_waveforms(x, self.ex_ch[e], ss[rep], self.ex, self.ex_pre, amp=self.ex_amp[e],
                                time_major=True)
        self._add_artefacts(x, s0, s1)
        raw = np.empty((T, C), np.int16)
        quantise(x, self.inv_scale, self.status, self.dead_value, raw)
        return raw

    def _slow(self, s0: int, s1: int, rng) -> np.ndarray:
        """Random-walk drift plus 1/f-like noise (two OU processes) on the
        low-rate grid: rows for points s0//dec … ceil(s1/dec) (float32)."""
        p, dec = self.p, self.dec
        C = p.n_channels
        k0, k1 = s0 // dec, -(-s1 // dec)
        m = k1 - k0
        dt = dec / self.fs
        steps = rng.standard_normal((3, m, C))
        drift_sd = p.drift_mv_per_min * np.sqrt(dt / 60.0)
        pink = p.pink_uv / 1000.0 / np.sqrt(2)
        vals = np.empty((m + 1, C))
        vals[0] = self.slow_last
        st = self.slow_state
        for j, tau in ((1, 0.05), (2, 0.5)):
            d = np.exp(-dt / tau)
            steps[j] *= pink * np.sqrt(1 - d * d)
            y, _ = lfilter([1.0], [1.0, -d], steps[j].T, axis=1, zi=st[j][:, None] * d)
            steps[j] = y.T
            st[j] = y[:, -1]
        drift = st[0] + np.cumsum(steps[0] * drift_sd, axis=0)
        st[0] = drift[-1]
        vals[1:] = drift + steps[1] + steps[2]
        self.slow_last = vals[-1]
        return vals.astype(np.float32)

    def _add_artefacts(self, x: np.ndarray, s0: int, s1: int):
        cols = self.p.grid[1]
        fs = self.fs
        pulse = int(round(ARTEFACT_PULSE_MS * fs / 1000))
        for a0, (r0, r1, c0, c1) in zip(self.art_sample, self.art_patch):
            if a0 >= s1 or a0 + self.art_len <= s0:
                continue
            t = np.arange(max(s0, a0), min(s1, a0 + self.art_len)) - a0
            wave = np.where(t < pulse, 400.0, ARTEFACT_TAIL_MV * np.exp(-(t - pulse) * 1000.0 / fs / ARTEFACT_TAU_MS))
            ch = (np.arange(r0, r1)[:, None] * cols + np.arange(c0, c1)[None, :]).ravel()
            x[np.ix_(t + a0 - s0, ch)] += wave.astype(np.float32)[:, None]

    def artefact_windows_s(self):
        """(start_s, stop_s, patch) of every artefact."""
        start = self.art_sample / self.fs
        return start, start + self.art_len / self.fs, self.art_patch
