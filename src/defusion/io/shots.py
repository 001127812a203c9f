"""A folder of shots split into the brackets or focus stacks they were taken as.

A photographer's card holds brackets one after another (IMG_0001-0003 one scene's exposures,
IMG_0004-0006 the next's), and a focus-bracketing camera writes stacks the same way. Shots of one
bracket follow each other within a second or so; between scenes the photographer pauses to
recompose. :func:`group_by_time` splits a folder at those pauses, from each shot's EXIF capture
time (and exposure time: a long exposure's bracket has long gaps between shutter presses), and
:func:`group_by_count` into runs of a fixed size (the camera's bracket size) where there is no
EXIF. Within a group the shots keep their capture order, a focus stack's focal order.
"""

from __future__ import annotations

import io
import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, Sequence

from defusion.errors import DefusionError
from defusion.io.formats import open_image
from defusion.io.heif import HEIF_SUFFIXES, register_heif
from defusion.io.images import READ_FORMATS, READ_SUFFIXES
from defusion.io.metadata import header_exif
from defusion.io.notes import listed, note, plural, warn
from defusion.io.probes import header_size, opens_as_image
from defusion.io.raw import is_raw, raw_capture, raw_size

#: Files taken as shots: every image format defusion reads, phones' HEIC and cameras' raw files included.
SHOT_SUFFIXES = READ_SUFFIXES
#: A new group starts after a pause of more than this many seconds between one shot's end
#: (its capture time plus its exposure time) and the next one's capture time.
DEFAULT_GAP_S = 2.0
#: Exposure times at least this many stops apart make shots an exposure bracket (with differing
#: exposure biases): a camera metering each shot of a focus stack itself varies them by less.
BRACKET_STOPS = 0.5
#: How many levels below a folder without images :func:`image_subfolders` looks for them (a
#: camera card's DCIM/100CANON is 2).
SUBFOLDER_DEPTH = 3
_EXIF_IFD = 0x8769
_DATETIME, _DATETIME_ORIGINAL, _SUBSEC_ORIGINAL, _EXPOSURE_TIME = 0x0132, 0x9003, 0x9291, 0x829A
_EXPOSURE_BIAS, _ORIENTATION = 0x9204, 0x0112
_MAKE, _MODEL = 0x010F, 0x0110


class ShotsError(DefusionError, ValueError):
    """A folder that cannot be split into groups as asked (no shots, no capture times, ...)."""


class Shot(NamedTuple):
    """A file and when it was taken (None without EXIF), with its exposure time in seconds (0 unknown);
    ``readable`` is False for a file that does not open as an image."""

    path: Path
    taken: datetime | None
    exposure_s: float = 0.0
    readable: bool = True


def natural_key(path: Path) -> tuple[list, str]:
    """Sort key of a file manager's order: IMG_2 before IMG_10, and a name before its numbered copies
    (focus.png, focus2.png; IMG_1.jpg, IMG_1 (1).jpg): the name without its image suffix is compared
    first (a folder's "trip 1.10" keeps its whole name: its dot is no suffix's).

    Example:
        >>> [p.name for p in sorted([Path("IMG_10.jpg"), Path("IMG_2.jpg")], key=natural_key)]
        ['IMG_2.jpg', 'IMG_10.jpg']
        >>> [p.name for p in sorted(map(Path, ["focus3.png", "focus.png", "focus2.png"]), key=natural_key)]
        ['focus.png', 'focus2.png', 'focus3.png']
        >>> [p.name for p in sorted(map(Path, ["trip 1.10", "trip 1.9"]), key=natural_key)]
        ['trip 1.9', 'trip 1.10']
    """
    suffix = path.suffix.lower() if path.suffix.lower() in SHOT_SUFFIXES else ""
    stem = path.name[:len(path.name) - len(suffix)]
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", stem)], suffix


def is_hidden(path: Path) -> bool:
    """Whether ``path`` is a hidden file (its name starts with '.'): system files such as the ``._IMG_0001.jpg``
    macOS writes beside each file it copies onto a card, never a user's image.

    Example:
        >>> is_hidden(Path("card/._IMG_0001.jpg")), is_hidden(Path("card/IMG_0001.jpg"))
        (True, False)
    """
    return path.name.startswith(".")


def visible_images(folder: Path, what: str) -> tuple[list[Path], list[Path]]:
    """The files with an image suffix directly in ``folder``, in natural name order, and the hidden
    ones (:func:`is_hidden`) left out of them, said so once: system files, not ``what`` (shots, frames)."""
    found = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SHOT_SUFFIXES), key=natural_key)
    hidden = [p for p in found if is_hidden(p)]
    if hidden:
        note(f"{len(hidden)} hidden file{'s' if len(hidden) > 1 else ''} in {folder} left out "
             f"({listed([p.name for p in hidden])}): names starting with '.' are system files (macOS writes ._ "
             f"files beside copies), not {what}")
    return [p for p in found if not is_hidden(p)], hidden


def list_shots(folder: str | Path) -> list[Path]:
    """The image files directly in ``folder``, in natural name order; ShotsError if there is none.

    Hidden files (:func:`is_hidden`) and files that do not open as images (junk, zero bytes) are left
    out, and said so: counted as shots they would shift every later group of :func:`group_by_count`.
    A camera shooting raw + JPEG writes each shot twice: the JPEG beside a raw file of the same
    name is left out (the raw file holds more of the scene's range). See :func:`raw_twins`."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ShotsError(f"{folder} is not a folder")
    found, hidden = visible_images(folder, "shots")
    broken = [p for p in found if not opens_as_image(p)]
    for path in broken:
        warn(f"{path.name}: not an image (or a broken one); left out")
    images = [p for p in found if p not in broken]
    left_out = {*hidden, *broken}
    twins = set(raw_twins(images))
    shots = [p for p in images if p not in twins]
    if not shots:
        raise ShotsError(f"no images in {folder} " + (f"but the {len(left_out)} left out above" if left_out else
                                                      f"(defusion reads {READ_FORMATS})")
                         + _subfolders_hint(folder))
    return shots


def image_subfolders(folder: str | Path, depth: int = SUBFOLDER_DEPTH) -> list[tuple[Path, int]]:
    """The folders below ``folder`` (up to ``depth`` levels, hidden ones and links left out) that hold
    image files directly, with how many, in natural name order: where a camera card keeps its shots
    (``DCIM/100CANON``), for a folder of none to point at.

    Example:
        >>> import tempfile
        >>> card = Path(tempfile.mkdtemp())
        >>> (card / "DCIM" / "100CANON").mkdir(parents=True)
        >>> for name in ("IMG_1.JPG", "IMG_2.JPG", "notes.txt"):
        ...     _ = (card / "DCIM" / "100CANON" / name).write_bytes(b"")
        >>> [(str(p.relative_to(card)), n) for p, n in image_subfolders(card)]
        [('DCIM/100CANON', 2)]
    """
    found: list[tuple[Path, int]] = []
    level = [Path(folder)]
    for _ in range(depth):
        level = sorted((d for parent in level for d in _entries(parent)
                        if d.is_dir() and not d.is_symlink() and not is_hidden(d)), key=natural_key)
        for sub in level:
            count = sum(p.is_file() and not is_hidden(p) and p.suffix.lower() in SHOT_SUFFIXES for p in _entries(sub))
            if count:
                found.append((sub, count))
    return found


def _entries(folder: Path) -> list[Path]:
    """What ``folder`` holds; nothing where it cannot be listed (no permission)."""
    try:
        return list(folder.iterdir())
    except OSError:
        return []


def _subfolders_hint(folder: Path) -> str:
    """For a folder without images: which of its subfolders hold some (not searched), to give instead."""
    found = image_subfolders(folder)
    if not found:
        return ""
    if len(found) == 1:
        sub, count = found[0]
        return (f"; its subfolder {sub.relative_to(folder)} holds {plural(count, 'image')} (subfolders are not "
                f"searched): point at that folder instead, {sub}")
    named = listed([f"{sub.relative_to(folder)} ({count})" for sub, count in found])
    return (f"; its subfolders {named} hold images (subfolders are not searched): point at one of them "
            f"instead, such as {found[0][0]}")


def raw_twins(paths: Sequence[Path]) -> list[Path]:
    """The files among ``paths`` that another, raw file of the same stem stands for (a camera's
    raw + JPEG pairs).

    Example:
        >>> [p.name for p in raw_twins([Path("IMG_1.CR2"), Path("IMG_1.JPG"), Path("IMG_2.JPG")])]
        ['IMG_1.JPG']
    """
    raw_stems = {p.stem for p in paths if is_raw(p)}
    return [p for p in paths if not is_raw(p) and p.stem in raw_stems]


def read_shot(path: str | Path) -> Shot:
    """When ``path`` was taken (EXIF DateTimeOriginal with its sub-seconds, in the EXIF sub-directory or,
    as defusion's fused TIFFs hold it, the first; else DateTime) and for how
    long it was exposed; None and 0 where its header does not say (or cannot be read). Nothing is
    decoded: a PNG's eXIf chunk after its pixels is read past them (:func:`~defusion.io.metadata.header_exif`)."""
    path = Path(path)
    if is_raw(path):  # LibRaw reads the maker's header (Pillow cannot open most raw files)
        return Shot(path, *raw_capture(path))
    if path.suffix.lower() in HEIF_SUFFIXES:
        register_heif()
    try:
        with open_image(path) as im:
            im.size  # noqa: B018 - the header was read: an image
    except Exception:  # not an image (or a broken one): no time, and said so where it is left out
        return Shot(path, None, readable=False)
    try:
        with open_image(path) as im:
            exif = header_exif(im)  # a PNG's eXIf after its pixels too, the pixels not decoded
            details = exif.get_ifd(_EXIF_IFD)
    except Exception:  # noqa: BLE001 - a corrupt EXIF block: an image with no time
        return Shot(path, None)
    stamp = details.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)  # TIFF: no sub-IFD
    taken = _parse_time(stamp, details.get(_SUBSEC_ORIGINAL))
    exposure_s = _number(details.get(_EXPOSURE_TIME))
    return Shot(path, taken, max(exposure_s or 0.0, 0.0))


def _number(value: Any) -> float | None:
    """An EXIF number (a rational, or the pair some writers store one as) as a float; None where
    there is none or it is not a finite number (a 0/0 rational, which Pillow reads as NaN: two NaNs
    never compare equal, so one camera's 0/0 biases would read as an exposure bracket)."""
    try:
        if isinstance(value, tuple) and len(value) == 2:  # a rational some writers store as a pair
            value = value[0] / value[1]
        number = float(value) if value is not None else None
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if number is not None and math.isfinite(number) else None


def _exif_tags(source: Path | bytes) -> tuple[dict, dict]:
    """The EXIF of a file (``source``: its path, or its bytes as uploaded): its first directory and
    its EXIF sub-directory (empty where it has none or they cannot be read), from its header
    (:func:`~defusion.io.metadata.header_exif`: a PNG's pixels are not decoded)."""
    if isinstance(source, bytes) or source.suffix.lower() in HEIF_SUFFIXES:  # bytes: any format, HEIC too
        register_heif()
    try:
        with open_image(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
            exif = header_exif(im)
            return dict(exif), dict(exif.get_ifd(_EXIF_IFD))
    except Exception:  # noqa: BLE001 - not an image, or a corrupt EXIF block: nothing said of it
        return {}, {}


class ShotSettings(NamedTuple):
    """How a shot was taken, as its header says (None where it does not): the camera (EXIF Make and
    Model), the upright size (width, height), the exposure time in seconds and the exposure bias in EV."""

    camera: tuple[str, str] | None
    size: tuple[int, int] | None
    exposure_s: float | None
    bias_ev: float | None


def shot_settings(path: str | Path) -> ShotSettings:
    """``path``'s camera, size and exposure settings, its EXIF read once (a raw file's from its maker's
    header: no camera, no bias): what :func:`shows_exposure_bracket` and :func:`shows_one_exposure`
    judge a group by, read once per shot for both."""
    path = Path(path)
    if is_raw(path):
        return ShotSettings(None, _shot_size(path), raw_capture(path)[1] or None, None)
    first, details = _exif_tags(path)
    return ShotSettings(_camera(first), _shot_size(path), *_exposure(details))


def upload_settings(data: bytes, name: str) -> ShotSettings:
    """:func:`shot_settings` of an uploaded file, from its bytes (a web page's upload has no path), its
    EXIF read once; a camera raw file's (by ``name``'s suffix) say nothing: LibRaw reads its header
    from a file.

    Example:
        >>> upload_settings(b"not an image", "a.png")
        ShotSettings(camera=None, size=None, exposure_s=None, bias_ev=None)
    """
    if is_raw(name):
        return ShotSettings(None, None, None, None)
    first, details = _exif_tags(data)
    return ShotSettings(_camera(first), header_size(data), *_exposure(details))


def group_settings(paths: Sequence[str | Path]) -> list[ShotSettings]:
    """:func:`shot_settings` of each of ``paths``: a group's, to judge by once."""
    return [shot_settings(p) for p in paths]


def _exposure(details: dict) -> tuple[float | None, float | None]:
    """(exposure time in seconds, exposure bias in EV) from an EXIF sub-directory; None where it does not say."""
    seconds = _number(details.get(_EXPOSURE_TIME))
    return (seconds if seconds and seconds > 0 else None), _number(details.get(_EXPOSURE_BIAS))


def _one_camera(settings: Sequence[ShotSettings]) -> bool:
    """Whether the shots are one camera's: their Make and Model (where they say) and their sizes (where
    known) alike. An infrared and a visible camera's pair exposes each for its own sensor."""
    return len({s.camera for s in settings if s.camera is not None}) <= 1 and \
        len({s.size for s in settings if s.size is not None}) <= 1


def _stops_apart(times: Sequence[float]) -> float:
    """How many stops the longest of the exposure ``times`` is from the shortest."""
    return math.log2(max(times) / min(times))


def shows_exposure_bracket(settings: Sequence[ShotSettings]) -> bool:
    """Whether a group's :func:`group_settings` show an exposure bracket: one camera's shots
    (:func:`_one_camera`) whose exposure biases differ, or whose exposure times do by
    :data:`BRACKET_STOPS` or more. False where they do not say."""
    times = [s.exposure_s for s in settings if s.exposure_s is not None]
    biases = {s.bias_ev for s in settings if s.bias_ev is not None}
    return _one_camera(settings) and (len(biases) > 1 or (len(times) > 1 and _stops_apart(times) >= BRACKET_STOPS))


def shows_one_exposure(settings: Sequence[ShotSettings]) -> bool:
    """Whether a group's :func:`group_settings` show one exposure of one camera (:func:`_one_camera`),
    most likely a focus stack: each shot says its exposure time, all within :data:`BRACKET_STOPS` of
    each other (a camera metering each shot of a stack varies them by less), and at most one exposure
    bias. False where a shot does not say its exposure time: no evidence."""
    times = [s.exposure_s for s in settings]
    if not settings or None in times or not _one_camera(settings):
        return False
    return len({s.bias_ev for s in settings if s.bias_ev is not None}) <= 1 and _stops_apart(times) < BRACKET_STOPS


#: What each finding of a group's EXIF rests on, as defusion says it (after what the EXIF shows).
BRACKET_EVIDENCE = "exposure times or biases differ"
ONE_EXPOSURE_EVIDENCE = "exposure time and bias alike, one camera"


def exif_shows(names: Sequence[str], what: str) -> str:
    """The start of a line on what one group's EXIF shows (:func:`shows_exposure_bracket`: "an
    exposure bracket"; :func:`shows_one_exposure`: "one exposure"), naming its files.

    Example:
        >>> exif_shows(["ev-2.jpg", "ev0.jpg"], "an exposure bracket")
        'the EXIF of ev-2.jpg, ev0.jpg shows an exposure bracket'
    """
    return f"the EXIF of {listed(list(names))} shows {what}"


def bracket_advice(shown: str, use: str) -> str:
    """The line that suggests an exposure bracket's defaults where the general ones were used:
    ``shown`` what the EXIF shows (:func:`exif_shows`), ``use`` how to pick them where it is said
    (the CLI: "add --task mef"; the web page: its kind of images).

    Example:
        >>> print(bracket_advice("the EXIF of a.jpg, b.jpg shows an exposure bracket", "add --task mef"))
        the EXIF of a.jpg, b.jpg shows an exposure bracket (exposure times or biases differ): add --task mef, whose defaults are made for brackets (the general ones, for any images, blow out a bracket's highlights)
    """
    return (f"{shown} ({BRACKET_EVIDENCE}): {use}, whose defaults are made for brackets (the general ones, for any "
            "images, blow out a bracket's highlights)")


def focus_stack_advice(shown: str, use: str) -> str:
    """The line that suggests a focus stack's defaults where the general ones were used and the EXIF
    shows one exposure (``shown``, :func:`exif_shows`); ``use`` as in :func:`bracket_advice`."""
    return (f"{shown} ({ONE_EXPOSURE_EVIDENCE}): most likely a focus stack; {use}, whose defaults are made for "
            "focus stacks (the general ones blur and brighten a stack)")


def sources_on_bracket_warning(shown: str, given: str, use: str) -> str:
    """The warning where the fused pixels come from the sources (``given``: the option that chose
    them, as it is said where the line is shown) and the EXIF shows an exposure bracket (``shown``):
    each pixel from one exposure is a blotchy patchwork. ``use``: how to fix it, there."""
    return (f"{shown} ({BRACKET_EVIDENCE}), but {given} takes each pixel from one source, a blotchy patchwork of "
            f"the exposures: {use}, whose defaults are made for brackets")


def is_exposure_bracket(paths: Sequence[str | Path]) -> bool:
    """Whether the shots' EXIF shows an exposure bracket (:func:`shows_exposure_bracket`); False for
    two cameras' images and where they do not say."""
    return shows_exposure_bracket(group_settings(paths))


def is_one_exposure(paths: Sequence[str | Path]) -> bool:
    """Whether the shots' EXIF shows one exposure of one camera, a focus stack (:func:`shows_one_exposure`)."""
    return shows_one_exposure(group_settings(paths))


def camera_model(path: str | Path) -> tuple[str, str] | None:
    """(Make, Model) from ``path``'s EXIF, blanks and NULs stripped; None where it names neither (a
    raw file: LibRaw's header is not read for it).

    Example:
        >>> camera_model("no-such-file.jpg") is None
        True
    """
    path = Path(path)
    return None if is_raw(path) else _camera(_exif_tags(path)[0])


def _camera(first: dict) -> tuple[str, str] | None:
    """(Make, Model) from an EXIF first directory, blanks and NULs stripped; None where it names neither."""
    make, model = (str(first.get(tag) or "").strip().rstrip("\x00").strip() for tag in (_MAKE, _MODEL))
    return (make, model) if make or model else None


def _shot_size(path: str | Path) -> tuple[int, int] | None:
    """(width, height) of the upright image ``path`` holds, from its header; None where unknown."""
    path = Path(path)
    if not is_raw(path):
        return header_size(path)
    try:
        return raw_size(path)
    except Exception:  # noqa: BLE001 - unreadable or no rawpy: reading its pixels says so
        return None


def exif_orientation(path: str | Path) -> int:
    """``path``'s EXIF orientation tag (1-8; 1, upright, where it has none or it cannot be read)."""
    first, _ = _exif_tags(Path(path))
    value = first.get(_ORIENTATION, 1)
    return value if isinstance(value, int) else 1


def _parse_time(stamp: object, subsec: object) -> datetime | None:
    if not isinstance(stamp, str):
        return None
    try:
        taken = datetime.strptime(stamp.strip().rstrip("\x00"), "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    digits = re.sub(r"\D", "", str(subsec or ""))
    return taken.replace(microsecond=int((digits + "000000")[:6])) if digits else taken


def untimed(shots: Sequence[Shot]) -> list[str]:
    """One line per shot :func:`group_by_time` leaves out: not an image, or no capture time."""
    return [f"{s.path.name}: {'not an image (or a broken one)' if not s.readable else 'no EXIF capture time'}"
            for s in shots if s.taken is None]


def group_by_time(shots: Sequence[Shot], gap_s: float = DEFAULT_GAP_S) -> list[list[Path]]:
    """``shots`` in capture order (ties by name), split wherever the pause between one shot's end
    and the next one's start is over ``gap_s`` seconds. Shots without a time are left out
    (:func:`untimed` names them); ShotsError if no shot has one.

    Example:
        >>> from datetime import timedelta
        >>> t = datetime(2026, 12, 5, 10)
        >>> shots = [Shot(Path(f"{i}.jpg"), t + timedelta(seconds=s)) for i, s in enumerate([0, 0.5, 1, 9, 9.4])]
        >>> [[p.name for p in g] for g in group_by_time(shots)]
        [['0.jpg', '1.jpg', '2.jpg'], ['3.jpg', '4.jpg']]
    """
    timed = [s for s in shots if s.taken is not None]
    if not timed:
        names = [s.path.name for s in shots]
        listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        raise ShotsError(f"no EXIF capture time in {listed}: group by count instead (--group N, the camera's "
                         "bracket size)")
    ordered = sorted(timed, key=lambda s: (s.taken, natural_key(s.path)))
    groups: list[list[Path]] = []
    previous = None
    for shot in ordered:
        if previous is None or (shot.taken - previous.taken).total_seconds() - previous.exposure_s > gap_s:
            groups.append([])
        groups[-1].append(shot.path)
        previous = shot
    return groups


def group_by_count(paths: Sequence[Path], size: int) -> list[list[Path]]:
    """``paths`` (in name order) in runs of ``size``; a last, shorter run is a group of its own.

    Example:
        >>> [[p.name for p in g] for g in group_by_count([Path(f"{i}.jpg") for i in range(7)], 3)]
        [['0.jpg', '1.jpg', '2.jpg'], ['3.jpg', '4.jpg', '5.jpg'], ['6.jpg']]
    """
    if size < 2:
        raise ShotsError(f"a group needs at least 2 shots, got {size}")
    return [list(paths[i:i + size]) for i in range(0, len(paths), size)]


def group_name(group: Sequence[Path]) -> str:
    """A group's output name: its first and last file's stems.

    Example:
        >>> group_name([Path("IMG_0001.jpg"), Path("IMG_0002.jpg"), Path("IMG_0003.jpg")])
        'IMG_0001-IMG_0003'
    """
    return group[0].stem if len(group) == 1 else f"{group[0].stem}-{group[-1].stem}"


__all__ = ["SHOT_SUFFIXES", "DEFAULT_GAP_S", "BRACKET_STOPS", "SUBFOLDER_DEPTH", "Shot", "ShotsError", "natural_key",
           "is_hidden", "list_shots", "image_subfolders", "raw_twins", "read_shot", "ShotSettings",
           "shot_settings", "upload_settings", "group_settings", "shows_exposure_bracket",
           "shows_one_exposure", "BRACKET_EVIDENCE", "ONE_EXPOSURE_EVIDENCE", "exif_shows", "bracket_advice",
           "focus_stack_advice", "sources_on_bracket_warning", "is_exposure_bracket", "is_one_exposure", "camera_model",
           "exif_orientation", "group_by_time", "group_by_count", "group_name", "untimed", "visible_images"]
