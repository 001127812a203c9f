"""Inference engines for the fusion core: the same weights run by PyTorch eager, ONNX Runtime
or ``torch.compile``. Speed and accuracy of each: docs/performance.md.

- ``auto`` (the default): ``onnxruntime`` on a CPU where ONNX Runtime is installed (a core
  dependency; 2.3x PyTorch eager there, same output to rounding), else ``torch``; ``torch`` on
  a GPU and for fp16. If the ONNX export or its session fails, ``torch`` with a warning.
- ``torch``: PyTorch eager, fp32 (fp16 with ``half`` on CUDA). The reference.
- ``onnxruntime``: the weights exported once to ONNX (cached by their SHA-256) and run by ONNX
  Runtime. Same output to float rounding; needs no compiler.
- ``compile``: ``torch.compile`` (inductor, weights frozen). Same output to float rounding; the
  first pass at each new input size compiles (tens of seconds on a small CPU) and needs a C++
  compiler, so it pays off for video and many same-size images.
- ``compile-bf16``: ``compile`` under bfloat16 autocast: the fastest CPU path on CPUs with
  bf16 support, a few grey levels from fp32 (measured in docs/performance.md).

Example:
    >>> net = load_network(None, "torch")  # the shipped weights in PyTorch eager
    >>> type(net).__name__
    'DeNet'
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

# The runtimes' names and the export test are defined torch-free, for the CLI's checks:
from defusion.errors import DefusionError
from defusion.fusion.errors import OptionsError
from defusion.fusion.choices import DEFAULT_RUNTIME, ONNX_RUNTIMES, ONNX_SUFFIX, RUNTIMES, Runtime, is_onnx_export
from defusion.fusion.values import is_integer
from defusion.io.notes import tell
from defusion.model.denet import DeNet, DeNetOutput
from defusion.model.weights import WeightsError, load_weights

if TYPE_CHECKING:
    from defusion.fusion.onnx_runtime import OnnxDeNet


class OnnxCacheError(DefusionError, OSError):
    """The folder for cached ONNX exports cannot be written (a read-only or missing home, a file
    in its place). Not the weights' fault: ``auto`` runs PyTorch instead, with a warning."""

    def __init__(self, folder: Path, reason: str) -> None:
        self.folder, self.reason = folder, reason
        super().__init__(f"cannot write the ONNX cache folder {folder} ({reason}); {_CACHE_HINT}, "
                         "or use the torch runtime (--runtime torch)")


#: How to move the export cache: the variables :func:`defusion.fusion.onnx_runtime.cache_dir` reads.
_CACHE_HINT = "set DEFUSION_CACHE or XDG_CACHE_HOME to a writable folder"
#: The runtimes that run ``torch.compile`` (inductor), which compiles the code it generates.
COMPILE_RUNTIMES = ("compile", "compile-bf16")
#: What instead of ``--runtime compile`` where no compiler works: the runtimes that need none.
_NO_COMPILER_RUNTIMES = "use --runtime torch or onnxruntime, which need none"
#: The names of the errors by which inductor (CPU) and Triton (GPU) say that no compiler works, found
#: in a failure's chain of causes or its text (inductor wraps its own in BackendCompilerFailed).
_COMPILER_FAILURES = ("InvalidCxxCompiler", "CppCompileError", "Failed to find C compiler")


class CompilerMissingError(OptionsError):
    """``torch.compile`` (``--runtime compile``, ``defusion train --compile``) needs a working C/C++
    compiler to build the code inductor generates, and this machine has none: one line saying to
    install one or to run without compiling, not inductor's long traceback."""


class CompiledNet(nn.Module):
    """A DeNet compiled by ``torch.compile`` (inductor) with its weights frozen, for inference;
    ``bf16`` runs it under bfloat16 autocast and returns fp32 projections.

    Freezing is switched on around each call (``inductor.config.patch``), which also covers the
    lazy compilation of the first call at each new size: measured on a 2-core Xeon at 640x480,
    0.88 s per pair (0.39 s in bf16) against 1.05 s (0.52 s) with ``torch.compile(options=
    {"freezing": True})``, and no process-wide setting is changed.
    """

    def __init__(self, net: DeNet, bf16: bool = False) -> None:
        super().__init__()
        self.compiled = torch.compile(net.eval())
        self.bf16 = bf16

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, unique_gain: float = 1.0,
                detail_gain: float | None = None) -> DeNetOutput:
        from torch._inductor import config as inductor

        try:
            with inductor.patch(freezing=True), torch.autocast(x1.device.type, torch.bfloat16, enabled=self.bf16):
                out = self.compiled(x1, x2, unique_gain, detail_gain)
        except Exception as exc:  # a compiler that the probe found but that does not work: one line
            gist = compiler_failure(exc)
            if gist is None:
                raise
            runtime = "compile-bf16" if self.bf16 else "compile"
            raise CompilerMissingError(compiler_message(f"runtime {runtime}", gist, _NO_COMPILER_RUNTIMES)) from None
        return DeNetOutput(*(o.float() for o in out)) if self.bf16 else out


def compiler_problem(device: str | torch.device = "cpu") -> str | None:
    """Why ``torch.compile`` cannot build code for ``device`` here (no working compiler), else None.
    A cheap probe of the compiler inductor would use: on the CPU the C++ compiler of
    ``torch._inductor.config.cpp.cxx`` (``$CXX``, else g++), run with ``--version``, as inductor
    itself tries it; on CUDA the C compiler Triton builds its launcher with (``$CC``, else gcc or
    clang). Other devices are not probed (None).

    Example:
        >>> compiler_problem("mps") is None
        True
    """
    kind = torch.device(device).type
    if kind == "cuda":
        cc = os.environ.get("CC")
        if cc:
            return None if shutil.which(cc) else f"$CC is {cc}, which is not found"
        return None if shutil.which("gcc") or shutil.which("clang") else "no C compiler (gcc or clang) found"
    if kind != "cpu":
        return None
    from torch._inductor import config as inductor

    search = inductor.cpp.cxx if isinstance(inductor.cpp.cxx, (list, tuple)) else (inductor.cpp.cxx,)
    named = [cxx for cxx in search if cxx]
    try:
        from torch._inductor.cpp_builder import get_cpp_compiler
    except ImportError:  # another PyTorch: look the compilers up on PATH
        return None if any(shutil.which(cxx) for cxx in named) else f"no C++ compiler ({', '.join(named)}) found"
    try:
        get_cpp_compiler()
    except Exception:  # noqa: BLE001 - inductor's InvalidCxxCompiler, or any failure to run one
        return f"no working C++ compiler found (tried {', '.join(named) or 'none'}: $CXX, else g++)"
    return None


def check_compiler(device: str | torch.device, what: str, instead: str) -> None:
    """Refuse ``what`` (a compiling setting, e.g. ``runtime compile``) where :func:`compiler_problem`
    finds no compiler for ``device``, saying to install one or ``instead``: before any work starts,
    rather than a traceback at the first call.

    Example:
        >>> check_compiler("mps", "runtime compile", _NO_COMPILER_RUNTIMES)  # not probed: passes
    """
    problem = compiler_problem(device)
    if problem is not None:
        raise CompilerMissingError(compiler_message(what, problem, instead))


def compiler_message(what: str, problem: str, instead: str) -> str:
    """The one line for a compiling setting that no compiler can serve.

    Example:
        >>> compiler_message("--compile", "no working C++ compiler found", "drop --compile")
        '--compile (torch.compile) needs a C++ compiler: no working C++ compiler found; install one (g++ or clang, or set CXX to one), or drop --compile'
    """
    return f"{what} (torch.compile) needs a C++ compiler: {problem}; install one (g++ or clang, or set CXX to one), " \
           f"or {instead}"


def compiler_failure(exc: BaseException) -> str | None:
    """The gist of ``exc`` where it is inductor or Triton failing for want of a working compiler (found
    in its chain of causes), else None: a probe that passed, yet a compiler that does not work (no
    headers, a broken install).

    Example:
        >>> compiler_failure(RuntimeError("InvalidCxxCompiler: No working C++ compiler found"))
        'InvalidCxxCompiler: No working C++ compiler found'
        >>> compiler_failure(RuntimeError("out of memory")) is None
        True
    """
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        lines = str(exc).strip().splitlines() or [""]
        if type(exc).__name__ in _COMPILER_FAILURES:
            return f"{type(exc).__name__}: {lines[0]}".strip()
        found = next((line for line in lines if any(name in line for name in _COMPILER_FAILURES)), None)
        if found is not None:
            return found.strip()
        exc = exc.__cause__ or exc.__context__
    return None


def check_runtime(runtime: str, half: bool = False, threads: int | None = None) -> None:
    """Refuse unknown runtimes, fp16 outside the torch runtime, missing packages, and a thread
    count that is not a whole number from 1."""
    if threads is not None and (not is_integer(threads) or threads < 1):
        raise OptionsError(f"threads must be a whole number from 1 (or None: ONNX Runtime's default), got {threads!r}")
    if runtime not in RUNTIMES:
        raise OptionsError(f"unknown runtime {runtime!r}; use one of {', '.join(RUNTIMES)}")
    if half and runtime not in ("torch", "auto"):
        from defusion.fusion.device import asked

        raise OptionsError(f"fp16 ({asked(half=True)}) is for the torch runtime on CUDA, not {runtime}")
    if runtime == "onnxruntime":
        for name in ("onnx", "onnxruntime"):
            if importlib.util.find_spec(name) is None:
                raise OptionsError(f"the onnxruntime runtime needs the {name} package: pip install onnx onnxruntime")


def onnxruntime_available() -> bool:
    """Whether the onnx and onnxruntime packages are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


def resolve_runtime(runtime: str, device: str | torch.device = "cpu", half: bool = False) -> str:
    """The runtime ``auto`` stands for on ``device``: ONNX Runtime on a CPU where it is installed,
    PyTorch on a GPU or for fp16; any other runtime as it is.

    Example:
        >>> resolve_runtime("auto", "cuda"), resolve_runtime("compile", "cpu")
        ('torch', 'compile')
    """
    if runtime != "auto":
        return runtime
    on_cpu = torch.device(device).type == "cpu"
    return "onnxruntime" if on_cpu and not half and onnxruntime_available() else "torch"


def load_network(weights: str | Path | None, runtime: Runtime, device: str | torch.device = "cpu",
                 threads: int | None = None, onnx: bool | None = None) -> DeNet | CompiledNet | OnnxDeNet:
    """The network of ``weights`` (default: the shipped ones) on ``runtime``: something a Fuser
    can call like a DeNet. ``onnx``: whether ``weights`` is an ONNX export, run on ONNX Runtime
    whatever its name (None: a ``.onnx`` file is, :func:`is_onnx_export`). ``threads`` bounds
    onnxruntime's intra-op threads. ``auto`` that cannot export or open the ONNX model warns and
    runs PyTorch."""
    if onnx is None:
        onnx = is_onnx_export(weights)
    check_runtime("auto" if onnx else runtime, threads=threads)  # an export needs no exporter
    if onnx:
        if weights is None:
            raise OptionsError("an ONNX export to run needs its path (the shipped weights are safetensors)")
        if Path(weights).suffix.lower() == ".safetensors":
            from defusion.fusion.onnx_runtime import OnnxModelError

            raise OnnxModelError(f"{weights} is a weights file (.safetensors), not an ONNX export: give it as the "
                                 "weights (--weights), or export it first (defusion export)")
        if runtime not in ONNX_RUNTIMES:
            raise OptionsError(f"{weights} is an ONNX export: it runs on ONNX Runtime (runtime "
                             f"{' or '.join(map(repr, ONNX_RUNTIMES))}), not {runtime!r}")
        from defusion.fusion.onnx_runtime import OnnxDeNet

        return OnnxDeNet(weights, device=device, threads=threads)
    if runtime == "auto":
        if resolve_runtime(runtime, device) == "torch":
            return load_weights(weights, map_location=device)
        try:
            return load_network(weights, "onnxruntime", device, threads)
        except OnnxCacheError as exc:  # nowhere to keep the export: the reference engine needs none
            tell("warning", f"cannot write the ONNX cache folder {exc.folder} ({exc.reason}); using PyTorch "
                            f"({_CACHE_HINT} to run ONNX Runtime)")
            return load_weights(weights, map_location=device)
        except (WeightsError, FileNotFoundError):  # the weights themselves: PyTorch would fail the same way
            raise
        except Exception as exc:  # an exporter or ONNX Runtime problem: the reference engine still works
            tell("warning", f"ONNX Runtime could not run the model ({type(exc).__name__}: {exc}); using PyTorch "
                            "(--runtime torch skips ONNX Runtime)")
            return load_weights(weights, map_location=device)
    if runtime == "onnxruntime":
        from defusion.fusion.onnx_runtime import OnnxDeNet

        return OnnxDeNet(_cached_export(weights), device=device, threads=threads)
    if runtime in COMPILE_RUNTIMES:  # before loading: no work is lost to a missing compiler
        check_compiler(device, f"runtime {runtime}", _NO_COMPILER_RUNTIMES)
    model = load_weights(weights, map_location=device)
    return model if runtime == "torch" else CompiledNet(model, bf16=runtime == "compile-bf16")


def _cached_export(weights: str | Path | None) -> Path:
    """The cached ONNX export of ``weights``; an OS error about the cache folder (or a folder
    above it) becomes an :class:`OnnxCacheError` that names the folder and how to move it.
    Other OS errors (reading the weights) pass unchanged."""
    from defusion.fusion.onnx_runtime import cache_dir, cached_onnx_export

    try:
        return cached_onnx_export(weights, _announce_export)
    except OSError as exc:
        folder = cache_dir()
        if not _about_folder(exc, folder):
            raise
        raise OnnxCacheError(folder, f"{exc.strerror or exc}: {os.fsdecode(exc.filename)}") from exc


def _about_folder(exc: OSError, folder: Path) -> bool:
    """Whether ``exc`` names ``folder``, a path inside it or a folder above it.

    Example:
        >>> _about_folder(FileNotFoundError(2, "No such file", "/h/.cache"), Path("/h/.cache/defusion"))
        True
        >>> _about_folder(PermissionError(13, "Denied", "/w/a.safetensors"), Path("/h/.cache/defusion"))
        False
    """
    if not exc.filename:
        return False
    path, folder = Path(os.path.abspath(os.fsdecode(exc.filename))), Path(os.path.abspath(folder))
    return path == folder or folder in path.parents or path in folder.parents


def _announce_export(path: Path) -> None:
    """Say that the weights are being exported (a few seconds, once per weights file)."""
    message = f"exporting the model to ONNX once, cached as {path}"
    tell("note", message, line=f"defusion: {message}")


__all__ = ["COMPILE_RUNTIMES", "CompiledNet", "CompilerMissingError", "DEFAULT_RUNTIME", "OnnxCacheError", "Runtime", "RUNTIMES", "ONNX_RUNTIMES", "ONNX_SUFFIX",
           "check_compiler", "check_runtime", "compiler_failure", "compiler_message", "compiler_problem",
           "is_onnx_export", "load_network", "onnxruntime_available", "resolve_runtime"]
