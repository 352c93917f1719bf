"""Compile a connectome into tiled 3D crossbar programming maps (``connectome compile``).

See :mod:`connectome.compile.compiler` for the stages and docs/compile.md for
the user's view.
"""

from .compiler import CompileOptions, check_geometry, compile_connectome, parse_crossbar, source_files
from .mapping import SCHEMES
from .tiling import PARTITIONERS

__all__ = ["CompileOptions", "compile_connectome", "parse_crossbar", "source_files", "check_geometry",
           "SCHEMES", "PARTITIONERS"]
