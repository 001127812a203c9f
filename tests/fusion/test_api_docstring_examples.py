"""The public API's docstring examples run as written in a fresh notebook: each imports what it uses
(``help(defusion.Fuser)`` showed ``np.zeros(...)`` with no ``import numpy as np``), so they are run
here with empty globals, not with their module's names at hand as ``--doctest-modules`` runs them."""

from __future__ import annotations

import doctest
import importlib

import pytest

#: The modules of what ``import defusion`` exports that this checks: the root, the Fuser's and its results'.
MODULES = ["defusion", "defusion.fusion.fuser", "defusion.fusion.results"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run_in_a_fresh_namespace(name, one_torch_thread):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [test for test in finder.find(module, name, globs={}) if test.examples]
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} docstring examples of {name} fail in a fresh namespace"


def test_the_fuser_class_example_is_what_help_shows():
    from defusion import Fuser

    assert ">>> import numpy as np" in Fuser.__doc__ and ">>> from defusion import Fuser" in Fuser.__doc__
