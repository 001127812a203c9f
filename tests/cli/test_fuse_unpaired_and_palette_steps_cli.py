"""`defusion fuse` on what a newcomer's audit found: a file with no partner in folder mode was
"skipped" yet the run said "fused 3 of 3 pairs" with exit status 0 (a pair that fails to fuse gives 1),
and --palette on 16-bit sources wrote a 16-bit file whose colours have 256 steps, unsaid."""

from __future__ import annotations

import numpy as np

from defusion.cli.fuse.fused_settings import SETTINGS_FILE
from defusion.io.images import read_image, write_image
from tests.cli.conftest import run_fuse
from tests.conftest import smooth_image


def _pair_folders(tmp_path, rng, stems_a, stems_b):
    vi, ir = tmp_path / "vi", tmp_path / "ir"
    for stem in stems_a:
        write_image(vi / f"{stem}.png", smooth_image(rng, 24, 32))
    for stem in stems_b:
        write_image(ir / f"{stem}.png", smooth_image(rng, 24, 32, 1))
    return vi, ir


def test_a_file_with_no_partner_is_named_with_its_folders_counted_and_fails_the_run(tmp_path, rng, tiny_weights,
                                                                                      capsys, one_torch_thread):
    vi, ir = _pair_folders(tmp_path, rng, ["01", "02", "03", "04"], ["01", "02", "03", "07"])
    out = tmp_path / "out"
    assert run_fuse("--a", vi, "--b", ir, "-o", out, "--weights", tiny_weights) == 1
    err = capsys.readouterr().err
    assert f"defusion: warning: {vi / '04.png'} has no partner in {ir}/; skipped" in err
    assert f"defusion: warning: {ir / '07.png'} has no partner in {vi}/; skipped" in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("fused 3 of 5 pairs into ") and last.endswith(f"; no partner: {vi / '04.png'}, "
                                                                          f"{ir / '07.png'}"), last
    assert sorted(p.name for p in out.iterdir()) == [SETTINGS_FILE, "01.png", "02.png", "03.png"]
    # gone on with --skip-existing: nothing left to fuse, and still the file with no partner
    assert run_fuse("--a", vi, "--b", ir, "-o", out, "--weights", tiny_weights, "--skip-existing") == 1
    err = capsys.readouterr().err  # counted as the other lines count: of 5, the lone files among them
    assert f"3 of 5 pairs already fused in {out}; nothing else to fuse; no partner: {vi / '04.png'}" in err


def test_folders_that_pair_wholly_still_exit_0(tmp_path, rng, tiny_weights, capsys, one_torch_thread):
    vi, ir = _pair_folders(tmp_path, rng, ["01", "02"], ["01", "02"])
    assert run_fuse("--a", vi, "--b", ir, "-o", tmp_path / "out", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    assert "no partner" not in err and "fused 2 of 2 pairs" in err


def _sixteen_bit_pair(tmp_path, rng):
    vis = write_image(tmp_path / "vis.png", smooth_image(rng, 24, 32).astype(np.uint16) * 257)
    ir = write_image(tmp_path / "ir.png", smooth_image(rng, 24, 32, 1).astype(np.uint16) * 257)
    return vis, ir


def test_palette_on_sixteen_bit_sources_says_its_colours_have_256_steps(tmp_path, rng, tiny_weights, capsys,
                                                                         one_torch_thread):
    vis, ir = _sixteen_bit_pair(tmp_path, rng)
    out = tmp_path / "f.tif"
    assert run_fuse(vis, ir, "-o", out, "--weights", tiny_weights, "--palette", "inferno") == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "256-entry colour map" in line]
    assert said == [f"defusion: note: --palette draws from a 256-entry colour map: {out} is 16-bit and so is the "
                    "fused detail over its colours, but the colours themselves step as an 8-bit image's"], said
    assert read_image(out).dtype == np.uint16  # 16-bit in, 16-bit out, as promised
    # not said without a palette, nor where the output holds 8 bits (a warning says that), nor for 8-bit sources
    assert run_fuse(vis, ir, "-o", tmp_path / "g.png", "--weights", tiny_weights) == 0
    assert run_fuse(vis, ir, "-o", tmp_path / "g.jpg", "--weights", tiny_weights, "--palette", "inferno") == 0
    eight = [write_image(tmp_path / f"{name}8.png", (read_image(path) // 257).astype(np.uint8))
             for name, path in (("vis", vis), ("ir", ir))]
    assert run_fuse(*eight, "-o", tmp_path / "h.png", "--weights", tiny_weights, "--palette", "inferno") == 0
    assert "256-entry" not in capsys.readouterr().err


def test_palette_steps_are_said_once_in_a_folder_run(tmp_path, rng, tiny_weights, capsys, one_torch_thread):
    vi, ir = tmp_path / "vi", tmp_path / "ir"
    for stem in ("01", "02"):
        write_image(vi / f"{stem}.png", smooth_image(rng, 24, 32).astype(np.uint16) * 257)
        write_image(ir / f"{stem}.png", smooth_image(rng, 24, 32, 1).astype(np.uint16) * 257)
    out = tmp_path / "out"
    assert run_fuse("--a", vi, "--b", ir, "-o", out, "--weights", tiny_weights, "--palette", "hot") == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "256-entry colour map" in line]
    assert len(said) == 1 and f"the results in {out} are 16-bit" in said[0], said
