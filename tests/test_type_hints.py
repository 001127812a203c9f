"""Every function and method of the package has type hints on each of its parameters (``self`` and
``cls`` excepted; ``*args`` and ``**kwargs`` included) and on its return (``__init__ -> None`` too),
nested functions included, lambdas not. Read from the source (ast), so nothing is imported.

A failure names each ``file:line: function`` and what it lacks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "defusion"

Function = ast.FunctionDef | ast.AsyncFunctionDef


def missing_hints(function: Function) -> list[str]:
    """What ``function`` has no hint on: its parameters' names (``*args`` as ``*args``), and ``return``."""
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    bound = positional[:1] if positional and positional[0].arg in ("self", "cls") else []
    missing = [a.arg for a in (*positional, *args.kwonlyargs) if a.annotation is None and a not in bound]
    missing += [f"*{a.arg}" for a in (args.vararg, args.kwarg) if a is not None and a.annotation is None]
    return missing + (["return"] if function.returns is None else [])


def unhinted(source: str, name: str = "<source>") -> list[str]:
    """``name:line: function: lacks ...`` for each function in ``source`` missing a hint."""
    return [f"{name}:{node.lineno}: {node.name}: lacks {', '.join(missing)}"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and (missing := missing_hints(node))]


def test_every_function_has_type_hints() -> None:
    found = [line for path in sorted(PACKAGE.rglob("*.py"))
             for line in unhinted(path.read_text(encoding="utf-8"), path.relative_to(PACKAGE.parents[1]).as_posix())]
    assert not found, "functions without complete type hints:\n" + "\n".join(found)


@pytest.mark.parametrize(("source", "expected"), [
    ("def f(a: int) -> int: ...", []),
    ("def f(a, b: int) -> None: ...", ["<source>:1: f: lacks a"]),
    ("def f(a: int): ...", ["<source>:1: f: lacks return"]),
    ("def f(*args, **kwargs: int) -> None: ...", ["<source>:1: f: lacks *args"]),
    ("def f(*, key) -> None: ...", ["<source>:1: f: lacks key"]),
    ("class C:\n    def __init__(self, x: int): ...", ["<source>:2: __init__: lacks return"]),
    ("class C:\n    @classmethod\n    def make(cls) -> 'C': ...", []),
    ("def outer() -> None:\n    async def inner(x) -> None: ...", ["<source>:2: inner: lacks x"]),
    ("f = lambda x: x", []),
])
def test_scan_finds_what_lacks_a_hint(source: str, expected: list[str]) -> None:
    assert unhinted(source) == expected
