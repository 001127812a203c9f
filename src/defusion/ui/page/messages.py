"""What the page says around a fusion besides its images: what decoding the uploads said, what their
EXIF says of the kind of images chosen, what was done to the sources' values, and errors in the
page's own words (``defusion fuse`` says these on stderr, which a web user never sees)."""

from __future__ import annotations

import contextlib
from typing import Iterator, Sequence

import numpy as np
import streamlit as st

from defusion.fusion.fuser import FuseOptions
from defusion.io.front_end import reading_for
from defusion.io.notes import collecting, split_line
from defusion.io.pixel_bound import ImageTooLargeError
from defusion.ui.fusion_notes import float_note, stretch_notes
from defusion.ui.option_advice import exif_advice
from defusion.ui.page.caches import upload_float_range, upload_settings
from defusion.ui.upload_names import name_images, told_apart

#: How the page says the pixel bound is the UI's, for whoever started it to raise.
UI_LIMIT_HINT = "the UI's limit: whoever started it can raise it with defusion ui --max-pixels"


@contextlib.contextmanager
def said_on_page() -> Iterator[None]:
    """Show what decoding the uploads inside had to say (alpha ignored, only a TIFF's first page
    read, a broken EXIF block, ...; each line names its upload) on the page, as ``defusion fuse``
    says it on stderr: a web user never sees the server's. Shown also when decoding then fails. A float
    image's stretch is left to the page's own words (:func:`read_notes`), not noted by the reader too."""
    with collecting() as said, reading_for("ui"):
        try:
            yield
        finally:
            for kind, message in map(split_line, said):
                (st.warning if kind == "warning" else st.info)(message)


def advise_kind(task: str | None, options: FuseOptions, names: Sequence[str], files: list[bytes] | None) -> None:
    """Show what the uploads' EXIF says of the kind of images chosen (a bracket or a focus stack
    fused as general images, pixels from the sources on a bracket), as ``defusion fuse`` says it,
    before the fusion; not for an example (its kind is its own)."""
    if files is None:
        return
    settings = [upload_settings(data, name) for data, name in zip(files, names)]
    warnings, notes = exif_advice(settings, told_apart(names), options, task)
    for line in warnings:
        st.warning(line)
    for line in notes:
        st.info(line)


def read_notes(images: Sequence[np.ndarray], names: Sequence[str], files: list[bytes] | None, shared: bool | None,
               stretch: str) -> list[str]:
    """What was done to the sources' values before fusing, a line each, as the page shows them: a
    float upload outside 0 to 1 stretched by its range when read (whatever the stretch choice), and
    with ``stretch`` auto the raw 16-bit frames the fusion core stretched (ui.fusion_notes.stretch_notes)."""
    floats = [float_note(name, upload_float_range(data)) for data, name in zip(files or [], names)]
    raw = stretch_notes(list(images), list(names), shared) if stretch == "auto" else []
    return [line for line in floats if line] + raw


def noted(line: str | None) -> list[str]:
    """A note that may be None, as a list of lines to show."""
    return [line] if line else []


def error_text(exc: Exception, labels: Sequence[str]) -> str:
    """An input or fusion error as the page says it: the fusion core's "image N" named as the page
    names that image (``labels``: A and B, or a stack's file names); an image over the pixel bound,
    which names its file, with the bound as the UI's own."""
    if isinstance(exc, ImageTooLargeError):
        return str(exc.told(hint=UI_LIMIT_HINT))
    return name_images(str(exc), labels)
