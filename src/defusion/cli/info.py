"""``defusion info``: the architecture summary of a model or weights file, the weights' SHA-256 (as
``defusion serve`` and fused images' records name them), the training metadata (sorted by name), the default runtime here, where the example images are installed, and for a bug report
the versions of defusion, Python and the packages it runs on, and which extras are installed."""

from __future__ import annotations

import argparse
import json
import math
import platform
import re
from pathlib import Path

from defusion.cli.errors import out_of_memory, out_of_memory_message
from defusion.model.errors import WeightsError

HELP = ("print the architecture summary: parameters and GMACs for a 256x256 pair; and the versions of "
        "defusion, Python and its packages, and the extras installed (for a bug report)")
#: The square input side the MACs are counted at by default: the paper's training crop, 256x256.
DEFAULT_SIZE = 256
#: What to do when counting the MACs at ``--size`` runs out of memory: info reads no inputs, so the
#: side it runs the network at is the one thing to lower (not "use smaller inputs").
MEMORY_HINT = f"give a smaller --size (the default is {DEFAULT_SIZE})"
#: What a training metadata line that names paths not found here (relative to the folder it was trained in,
#: or on that machine: ``../shared/data/train/natural``, ``configs/...yaml``) ends with, for one path and for
#: several: provenance, not a file to open. The values stay as recorded (``--json`` prints them untouched).
RECORDED_PATHS = ("(path as recorded where it was trained)", "(paths as recorded where it was trained)")
#: A word of a metadata value that looks like a path: it starts with ``/``, ``./``, ``../`` or ``~/``, or
#: ends with a file suffix (``configs/x.yaml``); not ``and/or``, ``H/8``, a date ``2026/12/05`` nor
#: ``fp16/bf16/fp32``.
_PATH_WORD = re.compile(r"(?<![\w./~:-])(?:(?:~|\.{1,2})?/[\w./-]*|[\w.-]+/[\w./-]*\.[A-Za-z]\w*)")
#: Training metadata that holds JSON text (the config, the settings resumes changed): objects in ``--json``.
_JSON_FIELDS = ("train_config", "settings_changed")
#: Training metadata that counts or measures (a JSON number in ``--json`` where it reads as one; a loss
#: that is not finite as null): by key, so that a name that looks numeric (a model ``2024``) stays text.
_NUMBER_FIELDS = ("steps", "planned_steps", "samples_seen", "crop", "final_loss", "train_seconds",
                  "skipped_samples", "skipped_images", "images", "world_size")
#: Training metadata that is true or false.
_FLAG_FIELDS = ("complete",)
#: The packages whose versions info lists, for a bug report: the name shown -> the distributions (as pip
#: names them) that provide it, the first installed one's version shown (OpenCV comes in four builds).
VERSIONED: dict[str, tuple[str, ...]] = {
    "torch": ("torch",),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu"),
    "numpy": ("numpy",),
    "Pillow": ("pillow",),
    "OpenCV": ("opencv-python-headless", "opencv-python", "opencv-contrib-python-headless", "opencv-contrib-python"),
}
#: Each extra (pyproject.toml's optional dependencies) -> the modules its packages are imported as.
EXTRAS: dict[str, tuple[str, ...]] = {
    "serve": ("fastapi", "uvicorn", "multipart", "onnx", "onnxruntime"),
    "ui": ("streamlit",),
    "heif": ("pillow_heif",),
    "raw": ("rawpy",),
    "train": ("tensorboard",),
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", type=Path, help="weights file (default: the shipped weights)")
    p.add_argument("--model", help="describe a registered architecture instead of a weights file")
    p.add_argument("--size", type=_side, default=DEFAULT_SIZE,
                   help=f"square input side for the MAC count, a multiple of 8 (default {DEFAULT_SIZE})")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _side(text: str) -> int:
    """argparse type: a positive multiple of 8 (DeNet down-samples three times)."""
    from defusion.model.denet import SIZE_MULTIPLE  # here, not at import: keeps --help fast

    value = int(text)
    if value < SIZE_MULTIPLE or value % SIZE_MULTIPLE:
        raise argparse.ArgumentTypeError(f"must be a positive multiple of {SIZE_MULTIPLE}, got {value}")
    return value


class SizeOutOfMemory(MemoryError):
    """Counting the MACs at ``--size`` ran out of memory; the message says so with :data:`MEMORY_HINT`."""


def _gmacs(model: object, size: int) -> float:
    """The GMACs of one pass on a ``size`` x ``size`` pair; :class:`SizeOutOfMemory` where the machine
    has too little memory to run the network at that side."""
    from defusion.model.profile import count_macs

    try:
        return round(count_macs(model, size, size) / 1e9, 2)
    except Exception as exc:
        if not out_of_memory(exc):
            raise
        raise SizeOutOfMemory(out_of_memory_message(exc, MEMORY_HINT)) from exc


def run(args: argparse.Namespace) -> int:
    from defusion.model.profile import count_parameters
    from defusion.model.registry import create_model
    from defusion.fusion.provenance import DIGEST_CHARS, weights_sha256
    from defusion.model.weights import load_weights, shipped_weights_path, weights_metadata

    if args.model:
        model, meta, source = create_model(args.model), {}, f"architecture {args.model} (random init)"
        sha256 = None
    else:
        path = args.weights or shipped_weights_path()
        model, meta, source = load_weights(path), weights_metadata(path), str(path)
        sha256 = weights_sha256(path)  # as defusion serve names the weights, and a fused image's record
    c = model.cfg
    info = {
        "source": source,
        "sha256": sha256,
        "parameters": count_parameters(model),
        "gmacs": _gmacs(model, args.size),
        "input": f"2 x {c.in_channels} x {args.size} x {args.size}",
        "encoder": {"stem": c.stem_channels, "widths": c.encoder_widths, "blocks": c.encoder_blocks},
        "ensembler": {"width": c.ensembler_width, "blocks": c.ensembler_blocks},
        "common_decoder": {"widths": c.common_widths, "blocks": c.common_blocks},
        "unique_decoder": {"widths": c.unique_widths, "blocks": c.unique_blocks},
        # sorted: safetensors hands its metadata back in a different order from run to run
        "training": {k: _json_value(k, meta[k]) for k in sorted(meta) if k not in ("config", "format")},
        "runtime": _runtime_here(),
        "examples": str(examples_folder()),
        "versions": versions(),
        "extras": {extra: not missing for extra, missing in missing_extras().items()},
    }
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"DeNet from {info['source']}")
    if sha256:
        print(f"  sha256         {sha256[:DIGEST_CHARS]} (of the weights file; whole in --json; as defusion serve "
              "and a fused image's record name them)")
    print(f"  parameters     {info['parameters'] / 1e6:.2f} M")
    print(f"  compute        {info['gmacs']} GMACs per {args.size}x{args.size} pair")
    print(f"  encoder E      stem {c.stem_channels}, split-attention stages widths {c.encoder_widths} "
          f"x blocks {c.encoder_blocks}, to H/8")
    print(f"  ensembler Ec   width {c.ensembler_width} x {c.ensembler_blocks} blocks over [E(x1); E(x2)]")
    print(f"  decoder Dc     widths {c.common_widths} x blocks {c.common_blocks}")
    print(f"  decoder Du     widths {c.unique_widths} x blocks {c.unique_blocks} (shared by both sources)")
    print("  heads          Pc(f_c), Pu(f_u^i), Pr(f_c + f_u^1 + f_u^2)")
    print(f"  runtime        {info['runtime']}")
    print(f"  examples       {info['examples']} (example images to fuse)")
    print(f"  versions       {describe_versions(info['versions'])}")
    print(f"  extras         {describe_extras(missing_extras())}")
    for k in info["training"]:
        v = meta[k]  # as recorded: the text output is unchanged by --json's numbers
        shown = '(the whole training config: defusion info --json)' if k == 'train_config' else _shown(v)
        print(f"  {k:<14} {shown}{_stopped(meta) if k == 'steps' else ''}")
    return 0


def _json_value(key: str, value: str) -> object:
    """A training metadata value (text, as safetensors stores it) as ``--json`` gives it: JSON fields
    as objects, counts and measures (:data:`_NUMBER_FIELDS`) as numbers (one not finite as null,
    which JSON can hold), flags as booleans; the rest (names, digests, paths) as text, as recorded.

    Example:
        >>> _json_value("steps", "11"), _json_value("final_loss", "0.04705"), _json_value("final_loss", "nan")
        (11, 0.04705, None)
        >>> _json_value("train_config", '{"crop": 32}'), _json_value("model", "2024"), _json_value("complete", "false")
        ({'crop': 32}, '2024', False)
    """
    if key in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:  # not JSON after all: as recorded
            return value
    if key in _FLAG_FIELDS and value in ("true", "false"):
        return value == "true"
    if key in _NUMBER_FIELDS:
        for number in (int, float):
            try:
                parsed = number(value)
            except ValueError:
                continue
            return parsed if math.isfinite(parsed) else None
    return value


def _stopped(meta: dict[str, str]) -> str:
    """What the steps line adds for weights written by a run that stopped before the end of its
    schedule (``complete`` false): why, and at which step of how many.

    Example:
        >>> _stopped({"steps": "11", "planned_steps": "20", "complete": "false", "stopped": "interrupted"})
        ' (interrupted at step 11 of 20)'
        >>> _stopped({"steps": "20", "planned_steps": "20", "complete": "true"})
        ''
    """
    if meta.get("complete") != "false":
        return ""
    planned = f" of {meta['planned_steps']}" if meta.get("planned_steps") else ""
    return f" ({meta.get('stopped') or 'stopped'} at step {meta.get('steps', '?')}{planned})"


def _shown(value: str) -> str:
    """A training metadata value as recorded, with :data:`RECORDED_PATHS` after it where it names a path
    that is relative (to the folder training ran in) or not found on this machine: a wheel user has no
    ``../shared/data/train/natural`` and should not go looking for it.

    Example:
        >>> _shown("ImageNet sample images (1000), ../shared/data/train/natural")
        'ImageNet sample images (1000), ../shared/data/train/natural (path as recorded where it was trained)'
        >>> _shown("bf16 autocast"), _shown("fresh Adam and/or SGD, to H/8")
        ('bf16 autocast', 'fresh Adam and/or SGD, to H/8')
        >>> _shown("trained 2026/12/05, lr 1e-4/2e-5/1e-6, fp16/bf16/fp32")
        'trained 2026/12/05, lr 1e-4/2e-5/1e-6, fp16/bf16/fp32'
        >>> _shown("run 14: configs/cpu-128-blurred-views.yaml")
        'run 14: configs/cpu-128-blurred-views.yaml (path as recorded where it was trained)'
    """
    elsewhere = {word for word in _PATH_WORD.findall(str(value)) if _not_here(word.rstrip(".,;:)"))}
    if not elsewhere:
        return str(value)
    return f"{value} {RECORDED_PATHS[len(elsewhere) > 1]}"


def _not_here(word: str) -> bool:
    """Whether ``word`` is a path that does not lead to a file here: relative, or absolute and missing."""
    path = Path(word).expanduser()
    return not path.is_absolute() or not path.exists()


def examples_folder() -> Path:
    """The installed folder of the packaged example images (``defusion/examples``), so that a
    user who installed the wheel, with no repository checkout, can find them.

    Example:
        >>> sorted(p.name for p in examples_folder().glob("mef_*.png"))
        ['mef_over.png', 'mef_under.png']
    """
    from importlib import resources

    return Path(str(resources.files("defusion") / "examples"))


def versions() -> dict[str, str | None]:
    """The versions of defusion, Python and :data:`VERSIONED` (None: not installed), from the packages'
    metadata: nothing imported, so it is cheap and says a broken install's versions too.

    Example:
        >>> found = versions()
        >>> list(found)[:2], found["defusion"] == __import__("defusion").__version__
        (['defusion', 'Python'], True)
    """
    from importlib import metadata

    from defusion import __version__

    found: dict[str, str | None] = {"defusion": __version__, "Python": platform.python_version()}
    for name, distributions in VERSIONED.items():
        found[name] = None
        for distribution in distributions:
            try:
                found[name] = metadata.version(distribution)
                break
            except metadata.PackageNotFoundError:
                continue
    return found


def missing_extras() -> dict[str, list[str]]:
    """Each extra of :data:`EXTRAS` -> the modules of its packages that cannot be imported here (empty:
    it is installed), found without importing them.

    Example:
        >>> list(missing_extras())
        ['serve', 'ui', 'heif', 'raw', 'train']
    """
    from importlib.util import find_spec

    return {extra: [name for name in modules if find_spec(name) is None] for extra, modules in EXTRAS.items()}


def describe_versions(found: dict[str, str | None]) -> str:
    """:func:`versions` on one line.

    Example:
        >>> describe_versions({"defusion": "0.1.0", "Python": "3.11.9", "torch": None})
        'defusion 0.1.0, Python 3.11.9, torch not installed'
    """
    return ", ".join(f"{name} {version or 'not installed'}" for name, version in found.items())


def describe_extras(missing: dict[str, list[str]]) -> str:
    """:func:`missing_extras` on one line: the extras installed, then each missing one with what it lacks
    and how to install it.

    Example:
        >>> describe_extras({"serve": [], "ui": ["streamlit"], "raw": []})
        "serve, raw installed; ui missing streamlit (pip install 'defusion[ui]')"
    """
    installed = [extra for extra, lacks in missing.items() if not lacks]
    lacking = [f"{extra} missing {', '.join(lacks)} (pip install 'defusion[{extra}]')"
               for extra, lacks in missing.items() if lacks]
    return "; ".join(([f"{', '.join(installed)} installed"] if installed else []) + lacking)


def _runtime_here() -> str:
    """What the default runtime (``auto``) runs on this machine."""
    import torch

    from defusion.fusion.runtime import DEFAULT_RUNTIME, resolve_runtime

    device = "cuda" if torch.cuda.is_available() else "cpu"
    runtime = resolve_runtime(DEFAULT_RUNTIME, device)
    return f"{DEFAULT_RUNTIME}: {runtime} on this machine's {device} (--runtime to choose)"


# ValueError: an unknown --model name (the message lists the registered ones).
EXPECTED_ERRORS = (WeightsError, ValueError)
#: Running out of memory at ``--size``: exit status 1, said with info's own hint (a smaller --size).
FAILURE_ERRORS = (SizeOutOfMemory,)
