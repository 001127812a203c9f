"""The title of ``defusion bench``'s summary: the task, the data set and its two sources' folders, the
weights where not the shipped ones, and the JPEG encoding of the built-in methods' results."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from defusion.io.formats import JPEG_MATCH


def folder_name(folder: Path) -> str:
    """A folder's own name, also where it is given as ``.`` or ``..``.

    Example:
        >>> folder_name(Path("TNO/ir/")), folder_name(Path("/"))
        ('ir', '/')
    """
    return folder.resolve().name or str(folder)


def default_title(args: argparse.Namespace) -> str:
    """The task, the data set's folder, which folder is the first source and which the second
    (swapping them changes some methods' results), the weights where they are not the shipped ones, and
    the JPEG encoding the built-in methods' results were scored after (--jpeg-quality)."""
    from defusion.benchmark.report import sources_phrase

    dataset = args.dir_a.parent.name or args.dir_a.name
    return (f"{args.task.upper()}: {dataset} {sources_phrase((folder_name(args.dir_a), folder_name(args.dir_b)))}"
            + (f", weights {_weights_label(args.weights)}" if args.weights else "")
            + _encoding_phrase(args))


def with_encoding(title: str, args: argparse.Namespace) -> str:
    """A --title with :func:`_encoding_phrase` added, unless it says the encoding already.

    Example:
        >>> args = argparse.Namespace(jpeg_quality=75)
        >>> with_encoding("TNO, 21 pairs", args)
        'TNO, 21 pairs, built-in results as JPEG of quality 75'
        >>> with_encoding("TNO, built-in results as JPEG of quality 75", args)
        'TNO, built-in results as JPEG of quality 75'
    """
    phrase = _encoding_phrase(args)
    said = re.search(rf"\b{re.escape(phrase.lstrip(', '))}(?!\d)", title) if phrase else True
    return title if said else title + phrase


def _encoding_phrase(args: argparse.Namespace) -> str:
    """", built-in results as JPEG of quality 75" where --jpeg-quality is given (", built-in results
    stored as the published ones" for ``match``), else nothing: every title says it, a --title too, since
    it changes how the table's rows compare."""
    quality = getattr(args, "jpeg_quality", None)
    if quality == JPEG_MATCH:
        return ", built-in results stored as the published ones"
    return f", built-in results as JPEG of quality {quality}" if quality else ""


def _weights_label(weights: Path) -> str:
    """Weights as the title names them: the file with its folder (``run1/weights.safetensors``), since
    every training run's file has the same name; the file alone where it has no folder's name.

    Example:
        >>> _weights_label(Path("runs/run1/weights.safetensors")), _weights_label(Path("/tiny.safetensors"))
        ('run1/weights.safetensors', 'tiny.safetensors')
    """
    folder = weights.resolve().parent.name
    return f"{folder}/{weights.name}" if folder else weights.name
