"""The inputs of a video fusion: a video file or a folder of frames (or a live source: :mod:`.live`),
opened as a :class:`FrameSource` (:func:`open_frames`) that yields its frames as RGB (or grey) arrays;
and what reading did to a folder's float frames, said once per input (:func:`note_float_spans`).

A folder's frames are taken in natural sorted order (``frame2`` before ``frame10``), hidden files
left out; float ones (radiometric TIFFs in degrees) are mapped by one range for the whole stream; one
that cannot be read past the first is a :class:`BadFrame` in its place, so that the rest are still read.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

import cv2
import numpy as np

from defusion.fusion.video.errors import VideoError
from defusion.io.errors import ImageReadError
from defusion.io.float_pixels import describe_float_stretch, float_to_uint16, stream_float_span
from defusion.io.formats import DEFAULT_MAX_PIXELS
from defusion.io.images import READ_FORMATS, READ_SUFFIXES, read_image
from defusion.io.shots import visible_images

#: Files taken as frames in an input folder: every format read_image reads (hidden files left out).
FRAME_SUFFIXES = READ_SUFFIXES
#: A frame rate a video or stream reports is taken under this many fps: a stream's 90000 is its RTP
#: clock, not its rate, and 0 (or less) says none.
PLAUSIBLE_FPS = 1000


class BadFrame(NamedTuple):
    """A frame an input could not read, yielded in its place (:meth:`FrameSource.frames`) so that the
    frames after it are still read: ``problem`` says which file and why, in one line."""

    problem: str


class FrameSource:
    """Frames of one input: ``size`` (W, H) of the first frame, ``count`` (None if unknown), ``fps``;
    of float frames (radiometric TIFFs in degrees), the one range every frame is mapped by
    (``float_span``) and the file it was measured on (``float_file``), once measured."""

    path: Path
    size: tuple[int, int]
    count: int | None
    fps: float | None
    float_span: tuple[float, float] | None = None
    float_file: Path | None = None
    #: A folder's frame files, in the order its frames are taken; None for a video.
    files: list[Path] | None = None
    #: Whether it is a live source (a stream or a camera: :mod:`.live`), read as its frames come, with no end
    #: known.
    live: bool = False
    #: Whether it sends its frames whether or not they are read (those sent while a pair is fused are
    #: dropped, and nothing pairs its frames by time): True for a camera or a real-time stream, None where
    #: it may (a stream that reports no frame count), False where it waits for each read (a file, a folder).
    real_time: bool | None = False
    #: Of a source that does not wait (``real_time`` True), read for its newest frame each time: the frames it
    #: sent since the fusion began (``received``) and those skipped among them, a newer one fused in their
    #: place (:class:`~defusion.fusion.video.live.NewestFrameReader`); 0 for a source read in order.
    received: int = 0
    skipped: int = 0

    def frames(self) -> Iterator[np.ndarray | BadFrame]:  # pragma: no cover - interface
        """The frames in order; one that cannot be read a :class:`BadFrame` in its place."""
        raise NotImplementedError

    def frame_name(self, index: int) -> str:
        """How a message names frame ``index`` (from 0) of this input."""
        return f"{self.path} frame {index}"

    def close(self) -> None:
        pass


class _VideoFile(FrameSource):
    def __init__(self, path: Path, max_pixels: int) -> None:
        self.path = path
        # FFmpeg's own log lines ("moov atom not found") would precede our one-line error; keep them
        # quiet unless the user asked for them (read once, when OpenCV first loads FFmpeg).
        os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
        self._cap = cv2.VideoCapture(str(path))
        ok, first = self._cap.read() if self._cap.isOpened() else (False, None)
        if not ok or first is None:
            self._cap.release()
            raise VideoError(f"{path}: cannot read a frame (not a video, or a codec OpenCV cannot decode)")
        h, w = first.shape[:2]
        if w * h > max_pixels:
            self._cap.release()
            raise VideoError(f"{path}: frames of {w}x{h} are over the limit of {max_pixels / 1e6:.1f} MP "
                             "(raise it with --max-pixels)")
        self.size = (w, h)
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.count = count if count > 0 else None
        fps = float(self._cap.get(cv2.CAP_PROP_FPS))
        self.fps = fps if 0 < fps < PLAUSIBLE_FPS else None
        self._first = first

    def frames(self) -> Iterator[np.ndarray]:
        frame, self._first = self._first, None
        while frame is not None:
            yield bgr_to_rgb(frame)
            ok, frame = self._cap.read()
            if not ok:
                frame = None

    def close(self) -> None:
        self._cap.release()


class _FrameFolder(FrameSource):
    """A folder's frames in natural order; float ones mapped by one range for the whole stream
    (:func:`stream_float_span`, measured on the first that is not flat and kept), as raw 16-bit
    ones are stretched by one (:mod:`defusion.fusion.video.steady_fuser`): read each on its own, a
    hot object entering the view would dim the rest."""

    def __init__(self, path: Path, max_pixels: int) -> None:
        self.path = path
        self.files, _ = visible_images(path, "frames")  # macOS's ._frame.png beside each frame left out
        if not self.files:
            raise VideoError(f"{path}: no frames (no images in the folder; defusion reads {READ_FORMATS})")
        self._max_pixels = max_pixels
        self._first = self._read(self.files[0])
        h, w = self._first.shape[:2]
        self.size = (w, h)
        self.count = len(self.files)
        self.fps = None

    def frames(self) -> Iterator[np.ndarray | BadFrame]:
        first, self._first = self._first, None
        yield first if first is not None else self._read(self.files[0])
        for path in self.files[1:]:
            try:
                frame: np.ndarray | BadFrame = self._read(path)
            except (ImageReadError, OSError) as exc:  # a damaged or vanished file: the frames after it go on
                frame = BadFrame(str(exc) if isinstance(exc, ImageReadError) else f"{path}: {exc.strerror or exc}")
            yield frame

    def _read(self, path: Path) -> np.ndarray:
        """Frame ``path`` as :func:`read_image` reads it, float pixels mapped by the stream's range."""
        image = read_image(path, self._max_pixels, floats="values")
        if image.dtype.kind != "f":
            return image
        if self.float_span is None:
            self.float_span = stream_float_span(image)
            self.float_file = path if self.float_span is not None else None
        return float_to_uint16(image, self.float_span)

    def frame_name(self, index: int) -> str:
        return f"{self.files[index]} (frame {index})"


def open_frames(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> FrameSource:
    """Open a video file or a folder of frames (by its path, or a ``file://`` URL:
    :func:`~defusion.fusion.video.live.file_url_path`), or a live source (a stream URL, a capture device,
    or ``cam:N``: :func:`~defusion.fusion.video.live.live_spec`), reading the first frame to check it."""
    from defusion.fusion.video.live import LiveSource, file_url_path, live_spec  # they build on FrameSource

    spec = live_spec(path)
    if spec is not None:
        return LiveSource(spec, max_pixels)
    path = file_url_path(path) or Path(path)
    if path.is_dir():
        return _FrameFolder(path, max_pixels)
    if not path.exists():
        raise VideoError(f"{path}: no such file or folder")
    if not path.is_file():
        raise VideoError(f"{path}: is not a file or a folder")
    return _VideoFile(path, max_pixels)


def other_size(source: FrameSource, frame: np.ndarray, index: int) -> str | None:
    """Why ``frame`` (frame ``index`` of ``source``) cannot be fused where it is of another size than its
    input's first (a video's frames share one size: an mp4 writer drops the others without an error), else None.

    Example:
        >>> source = FrameSource(); source.path, source.size = Path("ir"), (64, 48)
        >>> other_size(source, np.zeros((40, 64), np.uint8), 7)
        'ir frame 7 is 64x40, but the first frame of ir is 64x48 (WxH): every frame of an input must have one size'
    """
    h, w = frame.shape[:2]
    if (w, h) == source.size:
        return None
    return (f"{source.frame_name(index)} is {w}x{h}, but the first frame of {source.path} is "
            f"{source.size[0]}x{source.size[1]} (WxH): every frame of an input must have one size")


def bgr_to_rgb(frame: np.ndarray) -> np.ndarray:
    """An OpenCV frame (BGR, BGRA, or grey) as the RGB (or grey) array the fusion takes."""
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 1:
        return frame[:, :, 0]
    return cv2.cvtColor(frame[:, :, :3], cv2.COLOR_BGR2RGB)


# -- what reading did to float frames ------------------------------------------------------
def note_float_spans(sources: tuple[FrameSource, ...], noted: set[int], note: Callable[[str], None]) -> None:
    """Tell ``note`` once per input (``noted``: the indices told) the range its float frames are
    mapped by, once measured, in ``defusion fuse``'s words (:func:`_float_note`)."""
    for index, source in enumerate(sources):
        if index in noted or source.float_file is None:
            continue
        noted.add(index)
        said = _float_note(source)
        if said is not None:
            note(said)


def _float_note(source: FrameSource) -> str | None:
    """What reading does to ``source``'s float frames: its ``float_file``'s range mapped onto the
    full range, as ``defusion fuse`` says it (:func:`describe_float_stretch`), and every other frame by
    that range; None for floats in [0, 1], kept as they are.

    Example:
        >>> source = FrameSource(); source.path, source.float_file = Path("ir"), Path("ir/f0.tif")
        >>> source.float_span = (20.5882, 44.902)
        >>> print(_float_note(source))  # doctest: +NORMALIZE_WHITESPACE
        ir/f0.tif holds float values 20.59 to 44.9 (not 0 to 1: a radiometric thermal frame in degrees, say):
        stretched from its minimum to its maximum onto the full range when read, and every frame of ir by
        that range, so that a hot object entering the view cannot dim the rest (values beyond it clip)
    """
    said = describe_float_stretch(str(source.float_file), source.float_span)
    if said is None:
        return None
    return (f"{said}, and every frame of {source.path} by that range, so that a hot object entering the view "
            "cannot dim the rest (values beyond it clip)")


__all__ = ["FRAME_SUFFIXES", "PLAUSIBLE_FPS", "BadFrame", "FrameSource", "bgr_to_rgb", "note_float_spans",
           "open_frames", "other_size"]
