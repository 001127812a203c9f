"""`defusion info` says the versions a bug report needs (defusion, Python, torch, onnxruntime, numpy,
Pillow, OpenCV) and which extras are installed, in text and --json, from the packages' metadata alone."""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from importlib import metadata

import numpy as np
import PIL

import defusion
from defusion.cli import info
from defusion.cli.main import main

SHOWN = ["defusion", "Python", "torch", "onnxruntime", "numpy", "Pillow", "OpenCV"]


def test_json_has_the_versions_and_extras(capsys):
    assert main(["info", "--model", "defusion-tiny", "--json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert list(said["versions"]) == SHOWN
    assert said["versions"]["defusion"] == defusion.__version__
    assert said["versions"]["Python"] == platform.python_version()
    assert said["versions"]["numpy"] == np.__version__ and said["versions"]["Pillow"] == PIL.__version__
    assert said["versions"]["torch"] == metadata.version("torch")
    assert set(said["extras"]) == {"serve", "ui", "heif", "raw", "train"}
    assert all(isinstance(ok, bool) for ok in said["extras"].values())


def test_text_has_the_versions_and_extras(capsys):
    assert main(["info", "--model", "defusion-tiny"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines() if line.strip()}
    assert f"defusion {defusion.__version__}, Python {platform.python_version()}, torch " in lines["versions"]
    assert f"numpy {np.__version__}, Pillow {PIL.__version__}, OpenCV " in lines["versions"]
    assert "installed" in lines["extras"]


def test_a_missing_extra_says_what_it_lacks_and_how_to_install_it(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "rawpy" else real(name, *a))
    assert main(["info", "--model", "defusion-tiny"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.split()[:1] == ["extras"])
    assert "raw missing rawpy (pip install 'defusion[raw]')" in line
    assert main(["info", "--model", "defusion-tiny", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["extras"]["raw"] is False


def test_a_package_not_installed_is_said_so(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    found = info.versions()
    assert found["torch"] is None and found["defusion"] == defusion.__version__
    assert "torch not installed" in info.describe_versions(found)


def test_versions_import_nothing_heavy():
    code = ("import sys\nfrom defusion.cli import info\ninfo.versions(); info.missing_extras()\n"
            "print([m for m in ('torch', 'onnxruntime', 'cv2', 'numpy', 'PIL', 'fastapi', 'streamlit', 'rawpy') "
            "if m in sys.modules])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
