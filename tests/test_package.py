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


#: Names that other modules of the package import but that their module's ``__all__`` does not list yet,
#: each for the module's owner to add (code-health audit, 2026-12-07): (module, name) -> what it is. An
#: entry that is listed by then, or no longer imported, fails :func:`test_every_imported_public_name_is_exported`:
#: remove it.
NOT_YET_EXPORTED: dict[tuple[str, str], str] = {
}


def _module_name(path: Path, src: Path) -> str:
    """``<src>/io/images.py`` -> ``defusion.io.images``; a package's ``__init__`` -> the package."""
    parts = ["defusion", *path.relative_to(src).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _literal_all(tree) -> list[str] | None:
    """A module's ``__all__`` as its source writes it (``=``, then any ``+=``), or None where it has none."""
    import ast

    names = None
    for node in tree.body:
        one = isinstance(node, ast.Assign) and len(node.targets) == 1
        target = node.targets[0] if one else getattr(node, "target", None)  # =, += or an annotated =
        if isinstance(target, ast.Name) and target.id == "__all__" and node.value is not None:
            value = list(ast.literal_eval(node.value))  # a computed __all__ fails here: read it by hand
            names = [*(names or []), *value] if isinstance(node, ast.AugAssign) else value
    return names


def _imported_names(module: str, tree, is_package: bool) -> list[tuple[str, str]]:
    """Each ``from defusion.x.y import name`` in ``module`` (anywhere, relative ones resolved), as (x.y, name)."""
    import ast

    here = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[:len(here.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found += [(base, alias.name) for alias in node.names]
    return found


def test_every_imported_public_name_is_exported():
    """A public name (no leading underscore) that one module of the package imports from another is
    in the other's ``__all__`` where it has one, so that ``__all__`` says what the module offers. Read
    from the source: no optional extra need be installed. Modules without ``__all__`` are left out."""
    import ast

    src = Path(defusion.__file__).parent
    trees = {_module_name(path, src): (path, ast.parse(path.read_text(encoding="utf-8"))) for path in src.rglob("*.py")}
    exported = {module: names for module, (_, tree) in trees.items() if (names := _literal_all(tree)) is not None}
    assert len(exported) > 100 and len(trees) > len(exported)  # 121 of 248 modules have one (2026-12-07)
    missing = set()
    for module, (path, tree) in trees.items():
        for home, name in _imported_names(module, tree, path.name == "__init__.py"):
            submodule = f"{home}.{name}" in trees
            if home in exported and home != module and not name.startswith("_") and not submodule:
                if name not in exported[home]:
                    missing.add((home, name))
    unexpected = sorted(missing - set(NOT_YET_EXPORTED))
    assert not unexpected, f"imported from their module but missing from its __all__: {unexpected}"
    stale = sorted(set(NOT_YET_EXPORTED) - missing)
    assert not stale, f"exported now (or no longer imported): remove from NOT_YET_EXPORTED: {stale}"
