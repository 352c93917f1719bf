"""The Examples sections of the compile, devices and progmap modules run as written."""

import doctest
import importlib

import pytest

MODULES = ["connectome.compile.compiler", "connectome.compile.mapping", "connectome.compile.tiling",
           "connectome.compile.placement", "connectome.compile.schedule", "connectome.compile.report",
           "connectome.devices.models", "connectome.devices.noise", "connectome.io.progmap"]


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name):
    res = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert res.failed == 0 and res.attempted > 0
