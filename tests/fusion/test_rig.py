"""Camera rig calibration: fitting each motion, the rig file, warping onto the first camera, fusing."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from defusion.fusion.fuser import FuseOptions, Fuser
from defusion.fusion.rig import (RIG_MOTIONS, Rig, RigCamera, RigError, fit_matrix, map_points, read_points)
from tests.conftest import smooth_image

W, H = 96, 72


def _similarity(scale: float, degrees: float, shift: tuple[float, float]) -> np.ndarray:
    t = np.deg2rad(degrees)
    m = np.eye(3)
    m[:2, :2] = scale * np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    m[:2, 2] = shift
    return m


TRUE = {
    "translation": np.array([[1, 0, 5.5], [0, 1, -3.0], [0, 0, 1]]),
    "similarity": _similarity(0.5, 2.0, (4.0, -2.0)),
    "affine": np.array([[0.52, 0.03, 3.0], [-0.02, 0.47, 6.0], [0, 0, 1]]),
    "homography": np.array([[0.5, 0.02, 3.0], [0.01, 0.55, 2.0], [2e-4, -1e-4, 1]]),
}


@pytest.fixture
def marks(rng):
    return np.c_[rng.uniform(5, W - 5, 10), rng.uniform(5, H - 5, 10)]


@pytest.mark.parametrize("motion", RIG_MOTIONS)
def test_each_motion_is_recovered_from_exact_marks(motion, marks):
    fitted = fit_matrix(marks, map_points(TRUE[motion], marks), motion)
    np.testing.assert_allclose(fitted, TRUE[motion], atol=1e-6)


def test_marks_off_by_a_pixel_give_a_rig_within_a_pixel(rng, marks):
    noisy = map_points(TRUE["affine"], marks) + rng.normal(0, 0.5, marks.shape)
    fitted = fit_matrix(marks, noisy, "affine")
    corners = np.array([[0, 0], [W - 1, 0], [0, H - 1], [W - 1, H - 1]], float)
    assert np.abs(map_points(fitted, corners) - map_points(TRUE["affine"], corners)).max() < 1.0


@pytest.mark.parametrize("ref, src, motion, message", [
    ([[0, 0], [10, 0]], [[0, 0], [5, 0]], "affine", "at least 3"),
    ([[0, 0], [10, 0], [20, 0], [30, 0]], [[0, 0], [5, 0], [10, 0], [15, 0]], "affine", "one line"),
    ([[0, 0], [10, 0], [20, 0], [30, 0]], [[0, 0], [5, 0], [10, 0], [15, 0]], "homography", "one line"),
    ([[3, 3], [3, 3]], [[1, 1], [2, 2]], "similarity", "one spot"),
    ([[0, 0], [1, 1], [0, 1]], [[0, 0], [1, 1]], "affine", "3 reference points but 2"),
    ([[0, 0], [1, 1]], [[0, 0], [1, 1]], "rotation", "unknown rig motion"),
])
def test_marks_that_fix_no_motion_are_refused(ref, src, motion, message):
    with pytest.raises(RigError, match=message):
        fit_matrix(np.array(ref, float), np.array(src, float), motion)


def test_points_files_take_headers_comments_and_any_separator():
    ref, src = read_points("# marked in GIMP\nx_vis;y_vis;x_ir;y_ir\n1,2,3,4\n5\t6\t7\t8\n\n9 10 11 12\n")
    assert ref.tolist() == [[1, 2], [5, 6], [9, 10]] and src.tolist() == [[3, 4], [7, 8], [11, 12]]
    with pytest.raises(RigError, match="line 3: expected four numbers"):
        read_points("1,2,3,4\n5,6,7,8\n9,10,eleven,12\n", "ir.csv")
    with pytest.raises(RigError, match="got '1,2,3'"):
        read_points("1,2,3\n")
    with pytest.raises(RigError, match="line 2: .* got '3l.23,1,2,3'"):  # a typo in the first point is no header
        read_points("x,y,u,v\n3l.23,1,2,3\n1,2,3,4\n")
    with pytest.raises(RigError, match="no point pairs"):
        read_points("x_ref,y_ref,x_src,y_src\n")


def _rig(matrix=TRUE["similarity"], size=(W // 2, H // 2)) -> Rig:
    return Rig((W, H), (RigCamera(size, tuple(map(tuple, matrix))),), "similarity")


def test_rig_file_round_trip_and_what_it_records(tmp_path, marks):
    rig = Rig.from_points((W, H), [((W // 2, H // 2), marks, map_points(TRUE["affine"], marks))], "affine")
    path = tmp_path / "rig.json"
    rig.save(path, ["vis.png", "ir.png"], rig.residuals([(marks, map_points(TRUE["affine"], marks))]))
    assert Rig.load(path) == rig
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "defusion-rig" and data["reference"]["calibrated_with"] == "vis.png"
    assert data["cameras"][0]["calibrated_with"] == "ir.png" and data["cameras"][0]["rms_error_px"] < 1e-6
    assert "[0.0, 0.0, 1.0]" in path.read_text(encoding="utf-8")  # one line per matrix row: meant to be read


@pytest.mark.parametrize("edit, message", [
    (lambda d: d.update(format="something"), "not a defusion rig file"),
    (lambda d: d.update(version=7), "version 7"),
    (lambda d: d["cameras"][0].pop("matrix"), "no 'matrix' field"),
    (lambda d: d["cameras"][0].update(matrix=[[1, 0, 0], [0, 1, 0]]), "3 rows of 3 numbers"),
    (lambda d: d["cameras"][0].update(matrix=[[1, 0, 0], [2, 0, 0], [0, 0, 1]]), "singular"),
    (lambda d: d.update(motion="homography") or d["cameras"][0].update(matrix=[[1, 0, 0], [0, 1, 0], [-0.1, 0, 1]]),
     "horizon"),
    (lambda d: d["cameras"][0].update(matrix=[[1, 0, 0], [0, 1, 0], [1e-3, 0, 1]]), "no perspective"),
    (lambda d: d.pop("reference"), "no 'reference' field"),
    (lambda d: d.update(cameras=[]), "at least one camera"),
    (lambda d: d["reference"].update(size=[0, 10]), "positive"),
    (lambda d: d.update(motion="warp"), "unknown rig motion"),
])
def test_bad_rig_files_say_what_is_wrong(tmp_path, edit, message):
    data = _rig().to_json()
    edit(data)
    path = tmp_path / "rig.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(RigError, match=message):
        Rig.load(path)


def test_unreadable_rig_files_are_rig_errors(tmp_path):
    with pytest.raises(RigError, match="cannot read"):
        Rig.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(RigError, match="not JSON"):
        Rig.load(tmp_path / "bad.json")


def test_apply_puts_a_second_camera_onto_the_first_cameras_grid(rng):
    scene = smooth_image(rng, H, W, channels=1).astype(np.float32) / 255
    matrix = TRUE["similarity"]
    camera = cv2.warpPerspective(scene, matrix, (W // 2, H // 2), flags=cv2.INTER_LINEAR)  # camera(M p) = scene(p)
    rig = _rig(matrix)
    first, second = rig.apply([scene, camera])
    assert first is scene and second.shape == (H, W)
    seen = cv2.warpPerspective(np.ones((H // 2, W // 2), np.float32), matrix, (W, H),
                               flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP) > 0
    inner = cv2.erode(seen.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool)
    assert np.abs(second - scene)[inner].mean() < 0.02  # half the resolution, so a little blur
    assert 0.8 < rig.coverage()[0] < 0.97 and abs(rig.coverage()[0] - seen.mean()) < 0.03


def test_where_a_camera_sees_nothing_the_first_image_stands_in():
    rig = _rig(_similarity(0.5, 0.0, (-10.0, -5.0)))  # the camera sees only the first image's centre
    reference = np.full((H, W, 3), 0.3, np.float32)
    thermal = np.full((H // 2, W // 2, 3), 0.9, np.float32)  # grey stored as three equal channels
    _, second = rig.apply([reference, thermal])
    seen = rig.coverage()[0]
    assert 0.1 < seen < 0.9
    assert np.allclose(second[0, 0], 0.3) and np.allclose(second[H // 2, W // 2], 0.9)
    colour = np.dstack([np.full((H, W), v, np.float32) for v in (0.8, 0.4, 0.2)])
    _, second = rig.apply([colour, thermal])
    assert np.ptp(second[0, 0]) < 1e-6  # the stand-in for a grey camera is grey: the visible's luminance


def test_a_much_finer_camera_is_shrunk_before_it_is_warped():
    stripes = np.tile(np.array([0.0, 1.0], np.float32), (4 * H, 2 * W))  # 1-pixel stripes at 4x the grid
    centres = np.array([[4.0, 0, 1.5], [0, 4.0, 1.5], [0, 0, 1]])  # a grid pixel's centre is 4x4 pixels' centre
    rig = _rig(centres, size=(4 * W, 4 * H))
    _, second = rig.apply([np.zeros((H, W), np.float32), stripes])
    assert abs(second.mean() - 0.5) < 0.02 and second.std() < 0.05  # averaged, not aliased into bands


def test_images_must_match_the_calibrated_cameras():
    rig = _rig()
    with pytest.raises(RigError, match="calibrated for 2 cameras, got 3"):
        rig.check_images([np.zeros((H, W))] * 3)
    with pytest.raises(RigError, match=f"image 2 is {W}x{H}.*{W // 2}x{H // 2}"):
        rig.check_images([np.zeros((H, W)), np.zeros((H, W))])


def test_check_image_shows_both_views_and_the_marks(rng, marks):
    scene = smooth_image(rng, H, W).astype(np.float32) / 255
    rig = Rig.from_points((W, H), [((W, H), marks, marks)], "translation")
    picture = rig.check_image([scene, scene], [(marks, marks)])
    assert picture.shape == (H, W, 3) and picture.dtype == np.float32
    assert (picture[..., 1] > picture[..., 0] + 0.5).any()  # green circles on the grey views


def test_fuser_with_a_rig_fuses_cameras_of_different_sizes(tiny_weights, rng):
    visible = smooth_image(rng, H, W)
    thermal = smooth_image(rng, H // 2, W // 2, channels=1)
    rig = _rig()
    with_rig = Fuser.from_pretrained(tiny_weights, device="cpu", rig=rig)
    fused = with_rig.fuse(visible, thermal)
    assert fused.shape == (H, W, 3)
    plain = Fuser.from_pretrained(tiny_weights, device="cpu")
    warped = (rig.apply([visible / 255.0, thermal / 255.0])[1] * 255 + 0.5).astype(np.uint8)
    assert np.abs(fused.astype(int) - plain.fuse(visible, warped).astype(int)).max() <= 1
    with pytest.raises(RigError, match="image 2"):
        with_rig.fuse(visible, visible)
    with pytest.raises(ValueError, match="Rig.load"):
        FuseOptions(rig="rig.json")


def test_a_palette_leaves_what_the_infrared_camera_does_not_see_uncoloured(tiny_weights, rng):
    """Audit: where the thermal camera sees nothing the visible image stands in for it, and the palette
    coloured that as temperature, its range measured on it too."""
    from defusion.fusion.color import palette_range

    rig = _rig(_similarity(0.5, 0.0, (-10.0, -5.0)))  # the camera sees only the first image's centre
    seen = rig.seen()[0]
    assert seen is not None and 0.1 < (seen > 0).mean() < 0.9 and seen.max() == pytest.approx(1.0)
    visible = smooth_image(rng, H, W, channels=1)
    raw = (7000 + 8 * smooth_image(rng, H // 2, W // 2, channels=1).astype(np.uint16))  # a thermal camera's counts
    black, white = (rig.apply([np.full((H, W), v, np.float32), raw / 65535.0])[1] for v in (0.0, 1.0))
    np.testing.assert_allclose(white - black, 1 - seen, atol=1e-5)  # the weight apply gives the stand-in
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", scale=1, rig=rig, palette="inferno")
    fused = fuser.fuse(visible, raw).astype(float)
    grey = Fuser.from_pretrained(tiny_weights, device="cpu", scale=1, rig=rig).fuse(visible, raw).astype(float)
    unseen = seen == 0
    assert np.ptp(fused[unseen], axis=1).max() <= 257  # no false colour: R = G = B (to rounding)
    assert np.abs(fused[unseen].mean(axis=1) - grey[unseen]).max() <= 257  # the fused grey itself
    assert np.ptp(fused[seen == 1], axis=1).mean() > 10000  # coloured where it sees
    thermal = fuser.registered(visible, raw)[1]
    assert fuser.measure_palette(visible, raw) == palette_range(thermal, seen)
    assert palette_range(thermal, seen) != palette_range(thermal)  # the stand-in left out of the range


def test_a_heated_board_is_found_in_a_raw_14_bit_frame(rng):
    """Audit: find_board and check_image read a raw frame as 8 bits (a board 120 counts over its
    background is one grey level) and found no board, and the check picture was flat grey."""
    from defusion.fusion.rig import find_board

    board = np.kron((np.indices((7, 10)).sum(0) % 2).astype(np.float32), np.ones((16, 16), np.float32))
    scene = np.full((150, 200), 0.5, np.float32)
    scene[20:132, 20:180] = board
    scene = cv2.GaussianBlur(scene, (0, 0), 0.8)
    raw = (7900 + 120 * scene + rng.normal(0, 4, scene.shape)).round().astype(np.uint16)
    corners = find_board(raw, (9, 6))
    assert corners is not None and corners.shape == (54, 2)
    grid = np.array([[20 + 16 * c - 0.5, 20 + 16 * r - 0.5] for r in range(1, 7) for c in range(1, 10)])
    assert np.abs(np.sort(corners, axis=0) - np.sort(grid, axis=0)).max() < 0.5  # every inner corner, in place
    rig = Rig((200, 150), (RigCamera((200, 150), ((1.0, 0, 0), (0, 1.0, 0), (0, 0, 1.0))),), "translation")
    picture = rig.check_image([raw, raw])
    white, black = picture[..., 0][scene > 0.9], picture[..., 0][scene < 0.1]
    assert white.mean() - black.mean() > 0.6  # the board shows, white and black


def test_seen_is_worked_out_once_per_rig_and_grid_and_shared_with_apply(monkeypatch):
    """The review: seen() ran the erode loop on every call, on top of the same work in apply."""
    import defusion.fusion.rig.warp as rig_module

    rig = _rig(_similarity(0.5, 0.0, (-10.0, -5.0)))
    rig_module._cached_coverage.cache_clear()
    first = rig.seen()
    fresh = rig_module._cached_coverage.__wrapped__(tuple(rig.cameras[0].array.ravel()), rig.cameras[0].size, rig.size)
    assert np.array_equal(first[0], fresh) and 0 < first[0].mean() < 1
    calls, erode = [], cv2.erode
    monkeypatch.setattr(cv2, "erode", lambda *a, **k: calls.append(a) or erode(*a, **k))
    again = Rig.from_json(rig.to_json())  # an equal rig (same hash, same JSON) finds the same mask
    assert again == rig and hash(again) == hash(rig) and again.to_json() == rig.to_json()
    assert again.seen()[0] is first[0] and rig.seen()[0] is first[0]
    rig.apply([np.full((H, W), 0.3, np.float32), np.full((H // 2, W // 2), 0.9, np.float32)])
    assert not calls
    with pytest.raises(ValueError):
        first[0][0, 0] = 1.0  # shared: read-only
    bigger = Rig((W * 2, H * 2), rig.cameras, rig.motion)  # another grid: its own mask
    assert bigger.seen()[0].shape == (H * 2, W * 2) and len(calls) == 1
