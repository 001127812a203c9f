"""Every text file defusion reads or writes names its encoding. Without one, Python uses the locale's
(Windows' cp1252), so a results.csv with a pair named in Japanese, or a config with a UTF-8 comment,
failed or was misread there although it worked on Linux (the portability audit of 2026-12-07)."""

from __future__ import annotations

import ast

from tests.conftest import REPO

#: Calls that open a file as text unless told otherwise, and where their mode argument sits.
_TEXT_CALLS = {"open": 1, "read_text": None, "write_text": None, "fdopen": 1}


def _unencoded_text_calls(tree: ast.AST) -> list[int]:
    """Lines of ``open``/``read_text``/``write_text`` calls in text mode with no ``encoding=``."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name):
            name = func.id if func.id == "open" else None
        elif isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else None
            name = func.attr if func.attr in ("read_text", "write_text") or (owner, func.attr) in (
                ("io", "open"), ("os", "fdopen")) else None  # Image.open, os.open (a descriptor): not text
        else:
            name = None
        if name is None or any(k.arg == "encoding" for k in node.keywords):
            continue
        index = _TEXT_CALLS[name]
        mode = next((k.value for k in node.keywords if k.arg == "mode"), None)
        if mode is None and index is not None and len(node.args) > index:
            mode = node.args[index]
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
              "Path(p).read_bytes()\nImage.open(p)\nq.write_text(s, encoding='utf-8')\nos.fdopen(fd, 'w')\nos.open(p, 1)\n")
    assert _unencoded_text_calls(ast.parse(source)) == [1, 4, 8]
