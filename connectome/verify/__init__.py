"""Verify the paste: device non-idealities, functional equivalence and physical imprinting.

- :func:`verify_map` — read a programming map back, apply programming noise,
  drift, read noise and stuck cells (:mod:`.nonideal`), decode effective
  weights (:mod:`.effective`), compare them with the copied connectome
  (:mod:`.report`) and optionally simulate both networks (:mod:`.functional`);
- :func:`verify_objects` — the same for a ProgrammingMap and a Connectome in
  memory (nothing written);
- :mod:`.imprint` — the second paste route: an N×N crossbar driven directly by
  the recorded spikes and membrane potentials.

See docs/fidelity.md.
"""

from .run import parse_duration, verify_map, verify_objects

__all__ = ["verify_map", "verify_objects", "parse_duration"]
