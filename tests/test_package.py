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
