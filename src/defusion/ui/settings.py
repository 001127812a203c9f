"""The web UI's server-side settings, read from the environment ``defusion ui`` sets from its options."""

from __future__ import annotations

import os
from dataclasses import dataclass

from defusion.ui.errors import InputError

#: Environment variables the app reads (``defusion ui`` sets them from its options).
ENV_WEIGHTS = "DEFUSION_WEIGHTS"
ENV_DEVICE = "DEFUSION_DEVICE"
ENV_MAX_PIXELS = "DEFUSION_MAX_PIXELS"
#: The UI's default pixel bound: a web front end on a CPU should not take 100 MP jobs.
DEFAULT_UI_MAX_PIXELS = 25_000_000
#: Default upload bound in MB (Streamlit's ``server.maxUploadSize``).
DEFAULT_MAX_UPLOAD_MB = 50


@dataclass(frozen=True)
class Settings:
    """Server-side settings: weights file (None: shipped), device, pixel bound."""

    weights: str | None = None
    device: str = "auto"
    max_pixels: int = DEFAULT_UI_MAX_PIXELS

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        """The settings ``defusion ui`` passed in ``env`` (default: this process's environment), the
        defaults where a variable is unset; an :class:`InputError` where the pixel bound is no number.

        Example:
            >>> Settings.from_env({ENV_MAX_PIXELS: "40000000", ENV_DEVICE: "cpu"})
            Settings(weights=None, device='cpu', max_pixels=40000000)
            >>> Settings.from_env({ENV_MAX_PIXELS: "40M"})
            Traceback (most recent call last):
            ...
            defusion.ui.errors.InputError: DEFUSION_MAX_PIXELS='40M' is not a whole number
        """
        env = os.environ if env is None else env
        raw = env.get(ENV_MAX_PIXELS, "").strip()
        try:
            max_pixels = int(raw) if raw else DEFAULT_UI_MAX_PIXELS
        except ValueError:
            raise InputError(f"{ENV_MAX_PIXELS}={raw!r} is not a whole number") from None
        return cls(env.get(ENV_WEIGHTS) or None, env.get(ENV_DEVICE) or "auto", max_pixels)


__all__ = [
    "ENV_WEIGHTS", "ENV_DEVICE", "ENV_MAX_PIXELS", "DEFAULT_UI_MAX_PIXELS", "DEFAULT_MAX_UPLOAD_MB",
    "Settings",
]
