"""Every module of the package imports, and every name it exports in ``__all__`` exists."""

from __future__ import annotations

import importlib
import pkgutil

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


def test_the_mit_license_ships_in_wheel_and_sdist():
    """pyproject says MIT: the LICENSE file exists and is declared, so setuptools puts it in both."""
    from tests.conftest import REPO

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["license-files"] == ["LICENSE"]
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License") and "Copyright (c) 2026 the defusion contributors" in text


def test_the_package_and_its_light_modules_import_without_torch():
    """`import defusion` (and the image helpers a pipeline may use alone) leave PyTorch unloaded
    until the Fuser is asked for; the public names still resolve."""
    import subprocess
    import sys

    code = ("import sys, defusion, defusion.fusion.align, defusion.fusion.color, defusion.fusion.stretch; "
            "assert 'torch' not in sys.modules, 'torch loaded'; "
            "from defusion import Fuser, create_model; assert 'torch' in sys.modules; "
            "assert 'Fuser' in dir(defusion) and defusion.fusion.FuseOptions is not None; "
            "import defusion.fusion as fusion; assert fusion.deghost.__name__ == 'defusion.fusion.deghost'")
    subprocess.run([sys.executable, "-c", code], check=True)
    with pytest.raises(AttributeError, match="no attribute 'Fusr'"):
        defusion.Fusr  # noqa: B018
