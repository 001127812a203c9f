"""What ``defusion bench``'s options name: the built-in methods (--methods), the published results
(--fused) and the method the others are compared with (--versus), each checked before any pair is read."""

from __future__ import annotations

from pathlib import Path

from defusion.cli.errors import UserError


def builtin_names() -> list[str]:
    """The built-in methods' names, as --methods takes them and results.csv spells them: DeFusion's
    variants, then the baselines (available here or not).

    Example:
        >>> names = builtin_names()
        >>> names[0], "average" in names, "GFF" in names
        ('defusion', True, False)
    """
    from defusion.baselines import BASELINES
    from defusion.benchmark.runner import DEFUSION_VARIANTS

    return [*DEFUSION_VARIANTS, *BASELINES]


def method_names(spec: str) -> list[str]:
    """--methods as names: built-in ones in their own spelling whatever the case given (as metric
    names are), each once; an unknown name is left as given, for builtin_methods to refuse."""
    from defusion.baselines import available_baselines

    if spec.strip().lower() == "none":
        return []
    if spec.strip().lower() == "default":
        return ["defusion", *available_baselines()]
    canonical = {name.lower(): name for name in builtin_names()}
    return list(dict.fromkeys(canonical.get(m.strip().lower(), m.strip()) for m in spec.split(",") if m.strip()))


def check_fused_names(fused: dict[str, Path]) -> None:
    """Refuse a --fused name that is a built-in method's (:func:`builtin_names`), whether or not this
    run names the method: results.csv would hold the published results under the built-in name, which a
    later run (its --resume checks, the JPEG encoding recorded) takes for the built-in method's. Exact
    names only: a published folder may differ from a baseline in case alone (VIFB's GFF, and gff), and
    results.csv keeps the two apart.

    Example:
        >>> check_fused_names({"GFF": Path("vifb/GFF"), "Mine": Path("mine")})
        >>> check_fused_names({"defusion": Path("mine")})
        Traceback (most recent call last):
        ...
        defusion.cli.errors.UserError: --fused defusion: the name of a built-in method; give the folder another name
    """
    clash = sorted(set(fused) & set(builtin_names()))
    if clash:
        raise UserError(f"--fused {clash[0]}: the name of a built-in method; give the folder another name")


def versus_method(name: str | None, methods: list[str]) -> str | None:
    """--versus as ``methods`` (this run's) spell it: exactly, else ignoring case where one method
    matches (``--fused`` names keep the user's spelling, so two may differ in case only).

    Example:
        >>> versus_method("cbf", ["defusion", "CBF"]), versus_method(None, ["defusion", "CBF"])
        ('CBF', None)
        >>> versus_method("GFF", ["defusion", "CBF"])
        Traceback (most recent call last):
        ...
        defusion.cli.errors.UserError: --versus GFF: not among the methods of this run (defusion, CBF)
    """
    if name is None or name in methods:
        return name
    matches = [m for m in methods if m.lower() == name.lower()]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UserError(f"--versus {name}: {', '.join(matches)} differ only in case; give one as spelt")
    raise UserError(f"--versus {name}: not among the methods of this run ({', '.join(methods)})")


def fused_folders(specs: list[str]) -> dict[str, Path]:
    """--fused as {name: a folder of results, or a file pattern with {stem}
    (:func:`~defusion.io.pairs.results_by_stem`)}, each checked: a folder or pattern that can hold
    no result is refused now, not after the first pair's minutes.

    Example:
        >>> fused_folders(["CBF"])
        Traceback (most recent call last):
        ...
        defusion.cli.errors.UserError: --fused takes NAME=DIR or NAME=PATTERN (results/{stem}_mine.png), got 'CBF'
    """
    from defusion.io.pairs import EXT_FIELD, PairsError, check_stem_pattern, is_stem_pattern

    out = {}
    for spec in specs:
        name, sep, folder = spec.partition("=")
        if not sep or not name or not folder:
            raise UserError(f"--fused takes NAME=DIR or NAME=PATTERN (results/{{stem}}_mine.png), got {spec!r}")
        if is_stem_pattern(folder):
            try:
                check_stem_pattern(folder)
            except (PairsError, FileNotFoundError) as exc:
                raise UserError(f"--fused {name}: {exc}") from None
        elif not Path(folder).is_dir():
            raise UserError(f"--fused {name}: folder not found: {folder}")
        if name in out:
            either = f" (a pattern ending in .{EXT_FIELD} takes any extension)" if is_stem_pattern(folder) else ""
            raise UserError(f"--fused {name} is given twice ({out[name]} and {folder}); name each folder once{either}")
        out[name] = Path(folder)
    return out
