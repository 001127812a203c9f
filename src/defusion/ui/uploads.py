"""Decoding image uploads, a pair or a bracket/stack, and checking that they can be fused together.

Uploads are decoded by :func:`defusion.serving.decode.decode_image`, i.e. by exactly the rules of
:func:`defusion.io.images.read_image` (8/16-bit, EXIF orientation, alpha dropped, pixel bound
checked from the header); what cannot be fused as given (too large, different sizes) raises
:class:`~defusion.ui.errors.InputError` with a one-line message. Colour uploads of different ICC
profiles are brought into the first colour upload's, as ``defusion fuse`` brings its files'
(:func:`matched_colours`). Each upload's metadata (ICC profile, EXIF) is read once, there, and handed on
with the pixels (:class:`Decoded`) to the download that carries it
(:func:`~defusion.ui.image_output.png_bytes`), as ``defusion fuse`` hands its sources' on.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from defusion.fusion.rig import Rig, RigError
from defusion.io.icc import match_colour_spaces
from defusion.io.images import READ_SUFFIXES
from defusion.io.metadata import ImageMetadata, read_metadata
from defusion.io.notes import listed, note, warn
from defusion.io.resize import changes_aspect, describe_resize, resize_to_first, turned_quarter
from defusion.serving.decode import decode_image
from defusion.ui.errors import InputError
from defusion.ui.options import CALIBRATE_PAGE, RESIZE_CHOICE
from defusion.ui.settings import DEFAULT_UI_MAX_PIXELS
from defusion.ui.upload_names import PAIR_LABELS, in_name_order, name_images, told_apart

#: File types offered in the upload dialogue: every suffix ``defusion fuse`` reads (READ_SUFFIXES, so
#: a ``.jfif`` saved from a browser or a GIF is not refused; the decoder checks the content anyway).
UPLOAD_TYPES = [suffix[1:] for suffix in READ_SUFFIXES]
#: Most images one bracket or focus stack upload may hold (N images take N - 1 fusions).
MAX_STACK_IMAGES = 8
#: Bytes in an MB of the upload limit (--max-upload-mb), as Streamlit's own limit counts them (a MiB).
BYTES_PER_MB = 2**20


class Decoded(NamedTuple):
    """Uploads decoded to be fused: their ``images`` (colours in one profile: :func:`matched_colours`)
    and ``metadata``, each upload's read once, with the profile its pixels now have: what the fused
    image's download carries (:func:`~defusion.ui.image_output.png_bytes`), with no file read again."""

    images: list[np.ndarray]
    metadata: list[ImageMetadata]


def decode_pair(data_a: bytes, name_a: str, data_b: bytes, name_b: str,
                max_pixels: int = DEFAULT_UI_MAX_PIXELS,
                max_bytes: int | None = None, rig: Rig | None = None,
                resize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The two images of :func:`decode_pair_with_metadata`, without their metadata."""
    a, b = decode_pair_with_metadata(data_a, name_a, data_b, name_b, max_pixels, max_bytes, rig, resize).images
    return a, b


def decode_pair_with_metadata(data_a: bytes, name_a: str, data_b: bytes, name_b: str,
                              max_pixels: int = DEFAULT_UI_MAX_PIXELS, max_bytes: int | None = None,
                              rig: Rig | None = None, resize: bool = False) -> Decoded:
    """Decode two uploads and check that they can be fused together: one size (B of another size
    resized to A's with ``resize``, and noted: :func:`resized_to_first`), or with a camera ``rig``
    the sizes it was calibrated at (the rig maps B onto A: no resizing); their colours brought into
    one profile (:func:`matched_colours`), with their metadata as read for it."""
    for data, name in ((data_a, name_a), (data_b, name_b)):
        check_upload_size(data, name, max_bytes)
    a = decode_image(data_a, name_a, max_pixels)
    b = decode_image(data_b, name_b, max_pixels)
    name_a, name_b = told_apart([name_a, name_b])
    if rig is None and resize:
        a, b = resized_to_first([a, b], [name_a, name_b])
    elif rig is None:
        check_same_size(a, name_a, b, name_b, rig_hint=True)
    else:
        try:
            rig.check_images([a, b])
        except RigError as exc:  # "image 1 is 256x192, but ...": the page calls the images A and B
            raise InputError(f"camera rig: {name_images(str(exc), PAIR_LABELS)}") from None
    return Decoded(*matched_colours([a, b], [data_a, data_b], [name_a, name_b]))


def decode_stack(uploads: list[tuple[bytes, str]], max_pixels: int = DEFAULT_UI_MAX_PIXELS,
                 max_bytes: int | None = None, resize: bool = False) -> list[np.ndarray]:
    """The images of :func:`decode_stack_with_metadata`, without their metadata."""
    return decode_stack_with_metadata(uploads, max_pixels, max_bytes, resize).images


def decode_stack_with_metadata(uploads: list[tuple[bytes, str]], max_pixels: int = DEFAULT_UI_MAX_PIXELS,
                               max_bytes: int | None = None, resize: bool = False) -> Decoded:
    """Decode a bracket or focus stack uploaded as ``(data, file name)``, in natural file-name
    order (:func:`in_name_order`), and check that the images can be fused together: 2 to
    ``MAX_STACK_IMAGES`` of them, each within the bounds, one size (with ``resize``, the others
    resized to the first's: :func:`resized_to_first`), their colours brought into one profile
    (:func:`matched_colours`), with their metadata as read for it (in that order too)."""
    if not 2 <= len(uploads) <= MAX_STACK_IMAGES:
        raise InputError(f"{len(uploads)} image{'s' if len(uploads) != 1 else ''} given; a bracket or stack "
                         f"takes 2 to {MAX_STACK_IMAGES}")
    uploads = in_name_order(uploads)
    for data, name in uploads:
        check_upload_size(data, name, max_bytes)
    images = [decode_image(data, name, max_pixels) for data, name in uploads]
    names = told_apart([name for _, name in uploads])
    if resize:
        images = resized_to_first(images, names)
    else:
        turned = turned_advice(names, [image.shape[:2] for image in images])
        if turned:
            raise InputError(turned)
        for image, name in zip(images[1:], names[1:]):
            check_same_size(images[0], names[0], image, name)
    return Decoded(*matched_colours(images, [data for data, _ in uploads], names))


def matched_colours(images: list[np.ndarray], files: Sequence[bytes], names: Sequence[str]
                    ) -> tuple[list[np.ndarray], list[ImageMetadata]]:
    """``images`` (decoded from the uploaded ``files``, called ``names``) with the colour ones whose ICC
    profile differs from the first colour upload's converted to it, as ``defusion fuse`` converts its
    files (:func:`defusion.io.icc.match_colour_spaces`, which says so in one line, shown with what
    decoding said): mixed as raw numbers, a Display P3 upload beside an sRGB one would fuse into wrong
    colours; and each file's metadata (:func:`~defusion.io.metadata.read_metadata`), read once here, with
    the profile its pixels now have: the download carries it (:func:`~defusion.ui.image_output.png_bytes`),
    as ``defusion fuse``'s ``match_profiles`` hands its sources' on to the written image.

    Example:
        >>> from defusion.io.notes import collecting
        >>> grey = np.zeros((2, 2, 3), np.uint8)
        >>> with collecting() as said:
        ...     same, metadata = matched_colours([grey, grey], [b"", b""], ["a.png", "b.png"])
        >>> same[1] is grey, said, metadata[1]  # no colour source: nothing to convert, nothing said
        (True, [], ImageMetadata(icc_profile=None, exif=None, record=None))
    """
    return match_colour_spaces(images, [read_metadata(data) for data in files], names)


def check_upload_size(data: bytes, name: str, max_bytes: int | None) -> None:
    """Refuse an upload over ``max_bytes`` (None: no bound) before decoding it."""
    if max_bytes is not None and len(data) > max_bytes:
        raise InputError(f"{name}: {len(data) / BYTES_PER_MB:.1f} MB is over the upload limit of "
                         f"{max_bytes / BYTES_PER_MB:.0f} MB")


def check_same_size(a: np.ndarray, name_a: str, b: np.ndarray, name_b: str, rig_hint: bool = False) -> None:
    """Refuse images of different sizes, with the way out: turning one turned a quarter against the
    other (:func:`turned_advice`), else resizing one camera's shots and, with ``rig_hint`` (a pair,
    which takes a rig file), calibrating two cameras side by side."""
    if a.shape[:2] == b.shape[:2]:
        return
    turned = turned_advice([name_a, name_b], [a.shape[:2], b.shape[:2]])
    if turned:  # as defusion fuse refuses it: turning is the way out, not resizing nor a rig
        raise InputError(turned)
    rig = (f"; two cameras side by side (infrared + visible): calibrate them once on the *{CALIBRATE_PAGE}* "
           "page and upload its rig file" if rig_hint else "")
    raise InputError(f"the images differ in size: {name_a} is {a.shape[1]}x{a.shape[0]}, {name_b} is "
                     f"{b.shape[1]}x{b.shape[0]} (WxH); fusion needs registered images of one size: one "
                     f"camera's shots, tick *{RESIZE_CHOICE}* in the sidebar{rig}")


def turned_advice(names: Sequence[str], sizes: Sequence[tuple[int, int]]) -> str | None:
    """The refusal of images of which some are turned a quarter against the others
    (:func:`turned_quarter`: most often a shot the camera tagged as rotated, EXIF orientation,
    unlike the others), in ``defusion fuse``'s words; None where the sizes differ otherwise. Resizing
    would stretch such an image into a turned ghost, so it is not suggested.

    Example:
        >>> turned_advice(["a.png", "b.jpg"], [(106, 160), (160, 106)])[:60]
        'b.jpg is turned a quarter against a.png: read upright it is '
    """
    found = turned_quarter(sizes)
    if found is None:
        return None
    (h, w), turned = found
    others = [name for i, name in enumerate(names) if i not in turned]
    one = len(turned) == 1
    it = "it" if one else "them"
    return (f"{listed([names[i] for i in turned])} {'is' if one else 'are'} turned a quarter against "
            f"{listed(others)}: read upright {'it is' if one else 'they are'} {h}x{w}, "
            f"{others[0] if len(others) == 1 else 'the others'} {w}x{h} (WxH); turn {it} to match (or set "
            f"{'its' if one else 'their'} EXIF orientation tag to the others') and upload {it} again: "
            f"*{RESIZE_CHOICE}* would stretch {it}, not turn {it}")


def resized_to_first(images: list[np.ndarray], names: list[str]) -> list[np.ndarray]:
    """``images`` with the others resized to the first's size (:func:`defusion.io.resize.resize_to`,
    as ``defusion fuse --resize``), a note naming those resized and from what size, and a warning
    for each whose aspect ratio that changes (stretched, not cropped: :func:`aspect_warnings`)."""
    said = describe_resize(names, images)
    if said:
        note(f"{RESIZE_CHOICE}: {said}")
    for line in aspect_warnings(images, names):
        warn(line)
    return resize_to_first(images)


def aspect_warnings(images: Sequence[np.ndarray], names: Sequence[str]) -> list[str]:
    """One line per image that resizing to the first's size stretches to another aspect ratio (by
    more than :data:`~defusion.io.resize.ASPECT_TOLERANCE`, as ``defusion fuse --resize`` says it),
    saying when it is the first turned a quarter.

    Example:
        >>> aspect_warnings([np.zeros((30, 40)), np.zeros((15, 20)), np.zeros((40, 30))], ["a", "b", "c"])[0][:58]
        "Resize to the first image changes c's aspect ratio (from 3"
    """
    h, w = images[0].shape[:2]
    lines = []
    for name, image in zip(names[1:], images[1:]):
        ih, iw = image.shape[:2]
        if not changes_aspect(ih, iw, h, w):
            continue
        turned = (f"; it is turned a quarter against {names[0]}: untick it and turn {name} to match instead"
                  if (ih, iw) == (w, h) else "")
        lines.append(f"{RESIZE_CHOICE} changes {name}'s aspect ratio (from {iw}x{ih} to {w}x{h}, WxH): it is "
                     f"stretched, not cropped{turned}")
    return lines


__all__ = [
    "BYTES_PER_MB",
    "UPLOAD_TYPES", "MAX_STACK_IMAGES", "Decoded", "decode_pair", "decode_pair_with_metadata", "decode_stack",
    "decode_stack_with_metadata", "check_upload_size", "check_same_size", "turned_advice", "resized_to_first",
    "aspect_warnings", "matched_colours",
]
