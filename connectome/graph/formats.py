"""Connectome files as free functions: read and write ``neurons.csv``/``edges.csv``, GraphML, truth HDF5.

The formats are described in docs/formats.md. Reading returns a
:class:`~connectome.graph.connectome.Connectome`; anything missing, unreadable
or inconsistent is a :class:`~connectome.errors.ConnectomeFormatError` naming
the file. Column-level parsing and writing live in :mod:`.tables`.
"""

from __future__ import annotations

from . import tables
from .connectome import Connectome
from .tables import EDGE_ORDER, NEURON_ORDER, write_csv, write_graphml

__all__ = [
    "read_connectome",
    "read_csv_dir",
    "read_graphml",
    "read_truth",
    "write_csv",
    "write_graphml",
    "EDGE_ORDER",
    "NEURON_ORDER",
]


def read_connectome(path) -> Connectome:
    """Read a connectome from an inference directory, ``edges.csv``, GraphML or a truth file."""
    return Connectome.read(path)


def read_csv_dir(directory, edges_path=None) -> Connectome:
    """The connectome of an inference directory's ``edges.csv`` (and ``neurons.csv``, ``summary.json``)."""
    return Connectome.from_parts(tables.read_csv_dir(directory, edges_path))


def read_graphml(path) -> Connectome:
    """The connectome of a GraphML file (as written by :func:`write_graphml` or networkx)."""
    return Connectome.from_parts(tables.read_graphml(path))


def read_truth(path) -> Connectome:
    """The ground-truth connectome of a simulated recording (see :func:`.tables.read_truth`)."""
    return Connectome.from_parts(tables.read_truth(path))
