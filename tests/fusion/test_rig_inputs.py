"""Rig files that are not rigs, whatever the JSON parser makes of them: a RigError of one line."""

from __future__ import annotations

import pytest

from defusion.fusion.rig import Rig, RigError


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_json_nested_too_deeply_is_a_rig_error(tmp_path, opening):
    """60 KB of '[' (under the server's 64 KiB rig bound) raised RecursionError from json.loads: a 500
    from the server and a traceback from the CLI."""
    text = opening * 60_000
    with pytest.raises(RigError) as refused:
        Rig.loads(text, "deep.json")
    assert str(refused.value) == ("deep.json is not a defusion rig file (JSON nested too deeply; make one with "
                                  "defusion calibrate)")
    path = tmp_path / "deep.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RigError, match="nested too deeply"):
        Rig.load(path)
