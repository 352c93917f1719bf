"""Spike detection, channel QC and channels → neurons."""
