"""Synapse (edge) kinds: one definition for the whole package.

In memory a kind is a small integer (an ``int8`` column ``kind``), in files a
word (``excitatory`` | ``inhibitory`` | ``electrical``, docs/formats.md). The
codes are part of the file formats (truth HDF5, programming maps' synapse
table) and never change.

Examples
--------
>>> EdgeKind.INHIBITORY == 2, EdgeKind(3).label
(True, 'electrical')
>>> EdgeKind.parse("Excitatory"), EdgeKind.parse(2)
(<EdgeKind.EXCITATORY: 1>, <EdgeKind.INHIBITORY: 2>)
"""

from __future__ import annotations

from enum import IntEnum


class EdgeKind(IntEnum):
    """The kind of a synapse: chemical excitatory, chemical inhibitory, or electrical (a gap junction)."""

    EXCITATORY = 1
    INHIBITORY = 2
    ELECTRICAL = 3

    @property
    def label(self) -> str:
        """The word used in files: ``excitatory``, ``inhibitory`` or ``electrical``."""
        return self.name.lower()

    @classmethod
    def parse(cls, value) -> "EdgeKind":
        """An :class:`EdgeKind` from its code (1, 2, 3) or its word (any case); ValueError otherwise."""
        if isinstance(value, str):
            try:
                return cls[value.strip().upper()]
            except KeyError:
                raise ValueError(
                    f"unknown edge kind {value!r}; expected one of {', '.join(k.label for k in cls)}"
                ) from None
        return cls(int(value))


#: word → code, e.g. ``{"excitatory": 1, ...}`` (file order)
KIND_CODES = {k.label: int(k) for k in EdgeKind}
#: code → word
KIND_NAMES = {int(k): k.label for k in EdgeKind}
