"""The package's layers, read from the source: each part of ``src/defusion`` imports only itself and the
parts below it, so that the architecture can be seen from the tree (and io never reaches up into bench).

Pure ``ast``: no module of the package is imported (no PyTorch), so this runs in a second. Every import
counts: at the top of a module or inside a function, under ``TYPE_CHECKING``, relative (``from . import``),
and ``importlib.import_module("defusion....")`` with a literal name.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import NamedTuple

#: Each part of the package (a subpackage, or a module at its top; ``defusion`` is the root
#: ``__init__``) and its layer, lowest first. A module may import its own part and parts of LOWER
#: layers only: parts on one layer are independent of each other.
LAYERS: dict[str, int] = {
    "errors": 0,                     # DefusionError, the base of every error the library raises
    "_lazy": 0,                      # public names loaded on first use (PEP 562), for the root, model and fusion
    "defusion": 1,                   # the root: __version__, and the public names loaded on first use
    "io": 2,                         # images in and out, pixel arrays, contact sheets
    "metrics": 3, "model": 3,        # quality metrics (over io.arrays); DeNet, its registry and weights
    "fusion": 4,                     # the fusion core (model, io), its colour rules and runtimes (ONNX Runtime's)
    "baselines": 5, "data": 5,       # classical methods and training data: fusion's colour rules (fusion.color)
    "benchmark": 6, "training": 6,   # defusion bench (fusion, metrics, baselines, io); training (model, data)
    "serving": 7,                    # front end: REST API, upload decoding, ONNX export
    "ui": 8,                         # front end: the web UI (decodes uploads as the server does)
    "cli": 9,                        # front end: the command, which starts the server and the UI too
    "__main__": 10, "train": 10,     # entry points: python -m defusion, the old train script
}

#: Imports up the layers that are meant: (importing module, imported module) -> why.
ACCEPTED: dict[tuple[str, str], str] = {
    ("defusion", "defusion.fusion.errors"): "the root's public names, loaded on first use; imported for type checkers only",
    ("defusion", "defusion.fusion.fuser"): "the root's public names, loaded on first use; imported for type checkers only",
    ("defusion", "defusion.model.registry"): "the root's public names, loaded on first use; imported for type checkers only",
    # uvicorn --factory's DEFUSION_* settings go through defusion serve's own parser, checks and fusion_options,
    # so that a multi-worker server runs exactly as the command would: that parser is built from 14 of
    # cli/options.py's 23 functions, which 8 of cli's modules share, and says its errors as cli's UserError.
    # Moving them below cli is a refactor of the command line's options of its own, not a move of one rule.
    ("defusion.serving.env_settings", "defusion.cli.serve"):
        "DEFUSION_* settings parsed by defusion serve's own parser (its add_arguments and check_options), "
        "imported when the settings are read",
    ("defusion.serving.env_settings", "defusion.cli.errors"): "UserError, what defusion serve's checks raise, reworded",
    ("defusion.serving.env_settings", "defusion.cli.options"): "fusion_options, the options as defusion serve takes them",
}

#: Imports up the layers still to be removed, each by moving the shared rule down (or the module to
#: where it is used), the old import path kept: (importing module, imported module) -> the move.
KNOWN_INVERSIONS: dict[tuple[str, str], str] = {}

SRC = Path(__file__).resolve().parents[1] / "src" / "defusion"
#: The package's name: imports of anything else are not the package's layering.
PACKAGE = "defusion"


class Import(NamedTuple):
    """One import in a module: its line, and the module of the package it loads."""

    line: int
    module: str


def module_name(path: Path, src: Path = SRC) -> str:
    """``src/defusion/io/sheets.py`` -> ``defusion.io.sheets``; a package's ``__init__`` -> the package."""
    parts = [PACKAGE, *path.relative_to(src).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def part(module: str) -> str:
    """The part of the package ``module`` belongs to (a key of :data:`LAYERS`): ``defusion.io.sheets`` -> io."""
    names = module.split(".")
    return names[1] if len(names) > 1 else PACKAGE


def _dynamic_name(call: ast.Call) -> str | None:
    """The module ``importlib.import_module(...)`` / ``__import__(...)`` loads, where its name is a
    literal (an f-string's literal start up to its last dot: ``f"defusion.cli.{name}"`` -> defusion.cli)."""
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
    if name not in ("import_module", "__import__") or not call.args:
        return None
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        return str(arg.values[0].value).rpartition(".")[0] or None
    return None


def imports(module: str, source: str, is_package: bool = False, known: frozenset[str] = frozenset()) -> list[Import]:
    """The package's modules that ``module`` (its ``source``; ``is_package``: an ``__init__``) imports,
    anywhere in it. ``from a.b import c`` counts as ``a.b.c`` where that is a module in ``known``.

    Example:
        >>> imports("defusion.io.sheets", "def f():\\n    from ..benchmark import scored_images\\n")
        [Import(line=2, module='defusion.benchmark')]
    """
    here = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[:len(here.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known or not node.module else base
                     for alias in node.names]
        elif isinstance(node, ast.Call):
            names = [name] if (name := _dynamic_name(node)) else []
        found += [Import(node.lineno, name) for name in dict.fromkeys(names)
                  if name == PACKAGE or name.startswith(PACKAGE + ".")]
    return sorted(found)


def upward(module: str, found: list[Import], layers: dict[str, int] = LAYERS) -> list[str]:
    """Each import in ``found`` (made by ``module``) of a part not below ``module``'s own, as one line.

    Example:
        >>> upward("defusion.io.sheets", [Import(145, "defusion.benchmark.scored_images")])
        ['defusion.io.sheets (line 145) imports defusion.benchmark.scored_images: io (layer 2) may import only lower layers, and benchmark is layer 6']
    """
    own = part(module)
    return [f"{module} (line {imp.line}) imports {imp.module}: {own} (layer {layers[own]}) may import only lower "
            f"layers, and {part(imp.module)} is layer {layers[part(imp.module)]}"
            for imp in found if part(imp.module) != own and layers[part(imp.module)] >= layers[own]]


def package_imports(src: Path = SRC) -> dict[str, list[Import]]:
    """Every module of the package -> the package's modules it imports."""
    paths = sorted(src.rglob("*.py"))
    known = frozenset(module_name(path, src) for path in paths)
    return {module_name(path, src): imports(module_name(path, src), path.read_text(encoding="utf-8"),
                                            path.name == "__init__.py", known) for path in paths}


GRAPH = package_imports()


def test_every_part_of_the_package_has_a_layer():
    parts = {part(module) for module in GRAPH}
    assert not parts - LAYERS.keys(), f"parts of src/defusion with no layer in LAYERS: {sorted(parts - LAYERS.keys())}"
    assert not LAYERS.keys() - parts, f"LAYERS names parts src/defusion no longer has: {sorted(LAYERS.keys() - parts)}"


def test_no_module_imports_a_part_above_its_own():
    listed = ACCEPTED.keys() | KNOWN_INVERSIONS.keys()
    problems = [problem for module, found in GRAPH.items()
                for problem in upward(module, [imp for imp in found if (module, imp.module) not in listed])]
    assert not problems, ("imports up the layers (tests/test_layering.py's LAYERS): move the shared code down, "
                          "or list the import in ACCEPTED with why:\n" + "\n".join(problems))


def test_every_listed_exception_is_still_an_import_up_the_layers():
    for listed in (ACCEPTED, KNOWN_INVERSIONS):
        stale = [f"{module} -> {target}" for module, target in listed
                 if not upward(module, [imp for imp in GRAPH.get(module, []) if imp.module == target])]
        assert not stale, f"listed imports that are gone (or no longer go up the layers): remove them: {stale}"


def test_an_import_up_the_layers_is_found_wherever_it_is_written():
    """The checker's teeth: io importing benchmark fails, written at the top, in a function, relatively,
    by importlib; io importing its own part or a lower one does not."""
    known = frozenset({"defusion.benchmark.scored_images"})
    sources = ["from defusion.benchmark.scored_images import viewable",
               "import defusion.benchmark.scored_images",
               "def preview():\n    from defusion.benchmark.scored_images import viewable\n",
               "from ..benchmark import scored_images",
               "import importlib\nimportlib.import_module('defusion.benchmark.scored_images')"]
    for source in sources:
        found = imports("defusion.io.sheets", source, known=known)
        assert [line.split(":")[0] for line in upward("defusion.io.sheets", found)] == [
            f"defusion.io.sheets (line {found[0].line}) imports defusion.benchmark.scored_images"], source
    fine = "from defusion.io.display import viewable\nfrom . import arrays\nfrom defusion.errors import DefusionError"
    assert not upward("defusion.io.sheets", imports("defusion.io.sheets", fine))


def test_parts_on_one_layer_do_not_import_each_other():
    found = imports("defusion.baselines.gff", "from defusion.data.dataset import ImageFolder")
    assert upward("defusion.baselines.gff", found) == ["defusion.baselines.gff (line 1) imports defusion.data.dataset: "
                                                      "baselines (layer 5) may import only lower layers, and data is layer 5"]


def test_the_graph_sees_the_package_as_it_is():
    """A sanity check of the reading itself: known imports are found (sheets shows pixels by io.display,
    the command loads its sub-commands by importlib)."""
    assert any(imp.module == "defusion.io.display" for imp in GRAPH["defusion.io.sheets"])
    assert any(imp.module == "defusion.cli" for imp in GRAPH["defusion.cli.main"])
    assert not any(part(imp.module) == "benchmark" for imp in GRAPH["defusion.io.sheets"])
