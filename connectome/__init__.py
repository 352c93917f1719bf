"""connectome: copy-and-paste neuromorphic engineering.

Copy the functional synaptic connectivity map of a living neuronal network out
of parallel intracellular array recordings, then paste it onto tiled, 3D-stacked
non-volatile memory crossbars.
"""

#: the package version, single-sourced (pyproject.toml reads it from here). Bump the minor number
#: whenever a release changes any output; the pipeline's resume keys also digest each stage's
#: source code (connectome.pipeline.config.code_digest), so a change is never served stale.
__version__ = "0.1.0"
