"""``defusion video``: fuse two videos (or two folders of frames, or live sources: a stream URL, a capture
device, a camera ``cam:N``) frame by frame."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.errors import EXIT_FAILED, EXIT_INTERRUPTED, UserError, close_progress_bars
from defusion.cli.options import (add_fusion_options, add_model_options, add_onnx_option, check_model_files,
                                  check_onnx_options, check_tile, fusion_options, make_fuser, positive_int, same_path)
from defusion.fusion.errors import SizeMismatchError
from defusion.io.errors import ImageReadError
from defusion.io.formats import DEFAULT_MAX_PIXELS
from defusion.model.errors import WeightsError

if TYPE_CHECKING:
    import numpy as np

    from defusion.fusion.fuser import Fuser

HELP = ("fuse two registered videos (or folders of frames, or live streams and cameras), or a calibrated camera rig's "
        "(--rig), frame by frame: A B -o OUT.mp4 (or OUTDIR/)")
#: How many inputs a video fuses: A and B (a rig's too, its two cameras), which ``--infrared`` picks from.
VIDEO_INPUTS = 2
#: What an input may be, in the inputs' help.
_LIVE_HELP = ("a stream URL (rtsp://, http://, udp://: anything scheme://; a file:// URL is the file it names), a "
              "capture device (/dev/video0), or a camera by index (cam:0 the first; a file named so is ./cam:0): "
              "live, fused until it ends, --max-frames, or Ctrl-C, which finishes the output there")


def add_arguments(p: argparse.ArgumentParser) -> None:
    # kept as written: a URL through Path would lose a slash (rtsp://h -> rtsp:/h)
    p.add_argument("a", help=f"first video, or a folder of frames (natural sorted order), or {_LIVE_HELP}")
    p.add_argument("b", help="second video, folder of frames, stream URL, capture device or cam:N")
    p.add_argument("-o", "--output", required=True,
                   help="output video (.mp4, .m4v, .mov, .avi; mp4v codec), or a folder for PNG frames")
    add_model_options(p)
    add_onnx_option(p)
    add_fusion_options(p)
    p.add_argument("--max-frames", type=int, default=None,
                   help="fuse at most this many frames (a live input: stop after them)")
    p.add_argument("--fps", type=float, default=None,
                   help="output frame rate (default: the first input video's or stream's, else 25)")
    p.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse frames with more pixels (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--skip-existing", action="store_true",
                   help="with -o DIR/: keep the frames already in the folder (an interrupted run's) instead of "
                        "fusing them again; the inputs are still decoded past them")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _check(args: argparse.Namespace) -> Path:
    from defusion.fusion.video import output_kind

    if args.max_frames is not None and args.max_frames < 1:
        raise UserError("--max-frames must be at least 1")
    if args.fps is not None and not args.fps > 0:
        raise UserError("--fps must be positive")
    check_tile(args)
    if args.infrared is not None and args.infrared > VIDEO_INPUTS:  # the fusion core would say it per frame
        raise UserError(f"--infrared {args.infrared} was asked for, but defusion video fuses {VIDEO_INPUTS} inputs "
                        "(A and B): give --infrared 1 where A is the infrared one, 2 where B is")
    if args.max_pixels <= 0:
        raise UserError("--max-pixels must be positive")
    out = Path(args.output)
    if out.exists() and out.is_file() and output_kind(out) == "frames":
        raise UserError(f"{out} is a file: give a video name (.mp4, .avi, ...) or a folder")
    if output_kind(out) == "video" and args.skip_existing:  # output_kind raises for an unknown suffix
        raise UserError(f"--skip-existing is for a folder of frames (-o DIR/): {out}, a video, is written only once "
                        "complete, so an interrupted one leaves nothing to go on from")
    return out


def _check_not_a_source(out: Path, sources: tuple[Path, ...]) -> None:
    """Refuse an output that is one of the inputs: a video renamed over it, or frames written into its folder."""
    for path in sources:
        if not same_path(out, path):
            continue
        if path.is_dir():
            raise UserError(f"-o {out}: is a source folder; fused frames would overwrite or mix with the sources")
        raise UserError(f"-o {out}: is one of the inputs; choose another output path "
                        "(defusion does not overwrite its sources)")


def _frame_files(folder: Path) -> dict[str, tuple[int, int]]:
    """{name: (inode, modification time)} of the frame files (frame_000000.png, ...) in ``folder``, in
    index order (a frame a run could not fuse leaves a gap): after an interrupt, those that changed are
    this run's."""
    from defusion.fusion.video.sinks import frame_files

    found = {}
    for path in frame_files(folder):
        try:
            stat = path.stat()
        except OSError:  # removed meanwhile
            continue
        found[path.name] = (stat.st_ino, stat.st_mtime_ns)
    return found


#: How an interrupted frame folder goes on where it stopped.
_GO_ON = "run the same command with --skip-existing to fuse the rest"


def _kept(out: Path, before: dict[str, tuple[int, int]] | None, fused: int, skip_existing: bool = False) -> str:
    """What an interrupted run leaves, and how to go on: a video is written only whole (its ``fused``
    frames are discarded; a frame folder would have kept them); a frame folder keeps the frames fused
    (``before``: its frame files before this run), and --skip-existing goes on from them."""
    if before is None:
        left = f"; {out} is left as it was" if out.exists() else ""
        if not fused:
            return f"no frame was fused yet{left}"
        return (f"{fused} fused frame{' was' if fused == 1 else 's were'} discarded: a video is written only once "
                f"complete{left}; to make a long job resumable, write frames instead (-o DIR/): an interrupted "
                "run then goes on where it stopped with --skip-existing")
    after = _frame_files(out)  # in index order, from frame 0
    names = list(after)
    new = [name for name in names if after[name] != before.get(name)]  # written by this run
    if not new:
        return f"no frame was fused yet; {out} holds no new frame"
    fused, others = len(new), len(names) - len(new)
    span = new[0] if fused == 1 else f"{new[0]} to {new[-1]}"
    kept = f"the {fused} frame{' fused is' if fused == 1 else 's fused are'} kept in {out} ({span})"
    if skip_existing:
        beside = f", beside the {others} already there" if others else ""
        return f"{kept}{beside}; run the same command to fuse the rest"
    if not others:
        return f"{kept}; {_GO_ON}"
    return (f"{kept}; the {others} after {'it' if fused == 1 else 'them'} {'is' if others == 1 else 'are'} an earlier "
            f"run's: {_GO_ON} (it keeps those too: remove them first if that run was not this command)")


#: Why the stretch and palette were measured on a later frame than the first (defusion video's words).
_SHUTTER_BEFORE = ("measured on frame {index}, the first with content: the frames before it hold (nearly) one "
                   "value, as a thermal camera's shutter (NUC) frame does")
#: Why the inputs' order (sorted by exposure: --task mef) was decided on a later frame than the first.
_ORDER_LATER = ("defusion: note: the inputs' order ({first} first) decided on frame {index}, the first with content, "
                "and kept for the whole video: the frames before it hold (nearly) one value, as a thermal camera's "
                "shutter (NUC) frame does, and were each fused as it came")


def _note_measured(fuser: Fuser, paths: list[Path], frames: list[np.ndarray], index: int) -> None:
    """Say of the frames the stretch and palette are measured on (the first without a shutter frame,
    pair ``index``) what ``defusion fuse`` says of its images, once for the whole video, which keeps
    both: the raw thermal frames stretched and how (--stretch auto: the mapping measured on them,
    with the sharing the video measures it with), and which one --palette colours where the core had
    to guess; and, past the first pair, on which frame, as of the inputs' order where they are sorted
    (:data:`_ORDER_LATER`)."""
    from tqdm import tqdm

    from defusion.cli.fuse.fusion_notes import note_infrared, palette_range_note
    from defusion.fusion.stretch import describe_stretch

    if index and fuser.options.order != "given" and fuser.options.rig is None:  # a rig keeps its cameras' order
        tqdm.write(_ORDER_LATER.format(first=paths[0], index=index), file=sys.stderr)
    later = f"; {_SHUTTER_BEFORE.format(index=index)}" if index else ""
    if fuser.options.stretch == "auto":
        for said in describe_stretch([path.name for path in paths], frames, fuser.options.stretch_shared):
            tqdm.write(f"defusion: note: {said}{later} (--stretch none keeps the values as they are)", file=sys.stderr)
    if fuser.options.palette != "none" and fuser.options.infrared is None:
        note_infrared(paths, frames, fuser)
    span = fuser.measure_palette(*frames) if fuser.options.palette != "none" and fuser.options.palette_range is None \
        else None
    said = palette_range_note(span, f"frame {index}" if index else "the first frames", ", kept for the whole video")
    if said:  # none where the span is narrower than the digits written (nearly flat infrared)
        tqdm.write(f"defusion: note: {said}", file=sys.stderr)


def _check_inputs(args: argparse.Namespace, out: Path) -> None:
    """Check the inputs as written, before they are opened: a file or folder that is not there (by its path,
    or a file:// URL: :func:`file_url_path`), an output that is one of them, one input given twice (one
    camera, however written, refused: :func:`check_distinct_devices`), --skip-existing with a live one that
    does not wait (:func:`live_spec`, :func:`sends_in_real_time`: a camera or real-time stream; an http(s)
    URL, which may be a file, is told once opened)."""
    from defusion.fusion.video.live import check_distinct_devices, file_url_path, live_spec, sends_in_real_time

    specs = [live_spec(text) for text in (args.a, args.b)]  # a VideoError for a cam: that is no camera
    check_distinct_devices(*specs)  # cam:0 and /dev/video0: one camera, which cannot stream twice
    files = [file_url_path(text) or Path(text) for text, spec in zip((args.a, args.b), specs) if spec is None]
    for path in files:
        if not path.exists():
            raise UserError(f"{path}: no such file or folder")
    _check_not_a_source(out, tuple(files))
    if len(files) == 2 and same_path(*files):
        print(f"defusion: warning: {files[0]} and {files[1]} are the same {'folder' if files[0].is_dir() else 'file'}: "
              "each frame is fused with itself", file=sys.stderr)
    elif specs[0] is not None and specs[0] == specs[1]:  # a URL (a camera twice is refused above)
        print(f"defusion: warning: {specs[0].name} is given twice: each frame is fused with (about) itself, where it "
              "can be opened twice at all", file=sys.stderr)
    if args.skip_existing and any(spec is not None and sends_in_real_time(spec) for spec in specs):
        raise UserError("--skip-existing goes on from an interrupted run's frames, but a live input (a stream or a "
                        "camera) cannot be rewound to them: write to a new folder")


def run(args: argparse.Namespace) -> int:
    from defusion.cli.fuse.fused_settings import check_kept, fused_settings, record_settings, settle_settings
    from defusion.fusion.video import VideoInterrupted, fuse_videos, output_kind
    from defusion.fusion.video.fusing import open_inputs
    from defusion.io.notes import note

    out = _check(args)
    _check_inputs(args, out)
    options = fusion_options(args)
    before = _frame_files(out) if output_kind(out) == "frames" else None
    settings = None if before is None else fused_settings(args, options)  # a frame folder's, as fuse's folders
    kept_others = check_kept(args, settings, len(before or ()), "frames") if args.skip_existing else False
    check_onnx_options(args)  # the model options' mistakes, said before a stream is waited for
    check_model_files(args)
    # the inputs opened before the model loads (seconds): a bad URL or an unplugged camera said at once; a
    # camera's reader drains it meanwhile (fusing takes its newest frame)
    sources = open_inputs(args.a, args.b, args.max_pixels)
    try:
        fuser = make_fuser(args, options)
    except BaseException:  # a model that cannot load, or Ctrl-C while it loads: the cameras let go
        for source in sources:
            source.close()
        raise

    def first_frames(paths: list[Path], frames: list[np.ndarray]) -> None:
        if settings is not None:
            record_settings(out, settings)  # the folder made, before the first frame is fused

    try:
        result = fuse_videos(fuser, *sources, out, max_frames=args.max_frames, fps=args.fps,
                             max_pixels=args.max_pixels, progress=not args.no_progress,
                             skip_existing=args.skip_existing, on_first=first_frames,
                             on_measured=lambda paths, frames, index: _note_measured(fuser, paths, frames, index),
                             note=lambda said: note(f"{said} (--stretch does not apply to float frames)"))
    except KeyboardInterrupt as exc:
        close_progress_bars()
        fused = exc.frames if isinstance(exc, VideoInterrupted) else 0  # a plain one: before the first frame
        if isinstance(exc, VideoInterrupted) and exc.kept is not None:  # a live input's: the output finished
            settle_settings(out, settings, kept_others=kept_others)
            print(f"defusion: interrupted; {_live_kept(exc.kept, fused, exc.seconds or 0.0, before is None)}",
                  file=sys.stderr)
        else:
            print(f"defusion: interrupted; {_kept(out, before, fused, args.skip_existing)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    settle_settings(out, settings, kept_others=kept_others)  # the folder holds this run's frames alone (fuse_videos removes any after them)
    print(f"fused {result.frames} frames in {result.seconds:.1f} s ({result.fps:.2f} frames/s) into {result.output}"
          + (f"; skipped the {result.skipped} already there" if result.skipped else "")
          + _failed(result.failed, before is None), file=sys.stderr)
    return EXIT_FAILED if result.failed else 0  # as defusion fuse's folder runs: a pair skipped fails the run


def _live_kept(out: Path, fused: int, seconds: float, video: bool) -> str:
    """What an interrupt leaves where an input is live: the output finished there, whole.

    Example:
        >>> _live_kept(Path("rig.mp4"), 120, 40.0, video=True)  # doctest: +NORMALIZE_WHITESPACE
        'fused 120 frames in 40.0 s (3.00 frames/s) into rig.mp4, a playable video: a live input runs until
        stopped, so stopping it ends the video there (--max-frames N stops after N)'
    """
    what = "a playable video" if video else "a folder of frames"
    rate = fused / seconds if seconds > 0 else float("inf")
    return (f"fused {fused} frame{'s' if fused != 1 else ''} in {seconds:.1f} s ({rate:.2f} frames/s) into {out}, "
            f"{what}: a live input runs until stopped, so stopping it ends the {'video' if video else 'frames'} "
            "there (--max-frames N stops after N)")


def _failed(failed: tuple[int, ...], video: bool) -> str:
    """The last line's count of the pairs that could not be fused (exit status 1), and how their places
    were kept (a video repeats the frame fused before each; a folder leaves their files out).

    Example:
        >>> _failed((2, 7), video=True)
        '; could not fuse 2 pairs (frames 2, 7: see the warnings above), each replaced by the frame fused before it'
    """
    from defusion.io.notes import listed, plural

    if not failed:
        return ""
    kept = "each replaced by the frame fused before it" if video else "their frames left out"
    return (f"; could not fuse {plural(len(failed), 'pair')} (frame{'s' if len(failed) > 1 else ''} "
            f"{listed([str(i) for i in failed])}: see the warnings above), {kept}")


# VideoError and OnnxModelError (a bad --onnx file) are ValueErrors.
EXPECTED_ERRORS = (ImageReadError, SizeMismatchError, WeightsError, FileNotFoundError, ValueError, OSError)
