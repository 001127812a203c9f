"""Public names that nothing called are gone (each superseded): io.shots' exposure_settings (shot_settings
reads the exposure with the camera and size), io.images' pillow_levels (Fuser.fuse reads Pillow images
itself, as read_image reads their files) and the command's recorded_settings (recorded_runs)."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("module, name", [("defusion.io.shots", "exposure_settings"),
                                          ("defusion.io.images", "pillow_levels"),
                                          ("defusion.cli.fuse.fused_settings", "recorded_settings")])
def test_a_dead_name_is_gone(module, name):
    found = importlib.import_module(module)
    assert not hasattr(found, name) and name not in found.__all__

