"""``defusion bench``'s comparison grids (OUT/grids/<pair>.jpg): the sources and every method scored on
the pair whose image is at hand, this run's or a stored result unchanged since it was scored."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.bench.fingerprints import readable_digest
from defusion.cli.bench.run_file import mapping_in
from defusion.io.formats import DEFAULT_MAX_PIXELS
from defusion.io.notes import listed, note, plural

if TYPE_CHECKING:
    import numpy as np

    from defusion.benchmark.runner import Row


#: JPEG quality of the comparison grids.
GRID_JPEG_QUALITY = 90


def stored_results(out: Path, record: dict, fused_dirs: dict[str, Path]) -> dict[str, dict[str, Path]]:
    """{method: {stem: file}} of the results this run does not read itself that a grid can show:
    the ``--fused`` folders (or patterns) of earlier runs (``record``) that still exist, and the
    built-in methods' results saved in OUT/fused (--save-fused)."""
    from defusion.io.pairs import results_folder

    folders = {name: Path(folder) for name, folder in mapping_in(record, "fused_dirs").items()
               if name not in fused_dirs and isinstance(folder, str)}
    saved = out / "fused"
    if saved.is_dir():
        folders.update({p.name: p for p in sorted(saved.iterdir()) if p.is_dir() and p.name not in folders})
    return {name: files for name, folder in folders.items() if results_folder(folder).is_dir()
            for files in [_results_or_none(folder)] if files is not None}


def _results_or_none(where: Path) -> dict[str, Path] | None:
    """:func:`~defusion.io.pairs.results_by_stem` of an earlier run's folder or pattern, for a grid; None
    where a pattern now matches two files of a pair (which one was scored, nothing says)."""
    from defusion.io.pairs import PairsError, results_by_stem

    try:
        return results_by_stem(where)
    except PairsError:
        return None


class Grids:
    """Draws each evaluated pair's comparison grid (OUT/grids/<pair>.jpg) with every method scored
    on it whose image is at hand: this run's outputs, else a stored result (:func:`stored_results`,
    unchanged since it was scored, by ``fingerprints``). On a resume a built-in method is not run
    again for a grid, so some method's image may not be at hand: an existing grid is then kept where
    this run has no new image for the pair, and otherwise drawn without those methods, since keeping
    it would show the new methods' old images (:meth:`say_kept` says which, once). A stored result is
    read under ``max_pixels`` (--max-pixels), as the run reads the files it scores. The sources' tiles
    are labelled by their file names, as ``defusion fuse --compare`` names them, where the ``sources``
    folders (--a, --b) are given."""

    def __init__(self, folder: Path, previous: list[Row], stored: dict[str, dict[str, Path]],
                 fingerprints: dict[str, dict[str, str]], max_pixels: int = DEFAULT_MAX_PIXELS,
                 sources: tuple[Path, Path] | None = None) -> None:
        from defusion.io.pairs import images_by_stem

        self.folder, self.stored, self.max_pixels = folder, stored, max_pixels
        self.source_files = [images_by_stem(f) for f in sources] if sources and all(Path(f).is_dir() for f in sources) else []
        self.fingerprints = {name: files for name, files in fingerprints.items() if isinstance(files, dict)}
        self.scored: dict[str, set[str]] = {}  # pair -> methods scored on it in an earlier run
        for r in previous:
            self.scored.setdefault(r.image, set()).add(r.method)
        self.kept: list[str] = []
        self.partial: list[str] = []  # grids drawn without some scored methods
        self.unavailable: set[str] = set()

    def draw(self, stem: str, a: np.ndarray, b: np.ndarray, outputs: dict[str, np.ndarray], methods: list[str]
             ) -> None:
        """Write ``stem``'s grid: the sources, then the methods in ``methods``' order."""
        from defusion.benchmark.report import comparison_grid

        wanted = self.scored.get(stem, set()) | outputs.keys()
        tiles: dict[str, np.ndarray | None] = {}
        missing = []
        for name in methods:
            if name not in wanted:  # no result of this pair: a placeholder tile says so (comparison_grid)
                tiles[name] = None
                continue
            image = outputs[name] if name in outputs else self._stored(name, stem, a.shape[:2])
            if image is None:
                missing.append(name)
            else:
                tiles[name] = image
        path = self.folder / f"{stem}.jpg"
        if missing:
            self.unavailable.update(missing)
            if path.is_file() and not outputs:  # nothing new to show: the old grid is as current
                self.kept.append(stem)
                return
            self.partial.append(stem)
        comparison_grid(a, b, tiles, sources=self._source_labels(stem)).save(path, quality=GRID_JPEG_QUALITY)

    def _source_labels(self, stem: str) -> tuple[str, str]:
        """The pair's sources as ``defusion fuse --compare`` names them (vi/01.png, ir/01.png); A and B where unknown."""
        from defusion.benchmark.report.grid import SOURCE_LABELS
        from defusion.cli.fuse.file_names import said_names

        paths = [files.get(stem) for files in self.source_files]
        if len(paths) != 2 or None in paths:
            return SOURCE_LABELS
        first, second = said_names(paths)
        return first, second

    def _stored(self, name: str, stem: str, size: tuple[int, ...]) -> np.ndarray | None:
        """``name``'s stored result of ``stem`` as it was scored (``read_scored``'s reading, shown as
        uint8), or None where there is none, it changed since it was scored, it cannot be read (over
        the pixel bound too) or its size is not the sources'."""
        from defusion.benchmark.runner import read_scored, viewable
        from defusion.io.errors import ImageReadError

        path = self.stored.get(name, {}).get(stem)
        recorded = self.fingerprints.get(name, {}).get(stem)
        if path is None or (recorded is not None and readable_digest(path) != recorded):
            return None
        try:
            image = viewable(read_scored(path, quiet=True, max_pixels=self.max_pixels))  # its note: said when scored
        except ImageReadError:
            return None
        return image if image.shape[:2] == size else None

    def say_kept(self) -> None:
        """One note for the grids kept as they were, naming the methods whose images were not at hand."""
        why = (f"no image of {listed(sorted(self.unavailable))} at hand (a resume does not run a built-in method "
               "again for a grid; --save-fused keeps their results for later grids)")
        if self.kept:
            note(f"kept {plural(len(self.kept), 'grid')} in {self.folder} as "
                 f"{'it was' if len(self.kept) == 1 else 'they were'} (e.g. {self.kept[0]}): {why}")
        if self.partial:
            note(f"drew {plural(len(self.partial), 'grid')} in {self.folder} without "
                 f"some scored methods (e.g. {self.partial[0]}): {why}")
