"""``defusion video``: fuse two videos (or two folders of frames) frame by frame."""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.errors import EXIT_INTERRUPTED, UserError, close_progress_bars
from defusion.cli.options import (add_fusion_options, add_model_options, add_onnx_option, check_tile, fusion_options,
                                  make_fuser, positive_int, same_path)
from defusion.fusion.errors import SizeMismatchError
from defusion.io.errors import ImageReadError
from defusion.io.formats import DEFAULT_MAX_PIXELS
from defusion.model.errors import WeightsError

if TYPE_CHECKING:
    import numpy as np

    from defusion.fusion.fuser import Fuser

HELP = ("fuse two registered videos (or folders of frames), or a calibrated camera rig's (--rig), frame by frame: "
        "A B -o OUT.mp4 (or OUTDIR/)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("a", type=Path, help="first video, or a folder of frames (natural sorted order)")
    p.add_argument("b", type=Path, help="second video, or a folder of frames")
    p.add_argument("-o", "--output", required=True,
                   help="output video (.mp4, .m4v, .mov, .avi; mp4v codec), or a folder for PNG frames")
    add_model_options(p)
    add_onnx_option(p)
    add_fusion_options(p)
    p.add_argument("--max-frames", type=int, default=None, help="fuse at most this many frames")
    p.add_argument("--fps", type=float, default=None,
                   help="output frame rate (default: the first input video's, else 25)")
    p.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse frames with more pixels (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def _check(args: argparse.Namespace) -> Path:
    from defusion.fusion.video import output_kind

    if args.max_frames is not None and args.max_frames < 1:
        raise UserError("--max-frames must be at least 1")
    if args.fps is not None and not args.fps > 0:
        raise UserError("--fps must be positive")
    check_tile(args)
    if args.max_pixels <= 0:
        raise UserError("--max-pixels must be positive")
    out = Path(args.output)
    if out.exists() and out.is_file() and output_kind(out) == "frames":
        raise UserError(f"{out} is a file: give a video name (.mp4, .avi, ...) or a folder")
    output_kind(out)  # raises for an unknown suffix
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
    """{name: (inode, modification time)} of the frame files (frame_000000.png, ...) in ``folder``:
    after an interrupt, those that changed are this run's."""
    from defusion.fusion.video import FRAME_NAME

    found = {}
    for index in itertools.count():
        try:
            stat = (folder / FRAME_NAME.format(index)).stat()
        except OSError:  # the first index missing ends the sequence
            return found
        found[FRAME_NAME.format(index)] = (stat.st_ino, stat.st_mtime_ns)
    return found


def _kept(out: Path, before: dict[str, tuple[int, int]] | None, fused: int) -> str:
    """What an interrupted run leaves: a video is written only whole (its ``fused`` frames are
    discarded); a frame folder keeps the frames fused (``before``: its frame files before this run)."""
    if before is None:
        left = f"; {out} is left as it was" if out.exists() else ""
        if not fused:
            return f"no frame was fused yet{left}"
        return (f"{fused} fused frame{' was' if fused == 1 else 's were'} discarded: a video is written only once "
                f"complete{left}")
    after = _frame_files(out)  # in index order, from frame 0
    names = list(after)
    fused = next((i for i, name in enumerate(names) if after[name] == before.get(name)), len(names))
    if not fused:
        return f"no frame was fused yet; {out} holds no new frame"
    span = names[0] if fused == 1 else f"{names[0]} to {names[fused - 1]}"
    older = len(names) - fused
    return (f"the {fused} frame{' fused is' if fused == 1 else 's fused are'} kept in {out} ({span})"
            + (f"; the {older} after {'it' if fused == 1 else 'them'} {'is' if older == 1 else 'are'} an earlier "
               "run's" if older else ""))


def _note_first_frames(fuser: Fuser, paths: list[Path], frames: list[np.ndarray]) -> None:
    """Say of the first frames what ``defusion fuse`` says of its images, once for the whole video,
    which keeps both: the raw thermal frames stretched and how (--stretch auto: the mapping measured
    on them, with the sharing the video measures it with), and which one --palette colours where the
    core had to guess."""
    from defusion.cli.fuse.fusion_notes import note_infrared, note_stretched

    if fuser.options.stretch == "auto":
        note_stretched(paths, frames, fuser.options.stretch_shared)
    if fuser.options.palette != "none" and fuser.options.infrared is None:
        note_infrared(paths, frames, fuser)


def run(args: argparse.Namespace) -> int:
    from defusion.fusion.video import VideoInterrupted, fuse_videos, output_kind
    from defusion.io.notes import note

    out = _check(args)
    for path in (args.a, args.b):
        if not path.exists():
            raise UserError(f"{path}: no such file or folder")
    _check_not_a_source(out, (args.a, args.b))
    if same_path(args.a, args.b):
        print(f"defusion: warning: {args.a} and {args.b} are the same {'folder' if args.a.is_dir() else 'file'}: "
              "each frame is fused with itself", file=sys.stderr)
    fuser = make_fuser(args, fusion_options(args))
    before = _frame_files(out) if output_kind(out) == "frames" else None
    try:
        result = fuse_videos(fuser, args.a, args.b, out, max_frames=args.max_frames, fps=args.fps,
                             max_pixels=args.max_pixels, progress=not args.no_progress,
                             on_first=lambda paths, frames: _note_first_frames(fuser, paths, frames),
                             note=lambda said: note(f"{said} (--stretch does not apply to float frames)"))
    except KeyboardInterrupt as exc:
        close_progress_bars()
        fused = exc.frames if isinstance(exc, VideoInterrupted) else 0  # a plain one: before the first frame
        print(f"defusion: interrupted; {_kept(out, before, fused)}", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"fused {result.frames} frames in {result.seconds:.1f} s ({result.fps:.2f} frames/s) into {result.output}",
          file=sys.stderr)
    return 0


# VideoError and OnnxModelError (a bad --onnx file) are ValueErrors.
EXPECTED_ERRORS = (ImageReadError, SizeMismatchError, WeightsError, FileNotFoundError, ValueError, OSError)
