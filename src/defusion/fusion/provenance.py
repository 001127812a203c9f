"""What made a fused image, said in the image and on its compare sheet, so that it can be made again.

:class:`MadeBy` holds what a fusion ran with: the Fuser's options (as it fused, not as asked), the
weights (their file name, or "shipped", and a short SHA-256; null where a caller handed over a Fuser
without saying what it was loaded from, and the model does not say either), the runtime, device and
precision, and the task its options started from. :meth:`MadeBy.record` is the compact JSON every fused
image carries (:func:`defusion.io.metadata.choose_metadata` puts it in: a PNG text chunk keyed
:data:`RECORD_KEY`, the EXIF UserComment of JPEG, WebP and PNG where the first source has no comment of
its own and it fits, a TIFF's ImageDescription), as Stable Diffusion UIs write a ``parameters`` chunk.
Its options are those that differ from :class:`~defusion.fusion.options.FuseOptions`' own defaults, so
that :meth:`FuseOptions.from_record(record["options"]) <defusion.fusion.options.FuseOptions.from_record>`
rebuilds them whatever a task's presets are in another version (a rig as its file's JSON, a fixed
stretch as its fields). A server's answer to float uploads also says how it mapped them (``stretch``:
its X-Defusion-Stretch, which ``stretch=`` takes back; no FuseOptions field holds a float span). No path
of the user's files is in it: the weights go by file name alone.

:func:`fused_label` is a compare sheet's label of the fused tile (``defusion fuse --compare`` and the web
UI's): the task and the options that differ from the task's defaults, and the weights where not the
shipped ones; :func:`labelled_sheet` draws the sheet with it wrapped to the tile's width.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass, fields, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from defusion import __version__
from defusion.io.metadata import RECORD_KEY

if TYPE_CHECKING:
    import numpy as np
    from PIL import Image

    from defusion.fusion.fuser import Fuser
    from defusion.fusion.options import FuseOptions

#: The record's and the label's name for the weights shipped in the package (as a folder run's
#: settings file names them: :data:`defusion.cli.fuse.fused_settings.SHIPPED`).
SHIPPED = "shipped"
#: Hex digits of the weights' SHA-256 the record gives: as many as ``defusion serve``'s X-Defusion-Model
#: header (:data:`defusion.serving.responses.MODEL_DIGEST_CHARS`), so the two can be compared.
DIGEST_CHARS = 12
#: The most bytes a record takes (a header chunk, not a file of its own): past it, the longest options
#: (a rig's calibration, a fixed stretch) are said as :data:`LEFT_OUT`.
MAX_RECORD_BYTES = 1024
#: What stands for an option too long for the record (:meth:`FuseOptions.from_record` refuses it, saying so).
LEFT_OUT = "..."
#: The runtime a network that does not say its own runs on: PyTorch eager (a DeNet).
DEFAULT_RUNTIME_NAME = "torch"
#: FuseOptions fields a compare sheet's label leaves out: how the work is split to fit in memory (they
#: change pixels only where tiles meet), as a folder run's settings leave them out.
UNLABELLED_FIELDS = ("tile", "overlap", "auto_tile_pixels", "auto_tile_size")


#: Hex digits of :func:`code_fingerprint`: as many as the record gives of the weights' SHA-256
#: (:data:`DIGEST_CHARS`), enough to tell builds apart at a glance.
CODE_DIGEST_CHARS = DIGEST_CHARS
#: :func:`code_fingerprint` where the package is no folder of ``.py`` files to hash (a zip, a zipapp, a frozen
#: build): no build's, so that two such builds are never taken for one
#: (:func:`~defusion.cli.build_info.same_build`); the hash of no files would be one for all of them.
UNKNOWN_CODE = "unknown"


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The first :data:`CODE_DIGEST_CHARS` hex digits of a SHA-256 over the package's ``.py`` files (their
    paths in it and contents, line ends as ``\\n``, so that a Windows checkout names the same code alike);
    :data:`UNKNOWN_CODE` where it has none to read; computed once per process."""
    import defusion

    root = Path(defusion.__file__).resolve().parent
    files = sorted(root.rglob("*.py"), key=lambda p: p.relative_to(root).as_posix()) if root.is_dir() else []
    if not files:
        return UNKNOWN_CODE
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        try:
            digest.update(path.read_bytes().replace(b"\r\n", b"\n"))
        except OSError:  # a file gone or unreadable: named by its path alone
            pass
        digest.update(b"\0")
    return digest.hexdigest()[:CODE_DIGEST_CHARS]



@dataclass(frozen=True)
class MadeBy:
    """What a fusion ran with: ``options`` (a FuseOptions, as the Fuser fused), ``weights`` (their path,
    None: the shipped ones, or unknown where ``weights_known`` is False), ``sha256`` (the weights' SHA-256
    start, None: of ``weights``' file), the ``runtime``, ``device`` and ``half`` (fp16) it ran on, the
    ``task`` its options started from (for the label only: the record's options stand alone), and
    ``stretch``: how the server mapped float uploads, as ``stretch=`` takes it back (None: no float upload
    was mapped by a span)."""

    options: FuseOptions
    weights: str | Path | None = None
    runtime: str = DEFAULT_RUNTIME_NAME
    device: str = "cpu"
    half: bool = False
    task: str | None = None
    sha256: str | None = None
    stretch: str | None = None
    #: False where ``weights`` None means not known (a server given a Fuser alone, ``create_app(fuser)``),
    #: not the shipped ones: the record then names no weights, and gives only a digest the model carries.
    weights_known: bool = True

    @classmethod
    def of(cls, fuser: Fuser, weights: str | Path | None = None, task: str | None = None, *,
           weights_known: bool = True) -> MadeBy:
        """What ``fuser`` fuses with: its options, runtime, device and precision, with the ``weights`` it
        was loaded from (None: the shipped ones; with ``weights_known`` False, not known). An ONNX export
        is named by the weights it was exported from (its ``weights_sha256_16``), as ``defusion serve``
        names it: where the weights are not known, that digest alone says which they are (the shipped
        ones' too); a DeNet carries none, and its weights stay unknown.

        Example:
            >>> from defusion.fusion.options import FuseOptions
            >>> unknown = MadeBy(FuseOptions(), weights_known=False)  # a DeNet handed over alone
            >>> unknown.shipped, unknown.weights_name, unknown.digest()
            (False, None, None)
        """
        model = fuser.model
        exported = getattr(model, "metadata", None)
        digest = exported.get("weights_sha256_16") if isinstance(exported, dict) else None
        if weights is None and not weights_known and digest:  # the export says: the shipped weights' or others'
            shipped = weights_sha256(None)
            weights_known = bool(shipped) and shipped.startswith(digest.lower())
        return cls(fuser.options, weights, runtime_name(model), fuser.device.type, bool(fuser.half), task,
                   digest[:DIGEST_CHARS] if digest else None, weights_known=weights_known or weights is not None)

    @property
    def shipped(self) -> bool:
        """Whether the weights are the ones shipped in the package (none given, or given by their path);
        False where they are not known."""
        if self.weights is None:
            return self.weights_known
        from defusion.model.weights import shipped_weights_path

        return Path(self.weights).resolve() == shipped_weights_path().resolve()

    @property
    def weights_name(self) -> str | None:
        """The weights' file name, or :data:`SHIPPED` (never a path: where the user keeps files is theirs);
        None where they are not known."""
        if self.weights is None:
            return SHIPPED if self.weights_known else None
        return SHIPPED if self.shipped else Path(self.weights).name

    def digest(self) -> str | None:
        """The weights' SHA-256, its first :data:`DIGEST_CHARS` hex digits; None where it cannot be read
        or the weights are not known."""
        if self.sha256:
            return self.sha256[:DIGEST_CHARS]
        if self.weights is None and not self.weights_known:
            return None
        full = weights_sha256(self.weights)
        return full[:DIGEST_CHARS] if full else None

    def record(self) -> str:
        """The compact JSON a fused image carries: defusion's version and code (:func:`code_fingerprint`: the
        version stays 0.1.0 through unreleased changes), the weights' name and SHA-256 start
        (null: not known), the runtime, the server's ``stretch`` of float uploads where it has one, and the
        options that differ from FuseOptions' defaults (:meth:`FuseOptions.from_record` rebuilds them); at
        most :data:`MAX_RECORD_BYTES`.

        Example:
            >>> from defusion.fusion.options import FuseOptions
            >>> MadeBy(FuseOptions(unique_gain=1.7), "runs/a/weights.safetensors", sha256="0123456789abcdef").record()
            ... # doctest: +ELLIPSIS
            '{"defusion":"...","code":"...","weights":"weights.safetensors","sha256":"0123456789ab","runtime":"torch","device":"cpu","options":{"unique_gain":1.7}}'
        """
        record: dict[str, Any] = {"defusion": __version__, "code": code_fingerprint(), "weights": self.weights_name,
                                  "sha256": self.digest(),
                                  "runtime": self.runtime, "device": self.device}
        if self.half:
            record["half"] = True
        if self.stretch:
            record["stretch"] = self.stretch
        options = changed_options(self.options)
        record["options"] = options
        text = _compact(record)
        while len(text.encode()) > MAX_RECORD_BYTES and any(v != LEFT_OUT for v in options.values()):
            longest = max((k for k in options if options[k] != LEFT_OUT), key=lambda k: len(_compact(options[k])))
            options[longest] = LEFT_OUT
            text = _compact(record)
        return text


def runtime_name(model: object) -> str:
    """The runtime ``model`` (a Fuser's network) runs on: an ONNX export's or a compiled net's own
    name, else :data:`DEFAULT_RUNTIME_NAME`."""
    named = getattr(model, "runtime", None)
    if isinstance(named, str):
        return named
    if hasattr(model, "compiled"):  # defusion.fusion.runtime.CompiledNet
        return "compile-bf16" if getattr(model, "bf16", False) else "compile"
    return DEFAULT_RUNTIME_NAME


def weights_sha256(weights: str | Path | None = None) -> str | None:
    """The SHA-256 of a weights file (None: the shipped one), 64 hex digits, by the function ``defusion
    serve`` and ``defusion info`` use (:func:`defusion.model.weights.file_sha256`); hashed once per file
    version (a folder run's images do not each read 16 MB); None where it cannot be read."""
    from defusion.model.weights import shipped_weights_path

    path = Path(weights) if weights is not None else shipped_weights_path()
    try:
        stat = path.stat()
    except OSError:
        return None
    return _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _sha256(path: str, size: int, mtime_ns: int) -> str | None:
    """:func:`weights_sha256` of ``path`` as it was at ``size`` and ``mtime_ns`` (the cache's key)."""
    from defusion.model.weights import file_sha256

    try:
        return file_sha256(path)
    except OSError:
        return None


def changed_options(options: FuseOptions, defaults: FuseOptions | None = None) -> dict[str, Any]:
    """``options``' fields that differ from ``defaults`` (None: FuseOptions' own), as JSON values
    (tuples as lists, a rig as its file's JSON, a fixed stretch as its fields), in FuseOptions' order:
    what :meth:`FuseOptions.from_record` reads back.

    Example:
        >>> from defusion.fusion.options import FuseOptions
        >>> changed_options(FuseOptions.for_task("mef"))
        {'order': 'exposure', 'unique_gain': 1.0, 'detail_gain': 1.5}
    """
    defaults = type(options)() if defaults is None else defaults
    return {f.name: _json_value(getattr(options, f.name)) for f in fields(options)
            if getattr(options, f.name) != getattr(defaults, f.name)}


def _json_value(value: object) -> Any:
    """``value`` as JSON holds it: a rig as its file's JSON (:meth:`Rig.to_json`, which
    :meth:`Rig.from_json` reads; without its note for people), another dataclass as its fields, tuples
    as lists, numbers as they are."""
    from defusion.fusion.rig import Rig

    if isinstance(value, Rig):
        value = {key: field for key, field in value.to_json().items() if key != "note"}
    elif is_dataclass(value) and not isinstance(value, type):
        value = asdict(value)
    return json.loads(json.dumps(value, default=str))


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=True)


def option_flags(options: FuseOptions, task: str | None = None) -> list[str]:
    """The options that shape a fusion, as the command line gives them: ``--task`` where one is given,
    then each field that differs from the task's defaults (:meth:`FuseOptions.for_task`; the detail gain
    from the one that goes with the unique gain), tiling left out (:data:`UNLABELLED_FIELDS`).

    Example:
        >>> from defusion.fusion.options import FuseOptions
        >>> option_flags(FuseOptions.for_task("mef", unique_gain=1.7, align="affine", deghost=True), "mef")
        ['--task mef', '--unique-gain 1.7', '--align affine', '--deghost']
    """
    from defusion.fusion.options import FuseOptions

    said = [f"--task {task}"] if task else []
    # a unique gain given brings its own detail gain (the task's goes with the task's unique gain)
    detail_default = FuseOptions.for_task(task, unique_gain=options.unique_gain).detail_gain
    for name, value in changed_options(options, FuseOptions.for_task(task)).items():
        if name in UNLABELLED_FIELDS or (name == "detail_gain" and value == detail_default):
            continue
        flag = f"--{name.replace('_', '-')}"
        if value is True or value is False:
            said.append(flag if value else f"{flag} off")
        elif name == "infrared" and isinstance(value, int):
            said.append(f"{flag} {value + 1}")  # counted from 1, as --infrared takes it
        elif name == "palette_range" and isinstance(value, list):
            said.append(f"{flag} {','.join(f'{v:g}' for v in value)}")
        elif isinstance(value, (dict, list)):  # a rig's calibration, a fixed stretch: too long to say
            said.append(flag)
        else:
            said.append(f"{flag} {'default' if value is None else value}")
    return said


def fused_label(made_by: MadeBy | None) -> str:
    """A compare sheet's label of the fused tile: "fused", then :func:`option_flags` and ``--weights``'
    file name where they are not the shipped ones.

    Example:
        >>> from defusion.fusion.options import FuseOptions
        >>> fused_label(MadeBy(FuseOptions.for_task("mef", unique_gain=1.7), "runA/weights.safetensors", task="mef"))
        'fused: --task mef --unique-gain 1.7 --weights weights.safetensors'
        >>> fused_label(MadeBy(FuseOptions())), fused_label(None)
        ('fused', 'fused')
    """
    if made_by is None:
        return "fused"
    said = option_flags(made_by.options, made_by.task)
    if not made_by.shipped and made_by.weights_name is not None:
        said.append(f"--weights {made_by.weights_name}")
    return "fused" + (f": {' '.join(said)}" if said else "")


def wrapped(label: str, width: int, font: object = None) -> str:
    """``label`` in lines that fit a tile ``width`` pixels wide, broken before its options (``--``), a
    line still too wide shortened in its middle (:func:`defusion.io.sheets.fitted`).

    Example:
        >>> from defusion.io.sheets import label_font
        >>> wrapped("fused: --task mef --unique-gain 1.7 --weights weights.safetensors", 300, label_font())
        'fused: --task mef --unique-gain 1.7\\n--weights weights.safetensors'
    """
    from PIL import Image, ImageDraw

    from defusion.io.sheets import LABEL_OFFSET, LABEL_PAD, drawable, fitted

    room = width - 2 * (LABEL_OFFSET + LABEL_PAD)
    draw = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    parts = drawable(label, font).replace(" --", "\n--").split("\n")
    lines: list[str] = []
    for part in parts:
        joined = f"{lines[-1]} {part}" if lines else part
        if lines and draw.textlength(joined, font=font) <= room:
            lines[-1] = joined
        else:
            lines.append(part)
    return "\n".join(fitted(line, width, font) for line in lines)


def labelled_sheet(sources: Sequence[tuple[str, np.ndarray]], fused: np.ndarray,
                   made_by: MadeBy | None = None) -> Image.Image:
    """The compare sheet of ``sources`` (``(name, pixels)``) and ``fused``
    (:func:`defusion.io.sheets.compare_sheet`), the fused tile labelled by
    :func:`fused_label`, wrapped to its width: one drawing for ``defusion fuse --compare`` and the web UI."""
    from defusion.io import sheets

    _, width = sheets.tile_size(*fused.shape[:2])
    return sheets.compare_sheet(sources, fused, wrapped(fused_label(made_by), width, sheets.label_font()))


__all__ = ["CODE_DIGEST_CHARS", "DIGEST_CHARS", "MAX_RECORD_BYTES", "RECORD_KEY", "SHIPPED", "MadeBy", "changed_options", "fused_label",
           "labelled_sheet", "option_flags", "runtime_name", "weights_sha256", "wrapped", "LEFT_OUT", "UNKNOWN_CODE",
           "code_fingerprint"]
