"""defusion.io.images exports what it defines, and write_image (the README's ``from defusion.io.images import
read_image, write_image``); every other name is imported from the module that defines it, so that one name
has one import path (it re-exported 14 names of io.errors, io.formats, io.pixel_bound, io.float_pixels and
io.probes)."""

from __future__ import annotations

import ast
from pathlib import Path

from defusion.io import images
from tests.conftest import REPO

#: What io.images exports without defining it: documented as imported from there (README.md).
DOCUMENTED = {"write_image"}
#: The folders whose Python imports from io.images are read.
FOLDERS = ("src", "tests", "scripts", "benchmarks")


def _defined(tree: ast.Module) -> set[str]:
    """The names a module's own top-level statements define (functions, classes, assignments)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        names |= {target.id for target in targets if isinstance(target, ast.Name)}
    return names


def _own_names() -> set[str]:
    return _defined(ast.parse(Path(images.__file__).read_text(encoding="utf-8"))) - {"__all__"}


def test_images_exports_only_its_own_names_and_write_image():
    assert set(images.__all__) == (_own_names() & set(images.__all__)) | DOCUMENTED
    assert {"read_image", "write_image", "READ_SUFFIXES", "ImageFormatError"} <= set(images.__all__)


def test_nothing_imports_a_name_from_images_that_it_only_passes_on():
    allowed = _own_names() | DOCUMENTED
    found = []
    for folder in FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "defusion.io.images":
                    found += [f"{path.relative_to(REPO)}:{node.lineno} {a.name}" for a in node.names
                              if a.name not in allowed]
    assert not found, f"import these from the module that defines them: {found}"
