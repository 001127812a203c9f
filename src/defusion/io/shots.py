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

import re
from datetime import datetime
from pathlib import Path
from typing import NamedTuple, Sequence

from PIL import Image

from defusion.io.heif import HEIF_SUFFIXES, register_heif
from defusion.io.images import READ_FORMATS, READ_SUFFIXES, opens_as_image
from defusion.io.notes import listed, note, warn
from defusion.io.raw import is_raw, raw_capture

#: Files taken as shots: every image format defusion reads, phones' HEIC and cameras' raw files included.
SHOT_SUFFIXES = READ_SUFFIXES
#: A new group starts after a pause of more than this many seconds between one shot's end
#: (its capture time plus its exposure time) and the next one's capture time.
DEFAULT_GAP_S = 2.0
_EXIF_IFD = 0x8769
_DATETIME, _DATETIME_ORIGINAL, _SUBSEC_ORIGINAL, _EXPOSURE_TIME = 0x0132, 0x9003, 0x9291, 0x829A


class ShotsError(ValueError):
    """A folder that cannot be split into groups as asked (no shots, no capture times, ...)."""


class Shot(NamedTuple):
    """A file and when it was taken (None without EXIF), with its exposure time in seconds (0 unknown);
    ``readable`` is False for a file that does not open as an image."""

    path: Path
    taken: datetime | None
    exposure_s: float = 0.0
    readable: bool = True


def natural_key(path: Path) -> list:
    """Sort key that puts IMG_2 before IMG_10.

    Example:
        >>> [p.name for p in sorted([Path("IMG_10.jpg"), Path("IMG_2.jpg")], key=natural_key)]
        ['IMG_2.jpg', 'IMG_10.jpg']
    """
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


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
                                                      f"(defusion reads {READ_FORMATS})"))
    return shots


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
    """When ``path`` was taken (EXIF DateTimeOriginal with its sub-seconds, else DateTime) and for how
    long it was exposed; None and 0 where its header does not say (or cannot be read)."""
    path = Path(path)
    if is_raw(path):  # LibRaw reads the maker's header (Pillow cannot open most raw files)
        return Shot(path, *raw_capture(path))
    if path.suffix.lower() in HEIF_SUFFIXES:
        register_heif()
    try:
        with Image.open(path) as im:
            im.size  # noqa: B018 - the header was read: an image
    except Exception:  # not an image (or a broken one): no time, and said so where it is left out
        return Shot(path, None, readable=False)
    try:
        with Image.open(path) as im:
            exif = im.getexif()
            details = exif.get_ifd(_EXIF_IFD)
    except Exception:  # noqa: BLE001 - a corrupt EXIF block: an image with no time
        return Shot(path, None)
    stamp = details.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME)
    taken = _parse_time(stamp, details.get(_SUBSEC_ORIGINAL))
    exposure = details.get(_EXPOSURE_TIME)
    try:
        if isinstance(exposure, tuple) and len(exposure) == 2:  # a rational some writers store as a pair
            exposure = exposure[0] / exposure[1]
        exposure_s = float(exposure) if exposure is not None else 0.0
    except (TypeError, ValueError, ZeroDivisionError):
        exposure_s = 0.0
    return Shot(path, taken, max(exposure_s, 0.0))


def _parse_time(stamp, subsec) -> datetime | None:
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


__all__ = ["SHOT_SUFFIXES", "DEFAULT_GAP_S", "Shot", "ShotsError", "natural_key", "is_hidden", "list_shots",
           "raw_twins", "read_shot", "group_by_time", "group_by_count", "group_name"]
