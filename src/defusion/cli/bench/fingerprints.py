"""Fingerprints of the files a ``defusion bench`` run reads, recorded in RUN_FILE so that a resumed
run rescores what changed: the pairs' sources, and the published (``--fused``) results as this run
finds them, with the JPEG qualities of the first of them, or the lossless format they are all stored in
(:mod:`defusion.cli.bench.jpeg_note`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from defusion.cli.bench.run_file import mapping_in
from defusion.cli.errors import UserError


#: Hex digits of a file's SHA-1 kept as its fingerprint in RUN_FILE.
FINGERPRINT_DIGITS = 16


#: How many of a published method's JPEG results are read for the quality they were saved at.
JPEG_FILES_READ = 5
#: Suffixes of formats that store 8- and 16-bit images without loss (PNG, TIFF, BMP, Netpbm, TGA): a
#: --fused method whose every result is one of these is scored lossless (WebP, lossy or not, is not told).
LOSSLESS_SUFFIXES = (".png", ".tif", ".tiff", ".bmp", ".ppm", ".pgm", ".pnm", ".tga")


def digest(path: Path) -> str:
    """A fingerprint of the file's bytes."""
    import hashlib

    return hashlib.sha1(path.read_bytes()).hexdigest()[:FINGERPRINT_DIGITS]


def readable_digest(path: Path) -> str | None:
    """:func:`digest` of a file, or None where it cannot be read (permission denied, an I/O error):
    no fingerprint is recorded for it, and the evaluation, reading it too, leaves it out and says why."""
    try:
        return digest(path)
    except OSError:
        return None


@dataclass
class Unreadable:
    """What this run could not fingerprint, as it could not read it: the evaluation leaves it out and
    says why (exit status 1), and an earlier run's scores of it are not kept
    (:func:`~defusion.cli.bench.resume.previous_rows`), since nothing tells whether the file changed since."""

    pairs: set[str]  # pairs with a source that cannot be read
    results: set[tuple[str, str]]  # (method, pair) of published results that cannot be read


@dataclass
class Published:
    """The ``--fused`` results as this run finds them (:func:`published_fingerprints`)."""

    files: dict[str, dict[str, str]]  # {method: {stem: digest of the file's bytes}} of those fingerprinted
    unreadable: set[tuple[str, str]]  # (method, stem) of those fingerprinted that cannot be read
    present: dict[str, set[str]]  # {method: the stems it has a result file of}, fingerprinted or not
    jpeg: dict[str, list[tuple[int, bool]]] = field(default_factory=dict)  # {method: (quality, exact) of its first JPEGs}
    lossless: dict[str, str] = field(default_factory=dict)  # {method: its formats}, every result stored lossless


def published_fingerprints(fused_dirs: dict[str, Path], stems: list[str], recorded: dict
                           ) -> Published:
    """Fingerprints of the published results of the pairs this run scores (``stems``), so that a resumed
    run rescores a result whose file changed, and of those whose scores an earlier run (its ``recorded``
    RUN_FILE) fingerprinted, since a resume keeps those scores; not of the others (--limit: a few pairs
    of a benchmark's hundreds of results are read, and run.json records only those). Those that cannot
    be read get none (:func:`readable_digest`). A pattern matching two files of a pair is refused."""
    from defusion.io.jpeg import is_jpeg_name, jpeg_quality
    from defusion.io.pairs import PairsError, results_by_stem

    earlier = mapping_in(recorded, "fused_files")
    published = Published({}, set(), {})
    for name, folder in fused_dirs.items():
        try:
            files = results_by_stem(folder)
        except PairsError as exc:  # {ext} matching two files of one pair
            raise UserError(f"--fused {name}: {exc}") from None
        wanted = set(stems) | set(mapping_in(earlier, name))
        published.present[name], published.files[name] = set(files), {}
        for stem in sorted(wanted & files.keys()):
            fingerprint = readable_digest(files[stem])
            if fingerprint is None:
                published.unreadable.add((name, stem))
            else:
                published.files[name][stem] = fingerprint
        jpegs = [files[stem] for stem in sorted(set(stems) & files.keys()) if is_jpeg_name(files[stem])]
        qualities = [found for found in map(jpeg_quality, jpegs[:JPEG_FILES_READ]) if found is not None]
        if qualities:
            published.jpeg[name] = qualities
        formats = lossless_formats([files[stem] for stem in sorted(set(stems) & files.keys())])
        if formats:
            published.lossless[name] = formats
    return published


def lossless_formats(paths: list[Path]) -> str | None:
    """The formats of result files all stored lossless (:data:`LOSSLESS_SUFFIXES`), as a note names them,
    or None where there is none, or one is not (a JPEG, a WebP).

    Example:
        >>> lossless_formats([Path("01.png"), Path("02.TIF"), Path("03.png")]), lossless_formats([Path("01.jpg")])
        ('PNG, TIF', None)
    """
    suffixes = [path.suffix.lower() for path in paths]
    if not suffixes or any(suffix not in LOSSLESS_SUFFIXES for suffix in suffixes):
        return None
    return ", ".join(dict.fromkeys(suffix.lstrip(".").upper() for suffix in suffixes))


def source_fingerprints(pairs: list[tuple[str, Path, Path]]) -> dict[str, list[str]]:
    """{stem: [digest of the first source, of the second]} of the ``pairs`` this run evaluates
    (:func:`~defusion.benchmark.runner.evaluated_pairs`): a resumed run rescores a pair whose sources
    changed (or were swapped), since every method's scores of it were made against the old ones.
    A pair with a source that cannot be read (:func:`readable_digest`) gets none; the evaluation
    leaves it out and says why."""
    fingerprints = {}
    for stem, a, b in pairs:
        digests = [readable_digest(a), readable_digest(b)]
        if None not in digests:
            fingerprints[stem] = digests
    return fingerprints
