"""`defusion export` and :func:`defusion.fusion.export.check_export_path` name an export's suffixes by one
rule (:func:`defusion.io.formats.one_of`, torch-free as the command's checks must be), not each by a copy."""

from __future__ import annotations

import pytest

from defusion.cli import export as export_cli
from defusion.cli.main import main
from defusion.fusion import export as fusion_export
from defusion.fusion.choices import EXPORT_SUFFIXES
from defusion.fusion.export import ExportError, check_export_path
from defusion.io.formats import one_of

#: How both say TorchScript's suffixes.
TORCHSCRIPT_NAMES = one_of(list(EXPORT_SUFFIXES["torchscript"]))


def test_neither_module_keeps_its_own_copy_of_the_rule():
    assert not hasattr(export_cli, "_listed") and not hasattr(fusion_export, "_listed")


def test_the_command_and_the_library_list_torchscripts_suffixes_alike(tmp_path, tiny_weights, capsys):
    assert TORCHSCRIPT_NAMES == ".pt, .pth or .ts"
    out = tmp_path / "denet.bin"
    assert main(["export", "--format", "torchscript", "-o", str(out), "--weights", str(tiny_weights)]) == 2
    said = capsys.readouterr().err
    assert f"a torchscript export's name ends in {TORCHSCRIPT_NAMES} (a reader tells the format by it)" in said
    assert said.count("\n") == 1 and not out.exists()
    with pytest.raises(ExportError, match=f"or {TORCHSCRIPT_NAMES} \\(TorchScript\\)"):
        check_export_path(out)
