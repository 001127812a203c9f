"""Public names that load on first use (PEP 562): one ``__getattr__``/``__dir__`` pair for the packages
whose names would otherwise import PyTorch on ``import`` (``defusion``, ``defusion.model``,
``defusion.fusion``), so that ``import defusion`` and ``defusion --help`` stay fast."""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable


def lazy_names(package: str, exports: dict[str, str], submodules: bool = False
               ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's module-level ``__getattr__`` and ``__dir__`` for ``exports`` (public name -> the module
    it loads from). A name, once loaded, becomes a plain attribute of the package. With ``submodules``,
    another name loads the package's submodule of that name, as attribute access finds it once imported.

    Example:
        >>> import sys, types
        >>> sys.modules["lazy_demo"] = types.ModuleType("lazy_demo")
        >>> getattr_, dir_ = lazy_names("lazy_demo", {"dedent": "textwrap"})
        >>> getattr_("dedent").__module__, "dedent" in dir_()
        ('textwrap', True)
        >>> getattr_("nothing")
        Traceback (most recent call last):
        ...
        AttributeError: module 'lazy_demo' has no attribute 'nothing'
        >>> del sys.modules["lazy_demo"]
    """

    def __getattr__(name: str) -> Any:
        if name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
        elif submodules:
            try:
                value = importlib.import_module(f"{package}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{package}.{name}":  # a submodule's own missing dependency: say that
                    raise
                raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        vars(sys.modules[package])[name] = value  # once loaded, a plain attribute
        return value

    def __dir__() -> list[str]:
        """The package's names and the public ones not loaded yet, each once (a loaded one is in both)."""
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
