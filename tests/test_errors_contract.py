"""The library's error contract (CONTRIBUTING, "Errors a user sees"), read from the source: what the
library packages raise is a :class:`defusion.DefusionError` subclass that keeps its builtin, never a
bare ``ValueError``/``TypeError``/``KeyError``/``RuntimeError``/``IndexError``. Then
``except defusion.DefusionError`` catches every refusal, and the command line can tell a refusal
from a bug. Pure ``ast``, as tests/test_layering.py: no module is imported, so it runs in a second.

The refusals the audit found bare are tested to be library errors that keep their builtin and their message.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

from defusion import DefusionError
from defusion.errors import LIBRARY_PACKAGES

SRC = Path(__file__).resolve().parents[1] / "src" / "defusion"
#: The library's packages: the front ends (cli, serving, ui) say errors in their own way. The command's
#: bug hint (defusion.errors.bug_hint) takes a builtin raised in these for a bug: one list for both.
LIBRARY = LIBRARY_PACKAGES
#: Builtins the library raises only through a DefusionError subclass that keeps them.
BUILTINS = ("ValueError", "TypeError", "KeyError", "RuntimeError", "IndexError")

_BUILTIN_RIGHT = ("an argument only defusion's own code passes, a literal: a wrong one is a bug in the caller, not "
                  "a refusal of input, and keeps its plain builtin (and its traceback)")
#: Bare builtin raises still allowed, by (file under src/defusion, function): why. Each entry is checked
#: to still raise one, so that a fixed one is taken off the list.
ALLOWED: dict[tuple[str, str], str] = {
    ("io/front_end.py", "reading_for"): _BUILTIN_RIGHT + " (the front end's name)",
    ("io/notes.py", "say"): _BUILTIN_RIGHT + " (the kind of a line, warning or note)",
    ("io/notes.py", "tell"): _BUILTIN_RIGHT + " (the kind of a line, warning or note)",
    ("io/progress.py", "LogProgress.__iter__"): "iterating a LogProgress made without an iterable: the TypeError "
                                                "Python raises iterating anything not iterable, as tqdm's",
}


def bare_raises(source: str) -> list[tuple[int, str, str]]:
    """``(line, function, builtin)`` of each ``raise Builtin(...)`` or ``raise Builtin`` in ``source``
    of one of :data:`BUILTINS`, ``function`` the qualified name of the function it is in
    (``Class.method``; ``<module>`` at the top)."""
    found: list[tuple[int, str, str]] = []

    def visit(node: ast.AST, scope: tuple[str, ...]) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, (*scope, child.name))
                continue
            if isinstance(child, ast.Raise) and child.exc is not None:
                raised = child.exc.func if isinstance(child.exc, ast.Call) else child.exc
                if isinstance(raised, ast.Name) and raised.id in BUILTINS:
                    found.append((child.lineno, ".".join(scope) or "<module>", raised.id))
            visit(child, scope)

    visit(ast.parse(source), ())
    return found


def _library_raises() -> dict[tuple[str, str], list[str]]:
    """Every bare builtin raise of the library packages, by (file, function): its ``line: builtin``."""
    found: dict[tuple[str, str], list[str]] = {}
    for package in LIBRARY:
        for path in sorted((SRC / package).rglob("*.py")):
            name = path.relative_to(SRC).as_posix()
            for line, function, builtin in bare_raises(path.read_text(encoding="utf-8")):
                found.setdefault((name, function), []).append(f"{line}: {builtin}")
    return found


def test_the_library_raises_no_bare_builtin_error():
    """A refusal is a DefusionError subclass keeping the builtin (``class XError(DefusionError,
    ValueError)``, in the package's errors module or beside the code): ``except DefusionError`` then
    catches it, and ``except ValueError`` still does. An entry of ALLOWED whose raise was fixed comes
    off the list, so that the list stays short."""
    sample = ("class A:\n    def f(self):\n        raise ValueError('x')\n"
              "def g():\n    raise KeyError\n    raise Custom('y')\n")
    assert bare_raises(sample) == [(3, "A.f", "ValueError"), (5, "g", "KeyError")]
    found = _library_raises()
    bare = [f"src/defusion/{name}:{where} in {function}" for (name, function), lines in sorted(found.items())
            if (name, function) not in ALLOWED for where in lines]
    assert not bare, ("bare builtin errors raised by the library; raise a DefusionError subclass that keeps the "
                      f"builtin instead: {'; '.join(bare)}")
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"ALLOWED names bare raises that are gone; remove these entries: {stale}"


def _is_library_error(exc: BaseException, builtin: type[BaseException]) -> bool:
    return isinstance(exc, DefusionError) and isinstance(exc, builtin)


def test_a_training_config_that_is_no_yaml_is_a_train_config_error(tmp_path):
    from defusion.training.config import TrainConfig, TrainConfigError

    bad = tmp_path / "bad.yaml"
    bad.write_text("lr: [1, 2\n", encoding="utf-8")
    with pytest.raises(TrainConfigError, match="bad.yaml is not valid YAML at line 2") as caught:
        TrainConfig.from_yaml(bad)
    assert _is_library_error(caught.value, ValueError)


@pytest.mark.parametrize("values, message", [
    ({"lrr": 0.1}, "unknown training option(s): lrr (did you mean lr?)"),
    ({"lr": "fast"}, "training option lr must be a float, got 'fast'"),
    ({"crop_scale": [0.9, 0.1]}, "crop_scale must be two area fractions 0 < low <= high <= 1, got (0.9, 0.1)"),
    ({"crop_scale": "wide"}, "crop_scale must be two area fractions 0 < low <= high <= 1, got 'wide'"),
    ({"cud": {"keep_prob": 5}}, "training option cud: keep_prob must be two probabilities"),
    ({"mfm": {"mask_ratio": 1.5}}, "training option mfm: mfm mask_ratio must be in [0, 1), got 1.5"),
], ids=["unknown", "type", "crop_scale order", "crop_scale no numbers", "cud section", "mfm section"])
def test_training_options_refused_are_train_config_errors(values, message):
    from defusion.training.config import TrainConfig, TrainConfigError

    with pytest.raises(TrainConfigError) as caught:
        TrainConfig.from_dict(values)
    assert message in str(caught.value) and _is_library_error(caught.value, ValueError)


def test_a_file_that_is_no_checkpoint_is_a_checkpoint_error(tmp_path):
    from defusion.model.registry import create_model
    from defusion.training.checkpoint import CheckpointError, load_checkpoint

    junk = tmp_path / "last.safetensors"
    junk.write_bytes(b"not a checkpoint")
    model = create_model("defusion-tiny")
    with pytest.raises(CheckpointError, match="last.safetensors is not a readable training checkpoint") as caught:
        load_checkpoint(junk, model, torch.optim.Adam(model.parameters()))
    assert _is_library_error(caught.value, ValueError)


def test_a_resume_at_another_batch_size_is_a_resume_error(tmp_path):
    from defusion.training.checkpoint import TrainState
    from defusion.training.config import TrainConfig, TrainConfigError
    from defusion.training.resume import ResumeError, check_resume

    with pytest.raises(ResumeError, match="was trained with batch size 4; resuming it at 8") as caught:
        check_resume(tmp_path, tmp_path, TrainConfig(batch_size=8), {"batch_size": 4}, TrainState(), 1, 10)
    assert isinstance(caught.value, TrainConfigError) and _is_library_error(caught.value, ValueError)


def test_the_loss_options_refused_are_train_config_errors():
    from defusion.training.config import TrainConfigError
    from defusion.training.loss import ssim_error

    x = torch.zeros(1, 3, 8, 8)
    with pytest.raises(TrainConfigError, match="SSIM needs images of at least 11 pixels a side") as caught:
        ssim_error(x, x)
    assert _is_library_error(caught.value, ValueError)


def test_model_settings_refused_are_model_config_errors():
    from defusion.model.errors import ModelConfigError
    from defusion.model.filters import gaussian_kernel_1d
    from defusion.model.mfm import MFMConfig

    for refuse, message in ((lambda: gaussian_kernel_1d(0.0), "sigma must be positive, got 0.0"),
                            (lambda: MFMConfig(patch=0), "mfm patch and width must be at least 1")):
        with pytest.raises(ModelConfigError, match=message) as caught:
            refuse()
        assert _is_library_error(caught.value, ValueError)


def test_io_refusals_are_library_errors_keeping_their_builtin():
    from defusion.io.eight_bits import as_uint8
    from defusion.io.errors import ImageReadError, ImageWriteError, PixelTypeError
    from defusion.io.jpeg import ijg_luminance_table, jpeg_round_trip
    from defusion.io.levels import levels

    refusals = ((lambda: as_uint8(np.zeros(2, np.int32)), PixelTypeError, TypeError, "pixels must be uint8"),
                (lambda: ijg_luminance_table(0), ImageWriteError, ValueError, "JPEG quality must be 1 to 100"),
                (lambda: jpeg_round_trip(np.zeros((8, 8), np.uint16), 75), ImageWriteError, ValueError,
                 "a JPEG holds 8-bit images"),
                (lambda: levels(Path("a.tif"), np.zeros(2, bool)), ImageReadError, ValueError, "pixels of type bool"))
    for refuse, cls, builtin, message in refusals:
        with pytest.raises(cls, match=message) as caught:
            refuse()
        assert _is_library_error(caught.value, builtin)


def test_an_unknown_baseline_is_a_key_error_said_unquoted():
    from defusion.baselines import UnknownBaselineError, get_baseline, is_available

    for refuse in (lambda: is_available("gf"), lambda: get_baseline("gf")):
        with pytest.raises(KeyError) as caught:
            refuse()
        assert isinstance(caught.value, UnknownBaselineError) and _is_library_error(caught.value, KeyError)
        assert str(caught.value).startswith("unknown baseline 'gf'; known: average, max")


def test_an_unavailable_baseline_is_a_baseline_run_error(monkeypatch):
    from defusion import baselines
    from defusion.baselines import BaselineRunError, get_baseline

    monkeypatch.setattr(baselines.enfuse.shutil, "which", lambda name: None)
    with pytest.raises(BaselineRunError, match="baseline 'enfuse' is not available here") as caught:
        get_baseline("enfuse")
    assert _is_library_error(caught.value, RuntimeError)


def test_a_comparison_against_a_method_without_results_is_a_compare_error():
    from defusion.benchmark.compare import CompareError, paired_comparisons
    from defusion.benchmark.runner import Row

    with pytest.raises(CompareError, match="no results of 'ours'; methods: base") as caught:
        paired_comparisons([Row("base", "p1", "Qabf", 0.5)], "ours")
    assert _is_library_error(caught.value, ValueError)


def test_published_results_of_no_pair_are_a_pairs_error(tmp_path):
    from defusion.benchmark.runner import _check_results_of_pairs
    from defusion.io.pairs import PairsError

    with pytest.raises(PairsError) as caught:
        _check_results_of_pairs({"pub": tmp_path}, {"pub": {"other": tmp_path / "other.png"}}, ["01"])
    assert _is_library_error(caught.value, ValueError)


def test_a_mismatched_init_is_a_weights_error_and_a_lone_reinit_a_train_config_error(tiny_weights):
    from defusion.model.errors import WeightsError
    from defusion.training.config import TrainConfig, TrainConfigError
    from defusion.training.run_setup import build_model

    with pytest.raises(WeightsError) as caught:
        build_model(TrainConfig(model="defusion"), torch.device("cpu"), False, tiny_weights)
    assert _is_library_error(caught.value, ValueError)
    with pytest.raises(TrainConfigError, match="reinit re-initialises parts of --init weights; pass --init"):
        build_model(TrainConfig(model="defusion-tiny", reinit=("unique_head",)), torch.device("cpu"), False, None)

