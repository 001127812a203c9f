"""Shared by the `defusion fuse` command-line tests: running the command, counting the fusions it makes,
and reading its one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from defusion.cli.main import main
from defusion.io.images import write_image
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


def infrared_visible_folders(tmp_path: Path, rng, stems=("01", "02", "03")) -> tuple[Path, Path]:
    """Folders ``ir`` (grey) and ``vi`` (colour) of small smooth 24x32 pairs named ``stems``, for
    folder runs (``--a ir --b vi``)."""
    from tests.conftest import smooth_image

    da, db = tmp_path / "ir", tmp_path / "vi"
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, 24, 32, 1))
        write_image(db / f"{stem}.png", smooth_image(rng, 24, 32))
    return da, db
