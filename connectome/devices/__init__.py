"""Memory technology models (presets as data, see :mod:`connectome.devices.models`)."""

from .models import Technology, known_technologies, load_technology, validate_technology

__all__ = ["Technology", "known_technologies", "load_technology", "validate_technology"]
