import json

from defusion.cli.main import main


def test_info_prints_parameters_and_gmacs(capsys):
    assert main(["info", "--model", "defusion", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert 7.5e6 < info["parameters"] < 8.5e6 and 14.5 < info["gmacs"] < 16.0


def test_info_on_weights_shows_training_metadata(tiny_weights, capsys):
    assert main(["info", "--weights", str(tiny_weights)]) == 0
    out = capsys.readouterr().out
    assert "parameters" in out and "GMACs" in out and "steps" in out


def test_info_bad_weights_is_one_line(tmp_path, capsys):
    assert main(["info", "--weights", str(tmp_path / "none.safetensors")]) == 2
    assert "not found" in capsys.readouterr().err


def test_info_size_must_be_a_multiple_of_8(capsys):
    import pytest
    for size in ("0", "13"):
        with pytest.raises(SystemExit) as exit_:
            main(["info", "--model", "defusion-tiny", "--size", size])
        assert exit_.value.code == 2 and "multiple of 8" in capsys.readouterr().err


def test_info_unknown_model_is_one_line(capsys):
    assert main(["info", "--model", "nope"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "defusion-tiny" in err and "Traceback" not in err


def test_closed_output_pipe_is_not_a_traceback():
    """`defusion info --json | head -1`: the reader goes away before the output is flushed."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "defusion.cli.main", "info", "--model", "defusion-tiny", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # long before the command has imported torch and printed
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert "Traceback" not in err and "BrokenPipeError" not in err, err


def test_info_says_which_runtime_the_default_runs_here(capsys):
    from defusion.cli.main import main

    assert main(["info"]) == 0
    out = capsys.readouterr().out  # onnxruntime on a CPU, torch on a GPU
    assert "runtime        auto: onnxruntime on this machine's cpu" in out or "auto: torch on this machine's cuda" in out
