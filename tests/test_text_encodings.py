"""Every text file defusion reads or writes names its encoding. Without one, Python uses the locale's
(Windows' cp1252), so a results.csv with a pair named in Japanese, or a config with a UTF-8 comment,
failed or was misread there although it worked on Linux (the portability audit of 2026-12-07)."""

from __future__ import annotations

import ast

from tests.conftest import REPO

#: Calls that open a file as text unless told otherwise, and where their mode argument sits (None:
#: no mode, always text). ``X.open`` is any object's (``Path.open``), but for the owners below.
_TEXT_CALLS = {"open": 1, "read_text": None, "write_text": None, "fdopen": 1, "NamedTemporaryFile": 0,
               "TemporaryFile": 0, "SpooledTemporaryFile": 1, "TextIOWrapper": None, "FileHandler": 1}
#: Owners whose ``open`` opens no text file: images, descriptors, archives, a browser.
_NOT_TEXT_OWNERS = {"Image", "os", "zipfile", "tarfile", "gzip", "webbrowser"}
#: Modes these calls default to where none is given: binary for the temporary files.
_DEFAULT_MODES = {"NamedTemporaryFile": "w+b", "TemporaryFile": "w+b", "SpooledTemporaryFile": "w+b"}


def _call_name(func: ast.expr) -> str | None:
    """The name of a call that may open a text file, or None."""
    if isinstance(func, ast.Name):
        return func.id if func.id in _TEXT_CALLS else None
    if isinstance(func, ast.Attribute):
        owner = func.value.id if isinstance(func.value, ast.Name) else None
        if func.attr == "open":
            return None if owner in _NOT_TEXT_OWNERS else "open"
        return func.attr if func.attr in _TEXT_CALLS else None
    return None


def _unencoded_text_calls(tree: ast.AST) -> list[int]:
    """Lines of calls that open a file in text mode with no ``encoding=``."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node.func)
        if name is None or any(k.arg == "encoding" for k in node.keywords):
            continue
        index = _TEXT_CALLS[name]
        if isinstance(node.func, ast.Attribute) and node.func.attr == "open" and not (
                isinstance(node.func.value, ast.Name) and node.func.value.id in ("io", "codecs", "builtins")):
            index = 0  # Path.open(mode): the mode comes first
        mode = next((k.value for k in node.keywords if k.arg == "mode"), None)
        if mode is None and index is not None and len(node.args) > index:
            mode = node.args[index]
        if mode is None and name in _DEFAULT_MODES:
            mode = ast.Constant(_DEFAULT_MODES[name])
        if isinstance(mode, ast.Constant) and isinstance(mode.value, str) and "b" in mode.value:
            continue
        lines.append(node.lineno)
    return lines


def test_every_text_file_is_opened_with_an_encoding():
    missing = []
    for path in sorted((REPO / "src" / "defusion").rglob("*.py")):
        for line in _unencoded_text_calls(ast.parse(path.read_text(encoding="utf-8"))):
            missing.append(f"{path.relative_to(REPO)}:{line}")
    assert not missing, "text files opened without encoding= (the locale's, cp1252 on Windows): " + ", ".join(missing)


def test_the_check_finds_an_unencoded_call_and_passes_binary_and_encoded_ones():
    source = ("open(p)\nopen(p, 'rb')\nopen(p, mode='w', encoding='utf-8')\nPath(p).read_text()\n"
              "Path(p).read_bytes()\nImage.open(p)\nq.write_text(s, encoding='utf-8')\nos.fdopen(fd, 'w')\n"
              "os.open(p, 1)\np.open('w')\np.open('rb')\nbuiltins.open(p, 'w')\ncodecs.open(p, 'w')\n"
              "tempfile.NamedTemporaryFile('w')\ntempfile.NamedTemporaryFile()\nio.TextIOWrapper(buf)\n"
              "logging.FileHandler(p)\nio.open(p, 'rb')\n")
    assert _unencoded_text_calls(ast.parse(source)) == [1, 4, 8, 10, 12, 13, 14, 16, 17]
