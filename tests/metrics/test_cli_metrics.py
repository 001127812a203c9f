"""``defusion metrics`` sub-command module: parsing, table/JSON output, one-line errors."""

from __future__ import annotations

import argparse
import ast
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from defusion.cli import metrics as cli
from defusion.cli.errors import run_guarded
from defusion.io.notes import as_lines


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="defusion metrics")
    cli.add_arguments(parser)
    args = parser.parse_args(argv)
    with as_lines():  # what the library says, said as the command says it (as under main())
        return run_guarded(lambda: cli.run(args), cli.EXPECTED_ERRORS)


@pytest.fixture()
def images(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:64, 0:80]
    a = np.clip(128 + 80 * np.sin(x / 6.0) + rng.normal(0, 5, x.shape), 0, 255).astype(np.uint8)
    b = np.clip(128 + 80 * np.cos(y / 5.0) + rng.normal(0, 5, x.shape), 0, 255).astype(np.uint8)
    f = ((a.astype(int) + b) // 2).astype(np.uint8)
    paths = {
        "a": tmp_path / "a.png",
        "b": tmp_path / "b.png",
        "f": tmp_path / "f.png",
        "f_rgb": tmp_path / "f_rgb.png",
        "small": tmp_path / "small.png",
        "rgba": tmp_path / "rgba.png",
    }
    Image.fromarray(a).save(paths["a"])
    Image.fromarray(b).save(paths["b"])
    Image.fromarray(f).save(paths["f"])
    Image.fromarray(np.stack([f, a, b], axis=2)).save(paths["f_rgb"])
    Image.fromarray(f[:32, :32]).save(paths["small"])
    Image.fromarray(np.stack([f, f, f, np.full_like(f, 255)], axis=2), mode="RGBA").save(paths["rgba"])
    return paths


def test_module_interface_and_lazy_imports():
    assert isinstance(cli.HELP, str) and cli.HELP
    assert all(issubclass(e, Exception) for e in cli.EXPECTED_ERRORS)
    tree = ast.parse(Path(cli.__file__).read_text(encoding="utf-8"))
    top = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    modules = {(n.module if isinstance(n, ast.ImportFrom) else n.names[0].name) for n in top}
    assert not modules & {"numpy", "PIL", "defusion.metrics", "scipy", "cv2"}


def test_table_output(images, capsys):
    assert _run([str(images["f"]), str(images["a"]), str(images["b"]), "--names", "en,SSIM,qcv"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["metric", "value", "better", "definition"]
    assert [line.split()[0] for line in out[1:]] == ["EN", "SSIM", "Qcv"]  # names match in any case
    assert out[3].split()[2] == "lower"
    assert "VIFB sum, max 2" in out[2]  # a sum over both sources says so beside its value


def test_json_output_matches_library(images, capsys):
    from defusion.metrics import compute_metrics

    argv = [str(images["f_rgb"]), str(images["a"]), str(images["b"]), "--json", "--names", "vifb,CC"]
    assert _run(argv) == 0
    data = json.loads(capsys.readouterr().out)
    f = np.asarray(Image.open(images["f_rgb"]))
    a, b = np.asarray(Image.open(images["a"])), np.asarray(Image.open(images["b"]))
    expected = compute_metrics(f, a, b, names=list(data["metrics"]))
    assert list(data["metrics"])[:13] == ["EN", "SD", "SF", "AG", "EI", "MI", "CE", "PSNR", "RMSE",
                                          "Qabf", "Qcb", "Qcv", "SSIM"]
    assert data["metrics"] == pytest.approx(expected)


def test_default_is_all_metrics_and_too_small_images_are_noted(images, capsys):
    assert _run([str(images["f"]), str(images["a"]), str(images["b"]), "--json"]) == 0
    cap = capsys.readouterr()
    data = json.loads(cap.out)
    from defusion.metrics import DEFAULT_METRICS, METRICS

    assert list(data["metrics"]) == list(DEFAULT_METRICS) and "Qp" in set(METRICS) - set(DEFAULT_METRICS)
    assert data["metrics"]["MS-SSIM"] is None and "MS-SSIM" in data["skipped"]  # 64x80 < 176


def test_rgba_is_converted(images, capsys):
    assert _run([str(images["rgba"]), str(images["a"]), str(images["b"]), "--names", "EN"]) == 0
    assert "EN" in capsys.readouterr().out


@pytest.mark.parametrize(
    "which, message",
    [
        ("missing", "no such file"),
        ("not_image", "not an image, or a format that cannot be read"),
        ("size", "size mismatch"),
        ("name", "unknown metric(s) XYZ; known: vifb, mefb, EN"),
    ],
)
def test_errors_are_one_line(images, tmp_path, capsys, which, message):
    f, a, b = str(images["f"]), str(images["a"]), str(images["b"])
    extra: list[str] = []
    if which == "missing":
        f = str(tmp_path / "nope.png")
    elif which == "not_image":
        bad = tmp_path / "bad.png"
        bad.write_text("not an image", encoding="utf-8")
        f = str(bad)
    elif which == "size":
        f = str(images["small"])
    else:
        extra = ["--names", "EN,XYZ"]
    assert _run([f, a, b, *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_a_bracket_of_three_gets_the_metrics_defined_for_any_number(images, tmp_path, capsys):
    from defusion.metrics import ANY_SOURCE_METRICS, mef_ssim, qabf

    c = np.asarray(Image.open(images["a"])) // 2
    Image.fromarray(c).save(tmp_path / "c.png")
    assert _run([str(images["f"]), str(images["a"]), str(images["b"]), str(tmp_path / "c.png"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert list(out["metrics"]) == list(ANY_SOURCE_METRICS) and out["more"] == [str(tmp_path / "c.png")]
    sources = [np.asarray(Image.open(p)) for p in (images["a"], images["b"], tmp_path / "c.png")]
    expected = mef_ssim(np.asarray(Image.open(images["f"])), *sources)
    assert out["metrics"]["MEF-SSIM"] == pytest.approx(expected)  # over all three sources
    assert expected != pytest.approx(mef_ssim(np.asarray(Image.open(images["f"])), *sources[:2]))
    # a metric that compares with a pair is refused in one line, naming what can be asked for
    assert _run([str(images["f"]), str(images["a"]), str(images["b"]), str(tmp_path / "c.png"),
                 "--names", "EN,MI,SSIM"]) == 2
    err = capsys.readouterr().err
    assert "MI, SSIM compare the fused image with two sources; with 3 sources ask for EN" in err and "Traceback" not in err
    assert out["metrics"]["Qabf"] == pytest.approx(qabf(np.asarray(Image.open(images["f"])), *sources))  # every source


def test_a_set_with_a_bracket_scores_what_applies_and_names_the_rest(images, tmp_path, capsys):
    """--names mefb with three sources was refused; a set asks for what applies, so it scores the
    metrics defined for any number of sources and says which it left out (exit 0)."""
    from defusion.metrics import ANY_SOURCE_METRICS, MEFB_METRICS, compute_stack_metrics

    c = np.asarray(Image.open(images["a"])) // 2
    Image.fromarray(c).save(tmp_path / "c.png")
    paths = [str(images["f"]), str(images["a"]), str(images["b"]), str(tmp_path / "c.png")]
    assert _run([*paths, "--names", "mefb", "--json"]) == 0
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    kept = [n for n in MEFB_METRICS if n in ANY_SOURCE_METRICS]
    assert list(out["metrics"]) == kept and "NMI" not in out["metrics"]
    assert out["left_out"] == [n for n in MEFB_METRICS if n not in kept]
    assert "note: CE, FMI, NMI" in captured.err and "not 3" in captured.err and "Traceback" not in captured.err
    arrays = [np.asarray(Image.open(p)) for p in paths]
    with pytest.warns(UserWarning, match="left out for 3 sources"):
        assert out["metrics"] == pytest.approx(compute_stack_metrics(arrays[0], arrays[1:], "mefb"))
    # a pairwise metric named beside the set is still refused: the user asked for it by name
    assert _run([*paths, "--names", "mefb,NMI"]) == 2
    assert "NMI compares the fused image with two sources" in capsys.readouterr().err
    # with a pair the set is whole, no note
    assert _run([*paths[:3], "--names", "mefb", "--json"]) == 0  # 64x80 takes all 20 (VIF from 41 pixels a side)
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert list(out["metrics"]) == list(MEFB_METRICS) and "skipped" not in out and "left_out" not in out
    assert "left out" not in captured.err


def test_reads_16_bit_files_as_bench_does_and_names_any_case(tmp_path, capsys):
    """A 16-bit fused PNG (what `defusion fuse` writes for 16-bit sources) was refused."""
    import json

    from defusion.io.images import write_image
    from defusion.metrics import compute_metrics

    rng = np.random.default_rng(2)
    a8, b8 = (rng.integers(0, 256, (32, 40)).astype(np.uint8) for _ in range(2))
    f8 = ((a8.astype(int) + b8) // 2).astype(np.uint8)
    paths = []
    for name, im in (("f", f8), ("a", a8), ("b", b8)):
        write_image(tmp_path / f"{name}.png", im.astype(np.uint16) * 257)
        paths.append(str(tmp_path / f"{name}.png"))
    assert _run([*paths, "--names", "qabf,en", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)["metrics"]
    want = compute_metrics(f8, a8, b8, ["Qabf", "EN"])
    assert got == pytest.approx(want)


def test_json_lists_every_source_in_the_order_given(images, tmp_path, capsys):
    """From an audit: a bracket's --json gave a, b and "more"; scripts handling brackets want one list."""
    c = tmp_path / "c.png"
    Image.fromarray(np.asarray(Image.open(images["a"])) // 2).save(c)
    given = [str(images["b"]), str(c), str(images["a"])]  # not in name order: kept as given
    assert _run([str(images["f"]), *given, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sources"] == given
    assert (out["a"], out["b"], out["more"]) == (given[0], given[1], given[2:])  # kept for older scripts
    assert _run([str(images["f"]), str(images["a"]), str(images["b"]), "--json", "--names", "EN"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["sources"] == [str(images["a"]), str(images["b"])] and "more" not in out


def test_the_help_documents_the_json_keys(capsys):
    from defusion.cli.main import main

    with pytest.raises(SystemExit):
        main(["metrics", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "sources (a list, in the order given)" in text
