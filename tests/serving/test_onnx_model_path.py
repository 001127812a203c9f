"""--runtime onnxruntime's model and the exporter it calls are fusion's (defusion.fusion.onnx_runtime,
defusion.fusion.export), where the runtimes load them; defusion.serving.onnx_model and
defusion.serving.export still export every name they did, as the same objects."""

from __future__ import annotations

from defusion.fusion import export, onnx_runtime
from defusion.serving import env_settings, onnx_model
from defusion.serving import export as export_old_path
from defusion.serving.limits import MAX_IMAGES, MIN_IMAGES


def test_the_old_path_exports_the_same_objects():
    assert set(onnx_model.__all__) >= set(onnx_runtime.__all__)
    for name in onnx_model.__all__:
        assert getattr(onnx_model, name) is getattr(onnx_runtime, name), name


def test_the_exporters_old_path_exports_the_same_objects():
    assert set(export_old_path.__all__) >= set(export.__all__)
    for name in export_old_path.__all__:
        assert getattr(export_old_path, name) is getattr(export, name), name


def test_the_image_count_a_setting_takes_is_the_servers_limit():
    assert env_settings.ENV_VARIABLES["DEFUSION_MAX_IMAGES"] == (
        "--max-images", f"a whole number from {MIN_IMAGES} to {MAX_IMAGES}")
    assert (MIN_IMAGES, MAX_IMAGES) == (2, 8)
