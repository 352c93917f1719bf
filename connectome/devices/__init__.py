"""Memory technology models (presets as data, see :mod:`connectome.devices.models`)."""

from .models import (
                     ALIASES,
                     Technology,
                     accepted_names,
                     canonical_technology,
                     known_technologies,
                     load_technology,
                     validate_technology,
)

__all__ = ["ALIASES", "Technology", "accepted_names", "canonical_technology", "known_technologies",
           "load_technology", "validate_technology"]
