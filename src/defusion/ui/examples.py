"""The built-in example pairs shipped in ``defusion/examples``: their files, their kind of images,
and reading them by the upload rules."""

from __future__ import annotations

from importlib import resources

import numpy as np

from defusion.serving.decode import decode_image
from defusion.ui.settings import DEFAULT_UI_MAX_PIXELS

#: Built-in example pairs shipped in ``defusion/examples``.
EXAMPLES: dict[str, tuple[str, str]] = {
    "Multi-exposure example (MEF)": ("mef_under.png", "mef_over.png"),
    "Multi-focus example (MFF)": ("mff_near.png", "mff_far.png"),
}
#: The task of each example pair.
EXAMPLE_TASKS: dict[str, str] = {"Multi-exposure example (MEF)": "mef", "Multi-focus example (MFF)": "mff"}


def load_example(name: str, max_pixels: int = DEFAULT_UI_MAX_PIXELS) -> tuple[np.ndarray, np.ndarray]:
    """The two images of a built-in example, read by the upload rules.

    Example:
        >>> a, b = load_example("Multi-focus example (MFF)")
        >>> a.shape, b.shape
        ((400, 600, 3), (400, 600, 3))
    """
    files = EXAMPLES[name]
    folder = resources.files("defusion") / "examples"
    return tuple(decode_image((folder / f).read_bytes(), f, max_pixels) for f in files)  # type: ignore[return-value]


__all__ = ["EXAMPLES", "EXAMPLE_TASKS", "load_example"]
