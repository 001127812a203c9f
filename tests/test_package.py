"""Every module of the package imports, and every name it exports in ``__all__`` exists."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import defusion

MODULES = sorted(m.name for m in pkgutil.walk_packages(defusion.__path__, "defusion."))


@pytest.mark.parametrize("name", MODULES)
def test_module_exports_exist(name):
    try:
        module = importlib.import_module(name)
    except ImportError as exc:  # an optional extra (e.g. streamlit for the UI) not installed
        pytest.skip(f"{name}: {exc}")
    missing = [n for n in getattr(module, "__all__", ()) if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names missing objects: {missing}"


def test_every_subpackage_says_what_it_holds():
    """Six subpackages once had an empty ``__init__.py``: each now opens with a docstring (read from
    the source, so that no optional extra has to be installed)."""
    import ast

    root = Path(defusion.__file__).parent
    inits = sorted(root.glob("*/__init__.py"))
    assert len(inits) > 1
    bare = [init.parent.name for init in inits if not ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))]
    assert not bare, f"subpackages without a docstring: {bare}"


def test_the_mit_license_ships_in_wheel_and_sdist():
    """pyproject says MIT: the LICENSE file exists and is declared, so setuptools puts it in both."""
    from tests.conftest import REPO

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 the defusion contributors" in text


#: Modules that import neither PyTorch nor OpenCV: the errors, choices and constants the CLI's
#: modules need to build its parser (fast --help), and those modules (tests/cli/test_main_cli.py
#: checks the whole parser).
BARE_MODULES = ("defusion.errors", "defusion.fusion.choices", "defusion.fusion.errors", "defusion.io.errors",
                "defusion.io.formats", "defusion.model.errors", "defusion.training.errors", "defusion.cli.main",
                *(f"defusion.cli.{name}" for name in ("fuse", "train", "info", "metrics", "bench", "serve", "export",
                                                      "video", "calibrate", "ui", "options", "errors")))


def test_the_package_and_its_light_modules_import_without_torch():
    """`import defusion` (and the image helpers a pipeline may use alone) leave PyTorch unloaded
    until the Fuser is asked for, and the CLI's modules leave OpenCV unloaded too; the public names
    still resolve."""
    import subprocess
    import sys

    code = (f"import sys, defusion, {', '.join(BARE_MODULES)}; "
            "assert not {'torch', 'cv2'} & set(sys.modules), 'torch or cv2 loaded'; "
            "import defusion.fusion.align, defusion.fusion.color, defusion.fusion.stretch; "
            "assert 'torch' not in sys.modules, 'torch loaded'; "
            "from defusion import Fuser, create_model; assert 'torch' in sys.modules; "
            "assert 'Fuser' in dir(defusion) and defusion.fusion.FuseOptions is not None; "
            "import defusion.fusion as fusion; assert fusion.deghost.__name__ == 'defusion.fusion.deghost'")
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="no attribute 'Fusr'"):
        defusion.Fusr  # noqa: B018
