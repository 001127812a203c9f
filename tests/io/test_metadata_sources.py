"""defusion.io.metadata: the EXIF of camera raw and TIFF sources, and EXIF too large for a JPEG.

A raw bracket once lost all EXIF (Pillow cannot open DNG/CR2/NEF and the miss was silent); a TIFF
source once passed its whole first directory on (sizes, strips, compression, tifffile's JSON
description, an ICC tag) as if it were EXIF; and a Lightroom TIFF's 90 KB XMP packet once made the
EXIF too large for a JPEG, which then went without any.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from defusion.io import notes
from defusion.io.images import write_image
from defusion.io.metadata import JPEG_EXIF_LIMIT, ImageMetadata, embed_metadata, read_metadata

MAKE, MODEL, ORIENTATION, SOFTWARE, DATE, ARTIST, COPYRIGHT = 271, 272, 274, 305, 306, 315, 33432
EXIF_IFD, GPS_IFD, XMP, ICC_TAG, DESCRIPTION = 0x8769, 0x8825, 700, 34675, 270
EXPOSURE, F_NUMBER, TAKEN, LENS_MODEL, MAKER_NOTE, USER_COMMENT = 0x829A, 0x829D, 0x9003, 0xA434, 0x927C, 0x9286
GPS_LATITUDE_REF = 1
#: Tags of a TIFF's first directory that say how its pixels are stored, not what the photograph is.
STRUCTURE_TAGS = (256, 257, 258, 259, 262, 273, 277, 278, 279, 282, 283, 284, 296)
DNG_VERSION, CFA_REPEAT, CFA_PATTERN, PHOTOMETRIC, CFA = 50706, 33421, 33422, 262, 32803
#: Bytes of a packet as large as Lightroom and Photoshop write (over a JPEG's 64 KB EXIF segment).
LARGE_PACKET = 90_000
LENS = "NIKKOR Z 24-70mm f/4 S"


def _tags(metadata_or_exif) -> Image.Exif:
    exif = metadata_or_exif.exif if isinstance(metadata_or_exif, ImageMetadata) else metadata_or_exif
    tags = Image.Exif()
    tags.load(exif.removeprefix(b"Exif\x00\x00"))
    return tags


def _tiff_bytes(ifd0: dict, details: dict | None = None, gps: dict | None = None) -> bytes:
    """A small RGB TIFF whose first directory holds the structure tags, ``ifd0`` and pointers to
    ``details`` (an EXIF sub-directory) and ``gps``, laid out as a camera's raw file is (TIFF/EP)."""
    h, w = 4, 6
    pixels = bytes(range(h * w * 3))
    exif = Image.Exif()
    exif.update({256: w, 257: h, 258: (8, 8, 8), 259: 1, 262: 2, 273: 0, 277: 3, 278: h, 279: len(pixels)})
    exif.update(ifd0)
    if details:
        exif.get_ifd(EXIF_IFD).update(details)
    if gps:
        exif.get_ifd(GPS_IFD).update(gps)
    return exif.tobytes()[len(b"Exif\x00\x00"):] + pixels  # StripOffsets 0: Pillow points it past the tags


def _camera_file(path, seconds: IFDRational = IFDRational(1, 250), mosaic: bool = True) -> bytes:
    """A raw file's header as a Nikon writes it: the camera's tags, structure and raw tags (a colour
    filter mosaic, which Pillow cannot open, unless not ``mosaic``: a TIFF), an XMP packet, and an EXIF
    sub-directory with the lens, the time and this shot's exposure."""
    ifd0 = {MAKE: "Nikon", MODEL: "Z6", DATE: "2026:05:01 10:00:00", ARTIST: "A. Photographer",
            COPYRIGHT: "(c) A. Photographer", SOFTWARE: "Ver.01.00", ORIENTATION: 6,
            DNG_VERSION: (1, 4, 0, 0), XMP: b"<x:xmpmeta/>"}
    if mosaic:
        ifd0.update({PHOTOMETRIC: CFA, CFA_REPEAT: (2, 2), CFA_PATTERN: (0, 1, 1, 2)})
    details = {LENS_MODEL: LENS, TAKEN: "2026:05:01 10:00:00", EXPOSURE: seconds, F_NUMBER: IFDRational(8)}
    data = _tiff_bytes(ifd0, details, {GPS_LATITUDE_REF: "N"})
    path.write_bytes(data)
    return data


def _assert_descriptive_only(tags: Image.Exif) -> None:
    for code in STRUCTURE_TAGS + (DESCRIPTION, ICC_TAG, XMP, DNG_VERSION, CFA_REPEAT, CFA_PATTERN):
        assert code not in tags, f"tag {code} describes the source file's storage, not the photograph"


# -- 1. camera raw files ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".NEF", ".dng", ".CR2", ".arw"])
def test_a_raw_files_exif_is_read_from_its_tiff_structure(tmp_path, suffix):
    _camera_file(tmp_path / f"shot{suffix}")
    meta = read_metadata(tmp_path / f"shot{suffix}")
    assert meta.icc_profile is None  # developed to sRGB: no profile of its own
    tags = _tags(meta)
    assert (tags[MAKE], tags[MODEL], tags[DATE]) == ("Nikon", "Z6", "2026:05:01 10:00:00")
    assert tags[ORIENTATION] == 1  # the developed pixels are upright
    assert tags.get_ifd(EXIF_IFD)[LENS_MODEL] == LENS and tags.get_ifd(EXIF_IFD)[TAKEN] == "2026:05:01 10:00:00"
    assert tags.get_ifd(GPS_IFD)[GPS_LATITUDE_REF] == "N"
    _assert_descriptive_only(tags)


@pytest.mark.parametrize(("suffix", "magic"), [(".ORF", b"RO"), (".RW2", b"U\x00")])
def test_raw_formats_with_their_own_tiff_magic_are_read(tmp_path, suffix, magic):
    """Olympus (IIRO) and Panasonic (IIU) change TIFF's 42 to their own number; the directories are TIFF's."""
    data = bytearray(_camera_file(tmp_path / "tiff"))
    data[2:4] = magic
    (tmp_path / f"shot{suffix}").write_bytes(bytes(data))
    assert _tags(read_metadata(tmp_path / f"shot{suffix}"))[MODEL] == "Z6"


def test_a_dng_as_a_camera_writes_it_gives_its_camera_and_date(tmp_path):
    pytest.importorskip("tifffile")
    from tests.io.raw_files import gradient_scene, write_dng

    path = write_dng(tmp_path / "IMG_300.DNG", gradient_scene(), taken="2026:05:01 19:00:00")
    tags = _tags(read_metadata(path))
    assert (tags[MAKE], tags[MODEL], tags[DATE]) == ("defusion", "test camera", "2026:05:01 19:00:00")
    _assert_descriptive_only(tags)


def test_a_fused_raw_bracket_carries_the_cameras_exif(tmp_path):
    """`defusion fuse --stacks rawcard --format jpg` once wrote no EXIF at all."""
    from defusion.cli.fuse.fusing import metadata_for

    paths = [tmp_path / f"IMG_30{i}.NEF" for i in range(3)]
    for path, seconds in zip(paths, (IFDRational(1, 1000), IFDRational(1, 250), IFDRational(1, 60))):
        _camera_file(path, seconds)
    fused = np.full((16, 24, 3), 128, np.uint8)
    for suffix in (".jpg", ".png", ".webp", ".tif"):
        out = tmp_path / f"fused{suffix}"
        write_image(out, fused, metadata=metadata_for(paths, fused, out))
        tags = _tags(read_metadata(out))
        assert (tags[MAKE], tags[MODEL], tags[DATE]) == ("Nikon", "Z6", "2026:05:01 10:00:00")
        _assert_descriptive_only(tags)
        if suffix != ".tif":  # a TIFF holds only its first directory's tags
            details = tags.get_ifd(EXIF_IFD)
            assert details[LENS_MODEL] == LENS and details[F_NUMBER] == 8
            assert EXPOSURE not in details  # the shots differ: the fused image claims none


def test_a_raw_file_that_cannot_be_parsed_takes_its_jpeg_twins_exif(tmp_path):
    """A camera that writes raw + JPEG puts the same EXIF in both; the JPEG is left out of a stack."""
    (tmp_path / "IMG_0001.CR3").write_bytes(b"\x00\x00\x00\x18ftypcrx " + bytes(200))  # not TIFF-based
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[ORIENTATION] = "Canon", "EOS R6", 8
    exif.get_ifd(EXIF_IFD)[LENS_MODEL] = "RF24-105mm F4 L IS USM"
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    Image.new("RGB", (8, 6)).save(tmp_path / "IMG_0001.JPG", exif=exif.tobytes(), icc_profile=profile)
    with notes.collecting() as said:
        meta = read_metadata(tmp_path / "IMG_0001.CR3")
    tags = _tags(meta)
    assert (tags[MAKE], tags[MODEL], tags[ORIENTATION]) == ("Canon", "EOS R6", 1)
    assert tags.get_ifd(EXIF_IFD)[LENS_MODEL] == "RF24-105mm F4 L IS USM"
    assert meta.icc_profile is None  # the JPEG's colour space is not the developed raw's
    assert said == []


def test_a_raf_gives_the_exif_of_the_jpeg_inside_it(tmp_path):
    """Fujifilm's RAF is no TIFF: its header points to a JPEG that carries the EXIF."""
    exif = Image.Exif()
    exif[MAKE], exif[MODEL] = "FUJIFILM", "X-T5"
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6)).save(buffer, "JPEG", exif=exif.tobytes())
    header = b"FUJIFILMCCD-RAW 0201FF129502X-T5".ljust(84, b"\x00")
    start = len(header) + 8 + 16
    data = header + struct.pack(">II", start, len(buffer.getvalue())) + bytes(16) + buffer.getvalue() + bytes(64)
    (tmp_path / "DSCF0001.RAF").write_bytes(data)
    assert _tags(read_metadata(tmp_path / "DSCF0001.RAF"))[MODEL] == "X-T5"


def test_raw_exif_that_cannot_be_read_is_said_once_and_never_raises(tmp_path):
    whole = _camera_file(tmp_path / "whole.nef")
    broken = {
        "junk.nef": b"\x00" * 400,
        "empty.dng": b"",
        "truncated.dng": whole[:40],  # the directory cut off
        "many.dng": b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 0xFFFF) + bytes(20),  # 65535 entries claimed
        "far.dng": b"II*\x00" + struct.pack("<I", 1 << 30) + bytes(32),  # first directory past the end
        "text.cr2": b"MM\x00*not a tiff at all",
        "short.raf": b"FUJIFILMCCD-RAW " + bytes(10),
    }
    for name, data in broken.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "folder.dng").mkdir()
    with notes.collecting() as said:
        for name in [*broken, "folder.dng", "missing.nef"]:
            meta = read_metadata(tmp_path / name)
            assert meta.icc_profile is None and (meta.exif is None or MAKE not in _tags(meta)), name
    assert len([line for line in said if ".DNG" in line]) == 1, said  # once per kind of raw file, not per file
    assert all(line.startswith("note: ") and "EXIF" in line for line in said)


def test_an_uploaded_raw_files_bytes_give_its_exif(tmp_path):
    """The server reads an upload's bytes (no name): a TIFF-based raw file is still read."""
    tags = _tags(read_metadata(_camera_file(tmp_path / "shot.nef")))  # a mosaic: no image Pillow opens
    assert tags[MAKE] == "Nikon" and tags.get_ifd(EXIF_IFD)[LENS_MODEL] == LENS
    _assert_descriptive_only(tags)


def _raf_bytes(model: str = "X-T5") -> bytes:
    """A Fujifilm RAF: its header points to a JPEG that carries the camera's EXIF."""
    exif = Image.Exif()
    exif[MAKE], exif[MODEL] = "FUJIFILM", model
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6)).save(buffer, "JPEG", exif=exif.tobytes())
    header = b"FUJIFILMCCD-RAW 0201FF129502X-T5".ljust(84, b"\x00")
    start = len(header) + 8 + 16
    return header + struct.pack(">II", start, len(buffer.getvalue())) + bytes(16) + buffer.getvalue() + bytes(64)


def test_an_uploaded_raf_files_bytes_give_its_exif():
    """Review: a RAF read from its bytes (an upload: no name, so no twin to look for) gave no EXIF;
    its magic is now looked for there too."""
    assert _tags(read_metadata(_raf_bytes("X-H2")))[MODEL] == "X-H2"
    assert read_metadata(b"FUJIFILMCCD-RAW " + bytes(10)).exif is None  # cut short: none, and no error


def test_a_corrupt_exif_block_installs_no_catch_all_warning_filter(tmp_path):
    """Review: a warnings.catch_warnings() around the raw-EXIF read (the server runs it in threads)
    could, racing another, leave an ignore-all filter for the whole process. Reading damaged EXIF now
    adds no filter at all, and a warning of the program's own still shows."""
    import warnings

    whole = _camera_file(tmp_path / "whole.nef")
    damaged = [whole[:40], b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", 0xFFFF) + bytes(20),
               b"IIRO" + whole[4:60]]
    with warnings.catch_warnings(record=True) as caught:  # the filters as they are
        before = list(warnings.filters)
        for data in damaged:
            read_metadata(data)
        added = [f for f in warnings.filters if f not in before]
        from PIL import Image

        exif = [f for f in added if f[2] is not Image.DecompressionBombWarning]  # io.formats' own, also narrow
        assert all(action == "ignore" and "EXIF" in message.pattern and module.pattern.startswith("PIL")
                   for action, message, _, module, _ in exif), added  # at most the one narrow filter
        read_metadata(damaged[0])
        assert len(warnings.filters) == len(before) + len(added)  # added once, not per read
        assert not [w for w in caught if "EXIF" in str(w.message)], [(str(w.message), w.filename) for w in caught]
        warnings.warn("still shown", UserWarning)
    assert [str(w.message) for w in caught] == ["still shown"]
    assert not any(action == "ignore" and message is None and category is Warning and module is None
                   for action, message, category, module, _ in warnings.filters)


# -- 2. TIFF sources ----------------------------------------------------------------------------------


def _tifffile_tiff(path, xmp: bytes | None = None) -> None:
    """A 16-bit TIFF as tifffile (and editors) write it: a JSON description, an ICC profile, the camera."""
    tifffile = pytest.importorskip("tifffile")
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tags = [(MAKE, "s", 0, "Canon", True), (MODEL, "s", 0, "EOS R6", True), (DATE, "s", 0, "2026:05:01 10:00:00", True),
            (COPYRIGHT, "s", 0, "(c) A. Photographer", True)]
    if xmp is not None:
        tags.append((XMP, "B", len(xmp), xmp, True))
    tifffile.imwrite(path, np.zeros((20, 30, 3), np.uint16), photometric="rgb", iccprofile=icc, extratags=tags)


def test_a_tiff_sources_exif_is_its_descriptive_tags_only(tmp_path):
    _tifffile_tiff(tmp_path / "DSC_0000.tif", xmp=b"<x:xmpmeta/>")
    meta = read_metadata(tmp_path / "DSC_0000.tif")
    assert meta.profile_space == "RGB"  # the profile still comes, as a profile
    tags = _tags(meta)
    assert (tags[MAKE], tags[MODEL], tags[DATE], tags[COPYRIGHT]) == ("Canon", "EOS R6", "2026:05:01 10:00:00",
                                                                       "(c) A. Photographer")
    assert tags[ORIENTATION] == 1
    _assert_descriptive_only(tags)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp"])
def test_an_image_fused_from_tiffs_claims_none_of_their_storage_tags(tmp_path, suffix):
    from defusion.cli.fuse.fusing import metadata_for

    paths = [tmp_path / f"DSC_000{i}.tif" for i in range(2)]
    for path in paths:
        _tifffile_tiff(path)
    fused = np.full((20, 30, 3), 128, np.uint8)
    out = tmp_path / f"fused{suffix}"
    write_image(out, fused, metadata=metadata_for(paths, fused, out))
    with Image.open(out) as im:
        tags = im.getexif()
        assert (im.size, tags[MAKE], tags[MODEL]) == ((30, 20), "Canon", "EOS R6")
        _assert_descriptive_only(tags)


def test_a_tiffs_exif_and_gps_sub_directories_come_as_a_jpegs_do(tmp_path):
    _camera_file(tmp_path / "scan.tif", mosaic=False)
    tags = _tags(read_metadata(tmp_path / "scan.tif"))
    assert tags.get_ifd(EXIF_IFD)[LENS_MODEL] == LENS and tags.get_ifd(GPS_IFD)[GPS_LATITUDE_REF] == "N"
    _assert_descriptive_only(tags)


# -- 3. EXIF too large for a JPEG ---------------------------------------------------------------------


def _encoded_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def _large_exif(ifd0: dict | None = None, details: dict | None = None) -> bytes:
    exif = Image.Exif()
    exif[MAKE], exif[MODEL], exif[DATE] = "Canon", "EOS R6", "2026:05:01 10:00:00"
    exif.update(ifd0 or {})
    exif.get_ifd(EXIF_IFD).update({LENS_MODEL: LENS, TAKEN: "2026:05:01 10:00:00", **(details or {})})
    return exif.tobytes()


def test_a_large_xmp_packet_and_maker_note_are_left_out_so_the_camera_fits_a_jpeg(tmp_path):
    exif = _large_exif({XMP: b"<x:xmpmeta>" + b" " * LARGE_PACKET + b"</x:xmpmeta>"},
                       {MAKER_NOTE: b"Nikon\x00" + bytes(LARGE_PACKET // 3)})
    assert len(exif) > JPEG_EXIF_LIMIT
    with notes.collecting() as said:
        data = embed_metadata(_encoded_jpeg(), ".jpg", ImageMetadata(exif=exif))
    with Image.open(io.BytesIO(data)) as im:
        tags = im.getexif()
        assert (tags[MAKE], tags[MODEL], tags[DATE]) == ("Canon", "EOS R6", "2026:05:01 10:00:00")
        details = tags.get_ifd(EXIF_IFD)
        assert details[LENS_MODEL] == LENS and details[TAKEN] == "2026:05:01 10:00:00"
        assert XMP not in tags and MAKER_NOTE not in details
    assert len(said) == 1 and "XMP" in said[0] and "MakerNote" in said[0], said


def test_a_large_comment_is_left_out_too_and_what_still_does_not_fit_is_said(tmp_path):
    comment = _large_exif(details={USER_COMMENT: b"ASCII\x00\x00\x00" + b"c" * LARGE_PACKET})
    with notes.collecting() as said:
        data = embed_metadata(_encoded_jpeg(), ".jpg", ImageMetadata(exif=comment))
    with Image.open(io.BytesIO(data)) as im:
        assert im.getexif()[MAKE] == "Canon" and im.getexif().get_ifd(EXIF_IFD)[LENS_MODEL] == LENS
    assert len(said) == 1
    artist = _large_exif({ARTIST: "a" * LARGE_PACKET})  # the camera's own tags too large: nothing fits
    with notes.collecting() as said:
        data = embed_metadata(_encoded_jpeg(), ".jpg", ImageMetadata(exif=artist))
    with Image.open(io.BytesIO(data)) as im:
        assert not im.getexif() and im.size == (8, 8)
    assert len(said) == 1 and "without EXIF" in said[0], said
    unparsed = b"Exif\x00\x00" + bytes(LARGE_PACKET)  # not TIFF bytes: nothing to trim
    with notes.collecting() as said:
        assert embed_metadata(_encoded_jpeg(), ".jpg", ImageMetadata(exif=unparsed)) == _encoded_jpeg()
    assert len(said) == 1


def test_a_lightroom_tiff_bracket_fused_to_jpeg_keeps_its_camera(tmp_path):
    """`defusion fuse lr/*.tif -o lr_f.jpg`: the 90 KB XMP packet once cost the JPEG all its EXIF."""
    from defusion.cli.fuse.fusing import metadata_for

    paths = [tmp_path / f"LR_{i}.tif" for i in range(3)]
    for path in paths:
        _tifffile_tiff(path, xmp=b"<x:xmpmeta>" + b" " * LARGE_PACKET + b"</x:xmpmeta>")
    fused = np.full((20, 30, 3), 128, np.uint8)
    out = tmp_path / "lr_f.jpg"
    write_image(out, fused, metadata=metadata_for(paths, fused, out))
    with Image.open(out) as im:
        assert (im.getexif()[MAKE], im.getexif()[MODEL]) == ("Canon", "EOS R6")


def test_a_png_sources_large_xmp_tag_does_not_cost_a_fused_jpeg_its_camera(tmp_path):
    from defusion.cli.fuse.fusing import metadata_for

    exif = _large_exif({XMP: b"<x:xmpmeta>" + b" " * LARGE_PACKET + b"</x:xmpmeta>"})
    paths = [tmp_path / f"edit_{i}.png" for i in range(2)]
    for path in paths:
        Image.new("RGB", (30, 20)).save(path, exif=exif)
    fused = np.full((20, 30, 3), 128, np.uint8)
    out = tmp_path / "fused.jpg"
    with notes.collecting():
        write_image(out, fused, metadata=metadata_for(paths, fused, out))
    with Image.open(out) as im:
        assert im.getexif()[MODEL] == "EOS R6" and im.getexif().get_ifd(EXIF_IFD)[LENS_MODEL] == LENS
