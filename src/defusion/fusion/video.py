"""Fusing two videos (or two folders of frames) frame by frame with the one fusion core.

Inputs are video files OpenCV can decode, or folders of images matched in natural sorted order
(``frame2`` before ``frame10``). The output is a video (``mp4v`` codec: ``.mp4``, ``.m4v``,
``.mov``, ``.avi``) or, when it is a folder, one PNG per frame (16-bit frames stay 16-bit).

Every failure a user can cause (missing or unreadable input, frames of different sizes, an
output that cannot be written) raises :class:`VideoError` with a one-line message.

Example:
    >>> from defusion.fusion.video import output_kind
    >>> output_kind(Path("fused.mp4")), output_kind(Path("frames/"))
    ('video', 'frames')
"""

from __future__ import annotations

import os
import re
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np

from defusion.errors import DefusionError
from defusion.fusion.deghost import reference_index
from defusion.fusion.fuser import Fuser, SizeMismatchError
from defusion.fusion.prepared import Anchors
from defusion.fusion.rig import RigError
from defusion.fusion.stretch import measure_stretch
from defusion.io.images import (DEFAULT_MAX_PIXELS, READ_FORMATS, READ_SUFFIXES, describe_float_stretch,
                                float_to_uint16, read_image, stream_float_span)
from defusion.io.notes import note as say_note, plural
from defusion.io.shots import visible_images
from defusion.io.writing import write_image

#: Containers the ``mp4v`` writer produces.
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi")
#: Files taken as frames in an input folder: every format read_image reads (hidden files left out).
FRAME_SUFFIXES = READ_SUFFIXES
#: Frame rate of the output when no input video says one.
DEFAULT_FPS = 25.0
#: Relative difference of the inputs' frame rates under which they count as one rate (29.97 and 30 do).
FPS_TOLERANCE = 0.01
#: Names of the frames written into an output folder (frame_000000.png, ...), and the pattern that
#: recognises them (six digits or more, as the index grows).
FRAME_NAME = "frame_{:06d}.png"
_FRAME_PATTERN = re.compile(r"frame_(\d{6,})\.png")


class VideoError(DefusionError, ValueError):
    """An input or output video that cannot be used; the message says which and why."""


class VideoInterrupted(KeyboardInterrupt):
    """A KeyboardInterrupt during :func:`fuse_videos`, with how many frames were fused and written
    before it (``frames``): so that the caller can say what the interrupt discarded or kept."""

    def __init__(self, frames: int):
        super().__init__(f"interrupted after {plural(frames, 'fused frame')}")
        self.frames = frames


@dataclass
class VideoResult:
    """What :func:`fuse_videos` did."""

    frames: int
    seconds: float
    output: Path

    @property
    def fps(self) -> float:
        """Frames fused per second of wall time (decoding and encoding included)."""
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


# -- inputs -------------------------------------------------------------------------------
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

    def frames(self) -> Iterator[np.ndarray]:  # pragma: no cover - interface
        raise NotImplementedError

    def frame_name(self, index: int) -> str:
        """How a message names frame ``index`` (from 0) of this input."""
        return f"{self.path} frame {index}"

    def close(self) -> None:
        pass


class _VideoFile(FrameSource):
    def __init__(self, path: Path, max_pixels: int):
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
        self.fps = fps if 0 < fps < 1000 else None
        self._first = first

    def frames(self) -> Iterator[np.ndarray]:
        frame, self._first = self._first, None
        while frame is not None:
            yield _bgr_to_rgb(frame)
            ok, frame = self._cap.read()
            if not ok:
                frame = None

    def close(self) -> None:
        self._cap.release()


class _FrameFolder(FrameSource):
    """A folder's frames in natural order; float ones mapped by one range for the whole stream
    (:func:`stream_float_span`, measured on the first that is not flat and kept), as raw 16-bit
    ones are stretched by one (:func:`_with_fixed_stretch`): read each on its own, a hot object
    entering the view would dim the rest."""

    def __init__(self, path: Path, max_pixels: int):
        self.path = path
        self._files, _ = visible_images(path, "frames")  # macOS's ._frame.png beside each frame left out
        if not self._files:
            raise VideoError(f"{path}: no frames (no images in the folder; defusion reads {READ_FORMATS})")
        self._max_pixels = max_pixels
        self._first = self._read(self._files[0])
        h, w = self._first.shape[:2]
        self.size = (w, h)
        self.count = len(self._files)
        self.fps = None

    def frames(self) -> Iterator[np.ndarray]:
        first, self._first = self._first, None
        yield first if first is not None else self._read(self._files[0])
        for path in self._files[1:]:
            yield self._read(path)

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
        return f"{self._files[index]} (frame {index})"


def open_frames(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> FrameSource:
    """Open a video file or a folder of frames, reading the first frame to check it."""
    path = Path(path)
    if path.is_dir():
        return _FrameFolder(path, max_pixels)
    if not path.exists():
        raise VideoError(f"{path}: no such file or folder")
    if not path.is_file():
        raise VideoError(f"{path}: is not a file or a folder")
    return _VideoFile(path, max_pixels)


def _check_frame_size(source: FrameSource, frame: np.ndarray, index: int) -> None:
    """Refuse a frame of another size than its input's first: a video's frames share one size (an
    mp4 writer drops the others without an error)."""
    h, w = frame.shape[:2]
    if (w, h) != source.size:
        raise VideoError(f"{source.frame_name(index)} is {w}x{h}, but the first frame of {source.path} is "
                         f"{source.size[0]}x{source.size[1]} (WxH): every frame of an input must have one size")


def _bgr_to_rgb(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        return frame
    if frame.shape[2] == 1:
        return frame[:, :, 0]
    return cv2.cvtColor(frame[:, :, :3], cv2.COLOR_BGR2RGB)


# -- outputs ------------------------------------------------------------------------------
def output_kind(out: Path) -> str:
    """``video`` for a video file name, ``frames`` for a folder (existing, or a name without suffix)."""
    if out.is_dir() or not out.suffix:
        return "frames"
    if out.suffix.lower() in VIDEO_SUFFIXES:
        return "video"
    raise VideoError(f"cannot write {out}: give a video file ({', '.join(VIDEO_SUFFIXES)}) or a folder for PNG frames")


class _VideoSink:
    """An mp4v video written to a hidden partial file and renamed into place when complete."""

    def __init__(self, out: Path, fps: float):
        self.out = out
        self.fps = fps
        self.partial = out.with_name(f".{out.stem}.partial{out.suffix}")
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None

    def write(self, frame: np.ndarray) -> None:
        """Append ``frame``; one of another size than the first is refused (OpenCV would drop it
        with no more than a log line)."""
        bgr = _to_bgr8(frame)
        h, w = bgr.shape[:2]
        if self._writer is None:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self._writer = cv2.VideoWriter(str(self.partial), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._writer.isOpened():
                self.abort()
                raise VideoError(f"cannot write {self.out}: OpenCV could not open an mp4v writer for it")
            self._size = (w, h)
        elif (w, h) != self._size:
            raise VideoError(f"cannot write a {w}x{h} frame into {self.out}, a video of {self._size[0]}x"
                             f"{self._size[1]} frames (WxH)")
        self._writer.write(bgr)

    def finish(self) -> None:
        if self._writer is not None:
            self._writer.release()
            os.replace(self.partial, self.out)

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.release()
        self.partial.unlink(missing_ok=True)


class _FrameSink:
    """One PNG per fused frame: frame_000000.png, frame_000001.png, ... When complete, the frames an
    earlier, longer run left after the last one are removed (and ``warn`` told), so that the folder
    holds one sequence."""

    def __init__(self, out: Path, warn: Callable[[str], None]):
        self.out = out
        self._index = 0
        self._warn = warn
        out.mkdir(parents=True, exist_ok=True)

    def write(self, frame: np.ndarray) -> None:
        write_image(self.out / FRAME_NAME.format(self._index), frame)
        self._index += 1

    def finish(self) -> None:
        indices = {path: _frame_index(path.name) for path in self.out.iterdir() if path.is_file()}
        stale = sorted((path for path, i in indices.items() if i is not None and i >= self._index), key=indices.get)
        for path in stale:
            path.unlink()
        if stale:
            span = stale[0].name if len(stale) == 1 else f"{stale[0].name} to {stale[-1].name}"
            self._warn(f"removed {len(stale)} frame{'s' if len(stale) > 1 else ''} left in {self.out} by an earlier, "
                       f"longer run ({span}): the folder holds this run's {self._index} only")

    def abort(self) -> None:
        pass


def _frame_index(name: str) -> int | None:
    """The index of a file name that is exactly one of FRAME_NAME's (``frame_000012.png``: 12), else None."""
    match = _FRAME_PATTERN.fullmatch(name)
    if match is None or FRAME_NAME.format(int(match[1])) != name:
        return None
    return int(match[1])


def _to_bgr8(frame: np.ndarray) -> np.ndarray:
    if frame.dtype == np.uint16:
        frame = (frame.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    elif frame.dtype != np.uint8:
        frame = (np.clip(frame, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    code = cv2.COLOR_GRAY2BGR if frame.ndim == 2 else cv2.COLOR_RGB2BGR
    return cv2.cvtColor(frame, code)


# -- fusing -------------------------------------------------------------------------------
def fuse_videos(
    fuser: Fuser,
    a: str | Path,
    b: str | Path,
    out: str | Path,
    *,
    max_frames: int | None = None,
    fps: float | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: bool = True,
    warn: Callable[[str], None] | None = None,
    on_first: Callable[[list[Path], list[np.ndarray]], None] | None = None,
    note: Callable[[str], None] | None = None,
) -> VideoResult:
    """Fuse ``a`` and ``b`` (video files or frame folders) frame by frame into ``out``.

    Inputs of different lengths are fused over their common length and ``warn`` is told; so it is
    of inputs of different frame rates (frames are paired by index). A frame of another size than
    its input's first is a VideoError. The output frame rate is ``fps``, else the first input
    video's, else 25; an output folder keeps only this run's frames. A fuser that sorts
    its inputs (``FuseOptions.order``, e.g. ``task="mef"``) sorts the first frames and keeps that
    order for the whole video, so that it cannot flip, and flicker, between frames. So with the
    frame the others are aligned onto and deghost's reference (chosen on the first frames as
    ``Fuser.fuse`` chooses them: a bracket's best exposed), and with the stretch of raw thermal frames
    (``FuseOptions.stretch``, ``auto``): measured on the first frames that hold a raw one and kept,
    so that a hot object entering the view does not darken the rest of it; and so with a thermal
    palette's range (``FuseOptions.palette_range``, unless one is given): measured on the first
    frames whose infrared image is not flat (:meth:`Fuser.measure_palette`) and kept, so that the
    hot object does not recolour the rest; so with float frames outside [0, 1] (radiometric TIFFs
    in degrees): mapped from the first (not flat) frame's minimum to its maximum, as ``defusion fuse``
    reads that frame, for the whole stream (values beyond clipped), and ``note`` told once per input
    (default: a ``defusion: note:`` line). ``on_first`` is given the first frames and their
    inputs' paths, in the order they are fused, before they are (what to say about them: which
    one a palette colours). Ctrl-C raises :class:`VideoInterrupted` (a KeyboardInterrupt) with the
    number of frames fused so far.
    """
    from tqdm import tqdm

    out = Path(out)
    warn = warn or (lambda message: print(f"defusion: warning: {message}", file=sys.stderr))
    note = note or say_note
    kind = output_kind(out)
    src_a = open_frames(a, max_pixels)
    try:
        src_b = open_frames(b, max_pixels)
    except Exception:
        src_a.close()
        raise
    sink, done = None, 0
    try:
        if fuser.options.rig is not None:  # a calibrated rig maps b's frames onto a's, whatever their sizes
            try:
                fuser.options.rig.check_sizes([src_a.size, src_b.size])
            except RigError as exc:
                raise VideoError(f"{src_a.path} and {src_b.path}: {exc}") from None
        elif src_a.size != src_b.size:
            raise VideoError(
                f"frames differ in size: {src_a.path} is {src_a.size[0]}x{src_a.size[1]}, {src_b.path} is "
                f"{src_b.size[0]}x{src_b.size[1]} (WxH); fusion needs registered inputs of one size (two cameras "
                "side by side: calibrate them with defusion calibrate and pass --rig)")
        counts_differ = src_a.count is not None and src_b.count is not None and src_a.count != src_b.count
        if counts_differ:
            common = min(src_a.count, src_b.count)
            warn(f"{src_a.path} has {src_a.count} frames and {src_b.path} has {src_b.count}; "
                 f"fusing the common {common}")
        known = [c for c in (src_a.count, src_b.count, max_frames) if c is not None]
        total = min(known) if known else None
        rate = fps or src_a.fps or src_b.fps or DEFAULT_FPS
        _warn_rates_differ(src_a, src_b, rate, fps is not None, warn)
        sink = _VideoSink(out, rate) if kind == "video" else _FrameSink(out, warn)
        start = time.perf_counter()
        frames_a, frames_b = src_a.frames(), src_b.frames()
        steady, swap, noted = fuser, None, set()
        with tqdm(total=total, desc="fusing", unit="frame", disable=not progress, file=sys.stderr) as bar:
            while max_frames is None or done < max_frames:
                fa, fb = next(frames_a, None), next(frames_b, None)
                if fa is None or fb is None:
                    if (fa is None) != (fb is None) and not counts_differ:
                        ended = src_a.path if fa is None else src_b.path
                        warn(f"{ended} ended after {done} frames, before the other input; fused the first {done}")
                    break
                _check_frame_size(src_a, fa, done)
                _check_frame_size(src_b, fb, done)
                _note_float_spans((src_a, src_b), noted, note)
                try:
                    first = swap is None
                    if first:  # the order the fuser would give the first frames, kept
                        # (a rig's frames stay in its cameras' order: it maps b's onto a's)
                        swap = fuser.options.rig is None and fuser.input_order(fa, fb) == [1, 0]
                    pair = [fb, fa] if swap else [fa, fb]
                    if first and on_first is not None:
                        on_first([src_b.path, src_a.path] if swap else [src_a.path, src_b.path], pair)
                    steady = _fixed_for_stream(fuser, _steady_fuser(fuser, pair) if first else steady, pair)
                    fused = steady.fuse(*pair)
                except (SizeMismatchError, RigError) as exc:
                    raise VideoError(f"frame {done}: {exc}") from None
                sink.write(fused)
                done += 1
                bar.update()
        if done == 0:
            raise VideoError("no frames to fuse")
        sink.finish()
        seconds = time.perf_counter() - start
    except BaseException as exc:
        if sink is not None:
            sink.abort()
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, VideoInterrupted):
            raise VideoInterrupted(done) from exc
        raise
    finally:
        src_a.close()
        src_b.close()
    return VideoResult(done, seconds, out)


@dataclass
class _SteadyFuser(Fuser):
    """A Fuser that registers onto, and deghosts against, the sources ``anchors`` names whatever
    the frame: a stream's first frames' choice, so that its framing cannot flip between frames."""

    anchors: Anchors = field(default_factory=Anchors)

    def _anchors(self, floats: list[np.ndarray]) -> Anchors:
        return self.anchors


def _steady_fuser(fuser: Fuser, first: list[np.ndarray]) -> Fuser:
    """``fuser`` as it fuses every frame of a stream whose first frames are ``first`` (in the order
    they are fused): that order kept, and the frame the others are aligned onto and deghost's
    reference chosen on them as :meth:`Fuser.fuse` would (:func:`_first_anchors`) and kept, so
    that none of them can change between frames. The stretch: :func:`_with_fixed_stretch`."""
    steady = replace(fuser, options=replace(fuser.options, order="given"))
    if fuser.options.align == "none" and not fuser.options.deghost:
        return steady
    return _SteadyFuser(steady.model, steady.device, steady.half, steady.options, _first_anchors(fuser, first))


def _first_anchors(fuser: Fuser, first: list[np.ndarray]) -> Anchors:
    """The frame and deghost's reference for ``first`` (indices into it), as :meth:`Fuser.fuse`
    picks them; with order "given", where deghost picks its reference per call, its pick on
    ``first`` (the best exposed)."""
    floats, _ = fuser._mapped(first)
    anchors = fuser._anchors(floats)
    if fuser.options.deghost and anchors.reference is None:
        anchors = anchors._replace(reference=reference_index(floats))
    return anchors


def _fixed_for_stream(fuser: Fuser, steady: Fuser, frames: list[np.ndarray]) -> Fuser:
    """``steady`` (the fuser of the stream's frames so far) with its stretch (:func:`_with_fixed_stretch`)
    and, with a palette, the infrared image it colours (the first frames') and its range
    (:func:`_with_fixed_palette`) fixed on ``frames`` where they are not yet; the range measured
    again on the frame the stretch is fixed on (it measures the stretched infrared). ``fuser``, the
    one given, says what the caller fixed and how raw frames are stretched (``FuseOptions.
    stretch_shared``: its order, which the steady fuser's "given" replaces)."""
    if any(_flat(frame) for frame in frames):  # a shutter (NUC) frame tells neither its band nor its kind:
        return steady                           # fix nothing on it (each frame measured until a normal one)
    before = steady.options.stretch
    steady = _with_fixed_stretch(steady, frames, fuser.options.stretch_shared)
    if fuser.options.palette == "none":
        return steady
    if steady.options.infrared is None:  # which one is the infrared image cannot flip between frames
        steady = replace(steady, options=replace(steady.options, infrared=steady.infrared_source(*frames)[0]))
    settled = steady.options.palette_range is not None and steady.options.stretch is before
    if fuser.options.palette_range is not None or settled:
        return steady
    return _with_fixed_palette(steady, frames)


def _flat(frame: np.ndarray) -> bool:
    """Whether ``frame`` holds one value only (a thermal camera's shutter frame, a blank frame)."""
    return frame.size == 0 or bool(frame.min() == frame.max())


def _with_fixed_stretch(fuser: Fuser, frames: list[np.ndarray], shared: bool | None = None) -> Fuser:
    """``fuser`` with a ``stretch="auto"`` measured on ``frames`` (in the order fused; ``shared``, a
    bracket's: one mapping for all) and kept as a FixedStretch, once one of them is a raw frame
    (:func:`measure_stretch`); until then still "auto", so a flat first frame (a shutter or NUC
    frame) cannot switch the stretch off for the whole stream. A stretch already fixed, or "none",
    stays."""
    stretch = fuser.options.stretch
    if not (isinstance(stretch, str) and stretch == "auto"):
        return fuser
    fixed = measure_stretch(frames, shared)
    return fuser if fixed is None else replace(fuser, options=replace(fuser.options, stretch=fixed))


def _with_fixed_palette(fuser: Fuser, frames: list[np.ndarray]) -> Fuser:
    """``fuser`` with its palette's range measured on ``frames`` (:meth:`Fuser.measure_palette`) and
    kept, once their infrared image is not flat; until then measured per frame, so that a flat
    first frame (a shutter frame) cannot fix a range that spans nothing."""
    span = fuser.measure_palette(*frames)
    return fuser if span is None else replace(fuser, options=replace(fuser.options, palette_range=span))


def _note_float_spans(sources: tuple[FrameSource, ...], noted: set[int], note: Callable[[str], None]) -> None:
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


def _warn_rates_differ(src_a: FrameSource, src_b: FrameSource, rate: float, asked: bool,
                       warn: Callable[[str], None]) -> None:
    """Warn when the inputs' frame rates differ: frames are paired by index, not by time, so the
    pairs drift apart (a 10 fps video's frame 10 is at 1 s, a 30 fps one's at 0.33 s)."""
    if src_a.fps is None or src_b.fps is None:
        return
    if abs(src_a.fps - src_b.fps) <= FPS_TOLERANCE * max(src_a.fps, src_b.fps):
        return
    whose = "as asked" if asked else f"{src_a.path}'s"
    warn(f"{src_a.path} runs at {src_a.fps:.4g} fps and {src_b.path} at {src_b.fps:.4g} fps: frames are paired by "
         f"index, not by time, and the output runs at {rate:.4g} fps ({whose})")


__all__ = ["VideoError", "VideoInterrupted", "VideoResult", "FrameSource", "open_frames", "output_kind", "fuse_videos",
           "VIDEO_SUFFIXES", "FRAME_SUFFIXES"]
