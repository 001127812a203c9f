"""`defusion calibrate` and `defusion fuse --rig`: a rig from marked points, then its pairs fused."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from defusion.cli import calibrate as calibrate_cli
from defusion.cli.main import main
from defusion.fusion.rig import Rig, map_points
from defusion.io.images import read_image, write_image
from tests.conftest import smooth_image

W, H = 80, 60
#: The second camera: half the resolution, a slightly narrower view, turned by 1.5 degrees.
CAMERA = np.array([[0.55 * np.cos(0.026), -0.55 * np.sin(0.026), -2.0],
                   [0.55 * np.sin(0.026), 0.55 * np.cos(0.026), -1.0], [0, 0, 1]])
CAMERA_SIZE = (40, 30)


@pytest.fixture
def rig_pair(tmp_path, rng):
    """A visible image, the second camera's view of the same scene, and marks in both."""
    scene = smooth_image(rng, H, W)
    visible = write_image(tmp_path / "vis.png", scene)
    grey = cv2.cvtColor(scene, cv2.COLOR_RGB2GRAY)
    thermal = write_image(tmp_path / "ir.png", cv2.warpPerspective(grey, CAMERA, CAMERA_SIZE, flags=cv2.INTER_AREA))
    marks = np.c_[rng.uniform(8, W - 8, 8), rng.uniform(8, H - 8, 8)]
    seen = map_points(CAMERA, marks) + rng.normal(0, 0.3, marks.shape)
    points = tmp_path / "ir_points.csv"
    points.write_text("x_vis,y_vis,x_ir,y_ir\n" + "".join(f"{a:.2f},{b:.2f},{c:.2f},{d:.2f}\n"
                                                        for (a, b), (c, d) in zip(marks, seen)), encoding="utf-8")
    return visible, thermal, points


def _run(*args) -> int:
    return main([str(a) for a in args])


def test_calibrate_writes_the_rig_and_a_check_picture(rig_pair, tmp_path, capsys):
    visible, thermal, points = rig_pair
    assert _run("calibrate", visible, thermal, "--points", points, "-o", tmp_path / "rig.json") == 0
    out, err = capsys.readouterr()
    assert "affine from 8 point pairs" in out and "px RMS" in out and "--rig" in out
    rig = Rig.load(tmp_path / "rig.json")
    assert rig.size == (W, H) and rig.cameras[0].size == CAMERA_SIZE
    corners = np.array([[0, 0], [W - 1, 0], [0, H - 1], [W - 1, H - 1]], float)
    assert np.abs(map_points(rig.cameras[0].array, corners) - map_points(CAMERA, corners)).max() < 1.0
    assert read_image(tmp_path / "rig_check.png").shape == (H, W, 3)
    assert "sees" in out and "note: camera 2 sees" in err  # the narrower camera does not cover the visible view
    assert "warning" not in err  # 8 marks fitting well: nothing to warn about


def test_too_few_marks_are_warned_about(rig_pair, tmp_path, capsys):
    visible, thermal, points = rig_pair
    lines = points.read_text(encoding="utf-8").splitlines()
    points.write_text("\n".join(lines[:5]) + "\n", encoding="utf-8")  # the header and 4 marks
    assert _run("calibrate", visible, thermal, "--points", points, "-o", tmp_path / "rig.json",
                "--motion", "homography") == 0
    assert "4 marks fix a homography exactly" in capsys.readouterr().err
    assert _run("calibrate", visible, thermal, "--points", points, "-o", tmp_path / "rig.json") == 0
    assert "only 4 marks" in capsys.readouterr().err


def test_a_loose_fit_names_the_worst_point(rig_pair, tmp_path, capsys):
    visible, thermal, points = rig_pair
    lines = points.read_text(encoding="utf-8").splitlines()
    x, y, u, v = map(float, lines[3].split(","))
    lines[3] = f"{x},{y},{39 - u},{29 - v}"  # a mis-click, elsewhere in the image
    points.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _run("calibrate", visible, thermal, "--points", points, "-o", tmp_path / "rig.json",
                "--check", tmp_path / "check" / "c.png") == 0
    out, err = capsys.readouterr()
    assert "largest" in out and "point 3" in out and "check mark 3 in" in err
    assert (tmp_path / "check" / "c.png").is_file()


@pytest.mark.parametrize("change, message", [
    (lambda p: ["--points", p, p], "one --points file per camera"),
    (lambda p: ["--points", p, "-o", "rig.txt"], "rig file is JSON"),
    (lambda p: ["--points", p.parent / "none.csv"], "cannot read --points"),
    (lambda p: ["--points", p, "--motion", "homography", "--check", p.parent / "vis.png"], "is one of the inputs"),
])
def test_calibrate_usage_errors_are_one_line(rig_pair, tmp_path, capsys, change, message, monkeypatch):
    monkeypatch.chdir(tmp_path)
    visible, thermal, points = rig_pair
    args = change(points)
    if "-o" not in args:
        args += ["-o", tmp_path / "rig.json"]
    assert _run("calibrate", visible, thermal, *args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_points_outside_the_images_are_caught(rig_pair, tmp_path, capsys):
    visible, thermal, points = rig_pair
    points.write_text("10,10,5,5\n70,10,500,5\n10,50,5,25\n",
                      encoding="utf-8")  # the second mark is outside the 40x30 image
    assert _run("calibrate", visible, thermal, "--points", points, "-o", tmp_path / "rig.json") == 2
    assert "point 2 lies outside the camera's image (40x30)" in capsys.readouterr().err


def test_fuse_with_the_rig_fuses_images_of_different_sizes(rig_pair, tmp_path, tiny_weights, capsys):
    visible, thermal, points = rig_pair
    assert _run("calibrate", visible, thermal, "--points", points, "-o", tmp_path / "rig.json") == 0
    out = tmp_path / "fused.png"
    assert _run("fuse", visible, thermal, "--rig", tmp_path / "rig.json", "-o", out, "--weights", tiny_weights,
                "--no-progress") == 0
    assert read_image(out).shape == (H, W, 3)
    capsys.readouterr()
    assert _run("fuse", thermal, visible, "--rig", tmp_path / "rig.json", "-o", out, "--weights", tiny_weights) == 2
    err = capsys.readouterr().err
    assert "calibrated order" in err and err.count("\n") == 1
    assert _run("fuse", visible, thermal, visible, "--rig", tmp_path / "rig.json", "-o", out) == 2
    assert "calibrated for 2 cameras, but 3 images were given" in capsys.readouterr().err
    assert _run("fuse", visible, thermal, "--rig", tmp_path / "rig.json", "--resize", "-o", out) == 2
    assert "give one" in capsys.readouterr().err
    (tmp_path / "broken.json").write_text(json.dumps({"format": "defusion-rig"}), encoding="utf-8")
    assert _run("fuse", visible, thermal, "--rig", tmp_path / "broken.json", "-o", out) == 2
    assert "version" in capsys.readouterr().err


def test_fuse_folders_with_the_rig(rig_pair, tmp_path, tiny_weights):
    visible, thermal, points = rig_pair
    assert _run("calibrate", visible, thermal, "--points", points, "-o", tmp_path / "rig.json") == 0
    for name, path in (("vi", visible), ("ir", thermal)):
        (tmp_path / name).mkdir()
        for stem in ("01", "02"):
            (tmp_path / name / f"{stem}.png").write_bytes(path.read_bytes())
    assert _run("fuse", "--a", tmp_path / "vi", "--b", tmp_path / "ir", "--rig", tmp_path / "rig.json",
                "-o", tmp_path / "out", "--weights", tiny_weights, "--no-progress") == 0
    assert [read_image(p).shape for p in sorted((tmp_path / "out").glob("*.png"))] == [(H, W, 3)] * 2


def _board_scene(cols: int = 10, rows: int = 7, square: int = 24) -> np.ndarray:
    """A grey scene with a chessboard of cols x rows squares ((cols-1)x(rows-1) inner corners)."""
    board = np.kron((np.indices((rows, cols)).sum(0) % 2).astype(np.uint8) * 255, np.ones((square, square), np.uint8))
    scene = np.full((400, 520), 128, np.uint8)
    scene[60:60 + rows * square, 80:80 + cols * square] = board
    return scene


def test_a_chessboard_target_calibrates_the_rig_without_marks(tmp_path, capsys):
    scene = _board_scene()
    camera = np.array([[0.55 * np.cos(0.03), -0.55 * np.sin(0.03), 5.0], [0.55 * np.sin(0.03), 0.55 * np.cos(0.03), -3.0],
                       [0, 0, 1]])
    visible = write_image(tmp_path / "vis.png", scene)
    # the infrared camera: half the resolution, turned, the heated board's squares inverted
    thermal = write_image(tmp_path / "ir.png", cv2.warpPerspective(255 - scene, camera, (300, 220), flags=cv2.INTER_AREA))
    assert _run("calibrate", visible, thermal, "--board", "9x6", "-o", tmp_path / "rig.json") == 0
    out, err = capsys.readouterr()
    assert "from 54 point pairs" in out
    rig = Rig.load(tmp_path / "rig.json")
    corners = np.array([[0, 0], [519, 0], [0, 399], [519, 399]], float)
    assert np.abs(map_points(rig.cameras[0].array, corners) - map_points(camera, corners)).max() < 0.5
    assert "span only" in err  # the board covers less than half the view: the rig is extrapolated
    assert _run("calibrate", visible, thermal, "--board", "8x6", "-o", tmp_path / "rig.json") == 2
    assert "no 8x6 chessboard found in" in capsys.readouterr().err
    assert _run("calibrate", visible, thermal, "-o", tmp_path / "rig.json") == 2
    assert "either --points" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _run("calibrate", visible, thermal, "--board", "nine", "-o", tmp_path / "rig.json")


def test_a_board_turned_a_quarter_between_the_cameras_is_refused_not_guessed(tmp_path, capsys):
    scene = _board_scene()
    visible = write_image(tmp_path / "vis.png", scene)
    turned = write_image(tmp_path / "ir.png", np.ascontiguousarray(np.rot90(cv2.resize(255 - scene, (260, 200)))))
    assert _run("calibrate", visible, turned, "--board", "9x6", "-o", tmp_path / "rig.json") == 2
    assert "turned by about 90 degrees" in capsys.readouterr().err
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00binary")
    assert _run("calibrate", visible, turned, "--points", tmp_path / "bin.csv", "-o", tmp_path / "rig.json") == 2
    assert "not a text file" in capsys.readouterr().err


def test_several_shots_of_the_board_cover_the_view_one_cannot(tmp_path, capsys):
    camera = np.array([[0.55, -0.016, 5.0], [0.016, 0.55, -3.0], [0, 0, 1]])
    files = []
    for shot, (top, left) in enumerate(((20, 20), (200, 260))):  # the board held top left, then bottom right
        scene = np.full((400, 520), 128, np.uint8)
        board = np.kron((np.indices((7, 10)).sum(0) % 2).astype(np.uint8) * 255, np.ones((18, 18), np.uint8))
        scene[top:top + 126, left:left + 180] = board
        files += [write_image(tmp_path / f"vis{shot}.png", scene),
                  write_image(tmp_path / f"ir{shot}.png",
                              cv2.warpPerspective(255 - scene, camera, (300, 220), flags=cv2.INTER_AREA))]
    assert _run("calibrate", *files[:2], "--board", "9x6", "-o", tmp_path / "one.json") == 0
    one = capsys.readouterr()
    assert _run("calibrate", *files, "--board", "9x6", "--cameras", "2", "-o", tmp_path / "two.json") == 0
    two = capsys.readouterr()
    assert "from 54 point pairs" in one.out and "from 108 point pairs" in two.out
    assert "span only" in one.err and "span only" not in two.err  # two poses span the view
    rig = Rig.load(tmp_path / "two.json")
    corners = np.array([[0, 0], [519, 0], [0, 399], [519, 399]], float)
    assert np.abs(map_points(rig.cameras[0].array, corners) - map_points(camera, corners)).max() < 0.5
    assert json.loads((tmp_path / "two.json").read_text(encoding="utf-8"))["reference"]["calibrated_with"] == "vis0.png"
    assert _run("calibrate", *files[:3], "--board", "9x6", "--cameras", "2", "-o", tmp_path / "x.json") == 2
    assert "K images per shot" in capsys.readouterr().err
    assert _run("calibrate", *files, "--cameras", "2", "--points", files[0], "-o", tmp_path / "x.json") == 2


def test_a_heated_board_in_a_raw_14_bit_frame_calibrates_the_rig(tmp_path, capsys, rng):
    """Audit: calibrate read a raw 14-bit infrared frame as 8 bits (the board one grey level) and found
    no board; it now stretches it as defusion fuse does, and says so."""
    scene = _board_scene()
    camera = np.array([[0.55, -0.016, 5.0], [0.016, 0.55, -3.0], [0, 0, 1]])
    heated = cv2.warpPerspective(255 - scene, camera, (300, 220), flags=cv2.INTER_AREA).astype(np.float64)
    raw = (7900 + heated / 255 * 120 + rng.normal(0, 4, heated.shape)).round().astype(np.uint16)  # 120 counts of heat
    visible, thermal = write_image(tmp_path / "vis.png", scene), write_image(tmp_path / "ir.png", raw)
    assert _run("calibrate", visible, thermal, "--board", "9x6", "-o", tmp_path / "rig.json") == 0
    out, err = capsys.readouterr()
    assert "from 54 point pairs" in out and "note: ir.png holds 16-bit values" in err
    rig = Rig.load(tmp_path / "rig.json")
    corners = np.array([[0, 0], [519, 0], [0, 399], [519, 399]], float)
    assert np.abs(map_points(rig.cameras[0].array, corners) - map_points(camera, corners)).max() < 0.5
    check = read_image(tmp_path / "rig_check.png")
    inside = cv2.warpPerspective(np.ones((220, 300), np.uint8), camera, (520, 400), flags=cv2.WARP_INVERSE_MAP) > 0
    assert check[..., 0][inside & (scene > 200)].std() > 60  # the board readable in the check picture, both views


def test_the_stretch_of_raw_frames_is_said_once_not_per_board_shot(tmp_path, capsys, rng):
    """Review: calibrate said the raw-frame stretch note once per board shot; once is enough (the
    first shot whose frames are stretched)."""
    visible = np.full((30, 40), 128, np.uint8)
    raw = (7900 + rng.integers(0, 120, (30, 40))).astype(np.uint16)  # a raw infrared frame: a narrow band
    images = [visible, visible, visible, raw, visible, raw]  # shot 0 plain; shots 1 and 2 hold a raw frame
    paths = [tmp_path / name for name in ("vis0.png", "vis1.png", "vis1b.png", "ir1.png", "vis2.png", "ir2.png")]
    shown = calibrate_cli._as_fused(images, paths, 2)
    err = capsys.readouterr().err
    assert len(shown) == 6 and err.count("holds 16-bit values") == 1
    assert "ir1.png holds" in err and "ir2.png" not in err
