"""Refusals of the paths ``defusion fuse`` is given, before any work (and before the fusion core is
imported): outputs that cannot be written or would overwrite a source, sources that are missing, not
readable or not what the mode reads; and a warning where one source is given twice."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from defusion.cli.errors import UserError
from defusion.cli.fuse.file_names import COMPARE_SUFFIXES, COMPONENT_PARTS, WEIGHT_PART, component_suffix
from defusion.cli.options import same_path
from defusion.fusion.choices import TASK_OPTIONS
from defusion.io.formats import WRITABLE_SUFFIXES


def check_paths(args: argparse.Namespace, folders: bool) -> None:
    """Refuse outputs that cannot be written or would overwrite a source, before any work."""
    from defusion.io.writing import check_path, check_writable_folder

    out = args.output
    for option, path in _outputs(args):
        try:
            check_path(path)
        except OSError as exc:  # a name too long, a file where a folder must be: said before stat() trips on it
            raise UserError(f"{option} {path}: {exc}") from None
    if folders:
        for option, folder in (("--a", args.dir_a), ("--b", args.dir_b), ("--stacks", args.stacks)):
            _check_source_folder(option, folder)
        if out.exists() and not out.is_dir():
            raise UserError(f"-o {out}: is a file; folder mode (--a/--b, --stacks) writes into a folder")
        if any(same_path(out, d) for d in _source_folders(args)):
            raise UserError(f"-o {out}: is a source folder; fused images would overwrite the sources")
    else:
        if out.is_dir():
            raise UserError(f"-o {out}: is a folder; give an output image path such as {out / 'fused.png'}")
        if out.suffix.lower() not in WRITABLE_SUFFIXES:
            raise UserError(f"cannot write {out}: use one of {', '.join(WRITABLE_SUFFIXES)}")
        if any(p.exists() and same_path(out, p) for p in args.images):
            raise UserError(f"-o {out}: is one of the inputs; choose another output path "
                            "(defusion does not overwrite its sources)")
        if args.components and len(args.images) != 2:
            raise UserError(f"--components needs exactly two images, got {len(args.images)}")
    if args.components and args.components.exists() and not args.components.is_dir():
        raise UserError(f"--components {args.components}: is a file; it names a folder for the three parts")
    if args.components:
        _check_components_paths(args, folders)
    if args.source_map:
        _check_source_map_path(args, folders)
    if args.compare:
        _check_compare_path(args, folders)
    for option, path in _outputs(args):
        folder = path if option == "--components" or folders else path.parent
        try:
            check_writable_folder(folder)
        except OSError as exc:  # read-only, full, not allowed: said now, not after minutes of fusing
            raise UserError(f"{option} {path}: {exc}") from None


#: The characters that make a source a pattern (Python's glob, as a shell's): Windows' cmd and PowerShell
#: pass ``data\b5_*.jpg`` on as it is, so ``defusion fuse`` expands it itself.
GLOB_CHARACTERS = "*?["


def expand_patterns(images: list[Path]) -> list[Path]:
    """``images`` with each that names no file or folder but holds a :data:`GLOB_CHARACTERS` replaced by
    the paths it matches, sorted by name (a file whose name holds ``[`` or ``*`` is itself; so is a
    folder above the pattern that exists: ``shots [1]/*.jpg``); one that matches nothing is refused.

    Example:
        >>> expand_patterns([Path("no-such-shots/*.jpg")])
        Traceback (most recent call last):
        ...
        defusion.cli.errors.UserError: no-such-shots/*.jpg: no such file, and no file matches it as a pattern
    """
    expanded = []
    for path in images:
        if path.exists() or not any(c in str(path) for c in GLOB_CHARACTERS):
            expanded.append(path)
            continue
        matches = _matches(path)
        if not matches:
            raise UserError(f"{path}: no such file, and no file matches it as a pattern")
        expanded += matches
    return expanded


def _matches(pattern: Path) -> list[Path]:
    """The paths ``pattern`` matches, sorted; the deepest folder above it that exists is taken as named
    (Windows folders such as ``shots [1]`` hold pattern characters)."""
    import glob

    base = next((parent for parent in pattern.parents if parent != Path() and parent.is_dir()), None)
    if base is None:
        return sorted(Path(match) for match in glob.glob(str(pattern)))
    rest = pattern.relative_to(base)
    return sorted(Path(match) for match in glob.glob(str(Path(glob.escape(str(base))) / rest)))


def check_inputs(images: list[Path]) -> None:
    """Refuse a source that is missing, not a file or not readable, in reading's words (one line), before
    the fusion core is imported: that took 4-10 s on a busy 2-core machine before a typo was told.

    Example:
        >>> check_inputs([Path("no-such-shot.jpg")])
        Traceback (most recent call last):
        ...
        defusion.cli.errors.UserError: no-such-shot.jpg: no such file
    """
    for path in images:
        if not path.exists():
            raise UserError(f"{path}: no such file")
        if not path.is_file():
            raise UserError(f"{path}: is not a file")
        if not os.access(path, os.R_OK):
            raise UserError(f"{path}: cannot be read (permission denied)")


def warn_same_sources(args: argparse.Namespace, folders: bool) -> None:
    """Warn when one file (or folder) is given twice: it would be fused with itself."""
    if folders:
        if args.dir_a is not None and args.dir_b is not None and same_path(args.dir_a, args.dir_b):
            print(f"defusion: warning: --a {args.dir_a} and --b {args.dir_b} are the same folder: each image is "
                  "fused with itself", file=sys.stderr)
        return
    for i, first in enumerate(args.images):
        for second in args.images[i + 1:]:
            if first.exists() and same_path(first, second):
                print(f"defusion: warning: {first} and {second} are the same file: it is fused with itself",
                      file=sys.stderr)


def _outputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """(option, path) of what this run writes: -o, and --components, --source-map and --compare where given."""
    return [(option, path) for option, path in (("-o", args.output), ("--components", args.components),
                                                ("--source-map", args.source_map), ("--compare", args.compare))
            if path is not None]


def _source_folders(args: argparse.Namespace) -> list[Path]:
    return [d for d in (args.dir_a, args.dir_b, args.stacks) if d is not None]


def _check_source_folder(option: str, folder: Path | None) -> None:
    """Refuse a source folder option (--a, --b, --stacks) that names no folder, saying what it names."""
    if folder is None or folder.is_dir():
        return
    if folder.exists():
        raise UserError(f"{option} {folder}: is a file, not a folder; give the folder that holds the images")
    raise UserError(f"{option} {folder}: no such folder")


def _check_components_paths(args: argparse.Namespace, folders: bool) -> None:
    """Refuse a --components folder whose parts (common.png, ...) would overwrite an input or the output,
    or, in folder modes, that is a source folder (the parts would mix with the sources)."""
    if folders:
        if any(same_path(args.components, d) for d in _source_folders(args)):
            raise UserError(f"--components {args.components}: is a source folder; give the parts their own folder")
        return
    for path in component_paths(args):
        if any(p.exists() and same_path(path, p) for p in args.images):
            raise UserError(f"--components {args.components}: its {path.name} is one of the inputs; choose another "
                            "folder (defusion does not overwrite its sources)")
        if same_path(path, args.output):
            raise UserError(f"--components {args.components}: its {path.name} is the output -o {args.output}; "
                            "choose another folder")


#: The tasks whose fused pixels come from the sources unless --pixels says otherwise (their TASK_OPTIONS
#: say so; torch-free, so read before the model loads).
SOURCES_TASKS: tuple[str, ...] = tuple(task for task, preset in TASK_OPTIONS.items()
                                       if preset.get("pixels") == "sources")


def pixels_from(args: argparse.Namespace) -> str:
    """Where the fused pixels come from: --pixels, else the task's (:data:`SOURCES_TASKS`), else the network.

    Example:
        >>> given = lambda pixels, task: argparse.Namespace(pixels=pixels, task=task)
        >>> pixels_from(given(None, "mff")), pixels_from(given(None, None)), pixels_from(given("network", "mff"))
        ('sources', 'network', 'network')
    """
    return args.pixels or ("sources" if args.task in SOURCES_TASKS else "network")


def component_paths(args: argparse.Namespace) -> list[Path]:
    """The files --components writes for one fusion (none where it is not given): the three parts, and the
    weight map where the pixels come from the sources.

    Example:
        >>> args = argparse.Namespace(components=Path("parts"), output=Path("fused.tif"), pixels=None, task="mff")
        >>> [path.as_posix() for path in component_paths(args)]
        ['parts/common.tif', 'parts/unique_a.tif', 'parts/unique_b.tif', 'parts/weight_a.tif']
    """
    if not args.components:
        return []
    suffix = component_suffix(args.output)
    return [args.components / f"{part}{suffix}"
            for part in COMPONENT_PARTS + ((WEIGHT_PART,) if pixels_from(args) == "sources" else ())]


def _check_kind_of_path(option: str, path: Path, args: argparse.Namespace, folders: bool, one: str,
                        example: str) -> None:
    """Refuse an extra output (--source-map, --compare) that names the wrong kind of path for the mode: in
    folder modes, which write ``one`` per pair or group into a folder, a file, a source folder or -o's; for
    one fusion, a folder (``example``: the file name to suggest in it)."""
    if not folders:
        if path.is_dir():
            raise UserError(f"{option} {path}: is a folder; give an image path such as {path / example}")
        return
    if path.exists() and not path.is_dir():
        raise UserError(f"{option} {path}: is a file; with --a/--b or --stacks it names a folder (one {one} per "
                        "pair or group)")
    if any(same_path(path, d) for d in (*_source_folders(args), args.output)):
        raise UserError(f"{option} {path}: is a source or output folder; give the {one}s their own folder")


def _check_source_map_path(args: argparse.Namespace, folders: bool) -> None:
    """Refuse a --source-map that names the wrong kind of path for the mode (a file for folders, a folder
    or an unwritable type for one fusion) or that is an input, the output or a source folder."""
    path = args.source_map
    _check_kind_of_path("--source-map", path, args, folders, "map", "source_map.png")
    if folders:
        return
    if path.suffix.lower() not in WRITABLE_SUFFIXES:
        raise UserError(f"cannot write --source-map {path}: use one of {', '.join(WRITABLE_SUFFIXES)}")
    if same_path(path, args.output) or any(p.exists() and same_path(path, p) for p in args.images):
        raise UserError(f"--source-map {path}: is an input or the output; choose another path")
    if any(same_path(path, part) for part in component_paths(args)):
        raise UserError(f"--source-map {path}: is one of the parts --components writes; choose another path")


def _check_compare_path(args: argparse.Namespace, folders: bool) -> None:
    """Refuse a --compare that names the wrong kind of path for the mode (a file for folders, a folder
    or a type other than JPEG and PNG for one fusion) or that is an input, another output or a source folder."""
    path = args.compare
    _check_kind_of_path("--compare", path, args, folders, "sheet", "compare.jpg")
    if folders:
        return
    if path.suffix.lower() not in COMPARE_SUFFIXES:
        raise UserError(f"cannot write --compare {path}: a sheet is JPEG or PNG, use one of "
                        f"{', '.join(COMPARE_SUFFIXES)}")
    others = [p for p in (args.output, args.source_map, *component_paths(args)) if p is not None]
    if any(same_path(path, p) for p in others) or any(p.exists() and same_path(path, p) for p in args.images):
        raise UserError(f"--compare {path}: is an input or another output; choose another path")
