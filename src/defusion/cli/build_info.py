"""What software and machine made a command's results, for the records they are kept with (``defusion
bench``'s run.json and summary.md, a folder run's settings file), so that results of two builds are not
mixed unsaid.

defusion's version stays 0.1.0 through every unreleased change, so the code is named by
:func:`code_fingerprint` (:mod:`defusion.fusion.provenance`'s, which every fused image records too), a short SHA-256 over the package's own ``.py`` files as installed (an editable
checkout's uncommitted edits too, which a git commit would not name): any change of the code changes it.
Hashing the package's 249 files (2.1 MB) took 13 to 23 ms on a 2-core AMD EPYC (3 fresh processes), so it
is computed once per process; :func:`this_build` takes about 55 ms more (the packages' metadata), once per
``defusion bench`` run.

Example:
    >>> build = this_build()
    >>> sorted(build), build["code"] == code_fingerprint(), len(code_fingerprint()) == CODE_DIGEST_CHARS
    (['code', 'defusion', 'machine', 'software', 'time'], True, True)
"""

from __future__ import annotations

import os
import platform
import sys
from datetime import datetime
from pathlib import Path

from defusion.fusion.provenance import CODE_DIGEST_CHARS, code_fingerprint

#: Where Linux says the CPU's model (its ``model name`` line); elsewhere :func:`platform.processor`.
CPUINFO = Path("/proc/cpuinfo")
#: What a record names where the build or machine was not recorded (an older version's record).
UNRECORDED = "unrecorded"


def cpu_model() -> str | None:
    """The CPU's model name (Linux's /proc/cpuinfo; else :func:`platform.processor`, which on Linux says
    only ``x86_64``); None where neither says.

    Example:
        >>> cpu_model() is None or isinstance(cpu_model(), str)
        True
    """
    try:
        with open(CPUINFO, encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and value.strip():
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def gpu_name() -> str | None:
    """The first CUDA GPU's name where PyTorch is already loaded (no import here: a run that never loads it
    ran on no GPU) and sees one; else None."""
    torch = sys.modules.get("torch")
    try:
        return torch.cuda.get_device_name(0) if torch is not None and torch.cuda.is_available() else None
    except Exception:  # noqa: BLE001 - a broken driver: no GPU to name, and a record must not fail
        return None


def this_code() -> dict[str, str]:
    """This build as a record compares it (:func:`same_build`): defusion's version and :func:`code_fingerprint`,
    without the machine's (whose look-ups cost more).

    Example:
        >>> same_build(this_code(), this_build())
        True
    """
    from defusion import __version__

    return {"defusion": __version__, "code": code_fingerprint()}


def this_build() -> dict:
    """This build and machine, as records keep them: defusion's version and :func:`code_fingerprint`, the
    versions of Python and the packages ``defusion info`` lists (None: not installed), the platform, CPU
    model, core count and GPU (None: none seen), and the time (local, with its offset)."""
    from defusion.cli.info import versions

    software = {name: version for name, version in versions().items() if name != "defusion"}
    machine = {"platform": platform.platform(), "cpu": cpu_model(), "cores": os.cpu_count(), "gpu": gpu_name()}
    return {**this_code(), "software": software, "machine": machine,
            "time": datetime.now().astimezone().isoformat(timespec="seconds")}


def build_name(build: object) -> str:
    """A build as a line names it: ``defusion VERSION (code FINGERPRINT)``; a record that names none (an older
    version's, which recorded no build) as ``an earlier defusion (code unrecorded)``.

    Example:
        >>> build_name({"defusion": "0.1.0", "code": "e7460ec37b45"}), build_name(None)
        ('defusion 0.1.0 (code e7460ec37b45)', 'an earlier defusion (code unrecorded)')
    """
    if not isinstance(build, dict) or not isinstance(build.get("code"), str):
        return f"an earlier defusion (code {UNRECORDED})"
    return f"defusion {build.get('defusion')} (code {build['code']})"


def same_build(build: object, other: object) -> bool:
    """Whether two records' builds are one: the same version and code (a record naming none is no build's,
    nor one whose code could not be read: :data:`~defusion.fusion.provenance.UNKNOWN_CODE`, a zipped or
    frozen install's, so that a change of it is warned of rather than missed).

    Example:
        >>> same_build({"defusion": "0.1.0", "code": "ab"}, {"defusion": "0.1.0", "code": "ab", "time": "x"})
        True
        >>> same_build({"defusion": "0.1.0", "code": "ab"}, {"defusion": "0.1.0", "code": "cd"}), same_build(None, None)
        (False, False)
        >>> same_build({"defusion": "0.1.0", "code": "unknown"}, {"defusion": "0.1.0", "code": "unknown"})
        False
    """
    from defusion.fusion.provenance import UNKNOWN_CODE

    return (isinstance(build, dict) and isinstance(other, dict) and isinstance(build.get("code"), str)
            and build.get("code") != UNKNOWN_CODE
            and (build.get("defusion"), build.get("code")) == (other.get("defusion"), other.get("code")))


__all__ = ["CODE_DIGEST_CHARS", "CPUINFO", "UNRECORDED", "build_name", "code_fingerprint", "cpu_model", "gpu_name",
           "same_build", "this_build", "this_code"]
