"""A small model registry, timm-style: names map to DeNet configurations, and to the weights
trained for them where there are (``create_model(name, pretrained=True)``)."""

from __future__ import annotations

import difflib
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from defusion.model.denet import DeNet, DeNetConfig
from defusion.model.errors import ModelConfigError
from defusion.model.weights import WeightsError, load_weights_into, shipped_weights_path

_CONFIGS: dict[str, DeNetConfig] = {}
#: Registered name -> the weights file ``pretrained=True`` loads (names without weights are absent).
_WEIGHTS: dict[str, Path] = {}


def register_model(name: str, cfg: DeNetConfig, weights: str | Path | None = None) -> None:
    """Make ``name`` available to :func:`create_model`, built with ``cfg``; ``weights``, a
    safetensors file trained with ``cfg`` (read when first asked for), is what ``pretrained=True``
    loads, and puts ``name`` in ``list_models(pretrained=True)``.

    Example:
        >>> register_model("defusion", DeNetConfig(), weights=shipped_weights_path())
        Traceback (most recent call last):
        ...
        defusion.model.errors.ModelConfigError: model 'defusion' is already registered
    """
    if name in _CONFIGS:
        raise ModelConfigError(f"model {name!r} is already registered")
    _CONFIGS[name] = cfg
    if weights is not None:
        _WEIGHTS[name] = Path(weights)


def list_models(pretrained: bool = False) -> list[str]:
    """The names :func:`create_model` builds (and ``defusion info --model`` takes), sorted: the
    published network (``defusion``, the shipped weights' settings) and its small test twin; with
    ``pretrained`` only those with weights (``create_model(name, pretrained=True)``).

    Example:
        >>> from defusion import list_models
        >>> list_models()  # doctest: +ELLIPSIS
        [...'defusion', ...'defusion-tiny'...]
        >>> list_models(pretrained=True)  # doctest: +ELLIPSIS
        [...'defusion'...]
    """
    return sorted(_WEIGHTS if pretrained else _CONFIGS)


def model_config(name: str, **overrides: Any) -> DeNetConfig:
    """The registered configuration of ``name`` with fields replaced by ``overrides``.

    Raises :class:`~defusion.model.errors.ModelConfigError` (a ValueError, and a
    :class:`defusion.DefusionError`) for an unknown name, an unknown setting, or values DeNet
    cannot be built from (see :class:`~defusion.model.denet.DeNetConfig`).

    Example:
        >>> model_config("defusion-tiny", encoder_widths=(4, 8))
        Traceback (most recent call last):
        ...
        defusion.model.errors.ModelConfigError: encoder_widths must be 4 positive integers, one per stage; got (4, 8)
        >>> model_config("DeFusion")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.model.errors.ModelConfigError: unknown model 'DeFusion' (did you mean defusion?); choose from ...
    """
    try:
        cfg = _CONFIGS[name]
    except (KeyError, TypeError):  # TypeError: an unhashable name
        raise ModelConfigError(f"unknown model {name!r}{_guess(name, list_models())}; choose from "
                               f"{', '.join(list_models())}") from None
    settings = [f.name for f in fields(DeNetConfig)]
    unknown = [str(key) for key in overrides if key not in settings]
    if unknown:
        raise ModelConfigError(f"unknown DeNet setting(s) {', '.join(unknown)}"
                               f"{_guess(unknown[0], settings) if len(unknown) == 1 else ''}; settings: "
                               f"{', '.join(settings)}")
    return replace(cfg, **overrides)


def _guess(name: object, known: list[str]) -> str:
    """`` (did you mean X?)`` where ``name`` is close to one of ``known`` (case aside), else ``""``.

    Example:
        >>> _guess("stem_channel", ["stem_channels", "radix"]), _guess("zzz", ["radix"])
        (' (did you mean stem_channels?)', '')
    """
    lowered = {k.lower(): k for k in known}
    close = difflib.get_close_matches(str(name).lower(), list(lowered), n=1)
    return f" (did you mean {lowered[close[0]]}?)" if close else ""


def create_model(name: str = "defusion", pretrained: bool = False, *, checkpoint_path: str | Path | None = None,
                 **overrides: Any) -> DeNet:
    """A DeNet by registered name, freshly initialised, or with ``pretrained`` the weights
    registered for ``name`` loaded into it (as timm's ``pretrained``; for ``"defusion"`` the shipped
    weights, which ``Fuser.from_pretrained`` loads), or with ``checkpoint_path`` a safetensors
    weights file's (as timm's ``checkpoint_path``; :func:`~defusion.model.weights.load_weights_into`).

    Raises ModelConfigError (a ValueError) as :func:`model_config` does, and a
    :class:`~defusion.model.errors.WeightsError` (a ValueError): ``pretrained`` for a name without
    weights (``list_models(pretrained=True)`` lists those with), ``pretrained`` and
    ``checkpoint_path`` both, weights that cannot be read, or the name or ``overrides`` giving
    settings other than the weights'.

    Example:
        >>> from defusion import create_model
        >>> net = create_model("defusion-tiny")
        >>> sum(p.numel() for p in net.parameters()) < 200_000
        True
        >>> net = create_model("defusion", pretrained=True)  # the published network, trained
        >>> create_model("defusion", pretrained=True, radix=4)
        Traceback (most recent call last):
        ...
        defusion.model.errors.WeightsError: create_model('defusion', pretrained=True): the shipped weights do not fit this model's DeNet settings (radix is 4 here, 2 in the weights): build the model with the weights' settings (create_model('defusion'))
        >>> create_model("defusion-tiny", pretrained=True)
        Traceback (most recent call last):
        ...
        defusion.model.errors.WeightsError: create_model('defusion-tiny', pretrained=True): defusion-tiny has no pretrained weights (models with: defusion); build it untrained (pretrained=False) or load a weights file with checkpoint_path=
    """
    cfg = model_config(name, **overrides)
    if pretrained and checkpoint_path is not None:
        raise WeightsError(f"create_model({name!r}, pretrained=True, checkpoint_path={str(checkpoint_path)!r}): give "
                           "pretrained=True (the registered weights) or checkpoint_path= (a weights file), not both")
    if pretrained and name not in _WEIGHTS:
        raise WeightsError(f"create_model({name!r}, pretrained=True): {name} has no pretrained weights (models with: "
                           f"{', '.join(list_models(pretrained=True)) or 'none'}); build it untrained "
                           "(pretrained=False) or load a weights file with checkpoint_path=")
    model = DeNet(cfg)
    if checkpoint_path is not None:
        return load_weights_into(model, checkpoint_path)
    if pretrained:
        weights = _WEIGHTS[name]
        try:  # the shipped weights as None: their errors say "the shipped weights", and which model fits them
            load_weights_into(model, None if weights == shipped_weights_path() else weights)
        except WeightsError as exc:
            raise WeightsError(f"create_model({name!r}, pretrained=True): {exc}") from None
    return model


# The published network: 7.90M parameters, 15.15 GMACs (30.3 GFLOP) per 256x256 pair.
register_model("defusion", DeNetConfig(), weights=shipped_weights_path())
# Same topology, one block per stage and narrower: for tests and quick experiments.
register_model(
    "defusion-tiny",
    DeNetConfig(
        stem_channels=8,
        encoder_widths=(4, 8, 8, 16),
        encoder_blocks=(1, 1, 1, 1),
        ensembler_width=32,
        ensembler_blocks=1,
        common_widths=(16, 8, 4, 4),
        common_blocks=(1, 1, 1, 1),
        unique_widths=(16, 8, 4, 4),
        unique_blocks=(1, 1, 1, 1),
    ),
)
