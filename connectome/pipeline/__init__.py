"""Batch pipeline: a TOML config (``pipelines/``) run over many recordings (``connectome run``).

See :mod:`.config` for the config, :mod:`.runner` for resumable per-file
stages and the run manifest, :mod:`.cluster` for dask.distributed.
"""

from .config import PipelineConfig, config_from_dict, load_config, parse_duration_s, resolve_inputs
from .runner import MANIFEST, process_file, run_pipeline

__all__ = ["PipelineConfig", "config_from_dict", "load_config", "parse_duration_s", "resolve_inputs",
           "MANIFEST", "process_file", "run_pipeline"]
