"""Copy: infer the synaptic connectivity map of a recording."""

from .params import InferParams
from .run import InferResult, infer_connectome, infer_recording, write_outputs

__all__ = ["InferParams", "InferResult", "infer_connectome", "infer_recording", "write_outputs"]
