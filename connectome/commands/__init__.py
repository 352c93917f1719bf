"""Click commands, one module per verb (registered in :mod:`connectome.cli`)."""
