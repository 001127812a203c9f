"""Every text file defusion reads or writes names its encoding. Without one, Python uses the locale's
(Windows' cp1252), so a results.csv with a pair named in Japanese, or a config with a UTF-8 comment,
failed or was misread there although it worked on Linux (the portability audit of 2026-12-07).
The tests, benchmarks and scripts are held to it too, so that they run on such a system as well."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO

#: The folders whose Python files are checked: the package, and what runs beside it.
_ROOTS = ("src/defusion", "tests", "benchmarks", "scripts")

#: Calls that open a file as text unless told otherwise, and where their mode argument sits (None:
#: no mode, always text). ``X.open`` is any object's (``Path.open``), but for the owners below.
_TEXT_CALLS = {"open": 1, "read_text": None, "write_text": None, "fdopen": 1, "NamedTemporaryFile": 0,
               "TemporaryFile": 0, "SpooledTemporaryFile": 1, "TextIOWrapper": None, "FileHandler": 1}
#: Owners whose ``open`` opens no text file: images, descriptors, archives, a browser.
_NOT_TEXT_OWNERS = {"Image", "os", "zipfile", "tarfile", "gzip", "webbrowser"}
#: Modes these calls default to where none is given: binary for the temporary files.
_DEFAULT_MODES = {"NamedTemporaryFile": "w+b", "TemporaryFile": "w+b", "SpooledTemporaryFile": "w+b"}
#: ``subprocess`` calls that decode a child's output in the locale's encoding when asked for text.
_SUBPROCESS_CALLS = {"run", "Popen", "check_output", "call", "check_call"}


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


def _decodes_output_unencoded(node: ast.Call) -> bool:
    """Whether ``node`` is a ``subprocess`` call asked for text (``text=True``, ``universal_newlines=True``)
    that names neither ``encoding=`` nor ``errors=``: it decodes the child's output in the locale's
    encoding, and fails (UnicodeDecodeError) on bytes that encoding lacks. ``errors=`` is a choice made:
    a program's output in whatever it writes, read without failing."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    keywords = {k.arg: k.value for k in node.keywords}
    asks_text = any(isinstance(keywords.get(k), ast.Constant) and keywords[k].value is True
                    for k in ("text", "universal_newlines"))
    return name in _SUBPROCESS_CALLS and asks_text and "encoding" not in keywords and "errors" not in keywords


def _unencoded_text_calls(tree: ast.AST) -> list[int]:
    """Lines of calls that open a file in text mode, or read a child's output as text, with no ``encoding=``."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if _decodes_output_unencoded(node):
            lines.append(node.lineno)
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


@pytest.mark.parametrize("root", _ROOTS)
def test_every_text_file_is_opened_with_an_encoding(root):
    missing = []
    for path in sorted((REPO / root).rglob("*.py")):
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


def test_the_check_finds_a_child_read_as_text_in_the_locale_encoding():
    source = ("subprocess.run(cmd, capture_output=True, text=True)\n"
              "subprocess.run(cmd, capture_output=True, text=True, encoding='utf-8')\n"
              "subprocess.run(cmd, capture_output=True)\nsubprocess.Popen(cmd, stdout=PIPE, universal_newlines=True)\n"
              "subprocess.check_output(cmd, text=True, errors='replace')\ncheck_output(cmd, text=True)\n"
              "subprocess.run(cmd, text=False)\nasyncio.run(main())\n")
    assert _unencoded_text_calls(ast.parse(source)) == [1, 4, 6]


def test_a_child_writes_what_the_tests_read_it_as():
    """Its output in UTF-8 (tests/conftest.py), whatever the code page: an arrow cp1252 lacks comes back."""
    ascii_locale = {**os.environ, "LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
    child = subprocess.run([sys.executable, "-c", "print('EN \\u2191')"], capture_output=True, text=True,
                           encoding="utf-8", timeout=60, env=ascii_locale)  # a pipe in ASCII but for conftest's
    assert child.returncode == 0 and child.stdout == "EN \u2191\n", child.stderr
