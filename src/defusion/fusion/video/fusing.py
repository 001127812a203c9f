"""Fusing two inputs frame by frame into one output with the one fusion core (:func:`fuse_videos`):
the inputs checked against each other (sizes, lengths, frame rates), each pair of frames fused by
the stream's steady fuser (a pair that cannot be fused skipped: :mod:`.bad_pairs`), the output
written, and what was done returned (:class:`VideoResult`). A live input (a stream or a camera:
:mod:`.live`) is fused until it ends, ``max_frames``, or an interrupt, which finishes the output there; one
that does not wait for the fusion gives its newest frame to each pair, and the frames it skipped so are said
at the end. The inputs may be opened before (:func:`open_inputs`: a bad URL said before a model loads)."""

from __future__ import annotations

import contextlib
import itertools
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Union

import numpy as np

from defusion.fusion.fuser import Fuser, SizeMismatchError
from defusion.fusion.rig import RigError
from defusion.fusion.video.bad_pairs import SIZE_CHANGE_RUN, BadPair, BadPairs
from defusion.fusion.video.errors import VideoError, VideoInterrupted
from defusion.fusion.video.live import LiveSpec, check_distinct_devices, live_spec, sends_in_real_time
from defusion.fusion.video.pairing import misnumbered_pair
from defusion.fusion.video.sinks import FRAME_NAME, FrameSink, VideoSink, output_kind
from defusion.fusion.video.sources import BadFrame, FrameSource, note_float_spans, open_frames, other_size
from defusion.fusion.video.steady_fuser import fixed_for_stream, holds_shutter_frame, steady_fuser
from defusion.io.formats import DEFAULT_MAX_PIXELS
from defusion.io.notes import note as say_note
from defusion.io.notes import plural

#: Frame rate of the output when no input video says one.
DEFAULT_FPS = 25.0
#: Relative difference of the inputs' frame rates under which they count as one rate (29.97 and 30 do).
FPS_TOLERANCE = 0.01
#: A live input fused at under this share of the output video's frame rate is said (:func:`_warn_live_pace`):
#: a camera or real-time stream does not wait for the fusion, so the video then plays faster than it
#: happened; a tenth under leaves room for the first frame's set-up and a camera's nominal rate (29.97 for 30).
LIVE_PACE_SHARE = 0.9

#: What :func:`_frame_pairs` yields per index: the pair of frames, or why it cannot be fused.
_Pair = Union[tuple[np.ndarray, np.ndarray], BadPair]


@dataclass
class VideoResult:
    """What :func:`fuse_videos` did."""

    frames: int
    seconds: float
    output: Path
    #: Frames an output folder already held and ``skip_existing`` kept (not fused again, not in ``frames``).
    skipped: int = 0
    #: The pairs that could not be fused (a frame unreadable, or of another size), by index: skipped, each
    #: said to ``warn``; a video repeats the frame fused before each, a folder leaves its file out.
    failed: tuple[int, ...] = ()

    @property
    def fps(self) -> float:
        """Frames fused per second of wall time (decoding and encoding included)."""
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


def fuse_videos(
    fuser: Fuser,
    a: str | Path | FrameSource,
    b: str | Path | FrameSource,
    out: str | Path,
    *,
    max_frames: int | None = None,
    fps: float | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: bool = True,
    warn: Callable[[str], None] | None = None,
    on_first: Callable[[list[Path], list[np.ndarray]], None] | None = None,
    note: Callable[[str], None] | None = None,
    skip_existing: bool = False,
    on_measured: Callable[[list[Path], list[np.ndarray], int], None] | None = None,
) -> VideoResult:
    """Fuse ``a`` and ``b`` (video files or frame folders, or the sources :func:`open_inputs` opened of them,
    which it then closes) frame by frame into ``out``.

    Settings measured on the first frames are kept for the stream, so that it cannot flicker: the
    inputs' order, the alignment and deghost reference, a raw thermal stretch, a palette's range
    (:mod:`~defusion.fusion.video.steady_fuser`) and float frames' span (``note`` is told it), all
    decided on the first pair that holds no shutter (NUC) frame
    (:func:`~defusion.fusion.video.steady_fuser.holds_shutter_frame`; the pairs before it each fused as
    it comes). ``on_first`` gets the first frames and their paths, in the order fused; ``on_measured``
    the frames all that is decided on, their paths (in the order kept) and index. Inputs of
    different lengths or frame rates are fused over their common length, paired by index, and ``warn``
    is told, as it is where two frame folders' file names show a pair of different frames (a frame
    missing from one); the output runs at ``fps``, else the first input video's, else 25, and an
    output folder keeps only this run's frames. Ctrl-C raises :class:`VideoInterrupted` with the number
    of frames fused so far.

    A pair that cannot be fused (a frame file unreadable, or a frame of another size than its input's
    first) is skipped and ``warn`` told, in one line each (:class:`~defusion.fusion.video.bad_pairs.BadPairs`);
    its place is kept: a video repeats the frame fused before it (so it keeps its timing), a folder
    leaves its file out (so every later frame keeps its number); :attr:`VideoResult.failed` lists them.
    Frames of another size :data:`~defusion.fusion.video.bad_pairs.SIZE_CHANGE_RUN` pairs in a row (a
    camera change) stop the fusion: a VideoError, the frames fused before them kept in ``out``.

    ``skip_existing`` (an output folder only; a VideoError for a video file, which is written whole):
    the frames the folder already holds are kept, not fused again, so that an interrupted run goes on
    where it stopped; the inputs are still decoded past them, and what the first frames fix for the
    stream is fixed on them as before, so the frames fused are those an uninterrupted run writes.

    ``a`` or ``b`` may be live (a stream URL, a capture device, ``cam:N``: :mod:`~defusion.fusion.video.live`;
    a ``file://`` URL is the file it names): its frames are paired as they come (a note, said once through
    :func:`defusion.io.notes.note`, not ``note``, that they are not synchronised, where it does not wait
    for the fusion: :attr:`FrameSource.real_time`; each pair then takes its newest frame, and a note at the
    end says how many it sent were skipped so: :class:`~defusion.fusion.video.live.NewestFrameReader`) and
    fused until it ends or ``max_frames``; the output
    runs at the rate the stream reports (a note where none does); Ctrl-C (or SIGTERM, as the command turns
    it into one) finishes the output there, playable, where a source does not wait, and the
    :class:`VideoInterrupted` says where it is (``kept``); an http(s) video file is stopped as a file is. ``skip_existing`` is a
    VideoError with a live input that does not wait (a camera, a real-time stream, an http stream of no
    frame count): it cannot be rewound to the frames kept; an http(s) video file can.
    """
    from defusion.io.progress import LogProgress, progress_bar

    out = Path(out)
    warn = warn or _warn_on_stderr
    note = note or say_note
    try:
        kind = output_kind(out)
        if skip_existing and kind == "video":
            raise VideoError(f"cannot skip existing frames in {out}: a video is written only once complete; write "
                             "frames to a folder to go on after an interruption")
        if skip_existing and any(spec is not None and sends_in_real_time(spec) for spec in map(_spec, (a, b))):
            raise VideoError(f"cannot skip existing frames in {out}: a live input (a stream or a camera) cannot be "
                             "rewound to the frames an earlier run fused; write to a new folder")
    except BaseException:
        _close_given(a, b)
        raise
    src_a, src_b = open_inputs(a, b, max_pixels)
    live = src_a.live or src_b.live
    sink, done, skipped, start = None, 0, 0, time.perf_counter()
    bad = BadPairs(warn, (lambda index: "the frame fused before it repeated in its place" if done
                          else "the first frame fused after it repeated in its place") if kind == "video"
                   else (lambda index: f"{FRAME_NAME.format(index)} left out of {out}"))
    try:
        if skip_existing:
            _check_rewindable((src_a, src_b), out)
        _check_sizes(fuser, src_a, src_b)
        total, counts_differ = _common_length(src_a, src_b, max_frames, warn)
        _warn_misnumbered(src_a, src_b, max_frames, warn)
        rate = fps or src_a.fps or src_b.fps or DEFAULT_FPS
        _warn_rates_differ(src_a, src_b, rate, fps is not None, warn)
        if live:
            _note_live(src_a, src_b, out if kind == "video" and not (fps or src_a.fps or src_b.fps) else None)
        sink = VideoSink(out, rate, warn) if kind == "video" else FrameSink(out, warn, skip_existing)
        start = time.perf_counter()
        stream = _SteadyStream(fuser, [src_a.path, src_b.path], on_first, on_measured)
        pairs = _frame_pairs(src_a, src_b, max_frames, counts_differ, warn, note)
        first = next(pairs, None)
        if first is not None and not isinstance(first, BadPair):  # what the first frames are said to be, said
            stream.start(*first)  # before the bar, not inside its line
        with progress_bar(total=total, desc="fusing", unit="frame", disable=not progress, file=sys.stderr) as bar:
            for index, pair in enumerate(itertools.chain([first] if first is not None else [], pairs)):
                if sink.already_there():  # kept from an earlier run: fix on it what fusing it would
                    if not isinstance(pair, BadPair):
                        stream.pass_over(index, *pair)
                    sink.skip()
                    bad.fused()
                    skipped += 1
                elif isinstance(pair, BadPair):  # said, counted, its place kept; a camera change stops here
                    bad.add(pair)
                    sink.leave_out()
                    _stop_at_size_change(bad, sink, out, done)
                else:
                    sink.write(stream.fuse(index, *pair))
                    bad.fused()
                    done += 1
                elapsed = time.perf_counter() - start
                if live and isinstance(bar, LogProgress) and elapsed > 0:  # no total: a log's line says the pace
                    bar.set_postfix_str(f"{done / elapsed:.2f} frames/s")
                bar.update()
        if done + skipped == 0:
            raise VideoError("no frames to fuse")
        sink.finish()
        seconds = time.perf_counter() - start
        _note_skipped((src_a, src_b), done, seconds)
        if live and kind == "video":
            _warn_live_pace(done, seconds, rate, (src_a, src_b), warn)
    except BaseException as exc:
        # a source that does not wait (a camera, a real-time stream) ends there; a file served over http waits,
        # and is stopped as a file is (its frames folder gone on with --skip-existing)
        runs_on = any(src.live and src.real_time is not False for src in (src_a, src_b))
        if runs_on and isinstance(exc, KeyboardInterrupt) and done and sink is not None:
            raise _stop_live(sink, out, done, start, rate if kind == "video" else None, (src_a, src_b),
                             warn) from exc
        if sink is not None:
            sink.abort()
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, VideoInterrupted):
            raise VideoInterrupted(done) from exc
        raise
    finally:
        try:
            src_a.close()
        finally:  # a second Ctrl-C while the first stops still lets the other go
            src_b.close()
    return VideoResult(done, seconds, out, skipped, tuple(bad.failed))


def _stop_at_size_change(bad: BadPairs, sink: FrameSink | VideoSink, out: Path, done: int) -> None:
    """Stop the fusion (a VideoError) where :data:`~defusion.fusion.video.bad_pairs.SIZE_CHANGE_RUN`
    pairs in a row held a frame of another size (:meth:`BadPairs.size_changed`: a camera or its mode
    changed), the output finished first (``cut``: a video ends on its last fused frame), so that the
    ``done`` frames fused are kept."""
    changed = bad.size_changed()
    if changed is None:
        return
    sink.finish(cut=True)
    raise VideoError(f"stopped at frame {changed}: {SIZE_CHANGE_RUN} pairs in a row from it on hold a frame of "
                     f"another size than its input's first (see the lines above): another camera, or another camera "
                     f"mode? {plural(done, 'frame')} fused before it kept in {out}; fuse the frames from {changed} on "
                     "as a clip of their own")


def _stop_live(sink: FrameSink | VideoSink, out: Path, done: int, start: float, rate: float | None,
               sources: tuple[FrameSource, FrameSource], warn: Callable[[str], None]) -> VideoInterrupted:
    """What stops a fusion of a live input (Ctrl-C or SIGTERM, which has no end else): the output finished
    with the ``done`` frames fused (``cut``: a video ends on its last fused frame, playable), a second
    Ctrl-C meanwhile ignored so that it cannot leave half a file; a video's pace said (``rate``:
    :func:`_warn_live_pace`). The :class:`VideoInterrupted` to raise, saying where it is kept."""
    with _sigint_ignored():
        sink.finish(cut=True)
    seconds = time.perf_counter() - start
    _note_skipped(sources, done, seconds)
    if rate is not None:
        _warn_live_pace(done, seconds, rate, sources, warn)
    return VideoInterrupted(done, out, seconds)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Ctrl-C ignored inside (in the main thread, the only one that may set handlers; elsewhere nothing
    changes), its handler restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _check_rewindable(sources: tuple[FrameSource, FrameSource], out: Path) -> None:
    """Refuse to skip an output folder's frames (``skip_existing``) where an input, once opened, does not
    wait for the fusion (:attr:`FrameSource.real_time`: an http stream that reports no frame count): it
    cannot be decoded again from its first frame to the frames kept. An http(s) video file can."""
    for source in sources:
        if source.real_time is not False:
            raise VideoError(f"cannot skip existing frames in {out}: {source.path} is a live stream (it reports no "
                             "frame count), which cannot be rewound to the frames an earlier run fused; write to a new "
                             "folder")


def _note_live(src_a: FrameSource, src_b: FrameSource, default_rate_of: Path | None) -> None:
    """Say once that a live input's frames are paired as they come, not by time, where it does not wait for
    the fusion (:attr:`FrameSource.real_time`: a camera, a real-time stream; an http(s) video file waits,
    and pairs as a file does); and, where ``default_rate_of`` (a video output) runs at :data:`DEFAULT_FPS`
    for want of a reported rate, so."""
    if src_a.real_time is not False and src_b.real_time is not False:
        say_note(f"{src_a.path} and {src_b.path} are live: their frames are paired as each delivers them, not by "
                 "time (nothing synchronises them), so a pair's two frames may be a frame or more apart; cameras "
                 "triggered together (a rig's sync cable) pair the same moments")
    elif src_a.real_time is not False or src_b.real_time is not False:
        live, other = (src_a, src_b) if src_a.real_time is not False else (src_b, src_a)
        say_note(f"{live.path} is live: its frames are paired with {other.path}'s as they come, not by time")
    if default_rate_of is not None:
        say_note(f"neither input reports a frame rate: {default_rate_of} runs at {DEFAULT_FPS:g} fps "
                 "(--fps sets it)")


def _note_skipped(sources: tuple[FrameSource, FrameSource], done: int, seconds: float) -> None:
    """Say once, at the end, of each input read for its newest frame (a camera, a real-time stream:
    :attr:`FrameSource.skipped`), how many of the frames it sent were skipped to keep up with the fusion,
    and the fusion's pace (``done`` pairs in ``seconds``): where the video's time went.

    Example:
        >>> import defusion.io.notes as notes
        >>> camera = FrameSource(); camera.path, camera.received, camera.skipped = "cam:0", 530, 412
        >>> with notes.collecting() as said:
        ...     _note_skipped((camera, FrameSource()), 118, 38.0)
        >>> said  # doctest: +NORMALIZE_WHITESPACE
        ['note: cam:0: 412 of 530 frames skipped to keep up (each pair fused took its newest): fusion ran
        at 3.11 fps']
    """
    pace = done / seconds if seconds > 0 else float("inf")
    for source in sources:
        if source.skipped:
            say_note(f"{source.path}: {source.skipped} of {plural(source.received, 'frame')} skipped to keep up "
                     f"(each pair fused took its newest): fusion ran at {pace:.3g} fps")


def _warn_live_pace(done: int, seconds: float, rate: float, sources: tuple[FrameSource, FrameSource],
                    warn: Callable[[str], None]) -> None:
    """Warn where a live input that does not wait for the fusion (:attr:`FrameSource.real_time`) was fused
    at under :data:`LIVE_PACE_SHARE` of the output video's ``rate``: the video plays faster than it
    happened, as each pair took a camera's or real-time stream's newest frame, those it sent meanwhile
    skipped (:func:`_note_skipped` counts them); an http stream of no frame count is read in order, so
    its frames were dropped or queued, the fusion falling behind. The
    ``--fps`` that plays it at its pace is given where that is known (a camera, a real-time stream), with
    what it does to an input that waits (a file's frames then play slow); for an http stream of no frame
    count, which may be a file served, only for the case that it is live.

    Example:
        >>> camera = FrameSource(); camera.path, camera.real_time = "cam:0", True
        >>> _warn_live_pace(60, 20.0, 30.0, (camera, camera), print)  # doctest: +NORMALIZE_WHITESPACE
        fused 3 frames/s, under the output's 30 fps: a live input does not wait for the fusion, so each pair
        fused took its newest frame, those it sent meanwhile skipped, and the video may play up to 10x
        faster than it happened; --fps 3 plays it at about the pace it was fused
    """
    pace = done / seconds if seconds > 0 else float("inf")
    if done < 2 or pace >= LIVE_PACE_SHARE * rate:  # one frame is no pace
        return
    sure = [source for source in sources if source.real_time]
    maybe = [source for source in sources if source.real_time is None]
    waits = [source for source in sources if source.real_time is False]
    said = f"fused {pace:.3g} frames/s, under the output's {rate:.4g} fps: "
    faster = f"the video may play up to {rate / pace:.2g}x faster than it happened"
    dropped = f"the frames it sent meanwhile were dropped (or queued, the fusion falling behind), and {faster}"
    slower = f" (and {waits[0].path}'s frames slower than at its own rate: it waits)" if waits else ""
    if sure:
        warn(f"{said}a live input does not wait for the fusion, so each pair fused took its newest frame, those it "
             f"sent meanwhile skipped, and {faster}; --fps {pace:.3g} plays it at about the pace it was fused{slower}")
    elif maybe:
        warn(f"{said}if {maybe[0].path} is a live stream (not a video file served), it does not wait for the fusion, so "
             f"{dropped}; for such a stream, --fps {pace:.3g} plays it at about the pace it was fused{slower}; if it is a "
             "video file served, it waited for the fusion: leave --fps as it is")


def _warn_on_stderr(message: str) -> None:
    """:func:`fuse_videos`'s default ``warn``: a ``defusion: warning:`` line on stderr, above the progress
    bar where one is drawn (an input that ends early is found inside it)."""
    from tqdm import tqdm

    tqdm.write(f"defusion: warning: {message}", file=sys.stderr)


def _frame_pairs(src_a: FrameSource, src_b: FrameSource, max_frames: int | None, counts_differ: bool,
                 warn: Callable[[str], None], note: Callable[[str], None]) -> Iterator[_Pair]:
    """The inputs' frames paired by index, at most ``max_frames``; where a frame cannot be read or is of
    another size than its input's first (:func:`other_size`), a :class:`BadPair` saying why in its place,
    and the pairs after it go on; ``note`` told the span of float frames (:func:`note_float_spans`).
    ``warn`` is told when one input ends before the other, unless their known lengths already
    differed (``counts_differ``: said before the first frame)."""
    frames_a, frames_b = src_a.frames(), src_b.frames()
    noted: set[int] = set()
    index = 0
    while max_frames is None or index < max_frames:
        frame_a, frame_b = next(frames_a, None), next(frames_b, None)
        if frame_a is None or frame_b is None:
            if (frame_a is None) != (frame_b is None) and not counts_differ:
                ended = src_a if frame_a is None else src_b
                how = "stopped sending frames (the stream ended or stalled)" if ended.live else "ended"
                warn(f"{ended.path} {how} after {index} frames, before the other input; fused the first {index}")
            return
        pair = _checked_pair(index, (src_a, src_b), (frame_a, frame_b))
        note_float_spans((src_a, src_b), noted, note)
        yield pair
        index += 1


def _checked_pair(index: int, sources: tuple[FrameSource, FrameSource],
                  frames: tuple[np.ndarray | BadFrame, np.ndarray | BadFrame]) -> _Pair:
    """Pair ``index``'s ``frames``, or a :class:`BadPair` where one is unreadable (a :class:`BadFrame`)
    or of another size than its input's first (:func:`other_size`), saying why of each."""
    problems, resized = [], False
    for source, frame in zip(sources, frames):
        if isinstance(frame, BadFrame):
            problems.append(frame.problem)
            continue
        problem = other_size(source, frame, index)
        if problem is not None:
            problems.append(problem)
            resized = True
    if problems:
        return BadPair(index, "; and ".join(problems), resized)
    return frames  # both arrays: neither is a BadFrame


class _SteadyStream:
    """Fuses a stream's frame pairs with what the first pair that holds no shutter frame fixes: the order,
    the alignment and deghost reference (:meth:`_set_up`), the stretch and palette (:meth:`_fixed`); the
    pairs before it (a thermal camera's shutter, NUC, frames) each set up on itself, as it comes."""

    def __init__(self, fuser: Fuser, paths: list[Path],
                 on_first: Callable[[list[Path], list[np.ndarray]], None] | None,
                 on_measured: Callable[[list[Path], list[np.ndarray], int], None] | None = None) -> None:
        self.fuser, self.paths, self.on_first, self.on_measured = fuser, paths, on_first, on_measured
        self.swap: bool | None = None  # set on each pair until one holds no shutter frame, then kept
        self.measured = False  # whether a pair without a shutter frame was seen (all fixed on it; on_measured told)
        self.steady = fuser

    def start(self, frame_a: np.ndarray, frame_b: np.ndarray) -> None:
        """Set the stream up on its first pair (:meth:`_set_up`) and fix on it what it fixes (:meth:`_fixed`;
        fusing it fixes nothing more), before the progress bar is drawn: what ``on_first`` and
        ``on_measured`` say is then whole lines, not glued to the bar's; a size or rig error a VideoError."""
        try:
            self._fixed(0, frame_a, frame_b)
        except (SizeMismatchError, RigError) as exc:
            raise VideoError(f"frame 0: {exc}") from None

    def fuse(self, index: int, frame_a: np.ndarray, frame_b: np.ndarray) -> np.ndarray:
        """Pair ``index`` fused; a size or rig error a VideoError naming the frame."""
        try:
            pair = self._fixed(index, frame_a, frame_b)  # first: it may set the steady fuser up on this pair
            return self.steady.fuse(*pair)
        except (SizeMismatchError, RigError) as exc:
            raise VideoError(f"frame {index}: {exc}") from None

    def pass_over(self, index: int, frame_a: np.ndarray, frame_b: np.ndarray) -> None:
        """Pair ``index`` not fused (its frame is kept from an earlier run), but what fusing it fixes for
        the stream fixed (:meth:`_fixed`), so that the pairs after it are fused as in a run from the start."""
        try:
            self._fixed(index, frame_a, frame_b)
        except (SizeMismatchError, RigError) as exc:
            raise VideoError(f"frame {index}: {exc}") from None

    def _fixed(self, index: int, frame_a: np.ndarray, frame_b: np.ndarray) -> list[np.ndarray]:
        """Pair ``index`` in the stream's order, the steady fuser fixed on it where it is not yet
        (:meth:`_set_up`, :func:`fixed_for_stream`): until a pair holds no shutter frame, each is set
        up on itself, as its own fusion would be (a shutter frame's flat band tells neither the order
        nor which frame is best exposed); the first that holds none fixes all, and ``on_measured`` is told."""
        if not self.measured:
            self._set_up(frame_a, frame_b)
        pair = [frame_b, frame_a] if self.swap else [frame_a, frame_b]
        self.steady = fixed_for_stream(self.fuser, self.steady, pair)
        if not self.measured and not holds_shutter_frame(pair):
            self.measured = True
            if self.on_measured is not None:
                self.on_measured(self.paths[::-1] if self.swap else list(self.paths), pair, index)
        return pair

    def _set_up(self, frame_a: np.ndarray, frame_b: np.ndarray) -> None:
        """Set the stream's order on this pair (the one the fuser gives it; a rig's frames stay in its
        cameras' order: it maps b's onto a's) and its steady fuser (:func:`steady_fuser`), and tell
        ``on_first`` of the first frames in that order."""
        first = self.swap is None
        self.swap = self.fuser.options.rig is None and self.fuser.input_order(frame_a, frame_b) == [1, 0]
        pair = [frame_b, frame_a] if self.swap else [frame_a, frame_b]
        if first and self.on_first is not None:
            self.on_first(self.paths[::-1] if self.swap else list(self.paths), pair)
        self.steady = steady_fuser(self.fuser, pair)


def open_inputs(a: str | Path | FrameSource, b: str | Path | FrameSource,
                max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[FrameSource, FrameSource]:
    """Both inputs opened (:func:`open_frames`; one given opened kept as it is), one camera given twice
    refused first (:func:`~defusion.fusion.video.live.check_distinct_devices`); on a failure, or Ctrl-C
    while one opens (a stream may take seconds), both closed again, those given opened too. ``defusion
    video`` opens them so before its model loads, so that a bad URL or an unplugged camera is said at once.

    Example:
        >>> open_inputs("cam:0", "cam:0")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.video.errors.VideoError: cam:0 is given twice: a camera streams to one reader at a time...
    """
    opened: list[FrameSource] = []
    try:
        check_distinct_devices(_spec(a), _spec(b))
        for source in (a, b):
            opened.append(source if isinstance(source, FrameSource) else open_frames(source, max_pixels))
    except BaseException:
        for source in opened:
            source.close()
        _close_given(*(source for source in (a, b) if not any(source is kept for kept in opened)))
        raise
    return opened[0], opened[1]


def _spec(source: str | Path | FrameSource) -> LiveSpec | None:
    """The live source ``source`` is or names (:func:`live_spec`), or None for a file or folder."""
    if isinstance(source, FrameSource):
        return getattr(source, "spec", None)
    return live_spec(source)


def _close_given(*sources: str | Path | FrameSource) -> None:
    """Close those of ``sources`` given opened (a path given is nothing to close)."""
    for source in sources:
        if isinstance(source, FrameSource):
            source.close()


def _check_sizes(fuser: Fuser, src_a: FrameSource, src_b: FrameSource) -> None:
    """Refuse inputs whose frames cannot be fused together: of different sizes, or, with a calibrated
    rig (which maps b's frames onto a's, whatever their sizes), of sizes other than its cameras'."""
    if fuser.options.rig is not None:
        try:
            fuser.options.rig.check_sizes([src_a.size, src_b.size])
        except RigError as exc:
            raise VideoError(f"{src_a.path} and {src_b.path}: {exc}") from None
    elif src_a.size != src_b.size:
        raise VideoError(
            f"frames differ in size: {src_a.path} is {src_a.size[0]}x{src_a.size[1]}, {src_b.path} is "
            f"{src_b.size[0]}x{src_b.size[1]} (WxH); fusion needs registered inputs of one size (two cameras "
            "side by side: calibrate them with defusion calibrate and pass --rig)")


def _common_length(src_a: FrameSource, src_b: FrameSource, max_frames: int | None,
                   warn: Callable[[str], None]) -> tuple[int | None, bool]:
    """How many frames will be fused, where known (for the progress bar), and whether the inputs'
    known lengths differ: then ``warn`` is told that their common length is fused."""
    counts_differ = src_a.count is not None and src_b.count is not None and src_a.count != src_b.count
    if counts_differ:
        common = min(src_a.count, src_b.count)
        warn(f"{src_a.path} has {src_a.count} frames and {src_b.path} has {src_b.count}; "
             f"fusing the common {common}")
    known = [c for c in (src_a.count, src_b.count, max_frames) if c is not None]
    return (min(known) if known else None), counts_differ


def _warn_misnumbered(src_a: FrameSource, src_b: FrameSource, max_frames: int | None,
                      warn: Callable[[str], None]) -> None:
    """Warn, before fusing, where two frame folders' file names show that pairing by index pairs
    different frames (:func:`misnumbered_pair`): a frame missing from one shifts every later pair."""
    if src_a.files is None or src_b.files is None:
        return
    index = misnumbered_pair(src_a.files, src_b.files, max_frames)
    if index is None:
        return
    warn(f"frame {index} pairs {src_a.files[index]} with {src_b.files[index]}: a frame missing from one folder? "
         "frames are paired by their order in each folder, not by name, so every later pair mixes two moments; "
         "remove the frames the other folder lacks (or add them) so that both hold the same frames")


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


__all__ = ["DEFAULT_FPS", "FPS_TOLERANCE", "VideoResult", "fuse_videos", "open_inputs"]
