"""``--runtime compile`` without a working C++ compiler: one line before any work, not inductor's traceback."""

from __future__ import annotations

import shutil

import pytest
import torch
from torch._inductor import config as inductor

from defusion.cli.main import main
from defusion.fusion import runtime
from defusion.fusion.fuser import Fuser
from defusion.fusion.runtime import CompiledNet, CompilerMissingError, compiler_failure, compiler_problem, load_network
from defusion.model.registry import create_model


@pytest.fixture
def no_compiler():
    """Inductor's C++ compiler ($CXX) names a program that is not there, as on a machine without one."""
    with inductor.patch({"cpp.cxx": (None, "/nonexistent/g++")}):
        yield


def test_the_probe_finds_no_compiler(no_compiler):
    assert "no working C++ compiler found (tried /nonexistent/g++" in compiler_problem("cpu")


@pytest.mark.skipif(shutil.which("g++") is None, reason="needs g++ to tell the probe passes")
def test_the_probe_passes_where_a_compiler_works():
    assert compiler_problem("cpu") is None


def test_cuda_probes_the_c_compiler_triton_builds_with(monkeypatch):
    monkeypatch.setenv("CC", "/nonexistent/cc")
    assert compiler_problem("cuda") == "$CC is /nonexistent/cc, which is not found"
    monkeypatch.delenv("CC")
    monkeypatch.setattr(runtime.shutil, "which", lambda name: None)
    assert compiler_problem("cuda") == "no C compiler (gcc or clang) found"


@pytest.mark.parametrize("name", ["compile", "compile-bf16"])
def test_loading_refuses_before_any_work(no_compiler, name):
    with pytest.raises(CompilerMissingError, match=rf"^runtime {name} \(torch.compile\) needs a C\+\+ compiler: .*"
                                                  r"install one \(g\+\+ or clang.*use --runtime torch or onnxruntime"):
        load_network(None, name)
    with pytest.raises(ValueError):  # an OptionsError, as every refused setting
        Fuser.from_pretrained(runtime=name)


def test_fuse_says_one_line_and_writes_nothing(no_compiler, tmp_path, capsys):
    from importlib.resources import files

    ex = files("defusion") / "examples"
    out = tmp_path / "fused.png"
    assert main(["fuse", str(ex / "mef_under.png"), str(ex / "mef_over.png"), "--task", "mef", "-o", str(out),
                 "--runtime", "compile"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("defusion: error: runtime compile (torch.compile) needs a C++ compiler")
    assert err.count("\n") == 1 and "Traceback" not in err and not out.exists()


def test_a_compiler_that_fails_at_the_first_call_is_one_line(monkeypatch):
    net = CompiledNet(create_model("defusion-tiny"))

    def broken(*args):
        try:
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found in torch._inductor.config.cpp.cxx")
        except RuntimeError as exc:
            raise torch._dynamo.exc.BackendCompilerFailed(lambda: None, exc, None) from exc

    del net._modules["compiled"]  # a plain function in the compiled module's place
    net.__dict__["compiled"] = broken
    x = torch.zeros(1, 3, 16, 16)
    with pytest.raises(CompilerMissingError, match="^runtime compile .*InvalidCxxCompiler: No working C"):
        net(x, x)


def test_other_failures_are_not_taken_for_a_missing_compiler():
    assert compiler_failure(RuntimeError("CUDA out of memory")) is None
    inner = RuntimeError("CppCompileError: C++ compile error\nfatal error: Python.h: No such file")
    outer = RuntimeError("backend='inductor' raised")
    outer.__cause__ = inner
    assert compiler_failure(outer) == "CppCompileError: C++ compile error"
