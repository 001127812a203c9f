"""`defusion info` names the weights by their SHA-256, as `defusion serve` and a fused image's record do."""

from __future__ import annotations

import hashlib
import json

from defusion.cli.main import main
from defusion.fusion.provenance import DIGEST_CHARS


def test_info_json_has_the_weights_sha256_and_the_text_its_start(tiny_weights, capsys):
    whole = hashlib.sha256(tiny_weights.read_bytes()).hexdigest()
    assert main(["info", "--weights", str(tiny_weights), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sha256"] == whole
    assert main(["info", "--weights", str(tiny_weights)]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.split()[0] == "sha256")
    assert line.split()[1] == whole[:DIGEST_CHARS]


def test_an_architecture_without_weights_has_none(capsys):
    assert main(["info", "--model", "defusion-tiny", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["sha256"] is None
