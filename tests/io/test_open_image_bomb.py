"""Pillow's DecompressionBombWarning (four lines on stderr, one of them Pillow's source) leaked for JPEGs
over its bound (89.5 MP) where a file was opened for its EXIF before reading set the bound: every opener
goes through :func:`defusion.io.formats.open_image`, which leaves the telling to defusion's own bound.
Pillow's bound is lowered here, so that a tiny image is over it."""

from __future__ import annotations

import threading
import warnings

import pytest
from PIL import Image

from defusion.io.formats import open_image
from defusion.io.metadata import read_metadata
from defusion.io.shots import _exif_tags, read_shot, shot_settings

#: The test image's side: 144 pixels, over the lowered bound of 100 but under twice it (Pillow's error).
SIDE = 12
LOWERED_BOUND = 100


@pytest.fixture
def big_jpeg(tmp_path, monkeypatch):
    path = tmp_path / "big.jpg"
    exif = Image.Exif()
    exif[0x0112] = 1  # orientation: an EXIF block to read
    Image.new("RGB", (SIDE, SIDE)).save(path, exif=exif)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", LOWERED_BOUND)
    return path


def _bomb_warnings(read) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read()
    return [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


@pytest.mark.parametrize("read", [lambda p: open_image(p).close(), _exif_tags, read_shot, shot_settings,
                                  read_metadata], ids=["open_image", "exif_tags", "read_shot", "shot_settings",
                                                       "read_metadata"])
def test_opening_an_image_over_pillows_bound_does_not_warn(big_jpeg, read):
    assert _bomb_warnings(lambda: read(big_jpeg)) == []


def test_the_exif_is_still_read(big_jpeg):
    assert _exif_tags(big_jpeg)[0].get(0x0112) == 1


def test_twice_pillows_bound_is_still_refused(big_jpeg, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", SIDE * SIDE // 3)
    with pytest.raises(Image.DecompressionBombError):
        open_image(big_jpeg)


def test_other_warnings_are_left_alone_and_the_filter_is_added_once(big_jpeg):
    """Only Pillow's bomb warning is quieted, by one filter added once (a catch_warnings() around each
    open raced the server's threads and could leave an ignore-all filter installed)."""
    open_image(big_jpeg).close()
    before = list(warnings.filters)
    open_image(big_jpeg).close()
    assert warnings.filters == before  # the second open adds nothing
    ours = [f for f in warnings.filters if f[2] is Image.DecompressionBombWarning]
    assert len(ours) == 1 and ours[0][0] == "ignore" and ours[0][3].pattern == r"PIL\.Image\Z"
    assert not any(f[0] == "ignore" and f[2] is Warning and f[1] is None for f in warnings.filters)
    with pytest.warns(UserWarning, match="still said"):
        warnings.warn("still said", UserWarning)


def test_threads_opening_at_once_add_no_ignore_all_filter(big_jpeg):
    """From a state without the filter, threads started together: at most the bomb filter is added
    (a duplicate from the check-then-insert race is harmless), never an ignore-all one, and nothing else
    of the filters changes (a catch_warnings() per open, racing, left ignore-all installed)."""
    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.simplefilter("default")
        before = list(warnings.filters)
        start = threading.Event()

        def opens() -> None:
            start.wait()
            for _ in range(50):
                open_image(big_jpeg).close()

        threads = [threading.Thread(target=opens) for _ in range(4)]
        for t in threads:
            t.start()
        start.set()
        for t in threads:
            t.join()
        added = [f for f in warnings.filters if f not in before]
        narrow = [f for f in added if f[2] is Image.DecompressionBombWarning or "EXIF" in getattr(f[1], "pattern", "")]
        assert added and narrow == added and all(f[0] == "ignore" for f in added)  # io.formats' two, no wider
        assert [f for f in warnings.filters if f in before] == before


def test_an_applications_own_filter_for_the_warning_is_kept(big_jpeg):
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(Image.DecompressionBombWarning):
            open_image(big_jpeg)
