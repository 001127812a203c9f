"""Shared by the `defusion fuse` command-line tests: running the command, counting the fusions it makes,
and reading its one-line errors."""

from __future__ import annotations

import pytest

from defusion.cli.main import main
from defusion.fusion.fuser import Fuser


@pytest.fixture
def fuse_calls(monkeypatch) -> list[int]:
    """Counts Fuser.fuse's calls (the fusing the checks must come before)."""
    real, calls = Fuser.fuse, []

    def counted(self, *images, **kwargs):
        calls.append(1)
        return real(self, *images, **kwargs)

    monkeypatch.setattr(Fuser, "fuse", counted)
    return calls


def run_fuse(*args) -> int:
    """`defusion fuse ARGS --no-progress`, its exit status."""
    return main(["fuse", *map(str, args), "--no-progress"])


def one_error_line(capsys) -> str:
    """What the command said, asserted to be one `defusion: error:` line and no traceback."""
    err = capsys.readouterr().err
    assert err.startswith("defusion: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err.strip()
