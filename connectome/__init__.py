"""connectome: copy-and-paste neuromorphic engineering.

Copy the functional synaptic connectivity map of a living neuronal network out
of parallel intracellular array recordings, then paste it onto tiled, 3D-stacked
non-volatile memory crossbars.

The stages are functions of the package (docs/api.md)::

    >>> import connectome
    >>> [name in connectome.__all__ for name in ("open_recording", "infer", "compile", "verify")]
    [True, True, True, True]

They are imported on first use, so ``import connectome`` stays fast and
loads neither numba nor h5py.

Four functions share their names with subpackages: ``connectome.infer``,
``connectome.compile``, ``connectome.verify`` and ``connectome.simulate`` are
the functions; the subpackages are imported by their full names
(``from connectome.infer import InferParams``).
"""

import sys as _sys
import types as _types

#: the package version, single-sourced (pyproject.toml reads it from here). Bump the minor number
#: whenever a release changes any output; the pipeline's resume keys also digest each stage's
#: source code (connectome.pipeline.config.code_digest), so a change is never served stale.
__version__ = "0.1.0"

#: public name → module that defines it (imported lazily by :func:`__getattr__`)
_EXPORTS = {
    "open_recording": "connectome.api",
    "detect_spikes": "connectome.api",
    "SpikeTable": "connectome.api",
    "infer": "connectome.api",
    "Inference": "connectome.api",
    "read_connectome": "connectome.api",
    "compile": "connectome.api",
    "CompiledMap": "connectome.api",
    "verify": "connectome.api",
    "VerifyReport": "connectome.api",
    "Report": "connectome.api",
    "compare": "connectome.api",
    "imprint": "connectome.api",
    "simulate": "connectome.api",
    "Simulation": "connectome.api",
    "Connectome": "connectome.graph.connectome",
    "EdgeKind": "connectome.graph.kinds",
    "Recording": "connectome.io.recording",
    "InferParams": "connectome.infer.params",
    "CompileOptions": "connectome.compile.compiler",
    "ProgrammingMap": "connectome.io.progmap",
    "ConnectomeError": "connectome.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    """Import a public name's module on first access (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'connectome' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later accesses skip this function
    return value


#: API functions named like a subpackage: importing the subpackage must not rebind the name
_SHADOWED = frozenset({"infer", "compile", "verify", "simulate"})


class _Package(_types.ModuleType):
    """The package module: binding a subpackage (the import system does) never hides an API function."""

    def __setattr__(self, name, value):
        if name in _SHADOWED and isinstance(value, _types.ModuleType):
            return  # the subpackage stays reachable as sys.modules["connectome." + name]
        super().__setattr__(name, value)


_sys.modules[__name__].__class__ = _Package


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
