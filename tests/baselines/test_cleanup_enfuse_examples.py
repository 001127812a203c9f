"""defusion.baselines.enfuse's examples show what its functions give: none passes whatever they do
(``callable(f)``, ``isinstance(enfuse_available(), bool)``, ``... or not enfuse_available()``), and those
skipped where enfuse is missing give, where it is installed, the output they show."""

from __future__ import annotations

import doctest
import shutil

import pytest

from defusion.baselines import enfuse

needs_enfuse = pytest.mark.skipif(shutil.which("enfuse") is None, reason="enfuse executable not on PATH")
#: The module's public functions, each with an Example.
DOCUMENTED = (enfuse.enfuse_available, enfuse.fuse_enfuse, enfuse.fuse_enfuse_focus)
#: What a vacuous example was written with: true of any function, or of any result where enfuse is missing.
VACUOUS = ("callable(", "isinstance(", "or not enfuse_available()")


def _examples(function) -> list[doctest.Example]:
    return doctest.DocTestParser().get_examples(function.__doc__)


@pytest.mark.parametrize("function", DOCUMENTED, ids=lambda f: f.__name__)
def test_each_example_calls_its_function_and_shows_the_result(function):
    examples = _examples(function)
    assert any(f"{function.__name__}(" in example.source for example in examples)
    assert any(example.want for example in examples)
    written = "".join(example.source for example in examples)
    assert not [said for said in VACUOUS if said in written], written


@needs_enfuse
def test_the_examples_skipped_without_enfuse_give_what_they_show():
    tests = doctest.DocTestFinder().find(enfuse)
    skipped = [example for test in tests for example in test.examples if example.options.get(doctest.SKIP)]
    assert len(skipped) >= 4  # fuse_enfuse's and fuse_enfuse_focus's calls and what they give
    for example in skipped:
        del example.options[doctest.SKIP]
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in tests:
        runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
