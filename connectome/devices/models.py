"""Memory technologies as data: frozen dataclasses loaded from TOML presets.

Each preset in ``connectome/devices/presets/<name>.toml`` cites, next to every
value, its source in the project's memory-device reference; values the
reference does not give are marked "assumption". A user TOML file overrides
any field (``connectome compile --technology-file user.toml``): it holds the
same tables, only the keys it changes, and may name a preset to start from
with ``base = "rram"``.

Where the shipped defaults come from (each value's source is on its line
in the TOML; full table in docs/technologies.md):

``flash``
    TLC, 8 threshold-voltage levels (max QLC 16) and ≈ 4 F² per cell per
    layer (Micheloni et al., Inside NAND Flash Memories, 2010); ISPP with
    15-µs pulses and 0.3-V steps (Suh et al. 1995 JSSC), Vt σ 0.15 V
    (Micheloni 2010); t_PROG ≈ 500 µs, block erase 3.5 ms, page 16 KB,
    TLC endurance ≈ 10³ cycles (vendor datasheets); read as an analog
    sub-threshold conductance as in NOR-flash weights (Merrikh-Bayat et al.
    2018 IEEE TNNLS); up to 321 layers (Samsung, SK hynix 2024–2025).
``mram``
    STT-MRAM, 2 states, R_P = 3 kΩ, R_AP = 2.5 R_P, 10-ns 0.5-pJ writes with
    a 10⁻⁶ write error rate, 20 F², > 10¹² cycles (Apalkov et al. 2016
    Proc. IEEE); bit-slicing and 64×64 crossbars (Jung et al. 2022 Nature).
``pcm``
    0–25 µS and the programming-noise polynomial (Nandakumar et al.
    2019/2020; aihwkit), partial-SET program-and-verify in ≤ 20 iterations
    (Le Gallo & Sebastian 2020; Burr et al. 2017), 10 pJ per pulse and
    10⁶ cycles (Burr et al. 2016 JETCAS), 4 F² cross-point cells (Wong
    et al. 2010 Proc. IEEE), 4 decks (3D XPoint, Intel/Micron).
``rram``
    2–40 µS window and 32 levels (Yao et al. 2020 Nature; Wan et al. 2022
    Nature; up to 2,048 levels, Rao et al. 2023 Nature), 50-ns pulses and
    write-verify to ±1 µS in ≤ 20 iterations (Yao 2020; Wan 2022), σ ≈ 5 %
    of G (Wan 2022; Prezioso et al. 2015 Nature), 1 pJ per pulse (Yu &
    Chen 2016), 256×256 cores up to 1024×1024 (Wan 2022; Li et al. 2018
    Nat. Electron.), 8 layers (Lin et al. 2020 Nat. Electron.), 12 F² 1T1R
    (Wong et al. 2012 Proc. IEEE).

Values the reference does not give (verify times, flash conductance range,
per-pulse noise, pulse limits, feature sizes of the cited chips) are marked
"assumption" in the TOML.

Examples
--------
>>> tech = load_technology("rram")
>>> tech.conductance.g_max_us, tech.array.max_rows
(40.0, 1024)
>>> sorted(known_technologies())
['flash', 'mram', 'pcm', 'rram']
>>> canonical_technology("PRAM"), canonical_technology("stt-mram"), canonical_technology("NAND")
('pcm', 'mram', 'flash')
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import TechnologyError


@dataclass(frozen=True)
class Conductance:
    """Programmable conductance window and the levels it is divided into."""

    g_min_us: float
    g_max_us: float
    levels: int
    max_levels: int
    default_slices: int = 1

    @property
    def step_us(self) -> float:
        """Conductance between adjacent levels at the default level count."""
        return (self.g_max_us - self.g_min_us) / max(self.levels - 1, 1)


@dataclass(frozen=True)
class Write:
    """How a cell is written and verified (``program-and-verify`` | ``ispp`` | ``single-pulse``)."""

    mechanism: str
    pulse_ns: float
    verify_ns: float
    pulse_energy_pj: float
    max_pulses: int
    tolerance_us: float = 0.0
    step_fraction: float = 1.0
    write_noise_us: float = 0.0
    erase_us: float = 0.0
    write_error_rate: float = 0.0
    ispp_start_v: float = 0.0
    ispp_step_v: float = 0.0
    vt_window_v: float = 0.0
    vt_sigma_v: float = 0.0
    # the pulse train (amplitudes in volts; 0 = not given): see connectome.compile.schedule.pulse_train
    set_v: float = 0.0          # first program (SET) pulse amplitude; ISPP uses ispp_start_v
    set_step_v: float = 0.0     # amplitude increment per pulse; ISPP uses ispp_step_v
    reset_v: float = 0.0        # opposite-polarity (RESET) correction pulse; 0 = none
    reset_ns: float = 0.0       # its width
    reset_first: bool = False   # every listed cell of a row gets one RESET pulse before the train (PCM)
    verify_v: float = 0.0       # read-verify voltage
    erase_v: float = 0.0        # block-erase amplitude (flash)


@dataclass(frozen=True)
class Noise:
    """Programming-error model of the expected weight error (``relative``, ``pcm``, ``binary``, ``vt``)."""

    model: str
    programming_sigma_rel: float = 0.0
    read_noise_rel: float = 0.0
    drift_t0_s: float = 0.0
    # coefficients of the ``pcm`` models (Nandakumar et al. 2019/2020; aihwkit PCMLikeNoiseModel); the
    # defaults are the published values, so a description without them (an older map) means the same
    pcm_sigma_poly: tuple = (-1.1731, 1.9650, 0.2635)   # σ(ĝ) = a ĝ² + b ĝ + c µS at G_max = 25 µS
    drift_nu_mean: tuple = (-0.0155, 0.0244, 0.049, 0.1)  # μ_ν = clip(slope·ln ĝ + intercept, min, max)
    drift_nu_std: tuple = (-0.0125, -0.0059, 0.008, 0.045)  # σ_ν, same form
    read_qs: tuple = (0.0088, 0.65, 0.2)                 # Q_s = min(coeff / ĝ^exp, max)
    read_t_s: float = 250e-9                             # t_r of the 1/f read-noise law


@dataclass(frozen=True)
class ArrayLimits:
    """Crossbar geometry, 3D stacking and cell footprint."""

    default_rows: int
    default_cols: int
    max_rows: int
    max_cols: int
    default_layers: int
    max_layers: int
    cell_area_f2: float
    feature_nm: float
    layers_note: str = ""   # why max_layers is what it is (shown when more layers are asked for)

    @property
    def cell_area_um2(self) -> float:
        return self.cell_area_f2 * (self.feature_nm * 1e-3) ** 2


@dataclass(frozen=True)
class Readout:
    """How the crossbar is read (``verify``'s read-out non-idealities; defaults: ideal).

    ``wire_ohm_per_cell``: line resistance of one cell pitch of a row or
    column wire; ``selector``: whether a cell has an access device (1T1R,
    threshold selector) that disconnects it when its row is not driven (a
    bare cross-point has none, so unselected cells load the lines: sneak
    paths); ``dac_bits``/``adc_bits``: input and output converter precision
    (0 = ideal); ``adc_range_inputs``: the ADC's full range in full-scale
    synaptic inputs arriving at once on one column.
    """

    wire_ohm_per_cell: float = 0.0
    selector: bool = True
    dac_bits: int = 0
    adc_bits: int = 0
    adc_range_inputs: float = 4.0


@dataclass(frozen=True)
class Reliability:
    endurance_cycles: float
    retention_years: float


@dataclass(frozen=True)
class Technology:
    """One memory technology (a preset, possibly with user overrides)."""

    name: str
    description: str
    conductance: Conductance
    write: Write
    noise: Noise
    array: ArrayLimits
    reliability: Reliability
    readout: Readout = field(default_factory=Readout)
    source: str = field(default="preset", compare=False)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


_SECTIONS = {"conductance": Conductance, "write": Write, "noise": Noise, "array": ArrayLimits,
             "reliability": Reliability, "readout": Readout}
#: Tables a description may leave out (older maps record technologies without them): their defaults apply.
_OPTIONAL = ("readout",)
_MECHANISMS = ("program-and-verify", "ispp", "single-pulse")
_NOISE_MODELS = ("relative", "pcm", "binary", "vt")


def known_technologies() -> list[str]:
    """Canonical names of the shipped presets."""
    pkg = resources.files("connectome.devices") / "presets"
    return sorted(p.name[:-5] for p in pkg.iterdir() if p.name.endswith(".toml"))


#: Names users write for the shipped technologies → the canonical preset name
#: (case-insensitive; ``_`` = ``-``).
ALIASES: dict[str, str] = {
    "pcm": "pcm", "pram": "pcm", "phase-change": "pcm", "pcram": "pcm",
    "rram": "rram", "reram": "rram",
    "mram": "mram", "stt-mram": "mram", "sttmram": "mram",
    "flash": "flash", "nand": "flash", "nand-flash": "flash",
}


def accepted_names() -> str:
    """The accepted technology names, grouped by preset: ``"flash (nand, …), mram (stt-mram, …), …"``."""
    out = []
    for name in known_technologies():
        alt = [a for a, c in ALIASES.items() if c == name and a != name]
        out.append(f"{name} ({', '.join(alt)})" if alt else name)
    return ", ".join(out)


def canonical_technology(name: str, path=None) -> str:
    """The preset name for ``name`` or one of its :data:`ALIASES` (case-insensitive).

    Raises
    ------
    TechnologyError
        An unknown name; the message lists every accepted name.
    """
    key = str(name).strip().lower().replace("_", "-")
    known = known_technologies()
    canon = ALIASES.get(key, key)
    if canon not in known:
        raise TechnologyError(f"unknown technology {name!r}; accepted names: {accepted_names()}", path)
    return canon


def _read_toml(path, what: str) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise TechnologyError(f"{what} not found", path) from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise TechnologyError(f"cannot read {what}: {exc}", path) from None


def _preset_dict(name: str) -> dict:
    key = canonical_technology(name)
    with (resources.files("connectome.devices") / "presets" / f"{key}.toml").open("rb") as fh:
        return tomllib.load(fh)


def _merge(base: dict, over: dict, path) -> dict:
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}
    for k, v in over.items():
        if k == "base":
            continue
        if k in _SECTIONS:
            if not isinstance(v, dict):
                raise TechnologyError(f"[{k}] must be a table", path)
            fields = {f.name for f in dataclasses.fields(_SECTIONS[k])}
            unknown = sorted(set(v) - fields)
            if unknown:
                raise TechnologyError(f"unknown key(s) in [{k}]: {', '.join(unknown)}; "
                                      f"known: {', '.join(sorted(fields))}", path)
            out.setdefault(k, {}).update(v)
        elif k in ("name", "description"):
            out[k] = v
        else:
            raise TechnologyError(f"unknown key {k!r}; expected name, description, base or one of the "
                                  f"tables {', '.join(_SECTIONS)}", path)
    return out


def _tuples(table):
    """Lists in a table (TOML arrays, JSON) as tuples, as the dataclass defaults are."""
    if not isinstance(table, dict):
        return table
    return {k: tuple(v) if isinstance(v, list) else v for k, v in table.items()}


def technology_from_dict(d: dict, source: str, path=None) -> Technology:
    try:
        parts = {k: cls(**_tuples(d.get(k, {}) if k in _OPTIONAL else d[k])) for k, cls in _SECTIONS.items()}
    except KeyError as exc:
        raise TechnologyError(f"missing table [{exc.args[0]}]", path) from None
    except TypeError as exc:
        raise TechnologyError(f"bad technology description: {exc}", path) from None
    tech = Technology(name=str(d.get("name", "custom")), description=str(d.get("description", "")),
                      source=source, **parts)
    validate_technology(tech, path)
    return tech


def validate_technology(tech: Technology, path=None) -> None:
    """Raise :class:`TechnologyError` if the description is not physically usable."""
    c, w, a = tech.conductance, tech.write, tech.array

    def bad(msg):
        raise TechnologyError(f"technology {tech.name!r}: {msg}", path)

    if not (math.isfinite(c.g_min_us) and math.isfinite(c.g_max_us) and 0 <= c.g_min_us < c.g_max_us):
        bad(f"need 0 ≤ g_min_us < g_max_us, got {c.g_min_us} and {c.g_max_us}")
    if not (2 <= c.levels <= c.max_levels):
        bad(f"need 2 ≤ levels ≤ max_levels, got levels={c.levels}, max_levels={c.max_levels}")
    if c.default_slices < 1:
        bad("default_slices must be ≥ 1")
    if w.mechanism not in _MECHANISMS:
        bad(f"unknown write mechanism {w.mechanism!r}; expected one of {', '.join(_MECHANISMS)}")
    if tech.noise.model not in _NOISE_MODELS:
        bad(f"unknown noise model {tech.noise.model!r}; expected one of {', '.join(_NOISE_MODELS)}")
    nz = tech.noise
    for k, size in (("pcm_sigma_poly", 3), ("drift_nu_mean", 4), ("drift_nu_std", 4), ("read_qs", 3)):
        v = getattr(nz, k)
        if not isinstance(v, (tuple, list)) or len(v) != size or \
                not all(isinstance(x, (int, float)) and math.isfinite(x) for x in v):
            bad(f"noise {k} must be a list of {size} finite numbers")
    if not (math.isfinite(nz.read_t_s) and nz.read_t_s > 0):
        bad("noise read_t_s must be > 0")
    if w.max_pulses < 1 or w.pulse_ns <= 0 or w.verify_ns < 0 or w.pulse_energy_pj < 0:
        bad("need max_pulses ≥ 1, pulse_ns > 0, verify_ns ≥ 0, pulse_energy_pj ≥ 0")
    if w.mechanism == "program-and-verify" and not (0 < w.step_fraction <= 1 and w.tolerance_us > 0):
        bad("program-and-verify needs 0 < step_fraction ≤ 1 and tolerance_us > 0")
    if w.mechanism == "ispp" and not (w.ispp_step_v > 0 and w.vt_window_v > 0):
        bad("ispp needs ispp_step_v > 0 and vt_window_v > 0")
    if not (0 <= w.write_error_rate < 1):
        bad("write_error_rate must be in [0, 1)")
    volts = ("set_v", "set_step_v", "reset_v", "reset_ns", "verify_v", "erase_v")
    if not all(math.isfinite(getattr(w, k)) and getattr(w, k) >= 0 for k in volts):
        bad(f"need finite {', '.join(volts)} ≥ 0")
    if not isinstance(w.reset_first, bool):
        bad("reset_first must be true or false")
    if w.reset_first and not (w.reset_v > 0 and w.reset_ns > 0):
        bad("reset_first needs reset_v > 0 and reset_ns > 0")
    for k in ("default_rows", "default_cols", "max_rows", "max_cols", "default_layers", "max_layers"):
        if getattr(a, k) < 1:
            bad(f"{k} must be ≥ 1")
    if a.default_rows > a.max_rows or a.default_cols > a.max_cols or a.default_layers > a.max_layers:
        bad("a default array size exceeds its maximum")
    if a.cell_area_f2 <= 0 or a.feature_nm <= 0:
        bad("cell_area_f2 and feature_nm must be > 0")
    r = tech.readout
    if not (math.isfinite(r.wire_ohm_per_cell) and r.wire_ohm_per_cell >= 0):
        bad("readout wire_ohm_per_cell must be a finite number ≥ 0")
    if not isinstance(r.selector, bool):
        bad("readout selector must be true or false")
    for k in ("dac_bits", "adc_bits"):
        v = getattr(r, k)
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 32:
            bad(f"readout {k} must be an integer in 0…32 (0 = ideal)")
    if not (math.isfinite(r.adc_range_inputs) and r.adc_range_inputs > 0):
        bad("readout adc_range_inputs must be > 0")


def load_technology(name: str | None = None, override_file=None) -> Technology:
    """A preset by name, optionally overridden by a user TOML file.

    Parameters
    ----------
    name : str, optional
        A shipped preset (:func:`known_technologies`) or one of its
        :data:`ALIASES` (``pram``, ``reram``, ``stt-mram``, ``nand``, any
        case). May be omitted when the
        override file names its ``base``.
    override_file : path, optional
        TOML with the preset's tables and only the keys to change.

    Raises
    ------
    TechnologyError
        Unknown technology (the message lists the known ones), unknown keys
        in the override file, or physically impossible values.
    """
    over = {}
    if override_file is not None:
        over = _read_toml(override_file, "technology file")
        base = over.get("base")
        if name is None and base is None:
            raise TechnologyError("technology file has no 'base' preset and no --technology was given",
                                  override_file)
        if name is not None and base is not None and \
                canonical_technology(name) != canonical_technology(base, override_file):
            raise TechnologyError(f"technology file is based on {base!r} but --technology is {name!r}; "
                                  "give one of them", override_file)
        name = name if name is not None else base
    if name is None:
        raise TechnologyError(f"no technology given; accepted names: {accepted_names()}")
    d = _preset_dict(name)
    source = f"preset:{d['name']}"
    if over:
        d = _merge(d, over, override_file)
        source += f"+{Path(override_file).name}"
    return technology_from_dict(d, source, override_file)
