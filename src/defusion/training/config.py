"""Training configuration. Defaults are the paper's schedule (section 3.3); ``amp`` (on) is not
the paper's, and neither are the random horizontal flips of :mod:`defusion.data.dataset`."""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Iterable, TypeVar

import yaml

from defusion.data.cud import CUDConfig
from defusion.data.dataset import DEFAULT_CROP_SCALE, DEFAULT_MAX_PIXELS
from defusion.errors import DefusionError
from defusion.model.denet import DENET_PARTS, SIZE_MULTIPLE
from defusion.model.mfm import MFMConfig
from defusion.model.registry import list_models


class TrainConfigError(DefusionError, ValueError):
    """Training options that cannot be trained with: an unknown name, a value of the wrong type or out
    of range, a config file that is no YAML mapping, options that need one another (a ValueError, as
    before this class existed)."""


#: Python types accepted for each annotated option type (an int is a fine float; a bool is no int).
_ACCEPTED = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,), "CUDConfig": (dict, CUDConfig),
             "MFMConfig": (dict, MFMConfig)}


#: What a run's config.json holds besides its options (the trainer's record): skipped when read back
#: as a config (``--config runs/x/config.json``).
RUN_RECORD_KEYS = ("settings_changed", "data", "data_digest", "images")


def _as_number(kind: str, value: object) -> object:
    """``value`` as an option of type ``kind`` ("int", "float") reads it, else unchanged: a numeric
    string (from Python, or a JSON record) as a float, and as an int when it holds a whole number,
    like a whole float. A number quoted in a config file is refused before this (:func:`_quoted_number`)."""
    if kind not in ("int", "float") or isinstance(value, bool):
        return value
    number = value
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        if not math.isfinite(number):  # "nan", "inf": not what a number in a config means
            return value
    if kind == "int" and isinstance(number, float):
        return int(number) if number.is_integer() else value
    return number


class _Quoted(str):
    """A string a config file quoted (``"0.01"``): :class:`_ConfigLoader` marks them, so that a quoted
    number is told apart from one given as a string from Python."""


def _quoted_number(value: object) -> bool:
    """Whether ``value`` is a number a config file quoted (``lr: "0.01"``): refused, since the loader
    reads every unquoted number as one, so the quotes were a slip worth telling."""
    if not isinstance(value, _Quoted):
        return False
    try:
        return math.isfinite(float(value))
    except ValueError:
        return False


def _checked(name: str, annotation: str | type, value: object) -> object:
    """``value`` as option ``name`` (annotated ``annotation``) takes it: numbers from numeric
    strings, tuples from lists; a ValueError naming the option if it is of the wrong type (a number
    a config file quoted too: ``lr: "0.01"`` is as wrong as ``amp: 0``, and says it was quoted)."""
    kind, _, rest = (annotation if isinstance(annotation, str) else annotation.__name__).partition("|")
    kind = kind.strip()
    if value is None and "None" in rest:
        return value
    if kind.startswith("tuple[") and isinstance(value, (list, tuple)):  # e.g. tuple[float, float]
        item = kind[len("tuple["):].split(",")[0].strip()
        for v in value:
            if item in ("int", "float") and _quoted_number(v):
                raise TrainConfigError(f"training option {name} must be numbers, got the string {v!r} among "
                                       "them (quoted in the YAML? write the numbers without quotes)")
        return tuple(_as_number(item, v) for v in value)
    if kind in ("int", "float") and _quoted_number(value):
        raise TrainConfigError(f"training option {name} must be {'an' if kind == 'int' else 'a'} {kind}, got "
                               f"the string {str(value)!r} (quoted in the YAML? write the number without quotes)")
    value = _as_number(kind, value)
    if isinstance(value, _Quoted):
        value = str(value)  # its quotes told all they had to: a plain string from here on
    accepted = _ACCEPTED.get(kind)
    if accepted and (not isinstance(value, accepted) or (isinstance(value, bool) and bool not in accepted)):
        kind = "mapping" if dict in accepted else kind
        raise TrainConfigError(f"training option {name} must be {'an' if kind[0] in 'aeiou' else 'a'} {kind}, "
                               f"got {value!r}")
    return value


def _unknown_options(names: Iterable[object], known: list[str], section: str | None = None) -> TrainConfigError:
    """The error for option names that are not ``known`` (top level, or in ``section``), with the
    likely intended name for each typo; a section's few options are listed too."""
    names = sorted(map(str, names))
    guesses = {g for n in names for g in difflib.get_close_matches(n, known, n=1)}
    message = f"unknown training option(s){f' in {section}' if section else ''}: {', '.join(names)}"
    if guesses:
        message += f" (did you mean {' or '.join(sorted(guesses))}?)"
    if section:
        message += f"; {section} takes {', '.join(known)}"
    return TrainConfigError(message)


_Section = TypeVar("_Section", CUDConfig, MFMConfig)


def _section(name: str, kind: type[_Section], values: dict) -> _Section:
    """The nested config ``name`` (``cud``, ``mfm``) from its mapping, checked as the top level is."""
    types = {f.name: f.type for f in fields(kind)}
    unknown = set(values) - set(types)
    if unknown:
        raise _unknown_options(unknown, list(types), section=name)
    values = {k: _checked(f"{name}.{k}", types[k], v) for k, v in values.items()}
    try:
        return kind(**values)
    except (TypeError, ValueError) as exc:
        raise TrainConfigError(f"training option {name}: {exc}") from None


@dataclass(frozen=True)
class TrainConfig:
    """Everything a CUD training run depends on; saved into every checkpoint."""

    model: str = "defusion"
    #: Side of the random resized crops: the paper's 256x256.
    crop: int = 256
    #: The paper's batch size, 8.
    batch_size: int = 8
    #: The paper's initial learning rate of Adam, 1e-3.
    lr: float = 1e-3
    #: Epochs between steps of the learning rate: the paper's 10 ...
    lr_step_epochs: int = 10
    #: ... and the factor of each step: the paper's 0.5 (halved every 10 epochs).
    lr_gamma: float = 0.5
    #: The paper's 50 epochs (of its 50k COCO images; see epoch_samples).
    epochs: int = 50
    #: Samples per epoch; None = one pass over the folder. 50_000 makes a small folder follow
    #: the paper's COCO schedule (lr halved every 500k samples, 2.5M in all).
    epoch_samples: int | None = None
    max_steps: int | None = None
    #: Wall-time budget of one invocation (s): stop cleanly, checkpoint and write the weights.
    max_seconds: float | None = None
    checkpoint_every: int = 500
    preview_every: int = 500
    log_every: int = 10
    workers: int = 2
    seed: int = 0
    #: bf16 autocast where the hardware has bf16 units (CUDA; CPUs with AMX or AVX512-BF16). Not
    #: the paper's: the authors' code trains in fp32.
    amp: bool = True
    channels_last: bool = False
    #: torch.compile the network for training (same maths, fewer kernel launches; the first
    #: steps pay for compiling). Off by default: worth it only where the speed probe says so.
    compile: bool = False
    #: Fraction of training crops made grey (R = G = B = luma). 0 is the paper's colour training;
    #: the product fuses luminance by default, so a fine-tune may show the network grey inputs too.
    grey_prob: float = 0.0
    #: Range of the random resized crop's area, as fractions of the image (the usual
    #: ``RandomResizedCrop`` default). A smaller range zooms in: crops then show the coarser
    #: detail per pixel that the network meets when the fusion core up-samples the sources.
    crop_scale: tuple[float, float] = DEFAULT_CROP_SCALE
    #: Pixels an image may have to be trained on (``--max-pixels``; defusion fuse's default, 100 MP):
    #: a larger one is named and skipped, checked from its header before it is decoded.
    max_pixels: int = DEFAULT_MAX_PIXELS
    #: Weight of the common and unique projections' errors outside their regions (1 inside).
    #: 1.0 is the paper's MAE against the masked images; the authors' code ends at 0.015. (Their
    #: code also ramps the fused MAE in from iteration 17,000 to 24,000; not reproduced here.)
    outside_weight: float = 1.0
    #: Weight of an extra term on the reconstruction's neighbour differences against the image's
    #: (its edges). 0 is the paper's loss; a run that wants sharper fused images may raise it.
    gradient_weight: float = 0.0
    #: Weights of the common, unique (each view's) and fused MAEs in the total. 1 each is the
    #: paper's sum; DeFusion++'s code weighs them 20 : 10 : 100 (0.2, 0.1, 1 here), with its
    #: common and unique MAEs the literal masked ones (``outside_weight`` 1).
    common_weight: float = 1.0
    unique_weight: float = 1.0
    fused_weight: float = 1.0
    #: Weight of 1 - SSIM of the reconstruction against the image. 0 is the paper's loss;
    #: DeFusion++'s code adds it at a quarter of the fused MAE's weight (kornia's (1 - SSIM) / 2 x 50).
    ssim_weight: float = 0.0
    #: Weight of DeFusion++'s masked feature modelling (MFM) term: the image Pr renders from the
    #: fused embedding predicted back after ``mfm.mask_ratio`` of its patches were hidden, against
    #: the image. 0 (the paper's DeFusion) trains no MFM decoder. DeFusion++'s loss weighs
    #: l1(rec_img1, gt1) + l1(rec_img2, gt2) 1 against the fused MAE's 100, and its model returns
    #: the one masked reconstruction as both, so the term counts twice (0.02 here if both targets
    #: are the clean image); the configs here use 0.01 (docs/training.md).
    mfm_weight: float = 0.0
    mfm: MFMConfig = field(default_factory=MFMConfig)
    #: Parts of DeNet (e.g. ["unique_decoder", "unique_head"]) given fresh initial weights when a
    #: run starts from ``--init`` weights: a fine-tune then relearns them on top of the others.
    reinit: tuple[str, ...] = ()
    cud: CUDConfig = field(default_factory=CUDConfig)

    def __post_init__(self) -> None:
        # An infinite lr or loss weight passes every range below and only shows once the loss diverges.
        infinite = [f.name for f in fields(self) if f.type.split("|")[0].strip() == "float"
                    and isinstance(getattr(self, f.name), float) and not math.isfinite(getattr(self, f.name))]
        problems = [f"{name} must be a finite number, got {getattr(self, name)}" for name in infinite]
        problems += [f"{name} must be {rule}, got {getattr(self, name)}" for name, ok, rule in (
            ("crop", self.crop >= SIZE_MULTIPLE and self.crop % SIZE_MULTIPLE == 0,
             f"a positive multiple of {SIZE_MULTIPLE} (DeNet downsamples 3 times)"),
            ("batch_size", self.batch_size >= 1, "at least 1"),
            ("lr", self.lr > 0, "positive"),
            ("lr_step_epochs", self.lr_step_epochs >= 1, "at least 1"),
            ("lr_gamma", 0 < self.lr_gamma <= 1, "in (0, 1]"),
            ("epochs", self.epochs >= 1, "at least 1"),
            ("epoch_samples", self.epoch_samples is None or self.epoch_samples >= 1, "at least 1"),
            ("max_steps", self.max_steps is None or self.max_steps >= 1, "at least 1"),
            ("max_seconds", self.max_seconds is None or self.max_seconds >= 0, "0 or more"),
            ("checkpoint_every", self.checkpoint_every >= 1, "at least 1"),
            ("preview_every", self.preview_every >= 1, "at least 1"),
            ("log_every", self.log_every >= 1, "at least 1"),
            ("workers", self.workers >= 0, "0 or more"),
            ("grey_prob", 0.0 <= self.grey_prob <= 1.0, "in [0, 1]"),
            ("max_pixels", self.max_pixels >= 1, "at least 1"),
            ("outside_weight", 0.0 <= self.outside_weight <= 1.0, "in [0, 1]"),
            ("gradient_weight", self.gradient_weight >= 0.0, "0 or more"),
            ("common_weight", self.common_weight >= 0.0, "0 or more"),
            ("unique_weight", self.unique_weight >= 0.0, "0 or more"),
            ("fused_weight", self.fused_weight >= 0.0, "0 or more"),
            ("ssim_weight", self.ssim_weight >= 0.0, "0 or more"),
            ("mfm_weight", self.mfm_weight >= 0.0, "0 or more"),
        ) if not ok and name not in infinite]
        if self.model not in list_models():
            close = difflib.get_close_matches(str(self.model), list_models(), n=1)
            problems.append(f"model {self.model!r} is not a registered model"
                            f"{f' (did you mean {close[0]}?)' if close else ''}; models: {', '.join(list_models())}")
        try:
            low, high = (float(v) for v in self.crop_scale)
        except (TypeError, ValueError):
            low = high = math.nan  # no two numbers: refused below, as a range out of order is
        if 0.0 < low <= high <= 1.0:
            object.__setattr__(self, "crop_scale", (low, high))
        else:
            problems.append(f"crop_scale must be two area fractions 0 < low <= high <= 1, got {self.crop_scale!r}")
        if isinstance(self.reinit, str) or not all(isinstance(n, str) for n in self.reinit):
            problems.append(f"reinit must be a list of DeNet part names, got {self.reinit!r}")
        else:
            object.__setattr__(self, "reinit", tuple(self.reinit))
            unknown = [n for n in self.reinit if n not in DENET_PARTS]
            if unknown:
                problems.append(f"reinit names unknown part(s) {', '.join(unknown)}; DeNet's parts: "
                                f"{', '.join(DENET_PARTS)}")
        if problems:
            raise TrainConfigError("training option " + "; ".join(problems))

    def loss_options(self) -> dict:
        """The keyword arguments of :func:`defusion.training.loss.cud_losses` this config sets."""
        return {"outside_weight": self.outside_weight, "gradient_weight": self.gradient_weight,
                "term_weights": (self.common_weight, self.unique_weight, self.fused_weight),
                "ssim_weight": self.ssim_weight, "mfm_weight": self.mfm_weight}

    def extra_loss_terms(self) -> tuple[str, ...]:
        """Names of the loss terms beyond the paper's four that this config adds (log columns)."""
        return tuple(name for name, on in (("fused_gradient", self.gradient_weight),
                                           ("fused_ssim", self.ssim_weight),
                                           ("mfm", self.mfm_weight)) if on)

    def lr_at_epoch(self, epoch: int) -> float:
        """Step decay: halved every ``lr_step_epochs`` epochs by default."""
        return self.lr * self.lr_gamma ** (epoch // self.lr_step_epochs)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        """A config from plain values (YAML, a checkpoint); wrong names or types are a ValueError."""
        if not isinstance(values, dict):
            raise TrainConfigError(f"a training config is a mapping of option: value, got {type(values).__name__}")
        types = {f.name: f.type for f in fields(cls)}
        values = {k: v for k, v in values.items() if k not in RUN_RECORD_KEYS}  # a run's config.json given back
        unknown = set(values) - set(types)
        if unknown:
            raise _unknown_options(unknown, list(types))
        values = {name: _checked(name, types[name], value) for name, value in values.items()}
        for name, kind in (("cud", CUDConfig), ("mfm", MFMConfig)):
            if isinstance(values.get(name), dict):
                values[name] = _section(name, kind, values[name])
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "TrainConfig":
        """A config from a YAML file of options (``configs/*.yaml``), the rest the defaults, checked
        as in from_dict: what ``defusion train --config FILE`` trains with on a fresh run, for a
        Python caller. The command itself lays the file over the resumed run's config where it
        resumes (:meth:`updated` of :func:`read_options`), so it does not call this."""
        return cls.from_dict(read_options(path))

    def updated(self, values: dict) -> "TrainConfig":
        """A copy with the options in ``values`` (e.g. a YAML file's) replaced, checked as in from_dict."""
        if not isinstance(values, dict):
            raise TrainConfigError(f"a training config is a mapping of option: value, got {type(values).__name__}")
        return self.from_dict({**self.to_dict(), **values})

    def override(self, **values: Any) -> "TrainConfig":
        """A copy with the given non-None values replaced (command-line overrides)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


class _ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader with two changes for config files: ``1e-3`` and ``5e4`` (a number
    YAML 1.1 wants written ``1.0e-3``) read as numbers, as YAML 1.2 and people read them, so that
    a string where a number belongs can only have been quoted; and a key given twice in a mapping
    is refused (:class:`_DuplicateKeyError`) instead of the last one silently winning. Quoted strings
    come as :class:`_Quoted`, so that a quoted number is told (:func:`_quoted_number`)."""

    def construct_yaml_str(self, node: yaml.ScalarNode) -> str:
        value = super().construct_yaml_str(node)
        return _Quoted(value) if node.style in ("'", '"') else value

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict:
        if isinstance(node, yaml.MappingNode):
            lines: dict = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node)
                line = key_node.start_mark.line + 1
                if key in lines:
                    raise _DuplicateKeyError(key, lines[key], line)
                lines[key] = line
        return super().construct_mapping(node, deep=deep)


_ConfigLoader.add_constructor("tag:yaml.org,2002:str", _ConfigLoader.construct_yaml_str)
_ConfigLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."))


class _DuplicateKeyError(ValueError):
    """A config file gives a key twice in one mapping (PyYAML would keep the last silently)."""

    def __init__(self, key: object, first: int, second: int) -> None:
        where = f"twice on line {first}" if first == second else f"twice, on lines {first} and {second}"
        super().__init__(f"{key} is given {where}: keep one")


def read_options(path: str | Path) -> dict:
    """The option: value mapping of a YAML config file (ValueError if it is not one, or gives a
    key twice)."""
    try:
        # bytes: PyYAML reads UTF-8 (or UTF-16) whatever the locale's encoding, a byte-order mark skipped
        values = yaml.load(Path(path).read_bytes(), Loader=_ConfigLoader) or {}
    except _DuplicateKeyError as exc:
        raise TrainConfigError(f"{path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise TrainConfigError(f"{path} is not valid YAML{_where(exc)}: {_yaml_problem(exc)}") from None
    if not isinstance(values, dict):
        raise TrainConfigError(f"{path}: a training config is a mapping of option: value, "
                               f"got {type(values).__name__}")
    return values


def _where(exc: yaml.YAMLError) -> str:
    """Where in the file PyYAML found ``exc`` (" at line L, column C", 1-based), if it says."""
    mark = getattr(exc, "problem_mark", None)
    return f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's reason for ``exc``, without the file excerpt it prints below it."""
    problem = getattr(exc, "problem", None)
    return problem if problem else str(exc).splitlines()[0]
