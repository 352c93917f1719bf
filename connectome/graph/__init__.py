"""The Connectome object, its file formats, and graph analysis."""

from .connectome import KIND_CODES, KIND_NAMES, Connectome

__all__ = ["Connectome", "KIND_CODES", "KIND_NAMES"]
