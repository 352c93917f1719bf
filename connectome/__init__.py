"""connectome: copy-and-paste neuromorphic engineering.

Copy the functional synaptic connectivity map of a living neuronal network out
of parallel intracellular array recordings, then paste it onto tiled, 3D-stacked
non-volatile memory crossbars.
"""

__version__ = "0.1.0"
