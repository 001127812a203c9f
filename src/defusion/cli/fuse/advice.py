"""Advice on the options ``defusion fuse`` is given, said before the model loads (a long run can be
stopped and started right): options that do nothing with the task's pixels, --deghost on a focus
stack or an infrared + visible pair, and what the shots' EXIF shows (an exposure bracket, a focus
stack) against the --task given."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.fuse.file_names import said_names

if TYPE_CHECKING:
    from defusion.io.shots import ShotSettings

#: What fusing more than two images at the general defaults is told, where no EXIF said what they are.
MANY_WITHOUT_TASK = ("{count} images fused at the general defaults (made for any pair of images): for an "
                     "exposure bracket add --task mef, for a focus stack --task mff")


def reconstruction_options(args: argparse.Namespace, pixels: str) -> list[str]:
    """The options given that shape only the network's reconstruction (--unique-gain, --detail-gain)
    where the fused pixels come from the sources by --task's default (``pixels``, as the options
    resolved it, and no --pixels given): the result then takes nothing from them. Not --color: the
    colour mode changes what the network sees, and so the decision map that picks the pixels.

    Example:
        >>> given = argparse.Namespace(pixels=None, unique_gain=1.0, detail_gain=None, color="rgb")
        >>> reconstruction_options(given, "sources"), reconstruction_options(given, "network")
        (['--unique-gain'], [])
    """
    if args.pixels is not None or pixels != "sources":
        return []
    given = {"--unique-gain": args.unique_gain is not None, "--detail-gain": args.detail_gain is not None}
    return [option for option, on in given.items() if on]


def note_reconstruction_options(args: argparse.Namespace, pixels: str) -> None:
    """Say, once, that the reconstruction's options given do nothing with --task's pixels from the sources."""
    from defusion.io.notes import note

    given = reconstruction_options(args, pixels)
    if given:
        note(f"{', '.join(given)} shape{'s' if len(given) == 1 else ''} the network's reconstruction, but --task "
             f"{args.task} takes the fused pixels from the sources: add --pixels network for the network's fusion "
             "(the paper's)")


def note_deghost_on_focus(args: argparse.Namespace, pixels: str) -> None:
    """Say, once, that --deghost blurs a focus stack (--task mff, or pixels from the sources): a
    focus change looks like motion to it (deghost.deghost_focus_note: the web page's words)."""
    from defusion.fusion.deghost import deghost_focus_note
    from defusion.io.notes import note

    line = deghost_focus_note("--deghost", args.task, pixels) if getattr(args, "deghost", None) else None
    if line:
        note(line)


def warn_deghost_on_infrared(args: argparse.Namespace) -> None:
    """Warn, once, that --deghost with --task ivf replaces much of one image: it compares the images'
    content, which an infrared and a visible image do not share (deghost.deghost_infrared_warning:
    the web page's words; on TNO's pair 01 it replaced 77.9% of the visible image)."""
    from defusion.fusion.deghost import deghost_infrared_warning
    from defusion.io.notes import warn

    line = deghost_infrared_warning("--deghost", args.task) if getattr(args, "deghost", None) else None
    if line:
        warn(line)


def note_shots(args: argparse.Namespace, groups: list[list[Path]], pixels: str) -> dict[Path, tuple[int, int] | None]:
    """What the shots' EXIF says of the options given, before the model loads and the fusion starts
    (a long run can be stopped and started right): pixels from the sources on an exposure bracket,
    else a bracket or a focus stack fused without --task. Each shot's settings are read once, and only
    where a line could be said (--task given with the network's pixels: none). Returns the (width,
    height) the settings read of each shot (None: unknown), for the size note not to read it again."""
    from defusion.io.shots import group_settings

    if not _one_camera(args) or (args.task is not None and pixels != "sources"):
        return {}
    settings = [group_settings(group) for group in groups]
    said = _warn_pixels_on_bracket(args, groups, settings, pixels) or _note_bracket(args, groups, settings)
    said = _note_focus_stack(args, groups, settings) or said
    if not said:
        _note_many_without_task(args, groups)
    return {path: shot.size for group, shots in zip(groups, settings) for path, shot in zip(group, shots)}


def _note_many_without_task(args: argparse.Namespace, groups: list[list[Path]]) -> None:
    """Suggest a task, once, where a group of more than two images is fused with no --task nor --pixels
    and no EXIF told what they are (PNGs, exported frames): three or more images are mostly a bracket
    or a focus stack, which the general defaults fuse brighter and softer than their tasks'."""
    from defusion.io.notes import note

    if args.task is not None or getattr(args, "pixels", None) is not None or not _one_camera(args):
        return
    largest = max((len(group) for group in groups), default=0)
    if largest > 2:
        note(MANY_WITHOUT_TASK.format(count=largest if len(groups) == 1 else f"groups of up to {largest}"))


def _one_camera(args: argparse.Namespace) -> bool:
    """Whether the options leave the shots one camera's: --palette, --rig and --infrared say they are
    an infrared + visible pair (or a rig's cameras), each camera exposing for its own sensor."""
    return getattr(args, "palette", None) in (None, "none") and getattr(args, "rig", None) is None and \
        getattr(args, "infrared", None) is None


def _exif_shows(groups: list[list[Path]], found: list[str], one: str, many: str) -> str:
    """The start of a line on what the EXIF shows: of a single group's files, ``one``; else how many
    of the groups show ``many``, naming them (``found``: their names)."""
    from defusion.io.notes import listed
    from defusion.io.shots import exif_shows

    if len(groups) == 1:
        return exif_shows(said_names(groups[0]), one)
    return f"the EXIF of {len(found)} of {len(groups)} groups shows {many} ({listed(found)})"


def _brackets(groups: list[list[Path]], settings: list[list[ShotSettings]]) -> list[str]:
    """The names of the groups whose ``settings`` (:func:`defusion.io.shots.group_settings`, one list
    per group) show an exposure bracket (:func:`defusion.io.shots.shows_exposure_bracket`)."""
    from defusion.io.shots import group_name, shows_exposure_bracket

    return [group_name(group) for group, shots in zip(groups, settings) if shows_exposure_bracket(shots)]


def _note_bracket(args: argparse.Namespace, groups: list[list[Path]], settings: list[list[ShotSettings]]) -> bool:
    """Suggest --task mef, once, where no --task was given and a group's EXIF shows an exposure
    bracket (:func:`_brackets`): the general defaults blow out its highlights (21% of a 3-shot
    bracket near white against 1.6% with --task mef). Never with --palette, --rig or --infrared: an
    infrared + visible pair (or a rig's cameras), each camera exposing for its own sensor, is no bracket.
    Whether it said so."""
    from defusion.io.notes import note
    from defusion.io.shots import bracket_advice

    if args.task is not None or not _one_camera(args):
        return False
    brackets = _brackets(groups, settings)
    if not brackets:
        return False
    note(bracket_advice(_exif_shows(groups, brackets, "an exposure bracket", "exposure brackets"), "add --task mef"))
    return True


def _warn_pixels_on_bracket(args: argparse.Namespace, groups: list[list[Path]], settings: list[list[ShotSettings]],
                            pixels: str) -> bool:
    """Warn, once, where the fused pixels come from the sources (``pixels``, as --task mff or
    --pixels sources resolved it) and a group's EXIF shows an exposure bracket: each pixel taken
    from one exposure makes a blotchy patchwork of the bracket's brightness. Whether it warned."""
    from defusion.io.notes import warn
    from defusion.io.shots import sources_on_bracket_warning

    if pixels != "sources" or not _one_camera(args):
        return False
    brackets = _brackets(groups, settings)
    if not brackets:
        return False
    which = _exif_shows(groups, brackets, "an exposure bracket", "exposure brackets")
    given = "--pixels sources" if args.pixels == "sources" else f"--task {args.task}"
    fix = "--task mef" + (" without --pixels sources" if args.pixels == "sources" else "")
    warn(sources_on_bracket_warning(which, given, f"use {fix}"))
    return True


def _note_focus_stack(args: argparse.Namespace, groups: list[list[Path]],
                      settings: list[list[ShotSettings]]) -> bool:
    """Suggest --task mff, once, where no --task nor --pixels was given and a group's EXIF shows one
    exposure of one camera (:func:`defusion.io.shots.shows_one_exposure`): most likely a focus stack,
    which the general defaults blur and brighten. Not with --palette, --rig or --infrared (two cameras' images).
    Whether it said so."""
    from defusion.io.notes import note
    from defusion.io.shots import focus_stack_advice, group_name, shows_one_exposure

    if args.task is not None or getattr(args, "pixels", None) is not None or not _one_camera(args):
        return False
    stacks = [group_name(group) for group, shots in zip(groups, settings) if shows_one_exposure(shots)]
    if not stacks:
        return False
    note(focus_stack_advice(_exif_shows(groups, stacks, "one exposure", "one exposure each"), "add --task mff"))
    return True
