"""Training configuration. Defaults are the paper's schedule (section 3.3)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import yaml

from defusion.data.cud import CUDConfig


@dataclass(frozen=True)
class TrainConfig:
    """Everything a CUD training run depends on; saved into every checkpoint."""

    model: str = "defusion"
    crop: int = 256
    batch_size: int = 8
    lr: float = 1e-3
    lr_step_epochs: int = 10
    lr_gamma: float = 0.5
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
    amp: bool = True
    channels_last: bool = False
    cud: CUDConfig = field(default_factory=CUDConfig)

    def lr_at_epoch(self, epoch: int) -> float:
        """Step decay: halved every ``lr_step_epochs`` epochs by default."""
        return self.lr * self.lr_gamma ** (epoch // self.lr_step_epochs)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown training option(s): {', '.join(sorted(unknown))}")
        values = dict(values)
        if isinstance(values.get("cud"), dict):
            values["cud"] = CUDConfig(**{k: tuple(v) for k, v in values["cud"].items()})
        return cls(**values)

    @classmethod
    def from_yaml(cls, path: str | Path) -> "TrainConfig":
        return cls.from_dict(yaml.safe_load(Path(path).read_text()) or {})

    def override(self, **values) -> "TrainConfig":
        """A copy with the given non-None values replaced (command-line overrides)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})
