"""Self-contained HTML reports of a recording's outputs and of a batch run (``connectome report``)."""

from .build import batch_data, infer_dir_of, recording_data
from .html import render_batch, render_recording, write_report

__all__ = ["recording_data", "batch_data", "infer_dir_of", "render_recording", "render_batch", "write_report"]
