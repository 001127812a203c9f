"""The UI's Streamlit-free logic, in the modules beside the page (``defusion.ui.*``): settings, input
checks, metrics rows, PNG encoding."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from defusion.fusion.color import to_uint8
from defusion.fusion.fuser import DEFAULT_SCALE, FuseOptions, Fuser
from defusion.fusion.options import default_scale
from defusion.io.errors import ImageReadError
from defusion.io.pixel_bound import ImageTooLargeError
from defusion.ui.errors import InputError
from defusion.ui.examples import EXAMPLES, load_example
from defusion.ui.fusing import (METRIC_NAMES, STACK_METRIC_NAMES, FusedStack, fuse_and_score, fuse_stack_and_score,
                                metric_rows, score)
from defusion.ui.fusion_notes import registration_notes, stretch_notes
from defusion.ui.image_output import download_name, png_bytes
from defusion.ui.option_advice import exif_advice
from defusion.ui.options import (CALIBRATE_PAGE, KINDS, RESIZE_CHOICE, SCALE_CHOICES, TILE_CHOICES, default_detail_gain,
                                 default_pixels, default_unique_gain, fuse_options, input_order_for,
                                 stack_infrared_choices, tile_option)
from defusion.ui.result_cache import ResultCache, array_bytes, digest
from defusion.ui.rig_uploads import calibrate_uploads, parse_rig
from defusion.ui.settings import DEFAULT_UI_MAX_PIXELS, ENV_DEVICE, ENV_MAX_PIXELS, ENV_WEIGHTS, Settings
from defusion.ui.upload_names import PAIR_LABELS, in_name_order, name_images, told_apart
from defusion.ui.uploads import MAX_STACK_IMAGES, decode_pair, decode_stack


def _png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def test_settings_from_env():
    assert Settings.from_env({}) == Settings(None, "auto", DEFAULT_UI_MAX_PIXELS)
    env = {ENV_WEIGHTS: "w.safetensors", ENV_DEVICE: "cpu", ENV_MAX_PIXELS: "1000"}
    assert Settings.from_env(env) == Settings("w.safetensors", "cpu", 1000)
    with pytest.raises(InputError, match="whole number"):
        Settings.from_env({ENV_MAX_PIXELS: "lots"})


def test_tile_option():
    assert [tile_option(c) for c in TILE_CHOICES] == [None, 0, 256, 512, 768, 1024]


def _rig(scale: float = 0.5):
    from defusion.fusion.rig import Rig, RigCamera

    return Rig((40, 30), (RigCamera((20, 15), ((scale, 0, -0.25), (0, scale, -0.25), (0, 0, 1))),), "similarity")


#: One sidebar choice of each, none at its default: a value landing in another field shows.
CHOICES = dict(task="mef", color="rgb", tile=512, scale=3, unique_gain=0.75, detail_gain=2.5, align="affine",
               pixels="network", deghost=True, palette="inferno", infrared=1)


def test_fuse_options_puts_each_sidebar_choice_in_its_field():
    rig = _rig()
    options = fuse_options(**CHOICES, rig=rig)
    assert (options.tile, options.color, options.scale, options.unique_gain, options.detail_gain, options.order,
            options.align, options.pixels, options.deghost, options.palette, options.infrared, options.rig) == (
        512, "rgb", 3, 0.75, 2.5, "exposure", "affine", "network", True, "inferno", 1, rig)
    assert options == FuseOptions(tile=512, color="rgb", scale=3, unique_gain=0.75, detail_gain=2.5, order="exposure",
                                  align="affine", deghost=True, palette="inferno", infrared=1, rig=rig)  # rest: core's
    assert fuse_options(tile="off").tile == 0 and fuse_options(tile="auto").tile is None
    assert [fuse_options(task=task).order for task in KINDS.values()] == ["given", "given", "exposure", "given"]
    with pytest.raises(TypeError):  # keywords only: no order to get wrong
        fuse_options("mef", "rgb")  # type: ignore[misc]


def test_fuse_options_left_out_are_the_sidebars_starting_values_the_cores_task_presets():
    for task in KINDS.values():
        options = fuse_options(task=task)
        assert options.pixels == default_pixels(task) and options.scale == default_scale(options.pixels)
        assert options.unique_gain == default_unique_gain(task)
        assert options.detail_gain == default_detail_gain(task, options.unique_gain)
        preset = FuseOptions.for_task(task)
        assert options == FuseOptions(**{**vars(preset), "detail_gain": preset.resolved_detail_gain})
    assert fuse_options(task="mff", pixels="network").scale == DEFAULT_SCALE  # the network's default
    assert fuse_options(task="ivf", unique_gain=1.0).detail_gain == default_detail_gain("ivf", 1.0)


def test_fuse_options_are_a_results_cache_key_that_changes_with_every_choice():
    import json

    rig = _rig()
    key = ("pair", None, "cpu", fuse_options(**CHOICES, rig=rig), "digest")
    same_rig = parse_rig(json.dumps(rig.to_json()).encode(), "rig.json")
    assert {key: 1}[("pair", None, "cpu", fuse_options(**CHOICES, rig=same_rig), "digest")] == 1
    others = {"task": None, "color": "ycbcr", "tile": 256, "scale": 1, "unique_gain": 1.0, "detail_gain": 1.0,
              "align": "none", "pixels": "sources", "deghost": False, "palette": "none", "infrared": 0}
    assert set(others) == set(CHOICES)
    keys = {key}
    for name, value in others.items():
        changed = {**CHOICES, name: value, **({"palette": "none"} if name == "pixels" else {})}
        keys.add(("pair", None, "cpu", fuse_options(**changed, rig=rig), "digest"))
    keys.add(("pair", None, "cpu", fuse_options(**CHOICES, rig=_rig(0.25)), "digest"))
    keys.add(("pair", None, "cpu", fuse_options(**CHOICES), "digest"))
    assert len(keys) == len(others) + 3  # every choice, and the rig, makes a key of its own


def test_examples_load_as_registered_pairs():
    for name in EXAMPLES:
        a, b = load_example(name)
        assert a.shape == b.shape and a.dtype == np.uint8


def test_decode_pair_rules():
    a = _png(np.zeros((30, 40), np.uint8))
    b = _png(np.zeros((20, 24, 3), np.uint8))
    x, y = decode_pair(a, "a.png", a, "b.png")
    assert x.shape == y.shape == (30, 40)
    with pytest.raises(InputError, match=r"a\.png is 40x30, b\.png is 24x20"):
        decode_pair(a, "a.png", b, "b.png")
    with pytest.raises(ImageReadError, match="not an image"):
        decode_pair(a, "a.png", b"nonsense", "b.png")
    with pytest.raises(ImageTooLargeError, match="over the limit"):
        decode_pair(a, "a.png", a, "b.png", max_pixels=100)
    with pytest.raises(InputError, match="upload limit"):
        decode_pair(a, "a.png", a, "b.png", max_bytes=10)


def test_to_uint8_and_png_keep_depth():
    deep = np.array([[0, 65535], [257, 1000]], dtype=np.uint16)
    assert to_uint8(deep).tolist() == [[0, 255], [1, 4]]
    back = cv2.imdecode(np.frombuffer(png_bytes(deep), np.uint8), cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and (back == deep).all()
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[..., 0] = 200  # red
    back = cv2.imdecode(np.frombuffer(png_bytes(rgb), np.uint8), cv2.IMREAD_COLOR)
    assert back[0, 0].tolist() == [0, 0, 200]  # BGR on disk: colours not swapped


def test_png_download_carries_the_uploads_colour_profile_and_exif():
    import io

    from PIL import Image, ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (200, 0, 0)).save(buffer, "JPEG", icc_profile=profile, exif=exif.tobytes())
    rgb = np.zeros((2, 3, 3), np.uint8)
    with Image.open(io.BytesIO(png_bytes(rgb, [buffer.getvalue(), buffer.getvalue()]))) as im:
        assert im.info["icc_profile"] == profile and im.getexif()[0x010F] == "Canon"
        assert np.array_equal(np.asarray(im), rgb)
    with Image.open(io.BytesIO(png_bytes(rgb))) as im:
        assert "icc_profile" not in im.info


def test_score_and_rows(rng):
    a = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
    b = rng.integers(0, 65536, (24, 24), dtype=np.uint16)
    values = score(a, a, b)
    assert list(values) == list(METRIC_NAMES)
    rows = metric_rows(values)
    assert [r["metric"] for r in rows] == list(METRIC_NAMES)
    assert {r["better"] for r in rows} == {"higher"}


def test_digest_sees_every_pixel():
    a = np.zeros((2000, 1000), np.uint8)
    b = a.copy()
    b[1234, 567] = 1
    assert digest(a, a) != digest(a, b) and digest(a, a) == digest(a.copy(), a)


def test_download_name():
    assert download_name("dir/under.jpg", "over.png") == "fused_under_over.png"


def test_decode_stack_rules():
    grey = lambda v, h=30, w=40: _png(np.full((h, w), v, np.uint8))  # noqa: E731
    images = decode_stack([(grey(200), "ev2.png"), (grey(10), "ev0.png"), (grey(90), "ev1.png")])
    assert [int(im[0, 0]) for im in images] == [10, 90, 200]  # file-name order, whatever the upload order
    with pytest.raises(InputError, match="1 image given; a bracket or stack takes 2 to"):
        decode_stack([(grey(1), "a.png")])
    with pytest.raises(InputError, match=f"takes 2 to {MAX_STACK_IMAGES}"):
        decode_stack([(grey(1), f"{i}.png") for i in range(MAX_STACK_IMAGES + 1)])
    with pytest.raises(InputError, match=r"a\.png is 40x30, c\.png is 24x20"):
        decode_stack([(grey(1), "a.png"), (grey(2), "b.png"), (grey(3, 20, 24), "c.png")])
    with pytest.raises(InputError, match="over the upload limit"):
        decode_stack([(grey(1), "a.png"), (b"x" * 2000, "b.png")], max_bytes=1000)
    with pytest.raises(ImageReadError):
        decode_stack([(grey(1), "a.png"), (b"not an image", "b.png")])


def test_stack_metrics_and_order(tiny_weights, rng):
    from defusion.model.weights import load_weights
    from defusion.metrics import mef_ssim

    assert input_order_for("mef") == "exposure" and input_order_for(None) == "given"
    scene = rng.integers(0, 256, (32, 40), dtype=np.uint8).astype(float)
    bracket = [np.clip(scene * g, 0, 255).astype(np.uint8) for g in (0.4, 1.0, 1.6)]
    fuser = Fuser(load_weights(tiny_weights), "cpu", options=fuse_options(task="mef", scale=1))
    fused, values, order, depth = fuse_stack_and_score(fuser, bracket)[:4]
    assert depth is None  # the network's reconstruction: no pixel comes from one image
    assert fused.shape == (32, 40) and list(values) == list(STACK_METRIC_NAMES)
    assert values["MEF-SSIM"] == pytest.approx(mef_ssim(fused, *bracket))  # over all three sources
    assert order == [2, 1, 0]  # brightest first
    reordered, _, order = fuse_stack_and_score(fuser, bracket[::-1])[:3]
    assert np.array_equal(fused, reordered) and order == [0, 1, 2]  # sorted brightest first either way


def test_stack_source_map_runs_black_to_white_in_the_order_shown(tiny_weights, rng):
    from defusion.fusion.selection import source_map
    from defusion.model.weights import load_weights

    scene = rng.integers(0, 256, (32, 40), dtype=np.uint8).astype(float)
    bracket = [np.clip(scene * g, 0, 255).astype(np.uint8) for g in (0.4, 1.0, 1.6)]
    fuser = Fuser(load_weights(tiny_weights), "cpu", options=fuse_options(task="mef", pixels="sources", scale=1))
    result = fuse_stack_and_score(fuser, bracket)
    assert result.order == [2, 1, 0] and result.source_map.shape == (32, 40)
    fused, weights = fuser.fuse_with_weights(*bracket)
    np.testing.assert_array_equal(result.fused, fused)
    np.testing.assert_allclose(result.source_map, source_map(weights[::-1]))  # black: the first shown


def test_download_name_of_a_stack():
    assert download_name("a.png", "b.png", "c.tif") == "fused_a_to_c.png"


def test_a_raw_thermal_frame_is_noted(rng):
    ir8 = rng.integers(0, 256, (20, 30), dtype=np.uint8)
    raw = (7000 + 8 * ir8.astype(np.int64)).astype(np.uint16)
    notes = stretch_notes([raw, ir8], ["ir.png", "vis.png"])
    assert len(notes) == 1 and notes[0].startswith("ir.png holds 16-bit values")
    bracket = stretch_notes([raw, raw // 2 + 3000], ["ev0.png", "ev-1.png"], shared=True)  # in fuse's words
    assert len(bracket) == 1 and "ev0.png, ev-1.png hold 16-bit values" in bracket[0] and "one mapping" in bracket[0]
    assert len(stretch_notes([raw, raw // 2 + 3000], ["ir.png", "ir2.png"], shared=False)) == 2  # two cameras


def test_a_camera_rig_lets_a_pair_of_different_sizes_through_and_registers_it(tiny_weights):
    import json

    from defusion.fusion.rig import Rig, RigCamera

    rig = Rig((40, 30), (RigCamera((20, 15), ((0.5, 0, -0.25), (0, 0.5, -0.25), (0, 0, 1))),), "similarity")
    data = json.dumps(rig.to_json()).encode()
    assert parse_rig(data, "rig.json") == rig
    a, b = _png(np.full((30, 40, 3), 90, np.uint8)), _png(np.full((15, 20), 200, np.uint8))
    x, y = decode_pair(a, "vis.png", b, "ir.png", rig=rig)
    assert x.shape == (30, 40, 3) and y.shape == (15, 20)
    with pytest.raises(InputError, match="camera rig: image B is 40x30"):  # as the page calls it
        decode_pair(a, "vis.png", a, "ir.png", rig=rig)
    with pytest.raises(InputError, match="not JSON|Expecting"):
        parse_rig(b"{oops", "rig.json")
    with pytest.raises(InputError, match="not a defusion rig"):
        parse_rig(b'{"format": "x"}', "rig.json")
    fuser = Fuser(__import__("defusion.model.weights", fromlist=["load_weights"]).load_weights(tiny_weights),
                  "cpu", options=fuse_options(scale=1, rig=rig))
    parts, values, (shown_a, shown_b) = fuse_and_score(fuser, x, y)
    assert parts.fused.shape[:2] == (30, 40) and np.isfinite(values["SSIM-mean"])
    assert shown_b.shape == (30, 40) and abs(float(shown_b.min()) - 200 / 255) < 1e-3  # B on A's grid


def test_calibrate_uploads_from_a_points_file():
    import json

    from defusion.fusion.rig import Rig

    a, b = _png(np.zeros((120, 160), np.uint8)), _png(np.zeros((60, 80), np.uint8))
    marks = [(10, 10), (150, 12), (12, 110), (148, 108), (80, 60), (40, 90)]
    csv = "x_ref,y_ref,x_cam,y_cam\n" + "".join(f"{x},{y},{x / 2 - 0.25},{y / 2 - 0.25}\n" for x, y in marks)
    result = calibrate_uploads(a, "vis.png", b, "ir.png", "similarity", points=csv.encode())
    assert result.calibration.fits[0].rms_px < 1e-6 and result.check.shape == (120, 160, 3)
    assert Rig.from_json(json.loads(result.rig_file)) == result.calibration.rig
    with pytest.raises(InputError, match="line 2"):
        calibrate_uploads(a, "vis.png", b, "ir.png", points=b"x,y,u,v\n1,2,three,4\n")
    with pytest.raises(InputError, match="no 9x6 chessboard found in vis.png"):
        calibrate_uploads(a, "vis.png", b, "ir.png", board=(9, 6))


def test_metrics_a_small_image_cannot_take_are_left_out_not_fatal():
    """A 9x7 pair once made the whole page an SSIM error, fused image and all."""
    rng = np.random.default_rng(0)
    a, b, f = (rng.integers(0, 256, (7, 9), dtype=np.uint8) for _ in range(3))
    values = score(f, a, b)
    assert np.isnan(values["SSIM-mean"]) and np.isfinite(values["EN"])
    rows = {row["metric"]: row["value"] for row in metric_rows(values)}
    assert rows["SSIM-mean"].startswith("n/a")


def test_decode_stack_takes_natural_file_name_order():
    """f1, f10, f2 (string order) once; the CLI takes a folder's frames f1, f2, f10."""
    uploads = [(_png(np.full((8, 10), v, np.uint8)), name) for v, name in ((10, "f10.png"), (1, "f1.png"),
                                                                             (2, "F2.png"))]
    assert [name for _, name in in_name_order(uploads)] == ["f1.png", "F2.png", "f10.png"]
    assert [int(im[0, 0]) for im in decode_stack(uploads)] == [1, 2, 10]


def test_decoding_uploads_says_what_it_lost_naming_the_upload():
    """What read_image says on the CLI's stderr, gathered for the page, naming the upload (not
    its temporary file): the page shows each line (tests/ui/test_app.py)."""
    import io

    from PIL import Image

    from defusion.io.notes import collecting, split_line

    pages = io.BytesIO()
    first, second = (Image.fromarray(np.full((30, 40), v, np.uint8)) for v in (10, 200))
    first.save(pages, "TIFF", save_all=True, append_images=[second])
    rgba = np.zeros((30, 40, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[0, 0, 3] = 0
    with collecting() as said:
        a, b = decode_pair(pages.getvalue(), "pages.tif", _png(rgba), "logo.png")
    assert int(a[0, 0]) == 10 and b.shape == (30, 40, 3)  # the first page; alpha dropped
    lines = [split_line(line) for line in said]
    assert [kind for kind, _ in lines] == ["warning", "warning"]
    assert lines[0][1].startswith("pages.tif holds 2 pages; only the first is read")
    assert lines[1][1].startswith("logo.png has transparent pixels (alpha)")
    assert not any("defusion-upload-" in message for _, message in lines)


def test_messages_name_the_images_as_the_page_does():
    aligned = "cannot register image 2 to image 1 (affine): too little structure"
    assert name_images(aligned, PAIR_LABELS) == \
        "cannot register image B to image A (affine): too little structure"
    stack = ["f1.png", "f2.png", "f10.png"]
    assert name_images("cannot register image 3 to image 1 (affine)", stack) == \
        "cannot register f10.png to f1.png (affine)"
    assert name_images("image 12 is odd; image 10 too", stack) == "image 12 is odd; image 10 too"  # no such image
    assert name_images("4 images given", PAIR_LABELS) == "4 images given"


def test_a_stacks_infrared_image_is_chosen_by_file_name():
    choices = stack_infrared_choices(["ev0.png", "ev+2.png", "ev0.png"])
    # a name given twice: told apart as the captions and notes say them (upload_names.told_apart)
    assert choices == {"auto": None, "ev0.png (1)": 0, "ev+2.png (2)": 1, "ev0.png (3)": 2}
    assert stack_infrared_choices(["auto", "b.png"]) == {"auto": None, "auto (1)": 0, "b.png": 1}


def test_result_cache_is_bounded_by_bytes_as_well_as_count():
    """16 results of 25 MP pairs once held ~15 GB: the count alone was no bound."""
    made = []

    def result(size: int, tag: str):
        def compute():
            made.append(tag)
            image = np.zeros(size, np.uint8)
            return FusedStack(image, {"EN": 1.0}, [0, 1], None, [image, np.zeros(size, np.uint8)])
        return compute

    cache = ResultCache(max_entries=3, max_bytes=500)
    assert array_bytes(result(100, "x")()) == 200  # the fused image and a source that is it: counted once
    for tag in "abc":
        cache.remember(tag, result(100, tag))  # 200 bytes each
    assert "a" not in cache and list("bc") == [k for k in "abc" if k in cache] and cache.nbytes == 400
    cache.remember("b", result(100, "again"))  # kept: not made again, and now the newest
    assert made == ["x", "a", "b", "c"]
    cache.remember("d", result(100, "d"))
    assert "c" not in cache and "b" in cache and "d" in cache and cache.nbytes == 400
    for tag in "efg":
        cache.remember(tag, result(10, tag))  # small ones: the count bounds them
    assert len(cache) == 3 and "d" not in cache and cache.nbytes == 60
    big = cache.remember("big", result(1000, "big"))  # over the bound alone: kept, the others dropped
    assert len(cache) == 1 and "big" in cache and cache.nbytes == 2000
    assert cache.remember("big", result(1000, "big again")) is big and made[-1] == "big"


def test_inference_scales_are_offered_smallest_first_with_the_cores_default_among_them():
    assert SCALE_CHOICES == (1, 2, 3) and DEFAULT_SCALE in SCALE_CHOICES


def test_images_of_different_sizes_are_refused_with_the_ways_out_or_resized_and_said_so():
    """The audit: a size mismatch was a dead end; the page now says how to resize or calibrate."""
    from defusion.io.notes import collecting

    a = _png(np.zeros((30, 40), np.uint8))
    b = _png(np.zeros((20, 24), np.uint8))
    with pytest.raises(InputError, match=rf"tick \*{RESIZE_CHOICE}\* .*\*{CALIBRATE_PAGE}\* page"):
        decode_pair(a, "a.png", b, "b.png")
    with pytest.raises(InputError, match=RESIZE_CHOICE) as refused:
        decode_stack([(a, "a.png"), (b, "b.png")])
    assert CALIBRATE_PAGE not in str(refused.value)  # a stack takes no rig file
    with collecting() as said:
        x, y = decode_pair(a, "a.png", b, "b.png", resize=True)
        stack = decode_stack([(a, "a.png"), (b, "b.png"), (a, "c.png")], resize=True)
    assert x.shape == y.shape == (30, 40) and [im.shape for im in stack] == [(30, 40)] * 3
    assert said == [f"note: {RESIZE_CHOICE}: resized b.png 24x20 -> 40x30 (WxH: a.png's size)",
                    f"warning: {RESIZE_CHOICE} changes b.png's aspect ratio (from 24x20 to 40x30, WxH): it is "
                    "stretched, not cropped"]  # 1.2 to 1.33: warned of (audit 2, finding 3)


def test_the_calibration_page_named_in_messages_is_the_pages():
    pytest.importorskip("streamlit")
    from defusion.ui.app import CALIBRATE

    assert CALIBRATE_PAGE == CALIBRATE


def _settings(exposure_s: float | None, bias_ev: float | None = None):
    from defusion.io.shots import ShotSettings

    return ShotSettings(("Canon", "EOS"), (40, 30), exposure_s, bias_ev)


def test_the_uploads_exif_advises_the_kind_of_images_as_the_cli_does():
    """The audit: a bracket fused as general images (2.4% of pixels blown out, 0.3% as a bracket)
    said nothing on the page, while defusion fuse advised --task mef."""
    bracket, stack, names = [_settings(1 / 250), _settings(1 / 15)], [_settings(0.01)] * 2, ["a.jpg", "b.jpg"]
    warnings, notes = exif_advice(bracket, names, fuse_options(), None)
    assert not warnings and notes == [
        'the EXIF of a.jpg, b.jpg shows an exposure bracket (exposure times or biases differ): choose "exposure '
        'bracket" under Kind of images, whose defaults are made for brackets (the general ones, for any images, '
        "blow out a bracket's highlights)"]
    warnings, notes = exif_advice(bracket, names, fuse_options(task="mff"), "mff")
    assert not notes and 'but the kind "focus stack" takes each pixel from one source' in warnings[0]
    assert 'choose "exposure bracket" under Kind of images' in warnings[0]
    notes = exif_advice(stack, names, fuse_options(), None)[1]
    assert 'most likely a focus stack; choose "focus stack" under Kind of images' in notes[0]
    assert exif_advice(bracket, names, fuse_options(task="mef"), "mef") == ([], [])  # the kind is right
    assert exif_advice(bracket, names, fuse_options(palette="inferno"), None) == ([], [])  # two cameras
    assert exif_advice([_settings(None)] * 2, names, fuse_options(), None) == ([], [])  # nothing said


def test_registration_notes_say_what_alignment_and_deghosting_found_as_the_cli_does():
    from defusion.fusion.fuser import Decomposition

    image = np.zeros((40, 60), np.float32)
    shift = np.array([[1.0, 0.0, 3.2], [0.0, 1.0, 0.0]])
    found = Decomposition(image, image, image, image, frame=0, warps=(None, shift), ghosts=(0.0, 0.0))
    assert registration_notes(("a.png", "b.png"), found, "translation") == [
        "aligned b.png onto a.png: shift 3.2 px", "deghost found nothing that moved among a.png, b.png"]
    assert registration_notes(("a.png", "b.png"), Decomposition(image, image, image, image), "none") == []


def test_registration_notes_leave_what_the_fusion_core_says_to_the_core():
    """A correlation note and a stack's misfire shots are said by the fusion core (shown on the page by
    fusion_lines): the page made them again and kept one by string equality, two sources for one line."""
    from defusion.fusion.fuser import Decomposition

    image = np.zeros((40, 60), np.float32)
    shift = np.array([[1.0, 0.0, 3.2], [0.0, 1.0, 0.0]])
    found = Decomposition(image, image, image, image, frame=0, warps=(None, shift), correlations=(None, 0.12))
    assert registration_notes(("a.png", "b.png"), found, "translation") == ["aligned b.png onto a.png: shift 3.2 px"]


def test_uploads_of_one_name_are_told_apart_in_the_notes():
    """Review: two phones' image.jpg gave "aligned image.jpg onto image.jpg"."""
    from defusion.fusion.fuser import Decomposition

    image = np.zeros((40, 60), np.float32)
    shift = np.array([[1.0, 0.0, 3.2], [0.0, 1.0, 0.0]])
    found = Decomposition(image, image, image, image, frame=0, warps=(None, shift))
    said = told_apart(["image.jpg", "image.jpg"])
    assert registration_notes(said, found, "translation") == ["aligned image.jpg (2) onto image.jpg (1): shift 3.2 px"]
    assert told_apart(["a.png", "b.png"]) == ["a.png", "b.png"]


def test_calibrate_uploads_says_the_coverage_in_calibrates_words():
    """A thermal audit: the UI (as calibrate did) advised giving "the camera with the narrower view first"
    whichever order, where a 5:4 thermal camera beside a 16:9 visible one is narrower in neither direction."""
    a, b = _png(np.zeros((90, 160), np.uint8)), _png(np.zeros((120, 80), np.uint8))
    # camera 2 sees the middle half of camera 1's width, and camera 1 three quarters of camera 2's height
    marks = [(45, 10), (115, 12), (42, 80), (118, 78), (80, 45), (60, 60)]
    csv = "x_ref,y_ref,x_cam,y_cam\n" + "".join(f"{x},{y},{x - 40},{y + 15}\n" for x, y in marks)
    result = calibrate_uploads(a, "vis.png", b, "ir.png", "similarity", points=csv.encode())
    assert result.notes == result.calibration.notes([False])
    assert result.notes and not any("narrower view first" in note for note in result.notes), result.notes
