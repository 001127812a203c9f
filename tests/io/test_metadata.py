"""defusion.io.metadata: a source's colour profile and EXIF, carried into the fused PNG or JPEG."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms
from PIL.TiffImagePlugin import IFDRational

from defusion.io.images import read_image, write_image
from defusion.io.metadata import ImageMetadata, choose_metadata, embed_metadata, read_metadata

MAKE, DATE, ORIENTATION, EXPOSURE = 0x010F, 0x0132, 0x0112, 0x829A


def _rgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _grey_profile() -> bytes:
    profile = bytearray(_rgb_profile())
    profile[16:20] = b"GRAY"  # only the header's colour space is read
    return bytes(profile)


def _photo(path, orientation: int = 6, icc: bytes | None = None, size=(40, 30)) -> None:
    exif = Image.Exif()
    exif[MAKE], exif[DATE], exif[ORIENTATION] = "Canon", "2026:12:05 10:00:00", orientation
    exif.get_ifd(0x8769)[EXPOSURE] = (1, 100)
    rng = np.random.default_rng(0)
    im = Image.fromarray((rng.random((size[1], size[0], 3)) * 255).astype(np.uint8))
    im.save(path, exif=exif.tobytes(), icc_profile=icc or _rgb_profile())


def test_read_metadata_gives_the_profile_and_upright_exif(tmp_path):
    _photo(tmp_path / "a.jpg")
    meta = read_metadata(tmp_path / "a.jpg")
    assert meta.icc_profile == _rgb_profile() and meta.profile_space == "RGB"
    exif = Image.Exif()
    exif.load(meta.exif)
    assert exif[MAKE] == "Canon" and exif[ORIENTATION] == 1 and exif.get_ifd(0x8769)[EXPOSURE] == (1, 100)
    assert read_metadata(tmp_path / "missing.png") == ImageMetadata()
    (tmp_path / "bad.png").write_bytes(b"not an image")
    assert read_metadata(tmp_path / "bad.png") == ImageMetadata()


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_written_files_carry_the_metadata_and_the_same_pixels(tmp_path, suffix, dtype):
    _photo(tmp_path / "src.jpg")
    meta = read_metadata(tmp_path / "src.jpg")
    image = (np.random.default_rng(1).random((30, 40, 3)) * np.iinfo(dtype).max).astype(dtype)
    plain, tagged = tmp_path / f"plain{suffix}", tmp_path / f"tagged{suffix}"
    write_image(plain, image)
    write_image(tagged, image, metadata=meta)
    np.testing.assert_array_equal(read_image(tagged), read_image(plain))  # pixels untouched
    with Image.open(tagged) as im:
        assert im.info["icc_profile"] == meta.icc_profile
        assert im.getexif()[MAKE] == "Canon" and im.getexif()[ORIENTATION] == 1
    assert read_metadata(tagged) == meta  # what is written reads back the same


def test_a_lossy_webp_carries_the_metadata_at_the_quality_asked(tmp_path):
    """Metadata goes through Pillow's encoder: the quality must reach it, not fall back to lossless."""
    from tests.conftest import smooth_image

    _photo(tmp_path / "src.jpg")
    meta = read_metadata(tmp_path / "src.jpg")
    image = smooth_image(np.random.default_rng(3), 48, 64)
    lossless = write_image(tmp_path / "lossless.webp", image, metadata=meta)
    lossy = write_image(tmp_path / "lossy.webp", image, quality=50, metadata=meta)
    assert read_metadata(lossy) == meta
    out = read_image(lossy)
    assert lossy.stat().st_size < lossless.stat().st_size and not np.array_equal(out, image)
    assert 10 * np.log10(255 ** 2 / np.mean((out.astype(float) - image) ** 2)) > 28  # dB: close (31 measured)
    np.testing.assert_array_equal(read_image(lossless), image)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("channels", [1, 3])
def test_a_tiff_carries_the_profile_and_the_cameras_tags(tmp_path, dtype, channels):
    """16-bit TIFF, the photographer's editing format, once lost both."""
    _photo(tmp_path / "src.jpg")
    meta = read_metadata(tmp_path / "src.jpg")
    shape = (30, 40, 3) if channels == 3 else (30, 40)
    image = (np.random.default_rng(2).random(shape) * np.iinfo(dtype).max).astype(dtype)
    write_image(tmp_path / "plain.tif", image)
    write_image(tmp_path / "tagged.tif", image, metadata=meta)
    np.testing.assert_array_equal(read_image(tmp_path / "tagged.tif"), image)
    np.testing.assert_array_equal(read_image(tmp_path / "plain.tif"), image)
    back = read_metadata(tmp_path / "tagged.tif")
    assert back.icc_profile == meta.icc_profile
    tags = Image.Exif()
    tags.load(back.exif.removeprefix(b"Exif\x00\x00"))
    assert tags[MAKE] == "Canon" and tags[DATE] == "2026:12:05 10:00:00"


def test_a_large_profile_spans_several_jpeg_segments(tmp_path):
    big = _rgb_profile() + bytes(150_000)  # padding after a valid profile: 3 APP2 segments
    data = embed_metadata(_encoded_jpeg(), ".jpg", ImageMetadata(big))
    assert Image.open(io.BytesIO(data)).info["icc_profile"] == big


def _encoded_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def test_choose_metadata_fits_the_profile_to_the_output():
    rgb, grey = ImageMetadata(_rgb_profile(), b"Exif\x00\x00rgb"), ImageMetadata(_grey_profile(), b"Exif\x00\x00ir")
    assert choose_metadata([grey, rgb], colour=True) == ImageMetadata(rgb.icc_profile, grey.exif)  # first's EXIF
    assert choose_metadata([grey, rgb], colour=False) == ImageMetadata(grey.icc_profile, grey.exif)
    assert choose_metadata([ImageMetadata(), rgb], colour=False) == ImageMetadata()  # no grey profile to give
    assert embed_metadata(b"BM....", ".bmp", rgb) == b"BM...."  # formats without it: unchanged


SOFTWARE_TAG, MODEL, COPYRIGHT, EXIF_IFD = 0x0131, 0x0110, 0x8298, 0x8769
EXPOSURE_BIAS, F_NUMBER, ISO, LENS_MODEL = 0x9204, 0x829D, 0x8827, 0xA434


def _bracket_shot(path, seconds: IFDRational, bias: int, iso: int) -> None:
    """A small JPEG as one shot of a bracket: the camera's tags, and this shot's exposure."""
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[DATE] = "Canon", "EOS R5", "2026:12:05 10:00:00"
    exif[SOFTWARE_TAG], exif[COPYRIGHT] = "Firmware 1.8.1", "A. Photographer"
    details = exif.get_ifd(EXIF_IFD)
    details[EXPOSURE], details[EXPOSURE_BIAS], details[ISO] = seconds, IFDRational(bias), iso
    details[F_NUMBER], details[LENS_MODEL] = IFDRational(8), "RF24-70mm F2.8 L IS USM"  # the same in every shot
    Image.new("RGB", (24, 16), (90, 100, 110)).save(path, exif=exif.tobytes())


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif"])
def test_a_fused_bracket_claims_none_of_its_shots_exposures_and_names_defusion_its_software(tmp_path, suffix):
    """An exposure fusion once carried its first shot's 1/1000 s and the camera's Software tag."""
    from defusion.cli.fuse.fusing import metadata_for
    from defusion.io.metadata import SOFTWARE

    paths = [tmp_path / f"shot{i}.jpg" for i in range(3)]
    speeds = (IFDRational(1, 1000), IFDRational(1, 125), IFDRational(1, 15))
    for path, seconds, bias, iso in zip(paths, speeds, (-3, 0, 3), (100, 100, 200)):
        _bracket_shot(path, seconds, bias, iso)
    out = tmp_path / f"fused{suffix}"
    fused = np.full((16, 24, 3), 128, np.uint8)
    write_image(out, fused, metadata=metadata_for(paths, fused, out))  # as `defusion fuse` writes it
    tags = Image.Exif()
    tags.load(read_metadata(out).exif.removeprefix(b"Exif\x00\x00"))
    assert tags[SOFTWARE_TAG] == SOFTWARE and SOFTWARE.startswith("defusion ")
    assert (tags[MAKE], tags[MODEL], tags[DATE]) == ("Canon", "EOS R5", "2026:12:05 10:00:00")
    assert tags[COPYRIGHT] == "A. Photographer"
    if suffix != ".tif":  # a TIFF holds only its first directory's tags (TIFF_EXIF_TAGS)
        details = tags.get_ifd(EXIF_IFD)
        assert EXPOSURE not in details and EXPOSURE_BIAS not in details and ISO not in details  # they differ
        assert details[F_NUMBER] == 8 and details[LENS_MODEL] == "RF24-70mm F2.8 L IS USM"  # shared: kept


def test_choose_metadata_keeps_exposure_tags_the_sources_share_and_drops_ones_a_source_lacks():
    from defusion.io.metadata import EXPOSURE_TAGS

    assert {EXPOSURE, EXPOSURE_BIAS, F_NUMBER, ISO} <= set(EXPOSURE_TAGS)
    same = [ImageMetadata(exif=_exif_with({EXPOSURE: IFDRational(1, 60), F_NUMBER: IFDRational(4)})) for _ in range(2)]
    chosen = _details(choose_metadata(same, colour=True).exif)
    assert chosen[EXPOSURE] == pytest.approx(1 / 60) and chosen[F_NUMBER] == 4  # one exposure: kept
    unknown = [same[0], ImageMetadata(exif=_exif_with({F_NUMBER: IFDRational(4)})), ImageMetadata()]
    chosen = _details(choose_metadata(unknown, colour=True).exif)
    assert EXPOSURE not in chosen and F_NUMBER not in chosen  # not known to be shared
    assert choose_metadata([ImageMetadata(), same[0]], colour=True).exif is None  # no first EXIF: none made up


def _exif_with(details: dict) -> bytes:
    block = Image.Exif()
    block[MAKE] = "Nikon"
    block.get_ifd(EXIF_IFD).update(details)
    return block.tobytes()


def _details(exif: bytes) -> dict:
    block = Image.Exif()
    block.load(exif.removeprefix(b"Exif\x00\x00"))
    return block.get_ifd(EXIF_IFD)


GPS_IFD = 0x8825


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_a_fused_image_gains_no_sub_directory_its_sources_lack(tmp_path, suffix):
    """Sources without GPS once gave the fused image an empty GPS pointer (and, without an EXIF
    sub-directory, an empty one of those too)."""
    from defusion.cli.fuse.fusing import metadata_for

    with_details, camera_only = tmp_path / "details.jpg", tmp_path / "camera.jpg"
    _bracket_shot(with_details, IFDRational(1, 100), 0, 100)
    exif = Image.Exif()
    exif[MAKE] = "Canon"
    Image.new("RGB", (24, 16)).save(camera_only, exif=exif.tobytes())
    fused = np.full((16, 24, 3), 128, np.uint8)
    for paths, has_details in (([with_details] * 2, True), ([camera_only] * 2, False)):
        out = tmp_path / f"fused{suffix}"
        write_image(out, fused, metadata=metadata_for(paths, fused, out))
        tags = Image.Exif()
        tags.load(read_metadata(out).exif.removeprefix(b"Exif\x00\x00"))
        assert GPS_IFD not in tags and (EXIF_IFD in tags) == has_details
        assert tags[MAKE] == "Canon"
