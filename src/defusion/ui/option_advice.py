"""Warnings and notes on the kind of images and options chosen: those the kind does not suit, and
those the uploads' EXIF speaks against, as ``defusion fuse`` says them."""

from __future__ import annotations

from typing import Sequence

from defusion.fusion.deghost import deghost_focus_note, deghost_infrared_warning
from defusion.fusion.fuser import FuseOptions
from defusion.io.shots import (ShotSettings, bracket_advice, exif_shows, focus_stack_advice, shows_exposure_bracket,
                               shows_one_exposure, sources_on_bracket_warning)
from defusion.ui.options import choose_kind, default_pixels

#: The sidebar's *Remove ghosts* choice, as the warnings on it name it.
DEGHOST_CHOICE = "*Remove ghosts*"


def option_warnings(task: str | None, pixels: str, align: str, deghost: bool = False) -> list[str]:
    """Options the kind of images does not suit, as the docs measured them; ``deghost`` (Remove
    ghosts) on a focus stack or with pixels from the sources, whose focus changes it takes for motion,
    and on an infrared + visible pair, whose content differs (as ``defusion fuse --deghost`` warns).

    Example:
        >>> option_warnings("ivf", "sources", "none")[0][:40]
        'Pixels from the sources takes each regio'
        >>> option_warnings("mff", "sources", "none", deghost=True)[0][:45]
        '*Remove ghosts* takes a focus change for moti'
        >>> option_warnings("ivf", "network", "none", deghost=True)[0][:50]
        "*Remove ghosts* compares the images' content, whic"
    """
    warnings = []
    if pixels == "sources" and task in ("ivf", "mef"):
        warnings.append("Pixels from the sources takes each region from one image: right for focus stacks, but "
                        f"{'an infrared + visible pair' if task == 'ivf' else 'an exposure bracket'} needs both "
                        "mixed; *network*, the default, mixes them.")
    if align != "none" and task == "ivf":
        warnings.append("Align registers images of one camera by their content; an infrared and a visible image "
                        "do not match in content: for two cameras side by side, upload their rig file instead.")
    said = (deghost_infrared_warning(DEGHOST_CHOICE, task), deghost_focus_note(DEGHOST_CHOICE, task, pixels))
    warnings += [f"{line}." for line in said if line and deghost]
    return warnings


def exif_advice(settings: Sequence[ShotSettings], names: Sequence[str], options: FuseOptions,
                task: str | None) -> tuple[list[str], list[str]]:
    """(warnings, notes) on the kind of images chosen (``task``) that the uploads' EXIF
    (``settings``, :func:`defusion.io.shots.upload_settings` of each, named ``names``) speaks
    against, as ``defusion fuse`` says them: pixels from the sources on an exposure bracket; a
    bracket or a focus stack fused as general images. None for an infrared + visible pair or a
    rig's cameras (a palette, an infrared image or a rig chosen), each exposing for its own sensor,
    nor where the kind's own warning says it (pixels from the sources on "exposure bracket").

    Example:
        >>> from defusion.ui.options import fuse_options
        >>> camera = ("Canon", "EOS R6")
        >>> bracket = [ShotSettings(camera, (6000, 4000), 1 / 250, -2.0), ShotSettings(camera, (6000, 4000), 1 / 15, 2)]
        >>> warnings, notes = exif_advice(bracket, ["ev-2.jpg", "ev+2.jpg"], fuse_options(), None)  # general images
        >>> print(warnings, notes[0])  # doctest: +ELLIPSIS
        [] the EXIF of ev-2.jpg, ev+2.jpg shows an exposure bracket (...): choose "exposure bracket" under Kind of ...
        >>> exif_advice(bracket, ["ev-2.jpg", "ev+2.jpg"], fuse_options(task="mef"), "mef")  # the kind suits them
        ([], [])
    """
    if options.palette != "none" or options.infrared is not None or options.rig is not None:
        return [], []
    bracket = shows_exposure_bracket(settings)
    if options.pixels == "sources" and bracket and task != "mef":
        given = 'the kind "focus stack"' if task == "mff" else "pixels from the sources"
        return [sources_on_bracket_warning(exif_shows(names, "an exposure bracket"), given,
                                           choose_kind("mef"))], []
    if task is not None:
        return [], []
    if bracket:
        return [], [bracket_advice(exif_shows(names, "an exposure bracket"), choose_kind("mef"))]
    if options.pixels == default_pixels(task) and shows_one_exposure(settings):
        return [], [focus_stack_advice(exif_shows(names, "one exposure"), choose_kind("mff"))]
    return [], []


__all__ = ["DEGHOST_CHOICE", "option_warnings", "exif_advice"]
