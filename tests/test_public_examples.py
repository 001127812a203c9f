"""Every function the library's public modules export shows its use in a doctest-like Example
(CONTRIBUTING.md), which pytest runs: a reader of ``help(...)`` sees a call and its result."""

from __future__ import annotations

import importlib
import inspect

import pytest

#: The modules whose exported functions are the library's public API for a Python caller.
PUBLIC = ("defusion", "defusion.metrics", "defusion.baselines")


@pytest.mark.parametrize("module", PUBLIC)
def test_each_exported_function_has_an_example(module):
    found = importlib.import_module(module)
    bare = [name for name in found.__all__
            if inspect.isfunction(getattr(found, name, None)) and ">>>" not in (inspect.getdoc(getattr(found, name)) or "")]
    assert not bare, f"{module} exports functions without an Example: {', '.join(bare)}"
