"""Block-by-block integration of an :class:`HHNetwork` (state carried between blocks)."""

from __future__ import annotations

import numpy as np

from .._kernels import NORMAL_TABLE, stream_key
from .model import CHANNELS, FS, RS, gate_tables, network_block, probe_cells
from .network import HHNetwork, ns_to_density
from .params import HHParams

#: Settling time (ms) before t = 0 and before every probe: the M current relaxes over ~1 s.
SETTLE_MS = 2000.0
#: Only samples this long after a neuron's last spike enter its subthreshold V_m statistics (ms).
STAT_GAP_MS = 30.0


def doe_coefs(tau_rise: float, tau_decay: float, dt: float):
    """(rise decay, decay decay, A): g = A·(s_decay − s_rise) has peak 1 for unit impulses."""
    t = np.arange(0, 20 * tau_decay, dt)
    peak = float(np.max(np.exp(-t / tau_decay) - np.exp(-t / tau_rise)))
    return np.exp(-dt / tau_rise), np.exp(-dt / tau_decay), 1.0 / peak


class HHEngine:
    """Integrates the network; :meth:`run` returns V_m (samples × neurons) and spikes."""

    def __init__(self, p: HHParams, net: HHNetwork):
        self.p, self.net = p, net
        n = net.n_neurons
        dt = p.dt_ms
        self.dt, self.sub = dt, p.substeps
        self.tab = gate_tables(dt)
        self.gcoef = np.array([[CHANNELS[RS][3], CHANNELS[RS][4]], [CHANNELS[FS][3], CHANNELS[FS][4]]])
        er, ed, ae = doe_coefs(*p.ampa_tau_ms, dt)
        ir, id_, ai = doe_coefs(*p.gaba_tau_ms, dt)
        self.syn = np.array([er, ed, ae, ir, id_, ai, p.e_ampa_mv, p.e_gaba_mv])
        # chemical edges: CSR by pre, conductance in the post cell's units, sign by Dale
        o = np.lexsort((net.post, net.pre))
        self.order = o
        sign = np.where(net.is_excitatory[net.pre[o]], 1.0, -1.0)
        self.out_post = net.post[o]
        self.out_g = sign * ns_to_density(net.g_ns[o], net.area_um2[net.post[o]])
        self.out_d = np.maximum(1, np.round(net.delay_ms[o] / dt)).astype(np.int64)
        ptr = np.zeros(n + 1, np.int64)
        np.add.at(ptr, net.pre + 1, 1)
        self.out_ptr = np.cumsum(ptr)
        D = int(self.out_d.max()) + 2 if len(self.out_d) else 2
        self.ring_e, self.ring_i = np.zeros((D, n)), np.zeros((D, n))
        burst_u = min(1.0, p.stp_u[0] * p.burstiness)
        self.stp = np.where(net.is_excitatory[:, None], [burst_u, p.stp_tau_rec_ms[0]],
                            [p.stp_u[1], p.stp_tau_rec_ms[1]]).astype(np.float64)
        self.gap_a, self.gap_b = net.gap_a, net.gap_b
        self.gap_ga = ns_to_density(net.gap_ns, net.area_um2[net.gap_a])
        self.gap_gb = ns_to_density(net.gap_ns, net.area_um2[net.gap_b])
        a = np.exp(-dt / p.noise_tau_ms)
        self.noise = np.column_stack([np.full(n, a), net.noise_sd * np.sqrt(1 - a * a), net.loading])
        ad = np.exp(-dt / p.drive_tau_ms)
        self.drive_coef = np.array([ad, p.drive_ua_cm2 * np.sqrt(1 - ad * ad)])
        self.drive = np.zeros(max(int(net.group.max()) + 1, 0) if n else 0)
        self.key_n, self.key_d = stream_key(p.seed, 21), stream_key(p.seed, 22)
        # resting state (no noise, no input), then the network starts from it
        self.rest = self.resting_state()
        st = np.zeros((n, 13))
        st[:, :5] = self.rest
        st[:, 10] = 1.0            # resources
        st[:, 11] = -1e9           # last spike (ms)
        st[:, 12] = (self.rest[:, 0] < -30.0).astype(float)
        self.state = st
        self.k = 0                 # global step
        self.t0_ms = 0.0           # network time of the recording's start
        self.vstat = np.zeros((n, 3))

    def resting_state(self, cell=None) -> np.ndarray:
        """(N, 5) V, m, h, n, p of each isolated cell at rest under its bias current."""
        cell = self.net.cell if cell is None else cell
        st = np.zeros((len(cell), 5))
        st[:, 0] = -65.0
        probe_cells(self.tab, cell, self.gcoef, self.syn, self.dt, int(SETTLE_MS / self.dt), st)
        return st

    def warm_up(self, seconds: float):
        """Integrate ``seconds`` of network time and forget it: spike times and
        V_m statistics restart at 0; the state, the synaptic resources and the
        random streams carry on."""
        per = int(round(self.p.sampling_rate_hz))
        left = int(round(seconds * self.p.sampling_rate_hz))
        while left > 0:
            self.run(min(per, left))
            left -= per
        self.t0_ms = self.k * self.dt
        self.vstat[:] = 0.0

    def run(self, n_out: int):
        """Advance ``n_out`` output samples: (V_m − v_reference as float32 (n_out × N),
        spiking neurons, spike times in s)."""
        n = self.net.n_neurons
        vm = np.empty((n_out, n), np.float32)
        cap = n * (n_out * self.sub // max(1, int(round(1.0 / self.dt)))) + 16   # ≤ 1 spike/ms/neuron
        sp_n = np.empty(cap, np.int64)
        sp_t = np.empty(cap)
        ns = network_block(n_out, self.sub, self.dt, self.k, self.tab, self.net.cell, self.gcoef, self.state,
                           self.ring_e, self.ring_i, self.out_ptr, self.out_post, self.out_g, self.out_d,
                           self.stp, self.syn, self.gap_a, self.gap_b, self.gap_ga, self.gap_gb, self.noise,
                           self.net.group, self.drive, self.drive_coef, self.key_n, self.key_d, NORMAL_TABLE,
                           self.p.spike_threshold_mv, self.p.v_reference_mv, STAT_GAP_MS, vm, sp_n, sp_t,
                           self.vstat)
        self.k += n_out * self.sub
        return vm, sp_n[:ns].copy(), (sp_t[:ns] - self.t0_ms) / 1000.0


#: Probe window (ms) for a PSP peak and for a spikelet with its after-hyperpolarisation.
PSP_WINDOW_MS, GAP_WINDOW_MS = 150.0, 80.0
#: Current step (µA/cm², 1 ms) that fires the presynaptic cell of a gap-junction probe once.
GAP_PULSE_UA_CM2 = 40.0


def measure_psp(eng: HHEngine):
    """Truth weights of the chemical synapses, measured, in ``net`` edge order.

    Each synapse's first (undepressed) event, U·g, on its isolated post cell
    at rest, minus a control run: returns (signed PSP peak mV, time to peak
    ms after the onset, whether the cell's Na⁺ had to be blocked because the
    event fired it).
    """
    from .model import probe_psp

    net, p = eng.net, eng.p
    u = eng.stp[net.pre, 0]
    sign = np.where(net.is_excitatory[net.pre], 1.0, -1.0)
    g = sign * u * ns_to_density(net.g_ns, net.area_um2[net.post])
    out = np.zeros((len(g), 3))
    probe_psp(eng.tab, net.cell, eng.gcoef, eng.syn, eng.dt, eng.rest, net.post, g, int(PSP_WINDOW_MS / eng.dt),
              p.spike_threshold_mv, out)
    return out[:, 0], out[:, 1], out[:, 2].astype(bool)


def measure_gap(eng: HHEngine):
    """Spikelets through each junction in both directions.

    Returns (a, b, out) with out columns peak mV, time to peak ms, AHP trough
    mV, presynaptic AP count, post Na⁺ blocked; for the directed
    pairs a → b, first every junction's (gap_a → gap_b), then the reverse.
    """
    from .model import probe_gap

    net = eng.net
    a = np.concatenate([net.gap_a, net.gap_b])
    b = np.concatenate([net.gap_b, net.gap_a])
    ga = np.concatenate([eng.gap_ga, eng.gap_gb])
    gb = np.concatenate([eng.gap_gb, eng.gap_ga])
    out = np.zeros((len(a), 5))
    probe_gap(eng.tab, net.cell, eng.gcoef, eng.syn, eng.dt, eng.rest, a, b, ga, gb, int(200.0 / eng.dt),
              int(GAP_WINDOW_MS / eng.dt), GAP_PULSE_UA_CM2, eng.p.spike_threshold_mv, out)
    return a, b, out


def _input_conductance_ns(eng: HHEngine) -> np.ndarray:
    """Each cell's total membrane conductance at rest (nS)."""
    net = eng.net
    r = eng.rest
    c = net.cell
    G = c[:, 4] + c[:, 1] * r[:, 1] ** 3 * r[:, 2] + c[:, 2] * r[:, 3] ** 4 + c[:, 3] * r[:, 4]
    return G * net.area_um2 / 100.0


HHEngine.input_conductance_ns = _input_conductance_ns
