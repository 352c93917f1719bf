"""Former name of :mod:`connectome.spikes.kernels`, kept so that older imports keep working."""

from .kernels import highpass_boxcar, moving_residual_sd, nan_median_mad_rows, prepare_block, scan_peaks

__all__ = ["highpass_boxcar", "moving_residual_sd", "nan_median_mad_rows", "prepare_block", "scan_peaks"]
