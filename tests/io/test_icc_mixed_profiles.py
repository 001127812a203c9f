"""defusion.io.icc: colour sources of different ICC profiles brought into the first's before fusing.

Display P3 and Adobe RGB profiles are built here as ICC v2 matrix/TRC profiles from their published
primaries (no such profile ships with Pillow or littleCMS, and none may be fetched): their colorants
adapted to D50 by Bradford, as ICC profiles hold them; sRGB is littleCMS's own
(``ImageCms.createProfile("sRGB")``).
"""

from __future__ import annotations

import io
import struct
import sys

import numpy as np
import PIL
import pytest
from PIL import Image, ImageCms

from tests.conftest import smooth_image

from defusion.io import icc, notes
from defusion.io.icc import ProfileConversionError, convert_colours, match_colour_spaces, same_colour_space
from defusion.io.metadata import ImageMetadata

#: Display P3 (SMPTE EG 432-1, Apple's Display P3): DCI-P3 primaries, D65 white, sRGB's tone curve.
P3_PRIMARIES = ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))
#: Adobe RGB (1998), section 4.3.1.1: its primaries, D65 white, gamma 563/256 (its u8Fixed8 value).
ADOBE_PRIMARIES = ((0.640, 0.330), (0.210, 0.710), (0.150, 0.060))
ADOBE_GAMMA = 563 / 256
D65 = (0.3127, 0.3290)
D50_XYZ = (0.9642, 1.0, 0.8249)
#: Bradford's cone response matrix (ICC.1:2010, annex E).
BRADFORD = np.array([[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]])


def _s15(v: float) -> bytes:
    return struct.pack(">i", round(v * 65536))


def _xyz_tag(xyz) -> bytes:
    return b"XYZ " + bytes(4) + b"".join(_s15(v) for v in xyz)


def _colorants(primaries, white=D65) -> np.ndarray:
    """Columns red, green, blue as XYZ under D50 (Bradford-adapted from ``white``)."""
    xyz = lambda x, y: np.array([x / y, 1.0, (1 - x - y) / y])  # noqa: E731
    m = np.stack([xyz(*p) for p in primaries], axis=1)
    m = m * np.linalg.solve(m, xyz(*white))
    cone_src, cone_dst = BRADFORD @ xyz(*white), BRADFORD @ np.array(D50_XYZ)
    adapt = np.linalg.inv(BRADFORD) @ np.diag(cone_dst / cone_src) @ BRADFORD
    return adapt @ m


def matrix_profile(name: str, primaries, gamma: float | None = None) -> bytes:
    """An ICC v2 display profile: ``primaries`` and D65 white, the tone curve a pure ``gamma`` (curv)
    or, where None, sRGB's (para type 3)."""
    colorants = _colorants(primaries)
    if gamma is None:
        curve = b"para" + bytes(4) + struct.pack(">HH", 3, 0) + b"".join(
            _s15(v) for v in (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
    else:
        curve = b"curv" + bytes(4) + struct.pack(">IH", 1, round(gamma * 256))
    text = name.encode("ascii") + b"\x00"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(4 + 4 + 2 + 1 + 67)
    tags = [(b"desc", desc), (b"wtpt", _xyz_tag(D50_XYZ)), (b"cprt", b"text" + bytes(4) + b"none\x00"),
            *((sig, _xyz_tag(colorants[:, i])) for i, sig in enumerate((b"rXYZ", b"gXYZ", b"bXYZ"))),
            *((sig, curve) for sig in (b"rTRC", b"gTRC", b"bTRC"))]
    table, body = b"", b""
    start = 128 + 4 + 12 * len(tags)
    for sig, data in tags:
        data += bytes(-len(data) % 4)
        table += struct.pack(">4sII", sig, start + len(body), len(data))
        body += data
    size = start + len(body)
    header = bytearray(128)
    header[:24] = struct.pack(">I4sI4s4s4s", size, b"none", 0x02100000, b"mntr", b"RGB ", b"XYZ ")
    header[36:40] = b"acsp"
    header[68:80] = b"".join(_s15(v) for v in D50_XYZ)
    return bytes(header) + struct.pack(">I", len(tags)) + table + body


P3 = matrix_profile("Display P3", P3_PRIMARIES)
ADOBE = matrix_profile("Adobe RGB (1998)", ADOBE_PRIMARIES, ADOBE_GAMMA)
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def tagged_png(pixels: np.ndarray, icc: bytes | None = None) -> bytes:
    """A PNG file's bytes of ``pixels``, carrying the profile ``icc`` (None: untagged): an upload."""
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", **({"icc_profile": icc} if icc else {}))
    return buffer.getvalue()


def bracket(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """An under- and an over-exposed colour shot of one smooth scene, ``h`` x ``w``."""
    base = smooth_image(np.random.default_rng(0), h, w).astype(float)
    return np.clip(base * 0.5, 0, 255).astype(np.uint8), np.clip(base * 1.4 + 30, 0, 255).astype(np.uint8)


def _photo(rng, h=24, w=32) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_profiles_built_here_are_what_littlecms_reads():
    p3 = ImageCms.ImageCmsProfile(ImageCms.core.profile_frombytes(P3)).profile
    assert p3.profile_description == "Display P3" and p3.is_matrix_shaper
    assert np.allclose(p3.red_colorant[0], (0.5151, 0.2412, -0.0011), atol=2e-4)  # Apple's Display P3 profile's rXYZ


def test_an_untagged_and_an_srgb_tagged_image_are_in_one_space_and_p3_and_adobe_are_not():
    assert same_colour_space(None, SRGB) and same_colour_space(SRGB, None)
    assert same_colour_space(P3, matrix_profile("Display P3 (another maker)", P3_PRIMARIES))  # by colorants and curves
    assert not same_colour_space(None, P3) and not same_colour_space(SRGB, ADOBE) and not same_colour_space(ADOBE, P3)
    # the same primaries with another tone curve: another space
    assert not same_colour_space(matrix_profile("P3 a", P3_PRIMARIES), matrix_profile("P3 b", P3_PRIMARIES, 1.8))


def test_eight_bit_colour_is_converted_by_littlecms():
    image = _photo(np.random.default_rng(1))
    expected = ImageCms.profileToProfile(Image.fromarray(image), ImageCms.core.profile_frombytes(P3),
                                         ImageCms.createProfile("sRGB"),
                                         renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
    assert np.array_equal(convert_colours(image, P3, None), np.asarray(expected))


@pytest.mark.parametrize(("source", "target"), [(None, P3), (P3, None), (ADOBE, P3), (P3, ADOBE)])
def test_sixteen_bit_colour_stays_sixteen_bit_and_agrees_with_littlecms(source, target):
    image = _photo(np.random.default_rng(2))
    eight = convert_colours(image, source, target).astype(float)
    sixteen = convert_colours(image.astype(np.uint16) * 257, source, target)
    assert sixteen.dtype == np.uint16
    assert np.abs(sixteen / 257 - eight).max() <= 2  # littleCMS's 8-bit tables interpolate: within 2 levels
    assert np.abs(sixteen / 257 - eight).mean() < 0.5


def test_sixteen_bit_colour_keeps_its_sixteen_bits():
    image = np.random.default_rng(3).integers(0, 65536, (32, 32, 3), dtype=np.uint16)
    assert np.array_equal(convert_colours(image, ADOBE, matrix_profile("Adobe again", ADOBE_PRIMARIES, ADOBE_GAMMA)),
                          image)  # no 8-bit step anywhere: every code comes back
    there_and_back = convert_colours(convert_colours(image, None, P3), P3, None).astype(int)  # sRGB is inside P3
    error = np.abs(there_and_back - image)
    assert error.max() <= 8 and error.mean() < 1  # 16-bit codes: an 8-bit step would cost up to 128 of them


def test_an_untagged_image_and_a_p3_one_are_fused_in_srgb_and_said_once():
    rng = np.random.default_rng(4)
    images = [_photo(rng), _photo(rng)]
    with notes.collecting() as said:
        converted, meta = match_colour_spaces(images, [ImageMetadata(), ImageMetadata(P3, b"exif")],
                                              ["u_srgb.png", "o_p3.png"])
    assert said == ["note: o_p3.png (Display P3) converted to sRGB, the colour space of u_srgb.png (the first "
                    "colour image, untagged), which the fused image takes"]
    assert converted[0] is images[0] and np.array_equal(converted[1], convert_colours(images[1], P3, None))
    assert meta == [ImageMetadata(), ImageMetadata(None, b"exif")]  # the output is not tagged Display P3


def test_an_adobe_and_a_p3_image_are_fused_in_adobe_rgb():
    rng = np.random.default_rng(5)
    images = [_photo(rng), _photo(rng), _photo(rng)]
    with notes.collecting() as said:
        converted, meta = match_colour_spaces(images, [ImageMetadata(ADOBE), ImageMetadata(P3), ImageMetadata()],
                                              ["u_adobe.png", "o_p3.png", "n.png"])
    assert said == ["note: o_p3.png (Display P3), n.png (sRGB, untagged) converted to Adobe RGB (1998), the profile "
                    "of u_adobe.png (the first colour image), which the fused image carries"]
    assert [m.icc_profile for m in meta] == [ADOBE, ADOBE, ADOBE]
    assert np.array_equal(converted[2], convert_colours(images[2], None, ADOBE))


def test_sources_in_one_space_and_grey_sources_are_left_alone():
    rng = np.random.default_rng(6)
    grey = rng.integers(0, 256, (24, 32), dtype=np.uint8)
    grey_profile = bytearray(SRGB)
    grey_profile[16:20] = b"GRAY"
    images = [grey, _photo(rng), _photo(rng)]
    sources = [ImageMetadata(bytes(grey_profile)), ImageMetadata(), ImageMetadata(SRGB)]
    with notes.collecting() as said:
        converted, meta = match_colour_spaces(images, sources, ["ir.png", "a.png", "b.png"])
    assert said == [] and all(c is i for c, i in zip(converted, images)) and meta == sources


def test_a_broken_profile_is_warned_of_in_one_line_and_fused_as_it_is():
    rng = np.random.default_rng(7)
    broken = SRGB[:16] + b"RGB " + bytes(200)  # an RGB header, nothing a CMS can read after it
    images = [_photo(rng), _photo(rng)]
    with notes.collecting() as said:
        converted, meta = match_colour_spaces(images, [ImageMetadata(P3), ImageMetadata(broken)], ["a.png", "b.png"])
    assert len(said) == 1 and "\n" not in said[0]
    assert said[0].startswith("warning: b.png (an unnamed profile) cannot be converted to Display P3, the colour "
                              "space of a.png (littleCMS cannot use the profiles")
    assert said[0].endswith("the fused colours mix two colour spaces; convert the sources to one profile first")
    assert converted[1] is images[1] and meta[1].icc_profile == P3  # the output carries the first's, as said


def test_without_littlecms_eight_bit_colour_is_warned_of_and_sixteen_bit_still_converted(monkeypatch):
    rng = np.random.default_rng(8)
    monkeypatch.setitem(sys.modules, "PIL.ImageCms", None)  # a Pillow built without littleCMS
    monkeypatch.delattr(PIL, "ImageCms", raising=False)
    eight = [_photo(rng), _photo(rng)]
    with notes.collecting() as said:
        converted, _ = match_colour_spaces(eight, [ImageMetadata(), ImageMetadata(P3)], ["a.png", "b.png"])
    assert said == ["warning: b.png (Display P3) cannot be converted to sRGB, the colour space of a.png (this Pillow "
                    "has no littleCMS, which converts 8-bit colours): the fused colours mix two colour spaces; "
                    "convert the sources to one profile first"]
    assert converted[1] is eight[1]
    sixteen = [image.astype(np.uint16) * 257 for image in eight]
    with notes.collecting() as said:
        converted, _ = match_colour_spaces(sixteen, [ImageMetadata(), ImageMetadata(P3)], ["a.png", "b.png"])
    assert said[0].startswith("note: b.png (Display P3) converted to sRGB") and converted[1].dtype == np.uint16


def test_sixteen_bit_colour_with_a_lut_profile_is_warned_of():
    lut_like = P3.replace(b"rTRC", b"A2B0")  # no red curve: not a matrix/TRC profile
    images = [np.full((4, 4, 3), (9000, 30000, 50000), np.uint16) for _ in range(2)]
    with notes.collecting() as said:
        match_colour_spaces(images, [ImageMetadata(), ImageMetadata(lut_like)], ["a.tif", "b.tif"])
    assert len(said) == 1 and "16-bit colour is converted from matrix/TRC profiles only" in said[0]
    with pytest.raises(ProfileConversionError, match="only RGB images"):
        convert_colours(np.zeros((4, 4), np.uint8), None, P3)


def test_without_a_profile_carried_every_colour_source_is_made_srgb():
    """A review: with --no-metadata the sources were converted into the first's profile (P3 numbers) and
    written untagged, which viewers read as sRGB: the untagged sRGB source's part came out wrong."""
    rng = np.random.default_rng(9)
    photos = [_photo(rng), _photo(rng)]
    with notes.collecting() as said:
        images, meta = match_colour_spaces(photos, [ImageMetadata(ADOBE), ImageMetadata(P3)], ["a", "b"],
                                           carried=False)
    assert said == ["note: a (Adobe RGB (1998)), b (Display P3) converted to sRGB, as the fused image is "
                    "written without a profile (--no-metadata), which is read as sRGB"]
    assert np.array_equal(images[0], convert_colours(photos[0], ADOBE, None))
    assert [m.icc_profile for m in meta] == [None, None]
    untagged = [_photo(rng), _photo(rng)]
    assert np.array_equal(match_colour_spaces(untagged, [ImageMetadata(), ImageMetadata()], ["a", "b"],
                                              carried=False)[0][1], untagged[1])  # sRGB already: as it is


def test_a_grey_image_stored_as_rgb_is_no_colour_source():
    """A review: a grey infrared frame in three channels, given first, made a Display P3 photo be converted
    to sRGB (its space taken for the untagged grey image's)."""
    rng = np.random.default_rng(3)
    grey = np.repeat(_photo(rng)[..., :1], 3, axis=2)
    photo = _photo(rng)
    with notes.collecting() as said:
        images, meta = match_colour_spaces([grey, photo], [ImageMetadata(), ImageMetadata(P3)], ["ir", "vis"])
    assert said == [] and np.array_equal(images[1], photo) and meta[1].icc_profile == P3


def test_a_source_that_cannot_be_converted_does_not_give_the_output_its_profile():
    """A review: the warning named the first image's space, but the output took the failed source's profile."""
    lut_like = P3.replace(b"rTRC", b"A2B0")  # 16-bit colour is converted from matrix/TRC profiles only
    images = [np.full((4, 4, 3), (9000, 30000, 50000), np.uint16) for _ in range(2)]
    with notes.collecting() as said:
        _, meta = match_colour_spaces(images, [ImageMetadata(), ImageMetadata(lut_like)], ["a", "b"])
    assert len(said) == 1 and said[0].startswith("warning: b (") and meta[1].icc_profile is None


def test_profile_names_come_from_v2_and_v4_descriptions():
    assert icc.profile_name(P3) == "Display P3" and icc.profile_name(SRGB) == "sRGB built-in"
    text = "Display P3 v4".encode("utf-16-be")
    mluc = b"mluc" + bytes(4) + struct.pack(">II", 1, 12) + b"enUS" + struct.pack(">II", len(text), 28) + text
    assert icc.profile_name(_with_tag(P3, b"desc", mluc)) == "Display P3 v4"
    assert icc.profile_name(None) == "sRGB"
    assert icc.profile_name(_with_tag(P3, b"desc", b"junk")) == "an unnamed profile"


def _with_tag(profile: bytes, signature: bytes, data: bytes) -> bytes:
    """``profile`` with its tag ``signature`` pointing at ``data``, appended."""
    count = struct.unpack(">I", profile[128:132])[0]
    out = bytearray(profile)
    for n in range(count):
        at = 132 + 12 * n
        if out[at:at + 4] == signature:
            out[at + 4:at + 12] = struct.pack(">II", len(profile), len(data))
    return bytes(out) + data


def test_srgb_red_lies_inside_display_p3_and_is_converted_there_at_sixteen_bits():
    """sRGB's red in Display P3: (0.918, 0.200, 0.139) of full scale, by the published sRGB-to-P3 matrix
    and sRGB's tone curve, no channel clipped."""
    red = convert_colours(np.array([[[65535, 0, 0]]], np.uint16), None, P3)[0, 0]
    assert np.abs(red.astype(int) - np.array([60130, 13124, 9100])).max() <= 40  # colorant rounding: under 0.1%


def test_files_of_two_spaces_are_read_into_the_first_colour_ones(tmp_path):
    """read_matched: the images as defusion fuse reads them, a Display P3 file's pixels converted into the
    untagged (sRGB) first's and its metadata left untagged, said in one note."""
    from defusion.io.icc import read_matched

    Image.new("RGB", (4, 4), (200, 40, 40)).save(tmp_path / "a.png")
    Image.new("RGB", (4, 4), (200, 40, 40)).save(tmp_path / "b.png", icc_profile=P3)
    with notes.collecting() as said:
        images, metadata = read_matched([tmp_path / "a.png", tmp_path / "b.png"])
    assert said == ["note: b.png (Display P3) converted to sRGB, the colour space of a.png (the first colour image, "
                    "untagged), which the fused image takes"]
    assert np.array_equal(images[1], convert_colours(np.full((4, 4, 3), (200, 40, 40), np.uint8), P3, None))
    assert images[1][0, 0].tolist() != [200, 40, 40] and metadata[1].icc_profile is None


def test_matched_metadata_is_what_matching_gives_without_converting_or_saying():
    """matched_metadata: the profiles the sources have once matched (an untagged second colour image takes
    the first's Display P3), as match_colour_spaces gives them, with nothing said."""
    from defusion.io.icc import matched_metadata

    images = [np.full((2, 2, 3), (200, 40, 40), np.uint8), np.full((2, 2, 3), (200, 40, 40), np.uint8)]
    sources = [ImageMetadata(P3), ImageMetadata()]
    with notes.collecting() as said:
        metadata = matched_metadata(images, sources)
    assert said == [] and [m.icc_profile for m in metadata] == [P3, P3]
    with notes.collecting():
        assert metadata == match_colour_spaces(images, sources, ["a", "b"])[1]
